// accllm numerics contract in C++ (ap_int), for Vitis HLS and g++ C simulation.
//
// Every function mirrors one function of accllm/numerics/contract.py and must return the same
// integers (tested bit for bit in test/backend/hls/test_hls_contract.py). The constants and the
// lookup tables are NOT written here: they come from "accllm_numerics.h", generated from
// contract.NUMERICS and the contract's table functions (backend/hls/numerics_header.py), so that
// no number is retyped. Intermediates are 64-bit (ap_int<64>) exactly where the Python contract
// uses int64; the contract's docstrings prove the bounds that make that exact.
#ifndef ACCLLM_CONTRACT_H
#define ACCLLM_CONTRACT_H

#include <ap_int.h>

#include "accllm_numerics.h"

namespace accllm {

typedef ap_int<64> i64;  // the contract's int64 intermediates

// Storage and interface types of the contract's widths.
typedef ap_int<RES_BITS> res_t;                 // residual stream, Q15.16
typedef ap_int<ACT_BITS> act_t;                 // A8 code
typedef ap_int<ACT_EXP_BITS> act_exp_t;         // A8 per-token exponent f
typedef ap_uint<W_BITS> wzp_t;                  // W2 zero point
typedef ap_uint<SCALE_MANT_BITS> smant_t;       // W2 group-scale mantissa S
typedef ap_uint<SCALE_EXP_BITS> sexp_t;         // W2 per-channel exponent e
typedef ap_uint<MULT_BITS> mult_t;              // dyadic multiplier M
typedef ap_int<ACC_BITS> acc_t;                 // DSP48 accumulator
typedef ap_uint<WORD_BITS> word_t;              // one packed 2:4 W2 HBM word
typedef ap_uint<BLOCK_BITS> block_t;            // one 2:4 block: pattern + two codes
typedef ap_uint<KV_BITS> kv_t;                  // KV4 code / zero point
typedef ap_uint<2 * KV_BITS> kv_byte_t;         // two KV4 codes, lower index low nibble
typedef ap_int<KV_EXP_BITS> kv_exp_t;           // KV4 exponent
typedef ap_uint<PROB_FRAC + 1> prob_t;          // softmax probability, Q1.15
typedef ap_int<NORM_GAIN_BITS> gain_t;          // RMSNorm gain mantissa
typedef ap_int<ROPE_FRAC + 2> rope_t;           // cos/sin in Q1.14 (range [-2^14, 2^14])
typedef ap_int<32> pos_t;                       // absolute token position (-1 = empty slot)

// round_shift: arithmetic right shift by s with rounding half toward +inf (s > 0), exact
// left shift (s < 0). THE rounding rule of every unit.
inline i64 round_shift(i64 x, int s) {
#pragma HLS INLINE
  if (s > 0) return (x + (i64(1) << (s - 1))) >> s;
  if (s < 0) return x << (-s);
  return x;
}

template <int BITS>
inline i64 saturate(i64 x) {
#pragma HLS INLINE
  const i64 hi = (i64(1) << (BITS - 1)) - 1;
  const i64 lo = -(i64(1) << (BITS - 1));
  return x > hi ? hi : (x < lo ? lo : x);
}

template <int BITS>
inline i64 saturate_unsigned(i64 x) {
#pragma HLS INLINE
  const i64 hi = (i64(1) << BITS) - 1;
  return x > hi ? hi : (x < 0 ? i64(0) : x);
}

// Dyadic requantizer: saturate(round_shift(acc * M, shift), OUT_BITS); |acc * M| < 2^47.
template <int OUT_BITS>
inline i64 requantize(i64 acc, mult_t m, int shift) {
#pragma HLS INLINE
  return saturate<OUT_BITS>(round_shift(acc * i64(m), shift));
}

template <int OUT_BITS>
inline i64 requantize_pow2(i64 acc, int shift) {
#pragma HLS INLINE
  return saturate<OUT_BITS>(round_shift(acc, shift));
}

// Bit length of v >= 0 (a leading-zero count in hardware).
inline int bit_length(i64 v) {
#pragma HLS INLINE
  int b = 0;
  for (int i = 62; i >= 0; --i) {
    if (v[i]) {
      b = i + 1;
      break;
    }
  }
  return b;
}

// A8 exponent of one token from its max and min: the largest f in [ACT_EXP_MIN, ACT_EXP_MAX]
// with round_shift(hi, frac - f) <= ACT_QMAX and round_shift(lo, frac - f) >= -ACT_QMAX.
// Returns ACT_EXP_MIN - 1 if none fits (the contract raises; the caller never feeds such data
// because |x| < 2^31 always fits).
inline int act_exponent(i64 hi, i64 lo, int frac) {
#pragma HLS INLINE
  for (int f = ACT_EXP_MAX; f >= ACT_EXP_MIN; --f) {
    if (round_shift(hi, frac - f) <= ACT_QMAX && round_shift(lo, frac - f) >= -ACT_QMAX) return f;
  }
  return ACT_EXP_MIN - 1;
}

// KV4 exponent of one (token, head) from hi = max(max x, 0), lo = min(min x, 0).
inline int kv4_exponent(i64 hi, i64 lo, int frac) {
#pragma HLS INLINE
  for (int e = KV_EXP_MAX; e >= KV_EXP_MIN; --e) {
    if (round_shift(hi, frac - e) - round_shift(lo, frac - e) <= (1 << KV_BITS) - 1) return e;
  }
  return KV_EXP_MIN - 1;
}

// 2:4 block decode: kept positions (lower first) and their W2 codes.
inline void decode_block(block_t b, int &pos0, int &pos1, int &code0, int &code1) {
#pragma HLS INLINE
  const int pat = b.range(PATTERN_BITS - 1, 0).to_int();
  pos0 = PATTERN_POS0[pat];
  pos1 = PATTERN_POS1[pat];
  code0 = b.range(PATTERN_BITS + W_BITS - 1, PATTERN_BITS).to_int();
  code1 = b.range(PATTERN_BITS + 2 * W_BITS - 1, PATTERN_BITS + W_BITS).to_int();
}

inline block_t word_block(const word_t &w, int i) {
#pragma HLS INLINE
  return w.range(BLOCK_BITS * i + BLOCK_BITS - 1, BLOCK_BITS * i);
}

// One 2:4 block of the sparse group MAC: x4 are the block's 4 int8 inputs, z the group's
// zero point; |result| <= 2 * 128 * 3.
inline i64 mac_block(block_t b, const act_t x4[4], int z) {
#pragma HLS INLINE
  int p0, p1, c0, c1;
  decode_block(b, p0, p1, c0, c1);
  return i64(x4[p0]) * (c0 - z) + i64(x4[p1]) * (c1 - z);
}

// Reference sparse group MAC of one output row over the packed stream (contract
// sparse_group_mac): per group a partial sum p of the kept products, then acc += p * S[g].
// Emitted kernels build their own (pragma-annotated) loop nest from mac_block; this plain
// version is the unit under test for the stream format.
inline acc_t sparse_group_mac_row(const act_t *x, const word_t *row, const wzp_t *zp,
                                  const smant_t *sm, int k, int group) {
  const int blocks = k / 4;
  const int per_group = group / 4;
  i64 acc = 0, p = 0;
  for (int blk = 0; blk < blocks; ++blk) {
    const int g = blk / per_group;
    p += mac_block(word_block(row[blk / BLOCKS_PER_WORD], blk % BLOCKS_PER_WORD), &x[4 * blk],
                   zp[g].to_int());
    if ((blk + 1) % per_group == 0) {
      acc += p * i64(sm[g]);
      p = 0;
    }
  }
  return acc;
}

// Λ KV-cache slot of absolute position p and the Λ visibility rule.
inline int lambda_slot(int p, int sinks, int window) {
#pragma HLS INLINE
  return p < sinks ? p : sinks + (p - sinks) % window;
}

inline bool lambda_visible(int i, int j, int sinks, int window) {
#pragma HLS INLINE
  return j >= 0 && j <= i && (j < sinks || j > i - window);
}

// KV4 dequantizer to Q.16: round_shift(code - z, e - RES_FRAC).
inline i64 kv4_dequantize(int code, int zp, int e) {
#pragma HLS INLINE
  return round_shift(i64(code - zp), e - RES_FRAC);
}

// Softmax pieces: 2^-d in Q1.15 for base-2 logit distance d >= 0 (frac SM_FRAC), one
// reciprocal per row, and the probability.
inline i64 exp2_neg(i64 d) {
#pragma HLS INLINE
  const i64 n = d >> SM_FRAC;
  if (n > EXP2_MAX_SHIFT) return 0;
  return round_shift(i64(EXP2_LUT[(d & ((1 << SM_FRAC) - 1)).to_int()]), n.to_int());
}

inline i64 softmax_recip(i64 z) {
#pragma HLS INLINE
  return z > 0 ? i64((i64(1) << RECIP_BITS) / z) : i64(0);
}

inline i64 softmax_prob(i64 e, i64 r) {
#pragma HLS INLINE
  return round_shift(e * r, RECIP_BITS - PROB_FRAC);
}

// Integer reciprocal square root of v >= 1: 1/sqrt(v) ~= y * 2^-(45 + k).
inline void rsqrt_int(i64 v, i64 &y, int &k) {
#pragma HLS INLINE
  const int d = (RSQRT_FRAC + 2) - bit_length(v);
  k = -(d >= 0 ? d / 2 : -((-d + 1) / 2));  // k = -floor(d / 2)
  const i64 mant = k >= 0 ? i64(v >> (2 * k)) : i64(v << (-2 * k));
  y = RSQRT_LUT[(mant >> RSQRT_LUT_SHIFT).to_int() - RSQRT_LUT_BASE];
  for (int it = 0; it < RSQRT_NEWTON_STEPS; ++it) {
    const i64 y2 = round_shift(y * y, RSQRT_FRAC);
    const i64 h = round_shift(mant * y2, RSQRT_FRAC);
    y = round_shift(y * ((i64(3) << RSQRT_FRAC) - h), RSQRT_FRAC + 1);
  }
}

// RMSNorm per-token pieces: input shift sh from max|x|, then the output of one element.
inline int rmsnorm_shift(i64 max_abs) {
#pragma HLS INLINE
  const int s = bit_length(max_abs) - (NORM_IN_BITS - 1);
  return s > 0 ? s : 0;
}

inline i64 rmsnorm_out(i64 xs, i64 y, int k, i64 gain, int gain_shift) {
#pragma HLS INLINE
  const i64 n = round_shift(xs * y, NORM_GUARD_SHIFT);
  const int total = RSQRT_FRAC + (NORM_IN_BITS - 1) - NORM_GUARD_SHIFT + k + gain_shift - RES_FRAC;
  return saturate<RES_BITS>(round_shift(n * gain, total));
}

// SiLU of Q15.16 x (sigmoid LUT with linear interpolation).
inline i64 silu(i64 x) {
#pragma HLS INLINE
  const int step = RES_FRAC - SIG_STEP_BITS;
  const int n = (2 * SIG_RANGE) << SIG_STEP_BITS;
  const i64 u = x + (i64(SIG_RANGE) << RES_FRAC);
  const i64 i = u >> step;
  const i64 fr = u & ((i64(1) << step) - 1);
  i64 sig;
  if (i < 0) {
    sig = 0;
  } else if (i >= n) {
    sig = i64(1) << SIG_FRAC;
  } else {
    const int ic = i.to_int();
    const i64 lo = SIG_LUT[ic];
    sig = lo + round_shift((i64(SIG_LUT[ic + 1]) - lo) * fr, step);
  }
  return round_shift(x * sig, SIG_FRAC);
}

inline i64 swiglu(i64 gate, i64 up) {
#pragma HLS INLINE
  return saturate<RES_BITS>(round_shift(silu(gate) * up, RES_FRAC));
}

// RoPE: cos/sin in Q1.14 of angle p * w_i by angle addition of the low/high tables.
inline void rope_cos_sin(i64 cl, i64 sl, i64 ch, i64 sh, i64 &c, i64 &s) {
#pragma HLS INLINE
  c = round_shift(ch * cl - sh * sl, ROPE_FRAC);
  s = round_shift(sh * cl + ch * sl, ROPE_FRAC);
}

inline void rope_rotate(i64 x1, i64 x2, i64 c, i64 s, i64 &y1, i64 &y2) {
#pragma HLS INLINE
  y1 = saturate<RES_BITS>(round_shift(x1 * c - x2 * s, ROPE_FRAC));
  y2 = saturate<RES_BITS>(round_shift(x2 * c + x1 * s, ROPE_FRAC));
}

}  // namespace accllm

#endif  // ACCLLM_CONTRACT_H
