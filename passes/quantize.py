"""accllm-quantize: model-level (float) smla/lattn IR -> compressed level (W2A8KV4 types).

Every float op of a Llama decoder is replaced by its quantized form, whose integer semantics
are those of `accllm.numerics.contract` (see each op's docstring):

* activations between units become the residual format `!smla.qtensor<...xsi32, frac=16>`;
  each `smla.linear` / `smla.lm_head` input gets an A8 `smla.requantize` to `per_token`;
* `smla.linear` weights become W2 `!smla.qweight<NxK, ui2, group=G[, sparse=2:4]>`
  (`numerics.compress.w2_components`: the 2:4 mask of a `#smla.sparsity<2:4>` weight is kept,
  a dense float weight becomes dense W2); the LM head int8 (`contract.quantize_int8_rows`);
  the embedding table A8 per row (`contract.quantize_rows_pow2`); RMSNorm gains 16-bit
  mantissas (`contract.rmsnorm_params`);
* attention and KV caches become KV4 (`lattn.prefill` quantized form, `ui4` caches).

Values flow through a map float -> quantized, so the integer pipeline never round-trips through
floats.  Where a float value comes from outside the converted ops (a function argument, an
existing `smla.dequantize`) an `smla.quantize` is inserted, and where a kept `smla.quantize`
reads a converted value an exact (f64) `smla.dequantize` is inserted: those pairs are what
`accllm-fold-quantize-pairs` removes.  Function results become the quantized types (the
accelerator returns integer logits).  An op with float operands or results that the pass does
not know is an error at that op.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    BytesAttr,
    DenseIntOrFPElementsAttr,
    DictionaryAttr,
    Float64Type,
    FunctionType,
    IntegerType,
    ModuleOp,
    Signedness,
    TensorType,
)
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import PassFailedException

from accllm.dialects.lattn import AppendOp, DecodeOp, EmptyOp, KVCacheType, PrefillOp
from accllm.dialects.quant_types import (
    ParamAttr,
    QTensorType,
    QWeightType,
    SparsityAttr,
    is_float_tensor,
    residual_type,
)
from accllm.dialects.smla import (
    AddOp,
    DequantizeOp,
    EmbeddingOp,
    LinearOp,
    LMHeadOp,
    MulOp,
    QuantizeOp,
    RequantizeOp,
    RMSNormOp,
    RoPEOp,
    SiLUOp,
    SwiGLUOp,
    WeightOp,
    linear_acc_bound,
    signed_bits_for,
)
from accllm.ir.diagnostics import error_at
from accllm.numerics import contract as ct
from accllm.numerics.compress import w2_components
from accllm.numerics.contract import NUMERICS
from accllm.numerics.gptq import gptq_components
from accllm.passes.calibration_probe import linear_input_hessians
from accllm.passes.param_archive import ArchiveWriter, ParamReader, default_archive

A8 = IntegerType(NUMERICS.act_bits, Signedness.SIGNED)
KV4 = IntegerType(NUMERICS.kv_bits, Signedness.UNSIGNED)


def a8_type(shape) -> QTensorType:
    return QTensorType(shape, A8, None)


def _is_float_value_type(t: Attribute) -> bool:
    return is_float_tensor(t) or (isinstance(t, KVCacheType) and not t.is_kv4())


def dense_ints(array: np.ndarray, bits: int) -> DenseIntOrFPElementsAttr:
    """Inline `dense<...>` of signless `i<bits>` integers (bytes copied, no per-element list)."""
    a = np.asarray(array)
    t = TensorType(IntegerType(bits), a.shape)
    return DenseIntOrFPElementsAttr(t, BytesAttr(a.astype(f"<i{bits // 8}").tobytes()))


# Storage of each quantized component: (numpy dtype in the archive, inline integer width).
# Unsigned 16-bit mantissas are inlined as i32 so that they read back non-negative.
_STORAGE = {
    "codes": (np.uint8, 8),
    "meta": (np.uint8, 8),
    "zero_point": (np.uint8, 8),
    "scale_mant": (np.uint16, 32),
    "scale_exp": (np.int8, 8),
}


def check_options(pass_name: str, weights: int, activations: int, kv: int, group: int) -> None:
    """The contract defines one scheme (W2A8KV4) and three group sizes; say so otherwise."""
    for opt, got, want in (
        ("weights", weights, NUMERICS.w_bits),
        ("activations", activations, NUMERICS.act_bits),
        ("kv", kv, NUMERICS.kv_bits),
    ):
        if got != want:
            raise PassFailedException(
                f"{pass_name}: {opt}={got} is not supported: the numerics contract "
                f"(docs/numerics.md) defines W{NUMERICS.w_bits}A{NUMERICS.act_bits}"
                f"KV{NUMERICS.kv_bits} only; use {opt}={want}"
            )
    if group not in NUMERICS.group_sizes:
        raise PassFailedException(
            f"{pass_name}: group={group} is not an allowed W2 group size "
            f"{NUMERICS.group_sizes}; the group adapts downwards per layer, so pass the largest "
            "size you accept"
        )


def _weight_name(wop: WeightOp) -> str:
    return wop.value.key.data if isinstance(wop.value, ParamAttr) else "smla.linear"


def w2_type(shape, group: int, sparse: bool) -> QWeightType:
    """The type of a W2 weight of float shape [N, K]: K zero-padded (contract.padded_k)."""
    return QWeightType(
        (shape[0], ct.padded_k(shape[1])),
        IntegerType(NUMERICS.w_bits, Signedness.UNSIGNED),
        group,
        SparsityAttr() if sparse else None,
    )


def gain_type(shape, shift: int) -> QTensorType:
    """RMSNorm gain mantissas with the layer's gain shift as the fraction."""
    return QTensorType(shape, IntegerType(NUMERICS.norm_gain_bits, Signedness.SIGNED), shift)


class _WeightQuantizer:
    """Quantizes the float tensors of `smla.weight` ops (inline or from safetensors), one per
    (weight op, role), writing parameter-backed results to one streamed archive."""

    def __init__(self, module: ModuleOp, archive: str, group: int, shapes_only: bool = False):
        self.reader = ParamReader(module)
        # Types only (config-only compile): every weight keeps its float checkpoint reference
        # under its quantized type; `accllm pack-weights` quantizes the data later.
        self.shapes_only = shapes_only
        self.archive = archive
        self.group = group
        self.writer: ArchiveWriter | None = None
        self.archive_name = ""
        self.cache: dict[tuple[Operation, str], SSAValue] = {}
        # method=gptq: the calibration Hessian of each linear weight op (X^T X of its inputs)
        self.hessians: dict[Operation, np.ndarray] | None = None

    def _sink(self, source: ParamAttr) -> str:
        if self.writer is None:
            self.archive_name = self.archive or default_archive(source.file.data, "w2a8kv4")
            path = Path(self.archive_name)
            self.writer = ArchiveWriter(path if path.is_absolute() else self.reader.base_dir / path)
        return self.archive_name

    def finish(self, ok: bool) -> None:
        if self.writer is not None:
            self.writer.close() if ok else self.writer.abort()

    def source(self, value: SSAValue, user: Operation, role: str) -> WeightOp:
        owner = value.owner
        if not isinstance(owner, WeightOp) or not is_float_tensor(value.type):
            raise error_at(
                user,
                f"the weight operand must be a float smla.weight to be quantized offline "
                f"(role: {role})",
            )
        return owner

    def read(self, wop: WeightOp) -> np.ndarray:
        v = wop.value
        if isinstance(v, DenseIntOrFPElementsAttr):
            shape = tuple(wop.result.type.get_shape())
            return np.asarray(v.get_values(), dtype=np.float64).reshape(shape)
        if isinstance(v, ParamAttr):
            return np.asarray(self.reader.get(wop, v), dtype=np.float64)
        raise error_at(wop, "float weights must be dense<...> or #smla.param to be quantized")

    def emit(
        self, wop: WeightOp, role: str, rtype: Attribute, comps: dict[str, tuple[np.ndarray, int]]
    ) -> SSAValue:
        """New smla.weight of type `rtype` with integer components {name: (array, width)}."""
        src = wop.value
        if isinstance(src, ParamAttr):
            name = self._sink(src)
            key = src.key.data
            if any(self.writer.has(f"{key}.{c}") for c in comps):
                key = f"{key}.{role}"  # a weight used in two roles (tied embedding/LM head)
            for c, (arr, _) in comps.items():
                self.writer.add(f"{key}.{c}", arr)
            value: Attribute = ParamAttr(name, key)
        else:
            value = DictionaryAttr({c: dense_ints(a, bits) for c, (a, bits) in comps.items()})
        new = WeightOp(value, rtype)
        new.location = wop.location
        new.result.name_hint = wop.result.name_hint
        wop.parent_block().insert_op_after(new, wop)
        return new.result

    def get(self, value: SSAValue, user: Operation, role: str, build, shape_type=None) -> SSAValue:
        """The `role` form of weight `value`: `build(wop)` quantizes the data; in shapes-only
        mode `shape_type(wop)` gives the quantized type and the float reference is kept."""
        wop = self.source(value, user, role)
        if (wop, role) not in self.cache:
            if self.shapes_only:
                new = WeightOp(wop.value, shape_type(wop))
                new.location = wop.location
                new.result.name_hint = wop.result.name_hint
                wop.parent_block().insert_op_after(new, wop)
                self.cache[(wop, role)] = new.result
            else:
                self.cache[(wop, role)] = build(wop)
        return self.cache[(wop, role)]

    # --- the four roles -------------------------------------------------------------------

    def w2(self, value: SSAValue, user: Operation) -> SSAValue:
        def build(wop: WeightOp) -> SSAValue:
            ft = wop.result.type
            w = self.read(wop)
            sparse = isinstance(ft.encoding, SparsityAttr)
            name = _weight_name(wop)
            if sparse:
                nz = (w.reshape(w.shape[0], -1, 4) != 0).sum(-1)
                if np.any(nz > 2):
                    raise error_at(
                        wop,
                        "weight is typed #smla.sparsity<2:4> but a block of 4 inputs has "
                        "more than 2 non-zeros",
                    )
            try:
                if self.hessians is not None:
                    comp = gptq_components(w, self.hessians[wop], name, self.group, sparse)
                else:
                    comp = w2_components(w, name, self.group, sparse)
            except ValueError as err:
                raise error_at(user, str(err)) from err
            qt = w2_type(w.shape, comp.group, sparse)
            arrays = comp.arrays()
            return self.emit(
                wop,
                "w2",
                qt,
                {c: (a.astype(_STORAGE[c][0]), _STORAGE[c][1]) for c, a in arrays.items()},
            )

        def shape_type(wop: WeightOp) -> QWeightType:
            ft = wop.result.type
            n, k = ft.get_shape()
            try:
                group = ct.group_size_for(ct.padded_k(k), self.group, _weight_name(wop))
            except ValueError as err:
                raise error_at(user, str(err)) from err
            return w2_type((n, k), group, isinstance(ft.encoding, SparsityAttr))

        return self.get(value, user, "w2", build, shape_type)

    def int8_rows(self, value: SSAValue, user: Operation) -> SSAValue:
        def build(wop: WeightOp) -> SSAValue:
            q, m, e = ct.quantize_int8_rows(self.read(wop))
            qt = QWeightType(q.shape, A8)
            comps = {
                "codes": (q.astype(np.int8), 8),
                "scale_mant": (m.astype(np.uint16), 32),
                "scale_exp": (e.astype(np.int8), 8),
            }
            return self.emit(wop, "int8", qt, comps)

        def shape_type(wop: WeightOp) -> QWeightType:
            return QWeightType(tuple(wop.result.type.get_shape()), A8)

        return self.get(value, user, "int8", build, shape_type)

    def embedding(self, value: SSAValue, user: Operation) -> SSAValue:
        def build(wop: WeightOp) -> SSAValue:
            q, f = ct.quantize_rows_pow2(self.read(wop))
            comps = {"values": (q.astype(np.int8), 8), "exp": (f.astype(np.int8), 8)}
            return self.emit(wop, "a8rows", a8_type(q.shape), comps)

        return self.get(
            value, user, "a8rows", build, lambda wop: a8_type(tuple(wop.result.type.get_shape()))
        )

    def bias(self, value: SSAValue, user: LinearOp) -> SSAValue:
        """A linear bias in the output's Q15.16 format (contract.quantize_bias)."""

        def build(wop: WeightOp) -> SSAValue:
            b = ct.quantize_bias(self.read(wop))
            qt = residual_type(b.shape)
            return self.emit(wop, "bias", qt, {"values": (b.astype(np.int32), 32)})

        return self.get(
            value, user, "bias", build, lambda wop: residual_type(wop.result.type.get_shape())
        )

    def norm_gain(self, value: SSAValue, user: RMSNormOp) -> SSAValue:
        def build(wop: WeightOp) -> SSAValue:
            gain, shift, _ = ct.rmsnorm_params(self.read(wop), user.epsilon.value.data)
            return self.emit(
                wop, "gain", gain_type(gain.shape, shift), {"values": (gain.astype(np.int16), 16)}
            )

        def shape_type(wop: WeightOp) -> QTensorType:
            # The gain shift depends on max |gamma|: without data, the shift of unit gains
            # (a model at initialisation). It is the design's one weight-dependent field
            # (the norm descriptors' gain_shift): `accllm pack-weights` writes the
            # checkpoint's shifts into the descriptor ROM (docs/hardware.md, hbm_layout.json).
            (h,) = wop.result.type.get_shape()
            _, shift, _ = ct.rmsnorm_params(np.ones(h), user.epsilon.value.data)
            return gain_type((h,), shift)

        return self.get(value, user, "gain", build, shape_type)


class _FunctionQuantizer:
    """Rewrites one function: walks its ops in order with the float -> quantized value map."""

    def __init__(self, fn: func.FuncOp, weights: _WeightQuantizer):
        self.fn = fn
        self.w = weights
        self.qv: dict[SSAValue, SSAValue] = {}
        self.converted: list[Operation] = []

    # --- activations ----------------------------------------------------------------------

    def _insert(self, op: Operation, before: Operation) -> SSAValue:
        op.location = before.location
        before.parent_block().insert_op_before(op, before)
        return op.results[0]

    def quantized(self, v: SSAValue, user: Operation, want: QTensorType) -> SSAValue:
        """`v` (a float value) as the quantized type `want`, converting where needed."""
        if v in self.qv:
            q = self.qv[v]
            if q.type == want:
                return q
            if isinstance(q.type, QTensorType):
                return self._insert(RequantizeOp(q, want), user)
            raise error_at(user, f"operand of type {q.type} cannot feed a quantized {want}")
        if is_float_tensor(v.type):  # a float from outside the converted ops: the boundary
            return self._insert(QuantizeOp(v, want), user)
        raise error_at(user, f"expected a float tensor operand, got {v.type}")

    def residual(self, v: SSAValue, user: Operation) -> SSAValue:
        return self.quantized(v, user, residual_type(self._shape(v)))

    def act8(self, v: SSAValue, user: Operation) -> SSAValue:
        return self.quantized(v, user, a8_type(self._shape(v)))

    @staticmethod
    def _shape(v: SSAValue) -> tuple[int, ...]:
        return tuple(v.type.get_shape())

    def replace(self, old: Operation, new: Operation) -> None:
        new.location = old.location
        old.parent_block().insert_op_before(new, old)
        for o, n in zip(old.results, new.results, strict=True):
            n.name_hint = o.name_hint
            self.qv[o] = n
        self.converted.append(old)

    # --- ops ------------------------------------------------------------------------------

    def run(self) -> None:
        if len(self.fn.body.blocks) != 1:
            raise error_at(self.fn, "accllm-quantize handles single-block functions only")
        for op in list(self.fn.body.blocks[0].ops):
            self.convert(op)
        for old in reversed(self.converted):
            old.detach()
            old.erase()
        for op in list(self.fn.body.blocks[0].ops):
            if isinstance(op, WeightOp) and is_float_tensor(op.result.type) and not op.result.uses:
                op.detach()
                op.erase()

    def convert(self, op: Operation) -> None:  # noqa: C901 - one dispatch over the op set
        res = lambda v: residual_type(self._shape(v))  # noqa: E731
        if isinstance(op, WeightOp):
            return  # converted when used: the role decides the format
        if isinstance(op, EmbeddingOp):
            table = self.w.embedding(op.table, op)
            self.replace(op, EmbeddingOp(op.ids, table, res(op.result)))
        elif isinstance(op, RMSNormOp):
            x = self.residual(op.input, op)
            g = self.w.norm_gain(op.gamma, op)
            self.replace(op, RMSNormOp(x, g, op.epsilon.value.data, res(op.result)))
        elif isinstance(op, LinearOp):
            x = self.act8(op.input, op)
            w = self.w.w2(op.weight, op)
            b = self.w.bias(op.bias, op) if op.bias is not None else None
            acc = signed_bits_for(linear_acc_bound(w.type))
            self.replace(op, LinearOp(x, w, res(op.result), bias=b, acc_bits=acc))
        elif isinstance(op, LMHeadOp):
            x = self.act8(op.input, op)
            w = self.w.int8_rows(op.weight, op)
            rt = QTensorType(
                self._shape(op.result),
                IntegerType(NUMERICS.res_bits, Signedness.SIGNED),
                NUMERICS.logit_frac,
            )
            acc = signed_bits_for(linear_acc_bound(w.type))
            self.replace(op, LMHeadOp(x, w, rt, acc_bits=acc))
        elif isinstance(op, RoPEOp):
            x = self.residual(op.input, op)
            self.replace(
                op,
                RoPEOp(
                    x,
                    op.positions,
                    op.head_dim.value.data,
                    op.theta.value.data,
                    op.max_positions.value.data,
                    res(op.result),
                    inv_freq=op.frequencies() if op.inv_freq is not None else None,
                ),
            )
        elif isinstance(op, PrefillOp):
            if op.causal is None:
                raise error_at(op, "quantized attention is causal; this prefill is not")
            q, k, v = (self.residual(x, op) for x in (op.query, op.keys, op.values))
            new = PrefillOp(
                q,
                k,
                v,
                op.num_heads.value.data,
                op.num_kv_heads.value.data,
                True,
                op.sink.value.data if op.sink is not None else None,
                op.window.value.data if op.window is not None else None,
                res(op.result),
            )
            self.replace(op, new)
        elif isinstance(op, AddOp | MulOp | SwiGLUOp):
            a, b = (self.residual(x, op) for x in op.operands)
            self.replace(op, type(op)(a, b, res(op.result)))
        elif isinstance(op, SiLUOp):
            self.replace(op, SiLUOp(self.residual(op.input, op), res(op.result)))
        elif isinstance(op, EmptyOp):
            c = op.result.type
            kv4 = KVCacheType(c.heads.data, c.head_dim.data, c.sink.data, c.window.data, KV4)
            self.replace(op, EmptyOp(kv4))
        elif isinstance(op, AppendOp):
            cache = self._cache(op.cache, op)
            k, v = self.residual(op.keys, op), self.residual(op.values, op)
            self.replace(op, AppendOp(cache, k, v))
        elif isinstance(op, DecodeOp):
            q = self.residual(op.query, op)
            cache = self._cache(op.cache, op)
            self.replace(op, DecodeOp(q, cache, op.num_heads.value.data, res(op.result)))
        elif isinstance(op, QuantizeOp):
            if op.input in self.qv:  # an existing boundary reads a converted value: exact f64
                q = self.qv[op.input]
                f64 = TensorType(Float64Type(), q.type.get_shape())
                op.operands[0] = self._insert(DequantizeOp(q, f64), op)
        elif isinstance(op, func.ReturnOp):
            self._return(op)
        elif any(_is_float_value_type(v.type) for v in (*op.operands, *op.results)):
            raise error_at(
                op,
                f"accllm-quantize cannot quantize '{op.name}': it is not an smla/lattn op of "
                "the model level (convert it to one, or keep it outside the quantized function)",
            )

    def _cache(self, v: SSAValue, user: Operation) -> SSAValue:
        if v in self.qv:
            return self.qv[v]
        if isinstance(v.type, KVCacheType) and v.type.is_kv4():
            return v
        raise error_at(user, "a float KV cache from outside the function cannot be quantized")

    def _return(self, op: func.ReturnOp) -> None:
        for i, v in enumerate(op.operands):
            if v in self.qv:
                op.operands[i] = self.qv[v]
        ft = self.fn.function_type
        self.fn.function_type = FunctionType.from_lists(
            list(ft.inputs.data), [v.type for v in op.operands]
        )


@dataclass(frozen=True)
class QuantizeW2A8KV4(ModulePass):
    """Rewrite model-level float IR into the compressed level: W2 weights, A8 activations,
    KV4 cache (numerics contract); parameter weights are streamed into one new archive."""

    name = "accllm-quantize"

    weights: int = NUMERICS.w_bits
    activations: int = NUMERICS.act_bits
    kv: int = NUMERICS.kv_bits
    group: int = NUMERICS.default_group
    # Output safetensors file for parameter-backed weights, relative to the IR directory;
    # default: `<first source file stem>.w2a8kv4.safetensors` beside it.
    archive: str = ""
    # W2 quantizer: `rtn` (round to nearest, contract.quantize_w2_groups) or `gptq`
    # (numerics/gptq.py: column-by-column error compensation with the Hessian of the
    # calibration inputs, same storage). Calibration options as accllm-prune-2-4's.
    method: str = "rtn"
    calibration_seqs: int = 4
    calibration_seed: int = 0
    calibration_text: str = ""
    # Types only, no weight data (a config-only compile): see _WeightQuantizer.shapes_only.
    shapes_only: bool = False

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        check_options(self.name, self.weights, self.activations, self.kv, self.group)
        if self.shapes_only and self.method != "rtn":
            raise PassFailedException(
                f"accllm-quantize: shapes_only quantizes with rtn only (method '{self.method}' "
                "needs the weights and calibration data)"
            )
        if self.method not in ("rtn", "gptq"):
            raise PassFailedException(
                f"accllm-quantize: unknown method '{self.method}' (one of rtn, gptq)"
            )
        weights = _WeightQuantizer(op, self.archive, self.group, self.shapes_only)
        if self.method == "gptq":
            weights.hessians = self._hessians(op)
        ok = False
        try:
            for fn in [f for f in op.walk() if isinstance(f, func.FuncOp)]:
                if fn.body.blocks:
                    _FunctionQuantizer(fn, weights).run()
            ok = True
        finally:
            weights.finish(ok)

    def _hessians(self, op: ModuleOp) -> dict[Operation, np.ndarray]:
        """Calibration Hessian per float linear weight op (summed over a shared weight's users)."""
        linears = [
            lin
            for lin in op.walk()
            if isinstance(lin, LinearOp)
            and isinstance(lin.weight.owner, WeightOp)
            and is_float_tensor(lin.weight.type)
        ]
        hs = linear_input_hessians(
            op,
            linears,
            self.calibration_seqs,
            self.calibration_seed,
            self.calibration_text,
            "gptq",
        )
        out: dict[Operation, np.ndarray] = {}
        for lin, h in zip(linears, hs, strict=True):
            out[lin.weight.owner] = out[lin.weight.owner] + h if lin.weight.owner in out else h
        return out
