"""Attributes and types of the `smla` dialect, shared with `lattn`.

They describe the numerics contract (`accllm.numerics.contract`) in the IR: every width and range
below is read from `NUMERICS`, never repeated.  Readable syntax:

    #smla.param<"model.safetensors", "model.layers.0.mlp.up_proj.weight">
    #smla.sparsity<2:4>                     (pattern-code metadata; `<2:4, index>` for indices)
    !smla.qweight<4096x4096, ui2, group=128, sparse=2:4>
    !smla.qtensor<1x4096xsi8, per_token>    (A8: int8 codes, one 2^-f exponent per token)
    !smla.qtensor<1x4096xsi32, frac=16>     (fixed point: v * 2^-16, the residual stream)
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import (
    ArrayAttr,
    BFloat16Type,
    Float16Type,
    Float32Type,
    Float64Type,
    IntAttr,
    IntegerType,
    NoneAttr,
    Signedness,
    StringAttr,
    TensorType,
)
from xdsl.ir import Attribute, ParametrizedAttribute, TypeAttribute
from xdsl.irdl import irdl_attr_definition
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from accllm.numerics.contract import NUMERICS

FLOAT_TYPES = (Float16Type, BFloat16Type, Float32Type, Float64Type)

# Legal N:M sparsity patterns and their metadata encodings.  The engine implements 2:4 only.
LEGAL_SPARSITY = ((2, 4),)
META_PATTERN = "pattern"  # one 3-bit code per block of 4 (6 legal position pairs)
META_INDEX = "index"  # two 2-bit indices per block of 4
META_ENCODINGS = (META_PATTERN, META_INDEX)

# Largest |shift| the contract's round_shift accepts; bounds a fixed-point type's frac.
MAX_FRAC = 62


def is_float_tensor(t: Attribute) -> bool:
    return isinstance(t, TensorType) and isinstance(t.element_type, FLOAT_TYPES)


def shape_str(shape: Sequence[int]) -> str:
    """`4x64`; a dynamic (negative) size prints as `?`."""
    return "x".join("?" if d < 0 else str(d) for d in shape)


def _shape_attr(shape: Sequence[int]) -> ArrayAttr[IntAttr]:
    return ArrayAttr([IntAttr(d) for d in shape])


def _int_type_str(t: IntegerType) -> str:
    prefix = {Signedness.SIGNLESS: "i", Signedness.SIGNED: "si", Signedness.UNSIGNED: "ui"}
    return f"{prefix[t.signedness.data]}{t.width.data}"


def _verify_static_shape(shape: Sequence[int], what: str) -> None:
    if any(d <= 0 for d in shape):
        raise VerifyException(
            f"{what} needs a static shape with positive sizes, got {shape_str(shape)}"
        )


def _parse_keyword_int(parser: AttrParser, keyword: str) -> int:
    parser.parse_keyword(keyword)
    parser.parse_punctuation("=")
    return parser.parse_integer(allow_boolean=False)


# --------------------------------------------------------------------------------------------
# Attributes
# --------------------------------------------------------------------------------------------


@irdl_attr_definition
class ParamAttr(ParametrizedAttribute):
    """A weight kept outside the IR: tensor `key` of the safetensors file `file`.

    `#smla.param<"model.safetensors", "model.layers.0.self_attn.q_proj.weight">`.  A float
    weight is the tensor `key` itself; a quantized weight (`!smla.qweight`, `!smla.qtensor`)
    is stored as one tensor per component, named `key + "." + component` (the components are
    listed by the type's `components()`).  The file path is relative to the IR file's directory
    unless absolute.
    """

    name = "smla.param"

    file: StringAttr
    key: StringAttr

    def __init__(self, file: str | StringAttr, key: str | StringAttr):
        file = StringAttr(file) if isinstance(file, str) else file
        key = StringAttr(key) if isinstance(key, str) else key
        super().__init__(file, key)

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            file = parser.parse_str_literal("safetensors file name")
            parser.parse_punctuation(",")
            key = parser.parse_str_literal("tensor name")
        return [StringAttr(file), StringAttr(key)]

    def print_parameters(self, printer: Printer) -> None:
        with printer.in_angle_brackets():
            printer.print_string_literal(self.file.data)
            printer.print_string(", ")
            printer.print_string_literal(self.key.data)

    def verify(self) -> None:
        if not self.file.data:
            raise VerifyException("#smla.param needs a non-empty file name")
        if not self.key.data:
            raise VerifyException("#smla.param needs a non-empty tensor name")


@irdl_attr_definition
class SparsityAttr(ParametrizedAttribute):
    """N:M semi-structured sparsity along the reduction (input, K) dimension.

    In every aligned block of M consecutive input positions of an output row at most N weights
    are kept; the others are absent (not stored).  `meta` is the metadata encoding of the kept
    positions: `pattern` = one 3-bit code per block (`numerics.contract.PATTERN_POSITIONS`, 6
    legal pairs), `index` = two 2-bit indices per block (lower position first).  Only 2:4 is
    legal.  Syntax: `#smla.sparsity<2:4>` (pattern), `#smla.sparsity<2:4, index>`.  As the
    encoding of a float weight tensor (`tensor<128x64xf32, #smla.sparsity<2:4>>`) it asserts
    that the pruned weights are zero and every block keeps exactly 2 positions.
    """

    name = "smla.sparsity"

    n: IntAttr
    m: IntAttr
    meta: StringAttr

    def __init__(self, n: int = 2, m: int = 4, meta: str = META_PATTERN):
        super().__init__(IntAttr(n), IntAttr(m), StringAttr(meta))

    @classmethod
    def parse_body(cls, parser: AttrParser) -> list[Attribute]:
        """`N:M` or `N:M, index`."""
        n = parser.parse_integer(allow_boolean=False, allow_negative=False)
        parser.parse_punctuation(":")
        m = parser.parse_integer(allow_boolean=False, allow_negative=False)
        meta = META_PATTERN
        if parser.parse_optional_punctuation(",") is not None:
            meta = parser.parse_keyword_in(META_ENCODINGS, " (sparsity metadata)")
        return [IntAttr(n), IntAttr(m), StringAttr(meta)]

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            return cls.parse_body(parser)

    def body_str(self) -> str:
        meta = "" if self.meta.data == META_PATTERN else f", {self.meta.data}"
        return f"{self.n.data}:{self.m.data}{meta}"

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string(f"<{self.body_str()}>")

    def verify(self) -> None:
        if (self.n.data, self.m.data) not in LEGAL_SPARSITY:
            legal = ", ".join(f"{n}:{m}" for n, m in LEGAL_SPARSITY)
            raise VerifyException(
                f"sparsity {self.n.data}:{self.m.data} is not supported (legal: {legal})"
            )
        if self.meta.data not in META_ENCODINGS:
            raise VerifyException(
                f"sparsity metadata '{self.meta.data}' must be one of {', '.join(META_ENCODINGS)}"
            )

    def meta_bits_per_block(self) -> int:
        """Metadata bits per block of M weights."""
        if self.meta.data == META_PATTERN:
            return NUMERICS.pattern_bits
        return self.n.data * (self.m.data - 1).bit_length()


# --------------------------------------------------------------------------------------------
# Types
# --------------------------------------------------------------------------------------------


@irdl_attr_definition
class QWeightType(ParametrizedAttribute, TypeAttribute):
    """A quantized weight matrix [N (out), K (in)]; `y = x @ W^T` contracts K.

    Two schemes, told apart by the code type's signedness (signless is rejected):

    * `ui2` with `group=G` — W2 (contract `quantize_w2_groups`): asymmetric unsigned codes
      0..3; per (output channel o, group g of G consecutive inputs) a zero point z[o,g] in 0..3
      (2 bits) and an unsigned 16-bit scale mantissa S[o,g]; per output channel an exponent
      e[o] in [scale_exp_min, scale_exp_max].  W[o,k] = S[o,g] * 2^-e[o] * (code - z[o,g]).
      G in NUMERICS.group_sizes and G divides K.
    * `si8` without a group — int8 per output channel (contract `quantize_int8_rows`, the LM
      head): symmetric codes in [-127, 127], W[o,k] = M[o] * 2^-e[o] * code with a 16-bit
      unsigned mantissa M[o].

    `sparse=2:4` (optionally `, meta=index`) makes the weight 2:4 sparse along K: only N*K/2
    codes are stored.  Components (inline dictionary entries or safetensors tensors
    `<key>.<name>`), integers: `codes` [N, K] dense or [N, K/2] kept codes in K order (2:4);
    `zero_point` [N, K/G] (W2); `scale_mant` [N, K/G] (W2) or [N] (int8); `scale_exp` [N];
    `meta` [N, K/4] pattern codes or [N, K/2] indices 0..3 within the block (2:4 only).

    Syntax: `!smla.qweight<4096x4096, ui2, group=128, sparse=2:4>`.
    """

    name = "smla.qweight"

    shape: ArrayAttr[IntAttr]
    codes: IntegerType
    group: IntAttr | NoneAttr
    sparsity: SparsityAttr | NoneAttr

    def __init__(
        self,
        shape: Sequence[int],
        codes: IntegerType,
        group: int | None = None,
        sparsity: SparsityAttr | None = None,
    ):
        super().__init__(
            _shape_attr(shape),
            codes,
            NoneAttr() if group is None else IntAttr(group),
            NoneAttr() if sparsity is None else sparsity,
        )

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            shape = parser.parse_dimension_list()
            parser.parse_punctuation(",")
            codes = parser.parse_type()
            if not isinstance(codes, IntegerType):
                parser.raise_error(f"!smla.qweight codes must be an integer type, got {codes}")
            group: Attribute = NoneAttr()
            sparsity: Attribute = NoneAttr()
            while parser.parse_optional_punctuation(",") is not None:
                kw = parser.parse_keyword_in(("group", "sparse", "meta"), "in !smla.qweight")
                parser.parse_punctuation("=")
                if kw == "group":
                    group = IntAttr(parser.parse_integer(allow_boolean=False))
                elif kw == "sparse":
                    n = parser.parse_integer(allow_boolean=False, allow_negative=False)
                    parser.parse_punctuation(":")
                    m = parser.parse_integer(allow_boolean=False, allow_negative=False)
                    sparsity = SparsityAttr(n, m)
                else:
                    if not isinstance(sparsity, SparsityAttr):
                        parser.raise_error("'meta=' must follow 'sparse=N:M'")
                    meta = parser.parse_keyword_in(META_ENCODINGS, " (sparsity metadata)")
                    sparsity = SparsityAttr(sparsity.n.data, sparsity.m.data, meta)
        return [_shape_attr(shape), codes, group, sparsity]

    def print_parameters(self, printer: Printer) -> None:
        text = f"<{shape_str(self.get_shape())}, {_int_type_str(self.codes)}"
        if isinstance(self.group, IntAttr):
            text += f", group={self.group.data}"
        if isinstance(self.sparsity, SparsityAttr):
            text += f", sparse={self.sparsity.n.data}:{self.sparsity.m.data}"
            if self.sparsity.meta.data != META_PATTERN:
                text += f", meta={self.sparsity.meta.data}"
        printer.print_string(text + ">")

    def get_shape(self) -> tuple[int, ...]:
        return tuple(d.data for d in self.shape.data)

    @property
    def out_features(self) -> int:
        return self.get_shape()[0]

    @property
    def in_features(self) -> int:
        return self.get_shape()[1]

    def is_w2(self) -> bool:
        return self.codes.signedness.data == Signedness.UNSIGNED

    def group_size(self) -> int:
        """Inputs sharing one scale: G for W2, K (a whole row) for int8."""
        return self.group.data if isinstance(self.group, IntAttr) else self.in_features

    def kept_per_row(self) -> int:
        """Weights stored (and multiplied) per output row."""
        k = self.in_features
        if isinstance(self.sparsity, SparsityAttr):
            return k // self.sparsity.m.data * self.sparsity.n.data
        return k

    def max_abs_weight_code(self) -> int:
        """Largest |code - z| (W2) or |code| (int8): the integer factor of a product."""
        if self.is_w2():
            return (1 << self.codes.width.data) - 1
        return NUMERICS.act_qmax

    def components(self) -> dict[str, tuple[int, ...]]:
        """Stored integer arrays of this weight and their shapes."""
        n, k = self.get_shape()
        comps: dict[str, tuple[int, ...]] = {"codes": (n, self.kept_per_row())}
        if self.is_w2():
            comps["zero_point"] = (n, k // self.group_size())
            comps["scale_mant"] = (n, k // self.group_size())
        else:
            comps["scale_mant"] = (n,)
        comps["scale_exp"] = (n,)
        if isinstance(self.sparsity, SparsityAttr):
            sp = self.sparsity
            per_block = 1 if sp.meta.data == META_PATTERN else sp.n.data
            comps["meta"] = (n, k // sp.m.data * per_block)
        return comps

    def verify(self) -> None:
        shape = self.get_shape()
        if len(shape) != 2:
            raise VerifyException(f"!smla.qweight must be 2-D [out, in], got {shape_str(shape)}")
        _verify_static_shape(shape, "!smla.qweight")
        n, k = shape
        bits = self.codes.width.data
        sign = self.codes.signedness.data
        if sign == Signedness.SIGNLESS:
            raise VerifyException(
                f"!smla.qweight codes {_int_type_str(self.codes)} must state signedness: "
                f"ui{NUMERICS.w_bits} (asymmetric W2) or si{NUMERICS.act_bits} (symmetric int8)"
            )
        if sign == Signedness.UNSIGNED and bits != NUMERICS.w_bits:
            raise VerifyException(
                f"unsigned (asymmetric) weight codes must be ui{NUMERICS.w_bits}, got ui{bits}"
            )
        if sign == Signedness.SIGNED and bits != NUMERICS.act_bits:
            raise VerifyException(
                f"signed (symmetric) weight codes must be si{NUMERICS.act_bits}, got si{bits}"
            )
        if self.is_w2():
            if not isinstance(self.group, IntAttr):
                raise VerifyException("W2 weights need a group size (group=G)")
            g = self.group.data
            if g not in NUMERICS.group_sizes:
                raise VerifyException(
                    f"group size {g} is not one of {', '.join(map(str, NUMERICS.group_sizes))}"
                )
            if k % g:
                raise VerifyException(f"group size {g} does not divide the input size K={k}")
        elif isinstance(self.group, IntAttr):
            raise VerifyException("int8 weights have one scale per output channel: drop 'group='")
        if isinstance(self.sparsity, SparsityAttr):
            m = self.sparsity.m.data
            # Every legal group size is a multiple of M, so K % M == 0 also aligns the groups.
            if k % m:
                raise VerifyException(
                    f"{self.sparsity.n.data}:{m} sparsity needs K divisible by {m}, got K={k}"
                )


PER_TOKEN = "per_token"


@irdl_attr_definition
class QTensorType(ParametrizedAttribute, TypeAttribute):
    """A quantized activation (or small non-matrix weight) tensor of signed integers.

    * `frac=F` — fixed point: integer v means v * 2^-F (F may be negative).  The residual
      stream and every activation between units is `si32, frac=16` (NUMERICS.res_bits,
      res_frac = Q15.16).  Components: `values`.
    * `per_token` — A8 (contract `quantize_act_pow2`): `si8` codes in [-127, 127] (-128 never
      produced) and one exponent f per token (per slice along the last axis), in
      [act_exp_min, act_exp_max]; code q means q * 2^-f.  Components: `values` [..., D] and
      `exp` [...] (shape without the last axis).

    Syntax: `!smla.qtensor<1x4096xsi8, per_token>`, `!smla.qtensor<4x64xsi32, frac=16>`.
    """

    name = "smla.qtensor"

    shape: ArrayAttr[IntAttr]
    element_type: IntegerType
    frac: IntAttr | NoneAttr  # NoneAttr: per-token power-of-two exponent

    def __init__(self, shape: Sequence[int], element_type: IntegerType, frac: int | None):
        super().__init__(
            _shape_attr(shape), element_type, NoneAttr() if frac is None else IntAttr(frac)
        )

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            shape, elem = parser.parse_ranked_shape()
            if not isinstance(elem, IntegerType):
                parser.raise_error(f"!smla.qtensor element must be an integer type, got {elem}")
            parser.parse_punctuation(",")
            if parser.parse_optional_keyword(PER_TOKEN) is not None:
                frac: Attribute = NoneAttr()
            else:
                frac = IntAttr(_parse_keyword_int(parser, "frac"))
        return [_shape_attr(shape), elem, frac]

    def print_parameters(self, printer: Printer) -> None:
        scale = PER_TOKEN if self.is_per_token() else f"frac={self.frac.data}"
        dims = shape_str(self.get_shape())
        dims = f"{dims}x" if dims else ""
        printer.print_string(f"<{dims}{_int_type_str(self.element_type)}, {scale}>")

    def get_shape(self) -> tuple[int, ...]:
        return tuple(d.data for d in self.shape.data)

    def is_per_token(self) -> bool:
        return isinstance(self.frac, NoneAttr)

    @property
    def bits(self) -> int:
        return self.element_type.width.data

    def components(self) -> dict[str, tuple[int, ...]]:
        shape = self.get_shape()
        if self.is_per_token():
            return {"values": shape, "exp": shape[:-1]}
        return {"values": shape}

    def verify(self) -> None:
        shape = self.get_shape()
        _verify_static_shape(shape, "!smla.qtensor")
        if self.element_type.signedness.data != Signedness.SIGNED:
            raise VerifyException(
                f"!smla.qtensor element must be a signed integer (siN), got "
                f"{_int_type_str(self.element_type)}"
            )
        if self.is_per_token():
            if self.bits != NUMERICS.act_bits:
                raise VerifyException(
                    f"per-token quantized tensors are si{NUMERICS.act_bits}, got si{self.bits}"
                )
            if not shape:
                raise VerifyException("a per-token quantized tensor needs rank >= 1")
        else:
            if self.bits > 64:
                raise VerifyException(f"fixed-point element wider than 64 bits: si{self.bits}")
            if abs(self.frac.data) > MAX_FRAC:
                raise VerifyException(f"frac {self.frac.data} is outside [-{MAX_FRAC}, {MAX_FRAC}]")


def residual_type(shape: Sequence[int]) -> QTensorType:
    """The contract's residual-stream format (si32, Q15.16) for `shape`."""
    return QTensorType(shape, IntegerType(NUMERICS.res_bits, Signedness.SIGNED), NUMERICS.res_frac)


def is_residual(t: Attribute) -> bool:
    return isinstance(t, QTensorType) and t == residual_type(t.get_shape())


def is_a8(t: Attribute) -> bool:
    return isinstance(t, QTensorType) and t.is_per_token()


def value_shape(t: Attribute) -> tuple[int, ...] | None:
    """Shape of a float tensor, quantized tensor or quantized weight; None otherwise."""
    if isinstance(t, TensorType):
        return tuple(t.get_shape())
    if isinstance(t, QTensorType | QWeightType):
        return t.get_shape()
    return None
