// The remaining rules of the accel verifiers (test/dialects/test_verifier_coverage.py checks
// that each message has a case here).
// RUN: accllm-opt %s --split-input-file --verify-diagnostics

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
// expected-error @+1 {{kind must be one of ['weights', 'kv', 'table', 'program'], got 'bogus'}}
accel.hbm_region @w {kind = "bogus", channel = 0, offset = 0, bytes = 32}

// -----

// expected-error @+1 {{the module must hold exactly one accel.engine, found 0}}
accel.buffer @x {kind = "act", offset = 0, bytes = 32}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
// expected-error @+1 {{region ends at byte 1048608, beyond the channel's 1048576}}
accel.hbm_region @w {kind = "weights", channel = 0, offset = 1048576, bytes = 32}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.hbm_region @w0 {kind = "weights", channel = 0, offset = 0, bytes = 1184}
accel.hbm_region @w1 {kind = "weights", channel = 1, offset = 0, bytes = 1184}
accel.buffer @y {kind = "act", offset = 0, bytes = 256}
accel.schedule @s attributes {mode = "gemv", tokens = 1} {
  // expected-error @+1 {{@w0 does not name an 'accel.buffer'}}
  accel.linear {mode = "gemv", precision = "w2", weights = [@w0, @w1], input = @w0, output = @y, n = 64, k = 64, group = 64, tokens = 1, rows_per_channel = 32}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.hbm_region @w0 {kind = "weights", channel = 0, offset = 0, bytes = 1184}
accel.hbm_region @w1 {kind = "weights", channel = 1, offset = 0, bytes = 1184}
accel.buffer @x {kind = "act", offset = 0, bytes = 288}
accel.buffer @y {kind = "act", offset = 288, bytes = 1024}
accel.schedule @s attributes {mode = "gemm", tokens = 2} {
  // expected-error @+1 {{mode gemv with 2 tokens (gemv is exactly one token)}}
  accel.linear {mode = "gemv", precision = "w2", weights = [@w0, @w1], input = @x, output = @y, n = 64, k = 64, group = 64, tokens = 2, rows_per_channel = 32}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.hbm_region @w0 {kind = "weights", channel = 0, offset = 0, bytes = 1184}
accel.hbm_region @w1 {kind = "weights", channel = 1, offset = 0, bytes = 1184}
accel.buffer @x {kind = "act", offset = 0, bytes = 1024}
accel.buffer @y {kind = "act", offset = 1024, bytes = 3072}
accel.schedule @s attributes {mode = "gemm", tokens = 9} {
  // expected-error @+1 {{9 tokens exceed the engine's token limit (gemm_tokens) of 8}}
  accel.linear {mode = "gemm", precision = "w2", weights = [@w0, @w1], input = @x, output = @y, n = 64, k = 64, group = 64, tokens = 9, rows_per_channel = 32}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.hbm_region @w0 {kind = "weights", channel = 0, offset = 0, bytes = 1184}
accel.hbm_region @w1 {kind = "weights", channel = 1, offset = 0, bytes = 1184}
accel.buffer @x {kind = "act", offset = 0, bytes = 96}
accel.buffer @y {kind = "act", offset = 96, bytes = 256}
accel.schedule @s attributes {mode = "gemv", tokens = 1} {
  // expected-error @+1 {{group 48 does not divide k = 64}}
  accel.linear {mode = "gemv", precision = "w2", weights = [@w0, @w1], input = @x, output = @y, n = 64, k = 64, group = 48, tokens = 1, rows_per_channel = 32}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.hbm_region @kv0 {kind = "kv", channel = 0, offset = 0, bytes = 8192}
accel.buffer @q {kind = "act", offset = 0, bytes = 1024}
accel.schedule @s attributes {mode = "gemv", tokens = 1} {
  // expected-error @+1 {{heads must be a multiple of kv_heads (GQA)}}
  accel.attention {mode = "gemv", kv = @kv0, q = @q, output = @q, heads = 4, kv_heads = 3, head_dim = 16, sink = 4, window = 12, tokens = 1}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.buffer @h {kind = "act", offset = 0, bytes = 256}
accel.schedule @s attributes {mode = "gemm", tokens = 4} {
  // expected-error @+1 {{'rmsnorm' needs a table (HBM region)}}
  accel.vector {kind = "rmsnorm", inputs = [@h], output = @h, length = 64, tokens = 4}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.buffer @h {kind = "act", offset = 0, bytes = 256}
accel.schedule @s attributes {mode = "gemm", tokens = 4} {
  // expected-error @+1 {{only 'rope' takes a position, and it must be >= 0}}
  accel.vector {kind = "requantize", inputs = [@h], output = @h, length = 64, tokens = 4, position = 0}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.buffer @h {kind = "act", offset = 0, bytes = 1024}
accel.schedule @s attributes {mode = "gemm", tokens = 4} {
  // expected-error @+1 {{rope theta must be > 0}}
  accel.vector {kind = "rope", inputs = [@h], output = @h, length = 64, tokens = 4, head_dim = 16, theta = 0.0 : f64, max_positions = 256}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.hbm_region @norm0 {kind = "table", channel = 3, offset = 0, bytes = 128}
accel.buffer @h {kind = "act", offset = 0, bytes = 256}
accel.schedule @s attributes {mode = "gemm", tokens = 4} {
  // expected-error @+1 {{rmsnorm eps_q must be in [0, 2^32)}}
  accel.vector {kind = "rmsnorm", inputs = [@h], output = @h, table = @norm0, length = 64, tokens = 4, gain_shift = 14, eps_q = 4294967296}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
// expected-error @+1 {{'accel.buffer' is not an accel instruction}}
accel.schedule @s attributes {mode = "gemm", tokens = 4} {
  accel.buffer @h {kind = "act", offset = 0, bytes = 256}
}
