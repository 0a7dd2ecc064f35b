// accllm-translate --emit-report after accllm-compress: figures read off the IR's types.
// q_proj 64x64, G=64, 2:4: codes 2 bits x 32 kept = 1 bit/weight; pattern metadata 3 bits per 4
// = 0.75; a 256-bit word holds the row's 16 blocks of 7 bits, 144 bits padding = 2.25; per row
// one 2-bit zero point and one 16-bit mantissa per group (0.03125, 0.25) and an 8-bit exponent
// (0.125).  KV4: per token and KV head 16 x 4 bits + 8-bit exponent + 4-bit zero point = 76 bits,
// x 2 (K, V) x 2 KV heads = 38 bytes per token; read over the 4 + 1020 Λ slots.
// RUN: rm -rf %t && mkdir -p %t && cp %S/Inputs/tiny_decoder.mlir %t/m.mlir
// RUN: %python %S/Inputs/make_params.py %t/w.safetensors model.embed_tokens.weight=32x64 model.layers.0.input_layernorm.weight=64 model.layers.0.self_attn.q_proj.weight=64x64 model.layers.0.self_attn.k_proj.weight=32x64 model.layers.0.self_attn.v_proj.weight=32x64 model.layers.0.self_attn.o_proj.weight=64x64 model.layers.0.post_attention_layernorm.weight=64 model.layers.0.mlp.gate_proj.weight=128x64 model.layers.0.mlp.up_proj.weight=128x64 model.layers.0.mlp.down_proj.weight=64x128 model.norm.weight=64 lm_head.weight=32x64
// RUN: accllm-opt %t/m.mlir -p accllm-compress -o %t/c.mlir
// RUN: accllm-translate --emit-report %t/c.mlir | FileCheck %s
// RUN: accllm-translate --emit-report %t/m.mlir | FileCheck %s --check-prefix=FLOAT

// CHECK: "level": "compressed"
// CHECK: "name": "model.layers.0.self_attn.q_proj.weight",
// CHECK-NEXT: "shape": [
// CHECK: "scheme": "W2 2:4 G=64",
// CHECK-NEXT: "sparsity": 0.5,
// CHECK-NEXT: "bits_per_weight": {
// CHECK-NEXT: "codes": 1.0,
// CHECK-NEXT: "meta": 0.75,
// CHECK-NEXT: "padding": 2.25,
// CHECK-NEXT: "zero_point": 0.0312,
// CHECK-NEXT: "scale_mant": 0.25,
// CHECK-NEXT: "scale_exp": 0.125,
// CHECK-NEXT: "total": 4.4062
// CHECK-NEXT: },
// CHECK-NEXT: "bytes": 2256.0
// The down projection: K=128, G=128, 32 blocks in one word (32 bits padding per row).
// CHECK: "name": "model.layers.0.mlp.down_proj.weight",
// CHECK: "padding": 0.25,
// CHECK: "scheme": "int8 per row",
// CHECK: "kv_cache": {
// CHECK-NEXT: "bytes_per_token": 38.0,
// CHECK: "element": "kv4"
// CHECK: "context_tokens": 1024,
// CHECK-NEXT: "context_rule": "\u039b: sink 4 + window 1020 slots",
// CHECK-NEXT: "bytes_at_context": 38912.0
// CHECK: "decode_bytes_per_token": {
// CHECK: "kv_read": 38912.0,
// CHECK-NEXT: "kv_write": 38.0,

// The model level: float32 weights, float KV, no Λ window yet (context = max_positions 64).
// FLOAT: "level": "model"
// FLOAT: "scheme": "float32",
// FLOAT-NEXT: "sparsity": 0.0,
// FLOAT: "bytes_per_token": 256.0,
// FLOAT: "context_tokens": 64,
