// accel-insert-barriers: the ordering of a schedule as IR.
// Default (serialize): one engine instance computes at a time (they share the activation
// buffer's port), data hazards are then covered too. serialize=false: only data hazards
// (RAW, WAR, WAW by byte range, so buffers that reuse freed bytes alias) and the KV region.
// RUN: accllm-opt %s -p accel-insert-barriers | FileCheck %s
// RUN: accllm-opt %s -p 'accel-insert-barriers{serialize=false}' | FileCheck %s --check-prefix=DATA
// Idempotent: the barriers it added order the schedule, so a second run adds none.
// RUN: accllm-opt %s -p accel-insert-barriers,accel-insert-barriers | FileCheck %s

accel.engine @engine {target = "sim", channel_bytes = 16777216 : i64, channels = 4 : i64, weight_channels = 4 : i64, kv_channels = 1 : i64, misc_channel = 3 : i64, mac_lanes = 4 : i64, mac_blocks = 4 : i64, lanes_per_channel = 1 : i64, attn_lanes = 8 : i64, act_buffer_bytes = 147456 : i64, kv_buffer_bytes = 73728 : i64, gemm_tokens = 1152 : i64, words_per_beat = 1 : i64, tile_tokens = 4 : i64, fifo_beats = 256 : i64}
accel.hbm_region @a_c0 {kind = "weights", channel = 0 : i64, offset = 0 : i64, bytes = 1184 : i64, source = "p.safetensors:a"}
accel.hbm_region @a_c1 {kind = "weights", channel = 1 : i64, offset = 0 : i64, bytes = 1184 : i64, source = "p.safetensors:a"}
accel.hbm_region @kv {kind = "kv", channel = 0 : i64, offset = 1184 : i64, bytes = 384 : i64}
accel.buffer @x {kind = "act", offset = 0 : i64, bytes = 96 : i64}
accel.buffer @y {kind = "act", offset = 96 : i64, bytes = 256 : i64}
accel.buffer @q {kind = "act", offset = 352 : i64, bytes = 256 : i64}
accel.buffer @k {kind = "act", offset = 608 : i64, bytes = 128 : i64}
accel.buffer @v {kind = "act", offset = 736 : i64, bytes = 128 : i64}
accel.buffer @o {kind = "act", offset = 864 : i64, bytes = 256 : i64}
// @z reuses @y's bytes (a buffer allocated after @y died): writing it waits for @y's readers.
accel.buffer @z {kind = "act", offset = 96 : i64, bytes = 96 : i64}
accel.schedule @step_gemv attributes {mode = "gemv", tokens = 1 : i64} {
  accel.linear {mode = "gemv", precision = "w2", weights = [@a_c0, @a_c1], input = @x, output = @y, n = 64 : i64, k = 64 : i64, group = 64 : i64, tokens = 1 : i64, rows_per_channel = 32 : i64}
  accel.vector {kind = "requantize", inputs = [@y], output = @x, length = 64 : i64, tokens = 1 : i64}
  accel.kv_append {kv = @kv, k = @k, v = @v, tokens = 1 : i64}
  accel.attention {mode = "gemv", kv = @kv, q = @q, output = @o, heads = 4 : i64, kv_heads = 2 : i64, head_dim = 16 : i64, sink = 2 : i64, window = 6 : i64, tokens = 1 : i64}
  accel.linear {mode = "gemv", precision = "w2", weights = [@a_c0, @a_c1], input = @q, output = @z, n = 24 : i64, k = 64 : i64, group = 64 : i64, tokens = 1 : i64, rows_per_channel = 12 : i64}
}

// CHECK-LABEL: accel.schedule @step_gemv
// CHECK-NEXT:    accel.linear {{.*}}output = @y
// CHECK-NEXT:    accel.barrier {units = [0 : i64]}
// CHECK-NEXT:    accel.vector {kind = "requantize"
// CHECK-NEXT:    accel.barrier {units = [6 : i64]}
// CHECK-NEXT:    accel.kv_append
// kv and attn are one instance (attention_unit, in order): no barrier between them when only
// serialising instances, but the KV region written by kv_append is read by attention.
// CHECK-NEXT:    accel.barrier {units = [2 : i64]}
// CHECK-NEXT:    accel.attention
// CHECK-NEXT:    accel.barrier {units = [1 : i64]}
// CHECK-NEXT:    accel.linear {{.*}}output = @z
// CHECK-NEXT:  }

// Data hazards only: requantize reads @y (RAW on mac) and writes @x, which the first linear
// read (WAR, same barrier); kv_append touches none of the earlier bytes; attention reads the
// KV region kv_append wrote; the last linear writes @z over @y, still read by requantize
// (unit 6) -- a WAR through reuse -- and reads @q, which nobody wrote.
// DATA-LABEL: accel.schedule @step_gemv
// DATA-NEXT:    accel.linear {{.*}}output = @y
// DATA-NEXT:    accel.barrier {units = [0 : i64]}
// DATA-NEXT:    accel.vector {kind = "requantize"
// DATA-NEXT:    accel.kv_append
// DATA-NEXT:    accel.barrier {units = [2 : i64]}
// DATA-NEXT:    accel.attention
// DATA-NEXT:    accel.barrier {units = [6 : i64]}
// DATA-NEXT:    accel.linear {{.*}}output = @z
// DATA-NEXT:  }
