"""Integer golden model of a compressed Llama decoder (the contract applied end to end).

Only accllm.numerics.contract functions do arithmetic here; this module wires them together:
embedding -> N x [RMSNorm, A8, Q/K/V W2A8, RoPE, KV4, Λ attention, A8, O, residual, RMSNorm,
A8, gate/up W2A8, SwiGLU, A8, down, residual] -> RMSNorm -> A8 -> int8 LM head -> logits.

Each block is a plain function of arrays (``attention_block``, ``mlp_block``, ``lm_head_block``)
so the IR interpreter can call them op by op. The KV cache is an explicit ``LambdaKVCache``
whose arrays are allocated once with S + W slots per head.
"""

from __future__ import annotations

import numpy as np

from accllm.numerics import contract as ct
from accllm.numerics.compress import CompressedLayer, CompressedModel, NormParams

RES_FRAC = ct.NUMERICS.res_frac


class LambdaKVCache:
    """Λ KV cache: per layer and KV head, S + W slots of packed KV4 keys and values.

    Arrays (allocated once, never resized): k/v packed codes uint8 [L, nkv, S+W, hd/2],
    zero points uint8 and exponents int8 [L, nkv, S+W], and the absolute position held by each
    slot int64 [L, S+W] (-1 = empty). A token at position p goes to contract.lambda_slot(p).
    """

    def __init__(self, n_layers: int, n_kv: int, head_dim: int, sinks: int, window: int):
        if sinks < 0 or window < 1:
            raise ValueError("Λ cache needs S >= 0 sinks and a window W >= 1")
        self.sinks, self.window = sinks, window
        slots = sinks + window
        self.k_packed = np.zeros((n_layers, n_kv, slots, head_dim // 2), dtype=np.uint8)
        self.v_packed = np.zeros_like(self.k_packed)
        self.k_zp = np.zeros((n_layers, n_kv, slots), dtype=np.uint8)
        self.v_zp = np.zeros_like(self.k_zp)
        self.k_exp = np.zeros((n_layers, n_kv, slots), dtype=np.int8)
        self.v_exp = np.zeros_like(self.k_exp)
        self.pos = np.full((n_layers, slots), -1, dtype=np.int64)

    @property
    def nbytes(self) -> int:
        """Bytes held by the cache (constant by construction)."""
        arrays = (self.k_packed, self.v_packed, self.k_zp, self.v_zp, self.k_exp, self.v_exp)
        return sum(a.nbytes for a in arrays) + self.pos.nbytes

    def read(self, layer: int):
        """Unpacked view of one layer: (k_codes, k_zp, k_exp, v_codes, v_zp, v_exp, pos)."""
        return (
            ct.kv4_unpack(self.k_packed[layer]),
            self.k_zp[layer].astype(np.int64),
            self.k_exp[layer].astype(np.int64),
            ct.kv4_unpack(self.v_packed[layer]),
            self.v_zp[layer].astype(np.int64),
            self.v_exp[layer].astype(np.int64),
            self.pos[layer],
        )

    def write(self, layer: int, pos, k, v) -> None:
        """Store KV4 tokens (k, v = (codes [nkv, T, hd], zp [nkv, T], exp [nkv, T])) at absolute
        positions pos [T] in order; a later token evicts an earlier one sharing its slot."""
        pos = np.asarray(pos, dtype=np.int64)
        slots = ct.lambda_slot(pos, self.sinks, self.window)
        # keep only the last writer of each slot (numpy does not order duplicate assignments)
        _, last_rev = np.unique(slots[::-1], return_index=True)
        keep = len(slots) - 1 - last_rev
        s = slots[keep]
        self.k_packed[layer][:, s] = ct.kv4_pack(k[0][:, keep])
        self.k_zp[layer][:, s] = k[1][:, keep]
        self.k_exp[layer][:, s] = k[2][:, keep]
        self.v_packed[layer][:, s] = ct.kv4_pack(v[0][:, keep])
        self.v_zp[layer][:, s] = v[1][:, keep]
        self.v_exp[layer][:, s] = v[2][:, keep]
        self.pos[layer][s] = pos[keep]


def rmsnorm_block(h, norm: NormParams) -> np.ndarray:
    """RMSNorm of the Q15.16 residual rows h [T, H] (contract.rmsnorm_int)."""
    return ct.rmsnorm_int(h, norm.gain, norm.shift, norm.eps_q)


def linear_block(x_fixed, lin: ct.W2Linear) -> np.ndarray:
    """A8-quantize Q15.16 rows per token, then the W2A8 linear -> Q15.16 [T, N]."""
    q, f = ct.quantize_act_pow2(x_fixed, RES_FRAC)
    return ct.linear_w2a8(q, f, lin, RES_FRAC)


def qkv_block(h, pos, layer: CompressedLayer, cm: CompressedModel):
    """Norm + Q/K/V projections + RoPE at absolute positions.

    Returns (q_rot [T, nh, hd], k_rot [T, nkv, hd], v [T, nkv, hd]), all Q15.16."""
    t = h.shape[0]
    x = rmsnorm_block(h, layer.attn_norm)
    hd = cm.head_dim
    q = linear_block(x, layer.q).reshape(t, cm.n_heads, hd)
    k = linear_block(x, layer.k).reshape(t, cm.n_kv_heads, hd)
    v = linear_block(x, layer.v).reshape(t, cm.n_kv_heads, hd)
    return ct.rope_int(q, pos, cm.rope), ct.rope_int(k, pos, cm.rope), v


def lambda_attention_step(q, k, v, pos, cache: LambdaKVCache, layer_idx: int) -> np.ndarray:
    """Λ attention of T new tokens (the attention unit's work): K/V rows [T, nkv, hd] (Q15.16)
    are KV4-quantized per (token, head); the queries q [T, nh, hd] attend over the cached slots
    plus the new tokens under the Λ rule; then the new K/V are written into the cache.
    Returns o [T, nh*hd] (Q15.16)."""
    kq = tuple(a.swapaxes(0, 1) for a in ct.kv4_quantize(k, RES_FRAC))
    vq = tuple(a.swapaxes(0, 1) for a in ct.kv4_quantize(v, RES_FRAC))
    ck, ckz, cke, cv, cvz, cve, cpos = cache.read(layer_idx)
    o = ct.attention_lambda(
        q,
        pos,
        np.concatenate([ck, kq[0]], axis=1),
        np.concatenate([ckz, kq[1]], axis=1),
        np.concatenate([cke, kq[2]], axis=1),
        np.concatenate([cv, vq[0]], axis=1),
        np.concatenate([cvz, vq[1]], axis=1),
        np.concatenate([cve, vq[2]], axis=1),
        np.concatenate([cpos, pos]),
        cache.sinks,
        cache.window,
    )
    cache.write(layer_idx, pos, kq, vq)
    return o


def attention_block(
    h, pos, layer: CompressedLayer, cm: CompressedModel, cache: LambdaKVCache, layer_idx: int
) -> np.ndarray:
    """One attention sub-layer for T new tokens at positions pos [T] (prefill: T > 1 on an
    empty cache; decode: T = 1). The new tokens attend over the cached slots plus themselves
    under the Λ rule, are then written into the cache, and the output goes through O and the
    residual add. Returns the new residual [T, H]."""
    q, k, v = qkv_block(h, pos, layer, cm)
    o = lambda_attention_step(q, k, v, pos, cache, layer_idx)
    return ct.residual_add(h, linear_block(o, layer.o))


def mlp_block(h, layer: CompressedLayer) -> np.ndarray:
    """SwiGLU MLP sub-layer: h + down(A8(silu(gate(x)) * up(x))), x = RMSNorm(h)."""
    x = rmsnorm_block(h, layer.mlp_norm)
    a = ct.swiglu_int(linear_block(x, layer.gate), linear_block(x, layer.up))
    return ct.residual_add(h, linear_block(a, layer.down))


def lm_head_block(h, cm: CompressedModel) -> np.ndarray:
    """Final RMSNorm, A8, int8 LM head -> integer logits (Q15.16) [T, vocab]."""
    x = rmsnorm_block(h, cm.final_norm)
    q, f = ct.quantize_act_pow2(x, RES_FRAC)
    return ct.linear_int8(q, f, cm.lm_q, cm.lm_mult, cm.lm_exp, ct.NUMERICS.logit_frac)


class GoldenModel:
    """The integer decoder with a Λ KV cache of S + W slots per head."""

    def __init__(self, cm: CompressedModel, sinks: int, window: int):
        self.cm, self.sinks, self.window = cm, sinks, window

    def new_cache(self) -> LambdaKVCache:
        cm = self.cm
        return LambdaKVCache(len(cm.layers), cm.n_kv_heads, cm.head_dim, self.sinks, self.window)

    def forward(self, ids, start: int, cache: LambdaKVCache) -> np.ndarray:
        """Run tokens ``ids`` [T] at positions start..start+T-1 (continuing ``cache``); returns
        integer logits [T, vocab] (value = logit * 2^-16)."""
        ids = np.asarray(ids, dtype=np.int64)
        pos = start + np.arange(len(ids), dtype=np.int64)
        h = ct.embedding_int8(ids, self.cm.embed_q, self.cm.embed_exp)
        for i, layer in enumerate(self.cm.layers):
            h = attention_block(h, pos, layer, self.cm, cache, i)
            h = mlp_block(h, layer)
        return lm_head_block(h, self.cm)

    def prefill(self, ids):
        """Prefill a prompt on a fresh cache: (logits [T, vocab], cache)."""
        cache = self.new_cache()
        return self.forward(ids, 0, cache), cache

    def decode_logits(self, ids) -> np.ndarray:
        """Feed ``ids`` one token at a time (teacher forcing); logits [T, vocab]."""
        cache = self.new_cache()
        return np.concatenate([self.forward([t], p, cache) for p, t in enumerate(ids)])

    def generate(self, prompt, n_new: int):
        """Greedy generation: prefill ``prompt`` then decode ``n_new`` tokens. Returns
        (new token ids [n_new], logits of each decode step [n_new, vocab])."""
        logits, cache = self.prefill(prompt)
        nxt = int(np.argmax(logits[-1]))
        out, steps = [], []
        for p in range(len(prompt), len(prompt) + n_new):
            out.append(nxt)
            lg = self.forward([nxt], p, cache)
            steps.append(lg[0])
            nxt = int(np.argmax(lg[0]))
        return np.array(out, dtype=np.int64), np.stack(steps)
