// The optional first position of accel.attention / accel.kv_append (absent = the position
// register) must fit the descriptors' 32-bit signed pos_base; a multi-token attention carries its
// tokens' K and V (k and v, together).
// RUN: accllm-opt %s --split-input-file --verify-diagnostics

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 147456, kv_buffer_bytes = 73728, gemm_tokens = 1152, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 16777216}
accel.hbm_region @kv {kind = "kv", channel = 0, offset = 0, bytes = 384}
accel.buffer @k {kind = "act", offset = 0, bytes = 512}
accel.buffer @v {kind = "act", offset = 512, bytes = 512}
accel.schedule @s attributes {mode = "gemm", tokens = 2} {
  // expected-error @+1 {{position must be in [0, 2^31), got -1}}
  accel.kv_append {kv = @kv, k = @k, v = @v, tokens = 2, position = -1}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 147456, kv_buffer_bytes = 73728, gemm_tokens = 1152, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 16777216}
accel.hbm_region @kv {kind = "kv", channel = 0, offset = 0, bytes = 384}
accel.buffer @q {kind = "act", offset = 0, bytes = 512}
accel.buffer @o {kind = "act", offset = 512, bytes = 512}
accel.schedule @s attributes {mode = "gemv", tokens = 1} {
  // expected-error @+1 {{position must be in [0, 2^31), got 2147483648}}
  accel.attention {mode = "gemv", kv = @kv, q = @q, output = @o, heads = 4, kv_heads = 2, head_dim = 16, sink = 2, window = 6, tokens = 1, position = 2147483648}
}

// -----

// A multi-token attention appends its tokens itself (each right before its query attends).
accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 147456, kv_buffer_bytes = 73728, gemm_tokens = 1152, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 16777216}
accel.hbm_region @kv {kind = "kv", channel = 0, offset = 0, bytes = 384}
accel.buffer @q {kind = "act", offset = 0, bytes = 1024}
accel.buffer @o {kind = "act", offset = 1024, bytes = 1024}
accel.schedule @s attributes {mode = "gemm", tokens = 4} {
  // expected-error @+1 {{an attention of 4 tokens appends them itself: it needs their K and V rows (k, v)}}
  accel.attention {mode = "gemm", kv = @kv, q = @q, output = @o, heads = 4, kv_heads = 2, head_dim = 16, sink = 2, window = 6, tokens = 4}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 147456, kv_buffer_bytes = 73728, gemm_tokens = 1152, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 16777216}
accel.hbm_region @kv {kind = "kv", channel = 0, offset = 0, bytes = 384}
accel.buffer @q {kind = "act", offset = 0, bytes = 1024}
accel.buffer @o {kind = "act", offset = 1024, bytes = 1024}
accel.schedule @s attributes {mode = "gemm", tokens = 4} {
  // expected-error @+1 {{k and v come together (the tokens' K and V rows)}}
  accel.attention {mode = "gemm", kv = @kv, q = @q, output = @o, heads = 4, kv_heads = 2, head_dim = 16, sink = 2, window = 6, tokens = 4, k = @q}
}
