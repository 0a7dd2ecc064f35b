"""accllm-derive-step: a T-token step function cloned from the imported prompt function.

The frontend imports one `@forward` of the prompt length P (token ids `tensor<1xPxi64>`, the
RoPE positions an `arith.constant dense<[0, ..., P-1]>`). A decode step is the same graph at one
token, a prefill chunk the same graph at C tokens, with the positions known only at run time.
This pass clones `@source` as `@name` with every activation of P tokens retyped to `tokens`
(xDSL's `TypeConversionPattern` over results, block arguments and the function type) and the
position constant replaced by a new last argument `%pos : tensor<tokens x i64>`. Lowered by
`lower-to-accel`, ropes on that argument read the engine's position register and each
`lattn.prefill` becomes an append of the step's tokens plus their attention on the layer's
shared KV region: exactly a Λ decode step (docs/hardware.md).

It replaces a text rewrite with regular expressions (issue #19): the result is IR you can
print and FileCheck, and a function of any other form is a located error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects import arith, func
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    FunctionType,
    IntegerType,
    ModuleOp,
    StringAttr,
    TensorType,
)
from xdsl.ir import Attribute
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import PatternRewriteWalker, TypeConversionPattern

from accllm.dialects.quant_types import QTensorType
from accllm.ir.diagnostics import error_at


@dataclass
class _Retoken(TypeConversionPattern):
    """[1, P, ...] activations (and [P] positions) -> the same with `tokens`."""

    prompt: int = 0
    tokens: int = 1

    def convert_type(self, typ: Attribute, /) -> Attribute | None:
        if isinstance(typ, FunctionType):
            ins = [self.convert_type(t) or t for t in typ.inputs.data]
            outs = [self.convert_type(t) or t for t in typ.outputs.data]
            return FunctionType.from_lists(ins, outs)
        if isinstance(typ, QTensorType):
            shape = list(typ.get_shape())
            if len(shape) >= 2 and shape[:2] == [1, self.prompt]:
                frac = None if typ.is_per_token() else typ.frac.data
                return QTensorType([1, self.tokens, *shape[2:]], typ.element_type, frac)
        if isinstance(typ, TensorType):
            shape = list(typ.get_shape())
            if shape[:2] == [1, self.prompt] or (
                shape == [self.prompt] and typ.element_type == IntegerType(64)
            ):
                new = [1, self.tokens, *shape[2:]] if len(shape) >= 2 else [self.tokens]
                return TensorType(typ.element_type, new)
        return None


def _positions(fn: func.FuncOp, prompt: int) -> arith.ConstantOp:
    """The RoPE position constant 0..P-1 of the prompt function."""
    for op in fn.body.walk():
        if not isinstance(op, arith.ConstantOp):
            continue
        value = op.value
        if not isinstance(value, DenseIntOrFPElementsAttr):
            continue
        values = np.asarray(value.get_values())
        users = {u.operation.name for u in op.result.uses}
        if users <= {"smla.rope"} and np.array_equal(values, np.arange(prompt)):
            return op
    raise error_at(fn, f"no constant RoPE positions 0..{prompt - 1} (the prompt's) to replace")


@dataclass(frozen=True)
class DeriveStep(ModulePass):
    """Clone `@source` (the imported prompt function) as `@name` running `tokens` tokens at
    run-time positions (a new last argument)."""

    name = "accllm-derive-step"

    source: str = "forward"
    step: str = "decode"
    tokens: int = 1
    # erase @source afterwards (a design keeps only its step programs: a prefill chunk and
    # the decode step run any prompt length)
    replace: bool = False

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        funcs = {f.sym_name.data: f for f in op.ops if isinstance(f, func.FuncOp)}
        src = funcs.get(self.source)
        if src is None:
            raise error_at(op, f"no func.func @{self.source} to derive @{self.step} from")
        if self.step in funcs:
            raise error_at(funcs[self.step], f"@{self.step} exists already")
        if self.tokens < 1:
            raise error_at(src, f"tokens must be >= 1, got {self.tokens}")
        args = src.body.block.args
        ids = args[0].type if args else None
        if not (
            isinstance(ids, TensorType)
            and len(ids.get_shape()) == 2
            and ids.get_shape()[0] == 1
            and ids.element_type == IntegerType(64)
        ):
            raise error_at(src, f"@{self.source} must take token ids tensor<1xPxi64> first")
        prompt = ids.get_shape()[1]
        clone = src.clone()
        clone.sym_name = StringAttr(self.step)
        const = _positions(clone, prompt)
        pos = clone.body.block.insert_arg(TensorType(IntegerType(64), [prompt]), len(args))
        pos.name_hint = "pos"
        const.result.replace_all_uses_with(pos)
        const.detach()
        const.erase()
        clone.update_function_type()
        # Retype in a scratch module (the walker may replace the func op itself), then place
        # the step function after its source.
        scratch = ModuleOp([clone])
        walker = PatternRewriteWalker(
            _Retoken(prompt=prompt, tokens=self.tokens), apply_recursively=False
        )
        walker.rewrite_module(scratch)
        step = scratch.body.block.first_op
        assert isinstance(step, func.FuncOp)
        step.detach()
        op.body.block.insert_op_after(step, src)
        if self.replace:
            src.detach()
            src.erase()
