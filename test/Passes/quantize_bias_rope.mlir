// accllm-quantize on the two family features: a linear bias (Qwen2) becomes a Q15.16 qtensor
// (contract.quantize_bias: 0.5 -> 32768, -0.25 -> -16384) added after the linear's requantizer,
// a scaled RoPE (Llama-3.x) keeps the model's inverse frequencies, and a K that is not a
// multiple of 32 is zero-padded (264 -> 288, group 32) while the input keeps K = 264.
// RUN: accllm-opt %s -p accllm-quantize | FileCheck %s

// CHECK-LABEL: func.func @bias
// CHECK: smla.weight {values = dense<[32768, -16384, 32768, -16384, 32768, -16384, 32768, -16384]> : tensor<8xi32>} : !smla.qtensor<8xsi32, frac=16>
// CHECK: smla.linear %{{.*}}, %{{.*}} bias %{{.*}} {acc_bits = {{[0-9]+}} : i64} : !smla.qtensor<1x2x32xsi8, per_token>, !smla.qweight<8x32, ui2, group=32>, !smla.qtensor<8xsi32, frac=16> -> !smla.qtensor<1x2x8xsi32, frac=16>
func.func @bias(%x: tensor<1x2x32xf32>) -> tensor<1x2x8xf32> {
  %w = smla.weight dense<0.5> : tensor<8x32xf32>
  %b = smla.weight dense<[0.5, -0.25, 0.5, -0.25, 0.5, -0.25, 0.5, -0.25]> : tensor<8xf32>
  %y = smla.linear %x, %w bias %b : tensor<1x2x32xf32>, tensor<8x32xf32>, tensor<8xf32> -> tensor<1x2x8xf32>
  func.return %y : tensor<1x2x8xf32>
}

// CHECK-LABEL: func.func @scaled_rope
// CHECK: smla.rope %{{.*}}, %{{.*}} {head_dim = 4 : i64, theta = 1.000000e+04 : f64, max_positions = 16 : i64, inv_freq = array<f64: 2.500000e-01, 2.500000e-03>} : !smla.qtensor<1x2x8xsi32, frac=16>
func.func @scaled_rope(%x: tensor<1x2x8xf32>) -> tensor<1x2x8xf32> {
  %p = arith.constant dense<[0, 1]> : tensor<2xi64>
  %y = smla.rope %x, %p {head_dim = 4 : i64, theta = 1.0e+04 : f64, max_positions = 16 : i64, inv_freq = array<f64: 0.25, 0.0025>} : tensor<1x2x8xf32>, tensor<2xi64> -> tensor<1x2x8xf32>
  func.return %y : tensor<1x2x8xf32>
}

// CHECK-LABEL: func.func @ffn_264
// CHECK: smla.linear %{{.*}}, %{{.*}} {acc_bits = {{[0-9]+}} : i64} : !smla.qtensor<1x2x264xsi8, per_token>, !smla.qweight<8x288, ui2, group=32> -> !smla.qtensor<1x2x8xsi32, frac=16>
func.func @ffn_264(%x: tensor<1x2x264xf32>) -> tensor<1x2x8xf32> {
  %w = smla.weight dense<0.5> : tensor<8x264xf32>
  %y = smla.linear %x, %w : tensor<1x2x264xf32>, tensor<8x264xf32> -> tensor<1x2x8xf32>
  func.return %y : tensor<1x2x8xf32>
}
