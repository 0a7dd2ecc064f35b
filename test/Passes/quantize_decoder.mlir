// accllm-quantize on a whole decoder layer with shapes real checkpoints have but powers of two
// do not: hidden 96 (6 heads of 16, GQA with 2 KV heads), FFN 192, parameters streamed from a
// safetensors file.  The W2 group adapts per layer (K=96 -> G=32, K=192 -> G=64); every linear
// input gets an A8 requantize; the function returns integer logits.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/m.mlir
// RUN: %python %S/Inputs/make_params.py %t/w.safetensors emb=16x96 n1norm=96 wq=96x96 wk=32x96 wv=32x96 wo=96x96 n2norm=96 wg=192x96 wu=192x96 wd=96x192 fnorm=96 head=16x96
// RUN: accllm-opt %t/m.mlir -p accllm-prune-2-4,accllm-quantize -o %t/q.mlir
// RUN: FileCheck %s < %t/q.mlir
// RUN: %python %S/Inputs/list_params.py %t/w.w2a8kv4.safetensors | FileCheck %s --check-prefix=ARCHIVE
// RUN: accllm-opt %t/m.mlir -p 'accllm-prune-2-4,accllm-quantize{group=32 archive="g32.safetensors"}' | FileCheck %s --check-prefix=G32
// RUN: accllm-opt %t/m.mlir -p 'accllm-quantize{archive="dense.safetensors"}' | FileCheck %s --check-prefix=DENSE

// CHECK-LABEL: func.func @forward(%ids: tensor<1x4xi64>) -> !smla.qtensor<1x4x16xsi32, frac=16>
func.func @forward(%ids: tensor<1x4xi64>) -> tensor<1x4x16xf32> {
  // CHECK-DAG: %emb = smla.weight #smla.param<"w.w2a8kv4.safetensors", "emb"> : !smla.qtensor<16x96xsi8, per_token>
  // CHECK-DAG: %n1 = smla.weight #smla.param<"w.w2a8kv4.safetensors", "n1norm"> : !smla.qtensor<96xsi16, frac={{[0-9]+}}>
  // CHECK-DAG: %wq = smla.weight #smla.param<"w.w2a8kv4.safetensors", "wq"> : !smla.qweight<96x96, ui2, group=32, sparse=2:4>
  // CHECK-DAG: %wk = smla.weight #smla.param<"w.w2a8kv4.safetensors", "wk"> : !smla.qweight<32x96, ui2, group=32, sparse=2:4>
  // CHECK-DAG: %wd = smla.weight #smla.param<"w.w2a8kv4.safetensors", "wd"> : !smla.qweight<96x192, ui2, group=64, sparse=2:4>
  // CHECK-DAG: %head = smla.weight #smla.param<"w.w2a8kv4.safetensors", "head"> : !smla.qweight<16x96, si8>
  %emb = smla.weight #smla.param<"w.safetensors", "emb"> : tensor<16x96xf32>
  %n1 = smla.weight #smla.param<"w.safetensors", "n1norm"> : tensor<96xf32>
  %wq = smla.weight #smla.param<"w.safetensors", "wq"> : tensor<96x96xf32>
  %wk = smla.weight #smla.param<"w.safetensors", "wk"> : tensor<32x96xf32>
  %wv = smla.weight #smla.param<"w.safetensors", "wv"> : tensor<32x96xf32>
  %wo = smla.weight #smla.param<"w.safetensors", "wo"> : tensor<96x96xf32>
  %n2 = smla.weight #smla.param<"w.safetensors", "n2norm"> : tensor<96xf32>
  %wg = smla.weight #smla.param<"w.safetensors", "wg"> : tensor<192x96xf32>
  %wu = smla.weight #smla.param<"w.safetensors", "wu"> : tensor<192x96xf32>
  %wd = smla.weight #smla.param<"w.safetensors", "wd"> : tensor<96x192xf32>
  %fn = smla.weight #smla.param<"w.safetensors", "fnorm"> : tensor<96xf32>
  %head = smla.weight #smla.param<"w.safetensors", "head"> : tensor<16x96xf32>
  %pos = arith.constant dense<[0, 1, 2, 3]> : tensor<4xi64>
  // CHECK: %x = smla.embedding %ids, %emb : tensor<1x4xi64>, !smla.qtensor<16x96xsi8, per_token> -> !smla.qtensor<1x4x96xsi32, frac=16>
  %x = smla.embedding %ids, %emb : tensor<1x4xi64>, tensor<16x96xf32> -> tensor<1x4x96xf32>
  // CHECK: %h = smla.rmsnorm %x, %n1 epsilon = 1.000000e-05 : !smla.qtensor<1x4x96xsi32, frac=16>, !smla.qtensor<96xsi16, frac={{[0-9]+}}> -> !smla.qtensor<1x4x96xsi32, frac=16>
  %h = smla.rmsnorm %x, %n1 epsilon = 1.0e-05 : tensor<1x4x96xf32>, tensor<96xf32> -> tensor<1x4x96xf32>
  // CHECK: %[[A:.*]] = smla.requantize %h : !smla.qtensor<1x4x96xsi32, frac=16> -> !smla.qtensor<1x4x96xsi8, per_token>
  // The accumulator bound: 48 kept weights x 127 x 3 x 65535 < 2^30 -> 32 bits.
  // CHECK: %q = smla.linear %[[A]], %wq {acc_bits = 32 : i64} : !smla.qtensor<1x4x96xsi8, per_token>, !smla.qweight<96x96, ui2, group=32, sparse=2:4> -> !smla.qtensor<1x4x96xsi32, frac=16>
  %q = smla.linear %h, %wq : tensor<1x4x96xf32>, tensor<96x96xf32> -> tensor<1x4x96xf32>
  %k = smla.linear %h, %wk : tensor<1x4x96xf32>, tensor<32x96xf32> -> tensor<1x4x32xf32>
  %v = smla.linear %h, %wv : tensor<1x4x96xf32>, tensor<32x96xf32> -> tensor<1x4x32xf32>
  // CHECK: %qr = smla.rope %q, %pos {head_dim = 16 : i64, theta = 1.000000e+04 : f64, max_positions = 64 : i64} : !smla.qtensor<1x4x96xsi32, frac=16>, tensor<4xi64> -> !smla.qtensor<1x4x96xsi32, frac=16>
  %qr = smla.rope %q, %pos {head_dim = 16, theta = 10000.0, max_positions = 64} : tensor<1x4x96xf32>, tensor<4xi64> -> tensor<1x4x96xf32>
  %kr = smla.rope %k, %pos {head_dim = 16, theta = 10000.0, max_positions = 64} : tensor<1x4x32xf32>, tensor<4xi64> -> tensor<1x4x32xf32>
  // CHECK: %a = lattn.prefill %qr, %kr, %v {num_heads = 6 : i64, num_kv_heads = 2 : i64, causal} : !smla.qtensor<1x4x96xsi32, frac=16>, !smla.qtensor<1x4x32xsi32, frac=16>, !smla.qtensor<1x4x32xsi32, frac=16> -> !smla.qtensor<1x4x96xsi32, frac=16>
  %a = lattn.prefill %qr, %kr, %v {num_heads = 6, num_kv_heads = 2, causal} : tensor<1x4x96xf32>, tensor<1x4x32xf32>, tensor<1x4x32xf32> -> tensor<1x4x96xf32>
  %o = smla.linear %a, %wo : tensor<1x4x96xf32>, tensor<96x96xf32> -> tensor<1x4x96xf32>
  // CHECK: %r1 = smla.add %x, %o : !smla.qtensor<1x4x96xsi32, frac=16>, !smla.qtensor<1x4x96xsi32, frac=16> -> !smla.qtensor<1x4x96xsi32, frac=16>
  %r1 = smla.add %x, %o : tensor<1x4x96xf32>, tensor<1x4x96xf32> -> tensor<1x4x96xf32>
  %h2 = smla.rmsnorm %r1, %n2 epsilon = 1.0e-05 : tensor<1x4x96xf32>, tensor<96xf32> -> tensor<1x4x96xf32>
  %g = smla.linear %h2, %wg : tensor<1x4x96xf32>, tensor<192x96xf32> -> tensor<1x4x192xf32>
  %u = smla.linear %h2, %wu : tensor<1x4x96xf32>, tensor<192x96xf32> -> tensor<1x4x192xf32>
  // CHECK: %s = smla.swiglu %g, %u : !smla.qtensor<1x4x192xsi32, frac=16>, !smla.qtensor<1x4x192xsi32, frac=16> -> !smla.qtensor<1x4x192xsi32, frac=16>
  %s = smla.swiglu %g, %u : tensor<1x4x192xf32>, tensor<1x4x192xf32> -> tensor<1x4x192xf32>
  // CHECK: %[[S8:.*]] = smla.requantize %s : !smla.qtensor<1x4x192xsi32, frac=16> -> !smla.qtensor<1x4x192xsi8, per_token>
  // CHECK: %d = smla.linear %[[S8]], %wd {acc_bits = 33 : i64}
  %d = smla.linear %s, %wd : tensor<1x4x192xf32>, tensor<96x192xf32> -> tensor<1x4x96xf32>
  %r2 = smla.add %r1, %d : tensor<1x4x96xf32>, tensor<1x4x96xf32> -> tensor<1x4x96xf32>
  %hf = smla.rmsnorm %r2, %fn epsilon = 1.0e-05 : tensor<1x4x96xf32>, tensor<96xf32> -> tensor<1x4x96xf32>
  // CHECK: %[[F8:.*]] = smla.requantize %hf : !smla.qtensor<1x4x96xsi32, frac=16> -> !smla.qtensor<1x4x96xsi8, per_token>
  // CHECK: %logits = smla.lm_head %[[F8]], %head {acc_bits = 22 : i64} : !smla.qtensor<1x4x96xsi8, per_token>, !smla.qweight<16x96, si8> -> !smla.qtensor<1x4x16xsi32, frac=16>
  %logits = smla.lm_head %hf, %head : tensor<1x4x96xf32>, tensor<16x96xf32> -> tensor<1x4x16xf32>
  // CHECK: func.return %logits : !smla.qtensor<1x4x16xsi32, frac=16>
  func.return %logits : tensor<1x4x16xf32>
}
// No float weight or activation is left.
// CHECK-NOT: xf32>

// One tensor per component, named <source key>.<component> (the #smla.param rule).
// ARCHIVE: emb.exp int8 16
// ARCHIVE-NEXT: emb.values int8 16x96
// ARCHIVE: head.codes int8 16x96
// ARCHIVE-NEXT: head.scale_exp int8 16
// ARCHIVE-NEXT: head.scale_mant uint16 16
// ARCHIVE: n1norm.values int16 96
// ARCHIVE: wd.codes uint8 96x96
// ARCHIVE-NEXT: wd.meta uint8 96x48
// ARCHIVE-NEXT: wd.scale_exp int8 96
// ARCHIVE-NEXT: wd.scale_mant uint16 96x3
// ARCHIVE-NEXT: wd.zero_point uint8 96x3
// ARCHIVE: wq.codes uint8 96x48
// ARCHIVE-NEXT: wq.meta uint8 96x24
// ARCHIVE-NEXT: wq.scale_exp int8 96
// ARCHIVE-NEXT: wq.scale_mant uint16 96x3
// ARCHIVE-NEXT: wq.zero_point uint8 96x3

// G32-DAG: !smla.qweight<96x192, ui2, group=32, sparse=2:4>
// G32-DAG: #smla.param<"g32.safetensors", "wq">

// Without pruning, the weights become dense W2 (96 kept codes per row of K=96).
// DENSE: %wq = smla.weight #smla.param<"dense.safetensors", "wq"> : !smla.qweight<96x96, ui2, group=32>
// DENSE: smla.linear %{{.*}}, %wq {acc_bits = 33 : i64}
