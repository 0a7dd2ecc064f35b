// hls-annotate attaches the directives the HLS emitter prints: an HBM channel per top-level
// array (round robin over hbm_channels), PIPELINE on every compute op, a fully unrolled lane
// loop and a partitioned A8 input for 2:4 W2 linears, `lanes` for the int8 LM head, and
// DATAFLOW only where every value has one consumer.
// RUN: accllm-opt %s -p 'hls-annotate{hbm_channels=3 lanes=8}' --split-input-file | FileCheck %s
// RUN: accllm-opt %s -p 'hls-annotate{hbm_channels=3 lanes=8}' --split-input-file | accllm-translate --emit-hls --split-input-file | FileCheck %s --check-prefix=CPP

// CHECK-LABEL: func.func @chain(
// CHECK-SAME:    %x: !smla.qtensor<2x32xsi32, frac=16> {hls.m_axi = #hls.m_axi<channel = 0>}
// CHECK-SAME:    -> (!smla.qtensor<2x8xsi32, frac=16> {hls.m_axi = #hls.m_axi<channel = 1>})
// CHECK-SAME:    attributes {hls.dataflow}
// CHECK:       smla.weight {{.*}} attributes {hls.m_axi = #hls.m_axi<channel = 2>}
// CHECK:       smla.requantize %x {hls.pipeline = #hls.pipeline<ii = 1>}
// CHECK:       smla.linear {{.*}}hls.pipeline = #hls.pipeline<ii = 1>, hls.unroll = #hls.unroll<factor = 0>, hls.array_partition = #hls.array_partition<complete, factor = 0, dim = 2>
// CPP-LABEL:   void chain(
// CPP:         bundle=hbm0
// CPP:         bundle=hbm2
// CPP:         bundle=hbm1
// CPP:         #pragma HLS DATAFLOW
func.func @chain(%x: !smla.qtensor<2x32xsi32, frac=16>) -> !smla.qtensor<2x8xsi32, frac=16> {
  %w = smla.weight {codes = dense<1> : tensor<8x16xi8>, meta = dense<2> : tensor<8x8xi8>, zero_point = dense<1> : tensor<8x1xi8>, scale_mant = dense<300> : tensor<8x1xi32>, scale_exp = dense<12> : tensor<8xi8>} : !smla.qweight<8x32, ui2, group=32, sparse=2:4>
  %a = smla.requantize %x : !smla.qtensor<2x32xsi32, frac=16> -> !smla.qtensor<2x32xsi8, per_token>
  %y = smla.linear %a, %w {acc_bits = 48} : !smla.qtensor<2x32xsi8, per_token>, !smla.qweight<8x32, ui2, group=32, sparse=2:4> -> !smla.qtensor<2x8xsi32, frac=16>
  func.return %y : !smla.qtensor<2x8xsi32, frac=16>
}

// -----

// A residual block: %x feeds the norm and the add, so no DATAFLOW; channels wrap at 3; the int8
// LM head unrolls by `lanes` and partitions its input cyclically by the same factor.
// CHECK-LABEL: func.func @residual(
// CHECK-SAME:    {hls.m_axi = #hls.m_axi<channel = 0>}
// CHECK-SAME:    {hls.m_axi = #hls.m_axi<channel = 1>}
// CHECK-NOT:     hls.dataflow
// CHECK:       smla.weight {{.*}}#hls.m_axi<channel = 2>
// CHECK:       smla.rmsnorm {{.*}}{hls.pipeline = #hls.pipeline<ii = 1>}
// CHECK:       smla.add {{.*}}{hls.pipeline = #hls.pipeline<ii = 1>}
// CHECK:       smla.weight {{.*}}#hls.m_axi<channel = 0>
// CHECK:       smla.lm_head {{.*}}hls.unroll = #hls.unroll<factor = 8>, hls.array_partition = #hls.array_partition<cyclic, factor = 8, dim = 2>
// CPP-LABEL:   static void residual_k1_smla_rmsnorm(
// CPP:         L_max: for
// CPP-NEXT:      #pragma HLS PIPELINE II=1
// CPP-LABEL:   static void residual_k5_smla_lm_head(
// CPP:         #pragma HLS ARRAY_PARTITION variable=v3_q cyclic factor=8 dim=2
// CPP:         L_k: for (int i = 0; i < 32; ++i) {
// CPP-NEXT:      #pragma HLS PIPELINE II=1
// CPP-NEXT:      #pragma HLS UNROLL factor=8
// CPP-NEXT:      acc += i64(v3_q[t][i]) * i64(w_residual_4_q[o * 32 + i]);
// CPP-LABEL:   void residual(
// CPP-NOT:     #pragma HLS DATAFLOW
// CPP:         }
func.func @residual(%x: !smla.qtensor<2x32xsi32, frac=16>) -> !smla.qtensor<2x4xsi32, frac=16> {
  %g = smla.weight {values = dense<9000> : tensor<32xi16>} : !smla.qtensor<32xsi16, frac=13>
  %n = smla.rmsnorm %x, %g epsilon = 1.0e-05 : !smla.qtensor<2x32xsi32, frac=16>, !smla.qtensor<32xsi16, frac=13> -> !smla.qtensor<2x32xsi32, frac=16>
  %r = smla.add %x, %n : !smla.qtensor<2x32xsi32, frac=16>, !smla.qtensor<2x32xsi32, frac=16> -> !smla.qtensor<2x32xsi32, frac=16>
  %a = smla.requantize %r : !smla.qtensor<2x32xsi32, frac=16> -> !smla.qtensor<2x32xsi8, per_token>
  %h = smla.weight {codes = dense<3> : tensor<4x32xi8>, scale_mant = dense<500> : tensor<4xi32>, scale_exp = dense<20> : tensor<4xi8>} : !smla.qweight<4x32, si8>
  %y = smla.lm_head %a, %h {acc_bits = 32} : !smla.qtensor<2x32xsi8, per_token>, !smla.qweight<4x32, si8> -> !smla.qtensor<2x4xsi32, frac=16>
  func.return %y : !smla.qtensor<2x4xsi32, frac=16>
}
