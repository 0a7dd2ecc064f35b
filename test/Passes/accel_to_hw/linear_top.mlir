// accel-to-hw on a schedule of two W2 linears (sim engine): the top instantiates the sequencer,
// the program ROM (prog_base + pc), the linear unit with its descriptor ROM, one AXI read
// master per weight channel plus the misc (metadata) channel, and the activation buffer; the
// program (DISPATCH mac 0, DISPATCH mac 1, HALT) and descriptors become memory images.
// RUN: accllm-opt %s -p accel-insert-barriers,accel-to-hw | FileCheck %s
// RUN: accllm-opt %s -p accel-insert-barriers,accel-to-hw | accllm-translate --emit-verilog | FileCheck %s --check-prefix=SV

// CHECK:      builtin.module attributes {accel.mem_images = {program.hex = "1000000000000000\0A1000000000000001\0A5000000000000000\0A", linear_desc.hex = "{{[0-9a-f]+}}\0A{{[0-9a-f]+}}\0A"}, accel.programs = {lin_gemm = 0 : i32}, accel.top = {name = "accllm_top", pc_w = 2 : i32, act_words = 4608 : i32, act_aw = 13 : i32, addr_w = 24 : i32, channels = [0 : i32, 1 : i32, 3 : i32], kv_entries = 0 : i32, kv_aw = 0 : i32, kv_record_bits = 0 : i32, rope_head_dim = 0 : i32, rope_theta = 0.000000e+00 : f64, rope_max_pos = 0 : i32, rope_tbl_aw = 0 : i32}}
// CHECK-DAG:  hw.module.extern @sequencer<NUM_UNITS: i32, PC_W: i32, LOOP_DEPTH: i32, OUTST_W: i32>
// CHECK-DAG:  hw.module.extern @program_rom<WIDTH: i32, DEPTH: i32, IMAGE: none>({{.*}}) attributes {verilogName = "rom"}
// CHECK-DAG:  hw.module.extern @linear_desc_rom<WIDTH: i32, DEPTH: i32, IMAGE: none>({{.*}}out rdata: i256) attributes {verilogName = "rom"}
// CHECK-DAG:  hw.module.extern @linear_unit<CH: i32, LANES: i32, BLOCKS: i32, MAX_K: i32, MW: i32, I8_MACS: i32, ADDR_W: i32, ACT_AW: i32, DESC_AW: i32>
// CHECK-LABEL: hw.module @accllm_top(in %clk: !seq.clock, in %rst: i1, in %start: i1, in %prog_base: i2, in %host_addr: i13, in %host_we: i1, in %host_lane_we: i8, in %host_wdata: i256, in %hbm0_arready: i1, in %hbm0_rvalid: i1, in %hbm0_rdata: i256, in %hbm0_rresp: i2, in %hbm0_rlast: i1,
// CHECK-SAME:   out hbm3_arvalid: i1, out hbm3_araddr: i24, out hbm3_arlen: i8, out hbm3_arsize: i3, out hbm3_arburst: i2, out hbm3_rready: i1, out busy: i1, out done: i1, out error: i1, out err_code: i3, out err_pc: i2, out host_rdata: i256, out hbm_err: i1)
// CHECK:      hw.instance "seq" @sequencer({{.*}}) {parameters = {NUM_UNITS = 7 : i32, PC_W = 2 : i32, LOOP_DEPTH = 4 : i32, OUTST_W = 4 : i32}}
// CHECK:      hw.instance "program" @program_rom({{.*}}) {parameters = {WIDTH = 64 : i32, DEPTH = 4 : i32, IMAGE = "program.hex"}}
// 2 weight channels x 3 lanes x 4 blocks; k up to 128; 1 metadata word per row (G=64: 8 + 2 * 18 bits).
// CHECK:      hw.instance "mac" @linear_unit({{.*}}) {parameters = {CH = 2 : i32, LANES = 3 : i32, BLOCKS = 4 : i32, MAX_K = 128 : i32, MW = 1 : i32, I8_MACS = 8 : i32, ADDR_W = 24 : i32, ACT_AW = 13 : i32, DESC_AW = 1 : i32}}
// CHECK:      hw.instance "linear_desc" @linear_desc_rom({{.*}}) {parameters = {WIDTH = 256 : i32, DEPTH = 2 : i32, IMAGE = "linear_desc.hex"}}
// CHECK:      hw.instance "hbm0_rd" @axi_read_master
// CHECK:      hw.instance "hbm1_rd" @axi_read_master
// CHECK:      hw.instance "hbm3_rd" @axi_read_master
// CHECK:      hw.instance "act" @act_ram({{.*}}) {parameters = {WORDS = 4608 : i32, AW = 13 : i32}}

// SV-LABEL: module accllm_top (
// SV:       sequencer #(.NUM_UNITS(7), .PC_W(2), .LOOP_DEPTH(4), .OUTST_W(4)) seq (
// SV:       rom #(.WIDTH(64), .DEPTH(4), .IMAGE("program.hex")) program_1 (
// SV:       linear_unit #(.CH(2), .LANES(3), .BLOCKS(4), .MAX_K(128), .MW(1), .I8_MACS(8), .ADDR_W(24), .ACT_AW(13), .DESC_AW(1)) mac (
// SV:       rom #(.WIDTH(256), .DEPTH(2), .IMAGE("linear_desc.hex")) linear_desc (
// SV:       axi_read_master #(.ADDR_W(24), .DATA_W(256), .LEN_W(24), .MAX_BURST(64), .MAX_OUTSTANDING(4)) hbm0_rd (
// SV:       act_ram #(.WORDS(4608), .AW(13)) act (
accel.engine @engine {target = "sim", channel_bytes = 16777216 : i64, channels = 4 : i64, weight_channels = 2 : i64, kv_channels = 1 : i64, misc_channel = 3 : i64, mac_lanes = 6 : i64, mac_blocks = 4 : i64, lanes_per_channel = 3 : i64, attn_lanes = 8 : i64, act_buffer_bytes = 147456 : i64, kv_buffer_bytes = 73728 : i64, gemm_tokens = 1152 : i64}
accel.hbm_region @a_c0 {kind = "weights", channel = 0 : i64, offset = 0 : i64, bytes = 1056 : i64, source = "p.safetensors:a"}
accel.hbm_region @a_c1 {kind = "weights", channel = 1 : i64, offset = 0 : i64, bytes = 1056 : i64, source = "p.safetensors:a"}
accel.hbm_region @a_meta {kind = "metadata", channel = 3 : i64, offset = 0 : i64, bytes = 2112 : i64, source = "p.safetensors:a"}
accel.hbm_region @b_c0 {kind = "weights", channel = 0 : i64, offset = 1056 : i64, bytes = 2112 : i64, source = "p.safetensors:b"}
accel.hbm_region @b_c1 {kind = "weights", channel = 1 : i64, offset = 1056 : i64, bytes = 2112 : i64, source = "p.safetensors:b"}
accel.hbm_region @b_meta {kind = "metadata", channel = 3 : i64, offset = 2112 : i64, bytes = 2112 : i64, source = "p.safetensors:b"}
accel.buffer @x {kind = "act", offset = 0 : i64, bytes = 160 : i64}
accel.buffer @y {kind = "act", offset = 160 : i64, bytes = 256 : i64}
accel.buffer @z {kind = "act", offset = 416 : i64, bytes = 256 : i64}
accel.schedule @lin_gemm attributes {mode = "gemv", tokens = 1 : i64} {
  accel.linear {mode = "gemv", precision = "w2", weights = [@a_c0, @a_c1], metadata = @a_meta, input = @x, output = @y, n = 64 : i64, k = 64 : i64, group = 64 : i64, tokens = 1 : i64, rows_per_channel = 32 : i64}
  accel.linear {mode = "gemv", precision = "w2", weights = [@b_c0, @b_c1], metadata = @b_meta, input = @x, output = @z, n = 64 : i64, k = 128 : i64, group = 64 : i64, tokens = 1 : i64, rows_per_channel = 32 : i64}
}
