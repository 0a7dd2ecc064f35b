// lower-to-accel (then accel-insert-barriers) on a compressed one-layer slice (prefill of 4 tokens, then a decode step) for
// the sim target: every channel streams weights and holds a KV head's ring, tables on channel 3.
// RUN: accllm-opt %s -p 'lower-to-accel{target="sim"},accel-insert-barriers' | FileCheck %s
// RUN: accllm-opt %s -p 'lower-to-accel{target="sim"},accel-insert-barriers' | accllm-opt | FileCheck %s

// CHECK: accel.engine @engine {target = "sim", channel_bytes = 16777216 : i64, channels = 4 : i64, weight_channels = 4 : i64, kv_channels = 4 : i64, misc_channel = 3 : i64, mac_lanes = 4 : i64, mac_blocks = 4 : i64, lanes_per_channel = 1 : i64, {{.*}}, words_per_beat = 1 : i64, tile_tokens = 4 : i64, fifo_beats = 256 : i64}
// CHECK-DAG: accel.hbm_region @gain_tab {kind = "table", channel = 3 : i64, offset = 0 : i64, bytes = 128 : i64
// 64 rows over the 4 channels: 16 rows each, on one lane, as the channel's stream (16 passes of
// one weight word, and the lane's 2 metadata entries per row: 32 entries, 3 words) = 19 words =
// 608 bytes. Each channel is allocated on its own: channel 3's region follows the gain table.
// CHECK-DAG: accel.hbm_region @wq_c0 {kind = "weights", channel = 0 : i64, offset = 0 : i64, bytes = 608 : i64, source = "tiny.w2.safetensors:q_proj"}
// CHECK-DAG: accel.hbm_region @wq_c1 {kind = "weights", channel = 1 : i64, offset = 0 : i64, bytes = 608 : i64, source = "tiny.w2.safetensors:q_proj"}
// CHECK-DAG: accel.hbm_region @wq_c2 {kind = "weights", channel = 2 : i64, offset = 0 : i64, bytes = 608 : i64, source = "tiny.w2.safetensors:q_proj"}
// CHECK-DAG: accel.hbm_region @wq_c3 {kind = "weights", channel = 3 : i64, offset = 128 : i64, bytes = 608 : i64, source = "tiny.w2.safetensors:q_proj"}
// The layer's KV rings striped over channels 0..3 (KV head h on channel h), at one offset on
// all of them (after channel 3's weights, 64-byte aligned): a ring of 16 slots of head_dim 16
// = K codes 128 B, K scales 64 B (2 B per slot, 64-byte aligned), V codes, V scales = 384 B.
// No metadata region: the metadata is in the weight streams.
// CHECK-DAG: accel.hbm_region @kv {kind = "kv", channel = 0 : i64, offset = 768 : i64, bytes = 384 : i64, stripes = 4 : i64}
// CHECK-NOT: kind = "metadata"
// CHECK-LABEL: accel.schedule @layer_gemm attributes {mode = "gemm", tokens = 4 : i64} {
// CHECK-NEXT:   accel.vector {kind = "rmsnorm", inputs = [@x], output = @h, length = 64 : i64, tokens = 4 : i64, table = @gain_tab, gain_shift = 14 : i64, eps_q = 4295 : i64}
// CHECK-NEXT:   accel.barrier {units = [3 : i64]}
// CHECK-NEXT:   accel.vector {kind = "requantize", inputs = [@h], output = @a8
// CHECK-NEXT:   accel.barrier {units = [6 : i64]}
// CHECK-NEXT:   accel.linear {mode = "gemm", precision = "w2", weights = [@wq_c0, @wq_c1, @wq_c2, @wq_c3], input = @a8, output = @q, n = 64 : i64, k = 64 : i64, group = 64 : i64, tokens = 4 : i64, rows_per_channel = 16 : i64}
// CHECK-NEXT:   accel.barrier {units = [0 : i64]}
// A prompt: its first position is a compile-time constant (0); a decode step has none (the
// position register). The explicit 4-token lattn.append becomes the attention's own (k, v):
// each token is appended right before its query attends.
// CHECK-NOT:    accel.kv_append
// CHECK-NEXT:   accel.attention {mode = "gemm", kv = @kv, q = @q, output = @o, {{.*}}, position = 0 : i64, k = @q, v = @q}
// CHECK:        accel.vector {kind = "add", inputs = [@x, @o], output = @r
// CHECK-LABEL: accel.schedule @step_gemv attributes {mode = "gemv", tokens = 1 : i64} {
// The decode step appends to the layer's cache region of the prefill (cache identity): the
// lattn.append + lattn.decode pair is one attention that appends its token itself (k, v), at
// the position register (no position).
// CHECK-NEXT:   accel.attention {mode = "gemv", kv = @kv, q = @qt, output = @o_1, heads = 4 : i64, kv_heads = 4 : i64, head_dim = 16 : i64, sink = 4 : i64, window = 12 : i64, tokens = 1 : i64, k = @qt, v = @qt}
// CHECK-NEXT:  }
func.func @layer(%x: !smla.qtensor<4x64xsi32, frac=16>) -> !smla.qtensor<4x64xsi32, frac=16> {
  %gain = smla.weight #smla.param<"tiny.w2.safetensors", "model.norm.weight"> : !smla.qtensor<64xsi16, frac=14>
  %wq = smla.weight #smla.param<"tiny.w2.safetensors", "q_proj"> : !smla.qweight<64x64, ui2, group=64, sparse=2:4>
  %h = smla.rmsnorm %x, %gain epsilon = 1.0e-06 : !smla.qtensor<4x64xsi32, frac=16>, !smla.qtensor<64xsi16, frac=14> -> !smla.qtensor<4x64xsi32, frac=16>
  %a8 = smla.requantize %h : !smla.qtensor<4x64xsi32, frac=16> -> !smla.qtensor<4x64xsi8, per_token>
  %q = smla.linear %a8, %wq {acc_bits = 48} : !smla.qtensor<4x64xsi8, per_token>, !smla.qweight<64x64, ui2, group=64, sparse=2:4> -> !smla.qtensor<4x64xsi32, frac=16>
  %c0 = lattn.empty : !lattn.kv_cache<heads=4, head_dim=16, sink=4, window=12, ui4>
  %c1 = lattn.append %c0, %q, %q : !lattn.kv_cache<heads=4, head_dim=16, sink=4, window=12, ui4>, !smla.qtensor<4x64xsi32, frac=16>, !smla.qtensor<4x64xsi32, frac=16>
  %o = lattn.prefill %q, %q, %q {num_heads = 4, num_kv_heads = 4, causal, sink = 4, window = 12} : !smla.qtensor<4x64xsi32, frac=16>, !smla.qtensor<4x64xsi32, frac=16>, !smla.qtensor<4x64xsi32, frac=16> -> !smla.qtensor<4x64xsi32, frac=16>
  %r = smla.add %x, %o : !smla.qtensor<4x64xsi32, frac=16>, !smla.qtensor<4x64xsi32, frac=16> -> !smla.qtensor<4x64xsi32, frac=16>
  func.return %r : !smla.qtensor<4x64xsi32, frac=16>
}

func.func @step(%qt: !smla.qtensor<1x64xsi32, frac=16>, %cache: !lattn.kv_cache<heads=4, head_dim=16, sink=4, window=12, ui4>) -> !smla.qtensor<1x64xsi32, frac=16> {
  %c1 = lattn.append %cache, %qt, %qt : !lattn.kv_cache<heads=4, head_dim=16, sink=4, window=12, ui4>, !smla.qtensor<1x64xsi32, frac=16>, !smla.qtensor<1x64xsi32, frac=16>
  %o = lattn.decode %qt, %c1 {num_heads = 4} : !smla.qtensor<1x64xsi32, frac=16>, !lattn.kv_cache<heads=4, head_dim=16, sink=4, window=12, ui4> -> !smla.qtensor<1x64xsi32, frac=16>
  func.return %o : !smla.qtensor<1x64xsi32, frac=16>
}
