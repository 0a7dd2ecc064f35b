"""Checkpoint loading: the right class per model_type, safetensors only, clear errors."""

from __future__ import annotations

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel, Qwen2Config, Qwen2ForCausalLM

from accllm.frontend.checkpoint import CheckpointError, load_checkpoint


def test_qwen2_checkpoint_keeps_its_qkv_biases(tmp_path):
    cfg = Qwen2Config(
        vocab_size=64,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
    )
    model = Qwen2ForCausalLM(cfg)
    with torch.no_grad():
        model.model.layers[0].self_attn.q_proj.bias.uniform_(-1, 1)
    model.save_pretrained(tmp_path)
    loaded = load_checkpoint(tmp_path)
    assert type(loaded).__name__ == "Qwen2ForCausalLM"
    want = model.model.layers[0].self_attn.q_proj.bias
    assert torch.equal(loaded.model.layers[0].self_attn.q_proj.bias, want)


def test_unsupported_model_type_is_named(tmp_path):
    GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=16, n_head=2, vocab_size=32)).save_pretrained(
        tmp_path
    )
    with pytest.raises(CheckpointError, match="model_type 'gpt2' is not supported"):
        load_checkpoint(tmp_path)


def test_pickled_weights_are_not_loaded(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "llama"}')
    (tmp_path / "pytorch_model.bin").write_bytes(b"not read")
    with pytest.raises(CheckpointError, match="no \\*.safetensors weights"):
        load_checkpoint(tmp_path)
