// Every smla op in its float (model-level) and quantized (compressed-level) form: the custom
// form round-trips, and so does the generic form printed by --print-op-generic.
// RUN: accllm-opt %s | FileCheck %s
// RUN: accllm-opt %s | accllm-opt | FileCheck %s
// RUN: accllm-opt %s --print-op-generic | FileCheck %s --check-prefix=GENERIC
// RUN: accllm-opt %s --print-op-generic | accllm-opt | FileCheck %s

// CHECK-LABEL: func.func @model_level
func.func @model_level(%ids: tensor<1x4xi64>, %pos: tensor<4xi64>) -> tensor<1x4x256xf32> {
  // CHECK: %table = smla.weight #smla.param<"tiny.safetensors", "model.embed_tokens.weight"> : tensor<256x64xf32>
  %table = smla.weight #smla.param<"tiny.safetensors", "model.embed_tokens.weight"> : tensor<256x64xf32>
  // CHECK: %gamma = smla.weight dense<1.000000e+00> : tensor<64xf32>
  %gamma = smla.weight dense<1.0> : tensor<64xf32>
  // CHECK: %wq = smla.weight #smla.param<"tiny.safetensors", "model.layers.0.self_attn.q_proj.weight"> : tensor<64x64xf32>
  %wq = smla.weight #smla.param<"tiny.safetensors", "model.layers.0.self_attn.q_proj.weight"> : tensor<64x64xf32>
  // CHECK: %wup = smla.weight #smla.param<"tiny.safetensors", "up"> : tensor<128x64xf32, #smla.sparsity<2:4>>
  %wup = smla.weight #smla.param<"tiny.safetensors", "up"> : tensor<128x64xf32, #smla.sparsity<2:4>>
  // A tiny inline 2:4 pruned weight: at most two non-zeros in each block of 4 inputs.
  // CHECK: %wsp = smla.weight dense<{{\[\[}}1.000000e+00, 0.000000e+00, 0.000000e+00, 2.000000e+00], [0.000000e+00, 3.000000e+00, 4.000000e+00, 0.000000e+00]]> : tensor<2x4xf32> : tensor<2x4xf32, #smla.sparsity<2:4, index>>
  %wsp = smla.weight dense<[[1.0, 0.0, 0.0, 2.0], [0.0, 3.0, 4.0, 0.0]]> : tensor<2x4xf32> : tensor<2x4xf32, #smla.sparsity<2:4, index>>
  // CHECK: %bias = smla.weight #smla.param<"tiny.safetensors", "model.layers.0.self_attn.q_proj.bias"> : tensor<64xf32>
  %bias = smla.weight #smla.param<"tiny.safetensors", "model.layers.0.self_attn.q_proj.bias"> : tensor<64xf32>
  // CHECK: %whead = smla.weight #smla.param<"tiny.safetensors", "lm_head.weight"> : tensor<256x64xf32>
  %whead = smla.weight #smla.param<"tiny.safetensors", "lm_head.weight"> : tensor<256x64xf32>

  // CHECK: %x = smla.embedding %ids, %table : tensor<1x4xi64>, tensor<256x64xf32> -> tensor<1x4x64xf32>
  %x = smla.embedding %ids, %table : tensor<1x4xi64>, tensor<256x64xf32> -> tensor<1x4x64xf32>
  // CHECK: %h = smla.rmsnorm %x, %gamma epsilon = 1.000000e-05 : tensor<1x4x64xf32>, tensor<64xf32> -> tensor<1x4x64xf32>
  %h = smla.rmsnorm %x, %gamma epsilon = 1.0e-05 : tensor<1x4x64xf32>, tensor<64xf32> -> tensor<1x4x64xf32>
  // CHECK: %q = smla.linear %h, %wq : tensor<1x4x64xf32>, tensor<64x64xf32> -> tensor<1x4x64xf32>
  %q = smla.linear %h, %wq : tensor<1x4x64xf32>, tensor<64x64xf32> -> tensor<1x4x64xf32>
  // CHECK: %qb = smla.linear %h, %wq bias %bias : tensor<1x4x64xf32>, tensor<64x64xf32>, tensor<64xf32> -> tensor<1x4x64xf32>
  %qb = smla.linear %h, %wq bias %bias : tensor<1x4x64xf32>, tensor<64x64xf32>, tensor<64xf32> -> tensor<1x4x64xf32>
  // CHECK: %qr = smla.rope %q, %pos {head_dim = 16 : i64, theta = 1.000000e+04 : f64, max_positions = 2048 : i64} : tensor<1x4x64xf32>, tensor<4xi64> -> tensor<1x4x64xf32>
  %qr = smla.rope %q, %pos {head_dim = 16, theta = 10000.0, max_positions = 2048} : tensor<1x4x64xf32>, tensor<4xi64> -> tensor<1x4x64xf32>
  // CHECK: %up = smla.linear %h, %wup : tensor<1x4x64xf32>, tensor<128x64xf32, #smla.sparsity<2:4>> -> tensor<1x4x128xf32>
  %up = smla.linear %h, %wup : tensor<1x4x64xf32>, tensor<128x64xf32, #smla.sparsity<2:4>> -> tensor<1x4x128xf32>
  // CHECK: %act = smla.silu %up : tensor<1x4x128xf32> -> tensor<1x4x128xf32>
  %act = smla.silu %up : tensor<1x4x128xf32> -> tensor<1x4x128xf32>
  // CHECK: %prod = smla.mul %act, %up : tensor<1x4x128xf32>, tensor<1x4x128xf32> -> tensor<1x4x128xf32>
  %prod = smla.mul %act, %up : tensor<1x4x128xf32>, tensor<1x4x128xf32> -> tensor<1x4x128xf32>
  // CHECK: %glu = smla.swiglu %up, %up : tensor<1x4x128xf32>, tensor<1x4x128xf32> -> tensor<1x4x128xf32>
  %glu = smla.swiglu %up, %up : tensor<1x4x128xf32>, tensor<1x4x128xf32> -> tensor<1x4x128xf32>
  // CHECK: %res = smla.add %x, %qr : tensor<1x4x64xf32>, tensor<1x4x64xf32> -> tensor<1x4x64xf32>
  %res = smla.add %x, %qr : tensor<1x4x64xf32>, tensor<1x4x64xf32> -> tensor<1x4x64xf32>
  // CHECK: %logits = smla.lm_head %res, %whead : tensor<1x4x64xf32>, tensor<256x64xf32> -> tensor<1x4x256xf32>
  %logits = smla.lm_head %res, %whead : tensor<1x4x64xf32>, tensor<256x64xf32> -> tensor<1x4x256xf32>
  func.return %logits : tensor<1x4x256xf32>
}

// GENERIC: "smla.weight"() <{value = #smla.param<"tiny.safetensors", "model.embed_tokens.weight">}> : () -> tensor<256x64xf32>
// GENERIC: "smla.embedding"(%{{.*}}, %{{.*}}) : (tensor<1x4xi64>, tensor<256x64xf32>) -> tensor<1x4x64xf32>
// GENERIC: "smla.rmsnorm"(%{{.*}}, %{{.*}}) <{epsilon = 1.000000e-05 : f64}>
// GENERIC: "smla.linear"(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<1x4x64xf32>, tensor<64x64xf32>, tensor<64xf32>) -> tensor<1x4x64xf32>
// GENERIC: "smla.rope"(%{{.*}}, %{{.*}}) <{head_dim = 16 : i64, theta = 1.000000e+04 : f64, max_positions = 2048 : i64}>
// GENERIC: "smla.silu"(%{{.*}}) : (tensor<1x4x128xf32>) -> tensor<1x4x128xf32>
// GENERIC: "smla.mul"
// GENERIC: "smla.swiglu"
// GENERIC: "smla.add"
// GENERIC: "smla.lm_head"

// CHECK-LABEL: func.func @compressed_level
func.func @compressed_level(%ids: tensor<1x4xi32>, %pos: tensor<4xi32>) -> !smla.qtensor<1x4x256xsi32, frac=16> {
  // CHECK: %table = smla.weight #smla.param<"tiny.w2.safetensors", "model.embed_tokens.weight"> : !smla.qtensor<256x64xsi8, per_token>
  %table = smla.weight #smla.param<"tiny.w2.safetensors", "model.embed_tokens.weight"> : !smla.qtensor<256x64xsi8, per_token>
  // CHECK: %gain = smla.weight #smla.param<"tiny.w2.safetensors", "model.norm.weight"> : !smla.qtensor<64xsi16, frac=14>
  %gain = smla.weight #smla.param<"tiny.w2.safetensors", "model.norm.weight"> : !smla.qtensor<64xsi16, frac=14>
  // CHECK: %wq = smla.weight #smla.param<"tiny.w2.safetensors", "q_proj"> : !smla.qweight<64x64, ui2, group=64, sparse=2:4>
  %wq = smla.weight #smla.param<"tiny.w2.safetensors", "q_proj"> : !smla.qweight<64x64, ui2, group=64, sparse=2:4>
  // CHECK: %wd = smla.weight #smla.param<"tiny.w2.safetensors", "down_proj"> : !smla.qweight<64x128, ui2, group=32>
  %wd = smla.weight #smla.param<"tiny.w2.safetensors", "down_proj"> : !smla.qweight<64x128, ui2, group=32>
  // CHECK: %whead = smla.weight #smla.param<"tiny.w2.safetensors", "lm_head.weight"> : !smla.qweight<256x64, si8>
  %whead = smla.weight #smla.param<"tiny.w2.safetensors", "lm_head.weight"> : !smla.qweight<256x64, si8>

  // CHECK: %x = smla.embedding %ids, %table : tensor<1x4xi32>, !smla.qtensor<256x64xsi8, per_token> -> !smla.qtensor<1x4x64xsi32, frac=16>
  %x = smla.embedding %ids, %table : tensor<1x4xi32>, !smla.qtensor<256x64xsi8, per_token> -> !smla.qtensor<1x4x64xsi32, frac=16>
  // CHECK: %h = smla.rmsnorm %x, %gain epsilon = 1.000000e-06 : !smla.qtensor<1x4x64xsi32, frac=16>, !smla.qtensor<64xsi16, frac=14> -> !smla.qtensor<1x4x64xsi32, frac=16>
  %h = smla.rmsnorm %x, %gain epsilon = 1.0e-06 : !smla.qtensor<1x4x64xsi32, frac=16>, !smla.qtensor<64xsi16, frac=14> -> !smla.qtensor<1x4x64xsi32, frac=16>
  // CHECK: %a8 = smla.requantize %h : !smla.qtensor<1x4x64xsi32, frac=16> -> !smla.qtensor<1x4x64xsi8, per_token>
  %a8 = smla.requantize %h : !smla.qtensor<1x4x64xsi32, frac=16> -> !smla.qtensor<1x4x64xsi8, per_token>
  // CHECK: %q = smla.linear %a8, %wq {acc_bits = 48 : i64} : !smla.qtensor<1x4x64xsi8, per_token>, !smla.qweight<64x64, ui2, group=64, sparse=2:4> -> !smla.qtensor<1x4x64xsi32, frac=16>
  %q = smla.linear %a8, %wq {acc_bits = 48} : !smla.qtensor<1x4x64xsi8, per_token>, !smla.qweight<64x64, ui2, group=64, sparse=2:4> -> !smla.qtensor<1x4x64xsi32, frac=16>
  // CHECK: %qr = smla.rope %q, %pos {head_dim = 16 : i64, theta = 5.000000e+05 : f64, max_positions = 8192 : i64} : !smla.qtensor<1x4x64xsi32, frac=16>, tensor<4xi32> -> !smla.qtensor<1x4x64xsi32, frac=16>
  %qr = smla.rope %q, %pos {head_dim = 16, theta = 500000.0, max_positions = 8192} : !smla.qtensor<1x4x64xsi32, frac=16>, tensor<4xi32> -> !smla.qtensor<1x4x64xsi32, frac=16>
  // CHECK: %s = smla.silu %qr : !smla.qtensor<1x4x64xsi32, frac=16> -> !smla.qtensor<1x4x64xsi32, frac=16>
  %s = smla.silu %qr : !smla.qtensor<1x4x64xsi32, frac=16> -> !smla.qtensor<1x4x64xsi32, frac=16>
  // CHECK: %g = smla.swiglu %qr, %q : !smla.qtensor<1x4x64xsi32, frac=16>, !smla.qtensor<1x4x64xsi32, frac=16> -> !smla.qtensor<1x4x64xsi32, frac=16>
  %g = smla.swiglu %qr, %q : !smla.qtensor<1x4x64xsi32, frac=16>, !smla.qtensor<1x4x64xsi32, frac=16> -> !smla.qtensor<1x4x64xsi32, frac=16>
  // CHECK: %m = smla.mul %g, %s : !smla.qtensor<1x4x64xsi32, frac=16>, !smla.qtensor<1x4x64xsi32, frac=16> -> !smla.qtensor<1x4x64xsi32, frac=16>
  %m = smla.mul %g, %s : !smla.qtensor<1x4x64xsi32, frac=16>, !smla.qtensor<1x4x64xsi32, frac=16> -> !smla.qtensor<1x4x64xsi32, frac=16>
  // CHECK: %r = smla.add %x, %m : !smla.qtensor<1x4x64xsi32, frac=16>, !smla.qtensor<1x4x64xsi32, frac=16> -> !smla.qtensor<1x4x64xsi32, frac=16>
  %r = smla.add %x, %m : !smla.qtensor<1x4x64xsi32, frac=16>, !smla.qtensor<1x4x64xsi32, frac=16> -> !smla.qtensor<1x4x64xsi32, frac=16>
  // CHECK: %r8 = smla.requantize %r : !smla.qtensor<1x4x64xsi32, frac=16> -> !smla.qtensor<1x4x64xsi8, per_token>
  %r8 = smla.requantize %r : !smla.qtensor<1x4x64xsi32, frac=16> -> !smla.qtensor<1x4x64xsi8, per_token>
  // CHECK: %r16 = smla.requantize %r8 : !smla.qtensor<1x4x64xsi8, per_token> -> !smla.qtensor<1x4x64xsi16, frac=8>
  %r16 = smla.requantize %r8 : !smla.qtensor<1x4x64xsi8, per_token> -> !smla.qtensor<1x4x64xsi16, frac=8>
  // CHECK: %r32 = smla.requantize %r16 : !smla.qtensor<1x4x64xsi16, frac=8> -> !smla.qtensor<1x4x64xsi32, frac=16>
  %r32 = smla.requantize %r16 : !smla.qtensor<1x4x64xsi16, frac=8> -> !smla.qtensor<1x4x64xsi32, frac=16>
  // A dense W2 layer (K=128, no sparsity) after the SwiGLU-sized input.
  %wide = "test.op"() : () -> !smla.qtensor<1x4x128xsi8, per_token>
  // CHECK: %d = smla.linear %wide, %wd {acc_bits = 40 : i64} : !smla.qtensor<1x4x128xsi8, per_token>, !smla.qweight<64x128, ui2, group=32> -> !smla.qtensor<1x4x64xsi32, frac=16>
  %d = smla.linear %wide, %wd {acc_bits = 40} : !smla.qtensor<1x4x128xsi8, per_token>, !smla.qweight<64x128, ui2, group=32> -> !smla.qtensor<1x4x64xsi32, frac=16>
  %qbias = "test.op"() : () -> !smla.qtensor<64xsi32, frac=16>
  // CHECK: %db = smla.linear %wide, %wd bias %qbias {acc_bits = 48 : i64} : !smla.qtensor<1x4x128xsi8, per_token>, !smla.qweight<64x128, ui2, group=32>, !smla.qtensor<64xsi32, frac=16> -> !smla.qtensor<1x4x64xsi32, frac=16>
  %db = smla.linear %wide, %wd bias %qbias {acc_bits = 48} : !smla.qtensor<1x4x128xsi8, per_token>, !smla.qweight<64x128, ui2, group=32>, !smla.qtensor<64xsi32, frac=16> -> !smla.qtensor<1x4x64xsi32, frac=16>
  // CHECK: %logits = smla.lm_head %r8, %whead {acc_bits = 32 : i64} : !smla.qtensor<1x4x64xsi8, per_token>, !smla.qweight<256x64, si8> -> !smla.qtensor<1x4x256xsi32, frac=16>
  %logits = smla.lm_head %r8, %whead {acc_bits = 32} : !smla.qtensor<1x4x64xsi8, per_token>, !smla.qweight<256x64, si8> -> !smla.qtensor<1x4x256xsi32, frac=16>
  func.return %logits : !smla.qtensor<1x4x256xsi32, frac=16>
}

// GENERIC: "smla.requantize"(%{{.*}}) : (!smla.qtensor<1x4x64xsi32, frac=16>) -> !smla.qtensor<1x4x64xsi8, per_token>
// GENERIC: "smla.linear"(%{{.*}}, %{{.*}}) <{acc_bits = 48 : i64}> : (!smla.qtensor<1x4x64xsi8, per_token>, !smla.qweight<64x64, ui2, group=64, sparse=2:4>) -> !smla.qtensor<1x4x64xsi32, frac=16>
// GENERIC: "smla.lm_head"(%{{.*}}, %{{.*}}) <{acc_bits = 32 : i64}>

// Crossing levels: quantize float activations, dequantize activations and weights (fake quant).
// CHECK-LABEL: func.func @between_levels
func.func @between_levels(%x: tensor<2x64xf32>) -> tensor<64x64xf32> {
  // CHECK: %a = smla.quantize %x : tensor<2x64xf32> -> !smla.qtensor<2x64xsi8, per_token>
  %a = smla.quantize %x : tensor<2x64xf32> -> !smla.qtensor<2x64xsi8, per_token>
  // CHECK: %f = smla.quantize %x : tensor<2x64xf32> -> !smla.qtensor<2x64xsi32, frac=16>
  %f = smla.quantize %x : tensor<2x64xf32> -> !smla.qtensor<2x64xsi32, frac=16>
  // CHECK: %back = smla.dequantize %a : !smla.qtensor<2x64xsi8, per_token> -> tensor<2x64xf32>
  %back = smla.dequantize %a : !smla.qtensor<2x64xsi8, per_token> -> tensor<2x64xf32>
  %w = smla.weight #smla.param<"m.safetensors", "w"> : !smla.qweight<64x64, ui2, group=32, sparse=2:4, meta=index>
  // CHECK: %wf = smla.dequantize %w : !smla.qweight<64x64, ui2, group=32, sparse=2:4, meta=index> -> tensor<64x64xf32>
  %wf = smla.dequantize %w : !smla.qweight<64x64, ui2, group=32, sparse=2:4, meta=index> -> tensor<64x64xf32>
  func.return %wf : tensor<64x64xf32>
}

// GENERIC: "smla.quantize"(%{{.*}}) : (tensor<2x64xf32>) -> !smla.qtensor<2x64xsi8, per_token>
// GENERIC: "smla.dequantize"(%{{.*}}) : (!smla.qweight<64x64, ui2, group=32, sparse=2:4, meta=index>) -> tensor<64x64xf32>
