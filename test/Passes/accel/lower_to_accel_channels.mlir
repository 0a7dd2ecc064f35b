// lower-to-accel's HBM placement on the stream engine, sim (4 channels, 1 word per beat)
// against u280 (32 channels, 2 words = 64 bytes per beat):
// - every channel streams weights: a linear's rows split over all of them, one region per
//   channel holding that channel's stream, each channel allocated on its own;
// - regions start on an AXI beat: after the 96-byte gain table (3 words) the misc channel's
//   next region starts at byte 96 on sim but 128 on u280;
// - KV regions share the weight channels: a layer's rings (one per KV head, 384 bytes here)
//   striped over min(channels, KV heads) = 4 channels at one offset, after the regions of all
//   four channels, layer after layer (kv_channels = 4 on both).
// RUN: accllm-opt %s -p 'lower-to-accel{target="sim"}' | FileCheck %s --check-prefix=SIM
// RUN: accllm-opt %s -p 'lower-to-accel{target="u280"}' | FileCheck %s --check-prefix=U280

// SIM:       accel.engine @engine {target = "sim", {{.*}}channels = 4 : i64, weight_channels = 4 : i64, kv_channels = 4 : i64, misc_channel = 3 : i64, mac_lanes = 4 : i64, mac_blocks = 4 : i64, lanes_per_channel = 1 : i64, {{.*}}words_per_beat = 1 : i64, tile_tokens = 4 : i64, fifo_beats = 256 : i64}
// SIM-DAG:   accel.hbm_region @g_tab {kind = "table", channel = 3 : i64, offset = 0 : i64, bytes = 96 : i64
// 16 rows per channel on one lane: 16 weight words + 32 metadata entries (3 words) = 608 bytes.
// SIM-DAG:   accel.hbm_region @wq_c0 {kind = "weights", channel = 0 : i64, offset = 0 : i64, bytes = 608 : i64
// SIM-DAG:   accel.hbm_region @wq_c1 {kind = "weights", channel = 1 : i64, offset = 0 : i64, bytes = 608 : i64
// SIM-DAG:   accel.hbm_region @wq_c2 {kind = "weights", channel = 2 : i64, offset = 0 : i64, bytes = 608 : i64
// SIM-DAG:   accel.hbm_region @wq_c3 {kind = "weights", channel = 3 : i64, offset = 96 : i64, bytes = 608 : i64
// SIM-DAG:   accel.hbm_region @kv {kind = "kv", channel = 0 : i64, offset = 704 : i64, bytes = 384 : i64, stripes = 4 : i64}
// SIM-DAG:   accel.hbm_region @kv_1 {kind = "kv", channel = 0 : i64, offset = 1088 : i64, bytes = 384 : i64, stripes = 4 : i64}
// SIM-NOT:   accel.hbm_region @wq_c4
// SIM-NOT:   kind = "metadata"
// SIM:       accel.linear {mode = "gemm", precision = "w2", weights = [@wq_c0, @wq_c1, @wq_c2, @wq_c3], input = @a, output = @q, n = 64 : i64, k = 64 : i64, group = 64 : i64, tokens = 4 : i64, rows_per_channel = 16 : i64}

// U280:      accel.engine @engine {target = "u280", {{.*}}channels = 32 : i64, weight_channels = 32 : i64, kv_channels = 4 : i64, misc_channel = 31 : i64, mac_lanes = 544 : i64, mac_blocks = 4 : i64, lanes_per_channel = 17 : i64, {{.*}}words_per_beat = 2 : i64, tile_tokens = 4 : i64, fifo_beats = 1024 : i64}
// U280-DAG:  accel.hbm_region @g_tab {kind = "table", channel = 31 : i64, offset = 0 : i64, bytes = 96 : i64
// 2 rows per channel, one pass of 2 lanes (a beat's two words go to distinct lanes): 2 weight
// words + 2 metadata words = 2 beats.
// U280-DAG:  accel.hbm_region @wq_c0 {kind = "weights", channel = 0 : i64, offset = 0 : i64, bytes = 128 : i64
// U280-DAG:  accel.hbm_region @wq_c30 {kind = "weights", channel = 30 : i64, offset = 0 : i64, bytes = 128 : i64
// U280-DAG:  accel.hbm_region @wq_c31 {kind = "weights", channel = 31 : i64, offset = 128 : i64, bytes = 128 : i64
// U280-DAG:  accel.hbm_region @kv {kind = "kv", channel = 0 : i64, offset = 128 : i64, bytes = 384 : i64, stripes = 4 : i64}
// U280-DAG:  accel.hbm_region @kv_1 {kind = "kv", channel = 0 : i64, offset = 512 : i64, bytes = 384 : i64, stripes = 4 : i64}
// U280-NOT:  accel.hbm_region @wq_c32
// U280:      accel.linear {mode = "gemm", precision = "w2", weights = [@wq_c0, @wq_c1, @wq_c2, @wq_c3, @wq_c4, @wq_c5, @wq_c6, @wq_c7, @wq_c8, @wq_c9, @wq_c10, @wq_c11, @wq_c12, @wq_c13, @wq_c14, @wq_c15, @wq_c16, @wq_c17, @wq_c18, @wq_c19, @wq_c20, @wq_c21, @wq_c22, @wq_c23, @wq_c24, @wq_c25, @wq_c26, @wq_c27, @wq_c28, @wq_c29, @wq_c30, @wq_c31], input = @a, output = @q, n = 64 : i64, k = 64 : i64, group = 64 : i64, tokens = 4 : i64, rows_per_channel = 2 : i64}
func.func @f(%x: !smla.qtensor<4x48xsi32, frac=16>, %a: !smla.qtensor<4x64xsi8, per_token>) -> !smla.qtensor<4x64xsi32, frac=16> {
  %g = smla.weight #smla.param<"t.safetensors", "norm"> : !smla.qtensor<48xsi16, frac=14>
  %wq = smla.weight #smla.param<"t.safetensors", "q_proj"> : !smla.qweight<64x64, ui2, group=64, sparse=2:4>
  %h = smla.rmsnorm %x, %g epsilon = 1.0e-06 : !smla.qtensor<4x48xsi32, frac=16>, !smla.qtensor<48xsi16, frac=14> -> !smla.qtensor<4x48xsi32, frac=16>
  %q = smla.linear %a, %wq {acc_bits = 48} : !smla.qtensor<4x64xsi8, per_token>, !smla.qweight<64x64, ui2, group=64, sparse=2:4> -> !smla.qtensor<4x64xsi32, frac=16>
  %o = lattn.prefill %q, %q, %q {num_heads = 4 : i64, num_kv_heads = 4 : i64, causal, sink = 4 : i64, window = 12 : i64} : !smla.qtensor<4x64xsi32, frac=16>, !smla.qtensor<4x64xsi32, frac=16>, !smla.qtensor<4x64xsi32, frac=16> -> !smla.qtensor<4x64xsi32, frac=16>
  %o2 = lattn.prefill %o, %o, %o {num_heads = 4 : i64, num_kv_heads = 4 : i64, causal, sink = 4 : i64, window = 12 : i64} : !smla.qtensor<4x64xsi32, frac=16>, !smla.qtensor<4x64xsi32, frac=16>, !smla.qtensor<4x64xsi32, frac=16> -> !smla.qtensor<4x64xsi32, frac=16>
  func.return %o2 : !smla.qtensor<4x64xsi32, frac=16>
}
