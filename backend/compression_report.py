"""Compression report of a model's IR (`accllm-translate --emit-report`), as JSON.

Everything is read off the IR's types and attributes (so a report needs no weight data):

* per linear layer: shape, scheme, sparsity (fraction of weights not stored), bits per dense
  weight split into codes, 2:4 metadata, word padding of the HBM stream, zero points, scale
  mantissas and exponents (the storage formats of docs/numerics.md §3-4), and bytes;
* the LM head, embedding and norm gains likewise;
* KV cache bytes per token (all layers, K and V: 4-bit codes + int8 exponent + 4-bit zero
  point per (token, KV head) for KV4; the element width for a float cache);
* bytes moved from memory per decoded token: every linear/LM-head weight and scale, the norm
  gains, one embedding row, the KV cache read at a full Λ window (S + W slots; without a Λ
  window, `max_positions` of the model's RoPE) and the new token's KV written.

The performance part (cycles, tokens/s, HBM utilisation) is a later issue (performance model).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Attribute, Operation, SSAValue

from accllm.dialects.lattn import DecodeOp, KVCacheType, PrefillOp
from accllm.dialects.quant_types import (
    ParamAttr,
    QTensorType,
    QWeightType,
    SparsityAttr,
)
from accllm.dialects.smla import EmbeddingOp, LinearOp, LMHeadOp, RMSNormOp, RoPEOp
from accllm.numerics import contract as ct
from accllm.numerics.contract import NUMERICS

# Stored widths of the side data (docs/numerics.md §3-6).
SCALE_EXP_BITS = 8  # per output channel, int8
KV_EXP_BITS = 8  # per (token, KV head), int8
KV_ZP_BITS = NUMERICS.kv_bits  # per (token, KV head)


def _float_bits(t: TensorType) -> int:
    return t.element_type.bitwidth


def _name(value: SSAValue, op: Operation) -> str:
    w = value.owner
    v = getattr(w, "value", None)
    if isinstance(v, ParamAttr):
        return v.key.data
    loc = op.location
    line = getattr(loc, "line", None)
    return f"{op.name}@line{line.data}" if line is not None else op.name


@dataclass
class WeightBits:
    """Bits of one weight matrix [N, K] by component (totals over the matrix)."""

    n: int
    k: int
    scheme: str
    sparsity: float
    parts: dict[str, int]

    @property
    def total_bits(self) -> int:
        return sum(self.parts.values())

    def as_dict(self) -> dict:
        dense = self.n * self.k
        return {
            "shape": [self.n, self.k],
            "scheme": self.scheme,
            "sparsity": self.sparsity,
            "bits_per_weight": {p: round(b / dense, 4) for p, b in self.parts.items()}
            | {"total": round(self.total_bits / dense, 4)},
            "bytes": self.total_bits / 8,
        }


def weight_bits(t: Attribute) -> WeightBits:
    """Storage of a weight matrix of type `t` (float tensor or !smla.qweight)."""
    if isinstance(t, TensorType):
        n, k = t.get_shape()
        sparse = isinstance(t.encoding, SparsityAttr)
        # A float matrix is stored dense even when pruned (the zeros are values).
        return WeightBits(
            n,
            k,
            f"float{_float_bits(t)}" + (" 2:4" if sparse else ""),
            0.5 if sparse else 0.0,
            {"values": n * k * _float_bits(t)},
        )
    assert isinstance(t, QWeightType)
    n, k = t.get_shape()
    if not t.is_w2():
        parts = {
            "codes": n * k * NUMERICS.act_bits,
            "scale_mant": n * NUMERICS.mult_bits,
            "scale_exp": n * SCALE_EXP_BITS,
        }
        return WeightBits(n, k, "int8 per row", 0.0, parts)
    g = t.group_size()
    side = {
        "zero_point": n * (k // g) * NUMERICS.w_bits,
        "scale_mant": n * (k // g) * NUMERICS.scale_mant_bits,
        "scale_exp": n * SCALE_EXP_BITS,
    }
    if isinstance(t.sparsity, SparsityAttr):
        blocks = k // 4
        meta = blocks * t.sparsity.meta_bits_per_block()
        codes = blocks * 2 * NUMERICS.w_bits
        # HBM stream: 7-bit blocks packed 36 per 256-bit word, each row padded to a word.
        stream = ct.words_per_row(k) * NUMERICS.word_bits
        pad = stream - blocks * NUMERICS.block_bits if meta == blocks * 3 else 0
        parts = {"codes": n * codes, "meta": n * meta, "padding": n * pad} | side
        return WeightBits(n, k, f"W2 2:4 G={g}", 0.5, parts)
    return WeightBits(n, k, f"W2 dense G={g}", 0.0, {"codes": n * k * NUMERICS.w_bits} | side)


def kv_bits_per_token_head(head_dim: int, element: Attribute | None) -> int:
    """Bits of K (or V) for one token and KV head: KV4 unless a float element is given."""
    if element is None:
        return head_dim * NUMERICS.kv_bits + KV_EXP_BITS + KV_ZP_BITS
    return head_dim * element.bitwidth


def _is_quant(t: Attribute) -> bool:
    return isinstance(t, QTensorType | QWeightType)


def build_report(module: ModuleOp) -> dict:
    linears, lm_heads, embeds, norm_bits = [], [], [], 0
    attn: list[dict] = []
    max_positions = 0
    for op in module.walk():
        if isinstance(op, LinearOp):
            wb = weight_bits(op.weight.type)
            n, k_stored = op.weight.type.get_shape()
            # zero padding of K (contract.padded_k): stored weights the model does not have
            pad = n * (k_stored - op.input.type.get_shape()[-1])
            linears.append(
                {"name": _name(op.weight, op)} | wb.as_dict() | {"k_padding_weights": pad}
            )
        elif isinstance(op, LMHeadOp):
            wb = weight_bits(op.weight.type)
            lm_heads.append({"name": _name(op.weight, op)} | wb.as_dict())
        elif isinstance(op, EmbeddingOp):
            t = op.table.type
            v, h = t.get_shape()
            row = h * NUMERICS.act_bits + SCALE_EXP_BITS if _is_quant(t) else h * _float_bits(t)
            embeds.append(
                {
                    "name": _name(op.table, op),
                    "shape": [v, h],
                    "row_bits": row,
                    "bytes": v * row / 8,
                }
            )
        elif isinstance(op, RMSNormOp):
            t = op.gamma.type
            (h,) = t.get_shape()
            norm_bits += h * (t.bits if isinstance(t, QTensorType) else _float_bits(t))
        elif isinstance(op, RoPEOp):
            max_positions = max(max_positions, op.max_positions.value.data)
        elif isinstance(op, PrefillOp):
            nh, nkv = op.num_heads.value.data, op.num_kv_heads.value.data
            hd = op.query.type.get_shape()[-1] // nh
            elem = None if _is_quant(op.query.type) else op.query.type.element_type
            sink = op.sink.value.data if op.sink is not None else None
            window = op.window.value.data if op.window is not None else None
            attn.append(
                {"kv_heads": nkv, "head_dim": hd, "element": elem, "sink": sink, "window": window}
            )
        elif isinstance(op, DecodeOp):
            c: KVCacheType = op.cache.type
            attn.append(
                {
                    "kv_heads": c.heads.data,
                    "head_dim": c.head_dim.data,
                    "element": None if c.is_kv4() else c.element_type,
                    "sink": c.sink.data,
                    "window": c.window.data,
                }
            )
    kv_token_bits = sum(
        2 * a["kv_heads"] * kv_bits_per_token_head(a["head_dim"], a["element"]) for a in attn
    )
    windows = {(a["sink"], a["window"]) for a in attn}
    lam = windows.pop() if len(windows) == 1 else None
    if lam is not None and lam[0] is not None:
        context, context_rule = lam[0] + lam[1], f"Λ: sink {lam[0]} + window {lam[1]} slots"
    else:
        context, context_rule = max_positions, "no Λ window: max_positions of the model"
    weight_bytes = sum(x["bytes"] for x in linears) + sum(x["bytes"] for x in lm_heads)
    embed_row_bytes = sum(e["row_bits"] for e in embeds) / 8
    kv_read = kv_token_bits / 8 * context
    kv_write = kv_token_bits / 8
    dense_linear = sum(x["shape"][0] * x["shape"][1] for x in linears)
    linear_bits = sum(x["bytes"] * 8 for x in linears)
    level = "compressed" if any(x["scheme"].startswith("W2") for x in linears) else "model"
    return {
        "level": level,
        "layers": len(attn),
        "linear_layers": linears,
        "lm_head": lm_heads,
        "embedding": embeds,
        "norm_gain_bytes": norm_bits / 8,
        "linear_weights": dense_linear,
        "k_padding_weights": sum(x["k_padding_weights"] for x in linears),
        "linear_bits_per_weight": round(linear_bits / dense_linear, 4) if dense_linear else None,
        "kv_cache": {
            "bytes_per_token": kv_token_bits / 8,
            "attention_layers": [
                a | {"element": "kv4" if a["element"] is None else str(a["element"])} for a in attn
            ],
            "context_tokens": context,
            "context_rule": context_rule,
            "bytes_at_context": kv_read,
        },
        "decode_bytes_per_token": {
            "weights": weight_bytes,
            "norm_gains": norm_bits / 8,
            "embedding_row": embed_row_bytes,
            "kv_read": kv_read,
            "kv_write": kv_write,
            "total": weight_bytes + norm_bits / 8 + embed_row_bytes + kv_read + kv_write,
        },
        "performance": "not part of this report yet (performance model issue)",
    }


def emit(module: ModuleOp, args=None) -> str:
    """accllm-translate --emit-report entry point: the report as indented JSON."""
    return json.dumps(build_report(module), indent=2) + "\n"
