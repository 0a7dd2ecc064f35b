// RUN: accllm-opt %s --split-input-file --verify-diagnostics

func.func @count(%x: tensor<2x8xf32>, %p: tensor<2xi64>) -> tensor<2x8xf32> {
  // expected-error @+1 {{inv_freq must hold head_dim/2 = 2 finite positive values, got 3}}
  %0 = smla.rope %x, %p {head_dim = 4, theta = 10000.0, max_positions = 16, inv_freq = array<f64: 1.0, 0.5, 0.25>} : tensor<2x8xf32>, tensor<2xi64> -> tensor<2x8xf32>
  func.return %0 : tensor<2x8xf32>
}

// -----

func.func @negative(%x: tensor<2x8xf32>, %p: tensor<2xi64>) -> tensor<2x8xf32> {
  // expected-error @+1 {{inv_freq must hold head_dim/2 = 2 finite positive values, got 2}}
  %0 = smla.rope %x, %p {head_dim = 4, theta = 10000.0, max_positions = 16, inv_freq = array<f64: 1.0, -0.5>} : tensor<2x8xf32>, tensor<2xi64> -> tensor<2x8xf32>
  func.return %0 : tensor<2x8xf32>
}

// -----

func.func @element(%x: tensor<2x8xf32>, %p: tensor<2xi64>) -> tensor<2x8xf32> {
  // expected-error @+1 {{inv_freq must be an array<f64: ...>}}
  %0 = smla.rope %x, %p {head_dim = 4, theta = 10000.0, max_positions = 16, inv_freq = array<i64: 1, 2>} : tensor<2x8xf32>, tensor<2xi64> -> tensor<2x8xf32>
  func.return %0 : tensor<2x8xf32>
}
