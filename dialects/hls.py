"""`hls`: HLS directives as IR attributes, attached by `hls-annotate` and printed as
`#pragma HLS` lines by the HLS C++ emitter (backend/hls).  Attributes only, no ops.

    #hls.pipeline<ii = 1>                           -> #pragma HLS PIPELINE II=1
    #hls.unroll<factor = 36>                        -> #pragma HLS UNROLL factor=36 (0: full)
    #hls.array_partition<cyclic, factor = 4, dim = 2>  -> #pragma HLS ARRAY_PARTITION ...
    #hls.m_axi<channel = 3>                         -> #pragma HLS INTERFACE m_axi ... bundle=hbm3

They sit on ops as discardable attributes named `hls.pipeline`, `hls.unroll`,
`hls.array_partition` (compute ops), `hls.m_axi` (weights and function arguments, the HBM
pseudo-channel holding them), and the unit attribute `hls.dataflow` on a function.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from xdsl.dialects.builtin import IntAttr, StringAttr
from xdsl.ir import Attribute, Dialect, ParametrizedAttribute
from xdsl.irdl import irdl_attr_definition
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

# Names of the discardable attributes carrying the directives.
PIPELINE = "hls.pipeline"
UNROLL = "hls.unroll"
ARRAY_PARTITION = "hls.array_partition"
M_AXI = "hls.m_axi"
DATAFLOW = "hls.dataflow"

PARTITION_KINDS = ("cyclic", "block", "complete")


class _KeywordInts(ParametrizedAttribute):
    """Base of attributes whose parameters are `key = int` pairs (in KEYS order)."""

    KEYS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def _parse_pairs(cls, parser: AttrParser) -> list[Attribute]:
        values: list[Attribute] = []
        for i, key in enumerate(cls.KEYS):
            if i:
                parser.parse_punctuation(",")
            parser.parse_keyword(key)
            parser.parse_punctuation("=")
            values.append(IntAttr(parser.parse_integer(allow_boolean=False)))
        return values

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            return cls._parse_pairs(parser)

    def _pairs_str(self) -> str:
        return ", ".join(f"{k} = {getattr(self, k).data}" for k in self.KEYS)

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string(f"<{self._pairs_str()}>")


@irdl_attr_definition
class PipelineAttr(_KeywordInts):
    """Pipeline the loop it is attached to with initiation interval `ii` (>= 1)."""

    name = "hls.pipeline"
    KEYS: ClassVar[tuple[str, ...]] = ("ii",)
    ii: IntAttr

    def __init__(self, ii: int):
        super().__init__(IntAttr(ii))

    def verify(self) -> None:
        if self.ii.data < 1:
            raise VerifyException(f"pipeline II must be >= 1, got {self.ii.data}")

    def pragma(self) -> str:
        return f"#pragma HLS PIPELINE II={self.ii.data}"


@irdl_attr_definition
class UnrollAttr(_KeywordInts):
    """Unroll the op's lane loop by `factor` (0 = fully)."""

    name = "hls.unroll"
    KEYS: ClassVar[tuple[str, ...]] = ("factor",)
    factor: IntAttr

    def __init__(self, factor: int):
        super().__init__(IntAttr(factor))

    def verify(self) -> None:
        if self.factor.data < 0:
            raise VerifyException(f"unroll factor must be >= 0, got {self.factor.data}")

    def pragma(self) -> str:
        if self.factor.data == 0:
            return "#pragma HLS UNROLL"
        return f"#pragma HLS UNROLL factor={self.factor.data}"


@irdl_attr_definition
class ArrayPartitionAttr(_KeywordInts):
    """Partition the op's input buffer: `kind` cyclic/block (with factor) or complete, along
    dimension `dim` (1-based, 0 = all)."""

    name = "hls.array_partition"
    KEYS: ClassVar[tuple[str, ...]] = ("factor", "dim")
    kind: StringAttr
    factor: IntAttr
    dim: IntAttr

    def __init__(self, kind: str, factor: int, dim: int):
        super().__init__(StringAttr(kind), IntAttr(factor), IntAttr(dim))

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            kind = parser.parse_keyword_in(PARTITION_KINDS, "partition kind")
            parser.parse_punctuation(",")
            return [StringAttr(kind), *cls._parse_pairs(parser)]

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string(f"<{self.kind.data}, {self._pairs_str()}>")

    def verify(self) -> None:
        if self.kind.data not in PARTITION_KINDS:
            raise VerifyException(f"partition kind must be one of {PARTITION_KINDS}")
        if self.kind.data != "complete" and self.factor.data < 2:
            raise VerifyException(f"{self.kind.data} partition needs factor >= 2")
        if self.dim.data < 0:
            raise VerifyException(f"partition dim must be >= 0, got {self.dim.data}")

    def pragma(self, variable: str) -> str:
        factor = "" if self.kind.data == "complete" else f" factor={self.factor.data}"
        return (
            f"#pragma HLS ARRAY_PARTITION variable={variable} {self.kind.data}{factor} "
            f"dim={self.dim.data}"
        )


@irdl_attr_definition
class MAxiAttr(_KeywordInts):
    """The HBM pseudo-channel holding a weight or a KV cache: an AXI master port bundle
    `hbm<channel>` of its own, so streams on different channels are read in parallel."""

    name = "hls.m_axi"
    KEYS: ClassVar[tuple[str, ...]] = ("channel",)
    channel: IntAttr

    def __init__(self, channel: int):
        super().__init__(IntAttr(channel))

    def verify(self) -> None:
        if self.channel.data < 0:
            raise VerifyException(f"HBM channel must be >= 0, got {self.channel.data}")

    @property
    def bundle(self) -> str:
        return f"hbm{self.channel.data}"

    def pragma(self, port: str, depth: int) -> str:
        return (
            f"#pragma HLS INTERFACE mode=m_axi port={port} bundle={self.bundle} offset=slave "
            f"depth={depth}"
        )


HLS = Dialect("hls", [], [PipelineAttr, UnrollAttr, ArrayPartitionAttr, MAxiAttr])
