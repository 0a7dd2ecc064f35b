// Every lattn op and the KV-cache type, float (model level) and KV4 (compressed level): the
// custom form round-trips, and so does the generic form.
// RUN: accllm-opt %s | FileCheck %s
// RUN: accllm-opt %s | accllm-opt | FileCheck %s
// RUN: accllm-opt %s --print-op-generic | FileCheck %s --check-prefix=GENERIC
// RUN: accllm-opt %s --print-op-generic | accllm-opt | FileCheck %s

// Model level: one op per attention layer; GQA with 4 query heads over 2 KV heads of 16.
// CHECK-LABEL: func.func @model_level
func.func @model_level(%q: tensor<1x6x64xf32>, %k: tensor<1x6x32xf32>, %v: tensor<1x6x32xf32>) -> tensor<1x6x64xf32> {
  // CHECK: %full = lattn.prefill %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64} : tensor<1x6x64xf32>, tensor<1x6x32xf32>, tensor<1x6x32xf32> -> tensor<1x6x64xf32>
  %full = lattn.prefill %q, %k, %v {num_heads = 4, num_kv_heads = 2} : tensor<1x6x64xf32>, tensor<1x6x32xf32>, tensor<1x6x32xf32> -> tensor<1x6x64xf32>
  // CHECK: %causal = lattn.prefill %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, causal} : tensor<1x6x64xf32>, tensor<1x6x32xf32>, tensor<1x6x32xf32> -> tensor<1x6x64xf32>
  %causal = lattn.prefill %q, %k, %v {num_heads = 4, num_kv_heads = 2, causal} : tensor<1x6x64xf32>, tensor<1x6x32xf32>, tensor<1x6x32xf32> -> tensor<1x6x64xf32>
  // CHECK: %lambda = lattn.prefill %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, causal, sink = 1 : i64, window = 3 : i64} : tensor<1x6x64xf32>, tensor<1x6x32xf32>, tensor<1x6x32xf32> -> tensor<1x6x64xf32>
  %lambda = lattn.prefill %q, %k, %v {num_heads = 4, num_kv_heads = 2, causal, sink = 1, window = 3} : tensor<1x6x64xf32>, tensor<1x6x32xf32>, tensor<1x6x32xf32> -> tensor<1x6x64xf32>
  func.return %lambda : tensor<1x6x64xf32>
}

// GENERIC: "lattn.prefill"(%{{.*}}, %{{.*}}, %{{.*}}) <{num_heads = 4 : i64, num_kv_heads = 2 : i64, causal, sink = 1 : i64, window = 3 : i64}> : (tensor<1x6x64xf32>, tensor<1x6x32xf32>, tensor<1x6x32xf32>) -> tensor<1x6x64xf32>

// A float cache (fake-quant / float decode): empty, append one token, decode.
// CHECK-LABEL: func.func @float_cache
func.func @float_cache(%k: tensor<1x1x32xf32>, %v: tensor<1x1x32xf32>, %q: tensor<1x1x64xf32>) -> tensor<1x1x64xf32> {
  // CHECK: %c0 = lattn.empty : !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>
  %c0 = lattn.empty : !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>
  // CHECK: %c1 = lattn.append %c0, %k, %v : !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>, tensor<1x1x32xf32>, tensor<1x1x32xf32>
  %c1 = lattn.append %c0, %k, %v : !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>, tensor<1x1x32xf32>, tensor<1x1x32xf32>
  // CHECK: %o = lattn.decode %q, %c1 {num_heads = 4 : i64} : tensor<1x1x64xf32>, !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32> -> tensor<1x1x64xf32>
  %o = lattn.decode %q, %c1 {num_heads = 4} : tensor<1x1x64xf32>, !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32> -> tensor<1x1x64xf32>
  func.return %o : tensor<1x1x64xf32>
}

// GENERIC: "lattn.empty"() : () -> !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>
// GENERIC: "lattn.append"(%{{.*}}, %{{.*}}, %{{.*}}) : (!lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>, tensor<1x1x32xf32>, tensor<1x1x32xf32>) -> !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>
// GENERIC: "lattn.decode"(%{{.*}}, %{{.*}}) <{num_heads = 4 : i64}>

// Compressed level: a Llama-2-7B-shaped KV4 cache (StreamingLLM S=4, W=1020), a 5-token
// prefill that fills it, then one decode step.  Activations are residual (si32, Q15.16).
// CHECK-LABEL: func.func @kv4
func.func @kv4(%cache: !lattn.kv_cache<heads=32, head_dim=128, sink=4, window=1020, ui4>,
               %q: !smla.qtensor<5x4096xsi32, frac=16>, %k: !smla.qtensor<5x4096xsi32, frac=16>,
               %v: !smla.qtensor<5x4096xsi32, frac=16>, %qt: !smla.qtensor<1x4096xsi32, frac=16>,
               %kt: !smla.qtensor<1x4096xsi32, frac=16>)
    -> !smla.qtensor<1x4096xsi32, frac=16> {
  // CHECK: %p = lattn.prefill %q, %k, %v {num_heads = 32 : i64, num_kv_heads = 32 : i64, causal, sink = 4 : i64, window = 1020 : i64} : !smla.qtensor<5x4096xsi32, frac=16>, !smla.qtensor<5x4096xsi32, frac=16>, !smla.qtensor<5x4096xsi32, frac=16> -> !smla.qtensor<5x4096xsi32, frac=16>
  %p = lattn.prefill %q, %k, %v {num_heads = 32, num_kv_heads = 32, causal, sink = 4, window = 1020} : !smla.qtensor<5x4096xsi32, frac=16>, !smla.qtensor<5x4096xsi32, frac=16>, !smla.qtensor<5x4096xsi32, frac=16> -> !smla.qtensor<5x4096xsi32, frac=16>
  // CHECK: %c1 = lattn.append %cache, %k, %v : !lattn.kv_cache<heads=32, head_dim=128, sink=4, window=1020, ui4>, !smla.qtensor<5x4096xsi32, frac=16>, !smla.qtensor<5x4096xsi32, frac=16>
  %c1 = lattn.append %cache, %k, %v : !lattn.kv_cache<heads=32, head_dim=128, sink=4, window=1020, ui4>, !smla.qtensor<5x4096xsi32, frac=16>, !smla.qtensor<5x4096xsi32, frac=16>
  %c2 = lattn.append %c1, %kt, %kt : !lattn.kv_cache<heads=32, head_dim=128, sink=4, window=1020, ui4>, !smla.qtensor<1x4096xsi32, frac=16>, !smla.qtensor<1x4096xsi32, frac=16>
  // CHECK: %o = lattn.decode %qt, %c2 {num_heads = 32 : i64} : !smla.qtensor<1x4096xsi32, frac=16>, !lattn.kv_cache<heads=32, head_dim=128, sink=4, window=1020, ui4> -> !smla.qtensor<1x4096xsi32, frac=16>
  %o = lattn.decode %qt, %c2 {num_heads = 32} : !smla.qtensor<1x4096xsi32, frac=16>, !lattn.kv_cache<heads=32, head_dim=128, sink=4, window=1020, ui4> -> !smla.qtensor<1x4096xsi32, frac=16>
  func.return %o : !smla.qtensor<1x4096xsi32, frac=16>
}

// Cache element types: every float type, and sink = 0 (a pure sliding window).
// CHECK-LABEL: func.func @cache_types
// CHECK-SAME: !lattn.kv_cache<heads=8, head_dim=64, sink=0, window=1, f16>
// CHECK-SAME: !lattn.kv_cache<heads=1, head_dim=2, sink=4, window=2044, bf16>
// CHECK-SAME: !lattn.kv_cache<heads=8, head_dim=128, sink=4, window=4092, f64>
func.func @cache_types(%a: !lattn.kv_cache<heads=8, head_dim=64, sink=0, window=1, f16>,
                       %b: !lattn.kv_cache<heads=1, head_dim=2, sink=4, window=2044, bf16>,
                       %c: !lattn.kv_cache<heads=8, head_dim=128, sink=4, window=4092, f64>) {
  func.return
}
