"""Loading a Llama-family checkpoint directory, or building the built-in default model.

Checkpoints are directories as `save_pretrained` writes them (config.json + *.safetensors).
Weights are read from safetensors only: loading never unpickles.
"""

from __future__ import annotations

from pathlib import Path


class CheckpointError(Exception):
    pass


def load_checkpoint(path: str | Path):
    """Load a Llama-family checkpoint (llama, mistral, qwen2) from a local directory.

    Safetensors only; the model class is chosen by the config's model_type."""
    from transformers import AutoConfig, AutoModelForCausalLM

    path = Path(path)
    if not (path / "config.json").is_file():
        raise CheckpointError(f"{path}: not a checkpoint directory (no config.json)")
    if not list(path.glob("*.safetensors")):
        raise CheckpointError(f"{path}: no *.safetensors weights (pickled weights are not loaded)")
    from accllm.frontend.validate import CheckpointInvalid, read_config_json, validate_checkpoint

    try:  # config.json itself first: transformers would fail on it with a traceback
        read_config_json(path)
    except CheckpointInvalid as err:
        raise CheckpointError(str(err)) from err
    config = AutoConfig.from_pretrained(path, local_files_only=True)
    supported = {"llama", "mistral", "qwen2"}
    if config.model_type not in supported:
        raise CheckpointError(
            f"{path}: model_type '{config.model_type}' is not supported "
            f"(supported: {', '.join(sorted(supported))})"
        )
    from accllm.models.support import UnsupportedConfig, check_config

    try:  # config-time: refuse an unsupported field before any weight is read
        check_config(config)
    except UnsupportedConfig as err:
        raise CheckpointError(f"{path}: {err}") from err
    try:  # every tensor present, shaped as the config implies, finite: before loading
        validate_checkpoint(path, config)
    except CheckpointInvalid as err:
        raise CheckpointError(str(err)) from err
    # The class follows model_type (Qwen2 has q/k/v biases that LlamaForCausalLM would drop).
    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, use_safetensors=True)
    return model.eval()


def load_or_build(model_dir: str | None, default_dir: Path):
    """Return (model, description): the checkpoint at `model_dir`, or the default tiny model
    (saved to `default_dir` so that later stages and users can read it as a checkpoint)."""
    if model_dir is not None:
        return load_checkpoint(model_dir), str(model_dir)
    from transformers.utils import logging as hf_logging

    from accllm.models.default import build_model, default_config, save_checkpoint

    hf_logging.disable_progress_bar()  # the driver prints its own progress

    model = build_model(default_config(), seed=0)
    save_checkpoint(model, default_dir)
    return model.eval(), f"built-in default model (saved to {default_dir})"
