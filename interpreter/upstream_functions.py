"""numpy implementations of the upstream `arith` and `tensor` ops the project's IR uses.

xDSL 0.74 interprets these ops on its own `ShapedArray` (a Python list per tensor, one Python
operation per element) and `arith.constant` only for scalars; the accllm interpreter keeps every
tensor as a numpy array, so these replace xDSL's tables for those two dialects. `func` ops come
from xDSL unchanged (they pass values through). Integer arithmetic wraps at the type's width as
in MLIR (numpy's fixed-width dtypes do exactly that).
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects import arith, tensor
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    DenseIntOrFPElementsAttr,
    FloatAttr,
    IntegerAttr,
    TensorType,
)
from xdsl.interpreter import Interpreter, InterpreterFunctions, impl, register_impls
from xdsl.ir import Attribute

from accllm.interpreter.values import InterpretError, dense_to_numpy, dtype_for


def _as(value, t: Attribute):
    """A value of type t: a numpy array for tensors, a numpy scalar otherwise."""
    if isinstance(t, TensorType):
        return np.asarray(value).astype(dtype_for(t.element_type), copy=False)
    return dtype_for(t).type(value)


def _binary(fn):
    def run(self, interpreter: Interpreter, op, args: tuple):
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            return (_as(fn(*args), op.result.type),)

    return run


def _unary_cast(self, interpreter: Interpreter, op, args: tuple):
    (x,) = args
    with np.errstate(over="ignore", invalid="ignore"):
        return (_as(np.asarray(x).astype(_dtype_of(op.result.type)), op.result.type),)


def _dtype_of(t: Attribute) -> np.dtype:
    return dtype_for(t.element_type if isinstance(t, TensorType) else t)


def _div_trunc(a, b):
    if np.any(np.asarray(b) == 0):
        raise InterpretError("integer division by zero")
    q = np.abs(a) // np.abs(b)
    return np.where((np.asarray(a) < 0) != (np.asarray(b) < 0), -q, q)


def _rem_trunc(a, b):
    if np.any(np.asarray(b) == 0):
        raise InterpretError("integer remainder by zero")
    return np.fmod(a, b)


_CMPI = {0: np.equal, 1: np.not_equal, 2: np.less, 3: np.less_equal, 4: np.greater,
         5: np.greater_equal}  # fmt: skip
# arith.cmpf predicates: ordered comparisons are false on NaN (numpy's behaviour); 0 = false.
_CMPF = {1: np.equal, 2: np.greater, 3: np.greater_equal, 4: np.less, 5: np.less_equal,
         6: lambda a, b: (a != b) & ~np.isnan(a) & ~np.isnan(b)}  # fmt: skip


@register_impls
class ArithFunctions(InterpreterFunctions):
    """`arith` on numpy scalars and tensors."""

    @impl(arith.ConstantOp)
    def run_constant(self, interpreter: Interpreter, op: arith.ConstantOp, args: tuple):
        v = op.value
        if isinstance(v, DenseIntOrFPElementsAttr):
            return (dense_to_numpy(v),)
        if isinstance(v, IntegerAttr | FloatAttr):
            return (_as(v.value.data, op.result.type),)
        raise InterpretError(f"arith.constant of {v} is not supported")

    run_addi = impl(arith.AddiOp)(_binary(np.add))
    run_subi = impl(arith.SubiOp)(_binary(np.subtract))
    run_muli = impl(arith.MuliOp)(_binary(np.multiply))
    run_andi = impl(arith.AndIOp)(_binary(np.bitwise_and))
    run_ori = impl(arith.OrIOp)(_binary(np.bitwise_or))
    run_xori = impl(arith.XOrIOp)(_binary(np.bitwise_xor))
    run_maxsi = impl(arith.MaxSIOp)(_binary(np.maximum))
    run_minsi = impl(arith.MinSIOp)(_binary(np.minimum))
    run_divsi = impl(arith.DivSIOp)(_binary(_div_trunc))
    run_remsi = impl(arith.RemSIOp)(_binary(_rem_trunc))
    run_shli = impl(arith.ShLIOp)(_binary(np.left_shift))
    run_shrsi = impl(arith.ShRSIOp)(_binary(np.right_shift))
    run_addf = impl(arith.AddfOp)(_binary(np.add))
    run_subf = impl(arith.SubfOp)(_binary(np.subtract))
    run_mulf = impl(arith.MulfOp)(_binary(np.multiply))
    run_divf = impl(arith.DivfOp)(_binary(np.divide))
    run_maximumf = impl(arith.MaximumfOp)(_binary(np.maximum))
    run_minimumf = impl(arith.MinimumfOp)(_binary(np.minimum))
    run_negf = impl(arith.NegfOp)(_binary(np.negative))

    run_index_cast = impl(arith.IndexCastOp)(_unary_cast)
    run_sitofp = impl(arith.SIToFPOp)(_unary_cast)
    run_extf = impl(arith.ExtFOp)(_unary_cast)
    run_truncf = impl(arith.TruncFOp)(_unary_cast)
    run_extsi = impl(arith.ExtSIOp)(_unary_cast)
    run_trunci = impl(arith.TruncIOp)(_unary_cast)

    @impl(arith.FPToSIOp)
    def run_fptosi(self, interpreter: Interpreter, op: arith.FPToSIOp, args: tuple):
        (x,) = args
        return (_as(np.trunc(x).astype(_dtype_of(op.result.type)), op.result.type),)

    @impl(arith.CmpiOp)
    def run_cmpi(self, interpreter: Interpreter, op: arith.CmpiOp, args: tuple):
        pred = op.predicate.value.data
        if pred not in _CMPI:
            raise InterpretError("unsigned arith.cmpi predicates are not supported")
        return (_as(_CMPI[pred](*args), op.result.type),)

    @impl(arith.CmpfOp)
    def run_cmpf(self, interpreter: Interpreter, op: arith.CmpfOp, args: tuple):
        pred = op.predicate.value.data
        if pred not in _CMPF:
            raise InterpretError(f"arith.cmpf predicate {pred} is not supported")
        return (_as(_CMPF[pred](*args), op.result.type),)

    @impl(arith.SelectOp)
    def run_select(self, interpreter: Interpreter, op: arith.SelectOp, args: tuple):
        c, a, b = args
        return (_as(np.where(c, a, b), op.result.type),)


def _mixed(static, dynamic) -> list[int]:
    """Static sizes/offsets with DYNAMIC_INDEX entries taken in order from the operands."""
    dyn = iter(int(d) for d in dynamic)
    return [next(dyn) if s == DYNAMIC_INDEX else s for s in static.get_values()]


def _slices(op, shape) -> tuple[slice, ...]:
    offsets = _mixed(op.static_offsets, op.offsets)
    sizes = _mixed(op.static_sizes, op.sizes)
    strides = _mixed(op.static_strides, op.strides)
    out = []
    for dim, o, s, st in zip(shape, offsets, sizes, strides, strict=True):
        end = o + (s - 1) * st + 1 if s else o
        if o < 0 or st < 1 or end > dim:
            raise InterpretError(
                f"slice offset {o}, size {s}, stride {st} is out of bounds for a dimension of {dim}"
            )
        out.append(slice(o, o + s * st, st))
    return tuple(out)


@register_impls
class TensorFunctions(InterpreterFunctions):
    """`tensor` shape ops on numpy arrays."""

    @impl(tensor.EmptyOp)
    def run_empty(self, interpreter: Interpreter, op: tensor.EmptyOp, args: tuple):
        t = op.tensor.type
        dyn = iter(int(a) for a in args)
        shape = [next(dyn) if d == DYNAMIC_INDEX else d for d in t.get_shape()]
        # tensor.empty's contents are undefined; zeros make runs reproducible.
        return (np.zeros(shape, dtype=dtype_for(t.element_type)),)

    @impl(tensor.ExtractSliceOp)
    def run_extract_slice(self, interpreter: Interpreter, op: tensor.ExtractSliceOp, args):
        src = args[0]
        part = src[_slices(op, src.shape)]
        # Rank-reducing slices drop unit dimensions: the result type gives the shape.
        return (np.ascontiguousarray(part).reshape(op.result.type.get_shape()),)

    @impl(tensor.InsertSliceOp)
    def run_insert_slice(self, interpreter: Interpreter, op: tensor.InsertSliceOp, args):
        src, dest = args[0], args[1]
        out = dest.copy()
        sl = _slices(op, dest.shape)
        out[sl] = np.asarray(src).reshape(out[sl].shape)
        return (out,)

    @impl(tensor.CollapseShapeOp)
    def run_collapse_shape(self, interpreter: Interpreter, op: tensor.CollapseShapeOp, args):
        return (np.reshape(args[0], op.result.type.get_shape()),)

    @impl(tensor.ExpandShapeOp)
    def run_expand_shape(self, interpreter: Interpreter, op: tensor.ExpandShapeOp, args):
        return (np.reshape(args[0], op.result.type.get_shape()),)

    @impl(tensor.ReshapeOp)
    def run_reshape(self, interpreter: Interpreter, op: tensor.ReshapeOp, args):
        src, shape = args
        return (np.reshape(src, [int(d) for d in np.asarray(shape).reshape(-1)]),)

    @impl(tensor.CastOp)
    def run_cast(self, interpreter: Interpreter, op: tensor.CastOp, args):
        return (args[0],)

    @impl(tensor.ConcatOp)
    def run_concat(self, interpreter: Interpreter, op: tensor.ConcatOp, args):
        return (np.concatenate(args, axis=op.dim.value.data),)

    @impl(tensor.ExtractOp)
    def run_extract(self, interpreter: Interpreter, op: tensor.ExtractOp, args):
        src, *idx = args
        return (src[tuple(int(i) for i in idx)],)

    @impl(tensor.InsertOp)
    def run_insert(self, interpreter: Interpreter, op: tensor.InsertOp, args):
        value, dest, *idx = args
        out = dest.copy()
        out[tuple(int(i) for i in idx)] = value
        return (out,)

    @impl(tensor.FromElementsOp)
    def run_from_elements(self, interpreter: Interpreter, op: tensor.FromElementsOp, args):
        return (_as(np.array(args).reshape(op.result.type.get_shape()), op.result.type),)

    @impl(tensor.SplatOp)
    def run_splat(self, interpreter: Interpreter, op: tensor.SplatOp, args):
        value, *dyn = args
        d = iter(int(a) for a in dyn)
        shape = [next(d) if s == DYNAMIC_INDEX else s for s in op.result.type.get_shape()]
        return (_as(np.full(shape, value), op.result.type),)

    @impl(tensor.DimOp)
    def run_dim(self, interpreter: Interpreter, op: tensor.DimOp, args):
        src, index = args
        return (np.int64(np.shape(src)[int(index)]),)
