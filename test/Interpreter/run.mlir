// `accllm run` on a small model-level + compressed-level function with inline weights.
// RUN: %python -c "import numpy as np; np.save('%t.ids.npy', np.array([[2, 1]]))"
// RUN: accllm run %s --entry f --inputs %t.ids.npy -o %t.out | FileCheck %s
// RUN: %python -c "import numpy as np; print(np.load('%t.out/out1.npy').tolist())" | FileCheck %s --check-prefix=VAL

// CHECK: out0.npy: 1x2x2 float32
// CHECK: out1.npy: 1x2x2 int8
// VAL: {{\[\[\[}}3, -7], [127, -6]]]
func.func @f(%ids: tensor<1x2xi64>) -> (tensor<1x2x2xf32>, !smla.qtensor<1x2x2xsi8, frac=1>) {
  %t = smla.weight dense<[[0.5, 3.0], [100.0, 0.0], [1.25, -0.75]]> : tensor<3x2xf32>
  %e = smla.embedding %ids, %t : tensor<1x2xi64>, tensor<3x2xf32> -> tensor<1x2x2xf32>
  %one = smla.weight dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>
  %b = smla.weight dense<[0.25, -3.0]> : tensor<2xf32>
  %y = smla.linear %e, %one bias %b : tensor<1x2x2xf32>, tensor<2x2xf32>, tensor<2xf32> -> tensor<1x2x2xf32>
  // frac=1: y = [[1.5, -3.75], [100.25, -3.0]]; floor(2y + 1/2) = [[3, -7], [201, -6]], si8 saturates 201
  %q = smla.quantize %y : tensor<1x2x2xf32> -> !smla.qtensor<1x2x2xsi8, frac=1>
  func.return %e, %q : tensor<1x2x2xf32>, !smla.qtensor<1x2x2xsi8, frac=1>
}
