"""A subset of torch-mlir's `torch` dialect, enough for xDSL to read what the frontend imports.

torch-mlir (`torch_mlir.fx`, output type "torch") prints the model in this dialect; accllm reads
it with xDSL and converts it to smla/lattn (`convert-torch-to-accllm`).  Types and ops keep
torch-mlir's syntax, so torch-mlir output can be pasted into lit tests unchanged:

    %int1 = torch.constant.int 1
    %w = torch.vtensor.literal(dense<...> : tensor<8x4xf32>) : !torch.vtensor<[8,4],f32>
    %l = torch.prim.ListConstruct %int1, %int1 : (!torch.int, !torch.int) -> !torch.list<int>
    %y = torch.aten.linear %x, %w, %none : !torch.vtensor<[1,4],f32>, ... -> !torch.vtensor<...>

Aten ops are defined by name only (`ATEN_OP_NAMES`): operands and results are untyped lists and
their meaning is left to the conversion, which checks every op it reads.  An aten op missing here
still reaches the conversion (as an unregistered op, when the reader allows them), which rejects
it by name: the list is about parsing, not about what accllm supports.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseIntOrFPElementsAttr,
    FloatAttr,
    IntAttr,
    IntegerAttr,
    NoneAttr,
    StringAttr,
    TensorType,
)
from xdsl.ir import Attribute, Dialect, ParametrizedAttribute, TypeAttribute
from xdsl.irdl import (
    IRDLOperation,
    irdl_attr_definition,
    irdl_op_definition,
    prop_def,
    result_def,
    var_operand_def,
    var_result_def,
)
from xdsl.parser import AttrParser, Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

# --------------------------------------------------------------------------------------------
# Types
# --------------------------------------------------------------------------------------------


@irdl_attr_definition
class ValueTensorType(ParametrizedAttribute, TypeAttribute):
    """`!torch.vtensor<[d0,d1],dtype>`: an immutable tensor; `?` is an unknown size (-1).

    `!torch.vtensor` (no sizes, no dtype) and `!torch.vtensor<*,f32>` (unranked) also parse;
    `shape`/`dtype` are then `NoneAttr`.
    """

    name = "torch.vtensor"

    shape: ArrayAttr[IntAttr] | NoneAttr
    dtype: Attribute

    def __init__(self, shape: Sequence[int] | None, dtype: Attribute | None):
        shape_attr = NoneAttr() if shape is None else ArrayAttr([IntAttr(d) for d in shape])
        super().__init__(shape_attr, NoneAttr() if dtype is None else dtype)

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        if parser.parse_optional_punctuation("<") is None:
            return [NoneAttr(), NoneAttr()]
        shape: Attribute = NoneAttr()
        if parser.parse_optional_punctuation("*") is None:
            dims = parser.parse_comma_separated_list(
                parser.Delimiter.SQUARE, lambda: _parse_dim(parser)
            )
            shape = ArrayAttr([IntAttr(d) for d in dims])
        parser.parse_punctuation(",")
        dtype = NoneAttr() if parser.parse_optional_keyword("unk") else parser.parse_type()
        parser.parse_punctuation(">")
        return [shape, dtype]

    def print_parameters(self, printer: Printer) -> None:
        if isinstance(self.shape, NoneAttr) and isinstance(self.dtype, NoneAttr):
            return
        printer.print_string("<")
        if isinstance(self.shape, NoneAttr):
            printer.print_string("*")
        else:
            dims = ",".join("?" if d.data < 0 else str(d.data) for d in self.shape.data)
            printer.print_string(f"[{dims}]")
        printer.print_string(",")
        if isinstance(self.dtype, NoneAttr):
            printer.print_string("unk")
        else:
            printer.print_attribute(self.dtype)
        printer.print_string(">")

    def sizes(self) -> tuple[int, ...] | None:
        """The sizes (-1 for unknown), or None if unranked."""
        if isinstance(self.shape, NoneAttr):
            return None
        return tuple(d.data for d in self.shape.data)

    def static_sizes(self) -> tuple[int, ...] | None:
        """The sizes if the type is ranked and every size is known, else None."""
        sizes = self.sizes()
        if sizes is None or any(d < 0 for d in sizes):
            return None
        return sizes

    def element_type(self) -> Attribute | None:
        return None if isinstance(self.dtype, NoneAttr) else self.dtype

    def to_builtin(self) -> TensorType | None:
        """The builtin `tensor<...>` with the same sizes and dtype (None if not fully static)."""
        sizes, dtype = self.static_sizes(), self.element_type()
        if sizes is None or dtype is None:
            return None
        return TensorType(dtype, sizes)


def _parse_dim(parser: AttrParser) -> int:
    if parser.parse_optional_punctuation("?") is not None:
        return -1
    return parser.parse_integer(allow_boolean=False, allow_negative=False)


def _scalar_type(type_name: str, doc: str) -> type[ParametrizedAttribute]:
    cls = type(
        type_name.replace(".", "_").title().replace("_", "") + "Type",
        (ParametrizedAttribute, TypeAttribute),
        {"name": f"torch.{type_name}", "__doc__": doc},
    )
    return irdl_attr_definition(cls)


IntType = _scalar_type("int", "`!torch.int`: a Python int (64-bit).")
FloatType = _scalar_type("float", "`!torch.float`: a Python float (64-bit).")
BoolType = _scalar_type("bool", "`!torch.bool`.")
NoneType = _scalar_type("none", "`!torch.none`: Python's None.")
StrType = _scalar_type("str", "`!torch.str`.")
NumberType = _scalar_type("number", "`!torch.number`: an int or a float.")
DeviceType = _scalar_type("Device", "`!torch.Device`.")

# Element spellings inside `!torch.list<...>` (torch-mlir omits the `!torch.` prefix there).
_LIST_ELEMENTS: dict[str, Attribute] = {
    "int": IntType(),
    "float": FloatType(),
    "bool": BoolType(),
    "none": NoneType(),
    "str": StrType(),
    "number": NumberType(),
    "Device": DeviceType(),
    "vtensor": ValueTensorType(None, None),
}


@irdl_attr_definition
class ListType(ParametrizedAttribute, TypeAttribute):
    """`!torch.list<int>`, `!torch.list<vtensor>`, ...: a Python list of one element type."""

    name = "torch.list"

    element: Attribute

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            word = parser.parse_optional_keyword_in(tuple(_LIST_ELEMENTS))
            if word is not None:
                # `vtensor<[..],f32>` after the keyword: a typed tensor element.
                if word == "vtensor" and parser.parse_optional_punctuation("<") is not None:
                    raise VerifyException("!torch.list of typed vtensors is not supported")
                return [_LIST_ELEMENTS[word]]
            return [parser.parse_type()]

    def print_parameters(self, printer: Printer) -> None:
        for word, elem in _LIST_ELEMENTS.items():
            if elem == self.element:
                printer.print_string(f"<{word}>")
                return
        printer.print_string("<")
        printer.print_attribute(self.element)
        printer.print_string(">")


# --------------------------------------------------------------------------------------------
# Constants and literals
# --------------------------------------------------------------------------------------------


@irdl_op_definition
class ConstantIntOp(IRDLOperation):
    """`torch.constant.int 3`."""

    name = "torch.constant.int"
    value = prop_def(IntegerAttr)
    result = result_def(IntType)

    def __init__(self, value: int):
        super().__init__(properties={"value": IntegerAttr(value, 64)}, result_types=[IntType()])

    @classmethod
    def parse(cls, parser: Parser) -> ConstantIntOp:
        return cls(parser.parse_integer(allow_boolean=False))

    def print(self, printer: Printer) -> None:
        printer.print_string(f" {self.value.value.data}")


@irdl_op_definition
class ConstantFloatOp(IRDLOperation):
    """`torch.constant.float 2.500000e-01`."""

    name = "torch.constant.float"
    value = prop_def(FloatAttr)
    result = result_def(FloatType)

    def __init__(self, value: float):
        super().__init__(properties={"value": FloatAttr(value, 64)}, result_types=[FloatType()])

    @classmethod
    def parse(cls, parser: Parser) -> ConstantFloatOp:
        return cls(float(parser.parse_number()))

    def print(self, printer: Printer) -> None:
        printer.print_string(f" {float_literal(self.value.value.data)}")


def float_literal(value: float) -> str:
    """Shortest round-tripping text of `value` as an MLIR float literal (needs a '.')."""
    text = repr(float(value))
    if "." not in text and ("e" in text or text.lstrip("-").isdigit()):
        mantissa, _, exponent = text.partition("e")
        text = mantissa + ".0" + (f"e{exponent}" if exponent else "")
    return text


@irdl_op_definition
class ConstantBoolOp(IRDLOperation):
    """`torch.constant.bool true`."""

    name = "torch.constant.bool"
    value = prop_def(IntegerAttr)
    result = result_def(BoolType)

    def __init__(self, value: bool):
        super().__init__(
            properties={"value": IntegerAttr(int(value), 1)}, result_types=[BoolType()]
        )

    @classmethod
    def parse(cls, parser: Parser) -> ConstantBoolOp:
        return cls(parser.parse_boolean())

    def print(self, printer: Printer) -> None:
        printer.print_string(" true" if self.value.value.data else " false")


@irdl_op_definition
class ConstantNoneOp(IRDLOperation):
    """`torch.constant.none`."""

    name = "torch.constant.none"
    result = result_def(NoneType)

    def __init__(self):
        super().__init__(result_types=[NoneType()])

    @classmethod
    def parse(cls, parser: Parser) -> ConstantNoneOp:
        return cls()

    def print(self, printer: Printer) -> None:
        pass


class _StringConstant(IRDLOperation):
    value = prop_def(StringAttr)

    @classmethod
    def parse(cls, parser: Parser):
        return cls(parser.parse_str_literal())

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_string_literal(self.value.data)


@irdl_op_definition
class ConstantDeviceOp(_StringConstant):
    """`torch.constant.device "cpu"`."""

    name = "torch.constant.device"
    result = result_def(DeviceType)

    def __init__(self, value: str):
        super().__init__(properties={"value": StringAttr(value)}, result_types=[DeviceType()])


@irdl_op_definition
class ConstantStrOp(_StringConstant):
    """`torch.constant.str "none"`."""

    name = "torch.constant.str"
    result = result_def(StrType)

    def __init__(self, value: str):
        super().__init__(properties={"value": StringAttr(value)}, result_types=[StrType()])


@irdl_op_definition
class ValueTensorLiteralOp(IRDLOperation):
    """`torch.vtensor.literal(dense<...> : tensor<4xf32>) : !torch.vtensor<[4],f32>`."""

    name = "torch.vtensor.literal"
    value = prop_def(DenseIntOrFPElementsAttr)
    result = result_def(ValueTensorType)

    def __init__(self, value: DenseIntOrFPElementsAttr, result_type: ValueTensorType):
        super().__init__(properties={"value": value}, result_types=[result_type])

    @classmethod
    def parse(cls, parser: Parser) -> ValueTensorLiteralOp:
        with parser.in_parens():
            value = parser.parse_attribute()
        parser.parse_punctuation(":")
        result_type = parser.parse_type()
        if not isinstance(value, DenseIntOrFPElementsAttr):
            parser.raise_error("torch.vtensor.literal needs a dense elements attribute")
        if not isinstance(result_type, ValueTensorType):
            parser.raise_error("torch.vtensor.literal needs a !torch.vtensor result type")
        return cls(value, result_type)

    def print(self, printer: Printer) -> None:
        printer.print_string("(")
        printer.print_attribute(self.value)
        printer.print_string(") : ")
        printer.print_attribute(self.result.type)

    def verify_(self) -> None:
        rtype = self.result.type
        assert isinstance(rtype, ValueTensorType)
        if rtype.to_builtin() != self.value.type:
            raise VerifyException(
                f"literal of type {self.value.type} does not match result type {rtype}"
            )


# --------------------------------------------------------------------------------------------
# List construction and aten ops
# --------------------------------------------------------------------------------------------


def _parse_operands_and_types(parser: Parser, parens: bool):
    """`%a, %b : T1, T2 -> R` (or `: (T1, T2) -> R` when `parens`); returns operands, results."""
    unresolved = parser.parse_comma_separated_list(
        parser.Delimiter.NONE, parser.parse_optional_unresolved_operand
    )
    unresolved = [u for u in unresolved if u is not None]
    parser.parse_punctuation(":")
    if parens:
        types = parser.parse_comma_separated_list(parser.Delimiter.PAREN, parser.parse_type)
    elif unresolved:
        types = parser.parse_comma_separated_list(parser.Delimiter.NONE, parser.parse_type)
    else:
        types = []
    parser.parse_punctuation("->")
    results = parser.parse_comma_separated_list(parser.Delimiter.NONE, parser.parse_type)
    if len(types) != len(unresolved):
        parser.raise_error(f"expected {len(unresolved)} operand types, got {len(types)}")
    operands = parser.resolve_operands(unresolved, types, parser.pos)
    return operands, results


def _print_operands_and_types(op: IRDLOperation, printer: Printer, parens: bool) -> None:
    if op.operands:
        printer.print_string(" ")
        printer.print_list(op.operands, printer.print_operand)
    printer.print_string(" : ")
    if parens:
        printer.print_string("(")
    printer.print_list([o.type for o in op.operands], printer.print_attribute)
    if parens:
        printer.print_string(")")
    printer.print_string(" -> ")
    printer.print_list([r.type for r in op.results], printer.print_attribute)


@irdl_op_definition
class PrimListConstructOp(IRDLOperation):
    """`torch.prim.ListConstruct %a, %b : (!torch.int, !torch.int) -> !torch.list<int>`."""

    name = "torch.prim.ListConstruct"
    elements = var_operand_def()
    result = result_def(ListType)

    @classmethod
    def parse(cls, parser: Parser) -> PrimListConstructOp:
        operands, results = _parse_operands_and_types(parser, parens=True)
        return cls.create(operands=operands, result_types=results)

    def print(self, printer: Printer) -> None:
        _print_operands_and_types(self, printer, parens=True)


class AtenOp(IRDLOperation):
    """Base of every `torch.aten.*` op: `torch.aten.X %a, %b : T1, T2 -> R`."""

    args = var_operand_def()
    outs = var_result_def()

    @classmethod
    def parse(cls, parser: Parser):
        operands, results = _parse_operands_and_types(parser, parens=False)
        return cls.create(operands=operands, result_types=results)

    def print(self, printer: Printer) -> None:
        _print_operands_and_types(self, printer, parens=False)


# The aten ops xDSL can parse (the ops HF Llama/Mistral/Qwen2 export to, plus common ones a
# variant may use).  Overload names follow torch-mlir (`add.Tensor`, `view`, ...).
ATEN_OP_NAMES: tuple[str, ...] = (
    "_softmax",
    "add.Scalar",
    "add.Tensor",
    "arange.start_step",
    "bitwise_and.Tensor",
    "bitwise_or.Tensor",
    "bmm",
    "broadcast_to",
    "cat",
    "clone",
    "contiguous",
    "cos",
    "cumsum",
    "detach",
    "div.Scalar",
    "div.Tensor",
    "embedding",
    "empty.memory_format",
    "eq.Scalar",
    "exp",
    "expand",
    "full",
    "gelu",
    "ge.Tensor",
    "gt.Tensor",
    "index.Tensor_hacked_twin",
    "layer_norm",
    "le.Tensor",
    "linear",
    "lt.Tensor",
    "masked_fill.Scalar",
    "matmul",
    "mean.dim",
    "mm",
    "mul.Scalar",
    "mul.Tensor",
    "neg",
    "ones",
    "permute",
    "pow.Tensor_Scalar",
    "relu",
    "reshape",
    "rsqrt",
    "scaled_dot_product_attention",
    "select.int",
    "sigmoid",
    "silu",
    "sin",
    "slice.Tensor",
    "softmax.int",
    "sqrt",
    "sub.Scalar",
    "sub.Tensor",
    "sum.dim_IntList",
    "t",
    "tanh",
    "to.dtype",
    "transpose.int",
    "tril",
    "triu",
    "unsqueeze",
    "view",
    "where.self",
    "zeros",
)


def _aten_op_class(overload: str) -> type[AtenOp]:
    class_name = "Aten" + "".join(
        p[:1].upper() + p[1:] for p in overload.replace(".", "_").split("_")
    )
    cls = type(class_name, (AtenOp,), {"name": f"torch.aten.{overload}", "__doc__": None})
    cls.__doc__ = f"`torch.aten.{overload}` (semantics: PyTorch's aten::{overload})."
    return irdl_op_definition(cls)


ATEN_OPS: dict[str, type[AtenOp]] = {f"torch.aten.{n}": _aten_op_class(n) for n in ATEN_OP_NAMES}


Torch = Dialect(
    "torch",
    [
        ConstantIntOp,
        ConstantFloatOp,
        ConstantBoolOp,
        ConstantNoneOp,
        ConstantDeviceOp,
        ConstantStrOp,
        ValueTensorLiteralOp,
        PrimListConstructOp,
        *ATEN_OPS.values(),
    ],
    [
        ValueTensorType,
        ListType,
        IntType,
        FloatType,
        BoolType,
        NoneType,
        StrType,
        NumberType,
        DeviceType,
    ],
)
