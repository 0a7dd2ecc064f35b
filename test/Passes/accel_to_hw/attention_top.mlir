// accel-to-hw with the attention unit: a W2 linear, a decode-step kv_append + attention (GQA,
// 4 query heads on 2 KV heads of 16, Λ sink 2 + window 6) that do not depend on it, then a
// second linear. stream_linear_unit and attention_unit share act_ram port b and cannot stall
// on it, so the program gets BARRIERs lower-to-accel did not need (no data hazard): mac before
// the kv_append, attn before the second linear; the IR's own barrier (kv before attention)
// stays.
// Port b follows attention_unit while it is busy (kv_cmd_ready low), stream_linear_unit
// otherwise. The decode descriptors take the position from the top's `pos` port (flag 2), and
// so do the prefetchers (their position register).
// RUN: accllm-opt %s -p accel-insert-barriers,accel-to-hw | FileCheck %s
// RUN: accllm-opt %s -p accel-insert-barriers,accel-to-hw | accllm-translate --emit-verilog | FileCheck %s --check-prefix=SV

// program: DISPATCH mac 0, BARRIER {mac}, DISPATCH kv 0, BARRIER {kv}, DISPATCH attn 1,
// BARRIER {attn}, DISPATCH mac 1, HALT; two attention descriptors. Each channel's fetch program
// streams the linear's 19 beats (at byte 0) twice, once per linear, then END: the attention
// reads no HBM stream (its KV stays in attention_unit).
// CHECK:      builtin.module attributes {accel.mem_images = {program.hex = "1000000000000000\0A4000000000000001\0A1200000000000000\0A4000000000000004\0A1100000000000001\0A4000000000000002\0A1000000000000001\0A5000000000000000\0A",
// CHECK-SAME: fetch_c0.hex = "10000000000000000000000000000013\0A10000000000000000000000000000013\0A00000000000000000000000000000000\0A",
// CHECK-SAME: fetch_c3.hex = "10000000000000000000000000000013\0A10000000000000000000000000000013\0A00000000000000000000000000000000\0A",
// CHECK-SAME: linear_desc.hex = "{{[0-9a-f]+}}\0A{{[0-9a-f]+}}\0A", attn_desc.hex = "{{[0-9a-f]+}}\0A{{[0-9a-f]+}}\0A"}
// CHECK-SAME: accel.fetch_programs = {step_gemv = 0 : i32}
// 2 KV heads x 8 slots = 16 records of {V, K}, each 4 x 16 + 12 bits.
// CHECK-SAME: kv_entries = 16 : i32, kv_aw = 4 : i32, kv_record_bits = 152 : i32, rope_head_dim = 0 : i32, rope_theta = 0.000000e+00 : f64, rope_max_pos = 0 : i32, rope_tbl_aw = 0 : i32, data_bits = 256 : i32, table_channel = -1 : i32}}
// CHECK-DAG:  hw.module.extern @attention_unit<SINK: i32, WINDOW: i32, KV_HEADS: i32, HEAD_DIM: i32, KV_ENTRIES: i32, ACT_AW: i32, DESC_AW: i32, POS_W: i32>
// CHECK-DAG:  hw.module.extern @attn_desc_rom<WIDTH: i32, DEPTH: i32, IMAGE: none>({{.*}}) attributes {verilogName = "rom"}
// CHECK-LABEL: hw.module @accllm_top(
// CHECK-SAME: in %fetch_base: i2, in %pos: i32, in %kv_rd_addr: i4,
// CHECK-SAME: out kv_rd_data: i152, out attn_err: i1,
// CHECK:      hw.instance "pf0" @stream_prefetcher({{.*}}start_pc: %fetch_base: i2, pos: %pos: i32,
// CHECK:      hw.instance "pf3" @stream_prefetcher({{.*}}start_pc: %fetch_base: i2, pos: %pos: i32,
// CHECK:      hw.instance "mac" @stream_linear_unit
// CHECK:      %attn_cmd_ready, %attn_done, %attn_kv_cmd_ready, %attn_kv_done, {{.*}} = hw.instance "attn" @attention_unit({{.*}}) {parameters = {SINK = 2 : i32, WINDOW = 6 : i32, KV_HEADS = 2 : i32, HEAD_DIM = 16 : i32, KV_ENTRIES = 16 : i32, ACT_AW = 13 : i32, DESC_AW = 1 : i32, POS_W = 32 : i32}}
// CHECK:      hw.instance "attn_desc" @attn_desc_rom({{.*}}) {parameters = {WIDTH = 256 : i32, DEPTH = 2 : i32, IMAGE = "attn_desc.hex"}}
// CHECK:      comb.mux %attn_kv_cmd_ready, %mac_act_addr, %attn_act_addr : i13
// CHECK-NEXT: comb.mux %attn_kv_cmd_ready, %mac_act_we, %attn_act_we : i1
// CHECK-NEXT: comb.mux %attn_kv_cmd_ready, %mac_act_lane_we, %attn_act_lane_we : i8
// CHECK-NEXT: comb.mux %attn_kv_cmd_ready, %mac_act_wdata, %attn_act_wdata : i256
// CHECK:      hw.instance "act" @act_ram

// SV-LABEL: module accllm_top (
// SV:       attention_unit #(.SINK(2), .WINDOW(6), .KV_HEADS(2), .HEAD_DIM(16), .KV_ENTRIES(16), .ACT_AW(13), .DESC_AW(1), .POS_W(32)) attn (
// SV:       rom #(.WIDTH(256), .DEPTH(2), .IMAGE("attn_desc.hex")) attn_desc (
// SV:       assign {{.*}} = attn_kv_cmd_ready ? mac_act_addr : attn_act_addr;
accel.engine @engine {target = "sim", channel_bytes = 16777216 : i64, channels = 4 : i64, weight_channels = 4 : i64, kv_channels = 1 : i64, misc_channel = 3 : i64, mac_lanes = 4 : i64, mac_blocks = 4 : i64, lanes_per_channel = 1 : i64, attn_lanes = 8 : i64, act_buffer_bytes = 147456 : i64, kv_buffer_bytes = 73728 : i64, gemm_tokens = 1152 : i64, words_per_beat = 1 : i64, tile_tokens = 4 : i64, fifo_beats = 256 : i64}
accel.hbm_region @a_c0 {kind = "weights", channel = 0 : i64, offset = 0 : i64, bytes = 608 : i64, source = "p.safetensors:a"}
accel.hbm_region @a_c1 {kind = "weights", channel = 1 : i64, offset = 0 : i64, bytes = 608 : i64, source = "p.safetensors:a"}
accel.hbm_region @a_c2 {kind = "weights", channel = 2 : i64, offset = 0 : i64, bytes = 608 : i64, source = "p.safetensors:a"}
accel.hbm_region @a_c3 {kind = "weights", channel = 3 : i64, offset = 0 : i64, bytes = 608 : i64, source = "p.safetensors:a"}
accel.hbm_region @kv {kind = "kv", channel = 0 : i64, offset = 608 : i64, bytes = 384 : i64}
accel.buffer @x {kind = "act", offset = 0 : i64, bytes = 96 : i64}
accel.buffer @y {kind = "act", offset = 96 : i64, bytes = 256 : i64}
accel.buffer @q {kind = "act", offset = 352 : i64, bytes = 256 : i64}
accel.buffer @k {kind = "act", offset = 608 : i64, bytes = 128 : i64}
accel.buffer @v {kind = "act", offset = 736 : i64, bytes = 128 : i64}
accel.buffer @o {kind = "act", offset = 864 : i64, bytes = 256 : i64}
accel.buffer @z {kind = "act", offset = 1120 : i64, bytes = 256 : i64}
accel.schedule @step_gemv attributes {mode = "gemv", tokens = 1 : i64} {
  accel.linear {mode = "gemv", precision = "w2", weights = [@a_c0, @a_c1, @a_c2, @a_c3], input = @x, output = @y, n = 64 : i64, k = 64 : i64, group = 64 : i64, tokens = 1 : i64, rows_per_channel = 16 : i64}
  accel.kv_append {kv = @kv, k = @k, v = @v, tokens = 1 : i64}
  accel.barrier {units = [2 : i64]}
  accel.attention {mode = "gemv", kv = @kv, q = @q, output = @o, heads = 4 : i64, kv_heads = 2 : i64, head_dim = 16 : i64, sink = 2 : i64, window = 6 : i64, tokens = 1 : i64}
  accel.linear {mode = "gemv", precision = "w2", weights = [@a_c0, @a_c1, @a_c2, @a_c3], input = @x, output = @z, n = 64 : i64, k = 64 : i64, group = 64 : i64, tokens = 1 : i64, rows_per_channel = 16 : i64}
}
