// Every accel op round-trips in custom and generic form: a one-layer-ish schedule on the sim
// stream engine (4 channels, each streaming weights through its prefetcher; 1 lane of 4 blocks
// per channel, 1 word per beat, GEMM tiles of 4 tokens, 256-beat prefetch FIFOs).
// RUN: accllm-opt %s | FileCheck %s
// RUN: accllm-opt %s | accllm-opt | FileCheck %s
// RUN: accllm-opt %s --print-op-generic | accllm-opt | FileCheck %s

// CHECK: accel.engine @engine {target = "sim", channels = 4 : i64, weight_channels = 4 : i64, kv_channels = 1 : i64, misc_channel = 3 : i64, mac_lanes = 4 : i64, mac_blocks = 4 : i64, lanes_per_channel = 1 : i64, attn_lanes = 8 : i64, act_buffer_bytes = 4096 : i64, kv_buffer_bytes = 2048 : i64, gemm_tokens = 8 : i64, words_per_beat = 1 : i64, tile_tokens = 4 : i64, fifo_beats = 256 : i64, channel_bytes = 1048576 : i64}
accel.engine @engine {target = "sim", channels = 4, weight_channels = 4, kv_channels = 1, misc_channel = 3, mac_lanes = 4, mac_blocks = 4, lanes_per_channel = 1, attn_lanes = 8, act_buffer_bytes = 4096, kv_buffer_bytes = 2048, gemm_tokens = 8, words_per_beat = 1, tile_tokens = 4, fifo_beats = 256, channel_bytes = 1048576}
// Channel c's stream of rows [32c, 32c + 32) on one lane: 32 passes of one weight word, plus the
// lane's 2 metadata entries per row (64 entries, 14 per word: 5 words) = 37 words.
// CHECK: accel.hbm_region @wq_c0 {kind = "weights", channel = 0 : i64, offset = 0 : i64, bytes = 1184 : i64, source = "tiny.safetensors:q_proj"}
accel.hbm_region @wq_c0 {kind = "weights", channel = 0, offset = 0, bytes = 1184, source = "tiny.safetensors:q_proj"}
// CHECK: accel.hbm_region @wq_c1 {kind = "weights", channel = 1 : i64, offset = 0 : i64, bytes = 1184 : i64, source = "tiny.safetensors:q_proj"}
accel.hbm_region @wq_c1 {kind = "weights", channel = 1, offset = 0, bytes = 1184, source = "tiny.safetensors:q_proj"}
// A biased linear's rows carry 2 more entries (the Q15.16 bias's halves): 32 x 4 entries = 10
// words, 42 words per channel.
// CHECK: accel.hbm_region @wk_c0 {kind = "weights", channel = 2 : i64, offset = 0 : i64, bytes = 1344 : i64, source = "tiny.safetensors:k_proj"}
accel.hbm_region @wk_c0 {kind = "weights", channel = 2, offset = 0, bytes = 1344, source = "tiny.safetensors:k_proj"}
accel.hbm_region @wk_c1 {kind = "weights", channel = 3, offset = 256, bytes = 1344, source = "tiny.safetensors:k_proj"}
// CHECK: accel.hbm_region @norm0 {kind = "table", channel = 3 : i64, offset = 0 : i64, bytes = 256 : i64}
accel.hbm_region @norm0 {kind = "table", channel = 3, offset = 0, bytes = 256}
// KV regions share the weight channels: a layer's rings striped over channels 0 and 1, after
// the weights.
// CHECK: accel.hbm_region @kv0 {kind = "kv", channel = 0 : i64, offset = 1184 : i64, bytes = 8192 : i64, stripes = 2 : i64}
accel.hbm_region @kv0 {kind = "kv", channel = 0, offset = 1184, bytes = 8192, stripes = 2}
// CHECK: accel.buffer @x {kind = "act", offset = 0 : i64, bytes = 1024 : i64}
accel.buffer @x {kind = "act", offset = 0, bytes = 1024}
accel.buffer @h {kind = "act", offset = 1024, bytes = 1024}
accel.buffer @q {kind = "act", offset = 2048, bytes = 1024}
// CHECK: accel.schedule @prefill attributes {mode = "gemm", tokens = 4 : i64} {
accel.schedule @prefill attributes {mode = "gemm", tokens = 4} {
  // CHECK-NEXT: accel.vector {kind = "rmsnorm", inputs = [@x], output = @h, table = @norm0, length = 64 : i64, tokens = 4 : i64}
  accel.vector {kind = "rmsnorm", inputs = [@x], output = @h, table = @norm0, length = 64, tokens = 4}
  // CHECK-NEXT: accel.vector {kind = "rmsnorm", inputs = [@x], output = @h, table = @norm0, length = 64 : i64, tokens = 4 : i64, gain_shift = 14 : i64, eps_q = 4295 : i64}
  accel.vector {kind = "rmsnorm", inputs = [@x], output = @h, table = @norm0, length = 64, tokens = 4, gain_shift = 14, eps_q = 4295}
  // CHECK-NEXT: accel.vector {kind = "rope", inputs = [@h], output = @x, length = 64 : i64, tokens = 4 : i64, position = 0 : i64, head_dim = 16 : i64, theta = 1.000000e+04 : f64, max_positions = 256 : i64}
  accel.vector {kind = "rope", inputs = [@h], output = @x, length = 64, tokens = 4, position = 0, head_dim = 16, theta = 10000.0 : f64, max_positions = 256}
  // Scaled RoPE: the model's own frequencies (head_dim/2 of them) for the loader's tables.
  // CHECK-NEXT: accel.vector {kind = "rope", inputs = [@h], output = @x, length = 64 : i64, tokens = 4 : i64, head_dim = 16 : i64, theta = 5.000000e+05 : f64, max_positions = 256 : i64, inv_freq = array<f64: 1.000000e+00, 5.000000e-01, 2.500000e-01, 1.250000e-01, 6.250000e-02, 3.125000e-02, 1.562500e-02, 7.812500e-03>}
  accel.vector {kind = "rope", inputs = [@h], output = @x, length = 64, tokens = 4, head_dim = 16, theta = 500000.0 : f64, max_positions = 256, inv_freq = array<f64: 1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625, 0.0078125>}
  // CHECK-NEXT: accel.barrier {units = [3 : i64]}
  accel.barrier {units = [3]}
  // CHECK-NEXT: accel.linear {mode = "gemm", precision = "w2", weights = [@wq_c0, @wq_c1], input = @h, output = @q, n = 64 : i64, k = 64 : i64, group = 64 : i64, tokens = 4 : i64, rows_per_channel = 32 : i64}
  accel.linear {mode = "gemm", precision = "w2", weights = [@wq_c0, @wq_c1], input = @h, output = @q, n = 64, k = 64, group = 64, tokens = 4, rows_per_channel = 32}
  // CHECK-NEXT: accel.linear {mode = "gemm", precision = "w2", weights = [@wk_c0, @wk_c1], input = @h, output = @q, n = 64 : i64, k = 64 : i64, group = 64 : i64, tokens = 4 : i64, rows_per_channel = 32 : i64, bias = "tiny.safetensors:k_proj.bias"}
  accel.linear {mode = "gemm", precision = "w2", weights = [@wk_c0, @wk_c1], input = @h, output = @q, n = 64, k = 64, group = 64, tokens = 4, rows_per_channel = 32, bias = "tiny.safetensors:k_proj.bias"}
  // CHECK-NEXT: accel.kv_append {kv = @kv0, k = @q, v = @q, tokens = 4 : i64}
  accel.kv_append {kv = @kv0, k = @q, v = @q, tokens = 4}
  // CHECK-NEXT: accel.attention {mode = "gemm", kv = @kv0, q = @q, output = @h, heads = 4 : i64, kv_heads = 4 : i64, head_dim = 16 : i64, sink = 4 : i64, window = 12 : i64, tokens = 4 : i64, k = @q, v = @q}
  accel.attention {mode = "gemm", kv = @kv0, q = @q, output = @h, heads = 4, kv_heads = 4, head_dim = 16, sink = 4, window = 12, tokens = 4, k = @q, v = @q}
  // CHECK-NEXT: accel.vector {kind = "add", inputs = [@x, @h], output = @x, length = 64 : i64, tokens = 4 : i64}
  accel.vector {kind = "add", inputs = [@x, @h], output = @x, length = 64, tokens = 4}
}
