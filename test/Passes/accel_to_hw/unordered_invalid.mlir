// accel-to-hw refuses a schedule whose instructions could overlap on the shared activation
// buffer port (or a data hazard): the ordering is accel-insert-barriers' job, and a netlist
// built from an unordered schedule would compute garbage.
// RUN: accllm-opt %s -p accel-to-hw --verify-diagnostics

accel.engine @engine {target = "sim", channel_bytes = 16777216 : i64, channels = 4 : i64, weight_channels = 4 : i64, kv_channels = 1 : i64, misc_channel = 3 : i64, mac_lanes = 4 : i64, mac_blocks = 4 : i64, lanes_per_channel = 1 : i64, attn_lanes = 8 : i64, act_buffer_bytes = 147456 : i64, kv_buffer_bytes = 73728 : i64, gemm_tokens = 1152 : i64, words_per_beat = 1 : i64, tile_tokens = 4 : i64, fifo_beats = 256 : i64}
accel.hbm_region @a_c0 {kind = "weights", channel = 0 : i64, offset = 0 : i64, bytes = 608 : i64, source = "p.safetensors:a"}
accel.hbm_region @a_c1 {kind = "weights", channel = 1 : i64, offset = 0 : i64, bytes = 608 : i64, source = "p.safetensors:a"}
accel.hbm_region @a_c2 {kind = "weights", channel = 2 : i64, offset = 0 : i64, bytes = 608 : i64, source = "p.safetensors:a"}
accel.hbm_region @a_c3 {kind = "weights", channel = 3 : i64, offset = 0 : i64, bytes = 608 : i64, source = "p.safetensors:a"}
accel.buffer @x {kind = "act", offset = 0 : i64, bytes = 96 : i64}
accel.buffer @y {kind = "act", offset = 96 : i64, bytes = 256 : i64}
accel.schedule @step_gemv attributes {mode = "gemv", tokens = 1 : i64} {
  accel.linear {mode = "gemv", precision = "w2", weights = [@a_c0, @a_c1, @a_c2, @a_c3], input = @x, output = @y, n = 64 : i64, k = 64 : i64, group = 64 : i64, tokens = 1 : i64, rows_per_channel = 16 : i64}
  // expected-error @+1 {{'accel.vector' may overlap commands of units [0] in flight (a data hazard or the shared activation-buffer port): run accel-insert-barriers before accel-to-hw}}
  accel.vector {kind = "requantize", inputs = [@y], output = @x, length = 64 : i64, tokens = 1 : i64}
}
