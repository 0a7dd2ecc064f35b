"""Python values the interpreter attaches to SSA values, and their conversions.

* builtin tensors: numpy arrays of the element type's dtype (f32 -> float32, i64 -> int64);
* `!smla.qtensor`: `QTensor` (int64 codes plus, for per-token A8, one exponent per token);
* `!smla.qweight`: `QWeight` (its integer components as the dialect names them), with
  converters to the contract's `W2Linear` so linears run through `accllm.numerics.contract`;
* `!lattn.kv_cache`: `FloatKVCache` or `KV4Cache` (immutable: every append returns a copy).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from xdsl.dialects.builtin import (
    BFloat16Type,
    DenseIntOrFPElementsAttr,
    Float16Type,
    Float32Type,
    Float64Type,
    IndexType,
    IntegerType,
    Signedness,
)
from xdsl.ir import Attribute

from accllm.dialects.lattn import KVCacheType
from accllm.dialects.quant_types import META_INDEX, QTensorType, QWeightType, SparsityAttr
from accllm.dialects.smla import component_ranges
from accllm.numerics import contract as ct
from accllm.numerics.golden import LambdaKVCache


class InterpretError(Exception):
    """A failure while interpreting; `op` (set by the interpreter) is the op that failed."""

    def __init__(self, message: str, op=None):
        super().__init__(message)
        self.message = message
        self.op = op


# --------------------------------------------------------------------------------------------
# Builtin element types <-> numpy dtypes
# --------------------------------------------------------------------------------------------

_FLOAT_DTYPES = {Float16Type: np.float16, Float32Type: np.float32, Float64Type: np.float64}
_INT_DTYPES = {1: np.bool_, 8: np.int8, 16: np.int16, 32: np.int32, 64: np.int64}
_UINT_DTYPES = {8: np.uint8, 16: np.uint16, 32: np.uint32, 64: np.uint64}


def dtype_for(element_type: Attribute) -> np.dtype:
    """numpy dtype holding values of a builtin element type (index -> int64).

    Integers keep their width so that wrap-around matches MLIR's two's complement arithmetic;
    signless integers are interpreted as signed (as MLIR's arith does), `uiN` as unsigned."""
    if isinstance(element_type, IndexType):
        return np.dtype(np.int64)
    if isinstance(element_type, BFloat16Type):
        raise InterpretError("bf16 tensors are not supported by the interpreter (numpy lacks bf16)")
    for cls, dt in _FLOAT_DTYPES.items():
        if isinstance(element_type, cls):
            return np.dtype(dt)
    if isinstance(element_type, IntegerType):
        width = element_type.width.data
        unsigned = element_type.signedness.data == Signedness.UNSIGNED
        table = _UINT_DTYPES if unsigned else _INT_DTYPES
        if width in table:
            return np.dtype(table[width])
    raise InterpretError(f"element type {element_type} has no numpy representation")


def dense_to_numpy(attr: DenseIntOrFPElementsAttr) -> np.ndarray:
    """The array of a `dense<...>` attribute in its element type's dtype (read from the raw
    little-endian bytes when they match the dtype, which is fast for large constants)."""
    dt = dtype_for(attr.get_element_type())
    shape = tuple(attr.get_shape() or ())
    raw = attr.data.data
    size = int(np.prod(shape, dtype=np.int64))
    if dt != np.bool_ and len(raw) == size * dt.itemsize:
        return np.frombuffer(raw, dtype=dt.newbyteorder("<")).astype(dt).reshape(shape)
    return np.asarray(attr.get_values(), dtype=dt).reshape(shape)


def qtensor_storage_dtype(t: QTensorType) -> np.dtype:
    """Smallest numpy integer dtype holding a quantized tensor's codes (for .npy outputs)."""
    for bits, dt in ((8, np.int8), (16, np.int16), (32, np.int32), (64, np.int64)):
        if t.bits <= bits:
            return np.dtype(dt)
    raise InterpretError(f"no numpy dtype for si{t.bits}")


# --------------------------------------------------------------------------------------------
# Quantized tensors and weights
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QTensor:
    """A `!smla.qtensor` value: int64 `values` (code q or fixed-point v) and, for per-token A8,
    `exp` (one exponent f per slice along the last axis; real value q * 2^-f). Fixed point:
    real value v * 2^-frac."""

    type: QTensorType
    values: np.ndarray
    exp: np.ndarray | None = None

    @property
    def frac(self) -> int:
        if self.type.is_per_token():
            raise InterpretError("a per-token tensor has no single frac")
        return self.type.frac.data


def check_component(name: str, arr: np.ndarray, shape: tuple[int, ...], where: str) -> np.ndarray:
    """A stored integer component as int64, checked against the shape the type demands."""
    arr = np.asarray(arr)
    if arr.dtype.kind not in "iub":
        raise InterpretError(f"{where}: component '{name}' must be integer, got {arr.dtype}")
    if tuple(arr.shape) != tuple(shape):
        raise InterpretError(
            f"{where}: component '{name}' has shape {list(arr.shape)}, the type needs {list(shape)}"
        )
    return arr.astype(np.int64)


def check_components(
    t: QTensorType | QWeightType, comps: dict[str, np.ndarray], where: str
) -> dict[str, np.ndarray]:
    """Every component the type names, as int64, with its shape and the contract's storage
    range checked (the ranges the dialect's verifier applies to inline data)."""
    ranges = component_ranges(t)
    out = {}
    for name, shape in t.components().items():
        if name not in comps:
            raise InterpretError(f"{where}: missing component '{name}'")
        v = check_component(name, comps[name], shape, where)
        lo, hi = ranges[name]
        if v.size and (v.min() < lo or v.max() > hi):
            raise InterpretError(f"{where}: component '{name}' has values outside [{lo}, {hi}]")
        out[name] = v
    return out


def make_qtensor(t: QTensorType, comps: dict[str, np.ndarray], where: str) -> QTensor:
    """Build a QTensor from its components (`values`, plus `exp` for per-token), checking shapes
    and the value range of the element type."""
    vals = check_components(t, comps, where)
    return QTensor(t, vals["values"], vals.get("exp"))


@dataclass(frozen=True, eq=False)
class QWeight:
    """A `!smla.qweight` value: the integer components named by `QWeightType.components()`
    (`codes`, `zero_point`, `scale_mant`, `scale_exp`, `meta`), int64."""

    type: QWeightType
    comps: dict[str, np.ndarray] = field(repr=False)

    @cached_property
    def patterns(self) -> np.ndarray | None:
        """2:4 pattern codes [N, K/4] (index metadata converted), None for dense weights."""
        sp = self.type.sparsity
        if not isinstance(sp, SparsityAttr):
            return None
        meta = self.comps["meta"]
        if sp.meta.data != META_INDEX:
            return meta
        n, k = self.type.get_shape()
        mask = np.zeros((n, k // 4, 4), dtype=bool)
        np.put_along_axis(mask, meta.reshape(n, k // 4, 2), True, axis=-1)
        return ct.mask_to_patterns(mask.reshape(n, k))

    @cached_property
    def w2_halves(self) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        """The W2 weight as 2:4 (codes [N, K/4, 2], patterns [N, K/4]) halves whose group MACs
        sum to this weight's MAC (same zero points and scales).

        A 2:4 weight is one half. A dense W2 weight is two: positions 0,1 and 2,3 of every block
        of 4. Each group's partial sum is the sum of the halves' partial sums, so the
        accumulators add exactly and the contract's sparse MAC serves dense weights too."""
        n, k = self.type.get_shape()
        codes = self.comps["codes"]
        if self.patterns is not None:
            return ((codes.reshape(n, k // 4, 2), self.patterns),)
        blocks = codes.reshape(n, k // 4, 4)
        return (
            (blocks[..., 0:2], np.zeros((n, k // 4), dtype=np.int64)),  # pattern 0 = (0, 1)
            (blocks[..., 2:4], np.full((n, k // 4), 5, dtype=np.int64)),  # pattern 5 = (2, 3)
        )

    @cached_property
    def w2_parts(self) -> tuple[ct.W2Linear, ...]:
        """`w2_halves` as packed contract `W2Linear`s (the HBM format)."""
        n, k = self.type.get_shape()
        return tuple(
            ct.W2Linear(
                packed=ct.pack_2_4_w2(c, p),
                zp=self.comps["zero_point"],
                scale_mant=self.comps["scale_mant"],
                scale_exp=self.comps["scale_exp"],
                in_features=k,
                out_features=n,
                group=self.type.group_size(),
            )
            for c, p in self.w2_halves
        )

    @cached_property
    def int8_dense_codes(self) -> np.ndarray:
        """int8 weight codes as a dense [N, K] matrix (pruned 2:4 positions are 0)."""
        codes = self.comps["codes"]
        if self.patterns is None:
            return codes
        n, k = self.type.get_shape()
        pos = ct.patterns_to_positions(self.patterns).reshape(n, k // 2)
        dense = np.zeros((n, k), dtype=np.int64)
        np.put_along_axis(dense, pos, codes, axis=1)
        return dense


def make_qweight(t: QWeightType, comps: dict[str, np.ndarray], where: str) -> QWeight:
    """Build a QWeight from its components, checking names, shapes and the 2:4 metadata."""
    w = QWeight(t, check_components(t, comps, where))
    try:
        # Validate the metadata once, here (index pairs -> patterns, pattern codes legal).
        if (patterns := w.patterns) is not None:
            ct.patterns_to_positions(patterns)
    except ValueError as err:
        raise InterpretError(f"{where}: bad 2:4 metadata: {err}") from err
    return w


# --------------------------------------------------------------------------------------------
# KV caches
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class FloatKVCache:
    """A float `!lattn.kv_cache`: k, v [heads, slots, head_dim] in the element dtype, the absolute
    position held by each slot [slots] (-1 = empty) and n, the tokens appended so far."""

    type: KVCacheType
    k: np.ndarray
    v: np.ndarray
    pos: np.ndarray
    n: int

    @staticmethod
    def empty(t: KVCacheType) -> FloatKVCache:
        h, hd, slots = t.heads.data, t.head_dim.data, t.slots
        dt = dtype_for(t.element_type)
        z = np.zeros((h, slots, hd), dtype=dt)
        return FloatKVCache(t, z, z.copy(), np.full(slots, -1, dtype=np.int64), 0)

    def arrays(self) -> dict[str, np.ndarray]:
        """Named arrays for a .npz file."""
        return {"k": self.k, "v": self.v, "pos": self.pos, "n": np.array(self.n)}


@dataclass(frozen=True, eq=False)
class KV4Cache:
    """A KV4 (`ui4`) `!lattn.kv_cache`: the golden model's `LambdaKVCache` with one layer
    (packed codes, zero points, exponents and slot positions) and n, the tokens appended."""

    type: KVCacheType
    store: LambdaKVCache
    n: int

    @staticmethod
    def empty(t: KVCacheType) -> KV4Cache:
        store = LambdaKVCache(1, t.heads.data, t.head_dim.data, t.sink.data, t.window.data)
        return KV4Cache(t, store, 0)

    def copied(self) -> LambdaKVCache:
        return copy.deepcopy(self.store)

    FIELDS = ("k_packed", "v_packed", "k_zp", "v_zp", "k_exp", "v_exp", "pos")

    def arrays(self) -> dict[str, np.ndarray]:
        """Named arrays for a .npz file (the single layer of the store)."""
        out = {f: getattr(self.store, f)[0] for f in self.FIELDS}
        out["n"] = np.array(self.n)
        return out


def cache_from_arrays(t: KVCacheType, arrays: dict[str, np.ndarray], where: str):
    """Rebuild a cache value from the arrays `arrays()` wrote, checking names and shapes."""
    empty = KV4Cache.empty(t) if t.is_kv4() else FloatKVCache.empty(t)
    want = empty.arrays()
    missing = sorted(set(want) - set(arrays))
    if missing:
        raise InterpretError(f"{where}: cache file lacks arrays {missing}")
    for name, ref in want.items():
        got = np.asarray(arrays[name])
        if got.shape != ref.shape:
            raise InterpretError(
                f"{where}: cache array '{name}' has shape {list(got.shape)}, expected "
                f"{list(ref.shape)}"
            )
    n = int(arrays["n"])
    if isinstance(empty, FloatKVCache):
        dt = empty.k.dtype
        return FloatKVCache(
            t,
            np.asarray(arrays["k"], dtype=dt),
            np.asarray(arrays["v"], dtype=dt),
            np.asarray(arrays["pos"], dtype=np.int64),
            n,
        )
    for f in KV4Cache.FIELDS:
        target = getattr(empty.store, f)
        target[0] = np.asarray(arrays[f]).astype(target.dtype)
    return KV4Cache(t, empty.store, n)
