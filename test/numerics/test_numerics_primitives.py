"""Contract primitives vs independent computations (Python big ints / Fractions / float math)."""

from fractions import Fraction
from math import floor

import numpy as np
import pytest

from accllm.numerics import contract as ct


def _ref_round_shift(x: int, s: int) -> int:
    """floor(x / 2^s + 1/2) exactly, for any sign of s (Fraction arithmetic)."""
    return floor(Fraction(x) / Fraction(2) ** s + Fraction(1, 2)) if s > 0 else x * 2**-s


def test_round_shift_ties_round_up_hand_examples():
    # ties go toward +inf: -1.5 -> -1, -0.5 -> 0, 0.5 -> 1, 1.5 -> 2, 2.5 -> 3
    got = ct.round_shift(np.array([-3, -1, 1, 3, 5]), 1)
    assert got.tolist() == [-1, 0, 1, 2, 3]
    # non-ties round to nearest: -7/4 -> -2, 7/4 -> 2, 5/4 -> 1
    assert ct.round_shift(np.array([-7, 7, 5]), 2).tolist() == [-2, 2, 1]
    assert ct.round_shift(np.array([-5, 5]), 0).tolist() == [-5, 5]
    assert ct.round_shift(np.array([-5, 5]), -3).tolist() == [-40, 40]


def test_round_shift_random_vs_fraction():
    rng = np.random.default_rng(1)
    x = rng.integers(-(1 << 50), 1 << 50, size=2000)
    s = rng.integers(-10, 48, size=2000)
    got = ct.round_shift(x, s)
    want = [_ref_round_shift(int(a), int(b)) for a, b in zip(x, s, strict=True)]
    assert got.tolist() == want


def test_round_shift_extreme_magnitudes():
    big = (1 << 61) - 1
    for x, s in [(big, 1), (-big, 1), (-(1 << 61), 62), ((1 << 61) - 1, 62), (1, 62)]:
        assert int(ct.round_shift(x, s)) == _ref_round_shift(x, s)
    with pytest.raises(ValueError):
        ct.round_shift(1, 63)


def test_saturate_bounds():
    x = np.array([-200, -129, -128, -127, 0, 127, 128, 300])
    assert ct.saturate(x, 8).tolist() == [-128, -128, -128, -127, 0, 127, 127, 127]
    assert ct.saturate(x, 8, signed=False).tolist() == [0, 0, 0, 0, 0, 127, 128, 255]
    assert ct.saturate(np.array([1 << 40, -(1 << 40)]), 32).tolist() == [2**31 - 1, -(2**31)]


def test_requantize_vs_fraction_and_saturation():
    rng = np.random.default_rng(2)
    acc = rng.integers(-(1 << 31), 1 << 31, size=3000)
    mult = rng.integers(0, 1 << 16, size=3000)
    shift = rng.integers(0, 48, size=3000)
    for bits in (8, 16, 32):
        got = ct.requantize(acc, mult, shift, bits)
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        want = [
            min(hi, max(lo, _ref_round_shift(int(a) * int(m), int(s))))
            for a, m, s in zip(acc, mult, shift, strict=True)
        ]
        assert got.tolist() == want
    # worst-case product fits the 48-bit DSP accumulator
    assert abs(-(1 << 31) * ((1 << 16) - 1)) < 1 << 47
    with pytest.raises(ValueError):
        ct.requantize(1, 1 << 16, 0, 8)
    with pytest.raises(ValueError):
        ct.requantize(1 << 31, 1, 0, 8)


def _ref_a8(token, frac):
    """Largest f with all floor(x 2^(f-frac) + 1/2) in [-127, 127], by brute force."""
    for f in range(ct.NUMERICS.act_exp_max, ct.NUMERICS.act_exp_min - 1, -1):
        q = [floor(Fraction(int(v)) * Fraction(2) ** (f - frac) + Fraction(1, 2)) for v in token]
        if all(-127 <= a <= 127 for a in q):
            return q, f
    raise AssertionError


def test_quantize_act_pow2_vs_bruteforce():
    rng = np.random.default_rng(3)
    frac = 16
    x = (rng.normal(size=(12, 24)) * rng.choice([1e-3, 1.0, 50.0], size=(12, 1)) * 65536).astype(
        np.int64
    )
    # boundary tokens: max exactly at a rounding tie 127.5 * 2^s, and the negative tie
    x[0, :] = 0
    x[0, 3] = 255 << 10  # 127.5 * 2^11 with frac 16 -> at f = 5 rounds to 128: must pick f = 4
    x[1, :] = 0
    x[1, 5] = -(255 << 10)  # -127.5 -> rounds up to -127 at f = 5: allowed
    x[2, :] = 0  # all-zero token
    q, f = ct.quantize_act_pow2(x, frac)
    for t in range(x.shape[0]):
        wq, wf = _ref_a8(x[t], frac)
        assert q[t].tolist() == wq and f[t] == wf
    assert f[0] == 4 and f[1] == 5 and f[2] == ct.NUMERICS.act_exp_max
    assert q.min() >= -127 and q.max() <= 127


def test_pattern_codes_and_mask_hand_examples():
    masks = np.array(
        [[1, 1, 0, 0], [1, 0, 1, 0], [1, 0, 0, 1], [0, 1, 1, 0], [0, 1, 0, 1], [0, 0, 1, 1]],
        dtype=bool,
    ).reshape(1, 24)
    assert ct.mask_to_patterns(masks).tolist() == [[0, 1, 2, 3, 4, 5]]
    with pytest.raises(ValueError):
        ct.mask_to_patterns(np.array([[1, 1, 1, 0]], dtype=bool))
    with pytest.raises(ValueError):
        ct.patterns_to_positions(np.array([[6]]))


def test_prune_2_4_keeps_two_largest():
    rng = np.random.default_rng(4)
    w = rng.normal(size=(8, 32))
    mask = ct.prune_2_4_mask(w)
    for row, mrow in zip(w, mask, strict=True):
        for b in range(8):
            blk = list(np.abs(row[4 * b : 4 * b + 4]))
            keep = sorted(range(4), key=lambda i, blk=blk: (-blk[i], i))[:2]
            assert sorted(np.flatnonzero(mrow[4 * b : 4 * b + 4]).tolist()) == sorted(keep)
    # ties keep the lower positions
    assert ct.prune_2_4_mask(np.ones((1, 4))).tolist() == [[True, True, False, False]]


def test_pack_bit_layout_hand_worked():
    # block 0: pattern 3 (1,2), lower code 2, higher code 1 -> 3 | 2<<3 | 1<<5 = 51
    # block 1: pattern 5 (2,3), codes 3, 3 -> 5 | 24 | 96 = 125, at bit 7
    codes = np.array([[[2, 1], [3, 3]]])
    pats = np.array([[3, 5]])
    words = ct.pack_2_4_w2(codes, pats)
    assert words.shape == (1, 1, 32)
    assert ct.words_to_ints(words) == [[51 | (125 << 7)]]
    # 37 blocks: block 36 starts word 1 at bit 0; top 4 bits of word 0 stay zero
    codes = np.full((2, 37, 2), 3)
    pats = np.full((2, 37), 5)
    ints = ct.words_to_ints(ct.pack_2_4_w2(codes, pats))
    assert ints[0][1] == 125 and ints[1][1] == 125
    assert ints[0][0] == sum(125 << (7 * i) for i in range(36)) and ints[0][0] < 1 << 252


@pytest.mark.parametrize("k", [4, 140, 144, 256, 1000])
def test_pack_roundtrip(k):
    rng = np.random.default_rng(k)
    codes = rng.integers(0, 4, size=(5, k // 4, 2))
    pats = rng.integers(0, 6, size=(5, k // 4))
    words = ct.pack_2_4_w2(codes, pats)
    assert words.shape == (5, ct.words_per_row(k), 32)
    c2, p2 = ct.unpack_2_4_w2(words, k)
    assert np.array_equal(c2, codes) and np.array_equal(p2, pats)


def _dense_int_weights(codes, pats, zp, group, k):
    """Dense int matrix (code - z at kept positions, 0 at pruned), built block by block."""
    n = pats.shape[0]
    w = np.zeros((n, k), dtype=object)
    pairs = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    for o in range(n):
        for b in range(k // 4):
            for c, p in zip(codes[o, b], pairs[pats[o, b]], strict=True):
                w[o, 4 * b + p] = int(c) - int(zp[o, (4 * b) // group])
    return w


@pytest.mark.parametrize("group", [32, 64, 128])
def test_sparse_group_mac_vs_dense_bigint(group):
    rng = np.random.default_rng(group)
    k, n, t = 256, 6, 3
    x = rng.integers(-127, 128, size=(t, k))
    pats = rng.integers(0, 6, size=(n, k // 4))
    codes = rng.integers(0, 4, size=(n, k // 4, 2))
    zp = rng.integers(0, 4, size=(n, k // group))
    scale = rng.integers(0, 1 << 16, size=(n, k // group))
    wd = _dense_int_weights(codes, pats, zp, group, k)
    got = ct.sparse_group_mac(x, codes, pats, zp, scale, group)
    for ti in range(t):
        for o in range(n):
            want = sum(
                int(scale[o, g])
                * sum(int(x[ti, j]) * wd[o, j] for j in range(g * group, (g + 1) * group))
                for g in range(k // group)
            )
            assert got[ti, o] == want


def test_accumulator_bound_is_reached_and_fits_48_bits():
    k, group = 16384, 128
    n = 2
    pats = np.zeros((n, k // 4), dtype=np.int64)
    codes = np.zeros((n, k // 4, 2), dtype=np.int64)
    zp = np.zeros((n, k // group), dtype=np.int64)
    codes[0] = 3  # code - z = +3
    zp[1] = 3  # code - z = -3
    scale = np.full((n, k // group), (1 << 16) - 1)
    x = np.stack([np.full(k, -128), np.full(k, 127)])
    acc = ct.sparse_group_mac(x, codes, pats, zp, scale, group)
    bound = ct.sparse_mac_acc_bound(k)
    assert bound == (k // 2) * 128 * 3 * 65535  # independent restatement
    assert acc[0, 0] == -bound and acc[0, 1] == bound
    assert abs(int(acc[1, 0])) < bound
    assert bound < 1 << 47  # 48-bit signed accumulator suffices for K = 16384 ...
    assert ct.sparse_mac_acc_bound(1 << 23) < 1 << 47  # ... and up to K = 2^23
    assert ct.sparse_mac_acc_bound(1 << 24) >= 1 << 47
    # the per-group partial sum fits 16 bits signed at G = 128
    assert 128 * 3 * group // 2 < 1 << 15


def test_group_size_adapts_and_errors():
    assert ct.group_size_for(64) == 64
    assert ct.group_size_for(128) == 128
    assert ct.group_size_for(96) == 32
    assert ct.group_size_for(4096, 64) == 64
    with pytest.raises(ValueError, match="layers.0.mlp.down_proj.*K=48"):
        ct.group_size_for(48, name="layers.0.mlp.down_proj")


def test_w2_group_quantizer_properties():
    rng = np.random.default_rng(5)
    w = rng.normal(size=(6, 4, 32)) * 0.05
    codes, zp, mant, exp = ct.quantize_w2_groups(w)
    assert codes.min() >= 0 and codes.max() <= 3 and zp.min() >= 0 and zp.max() <= 3
    assert mant.min() >= 1 and mant.max() <= 65535
    assert np.all(mant.max(axis=1) >= 1 << 15)  # full mantissa precision for each row's max
    s = mant * np.exp2(-exp[:, None].astype(float))
    deq = s[..., None] * (codes.astype(float) - zp[..., None])
    err = ((deq - w) ** 2).sum()
    # no worse than plain min/max asymmetric quantization with the same integer zero points
    lo, hi = np.minimum(w.min(-1), 0), np.maximum(w.max(-1), 0)
    sm = (hi - lo) / 3
    zm = np.round(-lo / sm)
    cm = np.clip(np.floor(w / sm[..., None] + 0.5) + zm[..., None], 0, 3)
    assert err <= (((cm - zm[..., None]) * sm[..., None] - w) ** 2).sum() * 1.001


def test_w2_zero_points_at_range_ends():
    # all-positive group -> z = 0; all-negative group -> z = 3
    w = np.array([[[0.3, 0.6, 0.9, 0.1]], [[-0.3, -0.6, -0.9, -0.1]]])
    codes, zp, mant, exp = ct.quantize_w2_groups(w)
    assert zp.ravel().tolist() == [0, 3]
    s = mant[:, 0] * np.exp2(-exp.astype(float))
    assert np.allclose(s[0] * codes[0, 0].astype(float), w[0, 0], atol=s[0] / 2 + 1e-12)


def test_linear_w2a8_vs_float():
    rng = np.random.default_rng(6)
    from accllm.numerics.compress import compress_linear

    w = rng.normal(size=(12, 128)) * 0.1
    lin = compress_linear(w, "test")
    x = rng.integers(-127, 128, size=(4, 128))
    f = rng.integers(0, 10, size=4)
    y = ct.linear_w2a8(x, f, lin)
    exact = (x * np.exp2(-f[:, None].astype(float))) @ ct.w2_dense_real(lin).T
    assert np.abs(y / 65536 - exact).max() <= 2.0**-17 + 1e-12


def test_linear_int8_vs_float():
    rng = np.random.default_rng(7)
    w = rng.normal(size=(10, 64))
    q, m, e = ct.quantize_int8_rows(w)
    x = rng.integers(-127, 128, size=(3, 64))
    f = np.array([3, 5, 7])
    y = ct.linear_int8(x, f, q, m, e)
    exact = (x * np.exp2(-f[:, None].astype(float))) @ (
        q * (m * np.exp2(-e.astype(float)))[:, None]
    ).T
    assert np.abs(y / 65536 - exact).max() <= 2.0**-17 + 1e-12
    assert (
        np.abs(q * (m * np.exp2(-e.astype(float)))[:, None] - w).max()
        <= np.abs(w).max() / 254 * 1.01
    )
