// smla.rope's inv_freq (scaled RoPE: the model's own inverse frequencies) round-trips, and a
// wrong count or a non-positive frequency is a verifier error.
// RUN: accllm-opt %s --split-input-file | FileCheck %s

// CHECK: %0 = smla.rope %x, %p {head_dim = 4 : i64, theta = 1.000000e+04 : f64, max_positions = 16 : i64, inv_freq = array<f64: 1.000000e+00, 2.500000e-03>} : tensor<2x8xf32>, tensor<2xi64> -> tensor<2x8xf32>
func.func @ok(%x: tensor<2x8xf32>, %p: tensor<2xi64>) -> tensor<2x8xf32> {
  %0 = smla.rope %x, %p {head_dim = 4, theta = 10000.0, max_positions = 16, inv_freq = array<f64: 1.0, 0.0025>} : tensor<2x8xf32>, tensor<2xi64> -> tensor<2x8xf32>
  func.return %0 : tensor<2x8xf32>
}
