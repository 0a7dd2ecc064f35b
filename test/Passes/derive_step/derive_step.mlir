// accllm-derive-step: @decode (one token) and a 2-token chunk cloned from a 4-token @forward.
// Activations [1, 4, ...] and the ids are retyped, the RoPE position constant becomes the last
// argument; weights ([256, 64] embedding table) and the source function are untouched.
// RUN: accllm-opt %s -p 'accllm-derive-step{tokens=1}' | FileCheck %s
// RUN: accllm-opt %s -p 'accllm-derive-step{step=chunk tokens=2}' | FileCheck %s --check-prefix=CHUNK
// RUN: accllm-opt %s -p 'accllm-derive-step{tokens=1}' | accllm-opt | FileCheck %s

func.func @forward(%ids: tensor<1x4xi64>) -> !smla.qtensor<1x4x64xsi32, frac=16> {
  %tab = smla.weight {values = dense<1> : tensor<256x64xi8>, exp = dense<7> : tensor<256xi8>} : !smla.qtensor<256x64xsi8, per_token>
  %pos = arith.constant dense<[0, 1, 2, 3]> : tensor<4xi64>
  %x = smla.embedding %ids, %tab : tensor<1x4xi64>, !smla.qtensor<256x64xsi8, per_token> -> !smla.qtensor<1x4x64xsi32, frac=16>
  %q = smla.rope %x, %pos {head_dim = 16 : i64, theta = 1.000000e+04 : f64, max_positions = 256 : i64} : !smla.qtensor<1x4x64xsi32, frac=16>, tensor<4xi64> -> !smla.qtensor<1x4x64xsi32, frac=16>
  %o = lattn.prefill %q, %q, %x {num_heads = 4 : i64, num_kv_heads = 4 : i64, causal, sink = 2 : i64, window = 6 : i64} : !smla.qtensor<1x4x64xsi32, frac=16>, !smla.qtensor<1x4x64xsi32, frac=16>, !smla.qtensor<1x4x64xsi32, frac=16> -> !smla.qtensor<1x4x64xsi32, frac=16>
  func.return %o : !smla.qtensor<1x4x64xsi32, frac=16>
}

// CHECK:      func.func @forward(%{{.*}}: tensor<1x4xi64>) -> !smla.qtensor<1x4x64xsi32, frac=16>
// CHECK:        arith.constant dense<[0, 1, 2, 3]> : tensor<4xi64>
// CHECK-LABEL: func.func @decode(%{{.*}}: tensor<1x1xi64>, %pos: tensor<1xi64>) -> !smla.qtensor<1x1x64xsi32, frac=16>
// CHECK-NEXT:   smla.weight {{.*}} : !smla.qtensor<256x64xsi8, per_token>
// CHECK-NEXT:   smla.embedding {{.*}} : tensor<1x1xi64>, !smla.qtensor<256x64xsi8, per_token> -> !smla.qtensor<1x1x64xsi32, frac=16>
// CHECK-NEXT:   smla.rope {{.*}}, %pos {{.*}} : !smla.qtensor<1x1x64xsi32, frac=16>, tensor<1xi64> -> !smla.qtensor<1x1x64xsi32, frac=16>
// CHECK-NEXT:   lattn.prefill {{.*}} -> !smla.qtensor<1x1x64xsi32, frac=16>
// CHECK-NEXT:   func.return {{.*}} : !smla.qtensor<1x1x64xsi32, frac=16>

// CHUNK-LABEL: func.func @chunk(%{{.*}}: tensor<1x2xi64>, %pos: tensor<2xi64>) -> !smla.qtensor<1x2x64xsi32, frac=16>
// CHUNK:        smla.rope {{.*}}, %pos {{.*}} tensor<2xi64> -> !smla.qtensor<1x2x64xsi32, frac=16>

// replace=true: only the derived step remains (a design holds its chunk and decode programs).
// RUN: accllm-opt %s -p 'accllm-derive-step{tokens=1},accllm-derive-step{step=chunk tokens=2 replace=true}' | FileCheck %s --check-prefix=BOTH
// BOTH-NOT:   func.func @forward
// BOTH:       func.func @chunk(%{{.*}}: tensor<1x2xi64>, %pos: tensor<2xi64>)
// BOTH:       func.func @decode(%{{.*}}: tensor<1x1xi64>, %pos: tensor<1xi64>)
// BOTH-NOT:   func.func @forward
