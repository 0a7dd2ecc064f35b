"""Top-function ports of the HLS design: weights (from `smla.weight`), KV caches and function
arguments/results, each an AXI master on the HBM channel its `hls.m_axi` attribute names.

Weights are read from the IR (inline integer components or `#smla.param` tensors of a
safetensors archive) and converted to the accelerator's HBM formats with the contract's own
packers (`pack_2_4_w2`, `kv4_pack`): the 2:4 W2 codes become 256-bit words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, DictionaryAttr
from xdsl.ir import Operation

from accllm.dialects.hls import M_AXI, MAxiAttr
from accllm.dialects.lattn import KVCacheType
from accllm.dialects.quant_types import ParamAttr, QTensorType, QWeightType, SparsityAttr
from accllm.ir.diagnostics import error_at
from accllm.numerics import contract as ct
from accllm.numerics.words import WORD_BYTES


@dataclass(eq=False)
class Port:
    """One top-level array argument. `data` is the initial content for weights (int64 values,
    or uint8 [count, 32] for 256-bit words); None for caches, inputs and outputs."""

    name: str
    ctype: str
    count: int
    channel: int
    const: bool = True
    data: np.ndarray | None = None

    def decl(self) -> str:
        return f"{'const ' if self.const else ''}{self.ctype} {self.name}[{self.count}]"

    @property
    def is_word(self) -> bool:
        return self.ctype == "word_t"

    def channel_pragma(self) -> str:
        return MAxiAttr(self.channel).pragma(self.name, self.count)


@dataclass
class CachePorts:
    """The HBM storage of one KV4 cache: packed codes, zero points, exponents, slot positions
    and the number of tokens appended so far."""

    prefix: str
    cache: KVCacheType
    channel: int
    ports: dict[str, Port] = field(default_factory=dict)

    def __post_init__(self):
        h, s, hd = self.cache.heads.data, self.cache.slots, self.cache.head_dim.data
        spec = {
            "k": ("kv_byte_t", h * s * hd // 2),
            "v": ("kv_byte_t", h * s * hd // 2),
            "kz": ("kv_t", h * s),
            "ke": ("kv_exp_t", h * s),
            "vz": ("kv_t", h * s),
            "ve": ("kv_exp_t", h * s),
            "pos": ("pos_t", s),
            "count": ("pos_t", 1),
        }
        for key, (ctype, n) in spec.items():
            self.ports[key] = Port(f"{self.prefix}_{key}", ctype, n, self.channel, const=False)

    def name(self, key: str) -> str:
        return self.ports[key].name


def channel_of(op: Operation, attrs, what: str) -> int:
    """The HBM channel from an `hls.m_axi` attribute in `attrs` (op or argument attributes)."""
    attr = attrs.get(M_AXI) if attrs is not None else None
    if not isinstance(attr, MAxiAttr):
        raise error_at(op, f"{what} has no {M_AXI} attribute (run the hls-annotate pass first)")
    return attr.channel.data


def _components(op: Operation, base_dir: Path) -> dict[str, np.ndarray]:
    """Integer components of a quantized smla.weight, inline or from its safetensors file."""
    value, t = op.value, op.result.type
    comps = t.components()
    if isinstance(value, DictionaryAttr):
        out = {}
        for name, shape in comps.items():
            attr = value.data[name]
            assert isinstance(attr, DenseIntOrFPElementsAttr)
            out[name] = np.asarray(attr.get_values(), dtype=np.int64).reshape(shape)
        return out
    if not isinstance(value, ParamAttr):
        raise error_at(op, "a quantized weight needs #smla.param or inline components")
    from safetensors import safe_open

    path = Path(value.file.data)
    path = path if path.is_absolute() else base_dir / path
    if not path.is_file():
        raise error_at(op, f"parameter file '{path}' not found")
    out = {}
    with safe_open(str(path), framework="numpy") as f:
        for name, shape in comps.items():
            key = f"{value.key.data}.{name}"
            if key not in f.keys():
                raise error_at(op, f"tensor '{key}' missing from '{path}'")
            arr = f.get_tensor(key).astype(np.int64)
            if arr.shape != tuple(shape):
                raise error_at(op, f"tensor '{key}' has shape {arr.shape}, expected {shape}")
            out[name] = arr
    return out


def weight_ports(op: Operation, prefix: str, base_dir: Path) -> dict[str, Port]:
    """Ports (with their HBM contents) of one quantized `smla.weight`."""
    t = op.result.type
    ch = channel_of(op, op.attributes, "weight")
    c = _components(op, base_dir)
    if isinstance(t, QWeightType) and t.is_w2():
        sp = t.sparsity
        if not isinstance(sp, SparsityAttr) or sp.meta.data != "pattern":
            raise error_at(
                op,
                "the HLS backend streams 2:4 W2 weights with pattern metadata (the packed "
                "256-bit word format); dense or index-metadata W2 is not supported",
            )
        n, k = t.get_shape()
        words = ct.pack_2_4_w2(c["codes"].reshape(n, k // 4, 2), c["meta"])
        return {
            "words": Port(
                f"{prefix}_words",
                "word_t",
                words.shape[0] * words.shape[1],
                ch,
                data=words.reshape(-1, WORD_BYTES),
            ),
            "zp": Port(f"{prefix}_zp", "wzp_t", c["zero_point"].size, ch, data=c["zero_point"]),
            "sm": Port(f"{prefix}_sm", "smant_t", c["scale_mant"].size, ch, data=c["scale_mant"]),
            "se": Port(f"{prefix}_se", "sexp_t", n, ch, data=c["scale_exp"]),
        }
    if isinstance(t, QWeightType):
        if isinstance(t.sparsity, SparsityAttr):
            raise error_at(op, "2:4 sparse int8 weights are not supported by the HLS backend")
        n, k = t.get_shape()
        return {
            "q": Port(f"{prefix}_q", "act_t", n * k, ch, data=c["codes"]),
            "m": Port(f"{prefix}_m", "mult_t", n, ch, data=c["scale_mant"]),
            "e": Port(f"{prefix}_e", "sexp_t", n, ch, data=c["scale_exp"]),
        }
    assert isinstance(t, QTensorType)
    if t.is_per_token():
        shape = t.get_shape()
        return {
            "q": Port(f"{prefix}_q", "act_t", int(np.prod(shape)), ch, data=c["values"]),
            "f": Port(f"{prefix}_f", "act_exp_t", int(np.prod(shape[:-1])), ch, data=c["exp"]),
        }
    return {
        "v": Port(
            f"{prefix}_v", f"ap_int<{t.bits}>", int(np.prod(t.get_shape())), ch, data=c["values"]
        ),
    }
