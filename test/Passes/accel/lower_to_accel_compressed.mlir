// lower-to-accel on the compression passes' form of attention: lattn.prefill of q, k, v with Λ
// sink/window (no explicit cache) and RoPE at constant positions; a later decode function's
// cache argument is the same layer's KV region (cache identity across schedules).
// RUN: accllm-opt %s -p 'lower-to-accel{target="sim"},accel-insert-barriers' | FileCheck %s
// RUN: accllm-opt %s -p 'lower-to-accel{target="sim"},accel-insert-barriers' | accllm-opt | FileCheck %s

// One KV region only (the layer's 4 KV heads' rings striped over channels 0..3): the decode
// step reuses the prefill's.
// CHECK:     accel.hbm_region @kv {kind = "kv", channel = 0 : i64, offset = 0 : i64, bytes = 384 : i64, stripes = 4 : i64}
// CHECK-NOT: accel.hbm_region @kv_1
// CHECK-LABEL: accel.schedule @prefill_gemm attributes {mode = "gemm", tokens = 4 : i64} {
// CHECK-NEXT:   accel.vector {kind = "rope", inputs = [@q], output = @qr, length = 64 : i64, tokens = 4 : i64, position = 0 : i64, head_dim = 16 : i64, theta = 1.000000e+04 : f64, max_positions = 256 : i64}
// CHECK-NEXT:   accel.vector {kind = "rope", inputs = [@k], output = @kr, length = 64 : i64, tokens = 4 : i64, position = 0 : i64, head_dim = 16 : i64, theta = 1.000000e+04 : f64, max_positions = 256 : i64}
// A multi-token prefill appends its tokens itself, each right before its query attends.
// CHECK-NEXT:   accel.barrier {units = [5 : i64]}
// CHECK-NEXT:   accel.attention {mode = "gemm", kv = @kv, q = @qr, output = @o, heads = 4 : i64, kv_heads = 4 : i64, head_dim = 16 : i64, sink = 4 : i64, window = 12 : i64, tokens = 4 : i64, position = 0 : i64, k = @kr, v = @v}
// CHECK-LABEL: accel.schedule @step_gemv
// CHECK-NEXT:   accel.attention {mode = "gemv", kv = @kv, {{.*}}, k = @qt, v = @qt}
// CHECK-NEXT:  }
func.func @prefill(%q: !smla.qtensor<4x64xsi32, frac=16>, %k: !smla.qtensor<4x64xsi32, frac=16>, %v: !smla.qtensor<4x64xsi32, frac=16>) -> !smla.qtensor<4x64xsi32, frac=16> {
  %pos = arith.constant dense<[0, 1, 2, 3]> : tensor<4xi64>
  %qr = smla.rope %q, %pos {head_dim = 16 : i64, theta = 1.000000e+04 : f64, max_positions = 256 : i64} : !smla.qtensor<4x64xsi32, frac=16>, tensor<4xi64> -> !smla.qtensor<4x64xsi32, frac=16>
  %kr = smla.rope %k, %pos {head_dim = 16 : i64, theta = 1.000000e+04 : f64, max_positions = 256 : i64} : !smla.qtensor<4x64xsi32, frac=16>, tensor<4xi64> -> !smla.qtensor<4x64xsi32, frac=16>
  %o = lattn.prefill %qr, %kr, %v {num_heads = 4 : i64, num_kv_heads = 4 : i64, causal, sink = 4 : i64, window = 12 : i64} : !smla.qtensor<4x64xsi32, frac=16>, !smla.qtensor<4x64xsi32, frac=16>, !smla.qtensor<4x64xsi32, frac=16> -> !smla.qtensor<4x64xsi32, frac=16>
  func.return %o : !smla.qtensor<4x64xsi32, frac=16>
}

func.func @step(%qt: !smla.qtensor<1x64xsi32, frac=16>, %cache: !lattn.kv_cache<heads=4, head_dim=16, sink=4, window=12, ui4>) -> !smla.qtensor<1x64xsi32, frac=16> {
  %c1 = lattn.append %cache, %qt, %qt : !lattn.kv_cache<heads=4, head_dim=16, sink=4, window=12, ui4>, !smla.qtensor<1x64xsi32, frac=16>, !smla.qtensor<1x64xsi32, frac=16>
  %o = lattn.decode %qt, %c1 {num_heads = 4} : !smla.qtensor<1x64xsi32, frac=16>, !lattn.kv_cache<heads=4, head_dim=16, sink=4, window=12, ui4> -> !smla.qtensor<1x64xsi32, frac=16>
  func.return %o : !smla.qtensor<1x64xsi32, frac=16>
}
