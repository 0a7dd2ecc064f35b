// accel-to-hw with the attention unit: a W2 linear, a decode-step attention (GQA, 4 query
// heads on 2 KV heads of 16, Λ sink 2 + window 6) that appends its token itself (k, v) and
// does not depend on the linear, then a second linear. stream_linear_unit and
// stream_attention_unit share act_ram port b and cannot stall on it, so the program gets
// BARRIERs lower-to-accel did not need (no data hazard): mac before attn, attn before the
// second linear. Port b follows the attention unit while it is busy (cmd_ready low),
// stream_linear_unit otherwise. The layer's KV rings are striped over channels 0 and 1 (KV
// head h on channel h): two attention pipelines, fed by demux output 1 (attn) of channels 0
// and 1, each appending through an axi_write_master on its channel's write port. The decode
// descriptor and the prefetchers take the position from the top's `pos` port.
// RUN: accllm-opt %s -p accel-insert-barriers,accel-to-hw | FileCheck %s
// RUN: accllm-opt %s -p accel-insert-barriers,accel-to-hw | accllm-translate --emit-verilog | FileCheck %s --check-prefix=SV

// program: DISPATCH mac 0, BARRIER {mac}, DISPATCH attn 0, BARRIER {attn}, DISPATCH mac 1,
// HALT; one attention descriptor. Channels 0 and 1 stream, in consumption order, the first
// linear's 19 beats, KV head c's cached slots at the position register (RING entries, tag 1,
// capacity 8: K scales of 2 B per slot at 640 + 64, K codes of 8 B at 640, V scales at
// 640 + 192, V codes at 640 + 128), the second linear's 19 beats; channels 2 and 3 the
// linears only.
// CHECK:      builtin.module attributes {accel.mem_images = {program.hex = "1000000000000000\0A4000000000000001\0A1100000000000000\0A4000000000000002\0A1000000000000001\0A5000000000000000\0A",
// CHECK-SAME: fetch_c0.hex = "10000000000000000000000000000013\0A20100000000002c00000000800000002\0A20100000000002800000000800000008\0A20100000000003400000000800000002\0A20100000000003000000000800000008\0A10000000000000000000000000000013\0A00000000000000000000000000000000\0A",
// CHECK-SAME: fetch_c1.hex = "10000000000000000000000000000013\0A20100000000002c00000000800000002\0A20100000000002800000000800000008\0A20100000000003400000000800000002\0A20100000000003000000000800000008\0A10000000000000000000000000000013\0A00000000000000000000000000000000\0A",
// CHECK-SAME: fetch_c2.hex = "10000000000000000000000000000013\0A10000000000000000000000000000013\0A00000000000000000000000000000000\0A",
// CHECK-SAME: fetch_c3.hex = "10000000000000000000000000000013\0A10000000000000000000000000000013\0A00000000000000000000000000000000\0A",
// CHECK-SAME: linear_desc.hex = "{{[0-9a-f]+}}\0A{{[0-9a-f]+}}\0A", attn_desc.hex = "{{[0-9a-f]+}}\0A"}
// CHECK-SAME: accel.fetch_programs = {step_gemv = 0 : i32}
// CHECK-SAME: kv_pipes = 2 : i32, rope_head_dim = 0 : i32, rope_inv_freq = array<f64>, rope_max_pos = 0 : i32, rope_tbl_aw = 0 : i32, data_bits = 256 : i32, table_channel = -1 : i32}}
// CHECK-DAG:  hw.module.extern @stream_attention_unit<PIPES: i32, SINK: i32, WINDOW: i32, HEAD_DIM: i32, DW: i32, KV_HEADS: i32, REP_MAX: i32, TMAX: i32, ACT_AW: i32, DESC_AW: i32, POS_W: i32>
// CHECK-DAG:  hw.module.extern @attn_desc_rom<WIDTH: i32, DEPTH: i32, IMAGE: none>({{.*}}) attributes {verilogName = "rom"}
// CHECK-DAG:  hw.module.extern @axi_write_master<
// CHECK-NOT:  @attention_unit
// CHECK-LABEL: hw.module @accllm_top(
// CHECK-SAME: in %fetch_base: i3, in %pos: i32,
// CHECK-SAME: in %hbm0_rlast: i1, in %hbm0_awready: i1, in %hbm0_wready: i1, in %hbm0_bvalid: i1, in %hbm0_bresp: i2,
// CHECK-SAME: in %hbm1_rlast: i1, in %hbm1_awready: i1, in %hbm1_wready: i1, in %hbm1_bvalid: i1, in %hbm1_bresp: i2, in %hbm2_arready: i1,
// CHECK-SAME: in %hbm2_rlast: i1, in %hbm3_arready: i1,
// CHECK-SAME: out hbm1_awvalid: i1, out hbm1_awaddr: i24, out hbm1_awlen: i8, out hbm1_awsize: i3, out hbm1_awburst: i2, out hbm1_wvalid: i1, out hbm1_wdata: i256, out hbm1_wstrb: i32, out hbm1_wlast: i1, out hbm1_bready: i1, out attn_err: i1,
// CHECK:      hw.instance "pf0" @stream_prefetcher({{.*}}start_pc: %fetch_base: i3, pos: %pos: i32,
// CHECK:      hw.instance "pf3" @stream_prefetcher({{.*}}start_pc: %fetch_base: i3, pos: %pos: i32,
// CHECK:      hw.instance "mac" @stream_linear_unit
// CHECK:      [[A1:%[0-9]+]] = comb.extract %dmx1_m_valid from 1 :  (i2) -> i1
// CHECK-NEXT: [[A0:%[0-9]+]] = comb.extract %dmx0_m_valid from 1 :  (i2) -> i1
// CHECK-NEXT: [[AV:%[0-9]+]] = comb.concat [[A1]], [[A0]] : i1, i1
// CHECK-NEXT: [[AD:%[0-9]+]] = comb.concat %dmx1_m_data, %dmx0_m_data : i256, i256
// CHECK-NEXT: %attn_cmd_ready, %attn_done, {{.*}}, %attn_s_ready, {{.*}} = hw.instance "attn" @stream_attention_unit({{.*}}pos: %pos: i32, {{.*}}s_valid: [[AV]]: i2, s_data: [[AD]]: i512, {{.*}}) {parameters = {PIPES = 2 : i32, SINK = 2 : i32, WINDOW = 6 : i32, HEAD_DIM = 16 : i32, DW = 256 : i32, KV_HEADS = 2 : i32, REP_MAX = 2 : i32, TMAX = 1 : i32, ACT_AW = 13 : i32, DESC_AW = 1 : i32, POS_W = 32 : i32}}
// CHECK:      hw.instance "attn_desc" @attn_desc_rom({{.*}}) {parameters = {WIDTH = 256 : i32, DEPTH = 2 : i32, IMAGE = "attn_desc.hex"}}
// CHECK:      hw.instance "kvw0" @axi_write_master({{.*}}m_axi_awready: %hbm0_awready: i1,
// CHECK:      hw.instance "kvw1" @axi_write_master({{.*}}m_axi_awready: %hbm1_awready: i1,
// CHECK-NOT:  hw.instance "kvw2"
// CHECK:      comb.mux %attn_cmd_ready, %mac_act_addr, %attn_act_addr : i13
// CHECK-NEXT: comb.mux %attn_cmd_ready, %mac_act_we, %attn_act_we : i1
// CHECK-NEXT: comb.mux %attn_cmd_ready, %mac_act_lane_we, %attn_act_lane_we : i8
// CHECK-NEXT: comb.mux %attn_cmd_ready, %mac_act_wdata, %attn_act_wdata : i256
// CHECK:      hw.instance "act" @act_ram

// SV-LABEL: module accllm_top (
// SV:       stream_attention_unit #(.PIPES(2), .SINK(2), .WINDOW(6), .HEAD_DIM(16), .DW(256), .KV_HEADS(2), .REP_MAX(2), .TMAX(1), .ACT_AW(13), .DESC_AW(1), .POS_W(32)) attn (
// SV:       rom #(.WIDTH(256), .DEPTH(2), .IMAGE("attn_desc.hex")) attn_desc (
// SV:       axi_write_master #({{.*}}) kvw0 (
// SV:       assign {{.*}} = attn_cmd_ready ? mac_act_addr : attn_act_addr;
accel.engine @engine {target = "sim", channel_bytes = 16777216 : i64, channels = 4 : i64, weight_channels = 4 : i64, kv_channels = 1 : i64, misc_channel = 3 : i64, mac_lanes = 4 : i64, mac_blocks = 4 : i64, lanes_per_channel = 1 : i64, attn_lanes = 8 : i64, act_buffer_bytes = 147456 : i64, kv_buffer_bytes = 73728 : i64, gemm_tokens = 1152 : i64, words_per_beat = 1 : i64, tile_tokens = 4 : i64, fifo_beats = 256 : i64}
accel.hbm_region @a_c0 {kind = "weights", channel = 0 : i64, offset = 0 : i64, bytes = 608 : i64, source = "p.safetensors:a"}
accel.hbm_region @a_c1 {kind = "weights", channel = 1 : i64, offset = 0 : i64, bytes = 608 : i64, source = "p.safetensors:a"}
accel.hbm_region @a_c2 {kind = "weights", channel = 2 : i64, offset = 0 : i64, bytes = 608 : i64, source = "p.safetensors:a"}
accel.hbm_region @a_c3 {kind = "weights", channel = 3 : i64, offset = 0 : i64, bytes = 608 : i64, source = "p.safetensors:a"}
accel.hbm_region @kv {kind = "kv", channel = 0 : i64, offset = 640 : i64, bytes = 256 : i64, stripes = 2 : i64}
accel.buffer @x {kind = "act", offset = 0 : i64, bytes = 96 : i64}
accel.buffer @y {kind = "act", offset = 96 : i64, bytes = 256 : i64}
accel.buffer @q {kind = "act", offset = 352 : i64, bytes = 256 : i64}
accel.buffer @k {kind = "act", offset = 608 : i64, bytes = 128 : i64}
accel.buffer @v {kind = "act", offset = 736 : i64, bytes = 128 : i64}
accel.buffer @o {kind = "act", offset = 864 : i64, bytes = 256 : i64}
accel.buffer @z {kind = "act", offset = 1120 : i64, bytes = 256 : i64}
accel.schedule @step_gemv attributes {mode = "gemv", tokens = 1 : i64} {
  accel.linear {mode = "gemv", precision = "w2", weights = [@a_c0, @a_c1, @a_c2, @a_c3], input = @x, output = @y, n = 64 : i64, k = 64 : i64, group = 64 : i64, tokens = 1 : i64, rows_per_channel = 16 : i64}
  accel.attention {mode = "gemv", kv = @kv, q = @q, output = @o, heads = 4 : i64, kv_heads = 2 : i64, head_dim = 16 : i64, sink = 2 : i64, window = 6 : i64, tokens = 1 : i64, k = @k, v = @v}
  accel.linear {mode = "gemv", precision = "w2", weights = [@a_c0, @a_c1, @a_c2, @a_c3], input = @x, output = @z, n = 64 : i64, k = 64 : i64, group = 64 : i64, tokens = 1 : i64, rows_per_channel = 16 : i64}
}
