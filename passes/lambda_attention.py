"""accllm-lambda-attention: give every attention the Λ shape (S sink tokens + a window of W).

* `lattn.prefill` (causal) gets `sink = S, window = W`: the query at i sees key j iff j <= i and
  (j < S or j > i - W) (`contract.lambda_visible`).  A non-causal prefill is an error: the Λ
  rule is a restriction of causal attention.
* every `!lattn.kv_cache` type (results of `lattn.empty` / `lattn.append`, operands of
  `lattn.decode`, function arguments and results) becomes `sink = S, window = W`, so the cache
  is bounded at S + W slots per head whatever the generation length.

Float and quantized forms are rewritten alike (the pass runs before or after accllm-quantize).
Existing Λ parameters are replaced by the pass options.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import FunctionType, IntegerAttr, ModuleOp
from xdsl.ir import Attribute
from xdsl.passes import ModulePass
from xdsl.rewriter import Rewriter
from xdsl.utils.exceptions import PassFailedException, VerifyException

from accllm.dialects.lattn import KVCacheType, PrefillOp, verify_lambda
from accllm.ir.diagnostics import error_at


def _retype(t: Attribute, sink: int, window: int) -> Attribute:
    if isinstance(t, KVCacheType):
        return KVCacheType(t.heads.data, t.head_dim.data, sink, window, t.element_type)
    return t


@dataclass(frozen=True)
class LambdaAttention(ModulePass):
    """Restrict every attention to S sink tokens plus a sliding window of W (Λ shape)."""

    name = "accllm-lambda-attention"

    sink: int = 4
    window: int = 1020

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        try:
            verify_lambda(self.sink, self.window)
        except VerifyException as err:
            raise PassFailedException(f"{self.name}: {err}") from err
        for o in op.walk():
            if isinstance(o, PrefillOp):
                if o.causal is None:
                    raise error_at(
                        o, "the Λ mask restricts causal attention; this prefill is not causal"
                    )
                o.properties["sink"] = IntegerAttr(self.sink, 64)
                o.properties["window"] = IntegerAttr(self.window, 64)
            for v in [*o.results, *(a for r in o.regions for b in r.blocks for a in b.args)]:
                new_t = _retype(v.type, self.sink, self.window)
                if new_t != v.type:
                    Rewriter.replace_value_with_new_type(v, new_t)
            if isinstance(o, func.FuncOp):
                ft = o.function_type
                o.function_type = FunctionType.from_lists(
                    [_retype(t, self.sink, self.window) for t in ft.inputs.data],
                    [_retype(t, self.sink, self.window) for t in ft.outputs.data],
                )
