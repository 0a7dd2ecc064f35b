"""hls-annotate: attach HLS directives (dialects/hls.py) to compressed-level IR.

The HLS C++ emitter prints `#pragma HLS` lines only from these attributes, so what the
accelerator pipelines, unrolls, partitions and where each array lives in HBM is decided here, in
the IR, where it can be inspected and changed by later passes:

* every top-level array (weight, function argument and result) gets `hls.m_axi` on its own HBM
  pseudo-channel, round robin over `hbm_channels` (U280: 32), so weight streams of consecutive
  layers are read in parallel;
* every compute op gets `hls.pipeline<ii>` on its streaming loop;
* 2:4 W2 linears unroll their lane loop fully (`hls.unroll<0>`: the BLOCKS_PER_WORD blocks of one
  256-bit word per cycle) and partition their A8 input so those lanes can read it; int8 LM heads
  and attention dot products unroll by `lanes`;
* a function whose every value has at most one consumer (DATAFLOW's canonical form) gets
  `hls.dataflow`; a decoder layer (the residual feeds the norm and the add) does not.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, func
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, ModuleOp, UnitAttr
from xdsl.passes import ModulePass

from accllm.dialects import lattn, smla
from accllm.dialects.hls import (
    ARRAY_PARTITION,
    DATAFLOW,
    M_AXI,
    PIPELINE,
    UNROLL,
    ArrayPartitionAttr,
    MAxiAttr,
    PipelineAttr,
    UnrollAttr,
)
from accllm.dialects.quant_types import QWeightType
from accllm.ir.diagnostics import error_at
from accllm.numerics.contract import NUMERICS

_ELEMENTWISE = (
    smla.EmbeddingOp,
    smla.RMSNormOp,
    smla.RequantizeOp,
    smla.AddOp,
    smla.MulOp,
    smla.SiLUOp,
    smla.SwiGLUOp,
    smla.RoPEOp,
    lattn.AppendOp,
)
_LINEAR = (smla.LinearOp, smla.LMHeadOp)
_ATTENTION = (lattn.PrefillOp, lattn.DecodeOp)


@dataclass(frozen=True)
class HlsAnnotate(ModulePass):
    """Attach hls.* directive attributes for the HLS C++ emitter."""

    name = "hls-annotate"

    hbm_channels: int = 32
    pipeline_ii: int = 1
    lanes: int = 16  # unroll of int8 MAC and attention head-dim loops
    dataflow: bool = True

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.hbm_channels < 1 or self.pipeline_ii < 1 or self.lanes < 1:
            raise error_at(op, "hls-annotate needs hbm_channels, pipeline_ii and lanes >= 1")
        channel = 0

        def next_channel() -> MAxiAttr:
            nonlocal channel
            attr = MAxiAttr(channel % self.hbm_channels)
            channel += 1
            return attr

        for fn in op.walk():
            if not isinstance(fn, func.FuncOp):
                continue
            if len(fn.body.blocks) != 1:  # declarations and branching bodies have no HLS form
                raise error_at(
                    fn,
                    f"hls-annotate maps single-block functions, this one has "
                    f"{len(fn.body.blocks)} blocks",
                )
            fn.arg_attrs = self._port_attrs(
                fn.arg_attrs, len(fn.function_type.inputs), next_channel
            )
            fn.res_attrs = self._port_attrs(
                fn.res_attrs, len(fn.function_type.outputs), next_channel
            )
            for inner in fn.body.walk():
                self._annotate(inner, next_channel)
            if self.dataflow and self._canonical_dataflow(fn):
                fn.attributes[DATAFLOW] = UnitAttr()

    @staticmethod
    def _port_attrs(old: ArrayAttr | None, n: int, next_channel) -> ArrayAttr:
        dicts = []
        for i in range(n):
            entries = dict(old.data[i].data) if old is not None else {}
            entries[M_AXI] = next_channel()
            dicts.append(DictionaryAttr(entries))
        return ArrayAttr(dicts)

    def _annotate(self, op, next_channel) -> None:
        if isinstance(op, smla.WeightOp):
            op.attributes[M_AXI] = next_channel()
        elif isinstance(op, _LINEAR):
            w = op.weight.type
            if not isinstance(w, QWeightType):
                raise error_at(op, "hls-annotate runs on compressed IR (quantized weights)")
            k = w.in_features
            op.attributes[PIPELINE] = PipelineAttr(self.pipeline_ii)
            if w.is_w2():
                # One 256-bit word per cycle: all its blocks at once, reading 4 inputs each.
                op.attributes[UNROLL] = UnrollAttr(0)
                span = 4 * NUMERICS.blocks_per_word
            else:
                op.attributes[UNROLL] = UnrollAttr(self.lanes)
                span = self.lanes
            op.attributes[ARRAY_PARTITION] = (
                ArrayPartitionAttr("complete", 0, 2)
                if span >= k
                else ArrayPartitionAttr("cyclic", span, 2)
            )
        elif isinstance(op, _ATTENTION):
            op.attributes[PIPELINE] = PipelineAttr(self.pipeline_ii)
            op.attributes[UNROLL] = UnrollAttr(self.lanes)
        elif isinstance(op, _ELEMENTWISE):
            op.attributes[PIPELINE] = PipelineAttr(self.pipeline_ii)
        elif not isinstance(op, func.ReturnOp | arith.ConstantOp):
            raise error_at(op, "hls-annotate does not know how to map this op to HLS")

    @staticmethod
    def _canonical_dataflow(fn: func.FuncOp) -> bool:
        values = list(fn.body.block.args) + [r for o in fn.body.walk() for r in o.results]
        return all(sum(1 for _ in v.uses) <= 1 for v in values)
