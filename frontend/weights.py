"""Reading exported torch-dialect text into xDSL and binding the weight arguments.

`export_torch` leaves every weight as an argument of `@main`.  Binding turns each into what the
conversion reads:
- inline: a `torch.vtensor.literal(dense<...>)` (tiny models; buffers such as RoPE inv_freq
  always, they are small and their values are part of the model's structure),
- by name: the argument stays, annotated `{accllm.param = #smla.param<"file", "name">}`; the
  tensors are written to that safetensors file beside the IR (file names are relative to it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    BytesAttr,
    DenseIntOrFPElementsAttr,
    DictionaryAttr,
    FunctionType,
    ModuleOp,
    StringAttr,
)
from xdsl.rewriter import InsertPoint, Rewriter

from accllm.dialects.quant_types import ParamAttr
from accllm.dialects.registry import register_all_dialects
from accllm.dialects.torch import ValueTensorLiteralOp, ValueTensorType
from accllm.frontend.errors import FrontendError
from accllm.frontend.torch_export import TorchExport
from accllm.ir.io import Chunk, parse_chunk
from accllm.passes.convert_torch_to_accllm import PARAM_ATTR


def parse_torch(text: str, name: str = "<torch-mlir>") -> ModuleOp:
    """Parse torch-dialect text.  Aten ops the `torch` subset does not define are read as
    unregistered ops so that the conversion can reject them by name and location."""
    ctx = Context(allow_unregistered=True)
    register_all_dialects(ctx)
    return parse_chunk(ctx, Chunk(text, name, 0))


def main_function(module: ModuleOp) -> func.FuncOp:
    funcs = [op for op in module.ops if isinstance(op, func.FuncOp)]
    if len(funcs) != 1:
        raise FrontendError(f"expected one function in the exported module, found {len(funcs)}")
    return funcs[0]


def dense_of(tensor: torch.Tensor, vtype: ValueTensorType) -> DenseIntOrFPElementsAttr:
    """`dense<...>` holding `tensor`'s values (bit-exact: the data is copied as bytes)."""
    builtin = vtype.to_builtin()
    array = tensor.detach().cpu().contiguous().numpy()
    if builtin is None or tuple(array.shape) != tuple(builtin.get_shape()):
        raise FrontendError(f"weight of shape {tuple(array.shape)} does not match {vtype}")
    if array.dtype != np.float32:
        raise FrontendError(f"weights must be float32 for import, got {array.dtype}")
    return DenseIntOrFPElementsAttr(builtin, BytesAttr(array.tobytes()))


def bind_weights(
    module: ModuleOp,
    export: TorchExport,
    params: dict[str, torch.Tensor],
    inline: bool,
    params_file: str | None,
) -> None:
    """Bind `@main`'s weight arguments (see the module docstring); rename it `@forward`.

    `params` holds the real parameter tensors (used when `inline`); `params_file` is the name
    written into `#smla.param` for external weights.
    """
    fn = main_function(module)
    fn.sym_name = StringAttr("forward")
    block = fn.body.blocks[0]
    args = list(block.args)
    if len(args) != 1 + len(export.weight_names):
        raise FrontendError(
            f"exported function has {len(args)} arguments, expected ids + "
            f"{len(export.weight_names)} weights"
        )
    arg_attrs: list[DictionaryAttr] = [DictionaryAttr({})]
    keep = [args[0]]
    for arg, name in zip(args[1:], export.weight_names, strict=True):
        if name in export.buffers or inline:
            value = export.buffers[name] if name in export.buffers else params[name]
            lit = ValueTensorLiteralOp(dense_of(value, arg.type), arg.type)
            Rewriter.insert_op(lit, InsertPoint.at_start(block))
            arg.replace_all_uses_with(lit.result)
            block.erase_arg(arg)
        else:
            assert params_file is not None
            keep.append(arg)
            arg_attrs.append(DictionaryAttr({PARAM_ATTR: ParamAttr(params_file, name)}))
    outputs = fn.function_type.outputs.data
    fn.function_type = FunctionType.from_lists([a.type for a in keep], outputs)
    fn.arg_attrs = ArrayAttr(arg_attrs)


def write_params(path: Path, params: dict[str, torch.Tensor]) -> None:
    """Write the parameters to a safetensors file (float32, names as in the model)."""
    from safetensors.torch import save_file

    save_file({n: t.detach().contiguous() for n, t in params.items()}, str(path))
