// accllm-prune-2-4 rejects what it cannot prune, at the op, and bad options before any work.
// RUN: accllm-opt %s -p accllm-prune-2-4 --split-input-file --verify-diagnostics
// RUN: not accllm-opt %s -p 'accllm-prune-2-4{method=obs}' --split-input-file 2>&1 | FileCheck %s --check-prefix=METHOD
// METHOD: error: accllm-prune-2-4: unknown method 'obs' (one of magnitude, wanda, sparsegpt)

func.func @odd_k(%x: tensor<1x2x6xf32>) -> tensor<1x2x2xf32> {
  %w = smla.weight dense<1.0> : tensor<2x6xf32>
  // expected-error @+1 {{2:4 pruning needs the input size K divisible by 4, got K=6}}
  %y = smla.linear %x, %w : tensor<1x2x6xf32>, tensor<2x6xf32> -> tensor<1x2x2xf32>
  func.return %y : tensor<1x2x2xf32>
}

// -----

func.func @weight_not_constant(%x: tensor<1x2x8xf32>, %w: tensor<2x8xf32>) -> tensor<1x2x2xf32> {
  // expected-error @+1 {{the weight must be an smla.weight to be pruned offline}}
  %y = smla.linear %x, %w : tensor<1x2x8xf32>, tensor<2x8xf32> -> tensor<1x2x2xf32>
  func.return %y : tensor<1x2x2xf32>
}

// -----

// Wanda runs the function on token ids: a function taking activations cannot be calibrated.
func.func @wanda_needs_ids(%x: tensor<1x2x8xf32>) -> tensor<1x2x2xf32> {
  %w = smla.weight dense<1.0> : tensor<2x8xf32>
  %y = smla.linear %x, %w : tensor<1x2x8xf32>, tensor<2x8xf32> -> tensor<1x2x2xf32>
  func.return %y : tensor<1x2x2xf32>
}
