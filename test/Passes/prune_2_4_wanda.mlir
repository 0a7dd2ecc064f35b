// accllm-prune-2-4{method=wanda}: the score is |W[o,k]| * ||X[:,k]||_2 with X the linear's input
// on deterministic calibration tokens (numerics/calibration.py), obtained by interpreting the
// float IR.  Here every embedding row has features 0 and 4 ten times larger than the others,
// so Wanda keeps a small weight at those inputs where magnitude pruning would drop it.
// RUN: accllm-opt %s -p 'accllm-prune-2-4{method=wanda}' | FileCheck %s --check-prefix=WANDA
// RUN: accllm-opt %s -p 'accllm-prune-2-4{method=wanda calibration_seqs=2 calibration_seed=7}' | FileCheck %s --check-prefix=WANDA
// RUN: accllm-opt %s -p 'accllm-prune-2-4{method=magnitude}' | FileCheck %s --check-prefix=MAG

func.func @forward(%ids: tensor<1x4xi64>) -> tensor<1x4x1xf32> {
  %table = smla.weight dense<[[10.0, 1.0, 1.0, 1.0, 10.0, 1.0, 1.0, 1.0], [-10.0, 1.0, -1.0, 1.0, 10.0, -1.0, 1.0, 1.0], [10.0, -1.0, 1.0, 1.0, -10.0, 1.0, 1.0, -1.0], [-10.0, -1.0, -1.0, -1.0, -10.0, -1.0, -1.0, -1.0]]> : tensor<4x8xf32>
  %x = smla.embedding %ids, %table : tensor<1x4xi64>, tensor<4x8xf32> -> tensor<1x4x8xf32>
  // WANDA: smla.weight dense<{{\[\[}}5.000000e-01, 1.000000e+00, 0.000000e+00, 0.000000e+00, 2.000000e-01, 1.000000e+00, 0.000000e+00, 0.000000e+00]]> : tensor<1x8xf32> : tensor<1x8xf32, #smla.sparsity<2:4>>
  // MAG: smla.weight dense<{{\[\[}}0.000000e+00, 1.000000e+00, 9.000000e-01, 0.000000e+00, 0.000000e+00, 1.000000e+00, 1.000000e+00, 0.000000e+00]]> : tensor<1x8xf32> : tensor<1x8xf32, #smla.sparsity<2:4>>
  %w = smla.weight dense<[[0.5, 1.0, 0.9, 0.1, 0.2, 1.0, 1.0, 0.1]]> : tensor<1x8xf32>
  %y = smla.linear %x, %w : tensor<1x4x8xf32>, tensor<1x8xf32> -> tensor<1x4x1xf32>
  func.return %y : tensor<1x4x1xf32>
}
