// accllm-lambda-attention: every causal prefill gets the Λ mask and every KV cache type the
// sink/window bound, at the float and at the quantized level alike.
// RUN: accllm-opt %s -p accllm-lambda-attention | FileCheck %s --check-prefix=DEFAULT
// RUN: accllm-opt %s -p 'accllm-lambda-attention{sink=2 window=6}' | FileCheck %s --check-prefix=SMALL
// RUN: accllm-opt %s -p 'accllm-lambda-attention{sink=0 window=3}' | FileCheck %s --check-prefix=NOSINK

// DEFAULT-LABEL: func.func @float_prefill
func.func @float_prefill(%q: tensor<1x6x64xf32>, %kv: tensor<1x6x32xf32>) -> tensor<1x6x64xf32> {
  // DEFAULT: lattn.prefill %q, %kv, %kv {num_heads = 4 : i64, num_kv_heads = 2 : i64, causal, sink = 4 : i64, window = 1020 : i64}
  // SMALL: lattn.prefill %q, %kv, %kv {num_heads = 4 : i64, num_kv_heads = 2 : i64, causal, sink = 2 : i64, window = 6 : i64}
  // NOSINK: lattn.prefill %q, %kv, %kv {num_heads = 4 : i64, num_kv_heads = 2 : i64, causal, sink = 0 : i64, window = 3 : i64}
  %a = lattn.prefill %q, %kv, %kv {num_heads = 4, num_kv_heads = 2, causal} : tensor<1x6x64xf32>, tensor<1x6x32xf32>, tensor<1x6x32xf32> -> tensor<1x6x64xf32>
  func.return %a : tensor<1x6x64xf32>
}

// An existing Λ shape is replaced by the options.
// SMALL-LABEL: func.func @quantized_prefill
func.func @quantized_prefill(%q: !smla.qtensor<1x4x32xsi32, frac=16>) -> !smla.qtensor<1x4x32xsi32, frac=16> {
  // SMALL: lattn.prefill %q, %q, %q {num_heads = 2 : i64, num_kv_heads = 2 : i64, causal, sink = 2 : i64, window = 6 : i64} : !smla.qtensor
  %a = lattn.prefill %q, %q, %q {num_heads = 2, num_kv_heads = 2, causal, sink = 1, window = 100} : !smla.qtensor<1x4x32xsi32, frac=16>, !smla.qtensor<1x4x32xsi32, frac=16>, !smla.qtensor<1x4x32xsi32, frac=16> -> !smla.qtensor<1x4x32xsi32, frac=16>
  func.return %a : !smla.qtensor<1x4x32xsi32, frac=16>
}

// The cache type changes everywhere it appears: arguments, results, function type.
// SMALL-LABEL: func.func @decode(%c: !lattn.kv_cache<heads=2, head_dim=16, sink=2, window=6, ui4>, %k: !smla.qtensor<1x1x32xsi32, frac=16>, %q: !smla.qtensor<1x1x64xsi32, frac=16>) -> (!smla.qtensor<1x1x64xsi32, frac=16>, !lattn.kv_cache<heads=2, head_dim=16, sink=2, window=6, ui4>)
func.func @decode(%c: !lattn.kv_cache<heads=2, head_dim=16, sink=0, window=4096, ui4>, %k: !smla.qtensor<1x1x32xsi32, frac=16>, %q: !smla.qtensor<1x1x64xsi32, frac=16>) -> (!smla.qtensor<1x1x64xsi32, frac=16>, !lattn.kv_cache<heads=2, head_dim=16, sink=0, window=4096, ui4>) {
  // SMALL: %c1 = lattn.append %c, %k, %k : !lattn.kv_cache<heads=2, head_dim=16, sink=2, window=6, ui4>
  %c1 = lattn.append %c, %k, %k : !lattn.kv_cache<heads=2, head_dim=16, sink=0, window=4096, ui4>, !smla.qtensor<1x1x32xsi32, frac=16>, !smla.qtensor<1x1x32xsi32, frac=16>
  // SMALL: lattn.decode %q, %c1 {num_heads = 4 : i64} : !smla.qtensor<1x1x64xsi32, frac=16>, !lattn.kv_cache<heads=2, head_dim=16, sink=2, window=6, ui4>
  %o = lattn.decode %q, %c1 {num_heads = 4} : !smla.qtensor<1x1x64xsi32, frac=16>, !lattn.kv_cache<heads=2, head_dim=16, sink=0, window=4096, ui4> -> !smla.qtensor<1x1x64xsi32, frac=16>
  func.return %o, %c1 : !smla.qtensor<1x1x64xsi32, frac=16>, !lattn.kv_cache<heads=2, head_dim=16, sink=0, window=4096, ui4>
}

// SMALL-LABEL: func.func @fresh_cache
func.func @fresh_cache() -> !lattn.kv_cache<heads=1, head_dim=8, sink=0, window=16, f32> {
  // SMALL: lattn.empty : !lattn.kv_cache<heads=1, head_dim=8, sink=2, window=6, f32>
  %c = lattn.empty : !lattn.kv_cache<heads=1, head_dim=8, sink=0, window=16, f32>
  func.return %c : !lattn.kv_cache<heads=1, head_dim=8, sink=0, window=16, f32>
}
