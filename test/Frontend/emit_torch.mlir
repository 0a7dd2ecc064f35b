// RUN: rm -rf %t && mkdir -p %t
// RUN: accllm import %S/Inputs/tiny_gqa/config.json --config-only --seq-len 4 --emit torch -o %t/tiny.torch.mlir
// RUN: FileCheck %s --check-prefix=TORCH < %t/tiny.torch.mlir
// RUN: accllm-opt -p 'convert-torch-to-accllm{max_positions=64}' %t/tiny.torch.mlir -o %t/tiny.mlir
// RUN: FileCheck %s < %t/tiny.mlir
// RUN: FileCheck %s --check-prefix=COUNT < %t/tiny.mlir

// The torch-dialect form the exporter produces (attention, linear and SiLU whole; weights as
// arguments naming their parameter) is the input of convert-torch-to-accllm in accllm-opt.

// TORCH:      func.func @forward(%{{.*}}: !torch.vtensor<[1,4],si64>, %{{.*}}: !torch.vtensor<[128,32],f32> {accllm.param = #smla.param<"tiny.torch.safetensors", "model.embed_tokens.weight">}
// TORCH-COUNT-3: torch.aten.scaled_dot_product_attention
// TORCH-NOT:  torch.aten.softmax

// COUNT-COUNT-21: smla.linear
// COUNT-NOT:   smla.linear
// CHECK:       smla.rope %{{.*}}, %{{.*}} {head_dim = 8 : i64, theta = 5.000000e+05 : f64, max_positions = 64 : i64}
// CHECK:       smla.lm_head
