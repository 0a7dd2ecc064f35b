// accel-to-hw refuses attentions stream_attention_unit cannot run, naming the op: a decode
// attention without its token's K/V (the unit attends only together with the append), a KV
// region smaller than its KV heads' Λ rings (2 heads on 2 channels: one 256-byte ring each, K
// and V codes and scales of 8 slots in 64-byte pieces) or not on a 64-byte boundary, KV
// regions striped from different channels (one
// pipeline per channel for every layer), layers of different geometry (elaboration
// parameters), and a geometry outside the unit's (sink >= 1).
// RUN: accllm-opt %s -p accel-to-hw --split-input-file --verify-diagnostics

accel.engine @engine {target = "sim", channel_bytes = 16777216 : i64, channels = 4 : i64, weight_channels = 4 : i64, kv_channels = 4 : i64, misc_channel = 3 : i64, mac_lanes = 4 : i64, mac_blocks = 4 : i64, lanes_per_channel = 1 : i64, attn_lanes = 8 : i64, act_buffer_bytes = 147456 : i64, kv_buffer_bytes = 73728 : i64, gemm_tokens = 1152 : i64, words_per_beat = 1 : i64, tile_tokens = 4 : i64, fifo_beats = 256 : i64}
accel.hbm_region @kv {kind = "kv", channel = 0 : i64, offset = 0 : i64, bytes = 256 : i64, stripes = 2 : i64}
accel.buffer @q {kind = "act", offset = 0 : i64, bytes = 512 : i64}
accel.buffer @o {kind = "act", offset = 512 : i64, bytes = 512 : i64}
accel.buffer @k {kind = "act", offset = 1024 : i64, bytes = 256 : i64}
accel.buffer @v {kind = "act", offset = 1280 : i64, bytes = 256 : i64}
accel.schedule @s attributes {mode = "gemv", tokens = 1 : i64} {
  // expected-error @+1 {{stream_attention_unit attends only together with the append of the new tokens: this accel.attention needs their k and v (lower-to-accel fuses the kv_append)}}
  accel.attention {mode = "gemv", kv = @kv, q = @q, output = @o, heads = 4 : i64, kv_heads = 2 : i64, head_dim = 16 : i64, sink = 2 : i64, window = 6 : i64, tokens = 1 : i64}
}

// -----

accel.engine @engine {target = "sim", channel_bytes = 16777216 : i64, channels = 4 : i64, weight_channels = 4 : i64, kv_channels = 4 : i64, misc_channel = 3 : i64, mac_lanes = 4 : i64, mac_blocks = 4 : i64, lanes_per_channel = 1 : i64, attn_lanes = 8 : i64, act_buffer_bytes = 147456 : i64, kv_buffer_bytes = 73728 : i64, gemm_tokens = 1152 : i64, words_per_beat = 1 : i64, tile_tokens = 4 : i64, fifo_beats = 256 : i64}
// expected-error @+1 {{KV region of 2 KV heads needs 256 bytes at a 64-byte aligned offset (the Λ rings, tiling.kv_ring)}}
accel.hbm_region @kv {kind = "kv", channel = 0 : i64, offset = 0 : i64, bytes = 192 : i64, stripes = 2 : i64}
accel.buffer @q {kind = "act", offset = 0 : i64, bytes = 512 : i64}
accel.buffer @o {kind = "act", offset = 512 : i64, bytes = 512 : i64}
accel.buffer @k {kind = "act", offset = 1024 : i64, bytes = 256 : i64}
accel.buffer @v {kind = "act", offset = 1280 : i64, bytes = 256 : i64}
accel.schedule @s attributes {mode = "gemv", tokens = 1 : i64} {
  accel.attention {mode = "gemv", kv = @kv, q = @q, output = @o, heads = 4 : i64, kv_heads = 2 : i64, head_dim = 16 : i64, sink = 2 : i64, window = 6 : i64, tokens = 1 : i64, k = @k, v = @v}
}

// -----

accel.engine @engine {target = "sim", channel_bytes = 16777216 : i64, channels = 4 : i64, weight_channels = 4 : i64, kv_channels = 4 : i64, misc_channel = 3 : i64, mac_lanes = 4 : i64, mac_blocks = 4 : i64, lanes_per_channel = 1 : i64, attn_lanes = 8 : i64, act_buffer_bytes = 147456 : i64, kv_buffer_bytes = 73728 : i64, gemm_tokens = 1152 : i64, words_per_beat = 1 : i64, tile_tokens = 4 : i64, fifo_beats = 256 : i64}
// expected-error @+1 {{KV region of 2 KV heads needs 256 bytes at a 64-byte aligned offset (the Λ rings, tiling.kv_ring)}}
accel.hbm_region @kv {kind = "kv", channel = 0 : i64, offset = 32 : i64, bytes = 256 : i64, stripes = 2 : i64}
accel.buffer @q {kind = "act", offset = 0 : i64, bytes = 512 : i64}
accel.buffer @o {kind = "act", offset = 512 : i64, bytes = 512 : i64}
accel.buffer @k {kind = "act", offset = 1024 : i64, bytes = 256 : i64}
accel.buffer @v {kind = "act", offset = 1280 : i64, bytes = 256 : i64}
accel.schedule @s attributes {mode = "gemv", tokens = 1 : i64} {
  accel.attention {mode = "gemv", kv = @kv, q = @q, output = @o, heads = 4 : i64, kv_heads = 2 : i64, head_dim = 16 : i64, sink = 2 : i64, window = 6 : i64, tokens = 1 : i64, k = @k, v = @v}
}

// -----

accel.engine @engine {target = "sim", channel_bytes = 16777216 : i64, channels = 4 : i64, weight_channels = 4 : i64, kv_channels = 4 : i64, misc_channel = 3 : i64, mac_lanes = 4 : i64, mac_blocks = 4 : i64, lanes_per_channel = 1 : i64, attn_lanes = 8 : i64, act_buffer_bytes = 147456 : i64, kv_buffer_bytes = 73728 : i64, gemm_tokens = 1152 : i64, words_per_beat = 1 : i64, tile_tokens = 4 : i64, fifo_beats = 256 : i64}
accel.hbm_region @kv {kind = "kv", channel = 0 : i64, offset = 0 : i64, bytes = 256 : i64, stripes = 2 : i64}
accel.hbm_region @kv2 {kind = "kv", channel = 1 : i64, offset = 256 : i64, bytes = 256 : i64, stripes = 2 : i64}
accel.buffer @q {kind = "act", offset = 0 : i64, bytes = 512 : i64}
accel.buffer @o {kind = "act", offset = 512 : i64, bytes = 512 : i64}
accel.buffer @k {kind = "act", offset = 1024 : i64, bytes = 256 : i64}
accel.buffer @v {kind = "act", offset = 1280 : i64, bytes = 256 : i64}
accel.schedule @s attributes {mode = "gemv", tokens = 1 : i64} {
  // expected-error @+1 {{every KV region must be striped over the same channels from channel 0 (one attention pipeline per channel), got stripes [2] from [0, 1]}}
  accel.attention {mode = "gemv", kv = @kv, q = @q, output = @o, heads = 4 : i64, kv_heads = 2 : i64, head_dim = 16 : i64, sink = 2 : i64, window = 6 : i64, tokens = 1 : i64, k = @k, v = @v}
  accel.barrier {units = [1 : i64]}
  accel.attention {mode = "gemv", kv = @kv2, q = @q, output = @o, heads = 4 : i64, kv_heads = 2 : i64, head_dim = 16 : i64, sink = 2 : i64, window = 6 : i64, tokens = 1 : i64, k = @k, v = @v}
}

// -----

accel.engine @engine {target = "sim", channel_bytes = 16777216 : i64, channels = 4 : i64, weight_channels = 4 : i64, kv_channels = 4 : i64, misc_channel = 3 : i64, mac_lanes = 4 : i64, mac_blocks = 4 : i64, lanes_per_channel = 1 : i64, attn_lanes = 8 : i64, act_buffer_bytes = 147456 : i64, kv_buffer_bytes = 73728 : i64, gemm_tokens = 1152 : i64, words_per_beat = 1 : i64, tile_tokens = 4 : i64, fifo_beats = 256 : i64}
accel.hbm_region @kv {kind = "kv", channel = 0 : i64, offset = 0 : i64, bytes = 256 : i64, stripes = 2 : i64}
accel.hbm_region @kv2 {kind = "kv", channel = 0 : i64, offset = 256 : i64, bytes = 512 : i64, stripes = 2 : i64}
accel.buffer @q {kind = "act", offset = 0 : i64, bytes = 512 : i64}
accel.buffer @o {kind = "act", offset = 512 : i64, bytes = 512 : i64}
accel.buffer @k {kind = "act", offset = 1024 : i64, bytes = 256 : i64}
accel.buffer @v {kind = "act", offset = 1280 : i64, bytes = 256 : i64}
accel.schedule @s attributes {mode = "gemv", tokens = 1 : i64} {
  // expected-error @+1 {{attention layers with different (head_dim, sink, window) [(16, 2, 6), (16, 2, 14)]: stream_attention_unit fixes them at elaboration}}
  accel.attention {mode = "gemv", kv = @kv, q = @q, output = @o, heads = 4 : i64, kv_heads = 2 : i64, head_dim = 16 : i64, sink = 2 : i64, window = 6 : i64, tokens = 1 : i64, k = @k, v = @v}
  accel.barrier {units = [1 : i64]}
  accel.attention {mode = "gemv", kv = @kv2, q = @q, output = @o, heads = 4 : i64, kv_heads = 2 : i64, head_dim = 16 : i64, sink = 2 : i64, window = 14 : i64, tokens = 1 : i64, k = @k, v = @v}
}

// -----

accel.engine @engine {target = "sim", channel_bytes = 16777216 : i64, channels = 4 : i64, weight_channels = 4 : i64, kv_channels = 4 : i64, misc_channel = 3 : i64, mac_lanes = 4 : i64, mac_blocks = 4 : i64, lanes_per_channel = 1 : i64, attn_lanes = 8 : i64, act_buffer_bytes = 147456 : i64, kv_buffer_bytes = 73728 : i64, gemm_tokens = 1152 : i64, words_per_beat = 1 : i64, tile_tokens = 4 : i64, fifo_beats = 256 : i64}
accel.hbm_region @kv {kind = "kv", channel = 0 : i64, offset = 0 : i64, bytes = 256 : i64, stripes = 2 : i64}
accel.buffer @q {kind = "act", offset = 0 : i64, bytes = 512 : i64}
accel.buffer @o {kind = "act", offset = 512 : i64, bytes = 512 : i64}
accel.buffer @k {kind = "act", offset = 1024 : i64, bytes = 256 : i64}
accel.buffer @v {kind = "act", offset = 1280 : i64, bytes = 256 : i64}
accel.schedule @s attributes {mode = "gemv", tokens = 1 : i64} {
  // expected-error @+1 {{stream_attention_unit needs sink >= 1, window >= 2 and a power-of-two head_dim >= 8, got sink=0, window=6, head_dim=16}}
  accel.attention {mode = "gemv", kv = @kv, q = @q, output = @o, heads = 4 : i64, kv_heads = 2 : i64, head_dim = 16 : i64, sink = 0 : i64, window = 6 : i64, tokens = 1 : i64, k = @k, v = @v}
}
