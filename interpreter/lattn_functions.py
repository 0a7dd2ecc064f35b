"""Interpreter implementations of the `lattn` ops (Λ attention and its KV cache).

Float form: scores q.k / sqrt(head_dim) and softmax in the element type, as PyTorch's SDPA does
for float32. Quantized form: KV4 caches are the golden model's `LambdaKVCache` (one layer), and
quantization, slots and attention are `accllm.numerics.contract` functions.
"""

from __future__ import annotations

import numpy as np
from xdsl.interpreter import Interpreter, InterpreterFunctions, impl, register_impls

from accllm.dialects import lattn
from accllm.dialects.lattn import KVCacheType
from accllm.interpreter.values import FloatKVCache, InterpretError, KV4Cache, QTensor
from accllm.numerics import contract as ct

RES_FRAC = ct.NUMERICS.res_frac


def _split_heads(x: np.ndarray, heads: int) -> np.ndarray:
    """[T, heads * hd] -> [heads, T, hd]."""
    t, feats = x.shape
    return x.reshape(t, heads, feats // heads).swapaxes(0, 1)


def float_attention(q, k, v, visible, num_heads: int) -> np.ndarray:
    """softmax(q k^T / sqrt(hd), over visible keys) v for q [Tq, nh*hd], k, v [nkv, N, hd]
    (GQA: query head h reads KV head h // (nh / nkv)); visible [Tq, N]. Returns [Tq, nh*hd]."""
    dt = q.dtype
    nkv, _, hd = k.shape
    qh = _split_heads(q, num_heads)  # [nh, Tq, hd]
    kv_of = np.arange(num_heads) // (num_heads // nkv)
    scores = np.matmul(qh, k[kv_of].swapaxes(1, 2)) * dt.type(1.0 / np.sqrt(hd))
    scores = np.where(visible[None], scores, dt.type(-np.inf))
    m = np.max(scores, axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)  # a row with no visible key gives zeros, not NaN
    e = np.exp(scores - m)
    z = e.sum(axis=-1, keepdims=True)
    p = np.where(z > 0, e / np.where(z > 0, z, 1), 0).astype(dt)
    o = np.matmul(p, v[kv_of])  # [nh, Tq, hd]
    return o.swapaxes(0, 1).reshape(q.shape[0], -1).astype(dt)


def _kv4_quantize(x: np.ndarray, heads: int):
    """KV4 of residual rows x [T, heads*hd] per (token, head): (codes [heads, T, hd], zp, exp)
    laid out as LambdaKVCache.write takes them."""
    t = x.shape[0]
    codes, zp, e = ct.kv4_quantize(x.reshape(t, heads, -1), RES_FRAC)
    return codes.swapaxes(0, 1), zp.swapaxes(0, 1), e.swapaxes(0, 1)


def _last_writers(slots: np.ndarray) -> np.ndarray:
    """Indices of the tokens that end up in their slot when written in order."""
    _, last_rev = np.unique(slots[::-1], return_index=True)
    return len(slots) - 1 - last_rev


@register_impls
class LattnFunctions(InterpreterFunctions):
    """Implementations of every `lattn` op."""

    @impl(lattn.EmptyOp)
    def run_empty(self, interpreter: Interpreter, op: lattn.EmptyOp, args: tuple):
        t: KVCacheType = op.result.type
        return (KV4Cache.empty(t) if t.is_kv4() else FloatKVCache.empty(t),)

    @impl(lattn.AppendOp)
    def run_append(self, interpreter: Interpreter, op: lattn.AppendOp, args: tuple):
        cache, keys, values = args
        t: KVCacheType = op.cache.type
        if isinstance(keys, QTensor):
            keys, values = keys.values, values.values
        k = keys.reshape(-1, keys.shape[-1])
        v = values.reshape(-1, values.shape[-1])
        pos = cache.n + np.arange(k.shape[0], dtype=np.int64)
        heads = t.heads.data
        if isinstance(cache, KV4Cache):
            store = cache.copied()
            store.write(0, pos, _kv4_quantize(k, heads), _kv4_quantize(v, heads))
            return (KV4Cache(t, store, cache.n + len(pos)),)
        slots = ct.lambda_slot(pos, t.sink.data, t.window.data)
        keep = _last_writers(slots)
        nk, nv, npos = cache.k.copy(), cache.v.copy(), cache.pos.copy()
        nk[:, slots[keep]] = _split_heads(k, heads)[:, keep]
        nv[:, slots[keep]] = _split_heads(v, heads)[:, keep]
        npos[slots[keep]] = pos[keep]
        return (FloatKVCache(t, nk, nv, npos, cache.n + len(pos)),)

    @impl(lattn.PrefillOp)
    def run_prefill(self, interpreter: Interpreter, op: lattn.PrefillOp, args: tuple):
        q, k, v = args
        nh, nkv = op.num_heads.value.data, op.num_kv_heads.value.data
        quant = isinstance(q, QTensor)
        qa, ka, va = (a.values for a in (q, k, v)) if quant else (q, k, v)
        t = qa.shape[-2]
        pos = np.arange(t, dtype=np.int64)
        if op.sink is not None:
            sink, window = op.sink.value.data, op.window.value.data
        else:
            sink, window = 0, t  # plain causal: every earlier key is in the window
        outs = []
        for qb, kb, vb in zip(
            qa.reshape(-1, t, qa.shape[-1]),
            ka.reshape(-1, t, ka.shape[-1]),
            va.reshape(-1, t, va.shape[-1]),
            strict=True,
        ):
            if quant:
                kc, kz, ke = _kv4_quantize(kb, nkv)
                vc, vz, ve = _kv4_quantize(vb, nkv)
                qh = qb.reshape(t, nh, -1)
                outs.append(ct.attention_lambda(qh, pos, kc, kz, ke, vc, vz, ve, pos, sink, window))
                continue
            if op.causal is not None:
                vis = ct.lambda_visible(pos[:, None], pos[None, :], sink, window)
            else:
                vis = np.ones((t, t), dtype=bool)
            outs.append(float_attention(qb, _split_heads(kb, nkv), _split_heads(vb, nkv), vis, nh))
        out = np.stack(outs).reshape(qa.shape)
        if quant:
            return (QTensor(op.result.type, out),)
        return (out.astype(qa.dtype),)

    @impl(lattn.DecodeOp)
    def run_decode(self, interpreter: Interpreter, op: lattn.DecodeOp, args: tuple):
        q, cache = args
        nh = op.num_heads.value.data
        t: KVCacheType = op.cache.type
        if cache.n == 0:
            raise InterpretError("decode on an empty KV cache: append the token first")
        qpos = np.array([cache.n - 1], dtype=np.int64)
        if isinstance(cache, KV4Cache):
            kc, kz, ke, vc, vz, ve, kpos = cache.store.read(0)
            qh = q.values.reshape(1, nh, -1)
            o = ct.attention_lambda(
                qh, qpos, kc, kz, ke, vc, vz, ve, kpos, t.sink.data, t.window.data
            )
            return (QTensor(op.result.type, o.reshape(q.values.shape)),)
        # The cache holds exactly the Λ-visible keys: attend to every occupied slot.
        vis = (cache.pos >= 0)[None, :]
        o = float_attention(q.reshape(1, -1), cache.k, cache.v, vis, nh)
        return (o.reshape(q.shape),)
