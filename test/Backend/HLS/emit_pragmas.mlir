// The HLS C++ emitter prints #pragma HLS lines exactly where the IR's hls.* attributes are:
// per-op PIPELINE / UNROLL / ARRAY_PARTITION inside the op's kernel, one m_axi bundle per HBM
// channel for every top-level array, DATAFLOW from the function's hls.dataflow.
// RUN: accllm-translate --emit-hls %s | FileCheck %s

func.func @mlp(%x: !smla.qtensor<2x32xsi32, frac=16> {hls.m_axi = #hls.m_axi<channel = 5>})
    -> (!smla.qtensor<2x8xsi32, frac=16> {hls.m_axi = #hls.m_axi<channel = 6>})
    attributes {hls.dataflow} {
  %w = smla.weight {codes = dense<1> : tensor<8x16xi8>, meta = dense<2> : tensor<8x8xi8>, zero_point = dense<1> : tensor<8x1xi8>, scale_mant = dense<300> : tensor<8x1xi32>, scale_exp = dense<12> : tensor<8xi8>} attributes {hls.m_axi = #hls.m_axi<channel = 3>} : !smla.qweight<8x32, ui2, group=32, sparse=2:4>
  %a = smla.requantize %x {hls.pipeline = #hls.pipeline<ii = 2>} : !smla.qtensor<2x32xsi32, frac=16> -> !smla.qtensor<2x32xsi8, per_token>
  %y = smla.linear %a, %w {acc_bits = 48, hls.pipeline = #hls.pipeline<ii = 1>, hls.unroll = #hls.unroll<factor = 0>, hls.array_partition = #hls.array_partition<cyclic, factor = 4, dim = 2>} : !smla.qtensor<2x32xsi8, per_token>, !smla.qweight<8x32, ui2, group=32, sparse=2:4> -> !smla.qtensor<2x8xsi32, frac=16>
  func.return %y : !smla.qtensor<2x8xsi32, frac=16>
}

// The contract and its generated tables come first: the file is self-contained.
// CHECK: #include <ap_int.h>
// CHECK: constexpr int BLOCKS_PER_WORD = 36;
// CHECK: static const ap_uint<16> EXP2_LUT[1024] = {

// CHECK-LABEL: static void mlp_k1_smla_requantize(const res_t arg0_buf[2][32],
// CHECK-NEXT:  act_t v1_q[2][32],
// CHECK-NEXT:  act_exp_t v1_f[2]) {
// CHECK:       L_max: for (int i = 0; i < 32; ++i) {
// CHECK-NEXT:    #pragma HLS PIPELINE II=2
// CHECK:       const int f = act_exponent(hi, lo, 16);
// CHECK:       L_q: for (int i = 0; i < 32; ++i) {
// CHECK-NEXT:    #pragma HLS PIPELINE II=2
// CHECK-NOT:   #pragma HLS UNROLL
// CHECK-LABEL: static void mlp_k2_smla_linear(
// CHECK:       #pragma HLS ARRAY_PARTITION variable=v1_q cyclic factor=4 dim=2
// CHECK-NEXT:  word_t row[1];
// CHECK:       L_load: for (int w = 0; w < 1; ++w) {
// CHECK-NEXT:    #pragma HLS PIPELINE II=1
// CHECK:       L_word: for (int w = 0; w < 1; ++w) {
// CHECK-NEXT:    #pragma HLS PIPELINE II=1
// CHECK-NEXT:    L_lane: for (int b = 0; b < BLOCKS_PER_WORD; ++b) {
// CHECK-NEXT:      #pragma HLS UNROLL
// CHECK:         decode_block(word_block(row[w], b), p0, p1, c0, c1);
// CHECK:       const i64 y = requantize_pow2<RES_BITS>(acc, v1_f[t].to_int() + w_mlp_0_se[o].to_int() - 16);
// CHECK-NEXT:  v2[t][o] = y;

// CHECK-LABEL: void mlp(const res_t arg0[64],
// CHECK-NEXT:  const word_t w_mlp_0_words[8],
// CHECK-NEXT:  const wzp_t w_mlp_0_zp[8],
// CHECK-NEXT:  const smant_t w_mlp_0_sm[8],
// CHECK-NEXT:  const sexp_t w_mlp_0_se[8],
// CHECK-NEXT:  res_t out0[16]) {
// CHECK-NEXT:  #pragma HLS INTERFACE mode=m_axi port=arg0 bundle=hbm5 offset=slave depth=64
// CHECK-NEXT:  #pragma HLS INTERFACE mode=m_axi port=w_mlp_0_words bundle=hbm3 offset=slave depth=8
// CHECK-NEXT:  #pragma HLS INTERFACE mode=m_axi port=w_mlp_0_zp bundle=hbm3 offset=slave depth=8
// CHECK-NEXT:  #pragma HLS INTERFACE mode=m_axi port=w_mlp_0_sm bundle=hbm3 offset=slave depth=8
// CHECK-NEXT:  #pragma HLS INTERFACE mode=m_axi port=w_mlp_0_se bundle=hbm3 offset=slave depth=8
// CHECK-NEXT:  #pragma HLS INTERFACE mode=m_axi port=out0 bundle=hbm6 offset=slave depth=16
// CHECK-NEXT:  #pragma HLS INTERFACE mode=s_axilite port=return
// CHECK-NEXT:  #pragma HLS DATAFLOW
// CHECK:       mlp_k1_smla_requantize(arg0_buf, v1_q, v1_f);
// CHECK-NEXT:  mlp_k2_smla_linear(v1_q, v1_f, w_mlp_0_words, w_mlp_0_zp, w_mlp_0_sm, w_mlp_0_se, v2);
