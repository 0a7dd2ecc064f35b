"""`smla`: sparse mixed-precision linear algebra, the ops of a Llama decoder outside attention.

Every op has two forms told apart by its operand types:

* float form (model level): builtin `tensor<...xf32>` (any float element type, the same for
  all operands and the result), float semantics;
* quantized form (compressed level): `!smla.qtensor` / `!smla.qweight` operands, integer
  semantics defined exactly by `accllm.numerics.contract` (the function named in each op's
  docstring).  Fixed-point activations between units use the residual format `si32, frac=16`.

Shapes are `[..., T, F]`: any leading (batch) dims, tokens, then features.  Weights are
`[out, in]` and a linear computes `y = x @ W^T`.
"""

from __future__ import annotations

import math
from io import StringIO

import numpy as np
from xdsl.dialects.builtin import (
    I64,
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    DictionaryAttr,
    Float64Type,
    FloatAttr,
    IntegerAttr,
    IntegerType,
    NoneAttr,
    Signedness,
    TensorType,
)
from xdsl.ir import Attribute, Dialect, Operation, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    ParsePropInAttrDict,
    irdl_op_definition,
    operand_def,
    opt_operand_def,
    opt_prop_def,
    prop_def,
    result_def,
    traits_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

from accllm.dialects import limits
from accllm.dialects.quant_types import (
    ParamAttr,
    QTensorType,
    QWeightType,
    SparsityAttr,
    is_a8,
    is_float_tensor,
    is_residual,
    shape_str,
)
from accllm.numerics.contract import NUMERICS, PATTERN_POSITIONS, padded_k, rope_inv_freq

# The dyadic requantizer (contract `requantize`) takes a signed 32-bit accumulator so that
# acc * 16-bit multiplier fits the 48-bit DSP accumulator.
REQUANT_ACC_BITS = 32

FLOAT, QUANT = "float", "quantized"


# --------------------------------------------------------------------------------------------
# Shared verifier helpers
# --------------------------------------------------------------------------------------------


def type_str(t: Attribute) -> str:
    out = StringIO()
    Printer(stream=out).print_attribute(t)
    return out.getvalue()


def form_of(op: Operation, *types: Attribute) -> str:
    """FLOAT if every type is a float tensor, QUANT if none is; mixing is an error."""
    floats = [is_float_tensor(t) for t in types]
    if all(floats):
        return FLOAT
    if any(floats):
        raise VerifyException(
            "mixes float tensors and quantized types: "
            + ", ".join(type_str(t) for t in types)
            + " (use smla.quantize / smla.dequantize between levels)"
        )
    return QUANT


def shape_of(t: Attribute) -> tuple[int, ...]:
    if isinstance(t, TensorType):
        return tuple(t.get_shape())
    if isinstance(t, QTensorType | QWeightType):
        return t.get_shape()
    raise VerifyException(f"expected a tensor or quantized type, got {type_str(t)}")


def require_same_float(types: dict[str, Attribute]) -> None:
    """Float form: every named value has the same element type (shapes checked by callers)."""
    elems = {name: t.element_type for name, t in types.items()}
    first = next(iter(elems.values()))
    for name, e in elems.items():
        if e != first:
            raise VerifyException(
                f"float operands and result must share one element type; {name} has {e}, "
                f"expected {first}"
            )


def require_residual(types: dict[str, Attribute]) -> None:
    """Quantized form of a nonlinear unit: the contract defines it on the residual format."""
    for name, t in types.items():
        if not is_residual(t):
            raise VerifyException(
                f"quantized {name} must be the residual format "
                f"!smla.qtensor<...xsi{NUMERICS.res_bits}, frac={NUMERICS.res_frac}>, "
                f"got {type_str(t)}"
            )


def require_shape(name: str, got: tuple[int, ...], want: tuple[int, ...]) -> None:
    if tuple(got) != tuple(want):
        raise VerifyException(
            f"{name} has shape {shape_str(got) or 'scalar'}, expected {shape_str(want)}"
        )


def require_rank(name: str, shape: tuple[int, ...], rank: int) -> None:
    if len(shape) < rank:
        raise VerifyException(f"{name} must have rank >= {rank}, got shape {shape_str(shape)}")


def signed_bits_for(bound: int) -> int:
    """Bits of a two's complement register holding every value in [-bound, bound]."""
    return bound.bit_length() + 1


def linear_acc_bound(w: QWeightType) -> int:
    """Largest |accumulator| of a quantized linear with weight type `w`.

    W2 (contract `sparse_mac_acc_bound`): kept weights per row x |x_q| <= 128 (any int8, so
    the bound holds even for codes A8 never produces) x |code - z| x 16-bit group-scale
    mantissa (applied inside the MAC).  int8 (contract `linear_int8`): kept x 128 x 127; the
    row scale is applied by the requantizer afterwards.
    """
    x_max = 1 << (NUMERICS.act_bits - 1)
    bound = w.kept_per_row() * x_max * w.max_abs_weight_code()
    if w.is_w2():
        bound *= (1 << NUMERICS.scale_mant_bits) - 1
    return bound


def max_acc_bits(w: QWeightType) -> int:
    """The hardware accumulator available to that MAC (DSP48 for W2, the requantizer input
    for int8)."""
    return NUMERICS.acc_bits if w.is_w2() else REQUANT_ACC_BITS


def verify_linear_like(op: Operation, x: SSAValue, w: SSAValue, bias: SSAValue | None) -> None:
    """Shared verifier of smla.linear and smla.lm_head."""
    y = op.results[0]
    types = [x.type, w.type, y.type] + ([bias.type] if bias is not None else [])
    form = form_of(op, *types)
    acc = op.properties.get("acc_bits")
    xs, ws, ys = shape_of(x.type), shape_of(w.type), shape_of(y.type)
    require_rank("input", xs, 1)
    if len(ws) != 2:
        raise VerifyException(f"weight must be 2-D [out, in], got shape {shape_str(ws)}")
    n, k = ws
    # A W2 weight may be stored with K zero-padded to a multiple of 32 (contract padded_k):
    # the missing inputs are zeros.
    padded = isinstance(w.type, QWeightType) and w.type.is_w2() and k == padded_k(xs[-1])
    if xs[-1] != k and not padded:
        raise VerifyException(
            f"input feature size {xs[-1]} does not match the weight's input size {k} "
            "(weight is [out, in])"
        )
    require_shape("result", ys, (*xs[:-1], n))
    if bias is not None:
        require_shape("bias", shape_of(bias.type), (n,))
    if form == FLOAT:
        named = {"input": x.type, "weight": w.type, "result": y.type}
        if bias is not None:
            named["bias"] = bias.type
        require_same_float(named)
        if not isinstance(w.type.encoding, SparsityAttr) and w.type.encoding != _NONE:
            raise VerifyException(
                f"float weight encoding must be #smla.sparsity or none, got "
                f"{type_str(w.type.encoding)}"
            )
        if isinstance(w.type.encoding, SparsityAttr) and k % w.type.encoding.m.data:
            raise VerifyException(f"2:4 sparse weight needs K divisible by 4, got K={k}")
        if acc is not None:
            raise VerifyException("acc_bits applies to the quantized form only")
        return
    if not is_a8(x.type):
        raise VerifyException(
            f"quantized input must be per-token A8 (!smla.qtensor<...xsi{NUMERICS.act_bits}, "
            f"per_token>), got {type_str(x.type)}"
        )
    if not isinstance(w.type, QWeightType):
        raise VerifyException(f"quantized weight must be !smla.qweight, got {type_str(w.type)}")
    yt = y.type
    if not isinstance(yt, QTensorType) or yt.is_per_token() or yt.bits != NUMERICS.res_bits:
        raise VerifyException(
            f"quantized result must be fixed point si{NUMERICS.res_bits} (frac=F), got "
            f"{type_str(yt)}"
        )
    if bias is not None and bias.type != QTensorType((n,), yt.element_type, yt.frac.data):
        raise VerifyException(
            f"quantized bias must have the result's element type and frac, got "
            f"{type_str(bias.type)}"
        )
    if acc is None:
        raise VerifyException("quantized form needs acc_bits (accumulator width)")
    need = signed_bits_for(linear_acc_bound(w.type))
    if acc.value.data < need:
        raise VerifyException(
            f"accumulator of {acc.value.data} bits can overflow: K={k} with "
            f"{type_str(w.type)} needs {need} bits"
        )
    if acc.value.data > max_acc_bits(w.type):
        raise VerifyException(
            f"accumulator of {acc.value.data} bits exceeds the {max_acc_bits(w.type)}-bit "
            "hardware accumulator of this weight scheme"
        )


_NONE = NoneAttr()

_LINEAR_FORMAT = (
    "$input `,` $weight (`bias` $bias^)? attr-dict `:` type($input) `,` type($weight) "
    "(`,` type($bias)^)? `->` type($result)"
)
_BINARY_FORMAT = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)"
_UNARY_FORMAT = "$input attr-dict `:` type($input) `->` type($result)"


# --------------------------------------------------------------------------------------------
# Weights
# --------------------------------------------------------------------------------------------


def _int_range(t: IntegerType) -> tuple[int, int]:
    bits = t.width.data
    if t.signedness.data == Signedness.UNSIGNED:
        return 0, (1 << bits) - 1
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def _dense_ints(attr: Attribute, name: str) -> np.ndarray:
    if not isinstance(attr, DenseIntOrFPElementsAttr) or not isinstance(
        attr.get_element_type(), IntegerType
    ):
        raise VerifyException(f"component '{name}' must be an integer dense<...> attribute")
    shape = tuple(attr.get_shape() or ())
    return np.asarray(attr.get_values(), dtype=np.int64).reshape(shape)


def _check_range(name: str, v: np.ndarray, lo: int, hi: int) -> None:
    if v.size and (v.min() < lo or v.max() > hi):
        raise VerifyException(f"component '{name}' has values outside [{lo}, {hi}]")


def component_ranges(t: QWeightType | QTensorType) -> dict[str, tuple[int, int]]:
    """Legal integer range of each stored component (the contract's storage formats)."""
    if isinstance(t, QTensorType):
        if t.is_per_token():
            q = NUMERICS.act_qmax
            return {"values": (-q, q), "exp": (NUMERICS.act_exp_min, NUMERICS.act_exp_max)}
        return {"values": _int_range(t.element_type)}
    if t.is_w2():
        codes = _int_range(t.codes)
    else:
        codes = (-NUMERICS.act_qmax, NUMERICS.act_qmax)
    ranges = {
        "codes": codes,
        "zero_point": _int_range(t.codes),
        "scale_mant": (0, (1 << NUMERICS.scale_mant_bits) - 1),
        "scale_exp": (NUMERICS.scale_exp_min, NUMERICS.scale_exp_max),
    }
    if isinstance(t.sparsity, SparsityAttr):
        if t.sparsity.meta.data == "pattern":
            ranges["meta"] = (0, len(PATTERN_POSITIONS) - 1)
        else:
            ranges["meta"] = (0, t.sparsity.m.data - 1)
    return ranges


def verify_inline_components(value: DictionaryAttr, t: QWeightType | QTensorType) -> None:
    comps = t.components()
    got = set(value.data)
    if got != set(comps):
        raise VerifyException(
            f"inline {t.name} needs exactly the components {sorted(comps)}, got {sorted(got)}"
        )
    ranges = component_ranges(t)
    for name, shape in comps.items():
        v = _dense_ints(value.data[name], name)
        require_shape(f"component '{name}'", v.shape, shape)
        _check_range(name, v, *ranges[name])
    if isinstance(t, QWeightType) and isinstance(t.sparsity, SparsityAttr):
        meta = _dense_ints(value.data["meta"], "meta")
        if t.sparsity.meta.data == "index":
            pairs = meta.reshape(meta.shape[0], -1, 2)
            if np.any(pairs[..., 0] >= pairs[..., 1]):
                raise VerifyException(
                    "2:4 index metadata must name two distinct positions per block, lower first"
                )


def verify_sparse_float(data: np.ndarray, sp: SparsityAttr) -> None:
    blocks = data.reshape(*data.shape[:-1], -1, sp.m.data)
    if np.any((blocks != 0).sum(-1) > sp.n.data):
        raise VerifyException(
            f"inline weight violates {sp.n.data}:{sp.m.data} sparsity: a block of "
            f"{sp.m.data} inputs has more than {sp.n.data} non-zeros"
        )


@irdl_op_definition
class WeightOp(IRDLOperation):
    """A constant weight: a float tensor, a quantized weight or a quantized tensor.

    `value` is a `#smla.param<file, key>` reference into a safetensors file (large models), an
    inline `dense<...>` (float tensors of tiny models), or, for `!smla.qweight` /
    `!smla.qtensor`, a dictionary of integer `dense<...>` components named by the type (see
    `QWeightType` / `QTensorType`; a param reference stores component `c` as `key.c`).

        %w = smla.weight #smla.param<"m.safetensors", "lm_head.weight"> : tensor<256x64xf32>
        %g = smla.weight dense<1.0> : tensor<64xf32>
        %q = smla.weight {codes = dense<...> : tensor<...xi8>, ...} : !smla.qweight<...>

    A float weight with a `#smla.sparsity<2:4>` encoding must have at most 2 non-zeros per
    aligned block of 4 inputs (checked for inline data).  Inline component values are checked
    against the contract's storage ranges.
    """

    name = "smla.weight"

    value = prop_def(Attribute)
    result = result_def()

    traits = traits_def(Pure())

    def __init__(self, value: Attribute, result_type: Attribute):
        super().__init__(properties={"value": value}, result_types=[result_type])

    @classmethod
    def parse(cls, parser: Parser) -> WeightOp:
        start = parser.pos
        value = parser.parse_attribute()
        attrs = parser.parse_optional_attr_dict_with_keyword()
        if parser.parse_optional_punctuation(":") is not None:
            rtype = parser.parse_type()
        elif isinstance(value, DenseIntOrFPElementsAttr):
            rtype = value.type
        else:
            parser.raise_error("expected ':' and the weight's type", start, parser.pos)
        op = cls(value, rtype)
        if attrs is not None:
            op.attributes.update(attrs.data)
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_attribute(self.value)
        if self.attributes:
            printer.print_string(" attributes ")
            printer.print_attr_dict(self.attributes)
        if not (
            isinstance(self.value, DenseIntOrFPElementsAttr) and self.value.type == self.result.type
        ):
            printer.print_string(" : ")
            printer.print_attribute(self.result.type)

    def verify_(self) -> None:
        t, v = self.result.type, self.value
        if not (is_float_tensor(t) or isinstance(t, QWeightType | QTensorType)):
            raise VerifyException(
                f"result must be a float tensor, !smla.qweight or !smla.qtensor, got {type_str(t)}"
            )
        if isinstance(v, ParamAttr):
            return
        if isinstance(v, DenseIntOrFPElementsAttr):
            if not is_float_tensor(t):
                raise VerifyException(
                    "inline dense<...> data is for float tensors; quantized weights take a "
                    "dictionary of components"
                )
            vt = v.type
            if tuple(vt.get_shape()) != tuple(t.get_shape()) or vt.element_type != t.element_type:
                raise VerifyException(
                    f"dense data of type {type_str(vt)} does not match the result {type_str(t)}"
                )
            if isinstance(t.encoding, SparsityAttr):
                data = np.asarray(v.get_values(), dtype=np.float64).reshape(t.get_shape())
                verify_sparse_float(data, t.encoding)
            return
        if isinstance(v, DictionaryAttr):
            if is_float_tensor(t):
                raise VerifyException("a float weight takes dense<...> data, not a dictionary")
            verify_inline_components(v, t)
            return
        raise VerifyException(
            f"value must be #smla.param, dense<...> or a dictionary, got {type_str(v)}"
        )


# --------------------------------------------------------------------------------------------
# Linear layers
# --------------------------------------------------------------------------------------------


@irdl_op_definition
class LinearOp(IRDLOperation):
    """Linear layer `y = x @ W^T (+ b)`: x [..., K], W [N, K] ([out, in]), b [N], y [..., N].

    Float form: W is a float tensor; with encoding `#smla.sparsity<2:4>` it is 2:4 pruned (the
    pruned entries are zero, the arithmetic is the same).  The accumulation order is not
    specified (float results agree to rounding).

    Quantized form (dense or 2:4 per the weight type): x is A8 `!smla.qtensor<...xsi8,
    per_token>` (codes q, exponent f[t]), W is `!smla.qweight`, y is fixed point
    `si32, frac=F`, and `acc_bits` is the accumulator width, checked against the proven bound
    `linear_acc_bound` and the hardware width.  A W2 weight may be stored with K zero-padded
    to a multiple of 32 (contract `padded_k`): x's missing inputs are zeros.  W2 (contract
    `linear_w2a8`):
    acc[t,o] = sum_g S[o,g] * sum_{kept k in g} q[t,k] (code[o,k] - z[o,g]);
    y = requantize_pow2(acc, f[t] + e[o] - F, 32).  int8 (contract `linear_int8`):
    acc = sum_k q[t,k] code[o,k]; y = requantize(acc, M[o], f[t] + e[o] - F, 32).  A bias
    (`si32`, same frac F) is added after: y = saturate(y + b, 32).
    """

    name = "smla.linear"

    input = operand_def()
    weight = operand_def()
    bias = opt_operand_def()
    result = result_def()
    acc_bits = opt_prop_def(IntegerAttr[I64])

    traits = traits_def(Pure())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = _LINEAR_FORMAT

    def __init__(self, x, w, result_type, bias=None, acc_bits: int | None = None):
        props = {} if acc_bits is None else {"acc_bits": IntegerAttr(acc_bits, 64)}
        super().__init__(
            operands=[x, w, [bias] if bias is not None else []],
            result_types=[result_type],
            properties=props,
        )

    def verify_(self) -> None:
        verify_linear_like(self, self.input, self.weight, self.bias)


@irdl_op_definition
class LMHeadOp(IRDLOperation):
    """LM head: logits `y = x @ W^T`, x [..., D], W [V, D], y [..., V] (no bias).

    Same semantics and forms as `smla.linear` without bias; a separate op so that passes can
    give it its own compression (8-bit weights, `!smla.qweight<VxD, si8>`, contract
    `linear_int8`, output frac NUMERICS.logit_frac) and compute only the last token at decode.
    """

    name = "smla.lm_head"

    input = operand_def()
    weight = operand_def()
    result = result_def()
    acc_bits = opt_prop_def(IntegerAttr[I64])

    traits = traits_def(Pure())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = (
        "$input `,` $weight attr-dict `:` type($input) `,` type($weight) `->` type($result)"
    )

    def __init__(self, x, w, result_type, acc_bits: int | None = None):
        props = {} if acc_bits is None else {"acc_bits": IntegerAttr(acc_bits, 64)}
        super().__init__(operands=[x, w], result_types=[result_type], properties=props)

    def verify_(self) -> None:
        verify_linear_like(self, self.input, self.weight, None)


# --------------------------------------------------------------------------------------------
# Quantization
# --------------------------------------------------------------------------------------------


@irdl_op_definition
class QuantizeOp(IRDLOperation):
    """Float tensor -> `!smla.qtensor` of the same shape.

    frac=F result (bits B): v = saturate(round_half_up(x * 2^F), B) (contract `round_half_up`,
    `saturate`).  per_token result: x is first rounded to the residual format
    (round_half_up(x * 2^res_frac)), then A8-quantized per token (contract
    `quantize_act_pow2`), as `quantize_rows_pow2` does.
    """

    name = "smla.quantize"

    input = operand_def()
    result = result_def()

    traits = traits_def(Pure())
    assembly_format = _UNARY_FORMAT

    def __init__(self, x, result_type):
        super().__init__(operands=[x], result_types=[result_type])

    def verify_(self) -> None:
        if not is_float_tensor(self.input.type):
            raise VerifyException(f"input must be a float tensor, got {type_str(self.input.type)}")
        if not isinstance(self.result.type, QTensorType):
            raise VerifyException(f"result must be !smla.qtensor, got {type_str(self.result.type)}")
        require_shape("result", self.result.type.get_shape(), shape_of(self.input.type))


@irdl_op_definition
class DequantizeOp(IRDLOperation):
    """`!smla.qtensor` or `!smla.qweight` -> float tensor of the same shape (exact real value,
    rounded once to the result's float type).

    frac=F: v * 2^-F.  per_token: q * 2^-f[t].  qweight (fake-quant level): the dense [N, K]
    matrix W2 S[o,g] 2^-e[o] (code - z[o,g]) or int8 M[o] 2^-e[o] code, with pruned 2:4
    positions 0.
    """

    name = "smla.dequantize"

    input = operand_def()
    result = result_def()

    traits = traits_def(Pure())
    assembly_format = _UNARY_FORMAT

    def __init__(self, x, result_type):
        super().__init__(operands=[x], result_types=[result_type])

    def verify_(self) -> None:
        if not isinstance(self.input.type, QTensorType | QWeightType):
            raise VerifyException(
                f"input must be !smla.qtensor or !smla.qweight, got {type_str(self.input.type)}"
            )
        if not is_float_tensor(self.result.type):
            raise VerifyException(
                f"result must be a float tensor, got {type_str(self.result.type)}"
            )
        if self.result.type.encoding != _NONE:
            raise VerifyException("dequantized result is a plain tensor (no encoding)")
        require_shape("result", tuple(self.result.type.get_shape()), self.input.type.get_shape())


@irdl_op_definition
class RequantizeOp(IRDLOperation):
    """`!smla.qtensor` -> `!smla.qtensor` of the same shape, integer only.

    frac=Fi -> per_token: A8 quantizer `quantize_act_pow2(v, Fi)` (the step before every
    quantized linear).  per_token -> frac=Fo (bits B): saturate(dequantize_act_pow2(q, f, Fo),
    B).  frac=Fi -> frac=Fo (bits B): saturate(round_shift(v, Fi - Fo), B).  Rounding is the
    contract's `round_shift` (half toward +infinity).
    """

    name = "smla.requantize"

    input = operand_def()
    result = result_def()

    traits = traits_def(Pure())
    assembly_format = _UNARY_FORMAT

    def __init__(self, x, result_type):
        super().__init__(operands=[x], result_types=[result_type])

    def verify_(self) -> None:
        it, rt = self.input.type, self.result.type
        for name, t in (("input", it), ("result", rt)):
            if not isinstance(t, QTensorType):
                raise VerifyException(f"{name} must be !smla.qtensor, got {type_str(t)}")
        require_shape("result", rt.get_shape(), it.get_shape())
        if it.is_per_token() and rt.is_per_token():
            raise VerifyException("requantizing per-token to per-token is not defined")


# --------------------------------------------------------------------------------------------
# Elementwise
# --------------------------------------------------------------------------------------------


def _verify_binary_same(op: Operation, lhs: SSAValue, rhs: SSAValue, res: SSAValue) -> str:
    form = form_of(op, lhs.type, rhs.type, res.type)
    require_shape("rhs", shape_of(rhs.type), shape_of(lhs.type))
    require_shape("result", shape_of(res.type), shape_of(lhs.type))
    if form == FLOAT:
        require_same_float({"lhs": lhs.type, "rhs": rhs.type, "result": res.type})
    else:
        for name, t in (("lhs", lhs.type), ("rhs", rhs.type), ("result", res.type)):
            if not isinstance(t, QTensorType) or t.is_per_token():
                raise VerifyException(
                    f"quantized {name} must be fixed point (frac=F), got {type_str(t)}"
                )
    return form


@irdl_op_definition
class AddOp(IRDLOperation):
    """Elementwise sum `z = x + y` of same-shape tensors (no broadcasting).

    Quantized form (the residual update): all three the same fixed-point type, z =
    saturate(x + y, B) (contract `residual_add` for si32 frac=16).
    """

    name = "smla.add"

    lhs = operand_def()
    rhs = operand_def()
    result = result_def()

    traits = traits_def(Pure())
    assembly_format = _BINARY_FORMAT

    def __init__(self, lhs, rhs, result_type=None):
        super().__init__(operands=[lhs, rhs], result_types=[result_type or lhs.type])

    def verify_(self) -> None:
        if _verify_binary_same(self, self.lhs, self.rhs, self.result) == QUANT:
            if not (self.lhs.type == self.rhs.type == self.result.type):
                raise VerifyException("quantized add needs identical operand and result types")


@irdl_op_definition
class MulOp(IRDLOperation):
    """Elementwise product `z = x * y` of same-shape tensors (no broadcasting).

    Quantized form, fixed point x (frac Fx), y (Fy), z (Fz, bits B):
    z = saturate(round_shift(x * y, Fx + Fy - Fz), B).  The exact product must fit int64, so
    the operand widths may sum to at most 64 bits.
    """

    name = "smla.mul"

    lhs = operand_def()
    rhs = operand_def()
    result = result_def()

    traits = traits_def(Pure())
    assembly_format = _BINARY_FORMAT

    def __init__(self, lhs, rhs, result_type=None):
        super().__init__(operands=[lhs, rhs], result_types=[result_type or lhs.type])

    def verify_(self) -> None:
        if _verify_binary_same(self, self.lhs, self.rhs, self.result) == QUANT:
            # An a-bit by b-bit signed product fits a+b bits (two's complement).
            bits = self.lhs.type.bits + self.rhs.type.bits
            if bits > 64:
                raise VerifyException(
                    f"product of si{self.lhs.type.bits} and si{self.rhs.type.bits} needs "
                    f"{bits} bits and can overflow the 64-bit intermediate"
                )
            shift = self.lhs.type.frac.data + self.rhs.type.frac.data - self.result.type.frac.data
            if abs(shift) > 62:
                raise VerifyException(f"rescaling shift {shift} is outside [-62, 62]")


@irdl_op_definition
class RMSNormOp(IRDLOperation):
    """RMSNorm over the last axis: `y = x / sqrt(mean(x^2, -1) + epsilon) * gamma`.

    x, y [..., H], gamma [H].  Float form: computed in the element type.  Quantized form
    (contract `rmsnorm_int`): x and y residual (si32, frac=16); gamma is the gain mantissa
    G = gamma * sqrt(H) as `!smla.qtensor<Hxsi16, frac=sh_g>` (contract `rmsnorm_params`);
    eps_q = round_half_up(epsilon * 2^eps_frac).  H <= 2^16 keeps the sum of squares below
    2^47.
    """

    name = "smla.rmsnorm"

    input = operand_def()
    gamma = operand_def()
    result = result_def()
    epsilon = prop_def(FloatAttr[Float64Type])

    traits = traits_def(Pure())
    assembly_format = (
        "$input `,` $gamma `epsilon` `=` $epsilon attr-dict `:` type($input) `,` type($gamma) "
        "`->` type($result)"
    )

    def __init__(self, x, gamma, epsilon: float, result_type=None):
        super().__init__(
            operands=[x, gamma],
            result_types=[result_type or x.type],
            properties={"epsilon": FloatAttr(epsilon, 64)},
        )

    def verify_(self) -> None:
        xt, gt, yt = self.input.type, self.gamma.type, self.result.type
        form = form_of(self, xt, gt, yt)
        xs = shape_of(xt)
        require_rank("input", xs, 1)
        require_shape("gamma", shape_of(gt), (xs[-1],))
        require_shape("result", shape_of(yt), xs)
        eps = self.epsilon.value.data
        if not eps >= 0.0:
            raise VerifyException(f"epsilon must be >= 0, got {eps}")
        if not math.isfinite(eps):
            raise VerifyException(f"epsilon must be finite, got {eps}")
        if form == FLOAT:
            require_same_float({"input": xt, "gamma": gt, "result": yt})
            return
        require_residual({"input": xt, "result": yt})
        if (
            not isinstance(gt, QTensorType)
            or gt.is_per_token()
            or gt.bits != NUMERICS.norm_gain_bits
        ):
            raise VerifyException(
                f"quantized gamma must be si{NUMERICS.norm_gain_bits} fixed point (frac=sh_g), "
                f"got {type_str(gt)}"
            )
        if not 0 <= gt.frac.data <= NUMERICS.shift_max:
            raise VerifyException(f"gamma frac {gt.frac.data} is outside [0, {NUMERICS.shift_max}]")
        if xs[-1] > 1 << NUMERICS.norm_in_bits:
            raise VerifyException(
                f"hidden size {xs[-1]} exceeds {1 << NUMERICS.norm_in_bits}: the sum of squares "
                "can overflow"
            )


@irdl_op_definition
class SiLUOp(IRDLOperation):
    """SiLU `y = x * sigmoid(x)` elementwise.  Quantized form: residual in and out, contract
    `silu_int` (sigmoid LUT with linear interpolation)."""

    name = "smla.silu"

    input = operand_def()
    result = result_def()

    traits = traits_def(Pure())
    assembly_format = _UNARY_FORMAT

    def __init__(self, x, result_type=None):
        super().__init__(operands=[x], result_types=[result_type or x.type])

    def verify_(self) -> None:
        form = form_of(self, self.input.type, self.result.type)
        require_shape("result", shape_of(self.result.type), shape_of(self.input.type))
        if form == FLOAT:
            require_same_float({"input": self.input.type, "result": self.result.type})
        else:
            require_residual({"input": self.input.type, "result": self.result.type})


@irdl_op_definition
class SwiGLUOp(IRDLOperation):
    """SwiGLU `y = silu(gate) * up` elementwise (the Llama MLP before down_proj).  Quantized
    form: residual in and out, contract `swiglu_int`."""

    name = "smla.swiglu"

    gate = operand_def()
    up = operand_def()
    result = result_def()

    traits = traits_def(Pure())
    assembly_format = "$gate `,` $up attr-dict `:` type($gate) `,` type($up) `->` type($result)"

    def __init__(self, gate, up, result_type=None):
        super().__init__(operands=[gate, up], result_types=[result_type or gate.type])

    def verify_(self) -> None:
        gt, ut, yt = self.gate.type, self.up.type, self.result.type
        form = form_of(self, gt, ut, yt)
        require_shape("up", shape_of(ut), shape_of(gt))
        require_shape("result", shape_of(yt), shape_of(gt))
        if form == FLOAT:
            require_same_float({"gate": gt, "up": ut, "result": yt})
        else:
            require_residual({"gate": gt, "up": ut, "result": yt})


def verify_inv_freq(inv_freq: DenseArrayBase, head_dim: int) -> None:
    """A RoPE `inv_freq` property (smla.rope, accel.vector rope): head_dim/2 finite positive
    f64 frequencies."""
    if not isinstance(inv_freq.elt_type, Float64Type):
        raise VerifyException("inv_freq must be an array<f64: ...>")
    w = np.asarray(inv_freq.get_values(), dtype=np.float64)
    if w.shape != (head_dim // 2,) or not np.all(np.isfinite(w) & (w > 0)):
        raise VerifyException(
            f"inv_freq must hold head_dim/2 = {head_dim // 2} finite positive values, got {w.size}"
        )


@irdl_op_definition
class RoPEOp(IRDLOperation):
    """Rotary position embedding, HF Llama convention (rotate_half).

    x [..., T, H * head_dim] (heads concatenated), positions [T] (integer, absolute token
    positions, shared by the leading dims), y like x.  For each head and i < head_dim/2:
    w_i = theta^(-2i / head_dim), a = p * w_i, x1 = x[i], x2 = x[i + head_dim/2];
    y[i] = x1 cos a - x2 sin a, y[i + head_dim/2] = x2 cos a + x1 sin a.  Positions must be
    in [0, max_positions).  Scaled RoPE (Llama-3 `llama3`, `linear`): the optional `inv_freq`
    (head_dim/2 f64 values, the model's own float32 frequencies) replaces theta^(-2i/head_dim)
    at every level, and theta is then only the base read off w_1 (informational).  Quantized
    form: residual in and out, contract `rope_int` with `rope_tables(w, max_positions)`.
    """

    name = "smla.rope"

    input = operand_def()
    positions = operand_def()
    result = result_def()
    head_dim = prop_def(IntegerAttr[I64])
    theta = prop_def(FloatAttr[Float64Type])
    max_positions = prop_def(IntegerAttr[I64])
    inv_freq = opt_prop_def(DenseArrayBase)

    traits = traits_def(Pure())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = (
        "$input `,` $positions attr-dict `:` type($input) `,` type($positions) `->` type($result)"
    )

    def __init__(
        self,
        x,
        positions,
        head_dim: int,
        theta: float,
        max_positions: int,
        rt=None,
        inv_freq=None,
    ):
        props = {
            "head_dim": IntegerAttr(head_dim, 64),
            "theta": FloatAttr(theta, 64),
            "max_positions": IntegerAttr(max_positions, 64),
        }
        if inv_freq is not None:
            props["inv_freq"] = DenseArrayBase.from_list(
                Float64Type(), [float(v) for v in np.asarray(inv_freq, dtype=np.float64)]
            )
        super().__init__(operands=[x, positions], result_types=[rt or x.type], properties=props)

    def frequencies(self) -> np.ndarray:
        """The inverse frequencies w_i every level uses: `inv_freq` when present, else
        contract `rope_inv_freq(theta, head_dim)` (float64, head_dim/2 values)."""
        if self.inv_freq is not None:
            return np.asarray(self.inv_freq.get_values(), dtype=np.float64)
        return rope_inv_freq(self.theta.value.data, self.head_dim.value.data)

    def verify_(self) -> None:
        xt, pt, yt = self.input.type, self.positions.type, self.result.type
        form = form_of(self, xt, yt)
        xs = shape_of(xt)
        require_rank("input", xs, 2)
        require_shape("result", shape_of(yt), xs)
        hd = self.head_dim.value.data
        if hd <= 0 or hd % 2:
            raise VerifyException(f"head_dim must be positive and even, got {hd}")
        if xs[-1] % hd:
            raise VerifyException(f"feature size {xs[-1]} is not a multiple of head_dim {hd}")
        if not self.theta.value.data > 0:
            raise VerifyException(f"theta must be > 0, got {self.theta.value.data}")
        mp = self.max_positions.value.data
        if mp <= 0:
            raise VerifyException("max_positions must be positive")
        if mp > limits.MAX_POSITIONS:
            raise VerifyException(
                f"max_positions = {mp} exceeds {limits.MAX_POSITIONS} (the RoPE tables a target "
                "holds)"
            )
        if xs[-2] > mp:
            raise VerifyException(
                f"{xs[-2]} positions of a sequence cannot all be below max_positions = {mp}"
            )
        verify_constant_positions(self.positions, mp)
        if self.inv_freq is not None:
            verify_inv_freq(self.inv_freq, hd)
        if not (
            isinstance(pt, TensorType)
            and isinstance(pt.element_type, IntegerType)
            and pt.element_type.signedness.data == Signedness.SIGNLESS
        ):
            raise VerifyException(f"positions must be an integer tensor, got {type_str(pt)}")
        require_shape("positions", tuple(pt.get_shape()), (xs[-2],))
        if form == FLOAT:
            require_same_float({"input": xt, "result": yt})
        else:
            require_residual({"input": xt, "result": yt})


def verify_constant_positions(positions: SSAValue, max_positions: int) -> None:
    """Positions known at compile time (an arith.constant) must index the RoPE tables."""
    owner = positions.owner
    value = (
        getattr(owner, "value", None) if getattr(owner, "name", "") == "arith.constant" else None
    )
    if not isinstance(value, DenseIntOrFPElementsAttr):
        return
    p = np.asarray(value.get_values())
    if p.size and (p.min() < 0 or p.max() >= max_positions):
        raise VerifyException(
            f"position {int(p.max() if p.max() >= max_positions else p.min())} is outside "
            f"[0, max_positions = {max_positions})"
        )


@irdl_op_definition
class EmbeddingOp(IRDLOperation):
    """Embedding lookup `y[..., :] = table[ids[...], :]`: ids [...] (integer, each in
    [0, V)), table [V, H], y [..., H].

    Quantized form: table is A8 per row (`!smla.qtensor<VxHxsi8, per_token>`, contract
    `quantize_rows_pow2`), y is residual (contract `embedding_int8`).
    """

    name = "smla.embedding"

    ids = operand_def()
    table = operand_def()
    result = result_def()

    traits = traits_def(Pure())
    assembly_format = "$ids `,` $table attr-dict `:` type($ids) `,` type($table) `->` type($result)"

    def __init__(self, ids, table, result_type):
        super().__init__(operands=[ids, table], result_types=[result_type])

    def verify_(self) -> None:
        it, tt, yt = self.ids.type, self.table.type, self.result.type
        if not (
            isinstance(it, TensorType)
            and isinstance(it.element_type, IntegerType)
            and it.element_type.signedness.data == Signedness.SIGNLESS
        ):
            raise VerifyException(f"ids must be an integer tensor, got {type_str(it)}")
        form = form_of(self, tt, yt)
        ts = shape_of(tt)
        if len(ts) != 2:
            raise VerifyException(f"table must be 2-D [vocab, hidden], got {shape_str(ts)}")
        if ts[0] < 1 or ts[1] < 1:
            raise VerifyException(
                f"table must have vocab >= 1 and hidden >= 1, got {shape_str(ts)}"
            )
        require_shape("result", shape_of(yt), (*it.get_shape(), ts[1]))
        if form == FLOAT:
            require_same_float({"table": tt, "result": yt})
            return
        if not is_a8(tt):
            raise VerifyException(f"quantized table must be per-token A8, got {type_str(tt)}")
        require_residual({"result": yt})


SMLA = Dialect(
    "smla",
    [
        WeightOp,
        LinearOp,
        LMHeadOp,
        QuantizeOp,
        DequantizeOp,
        RequantizeOp,
        AddOp,
        MulOp,
        RMSNormOp,
        SiLUOp,
        SwiGLUOp,
        RoPEOp,
        EmbeddingOp,
    ],
    [ParamAttr, SparsityAttr, QWeightType, QTensorType],
)
