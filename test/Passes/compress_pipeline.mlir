// The named pipeline accllm-compress (defaults: magnitude 2:4, Λ 4 + 1020, W2A8KV4 G=128, folds)
// in MLIR syntax and in xDSL's -p syntax, on a one-layer decoder with streamed parameters.
// RUN: rm -rf %t && mkdir -p %t && cp %S/Inputs/tiny_decoder.mlir %t/m.mlir
// RUN: %python %S/Inputs/make_params.py %t/w.safetensors model.embed_tokens.weight=32x64 model.layers.0.input_layernorm.weight=64 model.layers.0.self_attn.q_proj.weight=64x64 model.layers.0.self_attn.k_proj.weight=32x64 model.layers.0.self_attn.v_proj.weight=32x64 model.layers.0.self_attn.o_proj.weight=64x64 model.layers.0.post_attention_layernorm.weight=64 model.layers.0.mlp.gate_proj.weight=128x64 model.layers.0.mlp.up_proj.weight=128x64 model.layers.0.mlp.down_proj.weight=64x128 model.norm.weight=64 lm_head.weight=32x64
// RUN: accllm-opt %t/m.mlir --pass-pipeline='builtin.module(accllm-compress)' -o %t/c.mlir
// RUN: FileCheck %s < %t/c.mlir
// RUN: accllm-opt %t/m.mlir -p accllm-compress | FileCheck %s
// RUN: accllm-opt --help | FileCheck %s --check-prefix=HELP

// CHECK: func.func @forward(%ids: tensor<1x8xi64>) -> !smla.qtensor<1x8x32xsi32, frac=16>
// CHECK-DAG: %wq = smla.weight #smla.param<"w.w2a8kv4.safetensors", "model.layers.0.self_attn.q_proj.weight"> : !smla.qweight<64x64, ui2, group=64, sparse=2:4>
// CHECK-DAG: %wd = smla.weight #smla.param<"w.w2a8kv4.safetensors", "model.layers.0.mlp.down_proj.weight"> : !smla.qweight<64x128, ui2, group=128, sparse=2:4>
// One A8 requantization feeds q, k and v; one feeds gate and up.
// CHECK: %[[A:.*]] = smla.requantize %h : {{.*}} -> !smla.qtensor<1x8x64xsi8, per_token>
// CHECK-NEXT: %q = smla.linear %[[A]], %wq
// CHECK-NEXT: %k = smla.linear %[[A]], %wk
// CHECK-NEXT: %v = smla.linear %[[A]], %wv
// CHECK: lattn.prefill %qr, %kr, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, causal, sink = 4 : i64, window = 1020 : i64}
// CHECK: %[[M:.*]] = smla.requantize %h2
// CHECK-NEXT: %g = smla.linear %[[M]], %wg
// CHECK-NEXT: %u = smla.linear %[[M]], %wu
// CHECK-COUNT-1: smla.requantize %s
// CHECK-COUNT-1: smla.requantize %hf
// CHECK-NOT: smla.requantize
// CHECK-NOT: xf32>

// HELP: accllm-compress    AccLLM compression
// HELP-NEXT: = accllm-prune-2-4{method=magnitude},accllm-lambda-attention{sink=4 window=1020},accllm-quantize{weights=2 activations=8 kv=4 group=128},accllm-fold-quantize-pairs
