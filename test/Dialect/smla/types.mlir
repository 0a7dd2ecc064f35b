// Every smla type and attribute in its readable syntax, including inline quantized weights whose
// components the verifier checks against the numerics contract's storage ranges.
// RUN: accllm-opt %s | FileCheck %s
// RUN: accllm-opt %s | accllm-opt | FileCheck %s
// RUN: accllm-opt %s --print-op-generic | accllm-opt | FileCheck %s

// CHECK-LABEL: func.func @types
// CHECK-SAME: !smla.qweight<4096x4096, ui2, group=128, sparse=2:4>
// CHECK-SAME: !smla.qweight<4096x11008, ui2, group=64, sparse=2:4, meta=index>
// CHECK-SAME: !smla.qweight<4096x96, ui2, group=32>
// CHECK-SAME: !smla.qweight<32000x4096, si8>
// CHECK-SAME: !smla.qtensor<1x4096xsi8, per_token>
// CHECK-SAME: !smla.qtensor<7x4096xsi32, frac=16>
// CHECK-SAME: !smla.qtensor<4096xsi16, frac=-3>
// CHECK-SAME: tensor<8x8xf16, #smla.sparsity<2:4>>
// CHECK-SAME: tensor<8x8xbf16, #smla.sparsity<2:4, index>>
func.func @types(
    %a: !smla.qweight<4096x4096, ui2, group=128, sparse=2:4>,
    %b: !smla.qweight<4096x11008, ui2, group=64, sparse=2:4, meta=index>,
    %c: !smla.qweight<4096x96, ui2, group=32>,
    %d: !smla.qweight<32000x4096, si8>,
    %e: !smla.qtensor<1x4096xsi8, per_token>,
    %f: !smla.qtensor<7x4096xsi32, frac=16>,
    %g: !smla.qtensor<4096xsi16, frac=-3>,
    %h: tensor<8x8xf16, #smla.sparsity<2:4>>,
    %i: tensor<8x8xbf16, #smla.sparsity<2:4, index>>) {
  func.return
}

// CHECK-LABEL: func.func @attributes
func.func @attributes() {
  // CHECK: "test.op"() {p = #smla.param<"/abs/path/model.safetensors", "model.norm.weight">, s = #smla.sparsity<2:4>, t = #smla.sparsity<2:4, index>} : () -> ()
  "test.op"() {p = #smla.param<"/abs/path/model.safetensors", "model.norm.weight">, s = #smla.sparsity<2:4>, t = #smla.sparsity<2:4, index>} : () -> ()
  func.return
}

// Inline quantized weights of a tiny model: one dense<> per component.
// CHECK-LABEL: func.func @inline_components
func.func @inline_components() {
  // CHECK: %w2 = smla.weight {codes = dense<{{.*}}> : tensor<2x16xi8>, zero_point = dense<{{\[\[}}1], [3]]> : tensor<2x1xi8>, scale_mant = dense<{{\[\[}}40000], [65535]]> : tensor<2x1xi32>, scale_exp = dense<[3, 5]> : tensor<2xi8>, meta = dense<{{\[\[}}0, 1, 2, 3, 4, 5, 0, 1], [5, 5, 5, 5, 0, 0, 0, 0]]> : tensor<2x8xi8>} : !smla.qweight<2x32, ui2, group=32, sparse=2:4>
  %w2 = smla.weight {
    codes = dense<[[0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3],
                   [3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0]]> : tensor<2x16xi8>,
    zero_point = dense<[[1], [3]]> : tensor<2x1xi8>,
    scale_mant = dense<[[40000], [65535]]> : tensor<2x1xi32>,
    scale_exp = dense<[3, 5]> : tensor<2xi8>,
    meta = dense<[[0, 1, 2, 3, 4, 5, 0, 1], [5, 5, 5, 5, 0, 0, 0, 0]]> : tensor<2x8xi8>
  } : !smla.qweight<2x32, ui2, group=32, sparse=2:4>
  // CHECK: %idx = smla.weight {codes = dense<{{.*}}> : tensor<1x16xi8>, zero_point = dense<0> : tensor<1x1xi8>, scale_mant = dense<1> : tensor<1x1xi32>, scale_exp = dense<0> : tensor<1xi8>, meta = dense<{{\[\[}}0, 3, 1, 2, 0, 1, 2, 3, 0, 2, 1, 3, 0, 1, 0, 1]]> : tensor<1x16xi8>} : !smla.qweight<1x32, ui2, group=32, sparse=2:4, meta=index>
  %idx = smla.weight {
    codes = dense<[[0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]]> : tensor<1x16xi8>,
    zero_point = dense<0> : tensor<1x1xi8>,
    scale_mant = dense<1> : tensor<1x1xi32>,
    scale_exp = dense<0> : tensor<1xi8>,
    meta = dense<[[0, 3, 1, 2, 0, 1, 2, 3, 0, 2, 1, 3, 0, 1, 0, 1]]> : tensor<1x16xi8>
  } : !smla.qweight<1x32, ui2, group=32, sparse=2:4, meta=index>
  // CHECK: %i8 = smla.weight {codes = dense<{{\[\[}}-127, 0, 5, 127]]> : tensor<1x4xi8>, scale_mant = dense<300> : tensor<1xi32>, scale_exp = dense<20> : tensor<1xi8>} : !smla.qweight<1x4, si8>
  %i8 = smla.weight {codes = dense<[[-127, 0, 5, 127]]> : tensor<1x4xi8>, scale_mant = dense<300> : tensor<1xi32>, scale_exp = dense<20> : tensor<1xi8>} : !smla.qweight<1x4, si8>
  // CHECK: %emb = smla.weight {values = dense<{{\[\[}}1, -127], [127, 0]]> : tensor<2x2xi8>, exp = dense<[7, -2]> : tensor<2xi8>} : !smla.qtensor<2x2xsi8, per_token>
  %emb = smla.weight {values = dense<[[1, -127], [127, 0]]> : tensor<2x2xi8>, exp = dense<[7, -2]> : tensor<2xi8>} : !smla.qtensor<2x2xsi8, per_token>
  // CHECK: %gain = smla.weight {values = dense<[-32768, 32767]> : tensor<2xi16>} : !smla.qtensor<2xsi16, frac=12>
  %gain = smla.weight {values = dense<[-32768, 32767]> : tensor<2xi16>} : !smla.qtensor<2xsi16, frac=12>
  func.return
}
