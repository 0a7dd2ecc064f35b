// Test harness of backend/hls/contract.h: reads commands on stdin, prints integers on stdout.
// Each command is a keyword and its integer operands (see test_hls_contract.py); the Python
// test compares every printed integer with accllm.numerics.contract.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "contract.h"

using namespace accllm;

static long long rd() {
  long long v;
  std::cin >> v;
  return v;
}

static void out(i64 v) { std::cout << v.to_int64() << ' '; }

static void quant_a8(int d) {
  std::vector<i64> x(d);
  i64 hi = 0, lo = 0;
  for (int i = 0; i < d; ++i) {
    x[i] = rd();
    if (i == 0 || x[i] > hi) hi = x[i];
    if (i == 0 || x[i] < lo) lo = x[i];
  }
  const int f = act_exponent(hi, lo, RES_FRAC);
  out(f);
  for (int i = 0; i < d; ++i) out(round_shift(x[i], RES_FRAC - f));
}

static void quant_kv4(int d) {
  std::vector<i64> x(d);
  i64 hi = 0, lo = 0;
  for (int i = 0; i < d; ++i) {
    x[i] = rd();
    if (x[i] > hi) hi = x[i];
    if (x[i] < lo) lo = x[i];
  }
  const int e = kv4_exponent(hi, lo, RES_FRAC);
  const i64 z = -round_shift(lo, RES_FRAC - e);
  out(e);
  out(z);
  for (int i = 0; i < d; ++i) out(round_shift(x[i], RES_FRAC - e) + z);
}

static void softmax_row(int n) {
  std::vector<i64> s(n);
  std::vector<int> vis(n);
  for (int i = 0; i < n; ++i) s[i] = rd();
  for (int i = 0; i < n; ++i) vis[i] = rd();
  bool any = false;
  i64 m = 0;
  for (int i = 0; i < n; ++i)
    if (vis[i] && (!any || s[i] > m)) m = s[i], any = true;
  std::vector<i64> e(n);
  i64 z = 0;
  for (int i = 0; i < n; ++i) {
    e[i] = vis[i] ? exp2_neg(m - s[i]) : i64(0);
    z += e[i];
  }
  const i64 r = softmax_recip(z);
  for (int i = 0; i < n; ++i) out(softmax_prob(e[i], r));
}

static void rmsnorm_row(int h) {
  const int gain_shift = rd();
  const i64 eps_q = rd();
  std::vector<i64> gain(h), x(h);
  for (int i = 0; i < h; ++i) gain[i] = rd();
  i64 max_abs = 0;
  for (int i = 0; i < h; ++i) {
    x[i] = rd();
    const i64 a = x[i] < 0 ? i64(-x[i]) : x[i];
    if (a > max_abs) max_abs = a;
  }
  const int sh = rmsnorm_shift(max_abs);
  i64 v = round_shift(eps_q * h, 2 * sh);
  for (int i = 0; i < h; ++i) {
    const i64 xs = round_shift(x[i], sh);
    v += xs * xs;
  }
  if (v < 1) v = 1;
  i64 y;
  int k;
  rsqrt_int(v, y, k);
  for (int i = 0; i < h; ++i) out(rmsnorm_out(round_shift(x[i], sh), y, k, gain[i], gain_shift));
}

static void mac_row() {
  const int k = rd(), group = rd(), nwords = rd();
  std::vector<act_t> x(k);
  for (int i = 0; i < k; ++i) x[i] = rd();
  std::vector<word_t> row(nwords);
  for (int w = 0; w < nwords; ++w)
    for (int b = 0; b < WORD_BITS / 8; ++b) row[w].range(8 * b + 7, 8 * b) = rd();
  std::vector<wzp_t> zp(k / group);
  std::vector<smant_t> sm(k / group);
  for (int g = 0; g < k / group; ++g) zp[g] = rd();
  for (int g = 0; g < k / group; ++g) sm[g] = rd();
  out(sparse_group_mac_row(x.data(), row.data(), zp.data(), sm.data(), k, group));
}

int main() {
  std::string cmd;
  while (std::cin >> cmd) {
    if (cmd == "rs") {
      const i64 x = rd();
      out(round_shift(x, rd()));
    } else if (cmd == "sat") {
      const i64 x = rd();
      out(saturate<32>(x));
      out(saturate<8>(x));
      out(saturate_unsigned<16>(x));
    } else if (cmd == "rq") {
      const i64 acc = rd();
      const mult_t m = rd();
      const int s = rd();
      out(requantize<32>(acc, m, s));
      out(requantize_pow2<32>(acc, s));
    } else if (cmd == "a8") {
      quant_a8(rd());
    } else if (cmd == "kv4") {
      quant_kv4(rd());
    } else if (cmd == "kvdq") {
      const int c = rd(), z = rd(), e = rd();
      out(kv4_dequantize(c, z, e));
    } else if (cmd == "slot") {
      const int p = rd(), s = rd(), w = rd();
      out(lambda_slot(p, s, w));
    } else if (cmd == "vis") {
      const int i = rd(), j = rd(), s = rd(), w = rd();
      out(lambda_visible(i, j, s, w));
    } else if (cmd == "sm") {
      softmax_row(rd());
    } else if (cmd == "rsqrt") {
      i64 y;
      int k;
      rsqrt_int(rd(), y, k);
      out(y);
      out(k);
    } else if (cmd == "rms") {
      rmsnorm_row(rd());
    } else if (cmd == "silu") {
      out(silu(rd()));
    } else if (cmd == "swiglu") {
      const i64 g = rd();
      out(swiglu(g, rd()));
    } else if (cmd == "rope") {
      const i64 cl = rd(), sl = rd(), ch = rd(), sh = rd(), x1 = rd(), x2 = rd();
      i64 c, s, y1, y2;
      rope_cos_sin(cl, sl, ch, sh, c, s);
      rope_rotate(x1, x2, c, s, y1, y2);
      out(c);
      out(s);
      out(y1);
      out(y2);
    } else if (cmd == "mac") {
      mac_row();
    } else {
      std::cerr << "unknown command " << cmd << '\n';
      return 2;
    }
    std::cout << '\n';
  }
  return 0;
}
