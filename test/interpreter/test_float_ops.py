# ruff: noqa: E501  (hand-written IR lines are kept whole to stay readable)
"""Model-level (float) smla / lattn ops on small hand-written IR against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from transformers import LlamaConfig
from transformers.models.llama.modeling_llama import (
    LlamaRMSNorm,
    LlamaRotaryEmbedding,
    apply_rotary_pos_emb,
)

RNG = np.random.default_rng(7)


def dense(a: np.ndarray) -> str:
    return f"dense<{np.array2string(a, separator=', ', threshold=10**6, floatmode='unique')}>"


def randn(*shape) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def test_rmsnorm_matches_hf_llama_rmsnorm(run_ir):
    x, g = randn(2, 3, 16) * 3, 1 + 0.1 * randn(16)
    ir = f"""func.func @f(%x: tensor<2x3x16xf32>) -> tensor<2x3x16xf32> {{
      %g = smla.weight {dense(g)} : tensor<16xf32>
      %y = smla.rmsnorm %x, %g epsilon = 1.0e-06 : tensor<2x3x16xf32>, tensor<16xf32> -> tensor<2x3x16xf32>
      func.return %y : tensor<2x3x16xf32>
    }}"""
    (y,) = run_ir(ir, [x])
    norm = LlamaRMSNorm(16, eps=1e-6)
    with torch.no_grad():
        norm.weight.copy_(torch.from_numpy(g))
        want = norm(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(y, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("theta, head_dim", [(10000.0, 16), (500000.0, 32)])
def test_rope_matches_hf_rotary_embedding(run_ir, theta, head_dim):
    heads, t = 2, 5
    x = randn(1, t, heads * head_dim)
    pos = np.array([0, 1, 7, 63, 200], dtype=np.int64)
    typ = f"tensor<1x{t}x{heads * head_dim}xf32>"
    ir = f"""func.func @f(%x: {typ}, %p: tensor<{t}xi64>) -> {typ} {{
      %y = smla.rope %x, %p {{head_dim = {head_dim}, theta = {theta}, max_positions = 256}} : {typ}, tensor<{t}xi64> -> {typ}
      func.return %y : {typ}
    }}"""
    (y,) = run_ir(ir, [x, pos])
    cfg = LlamaConfig(
        hidden_size=heads * head_dim,
        num_attention_heads=heads,
        head_dim=head_dim,
        rope_theta=theta,
        max_position_embeddings=256,
    )
    rot = LlamaRotaryEmbedding(cfg)
    xt = torch.from_numpy(x).view(1, t, heads, head_dim).transpose(1, 2)  # [B, H, T, hd]
    cos, sin = rot(xt, torch.from_numpy(pos)[None])
    want, _ = apply_rotary_pos_emb(xt, xt, cos, sin)
    want = want.transpose(1, 2).reshape(1, t, -1).numpy()
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)


def test_linear_bias_silu_swiglu_add_mul_embedding_lm_head(run_ir):
    x, w, b = randn(3, 8), randn(4, 8), randn(4)
    table, ids = randn(10, 8), np.array([[3, 9, 0]], dtype=np.int64)
    ir = f"""func.func @f(%x: tensor<3x8xf32>, %ids: tensor<1x3xi64>) -> (tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<1x3x8xf32>, tensor<3x4xf32>) {{
      %w = smla.weight {dense(w)} : tensor<4x8xf32>
      %b = smla.weight {dense(b)} : tensor<4xf32>
      %t = smla.weight {dense(table)} : tensor<10x8xf32>
      %y = smla.linear %x, %w bias %b : tensor<3x8xf32>, tensor<4x8xf32>, tensor<4xf32> -> tensor<3x4xf32>
      %s = smla.silu %y : tensor<3x4xf32> -> tensor<3x4xf32>
      %g = smla.swiglu %y, %s : tensor<3x4xf32>, tensor<3x4xf32> -> tensor<3x4xf32>
      %a = smla.add %y, %s : tensor<3x4xf32>, tensor<3x4xf32> -> tensor<3x4xf32>
      %m = smla.mul %y, %s : tensor<3x4xf32>, tensor<3x4xf32> -> tensor<3x4xf32>
      %e = smla.embedding %ids, %t : tensor<1x3xi64>, tensor<10x8xf32> -> tensor<1x3x8xf32>
      %l = smla.lm_head %x, %w : tensor<3x8xf32>, tensor<4x8xf32> -> tensor<3x4xf32>
      func.return %s, %g, %a, %m, %e, %l : tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<1x3x8xf32>, tensor<3x4xf32>
    }}"""
    s, g, a, m, e, lm = run_ir(ir, [x, ids])
    tx, tw, tb = (torch.from_numpy(v) for v in (x, w, b))
    y = F.linear(tx, tw, tb)
    ts = F.silu(y)
    close = {"rtol": 1e-5, "atol": 1e-6}
    np.testing.assert_allclose(s, ts.numpy(), **close)
    np.testing.assert_allclose(g, (F.silu(y) * ts).numpy(), **close)
    np.testing.assert_allclose(a, (y + ts).numpy(), **close)
    np.testing.assert_allclose(m, (y * ts).numpy(), **close)
    np.testing.assert_array_equal(e, F.embedding(torch.from_numpy(ids), torch.from_numpy(table)))
    np.testing.assert_allclose(lm, F.linear(tx, tw).numpy(), **close)


def lambda_mask(tq: int, tk: int, sink: int, window: int, offset: int = 0) -> np.ndarray:
    """Λ visibility written out with loops: query at offset+i sees key j (j <= offset+i) if j is
    a sink or one of the `window` most recent positions."""
    m = np.zeros((tq, tk), dtype=bool)
    for i in range(tq):
        for j in range(tk):
            qi = offset + i
            m[i, j] = j <= qi and (j < sink or qi - j < window)
    return m


def sdpa(q, k, v, nh, nkv, mask):
    """torch SDPA of [1, T, heads*hd] tensors with GQA (repeat_interleave, as HF repeat_kv)."""
    hd = q.shape[-1] // nh

    def heads(a, n):
        return torch.from_numpy(a).view(1, a.shape[1], n, hd).transpose(1, 2)

    kk = heads(k, nkv).repeat_interleave(nh // nkv, dim=1)
    vv = heads(v, nkv).repeat_interleave(nh // nkv, dim=1)
    o = F.scaled_dot_product_attention(heads(q, nh), kk, vv, attn_mask=torch.from_numpy(mask))
    return o.transpose(1, 2).reshape(1, q.shape[1], -1).numpy()


@pytest.mark.parametrize("attrs, sink, window", [("causal, sink = 2, window = 3", 2, 3),
                                                 ("causal", 0, 99), ("", None, None)])  # fmt: skip
def test_prefill_gqa_masks_match_torch_sdpa(run_ir, attrs, sink, window):
    nh, nkv, hd, t = 4, 2, 8, 9
    q, k, v = randn(1, t, nh * hd), randn(1, t, nkv * hd), randn(1, t, nkv * hd)
    qt, kt = f"tensor<1x{t}x{nh * hd}xf32>", f"tensor<1x{t}x{nkv * hd}xf32>"
    ir = f"""func.func @f(%q: {qt}, %k: {kt}, %v: {kt}) -> {qt} {{
      %o = lattn.prefill %q, %k, %v {{num_heads = {nh}, num_kv_heads = {nkv}{", " + attrs if attrs else ""}}} : {qt}, {kt}, {kt} -> {qt}
      func.return %o : {qt}
    }}"""
    (o,) = run_ir(ir, [q, k, v])
    mask = np.ones((t, t), bool) if sink is None else lambda_mask(t, t, sink, window)
    np.testing.assert_allclose(o, sdpa(q, k, v, nh, nkv, mask), rtol=1e-5, atol=1e-6)


def test_float_cache_append_decode_ring_buffer_matches_lambda_sdpa(run_ir):
    """Append 7 tokens (S=1, W=3: the window wraps twice), then decode the last one: the
    attention equals SDPA over all 7 keys with the Λ mask of the last query."""
    nh, nkv, hd, t = 2, 1, 4, 7
    k, v, q = randn(1, t, nkv * hd), randn(1, t, nkv * hd), randn(1, 1, nh * hd)
    ct_ = f"!lattn.kv_cache<heads={nkv}, head_dim={hd}, sink=1, window=3, f32>"
    kt, qt = f"tensor<1x{t}x{nkv * hd}xf32>", f"tensor<1x1x{nh * hd}xf32>"
    ir = f"""func.func @f(%k: {kt}, %v: {kt}, %q: {qt}) -> ({qt}, {ct_}) {{
      %c0 = lattn.empty : {ct_}
      %c1 = lattn.append %c0, %k, %v : {ct_}, {kt}, {kt}
      %o = lattn.decode %q, %c1 {{num_heads = {nh}}} : {qt}, {ct_} -> {qt}
      func.return %o, %c1 : {qt}, {ct_}
    }}"""
    o, cache = run_ir(ir, [k, v, q])
    assert int(cache["n"]) == t
    assert sorted(cache["pos"].tolist()) == [0, 4, 5, 6]  # the sink and the last 3 tokens
    mask = lambda_mask(1, t, 1, 3, offset=t - 1)
    np.testing.assert_allclose(o, sdpa(q, k, v, nh, nkv, mask), rtol=1e-5, atol=1e-6)
