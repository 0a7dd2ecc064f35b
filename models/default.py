"""The built-in default model: a tiny Llama decoder built from a config and a fixed seed.

No downloads: the weights are a seeded random initialisation, scaled so that activations and
logits are in a realistic range (unit-RMS hidden states, logits with a spread of several units,
so greedy top-1 decisions are meaningful for accuracy tests).

Sizes suit the contract: hidden 64 and FFN 128 are multiples of the W2 group sizes (G = 64 for
K = 64, G = 128 for K = 128, see accllm.numerics.contract.group_size_for) and of 4 (2:4).
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import LlamaConfig, LlamaForCausalLM

# Std of linear weights ~ 1/sqrt(fan_in) keeps hidden activations near unit RMS.
_LINEAR_STD = 0.125
_LM_HEAD_STD = 0.4  # logits spread of a few units: a peaked but not one-hot distribution
_EMBED_STD = 1.0
_NORM_JITTER = 0.1  # RMSNorm gains 1 + N(0, 0.1): non-trivial per-channel gains


def default_config(gqa: bool = False) -> LlamaConfig:
    """Config of the tiny default model: hidden 64, 2 layers, 4 heads of 16, FFN 128,
    vocab 256, 256 positions; ``gqa=True`` gives 2 KV heads (2 query heads per KV head)."""
    return LlamaConfig(
        vocab_size=256,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2 if gqa else 4,
        head_dim=16,
        max_position_embeddings=256,
        rms_norm_eps=1e-5,
        tie_word_embeddings=False,
        attention_bias=False,
        mlp_bias=False,
        initializer_range=_LINEAR_STD,
    )


def build_model(config: LlamaConfig, seed: int = 0) -> LlamaForCausalLM:
    """A float32 ``LlamaForCausalLM`` for ``config`` with weights drawn from ``seed`` (eval mode).

    Every parameter is re-drawn here (not left to HF's init) so the result depends only on the
    seed and the config: linears N(0, 1/sqrt(fan_in)), LM head N(0, 0.4), embedding N(0, 1),
    RMSNorm gains 1 + N(0, 0.1).
    """
    model = init_parameters(LlamaForCausalLM(config).to(torch.float32), seed)
    model.eval()
    return model


def init_parameters(model: LlamaForCausalLM, seed: int) -> LlamaForCausalLM:
    """Draw every parameter of `model` from `seed` (build_model's distributions, in place, in
    the parameters' own dtype)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if name.endswith("norm.weight"):
                p.copy_(1.0 + _NORM_JITTER * torch.randn(p.shape, generator=gen))
            elif "embed_tokens" in name:
                p.copy_(_EMBED_STD * torch.randn(p.shape, generator=gen))
            elif name.startswith("lm_head"):
                p.copy_(_LM_HEAD_STD * torch.randn(p.shape, generator=gen))
            else:
                std = 1.0 / p.shape[1] ** 0.5
                p.copy_(std * torch.randn(p.shape, generator=gen))
    return model


def save_checkpoint(model: LlamaForCausalLM, directory: str | Path) -> Path:
    """Write the model with ``save_pretrained`` (config.json + model.safetensors)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory, safe_serialization=True)
    return directory
