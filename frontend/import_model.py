"""The frontend's Python API: a Llama-family model -> smla/lattn IR.

    from accllm.frontend.import_model import import_model
    result = import_model(model_or_checkpoint_dir, "out.mlir")          # weights auto
    result = import_config("config.json", "llama7b.mlir")               # no weights at all

Steps: build or load the model (float32, eval), export it with torch-mlir to the torch dialect
(`torch_export`), read that into xDSL and bind the weights (`weights`), run the
`convert-torch-to-accllm` pass, verify, print.  The IR has one function `@forward(ids) ->
logits` for a prefill of `seq_len` tokens from position 0.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path

import torch
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.printer import Printer

from accllm.dialects.registry import register_all_dialects
from accllm.frontend.errors import FrontendError
from accllm.frontend.torch_export import export_torch
from accllm.frontend.weights import bind_weights, parse_torch, write_params
from accllm.ir.io import Chunk, ToolError, run_guarded, verify_module
from accllm.passes.convert_torch_to_accllm import ConvertTorchToAccllm

# Models whose decoder accllm imports (model_type -> transformers class name).
SUPPORTED_MODELS = {
    "llama": "LlamaForCausalLM",
    "mistral": "MistralForCausalLM",
    "qwen2": "Qwen2ForCausalLM",
}
# Up to this many weight elements the weights are inlined as dense<...> (4 MB of float32).
INLINE_LIMIT = 1 << 20
WEIGHT_MODES = ("auto", "inline", "external", "none")


@dataclass
class ImportResult:
    """The imported module, its text, where the weights went, and the time of each step."""

    module: ModuleOp
    text: str
    params_file: Path | None
    weights: str  # "inline", "external" or "none" (config-only)
    num_layers: int
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


def import_model(
    model,
    output: str | Path | None = None,
    *,
    weights: str = "auto",
    seq_len: int = 8,
    emit: str = "accllm",
) -> ImportResult:
    """Import `model` (a transformers causal LM object, or a checkpoint directory).

    `weights`: "inline" (dense<...> in the IR), "external" (a safetensors file beside
    `output`, named `<output stem>.safetensors`, referenced by `#smla.param`), "auto" (inline
    up to INLINE_LIMIT elements), "none" (weights named but not written: config-only).
    `emit="torch"` stops before the conversion (the torch-dialect input of the pass).
    The text is written to `output` when given.
    """
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    if isinstance(model, str | Path):
        model = load_model_dir(Path(model))
    check_model(model)
    model = model.to(torch.float32).eval() if not _on_meta(model) else model.eval()
    seconds["load"] = time.perf_counter() - t0
    return _import(model, output, weights, seq_len, emit, seconds)


def import_config(
    path: str | Path,
    output: str | Path | None = None,
    *,
    seq_len: int = 8,
    emit: str = "accllm",
) -> ImportResult:
    """Import a model from its config alone (a config.json or a directory holding one).

    The model is built on the `meta` device (no weight memory): the IR names every weight,
    but no weights file is written.  Enough to compile and estimate the structure."""
    t0 = time.perf_counter()
    config = read_config(Path(path))
    cls = _model_class(config.model_type)
    with torch.device("meta"):
        model = cls(config).to(torch.float32).eval()
    return _import(model, output, "none", seq_len, emit, {"build": time.perf_counter() - t0})


def _import(model, output, weights: str, seq_len: int, emit: str, seconds) -> ImportResult:
    if weights not in WEIGHT_MODES:
        raise FrontendError(f"unknown weights mode '{weights}' (one of {', '.join(WEIGHT_MODES)})")
    if emit not in ("accllm", "torch"):
        raise FrontendError(f"unknown emit '{emit}' (accllm or torch)")
    if seq_len < 2:
        raise FrontendError("seq_len must be at least 2 (RoPE's theta is read off 2 positions)")
    params = dict(model.named_parameters())
    if weights == "auto":
        weights = (
            "inline" if sum(p.numel() for p in params.values()) <= INLINE_LIMIT else "external"
        )
    if _on_meta(model) and weights != "none":
        raise FrontendError("a model on the meta device has no weights: use config-only import")
    output = Path(output) if output is not None else None
    params_file = None
    if weights in ("external", "none"):
        stem = output.stem if output is not None else "model"
        params_file = (output.parent if output else Path(".")) / f"{stem}.safetensors"

    t0 = time.perf_counter()
    exported = export_torch(model, seq_len)
    seconds["export"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    module = parse_torch(exported.text)
    bind_weights(
        module,
        exported,
        params,
        inline=weights == "inline",
        params_file=params_file.name if params_file else None,
    )
    if emit == "accllm":
        chunk = Chunk(exported.text, "<torch-mlir>", 0)
        pass_ = ConvertTorchToAccllm(max_positions=model.config.max_position_embeddings)
        ctx = Context()
        register_all_dialects(ctx)
        try:
            run_guarded(chunk, lambda: pass_.apply(ctx, module))
            verify_module(module, chunk)
        except ToolError as err:
            raise FrontendError(str(err)) from err
    seconds["convert"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    out = StringIO()
    Printer(stream=out).print_op(module)
    out.write("\n")
    text = out.getvalue()
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
        if weights == "external":
            write_params(params_file, params)
    seconds["write"] = time.perf_counter() - t0
    return ImportResult(
        module,
        text,
        params_file if weights == "external" else None,
        weights,
        model.config.num_hidden_layers,
        seconds,
    )


def _on_meta(model) -> bool:
    return any(p.is_meta for p in model.parameters())


def _model_class(model_type: str):
    if model_type not in SUPPORTED_MODELS:
        raise FrontendError(
            f"model_type '{model_type}' is not supported "
            f"(supported: {', '.join(sorted(SUPPORTED_MODELS))})"
        )
    import transformers

    return getattr(transformers, SUPPORTED_MODELS[model_type])


def check_model(model) -> None:
    """Reject objects that are not one of the supported causal LMs."""
    cls = type(model).__name__
    if cls not in SUPPORTED_MODELS.values():
        raise FrontendError(
            f"{cls} is not supported (supported: {', '.join(sorted(SUPPORTED_MODELS.values()))})"
        )
    # A model object's config is not checked here: the conversion names any op it cannot
    # express at its source line (checkpoints and configs are checked before loading).


def read_config(path: Path):
    """A transformers config from a config.json file or a directory holding one."""
    from transformers import CONFIG_MAPPING

    file = path / "config.json" if path.is_dir() else path
    if not file.is_file():
        raise FrontendError(f"{path}: no config.json")
    try:
        data = json.loads(file.read_text())
    except json.JSONDecodeError as err:
        raise FrontendError(f"{file}: not valid JSON: {err}") from err
    from accllm.frontend.validate import CheckpointInvalid, validate_config

    try:  # sizes within what the hardware holds, before the model is built (issue #18)
        validate_config(data, str(file))
    except CheckpointInvalid as err:
        raise FrontendError(str(err)) from err
    model_type = data.get("model_type")
    _model_class(model_type)
    config = CONFIG_MAPPING[model_type].from_dict(data)
    _check_config(config, str(file))
    try:
        validate_config(config, str(file))
    except CheckpointInvalid as err:
        raise FrontendError(str(err)) from err
    return config


def _check_config(config, where: str) -> None:
    from accllm.models.support import UnsupportedConfig, check_config

    try:
        check_config(config)
    except UnsupportedConfig as err:
        raise FrontendError(f"{where}: {err}") from err


def load_model_dir(path: Path):
    """A checkpoint directory (config.json + *.safetensors), loaded without unpickling."""
    from accllm.frontend.checkpoint import CheckpointError, load_checkpoint

    if not path.is_dir():
        raise FrontendError(f"{path}: not a checkpoint directory")
    try:
        return load_checkpoint(path)
    except CheckpointError as err:
        raise FrontendError(str(err)) from err
