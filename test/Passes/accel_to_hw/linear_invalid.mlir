// accel-to-hw refuses linears stream_linear_unit cannot run, naming the op: weight streams out of
// channel order (channel c's lanes compute rows [c * rows_per_channel, ...)), a row's metadata
// larger than the lane metadata FIFO (K = 8192 at G = 32: 257 entries), and a stream region that
// does not start on an AXI beat (the prefetcher reads whole 64-byte beats at 2 words per beat).
// RUN: accllm-opt %s -p accel-to-hw --split-input-file --verify-diagnostics

accel.engine @engine {target = "sim", channel_bytes = 16777216 : i64, channels = 4 : i64, weight_channels = 4 : i64, kv_channels = 1 : i64, misc_channel = 3 : i64, mac_lanes = 4 : i64, mac_blocks = 4 : i64, lanes_per_channel = 1 : i64, attn_lanes = 8 : i64, act_buffer_bytes = 147456 : i64, kv_buffer_bytes = 73728 : i64, gemm_tokens = 1152 : i64, words_per_beat = 1 : i64, tile_tokens = 4 : i64, fifo_beats = 256 : i64}
accel.hbm_region @a_c0 {kind = "weights", channel = 0 : i64, offset = 0 : i64, bytes = 608 : i64}
accel.hbm_region @a_c1 {kind = "weights", channel = 1 : i64, offset = 0 : i64, bytes = 608 : i64}
accel.hbm_region @a_c2 {kind = "weights", channel = 2 : i64, offset = 0 : i64, bytes = 608 : i64}
accel.hbm_region @a_c3 {kind = "weights", channel = 3 : i64, offset = 0 : i64, bytes = 608 : i64}
accel.buffer @x {kind = "act", offset = 0 : i64, bytes = 96 : i64}
accel.buffer @y {kind = "act", offset = 96 : i64, bytes = 256 : i64}
accel.schedule @s attributes {mode = "gemv", tokens = 1 : i64} {
  // expected-error @+1 {{weight streams must be on channels 0, 1, ... in order (stream_linear_unit's channel c computes rows [c * rows_per_channel, ...))}}
  accel.linear {mode = "gemv", precision = "w2", weights = [@a_c1, @a_c0, @a_c2, @a_c3], input = @x, output = @y, n = 64 : i64, k = 64 : i64, group = 64 : i64, tokens = 1 : i64, rows_per_channel = 16 : i64}
}

// -----

accel.engine @engine {target = "sim", channel_bytes = 16777216 : i64, channels = 4 : i64, weight_channels = 4 : i64, kv_channels = 1 : i64, misc_channel = 3 : i64, mac_lanes = 4 : i64, mac_blocks = 4 : i64, lanes_per_channel = 1 : i64, attn_lanes = 8 : i64, act_buffer_bytes = 147456 : i64, kv_buffer_bytes = 73728 : i64, gemm_tokens = 1152 : i64, words_per_beat = 1 : i64, tile_tokens = 4 : i64, fifo_beats = 256 : i64}
accel.hbm_region @a_c0 {kind = "weights", channel = 0 : i64, offset = 0 : i64, bytes = 4832 : i64}
accel.hbm_region @a_c1 {kind = "weights", channel = 1 : i64, offset = 0 : i64, bytes = 4832 : i64}
accel.hbm_region @a_c2 {kind = "weights", channel = 2 : i64, offset = 0 : i64, bytes = 4832 : i64}
accel.hbm_region @a_c3 {kind = "weights", channel = 3 : i64, offset = 0 : i64, bytes = 4832 : i64}
accel.buffer @x {kind = "act", offset = 0 : i64, bytes = 8224 : i64}
accel.buffer @y {kind = "act", offset = 8224 : i64, bytes = 256 : i64}
accel.schedule @s attributes {mode = "gemv", tokens = 1 : i64} {
  // expected-error @+1 {{a row's metadata (257 entries, 20 words) exceeds the lane metadata FIFO (16 words)}}
  accel.linear {mode = "gemv", precision = "w2", weights = [@a_c0, @a_c1, @a_c2, @a_c3], input = @x, output = @y, n = 8 : i64, k = 8192 : i64, group = 32 : i64, tokens = 1 : i64, rows_per_channel = 2 : i64}
}

// -----

accel.engine @engine {target = "sim", channel_bytes = 16777216 : i64, channels = 4 : i64, weight_channels = 4 : i64, kv_channels = 1 : i64, misc_channel = 3 : i64, mac_lanes = 8 : i64, mac_blocks = 4 : i64, lanes_per_channel = 2 : i64, attn_lanes = 8 : i64, act_buffer_bytes = 147456 : i64, kv_buffer_bytes = 73728 : i64, gemm_tokens = 1152 : i64, words_per_beat = 2 : i64, tile_tokens = 4 : i64, fifo_beats = 256 : i64}
accel.hbm_region @t {kind = "table", channel = 0 : i64, offset = 0 : i64, bytes = 32 : i64}
accel.hbm_region @a_c0 {kind = "weights", channel = 0 : i64, offset = 32 : i64, bytes = 640 : i64}
accel.hbm_region @a_c1 {kind = "weights", channel = 1 : i64, offset = 0 : i64, bytes = 640 : i64}
accel.hbm_region @a_c2 {kind = "weights", channel = 2 : i64, offset = 0 : i64, bytes = 640 : i64}
accel.hbm_region @a_c3 {kind = "weights", channel = 3 : i64, offset = 0 : i64, bytes = 640 : i64}
accel.buffer @x {kind = "act", offset = 0 : i64, bytes = 96 : i64}
accel.buffer @y {kind = "act", offset = 96 : i64, bytes = 256 : i64}
// expected-error @+1 {{fetch program of channel 0: entry 0: addr 0x20 not aligned to 64-byte beats}}
accel.schedule @s attributes {mode = "gemv", tokens = 1 : i64} {
  accel.linear {mode = "gemv", precision = "w2", weights = [@a_c0, @a_c1, @a_c2, @a_c3], input = @x, output = @y, n = 64 : i64, k = 64 : i64, group = 64 : i64, tokens = 1 : i64, rows_per_channel = 16 : i64}
}
