"""accllm-fold-quantize-pairs: remove redundant quantize / dequantize / requantize ops.

Canonicalizations of the casts between the float and compressed levels, each exact (the
folded IR computes the same integers as the unfolded one):

* `smla.quantize(smla.dequantize(x : Q) : F) : Q2` -> `x` if Q2 == Q (fixed point), else
  `smla.requantize x : Q -> Q2`, **only if F holds every value of Q exactly** (f64 for si32,
  f32 up to si25) and the requantize computes what the float round trip did (per-token A8 from
  frac F <= 16, since `smla.quantize` rounds to Q.16 first; per-token -> per-token is never
  folded because A8 re-quantization is not idempotent).  A round trip through a narrower float
  rounds, so it is kept: folding it would change the integers.
* `smla.requantize x : T -> T` of a fixed-point type is the identity.
* identical casts of one value (same op, same result type, same block) are merged into the
  first — e.g. the three A8 requantizations of one normed activation feeding q/k/v.
* casts without uses are erased.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import Float32Type, Float64Type, ModuleOp, TensorType
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from accllm.dialects.quant_types import QTensorType
from accllm.dialects.smla import DequantizeOp, QuantizeOp, RequantizeOp
from accllm.numerics.contract import NUMERICS

CASTS = (QuantizeOp, DequantizeOp, RequantizeOp)
_MANTISSA_BITS = {Float32Type: 24, Float64Type: 53}


def float_holds_exactly(q: Attribute, f: Attribute) -> bool:
    """True if every value of the quantized tensor type `q` is exactly representable in the
    element type of the float tensor type `f` (its magnitude bits fit the mantissa; the
    exponent ranges of f32/f64 cover every frac in [-62, 62] and every A8 exponent)."""
    if not isinstance(q, QTensorType) or not isinstance(f, TensorType):
        return False
    bits = next((b for cls, b in _MANTISSA_BITS.items() if isinstance(f.element_type, cls)), 0)
    return q.bits - 1 <= bits


def requantize_equals_round_trip(src: QTensorType, dst: QTensorType) -> bool:
    """Whether `smla.requantize src -> dst` equals an exact dequantize + `smla.quantize`."""
    if src.is_per_token():
        return not dst.is_per_token()
    if dst.is_per_token():
        return src.frac.data <= NUMERICS.res_frac
    return True


def _forward(op: Operation, value: SSAValue, rewriter: PatternRewriter) -> None:
    """Replace the single result of `op` by `value` and erase `op`."""
    rewriter.replace_all_uses_with(op.results[0], value)
    rewriter.erase(op)


class FoldQuantizeOfDequantize(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: QuantizeOp, rewriter: PatternRewriter) -> None:
        deq = op.input.owner
        if not isinstance(deq, DequantizeOp):
            return
        src, dst = deq.input.type, op.result.type
        if not float_holds_exactly(src, deq.result.type):
            return
        if src == dst and not src.is_per_token():
            _forward(op, deq.input, rewriter)
        elif requantize_equals_round_trip(src, dst):
            rewriter.replace_op(op, RequantizeOp(deq.input, dst))


class FoldIdentityRequantize(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: RequantizeOp, rewriter: PatternRewriter) -> None:
        t = op.input.type
        if t == op.result.type and isinstance(t, QTensorType) and not t.is_per_token():
            _forward(op, op.input, rewriter)


class MergeIdenticalCasts(RewritePattern):
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if not isinstance(op, CASTS):
            return
        block = op.parent_block()
        for use in op.operands[0].uses:
            other = use.operation
            if (
                other is not op
                and type(other) is type(op)
                and other.parent_block() is block
                and other.results[0].type == op.results[0].type
                and block.get_operation_index(other) < block.get_operation_index(op)
            ):
                _forward(op, other.results[0], rewriter)
                return


class EraseUnusedCasts(RewritePattern):
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if isinstance(op, CASTS) and not op.results[0].uses:
            rewriter.erase(op)


@dataclass(frozen=True)
class FoldQuantizePairs(ModulePass):
    """Fold exact quantize/dequantize round trips, identity and duplicate requantizations."""

    name = "accllm-fold-quantize-pairs"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(
            GreedyRewritePatternApplier(
                [
                    FoldQuantizeOfDequantize(),
                    FoldIdentityRequantize(),
                    MergeIdenticalCasts(),
                    EraseUnusedCasts(),
                ]
            )
        ).rewrite_module(op)
