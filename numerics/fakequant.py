"""Float fake-quant model (PyTorch, float64): the compressed model's quantization in float math.

Same parameters as the golden model (the 2:4 masks, W2 codes, zero points and dyadic scales,
the int8 embedding and LM head, the quantized RMSNorm gains, all read from a CompressedModel),
same quantizer rules (per-token pow2 A8, per-(token, head) pow2 KV4 with an integer zero point,
Λ visibility), but exact float nonlinearities (rsqrt, exp, sigmoid, cos/sin) and no fixed-point
rounding of intermediates. It measures the accuracy cost of compression; the golden model is
the bit-exact reference. One full-sequence forward with the Λ mask equals token-by-token decode
with the Λ cache because every quantizer here is per token.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from accllm.numerics import contract as ct
from accllm.numerics.compress import CompressedModel, NormParams

C = ct.NUMERICS


def _round(x: torch.Tensor) -> torch.Tensor:
    return torch.floor(x + 0.5)  # the contract's tie rule: half toward +inf


def fq_act_pow2(x: torch.Tensor) -> torch.Tensor:
    """Fake A8 over the last axis: f = largest exponent in [act_exp_min, act_exp_max] with
    every round(x 2^f) in [-127, 127]; returns round(x 2^f) 2^-f."""
    exps = torch.arange(C.act_exp_max, C.act_exp_min - 1, -1, dtype=torch.float64)
    hi = x.amax(-1, keepdim=True)
    lo = x.amin(-1, keepdim=True)
    sc = torch.exp2(exps)
    ok = (_round(hi * sc) <= C.act_qmax) & (_round(lo * sc) >= -C.act_qmax)
    f = exps[ok.to(torch.int64).argmax(-1)]
    s = torch.exp2(f)[..., None]
    return _round(x * s) / s


def fq_kv4(x: torch.Tensor) -> torch.Tensor:
    """Fake KV4 over the last axis: range [min(x,0), max(x,0)], e = largest exponent with
    round(hi 2^e) - round(lo 2^e) <= 15, z = -round(lo 2^e); returns (round(x 2^e) + z - z) 2^-e
    (the codes never clip because rounding is monotone)."""
    exps = torch.arange(C.kv_exp_max, C.kv_exp_min - 1, -1, dtype=torch.float64)
    hi = x.amax(-1, keepdim=True).clamp(min=0)
    lo = x.amin(-1, keepdim=True).clamp(max=0)
    sc = torch.exp2(exps)
    ok = _round(hi * sc) - _round(lo * sc) <= 15
    e = exps[ok.to(torch.int64).argmax(-1)]
    s = torch.exp2(e)[..., None]
    return _round(x * s) / s


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


def lambda_mask(n: int, sinks: int, window: int) -> torch.Tensor:
    """Bool [n, n] Λ visibility (query i, key j) of a sequence starting at position 0."""
    i = torch.arange(n)[:, None]
    j = torch.arange(n)[None, :]
    return (j <= i) & ((j < sinks) | (j > i - window))


class FakeQuantModel(torch.nn.Module):
    """Float64 fake-quant decoder built from a CompressedModel.

    ``act8`` / ``kv4`` switch the A8 and KV4 quantizers (both on for the fake-quant model; the
    accuracy evaluation, numerics/evaluate.py, turns them off to measure one step at a time)."""

    def __init__(
        self, cm: CompressedModel, sinks: int, window: int, act8: bool = True, kv4: bool = True
    ):
        super().__init__()
        self.cm, self.sinks, self.window = cm, sinks, window
        self.a8 = fq_act_pow2 if act8 else _identity
        self.kv = fq_kv4 if kv4 else _identity

        def t(a):
            return torch.tensor(np.asarray(a, dtype=np.float64))

        self.embed = t(
            cm.embed_q.astype(np.float64) * np.exp2(-cm.embed_exp.astype(np.float64))[:, None]
        )
        self.layers = [
            {
                name: t(ct.w2_dense_real(getattr(ly, name)))
                for name in ("q", "k", "v", "o", "gate", "up", "down")
            }
            | {"attn_norm": self._gain(ly.attn_norm), "mlp_norm": self._gain(ly.mlp_norm)}
            | {
                f"{name}.bias": t(getattr(ly, name).bias * 2.0**-C.res_frac)
                for name in ("q", "k", "v", "o", "gate", "up", "down")
                if getattr(ly, name).bias is not None
            }
            for ly in cm.layers
        ]
        self.final_norm = self._gain(cm.final_norm)
        lm_scale = cm.lm_mult.astype(np.float64) * np.exp2(-cm.lm_exp.astype(np.float64))
        self.lm = t(cm.lm_q.astype(np.float64) * lm_scale[:, None])

    def _gain(self, norm: NormParams) -> torch.Tensor:
        # the quantized gain: G 2^-sh / sqrt(H), so only nonlinear rounding differs from golden
        g = norm.gain.astype(np.float64) * 2.0**-norm.shift / math.sqrt(len(norm.gain))
        return torch.tensor(g)

    def _rms(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + self.cm.rms_eps) * g

    def forward(self, ids) -> torch.Tensor:
        """Logits [T, vocab] (float64) of the sequence ``ids`` at positions 0..T-1 with the
        Λ mask (RoPE at exact float angles from the model's inverse frequencies)."""
        cm = self.cm
        ids = torch.as_tensor(np.asarray(ids), dtype=torch.int64)
        n, nh, nkv, hd = len(ids), cm.n_heads, cm.n_kv_heads, cm.head_dim
        ang = torch.arange(n, dtype=torch.float64)[:, None] * torch.as_tensor(cm.rope_inv_freq)
        cos, sin = torch.cos(ang)[:, None, :], torch.sin(ang)[:, None, :]

        def rope(x):
            x1, x2 = x[..., : hd // 2], x[..., hd // 2 :]
            return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1)

        def lin(x, w, bias=None):
            pad = w.shape[1] - x.shape[-1]  # a zero-padded K (contract.padded_k)
            y = torch.nn.functional.pad(self.a8(x), (0, pad)) @ w.T
            return y if bias is None else y + bias  # the quantized (Q15.16) bias

        mask = lambda_mask(n, self.sinks, self.window)
        h = self.embed[ids]
        for ly in self.layers:

            def proj(x, name, ly=ly):
                return lin(x, ly[name], ly.get(f"{name}.bias"))

            x = self._rms(h, ly["attn_norm"])
            q = rope(proj(x, "q").reshape(n, nh, hd))
            k = self.kv(rope(proj(x, "k").reshape(n, nkv, hd)))
            v = self.kv(proj(x, "v").reshape(n, nkv, hd))
            q = self.a8(q)
            rep = nh // nkv
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
            s = torch.einsum("thd,jhd->htj", q, k) / math.sqrt(hd)
            s = s.masked_fill(~mask, float("-inf"))
            o = torch.einsum("htj,jhd->thd", torch.softmax(s, -1), v).reshape(n, nh * hd)
            h = h + proj(o, "o")
            x = self._rms(h, ly["mlp_norm"])
            a = torch.nn.functional.silu(proj(x, "gate")) * proj(x, "up")
            h = h + proj(a, "down")
        return lin(self._rms(h, self.final_norm), self.lm)
