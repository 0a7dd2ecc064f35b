// Every verifier error of the lattn KV-cache type and ops.
// RUN: accllm-opt %s --split-input-file --verify-diagnostics

// ---- !lattn.kv_cache ----

// expected-error @+1 {{KV cache needs heads >= 1 and head_dim >= 1, got 0, 64}}
"test.op"() : () -> !lattn.kv_cache<heads=0, head_dim=64, sink=4, window=1020, f32>

// -----

// expected-error @+1 {{sink must be >= 0, got -1}}
"test.op"() : () -> !lattn.kv_cache<heads=8, head_dim=64, sink=-1, window=1020, f32>

// -----

// expected-error @+1 {{window must be >= 1 (the current token), got 0}}
"test.op"() : () -> !lattn.kv_cache<heads=8, head_dim=64, sink=4, window=0, f32>

// -----

// expected-error @+1 {{sink + window = 4294967297 exceeds 4294967296 keys (softmax denominator bound)}}
"test.op"() : () -> !lattn.kv_cache<heads=8, head_dim=64, sink=1, window=4294967296, f32>

// -----

// KV4 codes are unsigned (asymmetric with a zero point).
// expected-error @+1 {{KV cache element must be a float type or ui4 (KV4), got si4}}
"test.op"() : () -> !lattn.kv_cache<heads=8, head_dim=64, sink=4, window=1020, si4>

// -----

// expected-error @+1 {{KV4 packs two codes per byte: head_dim must be even, got 63}}
"test.op"() : () -> !lattn.kv_cache<heads=8, head_dim=63, sink=4, window=1020, ui4>

// -----

// 127 * 15 * head_dim must stay below 2^31.
// expected-error @+1 {{head_dim 1127290 can overflow the 32-bit KV4 score accumulator (max 1127288)}}
"test.op"() : () -> !lattn.kv_cache<heads=1, head_dim=1127290, sink=4, window=1020, ui4>

// -----

// expected-error @+1 {{Expected 'head_dim'}}
"test.op"() : () -> !lattn.kv_cache<heads=8, sink=4, window=1020, f32>

// -----

// ---- lattn.append ----

func.func @f(%c: !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>, %k: tensor<2x1x32xf32>) {
  // expected-error @+1 {{keys must be [..., T, features] with leading dims of size 1 (one sequence), got 2x1x32}}
  %0 = lattn.append %c, %k, %k : !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>, tensor<2x1x32xf32>, tensor<2x1x32xf32>
  func.return
}

// -----

func.func @f(%c: !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>, %k: tensor<32xf32>) {
  // expected-error @+1 {{keys must be [..., T, features] with leading dims of size 1 (one sequence), got 32}}
  %0 = lattn.append %c, %k, %k : !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>, tensor<32xf32>, tensor<32xf32>
  func.return
}

// -----

func.func @f(%c: !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>, %k: tensor<1x32xf32>, %v: tensor<2x32xf32>) {
  // expected-error @+1 {{values has shape 2x32, expected 1x32}}
  %0 = lattn.append %c, %k, %v : !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>, tensor<1x32xf32>, tensor<2x32xf32>
  func.return
}

// -----

func.func @f(%c: !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>, %k: tensor<1x64xf32>) {
  // expected-error @+1 {{keys have 64 features, the cache holds 2 heads x 16 = 32}}
  %0 = lattn.append %c, %k, %k : !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>, tensor<1x64xf32>, tensor<1x64xf32>
  func.return
}

// -----

func.func @f(%c: !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, ui4>, %k: tensor<1x32xf32>) {
  // expected-error @+1 {{float keys/values need a float cache (quantize them first)}}
  %0 = lattn.append %c, %k, %k : !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, ui4>, tensor<1x32xf32>, tensor<1x32xf32>
  func.return
}

// -----

func.func @f(%c: !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>, %k: tensor<1x32xf32>, %v: tensor<1x32xf16>) {
  // expected-error @+1 {{float operands and result must share one element type; values has f16, expected f32}}
  %0 = lattn.append %c, %k, %v : !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>, tensor<1x32xf32>, tensor<1x32xf16>
  func.return
}

// -----

func.func @f(%c: !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f16>, %k: tensor<1x32xf32>) {
  // expected-error @+1 {{keys of element f32 do not match the cache element f16}}
  %0 = lattn.append %c, %k, %k : !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f16>, tensor<1x32xf32>, tensor<1x32xf32>
  func.return
}

// -----

func.func @f(%c: !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>, %k: !smla.qtensor<1x32xsi32, frac=16>) {
  // expected-error @+1 {{quantized keys/values need a KV4 (ui4) cache}}
  %0 = lattn.append %c, %k, %k : !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>, !smla.qtensor<1x32xsi32, frac=16>, !smla.qtensor<1x32xsi32, frac=16>
  func.return
}

// -----

func.func @f(%c: !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, ui4>, %k: !smla.qtensor<1x32xsi8, per_token>) {
  // expected-error @+1 {{quantized keys must be the residual format}}
  %0 = lattn.append %c, %k, %k : !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, ui4>, !smla.qtensor<1x32xsi8, per_token>, !smla.qtensor<1x32xsi8, per_token>
  func.return
}

// -----

func.func @f(%c: !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>, %k: tensor<1x32xf32>) {
  // expected-error @+1 {{mixes float tensors and quantized types}}
  %0 = lattn.append %c, %k, %c : !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>, tensor<1x32xf32>, !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>
  func.return
}

// -----

// ---- lattn.prefill ----

func.func @f(%q: tensor<4x64xf32>, %k: tensor<4x32xf32>) {
  // expected-error @+1 {{head counts must be >= 1, got num_heads=4, num_kv_heads=0}}
  %0 = lattn.prefill %q, %k, %k {num_heads = 4, num_kv_heads = 0, causal} : tensor<4x64xf32>, tensor<4x32xf32>, tensor<4x32xf32> -> tensor<4x64xf32>
  func.return
}

// -----

func.func @f(%q: tensor<4x64xf32>, %k: tensor<4x48xf32>) {
  // expected-error @+1 {{num_kv_heads=3 does not divide num_heads=4}}
  %0 = lattn.prefill %q, %k, %k {num_heads = 4, num_kv_heads = 3, causal} : tensor<4x64xf32>, tensor<4x48xf32>, tensor<4x48xf32> -> tensor<4x64xf32>
  func.return
}

// -----

func.func @f(%q: tensor<64xf32>, %k: tensor<32xf32>) {
  // expected-error @+1 {{query must be [..., T, features], got 64}}
  %0 = lattn.prefill %q, %k, %k {num_heads = 4, num_kv_heads = 2, causal} : tensor<64xf32>, tensor<32xf32>, tensor<32xf32> -> tensor<64xf32>
  func.return
}

// -----

func.func @f(%q: tensor<4x66xf32>, %k: tensor<4x32xf32>) {
  // expected-error @+1 {{query features 66 are not a multiple of num_heads=4}}
  %0 = lattn.prefill %q, %k, %k {num_heads = 4, num_kv_heads = 2, causal} : tensor<4x66xf32>, tensor<4x32xf32>, tensor<4x32xf32> -> tensor<4x66xf32>
  func.return
}

// -----

// With 4 query heads of 16, two KV heads need 32 key features.
func.func @f(%q: tensor<4x64xf32>, %k: tensor<4x64xf32>) {
  // expected-error @+1 {{keys has shape 4x64, expected 4x32}}
  %0 = lattn.prefill %q, %k, %k {num_heads = 4, num_kv_heads = 2, causal} : tensor<4x64xf32>, tensor<4x64xf32>, tensor<4x64xf32> -> tensor<4x64xf32>
  func.return
}

// -----

func.func @f(%q: tensor<4x64xf32>, %k: tensor<4x32xf32>, %v: tensor<3x32xf32>) {
  // expected-error @+1 {{values has shape 3x32, expected 4x32}}
  %0 = lattn.prefill %q, %k, %v {num_heads = 4, num_kv_heads = 2, causal} : tensor<4x64xf32>, tensor<4x32xf32>, tensor<3x32xf32> -> tensor<4x64xf32>
  func.return
}

// -----

func.func @f(%q: tensor<4x64xf32>, %k: tensor<4x32xf32>) {
  // expected-error @+1 {{result has shape 4x32, expected 4x64}}
  %0 = lattn.prefill %q, %k, %k {num_heads = 4, num_kv_heads = 2, causal} : tensor<4x64xf32>, tensor<4x32xf32>, tensor<4x32xf32> -> tensor<4x32xf32>
  func.return
}

// -----

func.func @f(%q: tensor<4x64xf32>, %k: tensor<4x32xf32>) {
  // expected-error @+1 {{sink and window must be given together}}
  %0 = lattn.prefill %q, %k, %k {num_heads = 4, num_kv_heads = 2, causal, sink = 4} : tensor<4x64xf32>, tensor<4x32xf32>, tensor<4x32xf32> -> tensor<4x64xf32>
  func.return
}

// -----

func.func @f(%q: tensor<4x64xf32>, %k: tensor<4x32xf32>) {
  // expected-error @+1 {{the Λ mask (sink, window) needs causal attention}}
  %0 = lattn.prefill %q, %k, %k {num_heads = 4, num_kv_heads = 2, sink = 4, window = 8} : tensor<4x64xf32>, tensor<4x32xf32>, tensor<4x32xf32> -> tensor<4x64xf32>
  func.return
}

// -----

func.func @f(%q: tensor<4x64xf32>, %k: tensor<4x32xf32>) {
  // expected-error @+1 {{window must be >= 1 (the current token), got 0}}
  %0 = lattn.prefill %q, %k, %k {num_heads = 4, num_kv_heads = 2, causal, sink = 4, window = 0} : tensor<4x64xf32>, tensor<4x32xf32>, tensor<4x32xf32> -> tensor<4x64xf32>
  func.return
}

// -----

func.func @f(%q: tensor<4x64xf32>, %k: tensor<4x32xbf16>) {
  // expected-error @+1 {{float operands and result must share one element type; keys has bf16, expected f32}}
  %0 = lattn.prefill %q, %k, %k {num_heads = 4, num_kv_heads = 2, causal} : tensor<4x64xf32>, tensor<4x32xbf16>, tensor<4x32xbf16> -> tensor<4x64xf32>
  func.return
}

// -----

func.func @f(%q: !smla.qtensor<4x64xsi32, frac=16>, %k: !smla.qtensor<4x32xsi32, frac=16>) {
  // expected-error @+1 {{quantized attention is causal: add 'causal'}}
  %0 = lattn.prefill %q, %k, %k {num_heads = 4, num_kv_heads = 2} : !smla.qtensor<4x64xsi32, frac=16>, !smla.qtensor<4x32xsi32, frac=16>, !smla.qtensor<4x32xsi32, frac=16> -> !smla.qtensor<4x64xsi32, frac=16>
  func.return
}

// -----

func.func @f(%q: !smla.qtensor<4x64xsi8, per_token>, %k: !smla.qtensor<4x32xsi32, frac=16>) {
  // expected-error @+1 {{quantized query must be the residual format}}
  %0 = lattn.prefill %q, %k, %k {num_heads = 4, num_kv_heads = 2, causal} : !smla.qtensor<4x64xsi8, per_token>, !smla.qtensor<4x32xsi32, frac=16>, !smla.qtensor<4x32xsi32, frac=16> -> !smla.qtensor<4x64xsi32, frac=16>
  func.return
}

// -----

func.func @f(%q: !smla.qtensor<1x2254712xsi32, frac=16>, %k: !smla.qtensor<1x2254712xsi32, frac=16>) {
  // expected-error @+1 {{head_dim 2254712 can overflow the 32-bit KV4 score accumulator (max 1127288)}}
  %0 = lattn.prefill %q, %k, %k {num_heads = 1, num_kv_heads = 1, causal} : !smla.qtensor<1x2254712xsi32, frac=16>, !smla.qtensor<1x2254712xsi32, frac=16>, !smla.qtensor<1x2254712xsi32, frac=16> -> !smla.qtensor<1x2254712xsi32, frac=16>
  func.return
}

// -----

func.func @f(%q: !smla.qtensor<4294967297x2xsi32, frac=16>) {
  // expected-error @+1 {{4294967297 tokens exceed 4294967296 keys (softmax denominator bound)}}
  %0 = lattn.prefill %q, %q, %q {num_heads = 1, num_kv_heads = 1, causal} : !smla.qtensor<4294967297x2xsi32, frac=16>, !smla.qtensor<4294967297x2xsi32, frac=16>, !smla.qtensor<4294967297x2xsi32, frac=16> -> !smla.qtensor<4294967297x2xsi32, frac=16>
  func.return
}

// -----

// ---- lattn.decode ----

func.func @f(%q: tensor<1x64xf32>, %c: !lattn.kv_cache<heads=3, head_dim=16, sink=4, window=12, f32>) {
  // expected-error @+1 {{num_kv_heads=3 does not divide num_heads=4}}
  %0 = lattn.decode %q, %c {num_heads = 4} : tensor<1x64xf32>, !lattn.kv_cache<heads=3, head_dim=16, sink=4, window=12, f32> -> tensor<1x64xf32>
  func.return
}

// -----

func.func @f(%q: tensor<2x1x64xf32>, %c: !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>) {
  // expected-error @+1 {{query must be [..., T, features] with leading dims of size 1 (one sequence), got 2x1x64}}
  %0 = lattn.decode %q, %c {num_heads = 4} : tensor<2x1x64xf32>, !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32> -> tensor<2x1x64xf32>
  func.return
}

// -----

func.func @f(%q: tensor<3x64xf32>, %c: !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>) {
  // expected-error @+1 {{decode takes one query token, got 3}}
  %0 = lattn.decode %q, %c {num_heads = 4} : tensor<3x64xf32>, !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32> -> tensor<3x64xf32>
  func.return
}

// -----

func.func @f(%q: tensor<1x32xf32>, %c: !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>) {
  // expected-error @+1 {{query has 32 features, expected num_heads x cache head_dim = 4 x 16}}
  %0 = lattn.decode %q, %c {num_heads = 4} : tensor<1x32xf32>, !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32> -> tensor<1x32xf32>
  func.return
}

// -----

func.func @f(%q: tensor<1x64xf32>, %c: !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>) {
  // expected-error @+1 {{result has shape 1x32, expected 1x64}}
  %0 = lattn.decode %q, %c {num_heads = 4} : tensor<1x64xf32>, !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32> -> tensor<1x32xf32>
  func.return
}

// -----

func.func @f(%q: tensor<1x64xf32>, %c: !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, ui4>) {
  // expected-error @+1 {{a float query needs a float cache}}
  %0 = lattn.decode %q, %c {num_heads = 4} : tensor<1x64xf32>, !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, ui4> -> tensor<1x64xf32>
  func.return
}

// -----

func.func @f(%q: tensor<1x64xf32>, %c: !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f16>) {
  // expected-error @+1 {{query element f32 does not match the cache element f16}}
  %0 = lattn.decode %q, %c {num_heads = 4} : tensor<1x64xf32>, !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f16> -> tensor<1x64xf32>
  func.return
}

// -----

func.func @f(%q: tensor<1x64xf32>, %c: !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>) {
  // expected-error @+1 {{float operands and result must share one element type; result has f16, expected f32}}
  %0 = lattn.decode %q, %c {num_heads = 4} : tensor<1x64xf32>, !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32> -> tensor<1x64xf16>
  func.return
}

// -----

func.func @f(%q: !smla.qtensor<1x64xsi32, frac=16>, %c: !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32>) {
  // expected-error @+1 {{a quantized query needs a KV4 (ui4) cache}}
  %0 = lattn.decode %q, %c {num_heads = 4} : !smla.qtensor<1x64xsi32, frac=16>, !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, f32> -> !smla.qtensor<1x64xsi32, frac=16>
  func.return
}

// -----

func.func @f(%q: !smla.qtensor<1x64xsi32, frac=16>, %c: !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, ui4>) {
  // expected-error @+1 {{quantized result must be the residual format}}
  %0 = lattn.decode %q, %c {num_heads = 4} : !smla.qtensor<1x64xsi32, frac=16>, !lattn.kv_cache<heads=2, head_dim=16, sink=4, window=12, ui4> -> !smla.qtensor<1x64xsi32, frac=8>
  func.return
}
