// accel-to-hw on W2 linears (sim stream engine: 4 channels, 1 lane each, 1 word per beat, GEMM
// tiles of 4 tokens): a decode schedule of two linears and a prefill of 6 tokens. The top
// instantiates the sequencer and program ROM, per channel c a stream_prefetcher pf<c> on AXI
// port hbm<c>_ walking its fetch ROM fetch<c> and a stream_demux dmx<c> by unit tag (output 0
// mac, 1 attn), the stream_linear_unit fed by the demuxes' mac outputs, its descriptor ROM and
// the activation buffer; no attention unit (its demux outputs are never ready), no
// axi_read_master (no tables here: no tbl_ port).
// RUN: accllm-opt %s -p accel-insert-barriers,accel-to-hw | FileCheck %s
// RUN: accllm-opt %s -p accel-insert-barriers,accel-to-hw | accllm-translate --emit-verilog | FileCheck %s --check-prefix=SV

// Programs: lin_gemv = DISPATCH mac 0, DISPATCH mac 1, HALT; lin_gemm (6 tokens) runs tile by
// tile: DISPATCH mac 2 (tokens 0-3), DISPATCH mac 3 (tokens 4-5), HALT.
// Fetch programs, per channel, at the same base in every ROM (lin_gemv 0, lin_gemm 3): one RANGE
// (tag 0 = mac) of the channel's whole stream per linear and GEMM tile, then END. Channels 0-2
// hold a at byte 0 (19 beats) and b at 0x260 (20 beats); channel 3 at 0x80 and 0x2e0.
// CHECK:      builtin.module attributes {accel.mem_images = {program.hex = "1000000000000000\0A1000000000000001\0A5000000000000000\0A1000000000000002\0A1000000000000003\0A5000000000000000\0A",
// CHECK-SAME: fetch_c0.hex = "10000000000000000000000000000013\0A10000000000002600000000000000014\0A00000000000000000000000000000000\0A10000000000000000000000000000013\0A10000000000000000000000000000013\0A00000000000000000000000000000000\0A",
// CHECK-SAME: fetch_c1.hex = "10000000000000000000000000000013\0A10000000000002600000000000000014\0A00000000000000000000000000000000\0A10000000000000000000000000000013\0A10000000000000000000000000000013\0A00000000000000000000000000000000\0A",
// CHECK-SAME: fetch_c2.hex = "10000000000000000000000000000013\0A10000000000002600000000000000014\0A00000000000000000000000000000000\0A10000000000000000000000000000013\0A10000000000000000000000000000013\0A00000000000000000000000000000000\0A",
// CHECK-SAME: fetch_c3.hex = "10000000000000800000000000000013\0A10000000000002e00000000000000014\0A00000000000000000000000000000000\0A10000000000000800000000000000013\0A10000000000000800000000000000013\0A00000000000000000000000000000000\0A",
// Descriptors (STREAM_LINEAR_FIELDS, MSB first: fx_byte, channels_used, passes, entries_per_row,
// words_per_row, int8, group_beats, tokens, n, rows_per_channel, k, y_base, fx_base, x_base):
// a: x 0, fx 2, y 8, 1 token; b: k 128, 3 entries per row, x 3, fx 7, y 16; lin_gemm's tiles:
// 4 tokens at x 24, fx 36 (after all 6 rows), y 37, fx_byte 0, then 2 tokens at x 32, fx 36,
// y 69, fx_byte 4.
// CHECK-SAME: linear_desc.hex = "0000000000040010002000100040001000400001000040000008000002000000\0A0000000000040010003000100040001000400001000080000010000007000003\0A0000000000040010002000100040004000400001000040000025000024000018\0A0000000004040010002000100040002000400001000040000045000024000020\0A"},
// CHECK-SAME: accel.programs = {lin_gemv = 0 : i32, lin_gemm = 3 : i32}, accel.fetch_programs = {lin_gemv = 0 : i32, lin_gemm = 3 : i32},
// CHECK-SAME: accel.top = {name = "accllm_top", pc_w = 3 : i32, act_words = 4608 : i32, act_aw = 13 : i32, addr_w = 24 : i32, channels = [0 : i32, 1 : i32, 2 : i32, 3 : i32], kv_pipes = 0 : i32, rope_head_dim = 0 : i32, rope_inv_freq = array<f64>, rope_max_pos = 0 : i32, rope_tbl_aw = 0 : i32, data_bits = 256 : i32, table_channel = -1 : i32}}
// CHECK-DAG:  hw.module.extern @sequencer<NUM_UNITS: i32, PC_W: i32, LOOP_DEPTH: i32, OUTST_W: i32>
// CHECK-DAG:  hw.module.extern @program_rom<WIDTH: i32, DEPTH: i32, IMAGE: none>({{.*}}) attributes {verilogName = "rom"}
// CHECK-DAG:  hw.module.extern @stream_prefetcher<ADDR_W: i32, DATA_W: i32, TAG_W: i32, DEPTH: i32, PC_W: i32, POS_W: i32, MAX_BURST: i32>({{.*}}in %port3 start_pc: i3, {{.*}}out prog_addr: i3, in %port9 prog_data: i128, {{.*}}in %port18 m_axi_rdata: i256, {{.*}}out m_data: i256, out m_tag: i4)
// CHECK-DAG:  hw.module.extern @stream_demux<NU: i32, DATA_W: i32, TAG_W: i32>
// CHECK-DAG:  hw.module.extern @fetch_rom<WIDTH: i32, DEPTH: i32, IMAGE: none>({{.*}}out rdata: i128) attributes {verilogName = "rom"}
// CHECK-DAG:  hw.module.extern @linear_desc_rom<WIDTH: i32, DEPTH: i32, IMAGE: none>({{.*}}out rdata: i256) attributes {verilogName = "rom"}
// CHECK-DAG:  hw.module.extern @stream_linear_unit<CH: i32, LANES: i32, BLOCKS: i32, DW: i32, TOK: i32, MAX_K: i32, MFD: i32, ACT_AW: i32, DESC_AW: i32>({{.*}}in %port8 s_valid: i4, out s_ready: i4, in %port10 s_data: i1024,
// CHECK-NOT:  @axi_read_master
// CHECK-NOT:  @linear_unit
// CHECK-LABEL: hw.module @accllm_top(in %clk: !seq.clock, in %rst: i1, in %start: i1, in %prog_base: i3, in %host_addr: i13, in %host_we: i1, in %host_lane_we: i8, in %host_wdata: i256, in %fetch_base: i3, in %hbm0_arready: i1, in %hbm0_rvalid: i1, in %hbm0_rdata: i256, in %hbm0_rresp: i2, in %hbm0_rlast: i1,
// CHECK-SAME:   in %hbm3_arready: i1, in %hbm3_rvalid: i1, in %hbm3_rdata: i256, in %hbm3_rresp: i2, in %hbm3_rlast: i1, out hbm0_arvalid: i1, out hbm0_araddr: i24,
// CHECK-SAME:   out hbm3_arvalid: i1, out hbm3_araddr: i24, out hbm3_arlen: i8, out hbm3_arsize: i3, out hbm3_arburst: i2, out hbm3_rready: i1, out busy: i1, out done: i1, out error: i1, out err_code: i3, out err_pc: i3, out host_rdata: i256, out hbm_err: i1, out fetch_idle: i1, out fetch_err: i1)
// CHECK-NOT:  tbl_
// CHECK:      hw.instance "seq" @sequencer({{.*}}) {parameters = {NUM_UNITS = 7 : i32, PC_W = 3 : i32, LOOP_DEPTH = 4 : i32, OUTST_W = 4 : i32}}
// CHECK:      hw.instance "program" @program_rom({{.*}}) {parameters = {WIDTH = 64 : i32, DEPTH = 8 : i32, IMAGE = "program.hex"}}
// Channel 0: the prefetcher starts with the program at fetch_base, reads its ROM and AXI port
// hbm0_, and hands its tagged beats to the demux (256-beat FIFO, 64-beat bursts).
// CHECK:      %pf0_idle, %pf0_err, {{.*}}, %pf0_prog_addr, %pf0_m_axi_arvalid, {{.*}}, %pf0_m_valid, %pf0_m_data, %pf0_m_tag = hw.instance "pf0" @stream_prefetcher(clk: %clk: !seq.clock, rst: %rst: i1, start: %start: i1, start_pc: %fetch_base: i3, pos: {{%[0-9]+}}: i32, prog_data: %fetch0_rdata: i128, m_axi_arready: %hbm0_arready: i1, m_axi_rvalid: %hbm0_rvalid: i1, m_axi_rdata: %hbm0_rdata: i256, m_axi_rresp: %hbm0_rresp: i2, m_axi_rlast: %hbm0_rlast: i1, m_ready: %dmx0_s_ready: i1) {{.*}} {parameters = {ADDR_W = 24 : i32, DATA_W = 256 : i32, TAG_W = 4 : i32, DEPTH = 256 : i32, PC_W = 3 : i32, POS_W = 32 : i32, MAX_BURST = 64 : i32}}
// CHECK-NEXT: %fetch0_rdata = hw.instance "fetch0" @fetch_rom(clk: %clk: !seq.clock, addr: %pf0_prog_addr: i3) -> (rdata: i128) {parameters = {WIDTH = 128 : i32, DEPTH = 8 : i32, IMAGE = "fetch_c0.hex"}}
// CHECK-NEXT: %dmx0_s_ready, %dmx0_m_valid, %dmx0_m_data, %dmx0_err = hw.instance "dmx0" @stream_demux(clk: %clk: !seq.clock, rst: %rst: i1, s_valid: %pf0_m_valid: i1, s_data: %pf0_m_data: i256, s_tag: %pf0_m_tag: i4, m_ready: [[READY0:%[0-9]+]]: i2) -> ({{.*}}) {parameters = {NU = 2 : i32, DATA_W = 256 : i32, TAG_W = 4 : i32}}
// CHECK:      hw.instance "pf1" @stream_prefetcher({{.*}}start_pc: %fetch_base: i3, {{.*}}prog_data: %fetch1_rdata: i128, m_axi_arready: %hbm1_arready: i1, {{.*}}m_ready: %dmx1_s_ready: i1)
// CHECK-NEXT: hw.instance "fetch1" @fetch_rom({{.*}}IMAGE = "fetch_c1.hex"}}
// CHECK-NEXT: hw.instance "dmx1" @stream_demux(
// CHECK:      hw.instance "pf2" @stream_prefetcher(
// CHECK-NEXT: hw.instance "fetch2" @fetch_rom({{.*}}IMAGE = "fetch_c2.hex"}}
// CHECK-NEXT: hw.instance "dmx2" @stream_demux(
// CHECK:      %pf3_idle, %pf3_err, {{.*}} = hw.instance "pf3" @stream_prefetcher({{.*}}prog_data: %fetch3_rdata: i128, m_axi_arready: %hbm3_arready: i1, {{.*}}m_ready: %dmx3_s_ready: i1)
// CHECK-NEXT: hw.instance "fetch3" @fetch_rom({{.*}}IMAGE = "fetch_c3.hex"}}
// CHECK-NEXT: hw.instance "dmx3" @stream_demux({{.*}}m_ready: [[READY3:%[0-9]+]]: i2)
// CHECK-NOT:  hw.instance "pf4"
// The unit's stream port c is demux c's `mac` output (vectors: channel c in bits [c]).
// CHECK:      [[V3:%[0-9]+]] = comb.extract %dmx3_m_valid from 0 :  (i2) -> i1
// CHECK-NEXT: [[V2:%[0-9]+]] = comb.extract %dmx2_m_valid from 0 :  (i2) -> i1
// CHECK-NEXT: [[V1:%[0-9]+]] = comb.extract %dmx1_m_valid from 0 :  (i2) -> i1
// CHECK-NEXT: [[V0:%[0-9]+]] = comb.extract %dmx0_m_valid from 0 :  (i2) -> i1
// CHECK-NEXT: [[SVALID:%[0-9]+]] = comb.concat [[V3]], [[V2]], [[V1]], [[V0]] : i1, i1, i1, i1
// CHECK-NEXT: [[SDATA:%[0-9]+]] = comb.concat %dmx3_m_data, %dmx2_m_data, %dmx1_m_data, %dmx0_m_data : i256, i256, i256, i256
// 4 channels x 1 lane x 4 blocks, 1 word per beat, tiles of 4 tokens; k up to 128.
// CHECK-NEXT: %mac_cmd_ready, %mac_done, %mac_desc_addr, %mac_s_ready, %mac_act_addr, {{.*}} = hw.instance "mac" @stream_linear_unit(clk: %clk: !seq.clock, rst: %rst: i1, cmd_valid: {{%[0-9]+}}: i1, cmd_payload: %seq_cmd_payload: i56, desc_data: %linear_desc_rdata: i256, s_valid: [[SVALID]]: i4, s_data: [[SDATA]]: i1024, act_rdata: %act_b_rdata: i256) {{.*}} {parameters = {CH = 4 : i32, LANES = 1 : i32, BLOCKS = 4 : i32, DW = 256 : i32, TOK = 4 : i32, MAX_K = 128 : i32, MFD = 16 : i32, ACT_AW = 13 : i32, DESC_AW = 2 : i32}}
// CHECK-NEXT: %linear_desc_rdata = hw.instance "linear_desc" @linear_desc_rom(clk: %clk: !seq.clock, addr: %mac_desc_addr: i2) -> (rdata: i256) {parameters = {WIDTH = 256 : i32, DEPTH = 4 : i32, IMAGE = "linear_desc.hex"}}
// Demux c's ready: {attn: never, mac: the unit's s_ready[c]}.
// CHECK-NEXT: [[NO:%[0-9]+]] = hw.constant false
// CHECK-NEXT: [[R0:%[0-9]+]] = comb.extract %mac_s_ready from 0 :  (i4) -> i1
// CHECK-NEXT: [[READY0]] = comb.concat [[NO]], [[R0]] : i1, i1
// CHECK-NEXT: {{%[0-9]+}} = comb.extract %mac_s_ready from 1 :  (i4) -> i1
// CHECK-NEXT: {{%[0-9]+}} = comb.concat [[NO]], {{%[0-9]+}} : i1, i1
// CHECK-NEXT: {{%[0-9]+}} = comb.extract %mac_s_ready from 2 :  (i4) -> i1
// CHECK-NEXT: {{%[0-9]+}} = comb.concat [[NO]], {{%[0-9]+}} : i1, i1
// CHECK-NEXT: [[R3:%[0-9]+]] = comb.extract %mac_s_ready from 3 :  (i4) -> i1
// CHECK-NEXT: [[READY3]] = comb.concat [[NO]], [[R3]] : i1, i1
// CHECK:      hw.instance "act" @act_ram({{.*}}b_addr: %mac_act_addr: i13{{.*}}) {{.*}} {parameters = {WORDS = 4608 : i32, AW = 13 : i32}}
// fetch_idle: every prefetcher idle; fetch_err: any prefetcher's or demux's error.
// CHECK-NEXT: [[IDLE:%[0-9]+]] = comb.and %pf0_idle, %pf1_idle, %pf2_idle, %pf3_idle : i1
// CHECK-NEXT: [[ERR:%[0-9]+]] = comb.or %pf0_err, %dmx0_err, %pf1_err, %dmx1_err, %pf2_err, %dmx2_err, %pf3_err, %dmx3_err : i1
// CHECK-NEXT: hw.output %pf0_m_axi_arvalid, %pf0_m_axi_araddr, %pf0_m_axi_arlen, %pf0_m_axi_arsize, %pf0_m_axi_arburst, %pf0_m_axi_rready, %pf1_m_axi_arvalid, {{.*}}, %pf3_m_axi_rready, {{.*}}, [[IDLE]], [[ERR]] :

// SV-LABEL: module accllm_top (
// SV:       sequencer #(.NUM_UNITS(7), .PC_W(3), .LOOP_DEPTH(4), .OUTST_W(4)) seq (
// SV:       rom #(.WIDTH(64), .DEPTH(8), .IMAGE("program.hex")) program_1 (
// SV:       stream_prefetcher #(.ADDR_W(24), .DATA_W(256), .TAG_W(4), .DEPTH(256), .PC_W(3), .POS_W(32), .MAX_BURST(64)) pf0 (
// SV:       rom #(.WIDTH(128), .DEPTH(8), .IMAGE("fetch_c0.hex")) fetch0 (
// SV:       stream_demux #(.NU(2), .DATA_W(256), .TAG_W(4)) dmx0 (
// SV:       stream_prefetcher #({{.*}}) pf3 (
// SV:       rom #(.WIDTH(128), .DEPTH(8), .IMAGE("fetch_c3.hex")) fetch3 (
// SV:       stream_demux #({{.*}}) dmx3 (
// SV:       stream_linear_unit #(.CH(4), .LANES(1), .BLOCKS(4), .DW(256), .TOK(4), .MAX_K(128), .MFD(16), .ACT_AW(13), .DESC_AW(2)) mac (
// SV:       rom #(.WIDTH(256), .DEPTH(4), .IMAGE("linear_desc.hex")) linear_desc (
// SV:       act_ram #(.WORDS(4608), .AW(13)) act (
// SV-NOT:   axi_read_master
accel.engine @engine {target = "sim", channel_bytes = 16777216 : i64, channels = 4 : i64, weight_channels = 4 : i64, kv_channels = 1 : i64, misc_channel = 3 : i64, mac_lanes = 4 : i64, mac_blocks = 4 : i64, lanes_per_channel = 1 : i64, attn_lanes = 8 : i64, act_buffer_bytes = 147456 : i64, kv_buffer_bytes = 73728 : i64, gemm_tokens = 1152 : i64, words_per_beat = 1 : i64, tile_tokens = 4 : i64, fifo_beats = 256 : i64}
accel.hbm_region @a_c0 {kind = "weights", channel = 0 : i64, offset = 0 : i64, bytes = 608 : i64, source = "p.safetensors:a"}
accel.hbm_region @a_c1 {kind = "weights", channel = 1 : i64, offset = 0 : i64, bytes = 608 : i64, source = "p.safetensors:a"}
accel.hbm_region @a_c2 {kind = "weights", channel = 2 : i64, offset = 0 : i64, bytes = 608 : i64, source = "p.safetensors:a"}
accel.hbm_region @a_c3 {kind = "weights", channel = 3 : i64, offset = 128 : i64, bytes = 608 : i64, source = "p.safetensors:a"}
accel.hbm_region @b_c0 {kind = "weights", channel = 0 : i64, offset = 608 : i64, bytes = 640 : i64, source = "p.safetensors:b"}
accel.hbm_region @b_c1 {kind = "weights", channel = 1 : i64, offset = 608 : i64, bytes = 640 : i64, source = "p.safetensors:b"}
accel.hbm_region @b_c2 {kind = "weights", channel = 2 : i64, offset = 608 : i64, bytes = 640 : i64, source = "p.safetensors:b"}
accel.hbm_region @b_c3 {kind = "weights", channel = 3 : i64, offset = 736 : i64, bytes = 640 : i64, source = "p.safetensors:b"}
accel.buffer @x {kind = "act", offset = 0 : i64, bytes = 96 : i64}
accel.buffer @x2 {kind = "act", offset = 96 : i64, bytes = 160 : i64}
accel.buffer @y {kind = "act", offset = 256 : i64, bytes = 256 : i64}
accel.buffer @z {kind = "act", offset = 512 : i64, bytes = 256 : i64}
accel.buffer @xg {kind = "act", offset = 768 : i64, bytes = 416 : i64}
accel.buffer @yg {kind = "act", offset = 1184 : i64, bytes = 1536 : i64}
accel.schedule @lin_gemv attributes {mode = "gemv", tokens = 1 : i64} {
  accel.linear {mode = "gemv", precision = "w2", weights = [@a_c0, @a_c1, @a_c2, @a_c3], input = @x, output = @y, n = 64 : i64, k = 64 : i64, group = 64 : i64, tokens = 1 : i64, rows_per_channel = 16 : i64}
  accel.linear {mode = "gemv", precision = "w2", weights = [@b_c0, @b_c1, @b_c2, @b_c3], input = @x2, output = @z, n = 64 : i64, k = 128 : i64, group = 64 : i64, tokens = 1 : i64, rows_per_channel = 16 : i64}
}
accel.schedule @lin_gemm attributes {mode = "gemm", tokens = 6 : i64} {
  accel.linear {mode = "gemm", precision = "w2", weights = [@a_c0, @a_c1, @a_c2, @a_c3], input = @xg, output = @yg, n = 64 : i64, k = 64 : i64, group = 64 : i64, tokens = 6 : i64, rows_per_channel = 16 : i64}
}
