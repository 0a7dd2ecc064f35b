"""convert-torch-to-accllm: torch-mlir's torch dialect (a Llama-family decoder) -> smla/lattn.

The input is what `torch_mlir.fx` exports with attention, linear and SiLU kept whole
(DESIGN.md §6); the output has one `smla.linear` per projection (`smla.lm_head` for the logits),
one `lattn.prefill` per attention layer, and `smla.rmsnorm`, `smla.rope`, `smla.swiglu`,
`smla.embedding`, `smla.add`/`smla.mul` for the rest.

The conversion is an abstract interpretation of the function in program order.  Each torch value
gets an abstract value: a scalar or list, a constant tensor (numpy), a weight, a tensor of the
new IR, or a partial match of a composite that has no single aten op:
- RMSNorm (pow 2, sum or mean over the last axis, add eps, rsqrt, mul, mul by the gain),
- RoPE on a [B, H, T, D] view (mul by cos, slice/neg/cat = rotate_half, mul by sin, add),
- per-head views (view to [B, T, H, D], permute) and GQA's repeat_kv (unsqueeze, expand, view),
- SiLU(gate) * up.
Attention and linear layers are never re-assembled: they arrive whole.  Constant subgraphs (the
causal mask, the RoPE cos/sin tables) are evaluated and their values checked.  Every op must be
understood: an unknown op, or a known op in a form accllm cannot express, is an error naming the
aten op at its location; nothing is skipped.

Weights: a `torch.vtensor.literal` becomes `smla.weight dense<...>`; a function argument with
`{accllm.param = #smla.param<...>}` becomes `smla.weight #smla.param<...>` and leaves the
signature.  The remaining arguments (token ids) and the results get builtin tensor types.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from xdsl.context import Context
from xdsl.dialects import arith, func
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseIntOrFPElementsAttr,
    DictionaryAttr,
    Float32Type,
    FunctionType,
    IntegerType,
    ModuleOp,
    Signedness,
    TensorType,
    UnregisteredOp,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.passes import ModulePass

from accllm.dialects import lattn, smla
from accllm.dialects.quant_types import ParamAttr
from accllm.dialects.torch import ValueTensorType
from accllm.ir.diagnostics import error_at
from accllm.numerics import contract as ct
from accllm.passes.torch_fold import FOLDERS

PARAM_ATTR = "accllm.param"  # argument attribute naming an external weight (#smla.param)
_ANY_SCALAR = (int, float, bool, type(None))

# Tolerances of the checks on evaluated constants (float32 tables).
_TABLE_ATOL = 1e-5
_SCALE_RTOL = 1e-6


# --------------------------------------------------------------------------------------------
# Abstract values
# --------------------------------------------------------------------------------------------


@dataclass
class Scalar:
    value: object  # int, float, bool, str or None


@dataclass
class ListV:
    items: list


@dataclass
class Const:
    """A constant tensor: a literal (weight or not) or the value of a constant subgraph."""

    array_: np.ndarray | None = None
    attr: DenseIntOrFPElementsAttr | None = None  # set for literals: reused as weight data
    # For RoPE cos/sin tables: the angle tensor they were evaluated from (same layout), so that
    # the model's own inverse frequencies are read exactly instead of fitted to the tables.
    angles: np.ndarray | None = None

    @property
    def array(self) -> np.ndarray:
        if self.array_ is None:
            assert self.attr is not None
            self.array_ = _dense_to_numpy(self.attr)
        return self.array_


@dataclass
class Param:
    """A weight stored outside the IR."""

    attr: ParamAttr
    type: TensorType


@dataclass
class Tensor:
    """A value of the new IR, token-major: [..., T, features]."""

    value: SSAValue


@dataclass
class Heads:
    """A per-head view of the token-major tensor `value` [B, T, H*D]: [B, T, H, D], or
    [B, H, T, D] when `transposed`."""

    value: SSAValue
    heads: int
    head_dim: int
    transposed: bool


@dataclass
class Repeat:
    """GQA repeat_kv of a transposed Heads view: `stage` 1 = unsqueezed [B, KVH, 1, T, D],
    2 = expanded [B, KVH, R, T, D], 3 = merged [B, KVH*R, T, D]."""

    source: Heads
    stage: int
    rep: int = 1


@dataclass
class Partial:
    """A partial match of a composite (RMSNorm or RoPE), named by `kind`."""

    kind: str
    source: object  # the token-major SSA value (RMSNorm) or the Heads view (RoPE)
    data: dict = field(default_factory=dict)


@dataclass
class Silu:
    """silu(x), pending: SwiGLU if multiplied by an up projection, else smla.silu."""

    value: SSAValue
    op: Operation


def _describe(v) -> str:
    names = {
        Scalar: "a scalar",
        ListV: "a list",
        Const: "a constant tensor",
        Param: "a weight",
        Tensor: "a tensor",
        Heads: "a per-head view",
        Repeat: "a GQA-repeated view",
        Silu: "a SiLU result",
    }
    if isinstance(v, Partial):
        return f"a partial {v.kind} match"
    return names.get(type(v), type(v).__name__)


def _dense_to_numpy(attr: DenseIntOrFPElementsAttr) -> np.ndarray:
    shape = tuple(attr.get_shape())
    et = attr.get_element_type()
    if isinstance(et, Float32Type):
        return np.frombuffer(attr.data.data, dtype=np.float32).reshape(shape)
    values = attr.get_values()
    if isinstance(et, IntegerType) and et.width.data == 1:
        arr = np.array(values, dtype=np.bool_)
    else:
        arr = np.array(values)
    if arr.size == 1 and math.prod(shape) != 1:
        return np.broadcast_to(arr.reshape(()), shape)
    return arr.reshape(shape)


def builtin_type(t: Attribute) -> TensorType | None:
    """torch vtensor -> builtin tensor (signed ints become signless, as smla expects)."""
    if not isinstance(t, ValueTensorType):
        return None
    bt = t.to_builtin()
    if bt is None:
        return None
    et = bt.element_type
    if isinstance(et, IntegerType) and et.signedness.data != Signedness.SIGNLESS:
        return TensorType(IntegerType(et.width.data), bt.get_shape())
    return bt


# --------------------------------------------------------------------------------------------
# The converter
# --------------------------------------------------------------------------------------------


def op_name(op: Operation) -> str:
    if isinstance(op, UnregisteredOp):
        return op.op_name.data
    return op.name


class FunctionConverter:
    """Converts one func.func in place (see the module docstring)."""

    def __init__(self, fn: func.FuncOp, max_positions: int):
        self.fn = fn
        self.block: Block = fn.body.blocks[0]
        self.max_positions = max_positions
        self.values: dict[SSAValue, object] = {}
        self.weights: dict[int, SSAValue] = {}  # id(abstract weight) -> smla.weight result
        self.positions: dict[int, SSAValue] = {}  # T -> positions constant
        self.op: Operation | None = None  # the torch op being converted

    # -- helpers ------------------------------------------------------------------------------

    def fail(self, message: str):
        assert self.op is not None
        return error_at(self.op, message)

    def emit(self, new: Operation) -> Operation:
        self.block.insert_op_before(new, self.op)
        return new

    def result_type(self) -> TensorType:
        t = builtin_type(self.op.results[0].type)
        if t is None:
            raise self.fail("needs a statically shaped tensor result")
        return t

    def shape(self, v: SSAValue) -> tuple[int, ...]:
        return tuple(v.type.get_shape())

    def tensor(self, v, what: str) -> SSAValue:
        """The new-IR value of a token-major operand (materialising a pending SiLU)."""
        if isinstance(v, Tensor):
            return v.value
        if isinstance(v, Silu):
            return self.emit(smla.SiLUOp(v.value)).result
        raise self.fail(
            f"{what} is {_describe(v)}, expected a tensor; accllm cannot express this use"
        )

    def weight(self, v, what: str) -> SSAValue:
        """An `smla.weight` for a literal or a named parameter (one per weight)."""
        if isinstance(v, Param):
            key = id(v)
            if key not in self.weights:
                self.weights[key] = self.emit_at_start(smla.WeightOp(v.attr, v.type)).result
            return self.weights[key]
        if isinstance(v, Const) and v.attr is not None:
            key = id(v)
            if key not in self.weights:
                self.weights[key] = self.emit_at_start(smla.WeightOp(v.attr, v.attr.type)).result
            return self.weights[key]
        raise self.fail(f"{what} must be a weight, got {_describe(v)}")

    def emit_at_start(self, new: Operation) -> Operation:
        """Insert before every original op (weights and constants first, in creation order)."""
        self.block.insert_op_before(new, self.anchor)
        return new

    def scalar(self, v, what: str, kinds=_ANY_SCALAR):
        if isinstance(v, Scalar) and isinstance(v.value, kinds):
            return v.value
        raise self.fail(f"{what} must be a constant scalar")

    def ints(self, v, what: str) -> list[int]:
        if isinstance(v, ListV) and all(
            isinstance(i, Scalar) and isinstance(i.value, int) for i in v.items
        ):
            return [i.value for i in v.items]
        raise self.fail(f"{what} must be a constant list of ints")

    def positions_for(self, tokens: int) -> SSAValue:
        if tokens not in self.positions:
            t = TensorType(i64, [tokens])
            data = DenseIntOrFPElementsAttr.from_list(t, list(range(tokens)))
            self.positions[tokens] = self.emit_at_start(arith.ConstantOp(data, t)).result
        return self.positions[tokens]

    # -- driver -------------------------------------------------------------------------------

    def run(self) -> None:
        self.anchor = self.block.first_op
        self.bind_arguments()
        for op in list(self.block.ops):
            if isinstance(op, func.ReturnOp):
                self.op = op
                self.convert_return(op)
                continue
            if op.dialect_name() not in ("torch",) and not isinstance(op, UnregisteredOp):
                continue  # already accllm (or a constant this pass emitted)
            self.op = op
            self.values[op.results[0]] = self.convert(op, [self.values[o] for o in op.operands])
        self.erase_torch_ops()
        self.update_signature()

    def bind_arguments(self) -> None:
        attrs = self.fn.arg_attrs.data if self.fn.arg_attrs is not None else ()
        self.new_args: list[SSAValue] = []
        for i, arg in enumerate(list(self.block.args)):
            arg_dict = attrs[i].data if i < len(attrs) else {}
            bt = builtin_type(arg.type)
            if PARAM_ATTR in arg_dict:
                param = arg_dict[PARAM_ATTR]
                if not isinstance(param, ParamAttr) or bt is None:
                    self.op = self.fn
                    raise self.fail(f"argument {i}: '{PARAM_ATTR}' needs #smla.param and a shape")
                self.values[arg] = Param(param, bt)
            elif isinstance(arg.type, ValueTensorType):
                if bt is None:
                    self.op = self.fn
                    raise self.fail(f"argument {i} needs a statically shaped tensor type")
                new = self.block.insert_arg(bt, len(self.block.args))
                self.new_args.append(new)
                self.values[arg] = Tensor(new)
            else:
                self.op = self.fn
                raise self.fail(f"argument {i} of type {arg.type} is not supported")

    def convert_return(self, op: func.ReturnOp) -> None:
        new = [self.tensor(self.values[o], f"result {i}") for i, o in enumerate(op.operands)]
        op.operands = new

    def erase_torch_ops(self) -> None:
        for op in reversed(list(self.block.ops)):
            if op.dialect_name() == "torch" or isinstance(op, UnregisteredOp):
                self.block.erase_op(op)
        for arg in list(self.block.args):
            if arg not in self.new_args:
                self.block.erase_arg(arg)

    def update_signature(self) -> None:
        outputs = [o.type for o in self.block.last_op.operands]
        self.fn.function_type = FunctionType.from_lists([a.type for a in self.new_args], outputs)
        self.fn.arg_attrs = ArrayAttr([DictionaryAttr({}) for _ in self.new_args])

    # -- dispatch -----------------------------------------------------------------------------

    def convert(self, op: Operation, args: list):
        name = op_name(op)
        if name in ("torch.constant.int", "torch.constant.float"):
            return Scalar(op.value.value.data)
        if name == "torch.constant.bool":
            return Scalar(bool(op.value.value.data))
        if name == "torch.constant.none":
            return Scalar(None)
        if name in ("torch.constant.device", "torch.constant.str"):
            return Scalar(op.value.data)
        if name == "torch.vtensor.literal":
            return Const(attr=op.value)
        if name == "torch.prim.ListConstruct":
            return ListV(args)
        listed = [x for a in args if isinstance(a, ListV) for x in a.items]
        tensors = [a for a in args + listed if not isinstance(a, Scalar | ListV)]
        if (
            name in FOLDERS
            and all(isinstance(a, Const) for a in tensors)
            and (tensors or name in _CREATION_OPS)
        ):
            return self.fold(name, args)
        handler = _HANDLERS.get(name)
        if handler is None:
            aten = name.removeprefix("torch.")
            raise self.fail(
                f"unsupported aten op '{aten}': accllm-opt cannot convert it to smla/lattn"
            )
        return handler(self, args)

    def fold(self, name: str, args: list) -> Const:
        def py(a):
            if isinstance(a, Scalar):
                return a.value
            if isinstance(a, ListV):
                return [py(x) for x in a.items]
            return a.array

        try:
            result = Const(array_=np.asarray(FOLDERS[name](*[py(a) for a in args])))
            result.angles = self.fold_angles(name, args, py)
            return result
        except (ValueError, IndexError, TypeError) as err:
            raise self.fail(f"'{name}' on constants could not be evaluated: {err}") from err

    def fold_angles(self, name: str, args: list, py) -> np.ndarray | None:
        """The angles behind a folded cos/sin table: the argument of aten.cos/sin, carried
        through layout ops (and through a scalar multiply, whose effect on the values the
        RoPE match checks)."""
        if name in ("torch.aten.cos", "torch.aten.sin"):
            return np.asarray(args[0].array)
        carriers = [a for a in args if isinstance(a, Const) and a.angles is not None]
        if len(carriers) != 1:
            return None
        if name == "torch.aten.mul.Scalar":
            return carriers[0].angles
        if name not in _ANGLE_LAYOUT_OPS:
            return None
        swapped = [Const(array_=a.angles) if a is carriers[0] else a for a in args]
        return np.asarray(FOLDERS[name](*[py(a) for a in swapped]))


# Folds that only move table entries: a cos/sin table's angles follow them.
_ANGLE_LAYOUT_OPS = {
    f"torch.aten.{n}"
    for n in (
        "unsqueeze",
        "view",
        "reshape",
        "expand",
        "broadcast_to",
        "to.dtype",
        "clone",
        "slice.Tensor",
        "permute",
    )
}

_CREATION_OPS = {
    "torch.aten.arange.start_step",
    "torch.aten.empty.memory_format",
    "torch.aten.full",
}


# --------------------------------------------------------------------------------------------
# Handlers: (converter, abstract operands) -> abstract result
# --------------------------------------------------------------------------------------------


def _identity(c: FunctionConverter, args):
    return args[0]


def _embedding(c: FunctionConverter, args):
    table = c.weight(args[0], "the embedding table")
    ids = c.tensor(args[1], "the token ids")  # padding_idx only affects gradients
    return Tensor(c.emit(smla.EmbeddingOp(ids, table, c.result_type())).result)


def _linear(c: FunctionConverter, args):
    x = c.tensor(args[0], "the input")
    w = c.weight(args[1], "the weight")
    bias = None if isinstance(args[2], Scalar) and args[2].value is None else args[2]
    rt = c.result_type()
    result = c.op.results[0]
    feeds_return = bool(result.uses) and all(
        isinstance(u.operation, func.ReturnOp) for u in result.uses
    )
    if feeds_return and bias is None:
        return Tensor(c.emit(smla.LMHeadOp(x, w, rt)).result)
    b = None if bias is None else c.weight(bias, "the bias")
    return Tensor(c.emit(smla.LinearOp(x, w, rt, bias=b)).result)


def _silu(c: FunctionConverter, args):
    return Silu(c.tensor(args[0], "the input"), c.op)


def _pow(c: FunctionConverter, args):
    if c.scalar(args[1], "the exponent") != 2:
        raise c.fail("'aten.pow.Tensor_Scalar' is supported only as x^2 inside RMSNorm")
    return Partial("rmsnorm.square", c.tensor(args[0], "the input"))


def _reduce_last(c: FunctionConverter, args, mean: bool):
    p = args[0]
    if not (isinstance(p, Partial) and p.kind == "rmsnorm.square"):
        raise c.fail(f"'{op_name(c.op)}' is supported only as the sum/mean of squares of RMSNorm")
    dims = c.ints(args[1], "the reduced dims")
    rank = len(c.shape(p.source))
    if dims not in ([-1], [rank - 1]) or c.scalar(args[2], "keepdim") is not True:
        raise c.fail(f"'{op_name(c.op)}': RMSNorm reduces the last axis with keepdim")
    return Partial("rmsnorm.mean" if mean else "rmsnorm.sum", p.source)


def _div_scalar(c: FunctionConverter, args):
    p = args[0]
    if isinstance(p, Partial) and p.kind == "rmsnorm.sum":
        if c.scalar(args[1], "the divisor", (int, float)) != c.shape(p.source)[-1]:
            raise c.fail("'aten.div.Scalar': RMSNorm divides the sum of squares by the size")
        return Partial("rmsnorm.mean", p.source)
    raise c.fail(f"'aten.div.Scalar' of {_describe(p)} is not supported")


def _add_scalar(c: FunctionConverter, args):
    p = args[0]
    if isinstance(p, Partial) and p.kind == "rmsnorm.mean":
        eps = c.scalar(args[1], "epsilon", (int, float))
        if c.scalar(args[2], "alpha") != 1:
            raise c.fail("'aten.add.Scalar' with alpha != 1 is not supported")
        return Partial("rmsnorm.mean_eps", p.source, {"eps": float(eps)})
    raise c.fail(f"'aten.add.Scalar' of {_describe(p)} is not supported")


def _rsqrt(c: FunctionConverter, args):
    p = args[0]
    if isinstance(p, Partial) and p.kind == "rmsnorm.mean_eps":
        return Partial("rmsnorm.inv_rms", p.source, p.data)
    raise c.fail(f"'aten.rsqrt' of {_describe(p)} is not supported (only inside RMSNorm)")


def _mul_tensor(c: FunctionConverter, args):
    a, b = args
    for x, y in ((a, b), (b, a)):
        if isinstance(y, Partial) and y.kind == "rmsnorm.inv_rms":
            if isinstance(x, Tensor) and x.value is y.source:
                return Partial("rmsnorm.normed", y.source, y.data)
            raise c.fail("'aten.mul.Tensor': RMSNorm multiplies its own input by rsqrt(...)")
        if isinstance(y, Partial) and y.kind == "rmsnorm.normed":
            gamma = c.weight(x, "the RMSNorm gain")
            rt = c.result_type()
            return Tensor(c.emit(smla.RMSNormOp(y.source, gamma, y.data["eps"], rt)).result)
        if isinstance(x, Heads) and x.transposed and isinstance(y, Const):
            return Partial("rope.cos", x, {"table": y.array, "angles": y.angles})
        if isinstance(x, Partial) and x.kind == "rope.rot" and isinstance(y, Const):
            return Partial("rope.sin", x.source, {"table": y.array, "angles": y.angles})
        if isinstance(x, Silu) and isinstance(y, Tensor | Silu):
            up = c.tensor(y, "the up projection")
            return Tensor(c.emit(smla.SwiGLUOp(x.value, up, c.result_type())).result)
    lhs, rhs = c.tensor(a, "the left operand"), c.tensor(b, "the right operand")
    if c.shape(lhs) != c.shape(rhs):
        raise c.fail("'aten.mul.Tensor' with broadcasting is not supported")
    return Tensor(c.emit(smla.MulOp(lhs, rhs, c.result_type())).result)


def _add_tensor(c: FunctionConverter, args):
    a, b, alpha = args
    if c.scalar(alpha, "alpha") != 1:
        raise c.fail("'aten.add.Tensor' with alpha != 1 is not supported")
    if isinstance(a, Partial) and isinstance(b, Partial):
        kinds = {a.kind: a, b.kind: b}
        if set(kinds) == {"rope.cos", "rope.sin"} and a.source is b.source:
            return _rope(c, a.source, kinds["rope.cos"].data, kinds["rope.sin"].data)
    lhs, rhs = c.tensor(a, "the left operand"), c.tensor(b, "the right operand")
    if c.shape(lhs) != c.shape(rhs):
        raise c.fail("'aten.add.Tensor' with broadcasting is not supported")
    return Tensor(c.emit(smla.AddOp(lhs, rhs, c.result_type())).result)


def _rope_table(c: FunctionConverter, table: np.ndarray, tokens: int, head_dim: int) -> np.ndarray:
    """The [T, D] table of a cos/sin constant broadcast over batch and heads."""
    t = np.asarray(table, dtype=np.float64)
    if t.ndim < 2 or t.shape[-2:] != (tokens, head_dim) or any(d != 1 for d in t.shape[:-2]):
        raise c.fail(f"RoPE table of shape {t.shape} is not [.., {tokens}, {head_dim}]")
    return t.reshape(tokens, head_dim)


def _rope(c: FunctionConverter, heads: Heads, cos_p: dict, sin_p: dict):
    x = heads.value
    tokens, d = c.shape(x)[-2], heads.head_dim
    cos_t = _rope_table(c, cos_p["table"], tokens, d)
    sin_t = _rope_table(c, sin_p["table"], tokens, d)
    if tokens < 2:
        raise c.fail("RoPE: at least 2 tokens are needed to identify theta from the tables")
    inv_freq = None
    if cos_p.get("angles") is not None and sin_p.get("angles") is not None:
        theta, inv_freq = _model_frequencies(c, cos_p["angles"], sin_p["angles"], cos_t, sin_t)
    else:  # literal tables (no angles to read): only the default RoPE can be recognised
        theta = _identify_theta(cos_t, sin_t, d)
        if theta is None:
            raise c.fail(
                "RoPE tables are not the default rotary embedding cos/sin(p * theta^(-2i/d)) "
                "at positions 0..T-1, and they carry no angles to read the model's "
                "frequencies from"
            )
    max_pos = c.max_positions or tokens
    pos = c.positions_for(tokens)
    y = c.emit(smla.RoPEOp(x, pos, d, theta, max_pos, inv_freq=inv_freq)).result
    return Heads(y, heads.heads, d, True)


def _model_frequencies(c: FunctionConverter, cos_a, sin_a, cos_t, sin_t):
    """(theta, inv_freq or None) from the angles the tables were evaluated from.

    The angle at position 1 is 1 * w_i, i.e. the model's float32 inverse frequencies exactly
    (HF's rope init functions computed them: default, llama3, linear, dynamic). The angles must
    be p * w_i (float32) in both halves, and the tables cos/sin of them (no attention factor,
    which YaRN-style RoPE applies). A default RoPE is carried as theta only
    (contract.rope_default_theta), any other as theta (read off w_1) plus inv_freq."""
    tokens, d = cos_t.shape
    half = d // 2
    ang = _rope_table(c, cos_a, tokens, d).astype(np.float32)
    if not np.array_equal(ang, _rope_table(c, sin_a, tokens, d).astype(np.float32)):
        raise c.fail("RoPE: the cos and sin tables come from different angles")
    w = ang[1, :half]
    want = np.arange(tokens, dtype=np.float32)[:, None] * w[None, :]
    if not (np.array_equal(ang[:, :half], want) and np.array_equal(ang[:, half:], want)):
        raise c.fail("RoPE angles are not p * w_i at positions 0..T-1 in both halves")
    a64 = ang.astype(np.float64)
    if not (
        np.allclose(cos_t, np.cos(a64), atol=_TABLE_ATOL, rtol=0)
        and np.allclose(sin_t, np.sin(a64), atol=_TABLE_ATOL, rtol=0)
    ):
        raise c.fail(
            "RoPE tables are scaled (an attention factor, as YaRN/longrope apply): not supported"
        )
    theta = ct.rope_default_theta(w, d)
    if theta is not None:
        return theta, None
    if not np.all(w > 0):
        raise c.fail("RoPE inverse frequencies must be positive")
    return float(w[1]) ** (-d / 2.0), w.astype(np.float64)


def _identify_theta(cos_t: np.ndarray, sin_t: np.ndarray, d: int) -> float | None:
    """theta such that the tables are cos/sin(p * theta^(-2i/d)), or None.

    The lowest frequency at position 1 gives the most precise estimate; rotary bases are
    integers in practice, so the nearest integer is preferred when it fits as well."""
    half = d // 2
    if half < 2:
        return None
    w_last = math.atan2(sin_t[1, half - 1], cos_t[1, half - 1])
    if not w_last > 0:
        return None
    estimate = math.exp(-math.log(w_last) * d / (2 * (half - 1)))
    for theta in (float(round(estimate)), estimate):
        if theta > 0 and _tables_match(cos_t, sin_t, d, theta):
            return theta
    return None


def _tables_match(cos_t: np.ndarray, sin_t: np.ndarray, d: int, theta: float) -> bool:
    # float32 as HF computes inv_freq, so that rounding of large positions agrees.
    inv = (1.0 / (np.float32(theta) ** (np.arange(0, d, 2, dtype=np.float32) / d))).astype(
        np.float32
    )
    ang = np.arange(cos_t.shape[0], dtype=np.float32)[:, None] * inv[None, :]
    ang = np.concatenate([ang, ang], axis=-1).astype(np.float64)
    return bool(
        np.allclose(cos_t, np.cos(ang), atol=_TABLE_ATOL, rtol=0)
        and np.allclose(sin_t, np.sin(ang), atol=_TABLE_ATOL, rtol=0)
    )


def _view(c: FunctionConverter, args):
    src, sizes = args[0], c.ints(args[1], "the sizes")
    out = tuple(c.op.results[0].type.static_sizes() or ())
    in_type = c.op.operands[0].type
    if isinstance(in_type, ValueTensorType) and in_type.static_sizes() == out:
        return src  # a view to the same shape
    if isinstance(src, Tensor) and len(out) == len(c.shape(src.value)) + 1:
        tokens_shape = c.shape(src.value)
        if out[:-2] == tokens_shape[:-1] and out[-2] * out[-1] == tokens_shape[-1]:
            return Heads(src.value, out[-2], out[-1], False)
    if isinstance(src, Heads) and not src.transposed:
        if out == c.shape(src.value):
            return Tensor(src.value)
    if isinstance(src, Repeat) and src.stage == 2:
        b, kvh, rep, t, d = c.op.operands[0].type.static_sizes()
        if out == (b, kvh * rep, t, d):
            return Repeat(src.source, 3, src.rep)
    raise c.fail(
        f"'{op_name(c.op)}' of {_describe(src)} to {list(sizes)}: only per-head splits and "
        "merges of the hidden dimension are supported"
    )


def _permute(c: FunctionConverter, args):
    src, perm = args[0], c.ints(args[1], "the permutation")
    if isinstance(src, Heads) and perm == [0, 2, 1, 3]:
        return Heads(src.value, src.heads, src.head_dim, not src.transposed)
    raise c.fail(f"'aten.permute' {perm} of {_describe(src)} is not supported")


def _slice(c: FunctionConverter, args):
    src = args[0]
    dim, start, end, step = (c.scalar(a, "slice bound", (int,)) for a in args[1:5])
    if isinstance(src, Heads) and src.transposed and dim in (3, -1) and step == 1:
        half = src.head_dim // 2
        if start == 0 and end == half:
            return Partial("rope.lo", src)
        if start == half and end >= src.head_dim:
            return Partial("rope.hi", src)
    raise c.fail(f"'aten.slice.Tensor' of {_describe(src)} is supported only in RoPE's rotate_half")


def _neg(c: FunctionConverter, args):
    p = args[0]
    if isinstance(p, Partial) and p.kind == "rope.hi":
        return Partial("rope.neg_hi", p.source)
    raise c.fail(f"'aten.neg' of {_describe(p)} is supported only in RoPE's rotate_half")


def _cat(c: FunctionConverter, args):
    items, dim = args[0], c.scalar(args[1], "the dim", (int,))
    parts = items.items if isinstance(items, ListV) else []
    if (
        len(parts) == 2
        and dim in (3, -1)
        and isinstance(parts[0], Partial)
        and isinstance(parts[1], Partial)
        and (parts[0].kind, parts[1].kind) == ("rope.neg_hi", "rope.lo")
        and parts[0].source is parts[1].source
    ):
        return Partial("rope.rot", parts[0].source)
    raise c.fail("'aten.cat' is supported only as RoPE's rotate_half")


def _unsqueeze(c: FunctionConverter, args):
    src, dim = args[0], c.scalar(args[1], "the dim", (int,))
    if isinstance(src, Heads) and src.transposed and dim == 2:
        return Repeat(src, 1)
    raise c.fail(f"'aten.unsqueeze' of {_describe(src)} is supported only in GQA's repeat_kv")


def _expand(c: FunctionConverter, args):
    src, sizes = args[0], c.ints(args[1], "the sizes")
    if isinstance(src, Repeat) and src.stage == 1 and len(sizes) == 5:
        return Repeat(src.source, 2, sizes[2])
    raise c.fail(f"'{op_name(c.op)}' of {_describe(src)} is supported only in GQA's repeat_kv")


def _kv(c: FunctionConverter, v, what: str) -> tuple[Heads, int]:
    if isinstance(v, Heads) and v.transposed:
        return v, 1
    if isinstance(v, Repeat) and v.stage == 3:
        return v.source, v.rep
    raise c.fail(f"'aten.scaled_dot_product_attention': {what} is {_describe(v)}, not a head view")


def _sdpa(c: FunctionConverter, args):
    q, k, v, mask, dropout, is_causal, scale = args[:7]
    enable_gqa = c.scalar(args[7], "enable_gqa") if len(args) > 7 else False
    if not (isinstance(q, Heads) and q.transposed):
        raise c.fail(f"'aten.scaled_dot_product_attention': the query is {_describe(q)}")
    kh, krep = _kv(c, k, "the keys")
    vh, vrep = _kv(c, v, "the values")
    if kh.heads != vh.heads or krep != vrep:
        raise c.fail("'aten.scaled_dot_product_attention': keys and values differ in heads")
    if kh.heads * krep != q.heads and not enable_gqa:
        raise c.fail("'aten.scaled_dot_product_attention': query and key head counts differ")
    if c.scalar(dropout, "dropout_p", (int, float)) != 0:
        raise c.fail("'aten.scaled_dot_product_attention' with dropout is not supported")
    d = q.head_dim
    s = c.scalar(scale, "scale", (int, float, type(None)))
    if s is not None and not math.isclose(s, 1 / math.sqrt(d), rel_tol=_SCALE_RTOL):
        raise c.fail(f"attention scale {s} is not 1/sqrt(head_dim={d}) (lattn's scale)")
    tokens = c.shape(q.value)[-2]
    causal, window = _mask_kind(c, mask, bool(c.scalar(is_causal, "is_causal")), tokens)
    op = lattn.PrefillOp(
        q.value,
        kh.value,
        vh.value,
        q.heads,
        kh.heads,
        causal=causal,
        sink=None if window is None else 0,
        window=window,
        result_type=q.value.type,
    )
    return Heads(c.emit(op).result, q.heads, d, True)


def _mask_kind(c: FunctionConverter, mask, is_causal: bool, tokens: int):
    """(causal, window): (True, None) for a causal mask, (False, None) for none, (True, W) for
    a sliding-window causal mask (key j visible from i iff i - W < j <= i: Λ with 0 sinks, as
    Mistral's sliding_window); anything else is an error."""
    if isinstance(mask, Scalar) and mask.value is None:
        return is_causal
    if not isinstance(mask, Const):
        raise c.fail(f"the attention mask is {_describe(mask)}; only a constant mask is supported")
    m = mask.array
    allowed = m if m.dtype == np.bool_ else np.isfinite(m) & (m > np.finfo(np.float32).min / 2)
    if m.dtype != np.bool_ and np.any(m[allowed] != 0):
        raise c.fail("an additive attention mask with non-zero biases is not supported")
    allowed = np.broadcast_to(allowed, (*allowed.shape[:-2], tokens, tokens))
    if allowed.ndim > 2 and not all((allowed == allowed.reshape(-1, tokens, tokens)[0]).flat):
        raise c.fail("a per-batch or per-head attention mask is not supported")
    allowed = allowed.reshape(-1, tokens, tokens)[0]
    tril = np.tril(np.ones((tokens, tokens), dtype=bool))
    if is_causal:
        allowed = allowed & tril
    if np.array_equal(allowed, tril):
        return True, None
    if allowed.all():
        return False, None
    band = int(allowed[-1].sum())  # the last query sees exactly W keys
    i, j = np.indices((tokens, tokens))
    if 0 < band < tokens and np.array_equal(allowed, (j <= i) & (j > i - band)):
        return True, band
    raise c.fail(
        "the attention mask is neither causal, all-visible nor a causal sliding window "
        "(not supported)"
    )


def _to_dtype(c: FunctionConverter, args):
    src = args[0]
    in_t, out_t = c.op.operands[0].type, c.op.results[0].type
    if isinstance(in_t, ValueTensorType) and in_t == out_t:
        return src
    raise c.fail(f"'aten.to.dtype' from {in_t} to {out_t} is not supported (import in float32)")


_HANDLERS = {
    "torch.aten.embedding": _embedding,
    "torch.aten.linear": _linear,
    "torch.aten.silu": _silu,
    "torch.aten.pow.Tensor_Scalar": _pow,
    "torch.aten.sum.dim_IntList": lambda c, a: _reduce_last(c, a, mean=False),
    "torch.aten.mean.dim": lambda c, a: _reduce_last(c, a, mean=True),
    "torch.aten.div.Scalar": _div_scalar,
    "torch.aten.add.Scalar": _add_scalar,
    "torch.aten.rsqrt": _rsqrt,
    "torch.aten.mul.Tensor": _mul_tensor,
    "torch.aten.add.Tensor": _add_tensor,
    "torch.aten.view": _view,
    "torch.aten.reshape": _view,
    "torch.aten.permute": _permute,
    "torch.aten.slice.Tensor": _slice,
    "torch.aten.neg": _neg,
    "torch.aten.cat": _cat,
    "torch.aten.unsqueeze": _unsqueeze,
    "torch.aten.broadcast_to": _expand,
    "torch.aten.expand": _expand,
    "torch.aten.scaled_dot_product_attention": _sdpa,
    "torch.aten.to.dtype": _to_dtype,
    "torch.aten.clone": _identity,
    "torch.aten.contiguous": _identity,
    "torch.aten.detach": _identity,
}


@dataclass(frozen=True)
class ConvertTorchToAccllm(ModulePass):
    """torch dialect (torch-mlir export of a Llama-family decoder) -> smla/lattn."""

    name = "convert-torch-to-accllm"

    max_positions: int = 0
    """smla.rope's max_positions (the model's context length); 0: the sequence length."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for fn in [f for f in op.walk() if isinstance(f, func.FuncOp)]:
            if fn.body.blocks:
                FunctionConverter(fn, self.max_positions).run()
