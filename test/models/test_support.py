"""Unsupported configurations are refused at config time, naming the field and the value."""

from __future__ import annotations

import json

import pytest
from transformers import LlamaConfig, MistralConfig, Qwen2Config

from accllm.frontend.checkpoint import CheckpointError, load_checkpoint
from accllm.frontend.errors import FrontendError
from accllm.frontend.import_model import import_config
from accllm.models.support import UnsupportedConfig, check_config, lambda_shape


@pytest.mark.parametrize(
    "cfg, message",
    [
        (
            LlamaConfig(rope_scaling={"rope_type": "yarn", "factor": 4.0}),
            "rope_scaling type 'yarn' is not supported (supported: default, dynamic, linear, "
            "llama3)",
        ),
        (LlamaConfig(hidden_act="gelu"), "hidden_act 'gelu' has no unit (supported: silu)"),
        (Qwen2Config(use_sliding_window=True), "use_sliding_window True is not supported"),
        (
            LlamaConfig(num_attention_heads=5, num_key_value_heads=4, hidden_size=80),
            "num_key_value_heads 4 does not divide num_attention_heads 5",
        ),
    ],
)
def test_unsupported_fields_are_named(cfg, message):
    with pytest.raises(UnsupportedConfig, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_config(cfg)


def test_supported_families_pass():
    llama3 = {"rope_type": "llama3", "rope_theta": 5e5, "factor": 8.0, "low_freq_factor": 1.0}
    llama3 |= {"high_freq_factor": 4.0, "original_max_position_embeddings": 8192}
    for cfg in (LlamaConfig(rope_scaling=llama3), Qwen2Config(), MistralConfig()):
        check_config(cfg)


def test_refused_before_any_weight_is_read(tmp_path):
    """The checkpoint's weights file is garbage: the config error must come first."""
    cfg = LlamaConfig(rope_scaling={"rope_type": "yarn", "factor": 4.0}).to_dict()
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    (tmp_path / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match="rope_scaling type 'yarn' is not supported"):
        load_checkpoint(tmp_path)
    with pytest.raises(FrontendError, match="rope_scaling type 'yarn' is not supported"):
        import_config(tmp_path / "config.json", tmp_path / "m.mlir")
    bad = {"model_type": "gemma3_text", "hidden_size": 64}
    (tmp_path / "config.json").write_text(json.dumps(bad))
    with pytest.raises(FrontendError, match="model_type 'gemma3_text' is not supported"):
        import_config(tmp_path, tmp_path / "m.mlir")


def test_lambda_shape_follows_the_model_window():
    m = MistralConfig(sliding_window=4096)
    s = lambda_shape(m, None, None)
    assert (s.sinks, s.window, s.warning) == (0, 4096, None)
    assert "the model's sliding_window 4096" in s.reason
    s = lambda_shape(m, None, 1020)
    assert (s.sinks, s.window) == (0, 1020) and "differs from the model's" in s.warning
    s = lambda_shape(m, 4, None)
    assert (s.sinks, s.window) == (4, 4096) and "4 sink tokens" in s.warning
    s = lambda_shape(LlamaConfig(), None, None)
    assert (s.sinks, s.window, s.warning) == (4, 1020, None)
    assert lambda_shape(MistralConfig(sliding_window=None), None, None).window == 1020
