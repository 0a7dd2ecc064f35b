"""Run a function of an accllm IR file on numpy inputs.

    module = load_module("model.mlir")
    outputs = run_function(module, "forward", [ids, positions], base_dir="dir/of/ir")

Values crossing the boundary: builtin tensors are numpy arrays of the element type's dtype
(scalars: 0-d arrays); a fixed-point `!smla.qtensor` is its integer array; a per-token one is a
dict {"values", "exp"}; a `!lattn.kv_cache` is the dict of arrays its value class writes. Every
failure is an `InterpretError` whose `op` (when known) locates it in the IR.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.interpreter import Interpreter, OpImplResult
from xdsl.interpreters.func import FuncFunctions
from xdsl.ir import Attribute, Operation

from accllm.dialects.lattn import KVCacheType
from accllm.dialects.quant_types import QTensorType
from accllm.dialects.registry import register_all_dialects
from accllm.interpreter.lattn_functions import LattnFunctions
from accllm.interpreter.params import ParamStore
from accllm.interpreter.smla_functions import SmlaFunctions
from accllm.interpreter.upstream_functions import ArithFunctions, TensorFunctions
from accllm.interpreter.values import (
    FloatKVCache,
    InterpretError,
    KV4Cache,
    QTensor,
    cache_from_arrays,
    dtype_for,
    make_qtensor,
    qtensor_storage_dtype,
)
from accllm.ir.io import Chunk, ToolError, parse_chunk, read_input, verify_module


class NumpyInterpreter(Interpreter):
    """xDSL's interpreter with located errors.

    xDSL's dispatcher catches every exception of an op implementation, prints the whole module
    into the exception's notes (slow for large IR) and re-raises; here the implementation is
    called directly and the innermost failing op is attached to the error instead."""

    def _run_op(self, op: Operation, inputs) -> OpImplResult:
        entry = self._impls._impl_dict.get(type(op))  # pinned xDSL 0.74 internals
        if entry is None:
            raise InterpretError(f"no interpreter implementation for '{op.name}'", op)
        functions, implementation = entry
        try:
            result = implementation(functions, self, op, tuple(inputs))
        except InterpretError as err:
            if err.op is None:
                err.op = op
            raise
        except (ValueError, TypeError, IndexError, ArithmeticError) as err:
            raise InterpretError(f"{type(err).__name__}: {err}", op) from err
        if len(result.values) != len(op.results):
            raise InterpretError(
                f"implementation returned {len(result.values)} values for {len(op.results)} "
                "results",
                op,
            )
        return result


def load_module(path: str | Path) -> ModuleOp:
    """Parse and verify an IR file (located diagnostics as ToolError)."""
    ctx = Context()
    register_all_dialects(ctx)
    text, name = read_input(str(path))
    chunk = Chunk(text, name, 0)
    module = parse_chunk(ctx, chunk)
    verify_module(module, chunk)
    return module


def build_interpreter(module: ModuleOp, base_dir: str | Path) -> NumpyInterpreter:
    """An interpreter with every accllm function table; params resolve against base_dir."""
    interp = NumpyInterpreter(module)
    for table in (
        FuncFunctions(),
        ArithFunctions(),
        TensorFunctions(),
        SmlaFunctions(ParamStore(base_dir)),
        LattnFunctions(),
    ):
        interp.register_implementations(table)
    return interp


def find_function(module: ModuleOp, name: str) -> func.FuncOp:
    """The func.func named `name`; an error listing the available ones otherwise."""
    funcs = [op for op in module.ops if isinstance(op, func.FuncOp)]
    for f in funcs:
        if f.sym_name.data == name:
            if not f.body.blocks:
                raise InterpretError(f"function '{name}' is only a declaration")
            return f
    have = ", ".join(f.sym_name.data for f in funcs) or "none"
    raise InterpretError(f"no function named '{name}' in the IR (functions: {have})")


def check_supported(interp: NumpyInterpreter, entry: func.FuncOp) -> None:
    """Fail before running if an op reachable from `entry` has no implementation."""
    seen: set[str] = set()
    todo = [entry]
    while todo:
        f = todo.pop()
        if f.sym_name.data in seen:
            continue
        seen.add(f.sym_name.data)
        for op in f.body.walk():
            if isinstance(op, func.CallOp):
                todo.append(find_function(interp.module, op.callee.root_reference.data))
            if type(op) not in interp._impls._impl_dict:
                raise InterpretError(f"no interpreter implementation for '{op.name}'", op)


# --------------------------------------------------------------------------------------------
# Boundary conversions
# --------------------------------------------------------------------------------------------


def _shape_str(shape) -> str:
    return "x".join(str(d) for d in shape) or "scalar"


def to_value(t: Attribute, data, what: str):
    """Convert an input (array or dict of arrays) to the interpreter's value of type t."""
    if isinstance(t, KVCacheType):
        if not isinstance(data, dict):
            raise InterpretError(f"{what}: a KV cache input needs a .npz of cache arrays")
        return cache_from_arrays(t, data, what)
    if isinstance(t, QTensorType):
        comps = data if isinstance(data, dict) else {"values": data}
        if t.is_per_token() and "exp" not in comps:
            raise InterpretError(
                f"{what}: a per-token !smla.qtensor input needs a .npz with 'values' and 'exp'"
            )
        return make_qtensor(t, comps, what)
    if isinstance(data, dict):
        raise InterpretError(f"{what}: expected one array, got a .npz archive")
    arr = np.asarray(data)
    elem = t.element_type if isinstance(t, TensorType) else t
    shape = tuple(t.get_shape()) if isinstance(t, TensorType) else ()
    dt = dtype_for(elem)
    if arr.shape != shape:
        raise InterpretError(
            f"{what}: shape {_shape_str(arr.shape)} does not match {_shape_str(shape)} of the "
            "function's argument"
        )
    if dt.kind == "f":
        if arr.dtype.kind != "f":
            raise InterpretError(f"{what}: dtype {arr.dtype} where the argument is float ({dt})")
        if arr.dtype.itemsize > dt.itemsize:
            raise InterpretError(f"{what}: dtype {arr.dtype} would lose precision in {dt}")
    else:
        if arr.dtype.kind not in "iub":
            raise InterpretError(f"{what}: dtype {arr.dtype} where the argument is integer ({dt})")
        info = np.iinfo(dt) if dt.kind != "b" else None
        if info is not None and arr.size and (arr.min() < info.min or arr.max() > info.max):
            raise InterpretError(f"{what}: values outside the range of {dt}")
    out = arr.astype(dt)
    return out if shape else out[()]


def from_value(t: Attribute, value):
    """Convert a result to an array (or dict of arrays) for the caller / a file."""
    if isinstance(value, FloatKVCache | KV4Cache):
        return value.arrays()
    if isinstance(value, QTensor):
        dt = qtensor_storage_dtype(value.type)
        if value.type.is_per_token():
            return {"values": value.values.astype(dt), "exp": value.exp.astype(np.int8)}
        return value.values.astype(dt)
    return np.asarray(value)


def run_function(module: ModuleOp, entry: str, inputs: Sequence, *, base_dir: str | Path) -> list:
    """Interpret function `entry` of `module` on `inputs` (see the module docstring for value
    conventions); returns its results converted back to arrays. `#smla.param` files resolve
    against `base_dir` (the IR file's directory)."""
    interp = build_interpreter(module, base_dir)
    f = find_function(module, entry)
    arg_types = list(f.function_type.inputs.data)
    if len(inputs) != len(arg_types):
        raise InterpretError(
            f"function '{entry}' takes {len(arg_types)} inputs, {len(inputs)} given"
        )
    check_supported(interp, f)
    pairs = enumerate(zip(arg_types, inputs, strict=True))
    args = [to_value(t, x, f"input {i}") for i, (t, x) in pairs]
    results = interp.call_op(f, tuple(args))
    out_types = list(f.function_type.outputs.data)
    return [from_value(t, v) for t, v in zip(out_types, results, strict=True)]


def run_file(path: str | Path, entry: str, inputs: Sequence) -> list:
    """load_module + run_function with parameters resolved next to the IR file."""
    return run_function(load_module(path), entry, inputs, base_dir=Path(path).resolve().parent)


__all__ = [
    "InterpretError",
    "ToolError",
    "build_interpreter",
    "load_module",
    "run_file",
    "run_function",
]
