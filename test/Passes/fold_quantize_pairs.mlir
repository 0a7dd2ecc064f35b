// accllm-fold-quantize-pairs: exact round trips fold, inexact ones stay; identity and duplicate
// requantizations go.
// RUN: accllm-opt %s -p accllm-fold-quantize-pairs | FileCheck %s

// si32 through f64 is exact: the pair is the identity.
// CHECK-LABEL: func.func @exact_f64
// CHECK-NEXT: func.return %x : !smla.qtensor<1x4x8xsi32, frac=16>
func.func @exact_f64(%x: !smla.qtensor<1x4x8xsi32, frac=16>) -> !smla.qtensor<1x4x8xsi32, frac=16> {
  %f = smla.dequantize %x : !smla.qtensor<1x4x8xsi32, frac=16> -> tensor<1x4x8xf64>
  %y = smla.quantize %f : tensor<1x4x8xf64> -> !smla.qtensor<1x4x8xsi32, frac=16>
  func.return %y : !smla.qtensor<1x4x8xsi32, frac=16>
}

// si32 through f32 rounds (24-bit mantissa): folding would change the integers, so it stays.
// CHECK-LABEL: func.func @inexact_f32
// CHECK-NEXT: %f = smla.dequantize %x : !smla.qtensor<1x4x8xsi32, frac=16> -> tensor<1x4x8xf32>
// CHECK-NEXT: %y = smla.quantize %f : tensor<1x4x8xf32> -> !smla.qtensor<1x4x8xsi32, frac=16>
func.func @inexact_f32(%x: !smla.qtensor<1x4x8xsi32, frac=16>) -> !smla.qtensor<1x4x8xsi32, frac=16> {
  %f = smla.dequantize %x : !smla.qtensor<1x4x8xsi32, frac=16> -> tensor<1x4x8xf32>
  %y = smla.quantize %f : tensor<1x4x8xf32> -> !smla.qtensor<1x4x8xsi32, frac=16>
  func.return %y : !smla.qtensor<1x4x8xsi32, frac=16>
}

// A change of format through an exact float becomes one integer requantize.
// CHECK-LABEL: func.func @to_requantize
// CHECK-NEXT: %[[R:.*]] = smla.requantize %x : !smla.qtensor<1x4x8xsi16, frac=8> -> !smla.qtensor<1x4x8xsi8, per_token>
// CHECK-NEXT: %[[S:.*]] = smla.requantize %a : !smla.qtensor<1x4x8xsi8, per_token> -> !smla.qtensor<1x4x8xsi32, frac=16>
// CHECK-NEXT: func.return %[[R]], %[[S]]
func.func @to_requantize(%x: !smla.qtensor<1x4x8xsi16, frac=8>, %a: !smla.qtensor<1x4x8xsi8, per_token>) -> (!smla.qtensor<1x4x8xsi8, per_token>, !smla.qtensor<1x4x8xsi32, frac=16>) {
  %f = smla.dequantize %x : !smla.qtensor<1x4x8xsi16, frac=8> -> tensor<1x4x8xf32>
  %y = smla.quantize %f : tensor<1x4x8xf32> -> !smla.qtensor<1x4x8xsi8, per_token>
  %g = smla.dequantize %a : !smla.qtensor<1x4x8xsi8, per_token> -> tensor<1x4x8xf32>
  %z = smla.quantize %g : tensor<1x4x8xf32> -> !smla.qtensor<1x4x8xsi32, frac=16>
  func.return %y, %z : !smla.qtensor<1x4x8xsi8, per_token>, !smla.qtensor<1x4x8xsi32, frac=16>
}

// smla.quantize to per_token rounds to Q.16 first, so from frac=20 it is not a requantize;
// and A8 -> A8 re-quantization is not the identity: both pairs stay.
// CHECK-LABEL: func.func @kept
// CHECK-COUNT-2: smla.dequantize
// CHECK-NOT: smla.requantize
func.func @kept(%x: !smla.qtensor<1x4x8xsi32, frac=20>, %a: !smla.qtensor<1x4x8xsi8, per_token>) -> (!smla.qtensor<1x4x8xsi8, per_token>, !smla.qtensor<1x4x8xsi8, per_token>) {
  %f = smla.dequantize %x : !smla.qtensor<1x4x8xsi32, frac=20> -> tensor<1x4x8xf64>
  %y = smla.quantize %f : tensor<1x4x8xf64> -> !smla.qtensor<1x4x8xsi8, per_token>
  %g = smla.dequantize %a : !smla.qtensor<1x4x8xsi8, per_token> -> tensor<1x4x8xf32>
  %z = smla.quantize %g : tensor<1x4x8xf32> -> !smla.qtensor<1x4x8xsi8, per_token>
  func.return %y, %z : !smla.qtensor<1x4x8xsi8, per_token>, !smla.qtensor<1x4x8xsi8, per_token>
}

// Three A8 requantizations of one activation (q/k/v inputs) become one; an identity
// requantize and an unused dequantize disappear.
// CHECK-LABEL: func.func @duplicates
// CHECK-NEXT: %a = smla.requantize %x : !smla.qtensor<1x4x8xsi32, frac=16> -> !smla.qtensor<1x4x8xsi8, per_token>
// CHECK-NEXT: func.return %a, %a, %a, %x
func.func @duplicates(%x: !smla.qtensor<1x4x8xsi32, frac=16>) -> (!smla.qtensor<1x4x8xsi8, per_token>, !smla.qtensor<1x4x8xsi8, per_token>, !smla.qtensor<1x4x8xsi8, per_token>, !smla.qtensor<1x4x8xsi32, frac=16>) {
  %a = smla.requantize %x : !smla.qtensor<1x4x8xsi32, frac=16> -> !smla.qtensor<1x4x8xsi8, per_token>
  %b = smla.requantize %x : !smla.qtensor<1x4x8xsi32, frac=16> -> !smla.qtensor<1x4x8xsi8, per_token>
  %c = smla.requantize %x : !smla.qtensor<1x4x8xsi32, frac=16> -> !smla.qtensor<1x4x8xsi8, per_token>
  %i = smla.requantize %x : !smla.qtensor<1x4x8xsi32, frac=16> -> !smla.qtensor<1x4x8xsi32, frac=16>
  %dead = smla.dequantize %x : !smla.qtensor<1x4x8xsi32, frac=16> -> tensor<1x4x8xf32>
  func.return %a, %b, %c, %i : !smla.qtensor<1x4x8xsi8, per_token>, !smla.qtensor<1x4x8xsi8, per_token>, !smla.qtensor<1x4x8xsi8, per_token>, !smla.qtensor<1x4x8xsi32, frac=16>
}

// A quantized value read by an existing float boundary: accllm-quantize leaves an exact f64
// pair (see quantize_boundaries.mlir), which folds to a requantize.
// CHECK-LABEL: func.func @frac_to_frac
// CHECK-NEXT: %[[R:.*]] = smla.requantize %x : !smla.qtensor<4xsi32, frac=16> -> !smla.qtensor<4xsi16, frac=8>
func.func @frac_to_frac(%x: !smla.qtensor<4xsi32, frac=16>) -> !smla.qtensor<4xsi16, frac=8> {
  %f = smla.dequantize %x : !smla.qtensor<4xsi32, frac=16> -> tensor<4xf64>
  %y = smla.quantize %f : tensor<4xf64> -> !smla.qtensor<4xsi16, frac=8>
  func.return %y : !smla.qtensor<4xsi16, frac=8>
}
