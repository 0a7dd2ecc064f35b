"""Interpreter implementations of the `smla` ops, evaluated with numpy on whole tensors.

Float form: numpy float math in the tensors' element type, following HF Llama's PyTorch code
where the order of operations matters (RMSNorm, RoPE). Quantized form: every integer result
comes from `accllm.numerics.contract` (the one implementation of the arithmetic); this module
only reshapes, unpacks types and calls it.
"""

from __future__ import annotations

import functools

import numpy as np
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, DictionaryAttr, TensorType
from xdsl.interpreter import Interpreter, InterpreterFunctions, impl, register_impls
from xdsl.ir import Attribute, Operation
from xdsl.utils.exceptions import VerifyException

from accllm.dialects import smla
from accllm.dialects.quant_types import ParamAttr, QTensorType, QWeightType, SparsityAttr
from accllm.interpreter.params import ParamStore
from accllm.interpreter.values import (
    InterpretError,
    QTensor,
    QWeight,
    dense_to_numpy,
    dtype_for,
    make_qtensor,
    make_qweight,
)
from accllm.numerics import contract as ct

C = ct.NUMERICS


def _is_quant(t: Attribute) -> bool:
    return isinstance(t, QTensorType | QWeightType)


def _float(x: np.ndarray, t: TensorType) -> np.ndarray:
    return np.asarray(x).astype(dtype_for(t.element_type), copy=False)


@functools.lru_cache(maxsize=16)
def _rope_tables(inv_freq: tuple[float, ...], max_positions: int) -> ct.RopeTables:
    return ct.rope_tables(np.array(inv_freq, dtype=np.float64), max_positions)


def _tokens_rows(x: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    """[..., F] -> ([rows, F], leading shape)."""
    return x.reshape(-1, x.shape[-1]), x.shape[:-1]


def quantized_linear(x: QTensor, w: QWeight, out: QTensorType) -> np.ndarray:
    """y = x @ W^T for A8 x and a quantized weight, result fixed point with out's frac."""
    q, lead = _tokens_rows(x.values)
    if w.type.is_w2():
        q = ct.pad_inputs(q, w.type.in_features)  # a zero-padded K (contract padded_k)
    f = x.exp.reshape(-1)
    frac = out.frac.data
    n = w.type.out_features
    if not w.type.is_w2():
        y = ct.linear_int8(
            q, f, w.int8_dense_codes, w.comps["scale_mant"], w.comps["scale_exp"], frac
        )
    elif len(w.w2_parts) == 1:
        y = ct.linear_w2a8(q, f, w.w2_parts[0], frac)
    else:
        # Dense W2: the halves' accumulators add exactly; then the requantizer linear_w2a8
        # applies: requantize_pow2(acc, f + e - F, 32).
        acc = sum(
            ct.sparse_group_mac(
                q, codes, pats, w.comps["zero_point"], w.comps["scale_mant"], w.type.group_size()
            )
            for codes, pats in w.w2_halves
        )
        shift = f[:, None] + w.comps["scale_exp"][None, :] - frac
        y = ct.requantize_pow2(acc, shift, C.res_bits)
    return y.reshape(*lead, n)


def dequantized_weight(w: QWeight) -> np.ndarray:
    """Real value (float64) of a quantized weight as a dense [N, K] matrix."""
    if w.type.is_w2():
        return sum(ct.w2_dense_real(p) for p in w.w2_parts)
    scale = w.comps["scale_mant"] * np.exp2(-w.comps["scale_exp"].astype(np.float64))
    return w.int8_dense_codes * scale[:, None]


def _check_positions(pos: np.ndarray, max_positions: int, count: int) -> np.ndarray:
    pos = np.asarray(pos).astype(np.int64).reshape(-1)
    if pos.size != count:
        raise InterpretError(f"expected {count} positions, got {pos.size}")
    if pos.size and (pos.min() < 0 or pos.max() >= max_positions):
        raise InterpretError(
            f"positions must be in [0, {max_positions}), got [{pos.min()}, {pos.max()}]"
        )
    return pos


@register_impls
class SmlaFunctions(InterpreterFunctions):
    """Implementations of every `smla` op; `params` resolves `#smla.param` references."""

    def __init__(self, params: ParamStore):
        self.params = params
        self._weights: dict[Operation, object] = {}

    # --- weights --------------------------------------------------------------------------

    def _load_weight(self, op: smla.WeightOp):
        t, v = op.result.type, op.value
        if isinstance(v, ParamAttr):
            file, key = v.file.data, v.key.data
            where = f"parameter '{key}' of '{file}'"
            if _is_quant(t):
                comps = {c: self.params.get(file, f"{key}.{c}") for c in t.components()}
                return (make_qweight if isinstance(t, QWeightType) else make_qtensor)(
                    t, comps, where
                )
            arr = self.params.get(file, key)
            if arr.dtype.kind != "f":
                raise InterpretError(f"{where} has dtype {arr.dtype}, expected a float tensor")
            if tuple(arr.shape) != tuple(t.get_shape()):
                raise InterpretError(
                    f"{where} has shape {list(arr.shape)}, the IR says {list(t.get_shape())}"
                )
            if isinstance(t.encoding, SparsityAttr):
                try:
                    smla.verify_sparse_float(arr.astype(np.float64), t.encoding)
                except VerifyException as err:
                    raise InterpretError(f"{where}: {err}") from err
            return _float(arr, t)
        if isinstance(v, DenseIntOrFPElementsAttr):
            return _float(dense_to_numpy(v), t)
        if isinstance(v, DictionaryAttr):
            comps = {name: dense_to_numpy(a) for name, a in v.data.items()}
            make = make_qweight if isinstance(t, QWeightType) else make_qtensor
            return make(t, comps, "inline weight")
        raise InterpretError(f"unsupported weight value {v}")

    @impl(smla.WeightOp)
    def run_weight(self, interpreter: Interpreter, op: smla.WeightOp, args: tuple):
        # Weights are constants: load (and unpack) once per op, also across calls.
        if op not in self._weights:
            self._weights[op] = self._load_weight(op)
        return (self._weights[op],)

    # --- linear layers ----------------------------------------------------------------------

    @impl(smla.LinearOp)
    def run_linear(self, interpreter: Interpreter, op: smla.LinearOp, args: tuple):
        x, w = args[0], args[1]
        bias = args[2] if len(args) > 2 else None
        rt = op.result.type
        if isinstance(rt, QTensorType):
            y = quantized_linear(x, w, rt)
            if bias is not None:
                y = ct.linear_bias_add(y.reshape(-1, y.shape[-1]), bias.values).reshape(y.shape)
            return (QTensor(rt, y),)
        y = np.matmul(x, w.T)
        if bias is not None:
            y = y + bias
        return (_float(y, rt),)

    @impl(smla.LMHeadOp)
    def run_lm_head(self, interpreter: Interpreter, op: smla.LMHeadOp, args: tuple):
        x, w = args
        rt = op.result.type
        if isinstance(rt, QTensorType):
            return (QTensor(rt, quantized_linear(x, w, rt)),)
        return (_float(np.matmul(x, w.T), rt),)

    # --- crossing levels --------------------------------------------------------------------

    @impl(smla.QuantizeOp)
    def run_quantize(self, interpreter: Interpreter, op: smla.QuantizeOp, args: tuple):
        (x,) = args
        rt: QTensorType = op.result.type
        x = np.asarray(x, dtype=np.float64)
        if not np.all(np.isfinite(x)):
            raise InterpretError("cannot quantize non-finite values")
        if rt.is_per_token():
            q, f = ct.quantize_rows_pow2(x)
            return (QTensor(rt, q, f),)
        # Clip before the int64 conversion only to keep it defined; saturate does the real work.
        scaled = np.clip(ct.round_half_up(x * 2.0**rt.frac.data), -(2.0**62), 2.0**62)
        return (QTensor(rt, ct.saturate(scaled.astype(np.int64), rt.bits)),)

    @impl(smla.DequantizeOp)
    def run_dequantize(self, interpreter: Interpreter, op: smla.DequantizeOp, args: tuple):
        (x,) = args
        rt = op.result.type
        if isinstance(x, QWeight):
            return (_float(dequantized_weight(x), rt),)
        if x.type.is_per_token():
            real = x.values * np.exp2(-x.exp.astype(np.float64))[..., None]
        else:
            real = x.values * 2.0**-x.frac
        return (_float(real, rt),)

    @impl(smla.RequantizeOp)
    def run_requantize(self, interpreter: Interpreter, op: smla.RequantizeOp, args: tuple):
        (x,) = args
        rt: QTensorType = op.result.type
        if rt.is_per_token():
            q, f = ct.quantize_act_pow2(x.values, x.frac)
            return (QTensor(rt, q, f),)
        fo = rt.frac.data
        if x.type.is_per_token():
            v = ct.dequantize_act_pow2(x.values, x.exp, fo)
        else:
            v = ct.round_shift(x.values, x.frac - fo)
        return (QTensor(rt, ct.saturate(v, rt.bits)),)

    # --- elementwise ------------------------------------------------------------------------

    @impl(smla.AddOp)
    def run_add(self, interpreter: Interpreter, op: smla.AddOp, args: tuple):
        a, b = args
        rt = op.result.type
        if isinstance(rt, QTensorType):
            return (QTensor(rt, ct.saturate(a.values + b.values, rt.bits)),)
        return (_float(a + b, rt),)

    @impl(smla.MulOp)
    def run_mul(self, interpreter: Interpreter, op: smla.MulOp, args: tuple):
        a, b = args
        rt = op.result.type
        if isinstance(rt, QTensorType):
            prod = ct.round_shift(a.values * b.values, a.frac + b.frac - rt.frac.data)
            return (QTensor(rt, ct.saturate(prod, rt.bits)),)
        return (_float(a * b, rt),)

    @impl(smla.RMSNormOp)
    def run_rmsnorm(self, interpreter: Interpreter, op: smla.RMSNormOp, args: tuple):
        x, gamma = args
        rt = op.result.type
        eps = op.epsilon.value.data
        if isinstance(rt, QTensorType):
            eps_q = int(ct.round_half_up(eps * 2.0**C.eps_frac))
            y = ct.rmsnorm_int(x.values, gamma.values, gamma.frac, eps_q)
            return (QTensor(rt, y),)
        # HF LlamaRMSNorm: in float32, x * rsqrt(mean(x^2) + eps), then weight * x.
        h = x.astype(np.float32)
        var = np.mean(h * h, axis=-1, keepdims=True)
        h = h * (np.float32(1.0) / np.sqrt(var + np.float32(eps)))
        return (_float(gamma * h.astype(x.dtype), rt),)

    @impl(smla.SiLUOp)
    def run_silu(self, interpreter: Interpreter, op: smla.SiLUOp, args: tuple):
        (x,) = args
        rt = op.result.type
        if isinstance(rt, QTensorType):
            return (QTensor(rt, ct.silu_int(x.values)),)
        return (_float(_silu(x), rt),)

    @impl(smla.SwiGLUOp)
    def run_swiglu(self, interpreter: Interpreter, op: smla.SwiGLUOp, args: tuple):
        g, u = args
        rt = op.result.type
        if isinstance(rt, QTensorType):
            return (QTensor(rt, ct.swiglu_int(g.values, u.values)),)
        return (_float(_silu(g) * u, rt),)

    @impl(smla.RoPEOp)
    def run_rope(self, interpreter: Interpreter, op: smla.RoPEOp, args: tuple):
        x, positions = args
        rt = op.result.type
        hd = op.head_dim.value.data
        inv_freq = op.frequencies()  # the op's inv_freq, or theta^(-2i/hd)
        maxp = op.max_positions.value.data
        quant = isinstance(rt, QTensorType)
        data = x.values if quant else x
        *lead, t, feats = data.shape
        pos = _check_positions(positions, maxp, t)
        heads = data.reshape(-1, t, feats // hd, hd)
        if quant:
            tables = _rope_tables(tuple(inv_freq.tolist()), maxp)
            out = np.stack([ct.rope_int(b, pos, tables) for b in heads])
            return (QTensor(rt, out.reshape(data.shape)),)
        # HF: freqs = w * p, emb = cat(freqs, freqs), q cos + rotate_half(q) sin.
        freqs = pos.astype(np.float64)[:, None] * inv_freq[None, :]
        emb = np.concatenate([freqs, freqs], axis=-1)
        cos, sin = np.cos(emb)[:, None, :], np.sin(emb)[:, None, :]
        half = hd // 2
        rot = np.concatenate([-heads[..., half:], heads[..., :half]], axis=-1)
        out = heads * cos.astype(heads.dtype) + rot * sin.astype(heads.dtype)
        return (_float(out.reshape(data.shape), rt),)

    @impl(smla.EmbeddingOp)
    def run_embedding(self, interpreter: Interpreter, op: smla.EmbeddingOp, args: tuple):
        ids, table = args
        rt = op.result.type
        vocab = op.table.type.get_shape()[0]
        ids = np.asarray(ids).astype(np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= vocab):
            raise InterpretError(
                f"token ids must be in [0, {vocab}), got [{ids.min()}, {ids.max()}]"
            )
        if isinstance(rt, QTensorType):
            return (QTensor(rt, ct.embedding_int8(ids, table.values, table.exp)),)
        return (_float(table[ids], rt),)


def _silu(x: np.ndarray) -> np.ndarray:
    """x * sigmoid(x) in x's float type (exp overflow for very negative x gives -0, as in torch)."""
    with np.errstate(over="ignore"):
        return x / (x.dtype.type(1.0) + np.exp(-x))
