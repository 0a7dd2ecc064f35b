// Each verifier of the accel dialect, one error per chunk.
// RUN: accllm-opt %s --split-input-file --verify-diagnostics

// expected-error @+1 {{mac_blocks must divide the 36 blocks of a stream word, got 8}}
accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 8, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}

// -----

// The stream engine: every channel may stream weights, and KV regions share the channels.
// expected-error @+1 {{weight_channels exceeds channels}}
accel.engine @engine {target = "sim", channels = 4, weight_channels = 5, kv_channels = 1, misc_channel = 3, mac_lanes = 5, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}

// -----

// expected-error @+1 {{kv_channels exceeds channels}}
accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 5, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}

// -----

// expected-error @+1 {{misc_channel is not a channel of the engine}}
accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 4, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}

// -----

// expected-error @+1 {{mac_lanes must equal lanes_per_channel * weight_channels}}
accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 2, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}

// -----

// Each word of a beat goes to its own lane (u280: 2 words per beat need 2 lanes per channel).
// expected-error @+1 {{lanes_per_channel must be at least words_per_beat (one lane per word of a beat)}}
accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 2, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}

// -----

// expected-error @+1 {{tile_tokens must divide 32 (a tile's exponents share a word)}}
accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 3, fifo_beats = 256, channel_bytes = 1048576}

// -----

// expected-error @+1 {{fifo_beats must be a power of two (stream_fifo DEPTH)}}
accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 384, channel_bytes = 1048576}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
// expected-error @+1 {{offset and bytes must be non-negative multiples of the 32-byte word}}
accel.hbm_region @w {kind = "weights", channel = 0, offset = 16, bytes = 1024}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.hbm_region @a {kind = "weights", channel = 0, offset = 0, bytes = 1024}
// expected-error @+1 {{overlaps @a on channel 0}}
accel.hbm_region @b {kind = "weights", channel = 0, offset = 992, bytes = 64}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
// expected-error @+1 {{channels 4..4 outside the engine's 4}}
accel.hbm_region @w {kind = "kv", channel = 4, offset = 0, bytes = 32}

// -----

// A striped region (a layer's KV rings) is the same byte range on `stripes` channels.
accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
// expected-error @+1 {{channels 2..4 outside the engine's 4}}
accel.hbm_region @kv {kind = "kv", channel = 2, offset = 0, bytes = 768, stripes = 3}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.hbm_region @w1 {kind = "weights", channel = 1, offset = 704, bytes = 64}
// expected-error @+1 {{overlaps @w1 on channel 1}}
accel.hbm_region @kv {kind = "kv", channel = 0, offset = 0, bytes = 768, stripes = 2}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
// expected-error @+1 {{stripes must be > 0, got 0}}
accel.hbm_region @kv {kind = "kv", channel = 0, offset = 0, bytes = 768, stripes = 0}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
// expected-error @+1 {{buffer ends at byte 4128, beyond act_buffer_bytes = 4096}}
accel.buffer @x {kind = "act", offset = 4096, bytes = 32}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
// expected-error @+1 {{a gemv (decode) schedule runs exactly one token}}
accel.schedule @decode attributes {mode = "gemv", tokens = 2} {
  accel.barrier {units = [0]}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.hbm_region @w0 {kind = "weights", channel = 0, offset = 0, bytes = 1152}
accel.hbm_region @w1 {kind = "weights", channel = 1, offset = 0, bytes = 1184}
accel.buffer @h {kind = "act", offset = 0, bytes = 256}
accel.schedule @s attributes {mode = "gemv", tokens = 1} {
  // expected-error @+1 {{@w0 holds 1152 bytes, the stream of 32 rows needs 1184}}
  accel.linear {mode = "gemv", precision = "w2", weights = [@w0, @w1], input = @h, output = @h, n = 64, k = 64, group = 64, tokens = 1, rows_per_channel = 32}
}

// -----

// A bias's two entries per row lengthen the stream: 32 rows need 1344 bytes.
accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.hbm_region @w0 {kind = "weights", channel = 0, offset = 0, bytes = 1184}
accel.hbm_region @w1 {kind = "weights", channel = 1, offset = 0, bytes = 1344}
accel.buffer @h {kind = "act", offset = 0, bytes = 256}
accel.schedule @s attributes {mode = "gemv", tokens = 1} {
  // expected-error @+1 {{@w0 holds 1184 bytes, the stream of 32 rows needs 1344}}
  accel.linear {mode = "gemv", precision = "w2", weights = [@w0, @w1], input = @h, output = @h, n = 64, k = 64, group = 64, tokens = 1, rows_per_channel = 32, bias = "m.safetensors:b"}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.hbm_region @w0 {kind = "weights", channel = 0, offset = 0, bytes = 4096}
accel.buffer @h {kind = "act", offset = 0, bytes = 256}
accel.schedule @s attributes {mode = "gemv", tokens = 1} {
  // expected-error @+1 {{a int8 linear takes no bias (only w2 streams carry one)}}
  accel.linear {mode = "gemv", precision = "int8", weights = [@w0], input = @h, output = @h, n = 8, k = 32, group = 32, tokens = 1, rows_per_channel = 8, bias = "m.safetensors:b"}
}

// -----

// input_k: a K zero-padded within the last activation word (80 -> 96 reads the same 10 words;
// 16 -> 64 would leave 6 words of the row unwritten).
accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.hbm_region @w0 {kind = "weights", channel = 0, offset = 0, bytes = 4096}
accel.buffer @h {kind = "act", offset = 0, bytes = 256}
accel.schedule @s attributes {mode = "gemv", tokens = 1} {
  // expected-error @+1 {{input_k 16 must be a w2 linear's K zero-padded to k = 64 within the last activation word}}
  accel.linear {mode = "gemv", precision = "w2", weights = [@w0], input = @h, output = @h, n = 8, k = 64, group = 32, tokens = 1, rows_per_channel = 8, input_k = 16}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 2, kv_channels = 1, misc_channel = 3, mac_lanes = 2, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.hbm_region @w0 {kind = "weights", channel = 0, offset = 0, bytes = 1184}
accel.hbm_region @w3 {kind = "weights", channel = 3, offset = 0, bytes = 1184}
accel.buffer @h {kind = "act", offset = 0, bytes = 256}
accel.schedule @s attributes {mode = "gemv", tokens = 1} {
  // expected-error @+1 {{weight regions must be on distinct weight channels: [0, 3]}}
  accel.linear {mode = "gemv", precision = "w2", weights = [@w0, @w3], input = @h, output = @h, n = 64, k = 64, group = 64, tokens = 1, rows_per_channel = 32}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.hbm_region @w0 {kind = "weights", channel = 0, offset = 0, bytes = 1184}
accel.buffer @h {kind = "act", offset = 0, bytes = 256}
accel.schedule @s attributes {mode = "gemm", tokens = 4} {
  // expected-error @+1 {{64 rows at 32 per channel need 2 weight regions, got 1}}
  accel.linear {mode = "gemm", precision = "w2", weights = [@w0], input = @h, output = @h, n = 64, k = 64, group = 64, tokens = 4, rows_per_channel = 32}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.hbm_region @w0 {kind = "weights", channel = 0, offset = 0, bytes = 1184}
accel.buffer @h {kind = "act", offset = 0, bytes = 256}
accel.schedule @s attributes {mode = "gemm", tokens = 4} {
  // expected-error @+1 {{@w0 is a 'weights' accel.hbm_region, expected ['kv']}}
  accel.kv_append {kv = @w0, k = @h, v = @h, tokens = 4}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.buffer @h {kind = "act", offset = 0, bytes = 256}
accel.schedule @s attributes {mode = "gemm", tokens = 4} {
  // expected-error @+1 {{'add' takes 2 input buffer(s)}}
  accel.vector {kind = "add", inputs = [@h], output = @h, length = 64, tokens = 4}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.schedule @s attributes {mode = "gemm", tokens = 4} {
  // expected-error @+1 {{units must be a non-empty subset of [0, 1, 2, 3, 4, 5, 6]}}
  accel.barrier {units = [9]}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.buffer @h {kind = "act", offset = 0, bytes = 256}
accel.schedule @s attributes {mode = "gemm", tokens = 4} {
  // expected-error @+1 {{rope head_dim 24 must be even, > 0 and divide length 64}}
  accel.vector {kind = "rope", inputs = [@h], output = @h, length = 64, tokens = 4, head_dim = 24, theta = 10000.0 : f64, max_positions = 256}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 2, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.buffer @h {kind = "act", offset = 0, bytes = 256}
accel.schedule @s attributes {mode = "gemm", tokens = 4} {
  // expected-error @+1 {{inv_freq must hold head_dim/2 = 8 finite positive values, got 2}}
  accel.vector {kind = "rope", inputs = [@h], output = @h, length = 64, tokens = 4, head_dim = 16, theta = 10000.0 : f64, max_positions = 256, inv_freq = array<f64: 1.0, 0.5>}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 2, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.buffer @h {kind = "act", offset = 0, bytes = 256}
accel.schedule @s attributes {mode = "gemm", tokens = 4} {
  // expected-error @+1 {{rope inv_freq needs head_dim (it holds head_dim/2 values)}}
  accel.vector {kind = "rope", inputs = [@h], output = @h, length = 64, tokens = 4, inv_freq = array<f64: 1.0, 0.5>}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 2, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.buffer @h {kind = "act", offset = 0, bytes = 256}
accel.schedule @s attributes {mode = "gemm", tokens = 4} {
  // expected-error @+1 {{inv_freq must be an array<f64: ...>}}
  accel.vector {kind = "rope", inputs = [@h], output = @h, length = 64, tokens = 4, head_dim = 4, inv_freq = array<i64: 1, 2>}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.buffer @h {kind = "act", offset = 0, bytes = 256}
accel.schedule @s attributes {mode = "gemm", tokens = 4} {
  // expected-error @+1 {{only 'rope' takes head_dim / theta / max_positions / inv_freq}}
  accel.vector {kind = "add", inputs = [@h, @h], output = @h, length = 64, tokens = 4, head_dim = 16}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.buffer @h {kind = "act", offset = 0, bytes = 256}
accel.schedule @s attributes {mode = "gemm", tokens = 4} {
  // expected-error @+1 {{only 'rmsnorm' takes gain_shift / eps_q}}
  accel.vector {kind = "requantize", inputs = [@h], output = @h, length = 64, tokens = 4, gain_shift = 3}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.hbm_region @norm0 {kind = "table", channel = 3, offset = 0, bytes = 128}
accel.buffer @h {kind = "act", offset = 0, bytes = 256}
accel.schedule @s attributes {mode = "gemm", tokens = 4} {
  // expected-error @+1 {{rmsnorm gain_shift must be in [0, 47]}}
  accel.vector {kind = "rmsnorm", inputs = [@h], output = @h, table = @norm0, length = 64, tokens = 4, gain_shift = 48, eps_q = 4295}
}

// -----
// The rules the hardware relies on (issue #18): Λ geometry, descriptor field widths, 32-bit RTL
// parameters, buffer sizes against what an instruction reads and writes, RoPE positions,
// artefact names.

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.hbm_region @kv0 {kind = "kv", channel = 2, offset = 0, bytes = 8192}
accel.buffer @q {kind = "act", offset = 0, bytes = 1024}
accel.schedule @s attributes {mode = "gemm", tokens = 4} {
  // expected-error @+1 {{sink must be >= 0, got -1}}
  accel.attention {mode = "gemm", kv = @kv0, q = @q, output = @q, heads = 4, kv_heads = 4, head_dim = 16, sink = -1, window = 12, tokens = 4, k = @q, v = @q}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.hbm_region @kv0 {kind = "kv", channel = 2, offset = 0, bytes = 8192}
accel.buffer @q {kind = "act", offset = 0, bytes = 1024}
accel.schedule @s attributes {mode = "gemm", tokens = 4} {
  // expected-error @+1 {{heads = 2147483648 exceeds 255 (an 8-bit descriptor field)}}
  accel.attention {mode = "gemm", kv = @kv0, q = @q, output = @q, heads = 2147483648, kv_heads = 4, head_dim = 16, sink = 4, window = 12, tokens = 4, k = @q, v = @q}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.hbm_region @kv0 {kind = "kv", channel = 2, offset = 0, bytes = 8192}
accel.buffer @q {kind = "act", offset = 0, bytes = 1024}
accel.schedule @s attributes {mode = "gemm", tokens = 4} {
  // expected-error @+1 {{window = 4294967296 exceeds 2147483647 (a 32-bit RTL parameter)}}
  accel.attention {mode = "gemm", kv = @kv0, q = @q, output = @q, heads = 4, kv_heads = 4, head_dim = 16, sink = 4, window = 4294967296, tokens = 4, k = @q, v = @q}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.hbm_region @kv0 {kind = "kv", channel = 2, offset = 0, bytes = 8192}
accel.buffer @q {kind = "act", offset = 0, bytes = 1024}
accel.schedule @s attributes {mode = "gemm", tokens = 4} {
  // expected-error @+1 {{kv_heads * (sink + window) = 2147483652 KV entries exceed 2147483647 (the 32-bit KV_ENTRIES parameter)}}
  accel.attention {mode = "gemm", kv = @kv0, q = @q, output = @q, heads = 4, kv_heads = 4, head_dim = 16, sink = 1, window = 536870912, tokens = 4, k = @q, v = @q}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.hbm_region @kv0 {kind = "kv", channel = 2, offset = 0, bytes = 8192}
accel.buffer @q {kind = "act", offset = 0, bytes = 1024}
accel.buffer @o {kind = "act", offset = 1024, bytes = 256}
accel.schedule @s attributes {mode = "gemm", tokens = 4} {
  // expected-error @+1 {{@o holds 256 bytes, the Q15.16 output [4x64] needs 1024}}
  accel.attention {mode = "gemm", kv = @kv0, q = @q, output = @o, heads = 4, kv_heads = 4, head_dim = 16, sink = 4, window = 12, tokens = 4, k = @q, v = @q}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.hbm_region @kv0 {kind = "kv", channel = 2, offset = 0, bytes = 8192}
accel.buffer @q {kind = "act", offset = 0, bytes = 256}
accel.buffer @o {kind = "act", offset = 1024, bytes = 1024}
accel.schedule @s attributes {mode = "gemm", tokens = 4} {
  // expected-error @+1 {{@q holds 256 bytes, the Q15.16 query [4x64] needs 1024}}
  accel.attention {mode = "gemm", kv = @kv0, q = @q, output = @o, heads = 4, kv_heads = 4, head_dim = 16, sink = 4, window = 12, tokens = 4, k = @q, v = @q}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.hbm_region @w0 {kind = "weights", channel = 0, offset = 0, bytes = 1184}
accel.hbm_region @w1 {kind = "weights", channel = 1, offset = 0, bytes = 1184}
accel.buffer @x {kind = "act", offset = 0, bytes = 256}
accel.buffer @y {kind = "act", offset = 256, bytes = 32}
accel.schedule @s attributes {mode = "gemv", tokens = 1} {
  // expected-error @+1 {{@y holds 32 bytes, the Q15.16 output [1x64] needs 256}}
  accel.linear {mode = "gemv", precision = "w2", weights = [@w0, @w1], input = @x, output = @y, n = 64, k = 64, group = 64, tokens = 1, rows_per_channel = 32}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.hbm_region @w0 {kind = "weights", channel = 0, offset = 0, bytes = 1184}
accel.hbm_region @w1 {kind = "weights", channel = 1, offset = 0, bytes = 1184}
accel.buffer @x {kind = "act", offset = 0, bytes = 32}
accel.buffer @y {kind = "act", offset = 256, bytes = 256}
accel.schedule @s attributes {mode = "gemv", tokens = 1} {
  // expected-error @+1 {{@x holds 32 bytes, the A8 input [1x64] needs 96}}
  accel.linear {mode = "gemv", precision = "w2", weights = [@w0, @w1], input = @x, output = @y, n = 64, k = 64, group = 64, tokens = 1, rows_per_channel = 32}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.hbm_region @w0 {kind = "weights", channel = 0, offset = 0, bytes = 1184}
accel.hbm_region @w1 {kind = "weights", channel = 1, offset = 0, bytes = 1184}
accel.buffer @x {kind = "act", offset = 0, bytes = 256}
accel.schedule @s attributes {mode = "gemv", tokens = 1} {
  // expected-error @+1 {{n = 1048576 exceeds 1048575 (a 20-bit linear descriptor field)}}
  accel.linear {mode = "gemv", precision = "w2", weights = [@w0, @w1], input = @x, output = @x, n = 1048576, k = 64, group = 64, tokens = 1, rows_per_channel = 524288}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.buffer @h {kind = "act", offset = 0, bytes = 4096}
accel.schedule @s attributes {mode = "gemm", tokens = 8} {
  // expected-error @+1 {{rope positions up to 257 are beyond max_positions = 256}}
  accel.vector {kind = "rope", inputs = [@h], output = @h, length = 64, tokens = 8, position = 250, head_dim = 16, theta = 10000.0 : f64, max_positions = 256}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.buffer @h {kind = "act", offset = 0, bytes = 4096}
accel.schedule @s attributes {mode = "gemm", tokens = 4} {
  // expected-error @+1 {{rope max_positions must be in [1, 1048576] (RoPE table size), got 2147483648}}
  accel.vector {kind = "rope", inputs = [@h], output = @h, length = 64, tokens = 4, head_dim = 16, theta = 10000.0 : f64, max_positions = 2147483648}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.buffer @h {kind = "act", offset = 0, bytes = 4096}
accel.schedule @s attributes {mode = "gemm", tokens = 4} {
  // expected-error @+1 {{tokens = 65536 exceeds 65535 (a 16-bit descriptor field)}}
  accel.vector {kind = "requantize", inputs = [@h], output = @h, length = 64, tokens = 65536}
}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
accel.buffer @h {kind = "act", offset = 0, bytes = 4096}
accel.buffer @o {kind = "act", offset = 0, bytes = 64}
accel.schedule @s attributes {mode = "gemm", tokens = 4} {
  // expected-error @+1 {{@o holds 64 bytes, the output [4x64] needs 256}}
  accel.vector {kind = "requantize", inputs = [@h], output = @o, length = 64, tokens = 4}
}

// -----

// expected-error @+1 {{act_buffer_bytes = 4294967296 exceeds 2147483647 (a 32-bit RTL parameter)}}
accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4294967296, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}

// -----

accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
// expected-error @+1 {{property 'kind' expected}}
accel.hbm_region @a {channel = 0, offset = 0, bytes = 1024}
accel.hbm_region @b {kind = "weights", channel = 0, offset = 0, bytes = 1024}

// -----

// expected-error @+1 {{memory image name '../escape.hex' must be a plain file name ending in .hex}}
builtin.module attributes {accel.mem_images = {"../escape.hex" = "00\0A"}} {
}

// -----

// expected-error @+1 {{memory image name 'filelist.f' must be a plain file name ending in .hex}}
builtin.module attributes {accel.mem_images = {"filelist.f" = "00\0A"}} {
}
