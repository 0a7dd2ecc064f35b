// accllm-prune-2-4{method=sparsegpt}: SparseGPT (numerics/gptq.py) with H = X^T X of the linear's
// input on the calibration tokens, obtained by interpreting the float IR.  Inputs 0 and 1 are
// identical in every embedding row, so dropping w0 costs nothing once its value moves to w1:
// SparseGPT prunes 0.5 and raises 0.4 to ~0.74 (the 1 % dampening of H keeps it below 0.9),
// where magnitude pruning keeps 0.5 and 0.9 unchanged.  Kept weights elsewhere are compensated.
// RUN: accllm-opt %s -p 'accllm-prune-2-4{method=sparsegpt}' | FileCheck %s --check-prefix=SG
// RUN: accllm-opt %s -p 'accllm-prune-2-4{method=magnitude}' | FileCheck %s --check-prefix=MAG
// RUN: not accllm-opt %s -p 'accllm-prune-2-4{method=sparsegpt calibration_text="missing.txt"}' 2>&1 | FileCheck %s --check-prefix=TEXT

func.func @forward(%ids: tensor<1x4xi64>) -> tensor<1x4x1xf32> {
  %table = smla.weight dense<[[1.0, 1.0, 0.3, -0.2, 1.0, 0.5, -0.5, 0.2], [-1.0, -1.0, 0.2, 0.4, 0.5, -1.0, 0.3, -0.4], [0.5, 0.5, -0.6, 0.1, -1.0, 0.2, 1.0, 0.6], [-0.5, -0.5, 0.4, -0.9, 0.2, 1.0, -0.2, -1.0]]> : tensor<4x8xf32>
  %x = smla.embedding %ids, %table : tensor<1x4xi64>, tensor<4x8xf32> -> tensor<1x4x8xf32>
  // SG: smla.weight dense<{{\[\[}}0.000000e+00, 0.7{{[0-9]+}}, 0.8{{[0-9]+}}, 0.000000e+00, 0.000000e+00, 0.9{{[0-9]+}}, 0.7{{[0-9]+}}, 0.000000e+00]]> : tensor<1x8xf32> : tensor<1x8xf32, #smla.sparsity<2:4>>
  // MAG: smla.weight dense<{{\[\[}}5.000000e-01, 0.000000e+00, 9.000000e-01, 0.000000e+00, 0.000000e+00, 1.000000e+00, 1.000000e+00, 0.000000e+00]]> : tensor<1x8xf32> : tensor<1x8xf32, #smla.sparsity<2:4>>
  // TEXT: error: 'func.func' op sparsegpt: calibration_text file 'missing.txt' not found
  %w = smla.weight dense<[[0.5, 0.4, 0.9, 0.1, 0.2, 1.0, 1.0, 0.1]]> : tensor<1x8xf32>
  %y = smla.linear %x, %w : tensor<1x4x8xf32>, tensor<1x8xf32> -> tensor<1x4x1xf32>
  func.return %y : tensor<1x4x1xf32>
}
