"""Tiny seeded checkpoints of the model families accllm supports (tests and examples; no downloads).

Each family keeps the tiny default model's sizes (hidden 64, 4 heads of 16, FFN 128, vocab 256,
2 layers) and adds the features that make the family what it is:

- ``llama``: plain Llama-2 style (default RoPE), for other layer sizes;
- ``llama3``: Llama-3.x RoPE scaling (``rope_scaling`` type ``llama3``, ``linear`` or
  ``dynamic``) with theta 500000;
- ``qwen2``: q/k/v biases and tied embeddings (Qwen2 / Qwen2.5);
- ``mistral``: ``sliding_window``.

``build_family_model`` draws every parameter from the seed, like ``models.default.build_model``
(biases N(0, 0.1), so that they move the logits visibly); ``save_family_checkpoint`` writes it with
``save_pretrained``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from accllm.models.default import _EMBED_STD, _LM_HEAD_STD, _NORM_JITTER

_BIAS_STD = 0.1
_TINY = dict(
    vocab_size=256,
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    head_dim=16,
    max_position_embeddings=256,
    rms_norm_eps=1e-5,
)


def family_config(family: str, gqa: bool = False, **overrides):
    """The tiny config of ``family`` ('llama', 'llama3', 'qwen2', 'mistral'); ``gqa`` gives 2
    KV heads; ``overrides`` replace fields (e.g. ``rope_scaling=...``, ``sliding_window=8``)."""
    from transformers import LlamaConfig, MistralConfig, Qwen2Config

    base = dict(_TINY, num_key_value_heads=2 if gqa else 4)
    if family == "llama":
        cfg = dict(base, tie_word_embeddings=False)
        cls = LlamaConfig
    elif family == "llama3":
        rope = {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0}
        rope |= {"low_freq_factor": 1.0, "high_freq_factor": 4.0}
        rope["original_max_position_embeddings"] = 32
        cfg = dict(base, rope_parameters=rope, tie_word_embeddings=False)
        cls = LlamaConfig
    elif family == "qwen2":
        cfg = dict(base, tie_word_embeddings=True, rope_parameters={"rope_type": "default"})
        cfg["rope_parameters"]["rope_theta"] = 1000000.0
        cls = Qwen2Config
    elif family == "mistral":
        cfg = dict(base, sliding_window=8, tie_word_embeddings=False)
        cls = MistralConfig
    else:
        raise ValueError(f"unknown family '{family}' (llama, llama3, qwen2, mistral)")
    cfg.update(overrides)
    return cls(**cfg)


def build_family_model(config, seed: int = 0):
    """A float32 causal LM of ``config``'s class with every parameter drawn from ``seed``."""
    from transformers import AutoModelForCausalLM

    gen = torch.Generator().manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config).to(torch.float32)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if name.endswith("norm.weight"):
                p.copy_(1.0 + _NORM_JITTER * torch.randn(p.shape, generator=gen))
            elif "embed_tokens" in name:
                p.copy_(_EMBED_STD * torch.randn(p.shape, generator=gen))
            elif name.startswith("lm_head"):
                p.copy_(_LM_HEAD_STD * torch.randn(p.shape, generator=gen))
            elif name.endswith(".bias"):
                p.copy_(_BIAS_STD * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(torch.randn(p.shape, generator=gen) / p.shape[1] ** 0.5)
    return model.eval()


def save_family_checkpoint(family: str, directory: str | Path, seed: int = 0, **kw) -> Path:
    """Build the tiny ``family`` model (``kw`` as for family_config) and save_pretrained it."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model = build_family_model(family_config(family, **kw), seed)
    model.save_pretrained(directory, safe_serialization=True)
    return directory
