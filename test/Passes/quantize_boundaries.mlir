// Where accllm-quantize meets floats it did not produce, it inserts the casts that
// accllm-fold-quantize-pairs folds: a float argument is quantized at its consumer, and a kept
// smla.quantize of a converted value reads it through an exact f64 dequantize.
// RUN: accllm-opt %s -p accllm-quantize | FileCheck %s
// RUN: accllm-opt %s -p accllm-quantize,accllm-fold-quantize-pairs | FileCheck %s --check-prefix=FOLD

// CHECK-LABEL: func.func @f(%x: tensor<1x2x32xf32>) -> (!smla.qtensor<1x2x32xsi32, frac=16>, !smla.qtensor<1x2x32xsi16, frac=8>)
// CHECK-NEXT: %g = smla.weight {values = dense<{{.*}}> : tensor<32xi16>} : !smla.qtensor<32xsi16, frac={{[0-9]+}}>
// CHECK-NEXT: %[[X:.*]] = smla.quantize %x : tensor<1x2x32xf32> -> !smla.qtensor<1x2x32xsi32, frac=16>
// CHECK-NEXT: %n = smla.rmsnorm %[[X]], %g
// CHECK-NEXT: %[[D:.*]] = smla.dequantize %n : !smla.qtensor<1x2x32xsi32, frac=16> -> tensor<1x2x32xf64>
// CHECK-NEXT: %q = smla.quantize %[[D]] : tensor<1x2x32xf64> -> !smla.qtensor<1x2x32xsi16, frac=8>
// FOLD: %q = smla.requantize %n : !smla.qtensor<1x2x32xsi32, frac=16> -> !smla.qtensor<1x2x32xsi16, frac=8>
// FOLD-NOT: smla.dequantize
func.func @f(%x: tensor<1x2x32xf32>) -> (tensor<1x2x32xf32>, !smla.qtensor<1x2x32xsi16, frac=8>) {
  %g = smla.weight dense<1.0> : tensor<32xf32>
  %n = smla.rmsnorm %x, %g epsilon = 1.0e-05 : tensor<1x2x32xf32>, tensor<32xf32> -> tensor<1x2x32xf32>
  %q = smla.quantize %n : tensor<1x2x32xf32> -> !smla.qtensor<1x2x32xsi16, frac=8>
  func.return %n, %q : tensor<1x2x32xf32>, !smla.qtensor<1x2x32xsi16, frac=8>
}
