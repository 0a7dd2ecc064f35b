// RUN: rm -rf %t && mkdir -p %t
// RUN: accllm import %S/Inputs/tiny_gqa --config-only --seq-len 4 -o %t/tiny.mlir | FileCheck %s --check-prefix=LOG
// RUN: FileCheck %s < %t/tiny.mlir
// RUN: not test -e %t/tiny.safetensors

// Config-only import (meta device): 3 GQA layers, RoPE theta from the config, weights named
// but not written.

// LOG: accllm: imported 3 layers to {{.*}}tiny.mlir (config only: weights named, not written) in {{[0-9.]+}}s

// CHECK-LABEL: func.func @forward(
// CHECK-SAME:  %{{.*}}: tensor<1x4xi64>) -> tensor<1x4x128xf32>
// CHECK:       smla.weight #smla.param<"tiny.safetensors", "model.embed_tokens.weight"> : tensor<128x32xf32>
// CHECK:       smla.weight #smla.param<"tiny.safetensors", "model.layers.0.self_attn.k_proj.weight"> : tensor<16x32xf32>
// CHECK:       smla.embedding
// CHECK:       smla.rmsnorm %{{.*}}, %{{.*}} epsilon = 1.000000e-06
// CHECK-COUNT-3: lattn.prefill %{{.*}}, %{{.*}}, %{{.*}} {num_heads = 4 : i64, num_kv_heads = 2 : i64, causal} : tensor<1x4x32xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32> -> tensor<1x4x32xf32>
// CHECK:       smla.lm_head
// CHECK-NOT:   torch.
