// accel-to-hw refuses, naming the op: a multi-token attention without its tokens' K/V (the
// unit appends each token before its query attends, so it needs the K/V buffers), a KV cache
// no attention reads (its record layout is unknown), vector kinds without RTL (silu: a netlist
// never silently lacks a unit), and a rope lowered without its table constants.
// RUN: accllm-opt %s -p accel-to-hw --split-input-file --verify-diagnostics

accel.engine @engine {target = "sim", channel_bytes = 16777216 : i64, channels = 4 : i64, weight_channels = 4 : i64, kv_channels = 1 : i64, misc_channel = 3 : i64, mac_lanes = 4 : i64, mac_blocks = 4 : i64, lanes_per_channel = 1 : i64, attn_lanes = 8 : i64, act_buffer_bytes = 147456 : i64, kv_buffer_bytes = 73728 : i64, gemm_tokens = 1152 : i64, words_per_beat = 1 : i64, tile_tokens = 4 : i64, fifo_beats = 256 : i64}
accel.hbm_region @kv {kind = "kv", channel = 0 : i64, offset = 0 : i64, bytes = 1280 : i64}
accel.buffer @q {kind = "act", offset = 0 : i64, bytes = 1024 : i64}
accel.buffer @o {kind = "act", offset = 1024 : i64, bytes = 1024 : i64}
accel.schedule @step_gemm attributes {mode = "gemm", tokens = 4 : i64} {
  // expected-error @+1 {{an attention of 4 tokens appends them itself: it needs their K and V rows (k, v)}}
  accel.attention {mode = "gemm", kv = @kv, q = @q, output = @o, heads = 4 : i64, kv_heads = 4 : i64, head_dim = 16 : i64, sink = 4 : i64, window = 12 : i64, tokens = 4 : i64}
}

// -----

accel.engine @engine {target = "sim", channel_bytes = 16777216 : i64, channels = 4 : i64, weight_channels = 4 : i64, kv_channels = 1 : i64, misc_channel = 3 : i64, mac_lanes = 4 : i64, mac_blocks = 4 : i64, lanes_per_channel = 1 : i64, attn_lanes = 8 : i64, act_buffer_bytes = 147456 : i64, kv_buffer_bytes = 73728 : i64, gemm_tokens = 1152 : i64, words_per_beat = 1 : i64, tile_tokens = 4 : i64, fifo_beats = 256 : i64}
accel.hbm_region @kv {kind = "kv", channel = 0 : i64, offset = 0 : i64, bytes = 1280 : i64}
accel.buffer @k {kind = "act", offset = 0 : i64, bytes = 256 : i64}
accel.buffer @v {kind = "act", offset = 256 : i64, bytes = 256 : i64}
accel.schedule @step_gemv attributes {mode = "gemv", tokens = 1 : i64} {
  // expected-error @+1 {{KV cache @kv is never read by an accel.attention: its geometry (KV heads, head_dim, sink, window) is unknown, so its rings cannot be placed}}
  accel.kv_append {kv = @kv, k = @k, v = @v, tokens = 1 : i64}
}

// -----

accel.engine @engine {target = "sim", channel_bytes = 16777216 : i64, channels = 4 : i64, weight_channels = 4 : i64, kv_channels = 1 : i64, misc_channel = 3 : i64, mac_lanes = 4 : i64, mac_blocks = 4 : i64, lanes_per_channel = 1 : i64, attn_lanes = 8 : i64, act_buffer_bytes = 147456 : i64, kv_buffer_bytes = 73728 : i64, gemm_tokens = 1152 : i64, words_per_beat = 1 : i64, tile_tokens = 4 : i64, fifo_beats = 256 : i64}
accel.buffer @x {kind = "act", offset = 0 : i64, bytes = 256 : i64}
accel.buffer @h {kind = "act", offset = 256 : i64, bytes = 256 : i64}
accel.schedule @s_gemv attributes {mode = "gemv", tokens = 1 : i64} {
  // expected-error @+1 {{accel.vector kind 'silu' has no RTL: vector_unit executes ['add', 'requantize', 'swiglu'], norm_unit rmsnorm, rope_cmd_unit rope}}
  accel.vector {kind = "silu", inputs = [@x], output = @h, length = 64 : i64, tokens = 1 : i64}
}

// -----

accel.engine @engine {target = "sim", channel_bytes = 16777216 : i64, channels = 4 : i64, weight_channels = 4 : i64, kv_channels = 1 : i64, misc_channel = 3 : i64, mac_lanes = 4 : i64, mac_blocks = 4 : i64, lanes_per_channel = 1 : i64, attn_lanes = 8 : i64, act_buffer_bytes = 147456 : i64, kv_buffer_bytes = 73728 : i64, gemm_tokens = 1152 : i64, words_per_beat = 1 : i64, tile_tokens = 4 : i64, fifo_beats = 256 : i64}
accel.buffer @x {kind = "act", offset = 0 : i64, bytes = 256 : i64}
accel.buffer @h {kind = "act", offset = 256 : i64, bytes = 256 : i64}
accel.schedule @s_gemv attributes {mode = "gemv", tokens = 1 : i64} {
  // expected-error @+1 {{rope without head_dim / theta / max_positions: the unit's HALF and its tables depend on them (lower it with this lower-to-accel)}}
  accel.vector {kind = "rope", inputs = [@x], output = @h, length = 64 : i64, tokens = 1 : i64}
}
