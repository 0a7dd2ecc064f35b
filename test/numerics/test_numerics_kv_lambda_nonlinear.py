"""KV4, the Λ rule and the fixed-point nonlinear units vs independent float computations."""

import math

import numpy as np
import pytest

from accllm.numerics import contract as ct

Q16 = 65536.0


def _fix(x):
    return np.floor(np.asarray(x) * Q16 + 0.5).astype(np.int64)


def test_kv4_quantize_properties_and_maximal_exponent():
    rng = np.random.default_rng(0)
    x = _fix(rng.normal(size=(40, 16)) * rng.choice([0.01, 1, 30], size=(40, 1)))
    codes, z, e = ct.kv4_quantize(x)
    assert codes.min() >= 0 and codes.max() <= 15 and z.min() >= 0 and z.max() <= 15
    real = x / Q16
    deq = (codes - z[:, None]) * np.exp2(-e[:, None].astype(float))
    assert np.all(np.abs(deq - real) <= np.exp2(-e[:, None].astype(float)) / 2 + 1e-12)
    # e is maximal: at e + 1 the rounded range (including 0) would need more than 15 steps
    for row, ee in zip(real, e, strict=True):
        hi, lo = max(row.max(), 0), min(row.min(), 0)
        assert (
            math.floor(hi * 2.0 ** int(ee + 1) + 0.5) - math.floor(lo * 2.0 ** int(ee + 1) + 0.5)
            > 15
        )


def test_kv4_zero_point_at_range_ends():
    x = _fix([[-15 / 16, -0.5, -0.25, 0.0], [15 / 16, 0.5, 0.25, 0.0]])
    codes, z, e = ct.kv4_quantize(x)
    assert e.tolist() == [4, 4] and z.tolist() == [15, 0]
    assert codes.tolist() == [[0, 7, 11, 15], [15, 8, 4, 0]]


def test_kv4_pack_nibble_order_and_roundtrip():
    assert ct.kv4_pack(np.array([1, 2, 15, 0])).tolist() == [0x21, 0x0F]
    rng = np.random.default_rng(1)
    c = rng.integers(0, 16, size=(3, 5, 16))
    assert np.array_equal(ct.kv4_unpack(ct.kv4_pack(c)), c)
    with pytest.raises(ValueError):
        ct.kv4_pack(np.array([16, 0]))


def test_lambda_slot_and_visibility_vs_sets():
    s, w = 2, 3
    assert ct.lambda_slot(np.arange(9), s, w).tolist() == [0, 1, 2, 3, 4, 2, 3, 4, 2]
    for i in range(12):
        want = {j for j in range(i + 1) if j < s} | set(range(max(0, i - w + 1), i + 1))
        got = {j for j in range(-1, 15) if ct.lambda_visible(i, j, s, w)}
        assert got == want
    # visible keys of any query occupy distinct slots (the cache never loses a visible key)
    for i in range(30):
        vis = [j for j in range(i + 1) if ct.lambda_visible(i, j, s, w)]
        assert len(set(ct.lambda_slot(np.array(vis), s, w).tolist())) == len(vis) <= s + w


def test_softmax_int_vs_float():
    rng = np.random.default_rng(2)
    s = rng.normal(size=(20, 33)) * 6
    vis = rng.random(size=(20, 33)) < 0.8
    vis[:, 0] = True
    p = ct.softmax_int(np.floor(s * 1024 + 0.5).astype(np.int64), vis) / 2.0**15
    ref = np.where(vis, np.exp2(s - np.where(vis, s, -np.inf).max(-1, keepdims=True)), 0)
    ref /= ref.sum(-1, keepdims=True)
    # errors: logit rounding 2^-11 (rel 4e-4), LUT 2^-16, reciprocal and P rounding 2^-16
    assert np.abs(p - ref).max() < 3e-4
    assert np.all(p[~vis] == 0)
    assert np.abs(p.sum(-1) - 1).max() < 33 * 2.0**-15


def test_exp2_lut_contents():
    lut = ct.exp2_lut()
    assert len(lut) == 1024 and lut[0] == 32768 and lut[512] == round(32768 / math.sqrt(2))
    assert lut.min() > 1 << 14


def test_rsqrt_int_vs_float():
    rng = np.random.default_rng(3)
    v = np.concatenate([np.arange(1, 300), rng.integers(1, 1 << 61, size=3000), [(1 << 62) - 1]])
    y, k = ct.rsqrt_int(v)
    rel = y * np.exp2(-(45 + k).astype(float)) * np.sqrt(v.astype(float)) - 1
    assert np.abs(rel).max() < 2.0**-28


def test_rmsnorm_int_vs_float():
    rng = np.random.default_rng(4)
    h = 64
    x = rng.normal(size=(16, h)) * rng.choice([1e-3, 1, 100, 20000], size=(16, 1))
    x[0] = 0.0  # all-zero token: eps keeps it finite
    gamma = 1 + 0.1 * rng.normal(size=h)
    gain, sh, eps_q = ct.rmsnorm_params(gamma, 1e-5)
    y = ct.rmsnorm_int(_fix(x), gain, sh, eps_q) / Q16
    xf = _fix(x) / Q16
    ref = xf / np.sqrt((xf**2).mean(-1, keepdims=True) + 1e-5) * gamma
    # gain mantissa (rel 2^-15 at sqrt(H) * max gamma), input truncation to 16 bits (rel 2^-15)
    # and the Q.16 output rounding bound the error relative to the output's max
    tol = 4 * 2.0**-15 * np.abs(ref).max(-1, keepdims=True) + 2.0**-16
    assert np.all(np.abs(y - ref) <= tol)


def test_silu_int_vs_float():
    x = np.linspace(-40, 40, 80001)
    y = ct.silu_int(_fix(x)) / Q16
    ref = x / (1 + np.exp(-x))
    # sigmoid error: interpolation 1.2e-5 + LUT rounding 2^-16 + interpolation rounding 2^-16
    # (< 4.5e-5), times |x|, plus the output rounding
    assert np.all(np.abs(y - ref) <= 4.5e-5 * np.maximum(np.abs(x), 1) + 2.0**-16)
    lut = ct.sigmoid_lut()
    assert len(lut) == 1025 and lut[512] == 1 << 14 and lut[-1] == 32768


def test_rope_int_vs_float_rotation():
    rng = np.random.default_rng(5)
    hd, maxp = 16, 1000
    inv = 1.0 / 10000 ** (np.arange(0, hd, 2) / hd)
    tables = ct.rope_tables(inv, maxp)
    pos = rng.integers(0, maxp, size=50)
    x = rng.normal(size=(50, 2, hd)) * 4
    y = ct.rope_int(_fix(x), pos, tables) / Q16
    ang = pos[:, None] * inv
    c, s = np.cos(ang)[:, None], np.sin(ang)[:, None]
    x1, x2 = x[..., : hd // 2], x[..., hd // 2 :]
    ref = np.concatenate([x1 * c - x2 * s, x2 * c + x1 * s], -1)
    # two Q1.14 table roundings + angle-addition rounding: |cos err| <= 1.5 * 2^-14
    assert np.abs(y - ref).max() <= 2 * 1.5 * 2.0**-14 * np.abs(x).max() + 2.0**-15
    with pytest.raises(ValueError):
        ct.rope_cos_sin(np.array([1024]), tables)


def test_attention_lambda_vs_float():
    rng = np.random.default_rng(6)
    t, nh, nkv, hd, s, w = 10, 4, 2, 16, 2, 4
    q = _fix(rng.normal(size=(t, nh, hd)))
    kc, kz, ke = (a.swapaxes(0, 1) for a in ct.kv4_quantize(_fix(rng.normal(size=(t, nkv, hd)))))
    vc, vz, ve = (a.swapaxes(0, 1) for a in ct.kv4_quantize(_fix(rng.normal(size=(t, nkv, hd)))))
    pos = np.arange(t)
    o = ct.attention_lambda(q, pos, kc, kz, ke, vc, vz, ve, pos, s, w) / Q16
    # float reference from the dequantized operands (incl. the A8 query) with exact softmax
    qq, fq = ct.quantize_act_pow2(q, 16)
    qf = qq * np.exp2(-fq[..., None].astype(float))
    kf = (kc - kz[..., None]) * np.exp2(-ke[..., None].astype(float))
    vf = (vc - vz[..., None]) * np.exp2(-ve[..., None].astype(float))
    for h in range(nh):
        g = h // (nh // nkv)
        sc = qf[:, h] @ kf[g].T / math.sqrt(hd)
        vis = np.array([[ct.lambda_visible(i, j, s, w) for j in range(t)] for i in range(t)])
        pr = np.where(vis, np.exp(sc - np.where(vis, sc, -np.inf).max(-1, keepdims=True)), 0)
        pr /= pr.sum(-1, keepdims=True)
        ref = pr @ vf[g]
        # softmax error < 3e-4 per probability times |v| <= 4, summed over <= S+W keys
        assert np.abs(o[:, h * hd : (h + 1) * hd] - ref).max() < 3e-4 * 6 * np.abs(vf).max()
