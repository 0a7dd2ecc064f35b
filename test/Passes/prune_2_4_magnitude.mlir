// accllm-prune-2-4 (method=magnitude, the default): in every aligned block of 4 inputs the two
// largest |w| stay (ties: lower index), the others become 0 and the weight type carries
// #smla.sparsity<2:4>.  The LM head stays dense.
// RUN: accllm-opt %s -p accllm-prune-2-4 | FileCheck %s
// RUN: accllm-opt %s -p 'accllm-prune-2-4{method=magnitude}' | FileCheck %s
// RUN: accllm-opt %s -p accllm-prune-2-4,accllm-prune-2-4 | FileCheck %s

// CHECK-LABEL: func.func @f
func.func @f(%x: tensor<1x3x8xf32>) -> tensor<1x3x16xf32> {
  // Row 0: blocks [1, -4, 3, 2] -> keep -4, 3; [0.5, 0.5, -0.5, 0.25] -> ties keep positions 0, 1.
  // Row 1: [0, 0, 0, 7] -> keep 0 (index 0) and 7; [-1, 2, -3, 4] -> keep -3, 4.
  // CHECK: %[[W:.*]] = smla.weight dense<{{\[\[}}0.000000e+00, -4.000000e+00, 3.000000e+00, 0.000000e+00, 5.000000e-01, 5.000000e-01, 0.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00, 0.000000e+00, 7.000000e+00, 0.000000e+00, 0.000000e+00, -3.000000e+00, 4.000000e+00]]> : tensor<2x8xf32> : tensor<2x8xf32, #smla.sparsity<2:4>>
  %w = smla.weight dense<[[1.0, -4.0, 3.0, 2.0, 0.5, 0.5, -0.5, 0.25], [0.0, 0.0, 0.0, 7.0, -1.0, 2.0, -3.0, 4.0]]> : tensor<2x8xf32>
  // CHECK: smla.linear %{{.*}}, %[[W]] : tensor<1x3x8xf32>, tensor<2x8xf32, #smla.sparsity<2:4>> -> tensor<1x3x2xf32>
  %y = smla.linear %x, %w : tensor<1x3x8xf32>, tensor<2x8xf32> -> tensor<1x3x2xf32>
  // CHECK: %[[H:.*]] = smla.weight dense<1.000000e+00> : tensor<16x8xf32>
  // CHECK: smla.lm_head %{{.*}}, %[[H]] : tensor<1x3x8xf32>, tensor<16x8xf32> -> tensor<1x3x16xf32>
  %h = smla.weight dense<1.0> : tensor<16x8xf32>
  %l = smla.lm_head %x, %h : tensor<1x3x8xf32>, tensor<16x8xf32> -> tensor<1x3x16xf32>
  func.return %l : tensor<1x3x16xf32>
}
