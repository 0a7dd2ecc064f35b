"""The accllm numerics contract: the ONE implementation of the accelerator's integer arithmetic.

Every executable level (numpy golden model, IR interpreter, HLS C++ and RTL simulation) must
produce the integers computed here; docs/numerics.md explains each choice. All functions are
vectorised numpy on int64 arrays; every intermediate is bounded below 2^63 (bounds in docstrings).

Fixed-point notation: a value "with frac F" is the integer ``v`` meaning ``v * 2**-F``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NumericsConfig:
    """Every constant of the contract, in one place (emitters read these, never literals)."""

    # Residual stream and all int32 activations between units: signed 32 bit, Q15.16.
    res_bits: int = 32
    res_frac: int = 16
    # A8: symmetric int8 (-128 never produced), per-token power-of-two exponent (int8 range used).
    act_bits: int = 8
    act_qmax: int = 127
    act_exp_min: int = -32
    act_exp_max: int = 31
    # W2: asymmetric 2-bit codes, integer zero point, dyadic group scale.
    w_bits: int = 2
    group_sizes: tuple[int, ...] = (32, 64, 128)
    default_group: int = 128
    scale_mant_bits: int = 16  # unsigned group-scale mantissa S[o, g]
    scale_exp_min: int = 0  # per-output-channel shift exponent range
    scale_exp_max: int = 47
    acc_bits: int = 48  # DSP48 accumulator
    # Requantizer operand widths (dyadic multiplier x rounding shift).
    mult_bits: int = 16
    shift_max: int = 47
    # 2:4 packed stream.
    pattern_bits: int = 3
    block_bits: int = 7
    word_bits: int = 256
    blocks_per_word: int = 36
    # KV4: asymmetric 4-bit per (token, head), power-of-two scale, zero point in [0, 15].
    kv_bits: int = 4
    kv_exp_min: int = -32
    kv_exp_max: int = 31
    # Softmax: base-2 logits with sm_frac fraction bits, 2^-x LUT indexed by the fraction.
    sm_frac: int = 10
    exp2_frac: int = 15  # LUT entries are 2^-r in Q1.15, in (2^14, 2^15]
    exp2_max_shift: int = 20  # 2^-n underflows to 0 beyond this integer part
    recip_bits: int = 47  # R = floor(2^47 / Z), one division per row
    prob_frac: int = 15  # probabilities in Q1.15, unsigned 16 bit
    # RMSNorm: |xs| <= 2^15 after a per-token shift, rsqrt in Q.30 from LUT + Newton.
    norm_in_bits: int = 16
    rsqrt_frac: int = 30
    rsqrt_lut_shift: int = 24  # LUT index = (mant >> 24) - 64, mant in [2^30, 2^32)
    rsqrt_newton_steps: int = 2
    norm_guard_shift: int = 22  # xs * Y (<= 2^45) is rounded to <= 2^23 before the gain
    norm_gain_bits: int = 16  # signed gain mantissa (gamma * sqrt(H))
    eps_frac: int = 32  # eps stored in units of 2^-32 (the square of Q.16)
    # SiLU: sigmoid LUT on [-16, 16) step 2^-5 with linear interpolation, entries Q1.15.
    sig_step_bits: int = 5
    sig_range: int = 16
    sig_frac: int = 15
    # RoPE: cos/sin in Q1.14 from two small tables (position split at 2^6).
    rope_frac: int = 14
    rope_split_bits: int = 6
    # LM head output logits.
    logit_frac: int = 16


NUMERICS = NumericsConfig()
C = NUMERICS  # short alias used inside this module

# The 6 legal 2:4 position pairs, indexed by the 3-bit pattern code.
PATTERN_POSITIONS = np.array([(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)], dtype=np.int64)
# 4-bit keep mask (bit i = position i kept) -> pattern code, 255 = illegal.
_MASK_TO_PATTERN = np.full(16, 255, dtype=np.uint8)
for _code, (_a, _b) in enumerate(PATTERN_POSITIONS):
    _MASK_TO_PATTERN[(1 << int(_a)) | (1 << int(_b))] = _code


def _i64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def bit_length(v) -> np.ndarray:
    """Exact bit length of non-negative int64 values (0 -> 0): a leading-zero count in RTL."""
    v = _i64(v)
    if np.any(v < 0):
        raise ValueError("bit_length: negative input")
    b = np.zeros(v.shape, dtype=np.int64)
    for sh in (32, 16, 8, 4, 2, 1):  # binary search, exact for 0 <= v < 2^63
        big = (v >> sh) > 0
        b = np.where(big, b + sh, b)
        v = np.where(big, v >> sh, v)
    return b + (v > 0)


# --------------------------------------------------------------------------------------------
# Rounding, saturation, requantization
# --------------------------------------------------------------------------------------------


def round_shift(x, s) -> np.ndarray:
    """Arithmetic right shift by ``s`` with rounding half toward +infinity.

    ``floor((x + 2**(s-1)) / 2**s)`` for s > 0, ``x`` for s == 0, ``x * 2**-s`` for s < 0
    (an exact left shift). ``s`` may be an array (broadcast with ``x``), |s| <= 62. Hardware: add
    the half constant, then ``>>>``. This is THE rounding rule of every unit. Inputs int64; the
    caller guarantees |x| + 2^(s-1) < 2^63 and, for left shifts, |x * 2^-s| < 2^63.
    """
    x = _i64(x)
    s = _i64(s)
    if np.any(np.abs(s) > 62):
        raise ValueError(f"round_shift: shift out of [-62, 62]: {s[np.abs(s) > 62].ravel()[:4]}")
    sp = np.maximum(s, 0)
    half = np.where(sp > 0, np.left_shift(np.int64(1), np.maximum(sp - 1, 0)), 0)
    r = np.right_shift(x + half, sp)
    return np.left_shift(r, np.maximum(-s, 0))


def saturate(x, bits: int, signed: bool = True) -> np.ndarray:
    """Clamp to [-2^(bits-1), 2^(bits-1)-1] (signed) or [0, 2^bits-1] (unsigned)."""
    x = _i64(x)
    if signed:
        return np.clip(x, -(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    return np.clip(x, 0, (1 << bits) - 1)


def requantize(acc, multiplier, shift, out_bits: int) -> np.ndarray:
    """Dyadic requantizer ``saturate(round_shift(acc * multiplier, shift), out_bits)``.

    ``acc`` signed 32 bit, ``multiplier`` unsigned 16 bit [0, 2^16), ``shift`` in [0, 47]
    (hardware range); the product |acc * multiplier| < 2^47 fits a 48-bit signed DSP48
    accumulator. Meaning: acc * multiplier * 2^-shift, rounded half up, clamped to ``out_bits``.
    """
    acc = _i64(acc)
    multiplier = _i64(multiplier)
    if np.any((multiplier < 0) | (multiplier >= 1 << C.mult_bits)):
        raise ValueError("requantize: multiplier must be unsigned 16 bit")
    if np.any((acc < -(1 << 31)) | (acc >= 1 << 31)):
        raise ValueError("requantize: acc must be signed 32 bit")
    return saturate(round_shift(acc * multiplier, shift), out_bits)


def requantize_pow2(acc, shift, out_bits: int) -> np.ndarray:
    """Power-of-two requantizer ``saturate(round_shift(acc, shift), out_bits)``.

    Used where the scale is a pure power of two (the W2 linear output, whose group scales were
    already applied inside the MAC): ``acc`` up to 48 bit signed, ``shift`` per element.
    """
    return saturate(round_shift(acc, shift), out_bits)


def round_half_up(x) -> np.ndarray:
    """Float rounding with the contract's tie rule (half toward +inf): ``floor(x + 0.5)``."""
    return np.floor(np.asarray(x, dtype=np.float64) + 0.5)


def dyadic_unsigned(value, mant_bits: int = 16, exp_min: int = 0, exp_max: int = 47):
    """Dyadic approximation ``value ~= M * 2^-e`` with M unsigned ``mant_bits`` bits.

    ``e`` is the largest exponent in [exp_min, exp_max] with ``floor(value*2^e + 0.5) <=
    2^mant_bits - 1`` (maximal mantissa precision); M = that rounded value. value >= 0;
    value == 0 gives (0, exp_max). Offline (float) helper for scales; returns int64 arrays.
    """
    v = np.asarray(value, dtype=np.float64)
    if np.any(v < 0) or not np.all(np.isfinite(v)):
        raise ValueError("dyadic_unsigned: value must be finite and >= 0")
    mmax = (1 << mant_bits) - 1
    exps = np.arange(exp_max, exp_min - 1, -1)
    cand = round_half_up(v[..., None] * np.exp2(exps.astype(np.float64)))
    ok = cand <= mmax
    first = np.argmax(ok, axis=-1)
    if np.any(~ok.any(axis=-1)):
        raise ValueError(f"dyadic_unsigned: value too large for e >= {exp_min}")
    e = exps[first]
    m = np.take_along_axis(cand, first[..., None], axis=-1)[..., 0]
    return m.astype(np.int64), e.astype(np.int64)


# --------------------------------------------------------------------------------------------
# A8: symmetric int8, per-token power-of-two scale
# --------------------------------------------------------------------------------------------


def quantize_act_pow2(x_fixed, frac_bits: int, axis: int = -1):
    """A8 quantizer: ``q = round_shift(x, frac_bits - f)``, real value ``q * 2^-f``.

    ``f`` (one per token = per slice along every axis except ``axis``) is the largest integer
    in [act_exp_min, act_exp_max] with every q in [-127, 127] (-128 is never produced, so the
    range is symmetric). An all-zero token gets f = act_exp_max. Since round_shift is monotone,
    only the token's max and min need checking. Returns (q int64 in [-127,127], f int64 with the
    reduced axis removed). Quantize/dequantize are shifts: no per-token multiplier or divider.
    """
    x = _i64(x_fixed)
    hi = np.max(x, axis=axis)
    lo = np.min(x, axis=axis)
    exps = np.arange(C.act_exp_max, C.act_exp_min - 1, -1)
    shifts = frac_bits - exps
    ok = (round_shift(hi[..., None], shifts) <= C.act_qmax) & (
        round_shift(lo[..., None], shifts) >= -C.act_qmax
    )
    if np.any(~ok.any(axis=-1)):
        raise ValueError("quantize_act_pow2: token too large for the exponent range")
    f = exps[np.argmax(ok, axis=-1)]
    q = round_shift(x, np.expand_dims(frac_bits - f, axis))
    return q, f


def dequantize_act_pow2(q, f, out_frac: int, axis: int = -1) -> np.ndarray:
    """A8 dequantizer to fixed point with ``out_frac`` bits: ``round_shift(q, f - out_frac)``."""
    return round_shift(q, np.expand_dims(_i64(f), axis) - out_frac)


# --------------------------------------------------------------------------------------------
# 2:4 sparsity and W2 group quantization
# --------------------------------------------------------------------------------------------


def padded_k(k: int) -> int:
    """The input size a W2 linear is stored with: K rounded up to a multiple of the smallest
    group size (32), so that some allowed group divides it. The compressor zero-pads the
    weights (and the layer's activations, a zero input contributes nothing) to it."""
    g = min(C.group_sizes)
    return -(-k // g) * g


def pad_inputs(x_q, k_padded: int) -> np.ndarray:
    """Activations [T, K] zero-padded to a linear's stored input size [T, K_padded]."""
    x = _i64(x_q)
    if x.shape[-1] > k_padded or k_padded - x.shape[-1] >= min(C.group_sizes):
        raise ValueError(f"input size {x.shape[-1]} does not pad to {k_padded}")
    return np.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, k_padded - x.shape[-1])])


def group_size_for(k: int, preferred: int = C.default_group, name: str = "linear") -> int:
    """Group size G for a layer with K inputs: the largest allowed G <= preferred dividing K.

    Allowed sizes are NUMERICS.group_sizes (32, 64, 128). Raises naming the layer otherwise.
    """
    for g in sorted(C.group_sizes, reverse=True):
        if g <= preferred and k % g == 0:
            return g
    raise ValueError(
        f"{name}: input size K={k} is not a multiple of any allowed W2 group size "
        f"{C.group_sizes} <= {preferred}; pad K to a multiple of 32 or choose another layer size"
    )


def prune_2_4_mask(w) -> np.ndarray:
    """2:4 magnitude pruning along K (last axis): keep the 2 largest |w| of each aligned block
    of 4; ties keep the lower index. Returns a bool mask of w's shape."""
    w = np.asarray(w, dtype=np.float64)
    if w.shape[-1] % 4:
        raise ValueError(f"2:4 pruning needs K % 4 == 0, got K={w.shape[-1]}")
    blocks = np.abs(w).reshape(*w.shape[:-1], -1, 4)
    order = np.argsort(-blocks, axis=-1, kind="stable")[..., :2]
    mask = np.zeros(blocks.shape, dtype=bool)
    np.put_along_axis(mask, order, True, axis=-1)
    return mask.reshape(w.shape)


def mask_to_patterns(mask) -> np.ndarray:
    """2:4 keep mask [..., K] -> 3-bit pattern codes [..., K/4] (code c keeps
    PATTERN_POSITIONS[c]). Raises if any block does not keep exactly 2 positions."""
    m = np.asarray(mask, dtype=np.int64).reshape(*np.shape(mask)[:-1], -1, 4)
    key = m[..., 0] | (m[..., 1] << 1) | (m[..., 2] << 2) | (m[..., 3] << 3)
    codes = _MASK_TO_PATTERN[key]
    if np.any(codes == 255):
        raise ValueError("mask_to_patterns: a block does not keep exactly 2 of 4 weights")
    return codes


def patterns_to_positions(patterns) -> np.ndarray:
    """Pattern codes [..., nb] -> absolute K indices of the kept weights [..., nb, 2]
    (lower position first). Raises on illegal codes 6, 7."""
    p = _i64(patterns)
    if np.any((p < 0) | (p > 5)):
        raise ValueError("illegal 2:4 pattern code (legal: 0..5)")
    nb = p.shape[-1]
    return PATTERN_POSITIONS[p] + 4 * np.arange(nb, dtype=np.int64)[:, None]


def quantize_w2_groups(w_kept, n_scales: int = 16):
    """W2 asymmetric group quantizer (offline, float in, integers out).

    ``w_kept`` [N, ng, G/2]: the kept weights of each (output channel, group). Per group the
    scale s and zero point z in [0, 3] minimise the squared error of ``s * (code - z)``,
    ``code = clip(floor(w/s + 0.5) + z, 0, 3)``, over a grid: s = r * (max(w,0) - min(w,0)) / 3
    for r in linspace(0.5, 1, n_scales), z in 0..3 (the range includes 0 so an integer z
    exists). The scale is then made dyadic: per output channel an exponent e[o] (largest in
    [0, 47] with every S = floor(s * 2^e + 0.5) <= 65535) and 16-bit mantissas S[o, g]. Codes
    are re-chosen for the dyadic scale so the stored integers are self-consistent.
    Returns (codes uint8 [N,ng,G/2], zp uint8 [N,ng], S uint16->int64 [N,ng], e int64 [N]).
    """
    w = np.asarray(w_kept, dtype=np.float64)
    # The grid holds 4 * n_scales candidates per weight: rows go through it in blocks of about
    # _GRID_WEIGHTS weights, so its arrays stay ~100 MB whatever the layer (every step is
    # row-local, so the blocks give the result of one pass over all rows).
    step = max(1, _GRID_WEIGHTS // max(1, w[0].size)) if w.ndim == 3 else len(w)
    parts = [_w2_grid(w[i : i + step], n_scales) for i in range(0, max(len(w), 1), step)]
    s_best = np.concatenate([p[0] for p in parts])
    z_best = np.concatenate([p[1] for p in parts])
    # Dyadic scales: exponent per output channel from its largest group scale.
    _, e = dyadic_unsigned(s_best.max(axis=-1), C.scale_mant_bits, C.scale_exp_min, C.scale_exp_max)
    S = w2_scale_mantissas(s_best, e)
    s_dy = S * np.exp2(-e[:, None].astype(np.float64))
    codes = w2_codes(w, s_dy[..., None], z_best[..., None])
    return (
        codes.astype(np.uint8),
        z_best.astype(np.uint8),
        S.astype(np.int64),
        e.astype(np.int64),
    )


_GRID_WEIGHTS = 1 << 16


def _w2_grid(w: np.ndarray, n_scales: int) -> tuple[np.ndarray, np.ndarray]:
    """The grid search of quantize_w2_groups on rows `w` [n, ng, G/2]: (scale, zero point)."""
    lo = np.minimum(w.min(axis=-1), 0.0)
    hi = np.maximum(w.max(axis=-1), 0.0)
    base = (hi - lo) / 3.0
    base = np.where(base > 0, base, 1.0)  # all-zero group: any scale, codes == z
    ratios = np.linspace(0.5, 1.0, n_scales)
    s = base[..., None] * ratios  # [N, ng, R]
    # codes - z = clip(u + z, 0, 3) - z = clip(u, -z, 3 - z), u = round(w / s): one division
    # and rounding per scale serve the four zero points (integer-valued floats: exact)
    u = round_half_up(w[..., None, :] / s[..., None])  # [N, ng, R, G/2]
    err = np.empty((*s.shape, 4))  # [N, ng, R, 4]: candidate r * 4 + z
    d = np.empty_like(u)
    for z in range(4):  # (s * (codes - z) - w)^2 summed over the group, in place
        np.clip(u, -z, 3 - z, out=d)
        np.multiply(s[..., None], d, out=d)
        np.subtract(d, w[..., None, :], out=d)
        np.square(d, out=d)
        err[..., z] = d.sum(-1)
    best = err.reshape(*base.shape, -1).argmin(-1)
    s_best = np.take_along_axis(s, best[..., None] // 4, -1)[..., 0]
    z_best = (best % 4).astype(np.float64)
    return s_best, z_best


def w2_scale_mantissas(s, e) -> np.ndarray:
    """16-bit group-scale mantissas S[o, g] = round(s[o, g] * 2^e[o]) in [1, 65535] for float
    scales ``s`` [N, ng] and per-channel exponents ``e`` [N] (a zero mantissa would make every
    code equivalent). Offline helper of the W2 quantizers; returns float64 integers."""
    S = round_half_up(
        np.asarray(s, dtype=np.float64) * np.exp2(_i64(e)[:, None].astype(np.float64))
    )
    return np.clip(S, 1, (1 << C.scale_mant_bits) - 1)


def w2_codes(w, scale, zero_point) -> np.ndarray:
    """The W2 code rule: ``clip(floor(w / scale + 0.5) + z, 0, 3)`` (scale and z broadcast
    against w). Every W2 quantizer (round-to-nearest above, GPTQ in numerics/gptq.py) codes a
    weight with this rule. Returns float64 integers."""
    w = np.asarray(w, dtype=np.float64)
    return np.clip(round_half_up(w / scale) + zero_point, 0, (1 << C.w_bits) - 1)


# --------------------------------------------------------------------------------------------
# Packed 2:4 W2 stream (HBM words)
# --------------------------------------------------------------------------------------------


def words_per_row(k: int) -> int:
    """256-bit HBM words per output channel: ceil((K/4) / 36)."""
    return -(-(k // 4) // C.blocks_per_word)


def pack_2_4_w2(codes, patterns) -> np.ndarray:
    """Pack a 2:4 W2 matrix into 256-bit HBM words.

    ``codes`` [N, K/4, 2] (code of the lower kept position first), ``patterns`` [N, K/4].
    Each block is 7 bits: [2:0] pattern, [4:3] lower code, [6:5] higher code; 36 blocks per word
    LSB-first (bits 252..255 zero); each row padded with zero blocks to a word boundary.
    Returns uint8 [N, words_per_row, 32], byte i of a word = word bits [8i+7:8i] (little endian).
    """
    codes = _i64(codes)
    patterns = _i64(patterns)
    n, nb = patterns.shape
    if codes.shape != (n, nb, 2) or np.any((codes < 0) | (codes > 3)):
        raise ValueError("pack_2_4_w2: codes must be [N, K/4, 2] with values 0..3")
    patterns_to_positions(patterns)  # validates the codes
    blocks = patterns | (codes[..., 0] << 3) | (codes[..., 1] << 5)
    nw = -(-nb // C.blocks_per_word)
    padded = np.zeros((n, nw * C.blocks_per_word), dtype=np.int64)
    padded[:, :nb] = blocks
    bits = (padded[..., None] >> np.arange(C.block_bits)) & 1  # [N, nw*36, 7]
    bits = bits.reshape(n, nw, C.blocks_per_word * C.block_bits)
    pad = C.word_bits - C.blocks_per_word * C.block_bits
    bits = np.concatenate([bits, np.zeros((n, nw, pad), dtype=np.int64)], axis=-1)
    return np.packbits(bits.astype(np.uint8), axis=-1, bitorder="little")


def unpack_2_4_w2(words, k: int):
    """Inverse of pack_2_4_w2: uint8 [N, nw, 32] -> (codes [N, K/4, 2], patterns [N, K/4])."""
    words = np.asarray(words, dtype=np.uint8)
    n, nw, nbytes = words.shape
    if nbytes != C.word_bits // 8 or nw != words_per_row(k):
        raise ValueError(f"unpack_2_4_w2: expected [N, {words_per_row(k)}, 32] words for K={k}")
    bits = np.unpackbits(words, axis=-1, bitorder="little").astype(np.int64)
    bits = bits[..., : C.blocks_per_word * C.block_bits].reshape(n, -1, C.block_bits)
    blocks = (bits << np.arange(C.block_bits)).sum(-1)[:, : k // 4]
    patterns = blocks & 7
    codes = np.stack([(blocks >> 3) & 3, (blocks >> 5) & 3], axis=-1)
    return codes, patterns


def words_to_ints(words) -> list[list[int]]:
    """uint8 [N, nw, 32] -> python ints (one 256-bit word each), e.g. for $readmemh / cocotb."""
    w = np.asarray(words, dtype=np.uint8)
    return [[int.from_bytes(bytes(word), "little") for word in row] for row in w]


# --------------------------------------------------------------------------------------------
# Sparse group MAC and the W2A8 linear layer
# --------------------------------------------------------------------------------------------


def sparse_mac_acc_bound(k: int) -> int:
    """Largest |acc| of sparse_group_mac for K inputs (any G): K/2 kept weights, each product
    |x_q * (code - z)| <= 128 * 3 (any int8, although A8 never produces -128), times a
    mantissa <= 2^16 - 1. Equals K * 12,582,720 (< 2^47 for K <= 2^23)."""
    return (k // 2) * (1 << (C.act_bits - 1)) * 3 * ((1 << C.scale_mant_bits) - 1)


def sparse_group_mac(x_q, codes, patterns, zp, scale_mant, group: int) -> np.ndarray:
    """Sparse group MAC of the W2A8 linear: ``acc[t, o] = sum_g p[t,o,g] * S[o,g]`` with
    ``p[t,o,g] = sum_{kept j in group g} x_q[t, j] * (code_j - z[o,g])``.

    x_q int8 [T, K]; codes [N, K/4, 2]; patterns [N, K/4]; zp, scale_mant [N, K/G]. Bounds:
    |p| <= 128*3*G/2 (24576 at G=128: a 16-bit signed partial sum), |p*S| < 2^31,
    |acc| <= sparse_mac_acc_bound(K) = K * 12,582,720 < 2^47 for K <= 2^23 (48-bit accumulator).
    Returns int64 [T, N].
    """
    x = _i64(x_q)
    t, k = x.shape
    n = codes.shape[0]
    pos = patterns_to_positions(patterns).reshape(n, k // 2)  # kept K indices per row
    half = group // 2
    w = _i64(codes).reshape(n, k // 2) - np.repeat(_i64(zp), half, axis=1)
    s = _i64(scale_mant)
    acc = np.empty((t, n), dtype=np.int64)
    chunk = max(1, (1 << 22) // max(1, n * k // 2))  # bound the gathered temporary's size
    for t0 in range(0, t, chunk):
        xg = x[t0 : t0 + chunk][:, pos]  # [t, N, K/2]
        p = (xg * w).reshape(xg.shape[0], n, -1, half).sum(-1)
        acc[t0 : t0 + chunk] = (p * s).sum(-1)
    return acc


@dataclass(frozen=True)
class W2Linear:
    """A compressed 2:4 W2 linear layer as stored in HBM (weights) and beside it (scales).

    packed: uint8 [N, words_per_row(K), 32]; zp: uint8 [N, K/G] zero points 0..3;
    scale_mant: uint16 [N, K/G]; scale_exp: int8 [N] (weight = S * 2^-e * (code - z)).
    """

    packed: np.ndarray
    zp: np.ndarray
    scale_mant: np.ndarray
    scale_exp: np.ndarray
    in_features: int
    out_features: int
    group: int
    bias: np.ndarray | None = None  # int64 [N] Q15.16 (quantize_bias), added after the shift


def linear_w2a8(x_q, f_x, lin: W2Linear, out_frac: int = C.res_frac) -> np.ndarray:
    """W2A8 linear: ``y[t,o] = requantize_pow2(acc[t,o], f_x[t] + e[o] - out_frac, 32)``,
    then ``linear_bias_add(y, b)`` when the layer has a bias. x_q may have fewer columns than
    the stored (zero-padded, ``padded_k``) input size: the missing inputs are zeros.

    Real value of acc is ``acc * 2^-(f_x + e[o])`` (activation exponent times group-scale
    exponent), so the output in fixed point with ``out_frac`` bits is one rounding shift; the
    result saturates to int32. x_q int8 [T, K], f_x [T]. Returns int64 [T, N].
    """
    codes, patterns = unpack_2_4_w2(lin.packed, lin.in_features)
    x_q = pad_inputs(x_q, lin.in_features)  # a zero-padded K (padded_k) reads zeros
    acc = sparse_group_mac(x_q, codes, patterns, lin.zp, lin.scale_mant, lin.group)
    shift = _i64(f_x)[:, None] + _i64(lin.scale_exp)[None, :] - out_frac
    y = requantize_pow2(acc, shift, C.res_bits)
    if lin.bias is not None:
        if out_frac != C.res_frac:
            raise ValueError("linear_w2a8: a bias is defined for the Q15.16 output only")
        y = linear_bias_add(y, lin.bias)
    return y


def w2_dense_real(lin: W2Linear) -> np.ndarray:
    """Real-valued dense view of a W2 layer (for fake-quant and reports, not for hardware):
    w[o, k] = S[o,g] * 2^-e[o] * (code - z[o,g]) at kept positions, 0 at pruned ones."""
    codes, patterns = unpack_2_4_w2(lin.packed, lin.in_features)
    n, k, half = lin.out_features, lin.in_features, lin.group // 2
    pos = patterns_to_positions(patterns).reshape(n, k // 2)
    scale = _i64(lin.scale_mant) * np.exp2(-_i64(lin.scale_exp)[:, None].astype(np.float64))
    vals = (_i64(codes).reshape(n, k // 2) - np.repeat(_i64(lin.zp), half, axis=1)) * np.repeat(
        scale, half, axis=1
    )
    w = np.zeros((n, k), dtype=np.float64)
    np.put_along_axis(w, pos, vals, axis=1)
    return w


def linear_int8(x_q, f_x, w_q, mult, exp, out_frac: int = C.logit_frac) -> np.ndarray:
    """Dense int8 linear (the LM head): acc = x_q @ w_q^T (|acc| <= 127^2 K < 2^31 for
    K < 133,144), then ``requantize(acc, M[o], f_x + e[o] - out_frac, 32)`` where the weight
    scale of output o is M[o] * 2^-e[o] (16-bit mantissa). Returns int64 [T, N]."""
    acc = _i64(x_q) @ _i64(w_q).T
    shift = _i64(f_x)[:, None] + _i64(exp)[None, :] - out_frac
    return requantize(acc, _i64(mult)[None, :], shift, C.res_bits)


def quantize_int8_rows(w):
    """Offline symmetric int8 per output row with dyadic scale: s = max|w|/127,
    (M, e) = dyadic_unsigned(s), q = clip(floor(w / (M 2^-e) + 0.5), -127, 127).
    Returns (q int64 [N, K], M int64 [N], e int64 [N])."""
    w = np.asarray(w, dtype=np.float64)
    s = np.abs(w).max(axis=-1) / C.act_qmax
    m, e = dyadic_unsigned(s, C.mult_bits, 0, C.shift_max)
    m = np.maximum(m, 1)
    sd = m * np.exp2(-e.astype(np.float64))
    q = np.clip(round_half_up(w / sd[:, None]), -C.act_qmax, C.act_qmax)
    return q.astype(np.int64), m, e


def quantize_rows_pow2(w):
    """Offline int8 per row with a power-of-two scale (the embedding table): the row is first
    rounded to Q.16 fixed point, then quantize_act_pow2. Returns (q [V, H], f [V])."""
    x = round_half_up(np.asarray(w, dtype=np.float64) * 2.0**C.res_frac).astype(np.int64)
    return quantize_act_pow2(x, C.res_frac)


def embedding_int8(ids, table_q, table_exp) -> np.ndarray:
    """Embedding lookup into the residual stream: row q (int8) with exponent f becomes
    ``round_shift(q, f - res_frac)`` (Q15.16 int32). Returns int64 [T, H]."""
    ids = _i64(ids)
    return dequantize_act_pow2(_i64(table_q)[ids], _i64(table_exp)[ids], C.res_frac)


def quantize_bias(b) -> np.ndarray:
    """Offline linear bias -> the residual format: ``saturate(round_half_up(b * 2^16), 32)``
    (Q15.16 int32, the format of the linear's output, so the bias is one adder)."""
    scaled = round_half_up(np.asarray(b, dtype=np.float64) * 2.0**C.res_frac)
    return saturate(np.clip(scaled, -(2.0**62), 2.0**62).astype(np.int64), C.res_bits)


def linear_bias_add(y, bias) -> np.ndarray:
    """The bias stage of a linear (after its requantizer): ``saturate(y + b, 32)`` with y the
    Q15.16 output [T, N] (already saturated to int32) and b the Q15.16 bias [N]
    (``quantize_bias``). |y + b| < 2^32: a 33-bit adder, then the int32 clamp."""
    return saturate(_i64(y) + _i64(bias)[None, :], C.res_bits)


def residual_add(x, y) -> np.ndarray:
    """Residual stream update: ``saturate(x + y, 32)`` (both Q15.16)."""
    return saturate(_i64(x) + _i64(y), C.res_bits)


# --------------------------------------------------------------------------------------------
# KV4 cache quantization, packing and the Λ rule
# --------------------------------------------------------------------------------------------


def kv4_quantize(x_fixed, frac_bits: int = C.res_frac):
    """KV4 quantizer per (token, head) over the last axis (head_dim).

    With lo = min(min x, 0), hi = max(max x, 0) (the range includes 0 so that the zero point is
    an integer in [0, 15]), the exponent e is the largest in [kv_exp_min, kv_exp_max] with
    ``round_shift(hi, F-e) - round_shift(lo, F-e) <= 15``; z = -round_shift(lo, F-e);
    code = round_shift(x, F-e) + z (always in [0, 15] because round_shift is monotone).
    Real value: (code - z) * 2^-e. Returns (codes int64 [..., hd], zp [...], exp [...]).
    """
    x = _i64(x_fixed)
    hi = np.maximum(np.max(x, axis=-1), 0)
    lo = np.minimum(np.min(x, axis=-1), 0)
    exps = np.arange(C.kv_exp_max, C.kv_exp_min - 1, -1)
    sh = frac_bits - exps
    ok = round_shift(hi[..., None], sh) - round_shift(lo[..., None], sh) <= 15
    if np.any(~ok.any(axis=-1)):
        raise ValueError("kv4_quantize: value range too large for the exponent range")
    e = exps[np.argmax(ok, axis=-1)]
    z = -round_shift(lo, frac_bits - e)
    codes = round_shift(x, (frac_bits - e)[..., None]) + z[..., None]
    return codes, z, e


def kv4_dequantize(codes, zp, exp, out_frac: int = C.res_frac) -> np.ndarray:
    """KV4 dequantizer to fixed point: ``round_shift(code - z, e - out_frac)`` (exact when
    e <= out_frac, i.e. for every value range above 15 * 2^-16)."""
    return round_shift(_i64(codes) - _i64(zp)[..., None], _i64(exp)[..., None] - out_frac)


def kv4_pack(codes) -> np.ndarray:
    """Pack 4-bit codes [..., hd] two per byte, lower index in the low nibble.

    Returns uint8 [..., hd/2]."""
    c = _i64(codes)
    if c.shape[-1] % 2 or np.any((c < 0) | (c > 15)):
        raise ValueError("kv4_pack: need an even head_dim and codes in 0..15")
    return (c[..., 0::2] | (c[..., 1::2] << 4)).astype(np.uint8)


def kv4_unpack(packed) -> np.ndarray:
    """Inverse of kv4_pack: uint8 [..., hd/2] -> int64 codes [..., hd]."""
    p = _i64(packed)
    return np.stack([p & 15, p >> 4], axis=-1).reshape(*p.shape[:-1], -1)


def lambda_slot(pos, sinks: int, window: int) -> np.ndarray:
    """Λ KV-cache slot of the token at absolute position p (S + W slots):
    ``p`` if p < S, else ``S + ((p - S) mod W)`` (the window is a ring buffer)."""
    p = _i64(pos)
    return np.where(p < sinks, p, sinks + np.mod(p - sinks, window))


def lambda_visible(q_pos, k_pos, sinks: int, window: int) -> np.ndarray:
    """Λ visibility: query at i sees key at j iff 0 <= j <= i and (j < S or j > i - W)
    (S sinks plus the W most recent tokens including itself). Broadcasts; j < 0 = empty slot."""
    i = _i64(q_pos)
    j = _i64(k_pos)
    return (j >= 0) & (j <= i) & ((j < sinks) | (j > i - window))


# --------------------------------------------------------------------------------------------
# Softmax (base 2, LUT for 2^-fraction, one reciprocal per row)
# --------------------------------------------------------------------------------------------


def exp2_lut() -> np.ndarray:
    """2^-r table for softmax: entry r (0 <= r < 2^sm_frac) = floor(2^15 * 2^(-r/2^sm_frac)
    + 0.5), 1024 entries of 16 bits unsigned in [16395, 32768] (one BRAM18)."""
    r = np.arange(1 << C.sm_frac, dtype=np.float64)
    return round_half_up(2.0**C.exp2_frac * np.exp2(-r / (1 << C.sm_frac))).astype(np.int64)


_EXP2_LUT = exp2_lut()


def attention_score_scale(head_dim: int):
    """Dyadic (M, shift) for log2(e)/sqrt(head_dim): attention logits are produced directly in
    base-2 units so softmax needs only 2^x. M unsigned 16 bit."""
    m, sh = dyadic_unsigned(math.log2(math.e) / math.sqrt(head_dim), C.mult_bits, 0, C.shift_max)
    return int(m), int(sh)


def softmax_int(s, visible) -> np.ndarray:
    """Fixed-point softmax over the last axis of base-2 logits ``s`` (frac sm_frac = 10).

    m = max over visible; d = m - s >= 0; n = d >> 10, r = d & 1023;
    e = round_shift(LUT[r], n) (2^-d in Q1.15, 0 when n > 20); Z = sum of visible e (>= 2^15);
    R = floor(2^47 / Z) (one divider per row, R <= 2^32); P = round_shift(e * R, 32) in Q1.15
    (e * R <= 2^47). Invisible entries get P = 0. Rows with nothing visible give all zeros.
    """
    s = _i64(s)
    vis = np.asarray(visible, dtype=bool)
    big_neg = np.int64(-(1 << 62))
    m = np.max(np.where(vis, s, big_neg), axis=-1, keepdims=True)
    d = np.where(vis, m - s, 0)
    n = np.minimum(d >> C.sm_frac, C.exp2_max_shift + 1)
    e = round_shift(_EXP2_LUT[d & ((1 << C.sm_frac) - 1)], n)
    e = np.where(vis & (n <= C.exp2_max_shift), e, 0)
    z = e.sum(axis=-1, keepdims=True)
    r = np.where(z > 0, (np.int64(1) << C.recip_bits) // np.maximum(z, 1), 0)
    return round_shift(e * r, C.recip_bits - C.prob_frac)


# --------------------------------------------------------------------------------------------
# Λ attention over KV4 keys/values
# --------------------------------------------------------------------------------------------


def attention_lambda(
    q_fixed, q_pos, k_codes, k_zp, k_exp, v_codes, v_zp, v_exp, k_pos, sinks: int, window: int
) -> np.ndarray:
    """Λ attention of T queries over N cached KV4 keys (GQA: query head h uses KV head
    h // (n_heads / n_kv)).

    q_fixed [T, nh, hd] Q15.16 (after RoPE) is A8-quantized per (token, head): (q, fq).
    K: dot = sum_d q[d] * (kc[d] - kz) (8 x 5-bit products, |dot| <= 127*15*hd < 2^31);
    base-2 logits s = requantize(dot, M, fq + ek + sh - 10, 32) with M 2^-sh = log2(e)/sqrt(hd).
    P = softmax_int(s, Λ-visible(q_pos, k_pos)). V: vdeq = kv4_dequantize(vc, vz, ev, 16);
    o = saturate(round_shift(sum_j P_j * vdeq_j, 15), 32) in Q15.16.
    k_codes/v_codes [nkv, N, hd], k_zp/k_exp/v_zp/v_exp [nkv, N], k_pos [N] (-1 = empty).
    Returns o [T, nh*hd] (heads concatenated).
    """
    q_fixed = _i64(q_fixed)
    t, nh, hd = q_fixed.shape
    nkv = k_codes.shape[0]
    if nh % nkv:
        raise ValueError(f"attention: {nh} query heads not divisible by {nkv} KV heads")
    rep = nh // nkv
    q, fq = quantize_act_pow2(q_fixed, C.res_frac)  # per (token, head)
    kv_of = np.arange(nh) // rep
    dot = attention_qk_dot(q, _i64(k_codes)[kv_of], _i64(k_zp)[kv_of])
    m, sh = attention_score_scale(hd)
    shift = fq[:, :, None] + _i64(k_exp)[kv_of][None] + sh - C.sm_frac
    s = requantize(dot, m, shift, C.res_bits)
    vis = lambda_visible(_i64(q_pos)[:, None], _i64(k_pos)[None, :], sinks, window)
    p = softmax_int(s, vis[:, None, :])  # [T, nh, N]
    o = attention_pv(p, _i64(v_codes)[kv_of], _i64(v_zp)[kv_of], _i64(v_exp)[kv_of])
    return o.reshape(t, nh * hd)


def attention_qk_dot(q, k_codes, k_zp) -> np.ndarray:
    """QK^T on KV4 keys: ``dot[t,h,n] = sum_d q[t,h,d] * (k_codes[h,n,d] - k_zp[h,n])``.

    q int8 [T, H, hd], codes 0..15 [H, N, hd], zero points 0..15 [H, N]: 8 x 5-bit products,
    |dot| <= 127*15*hd < 2^31 for hd <= 2^20. The scales (2^-fq, 2^-ek) are applied afterwards by
    the score requantizer, so this is the attention MAC's exact integer output.
    """
    kd = _i64(k_codes) - _i64(k_zp)[..., None]
    return np.einsum("thd,hnd->thn", _i64(q), kd)


def attention_pv(p, v_codes, v_zp, v_exp) -> np.ndarray:
    """P·V on KV4 values: ``o = saturate(round_shift(sum_n P[t,h,n] * vdeq[h,n,:], 15), 32)``.

    P unsigned Q1.15 [T, H, N]; vdeq = kv4_dequantize(v_codes, v_zp, v_exp, 16) [H, N, hd] in
    Q15.16. Output Q15.16 int32 [T, H, hd]. Sum of P over a row <= 2^15 + N, so the sum is bounded
    by (2^15 + N) * max|vdeq| (< 2^63 for int32 vdeq and N < 2^15).
    """
    vdeq = kv4_dequantize(v_codes, v_zp, v_exp, C.res_frac)
    o = np.einsum("thn,hnd->thd", _i64(p), vdeq)
    return saturate(round_shift(o, C.prob_frac), C.res_bits)


# --------------------------------------------------------------------------------------------
# RMSNorm (integer rsqrt: LUT + Newton)
# --------------------------------------------------------------------------------------------


def rsqrt_lut() -> np.ndarray:
    """Seed table for 1/sqrt: entry i (0..191) = floor(2^30 / sqrt((i + 64.5) / 64) + 0.5),
    the Q.30 rsqrt of the midpoint of mantissa bucket [64+i, 65+i) * 2^24 / 2^30. 31-bit values."""
    i = np.arange(192, dtype=np.float64)
    return round_half_up(2.0**C.rsqrt_frac / np.sqrt((i + 64.5) / 64.0)).astype(np.int64)


_RSQRT_LUT = rsqrt_lut()


def rsqrt_int(v):
    """Integer reciprocal square root of v >= 1 (v < 2^62).

    v = mant * 4^k with mant in [2^30, 2^32) (k = ceil((bitlen(v) - 32) / 2), may be < 0);
    Y0 = LUT[(mant >> 24) - 64]; two Newton steps in Q.30: Y2 = round_shift(Y*Y, 30),
    H = round_shift(mant * Y2, 30), Y = round_shift(Y * (3*2^30 - H), 31).
    Then 1/sqrt(v) ~= Y * 2^-(45 + k). Returns (Y int64 in (2^29, 2^30], k int64).
    Intermediates: Y*Y <= 2^60, mant*Y2 < 2^62, Y*(3*2^30-H) < 2^62.
    """
    v = _i64(v)
    if np.any(v < 1):
        raise ValueError("rsqrt_int: v must be >= 1")
    k = -((32 - bit_length(v)) // 2)
    mant = np.where(k >= 0, v >> (2 * np.maximum(k, 0)), v << (2 * np.maximum(-k, 0)))
    y = _RSQRT_LUT[(mant >> C.rsqrt_lut_shift) - 64]
    for _ in range(C.rsqrt_newton_steps):
        y2 = round_shift(y * y, C.rsqrt_frac)
        h = round_shift(mant * y2, C.rsqrt_frac)
        y = round_shift(y * ((3 << C.rsqrt_frac) - h), C.rsqrt_frac + 1)
    return y, k


def rmsnorm_params(gamma, eps: float):
    """Offline RMSNorm constants: gain g_i = gamma_i * sqrt(H) as a signed 16-bit mantissa G_i
    with one shift sh_g per layer (largest sh_g in [0, 47] with all |round(g*2^sh_g)| <= 32767),
    and eps_q = floor(eps * 2^32 + 0.5). Returns (G int64 [H], sh_g int, eps_q int)."""
    g = np.asarray(gamma, dtype=np.float64) * math.sqrt(len(gamma))
    _, sh = dyadic_unsigned(np.abs(g).max(), C.norm_gain_bits - 1, 0, C.shift_max)
    gq = round_half_up(g * 2.0 ** int(sh)).astype(np.int64)
    return gq, int(sh), int(round_half_up(eps * 2.0**C.eps_frac))


def rmsnorm_int(x, gain, gain_shift: int, eps_q: int) -> np.ndarray:
    """Fixed-point RMSNorm of Q15.16 rows x [T, H] -> Q15.16.

    sh = max(bitlen(max|x|) - 15, 0); xs = round_shift(x, sh) (|xs| <= 2^15);
    v = sum xs^2 + round_shift(eps_q * H, 2 sh) (< 2^47 for H <= 2^16; at least 1);
    (Y, k) = rsqrt_int(v); n = round_shift(xs * Y, 22) (<= 2^23);
    y = saturate(round_shift(n * G_i, 23 + k + sh_g - 16), 32).
    Meaning: y = x / sqrt(mean(x^2) + eps) * gamma, because sqrt(H) is folded into G and the
    per-token shift sh cancels between xs and v.
    """
    x = _i64(x)
    h = x.shape[-1]
    sh = np.maximum(bit_length(np.abs(x).max(axis=-1)) - (C.norm_in_bits - 1), 0)
    xs = round_shift(x, sh[..., None])
    v = (xs * xs).sum(axis=-1) + round_shift(np.int64(eps_q) * h, 2 * sh)
    v = np.maximum(v, 1)
    y, k = rsqrt_int(v)
    n = round_shift(xs * y[..., None], C.norm_guard_shift)
    total = C.rsqrt_frac + 15 - C.norm_guard_shift + k + gain_shift - C.res_frac
    out = round_shift(n * _i64(gain), total[..., None])
    return saturate(out, C.res_bits)


# --------------------------------------------------------------------------------------------
# SiLU (sigmoid LUT with linear interpolation)
# --------------------------------------------------------------------------------------------


def sigmoid_lut() -> np.ndarray:
    """Sigmoid table: entry i (0..1024) = floor(2^15 * sigmoid((i - 512) / 32) + 0.5), i.e. the
    range [-16, 16] in steps of 2^-5; 1025 entries of 16 bits (a BRAM18 plus one register)."""
    n = 2 * C.sig_range << C.sig_step_bits
    xs = (np.arange(n + 1, dtype=np.float64) - n / 2) / (1 << C.sig_step_bits)
    return round_half_up(2.0**C.sig_frac / (1.0 + np.exp(-xs))).astype(np.int64)


_SIG_LUT = sigmoid_lut()


def silu_int(x) -> np.ndarray:
    """SiLU of Q15.16 x -> Q15.16: u = x + 16*2^16; i = u >> 11; fr = u & 2047;
    sig = LUT[i] + round_shift((LUT[i+1] - LUT[i]) * fr, 11) (Q1.15, linear interpolation,
    error < 4.5e-5), with sig = 0 for x < -16 and 2^15 for x >= 16 (SiLU error there < 2e-6);
    y = round_shift(x * sig, 15) (|x * sig| <= 2^46)."""
    x = _i64(x)
    step = C.res_frac - C.sig_step_bits
    n = 2 * C.sig_range << C.sig_step_bits
    u = x + (C.sig_range << C.res_frac)
    i = u >> step
    fr = u & ((1 << step) - 1)
    ic = np.clip(i, 0, n - 1)
    sig = _SIG_LUT[ic] + round_shift((_SIG_LUT[ic + 1] - _SIG_LUT[ic]) * fr, step)
    sig = np.where(i < 0, 0, np.where(i >= n, 1 << C.sig_frac, sig))
    return round_shift(x * sig, C.sig_frac)


def swiglu_int(gate, up) -> np.ndarray:
    """SwiGLU product of two Q15.16 int32 tensors: saturate(round_shift(silu(g) * u, 16), 32)
    (|silu(g) * u| < 2^62)."""
    return saturate(round_shift(silu_int(gate) * _i64(up), C.res_frac), C.res_bits)


# --------------------------------------------------------------------------------------------
# RoPE (two small cos/sin tables, angle addition)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RopeTables:
    """Q1.14 cos/sin tables: low [2^6, hd/2] for p mod 64, high [ceil(P/64), hd/2] for p >> 6."""

    cos_lo: np.ndarray
    sin_lo: np.ndarray
    cos_hi: np.ndarray
    sin_hi: np.ndarray


def rope_inv_freq(theta: float, head_dim: int) -> np.ndarray:
    """RoPE inverse frequencies w_i = theta^(-2i/head_dim), i < head_dim/2, in float64.

    The contract defines them from (theta, head_dim) alone, so the tables below depend on
    nothing but the op's attributes (HF computes the same values in float32; the difference,
    < 1 ulp of float32, is far below the Q1.14 table step)."""
    if head_dim % 2:
        raise ValueError(f"RoPE needs an even head_dim, got {head_dim}")
    return float(theta) ** (-np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)


# A float32 RoPE buffer is the default RoPE of base theta when every frequency is within this
# relative distance of theta^(-2i/hd) (float32 rounding of HF's computation: ~1e-7; any
# scaling moves some frequency by far more).
_ROPE_DEFAULT_RTOL = 1e-6


def rope_default_theta(inv_freq_f32, head_dim: int) -> float | None:
    """theta if the model's float32 inverse frequencies are HF's default RoPE of base theta
    (to float32 rounding), else None (a scaled RoPE: llama3, linear, ...). theta is read off
    the lowest frequency; the nearest integer is tried first (rotary bases are integers in
    practice).

    One rule for every level: a default RoPE is carried as ``theta`` and its frequencies are
    ``rope_inv_freq(theta)``; any other RoPE carries the model's own frequencies."""
    w = np.asarray(inv_freq_f32, dtype=np.float64)
    half = head_dim // 2
    if w.shape != (half,) or half < 2 or not np.all(w > 0):
        return None
    estimate = float(w[-1]) ** (-head_dim / (2.0 * (half - 1)))
    for theta in (float(round(estimate)), estimate):
        if theta > 0 and np.allclose(
            rope_inv_freq(theta, head_dim), w, rtol=_ROPE_DEFAULT_RTOL, atol=0
        ):
            return theta
    return None


def rope_tables(inv_freq, max_positions: int) -> RopeTables:
    """Build RoPE tables from the model's inverse frequencies w_i (hd/2 of them):
    lo[p, i] = floor(2^14 * cos(p w_i) + 0.5) for p < 64, hi[q, i] likewise for angle 64 q w_i."""
    w = np.asarray(inv_freq, dtype=np.float64)
    lo = np.arange(1 << C.rope_split_bits, dtype=np.float64)[:, None] * w
    nhi = max(1, -(-max_positions // (1 << C.rope_split_bits)))
    hi = (np.arange(nhi, dtype=np.float64) * (1 << C.rope_split_bits))[:, None] * w
    sc = 2.0**C.rope_frac

    def q(a):
        return round_half_up(sc * a).astype(np.int64)

    return RopeTables(q(np.cos(lo)), q(np.sin(lo)), q(np.cos(hi)), q(np.sin(hi)))


def rope_cos_sin(pos, tables: RopeTables):
    """cos/sin(p w_i) in Q1.14 by angle addition of the two tables:
    c = round_shift(ch*cl - sh*sl, 14), s = round_shift(sh*cl + ch*sl, 14)."""
    p = _i64(pos)
    hi = p >> C.rope_split_bits
    if np.any(hi >= tables.cos_hi.shape[0]) or np.any(p < 0):
        raise ValueError("rope: position beyond the table (max_position_embeddings)")
    lo = p & ((1 << C.rope_split_bits) - 1)
    cl, sl = tables.cos_lo[lo], tables.sin_lo[lo]
    ch, sh = tables.cos_hi[hi], tables.sin_hi[hi]
    c = round_shift(ch * cl - sh * sl, C.rope_frac)
    s = round_shift(sh * cl + ch * sl, C.rope_frac)
    return c, s


def rope_int(x, pos, tables: RopeTables) -> np.ndarray:
    """Rotate Q15.16 x [T, heads, hd] at positions pos [T] (HF rotate_half pairing: i, i+hd/2):
    y1 = round_shift(x1 c - x2 s, 14), y2 = round_shift(x2 c + x1 s, 14), saturated to int32
    (|x c| <= 2^46)."""
    x = _i64(x)
    hd = x.shape[-1]
    c, s = rope_cos_sin(pos, tables)  # [T, hd/2]
    c = c[:, None, :]
    s = s[:, None, :]
    x1, x2 = x[..., : hd // 2], x[..., hd // 2 :]
    y1 = round_shift(x1 * c - x2 * s, C.rope_frac)
    y2 = round_shift(x2 * c + x1 * s, C.rope_frac)
    return saturate(np.concatenate([y1, y2], axis=-1), C.res_bits)
