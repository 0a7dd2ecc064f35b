// The hardware pipeline end to end (lower-to-accel, accel-insert-barriers, accel-to-hw) on the
// one-layer slice of ../accel/lower_to_accel.mlir, for sim (256-bit beats) and u280 (512-bit
// beats, 32 channels): every channel's prefetcher streams the linear's weights from its own
// region and KV head c's ring for stream_attention_unit's pipeline c (demux output 1), which
// appends through an axi_write_master per pipeline on the channel's AXI write port; the norm's
// gain table comes through the separate 256-bit tbl_ AXI port of the misc channel (an
// axi_read_master owned by norm_unit); hbm_err is any AXI master's error (the KV write
// masters', the table master's), fetch_idle / fetch_err the prefetchers' state.
// RUN: accllm-opt %S/../accel/lower_to_accel.mlir -p 'lower-to-accel{target="sim"},accel-insert-barriers,accel-to-hw' | FileCheck %s
// RUN: accllm-opt %S/../accel/lower_to_accel.mlir -p 'lower-to-accel{target="u280"},accel-insert-barriers,accel-to-hw' | FileCheck %s --check-prefix=U280

// Fetch programs: layer_gemm reads the q_proj stream (19 beats; on channel 3 after the 128-byte
// gain table) and no KV (its attention starts at position 0); step_gemv (from entry 2) reads
// KV head c's cached slots on channel c: RING entries (tag 1) of min(pos, 16) slots of its K
// scales (2 B, at 768 + 128), K codes (8 B, at 768), V scales (at 768 + 320), V codes (at
// 768 + 192).
// CHECK:      fetch_c0.hex = "10000000000000000000000000000013\0A00000000000000000000000000000000\0A20100000000003800000001000000002\0A20100000000003000000001000000008\0A20100000000004400000001000000002\0A20100000000003c00000001000000008\0A00000000000000000000000000000000\0A",
// CHECK-SAME: fetch_c3.hex = "10000000000000800000000000000013\0A00000000000000000000000000000000\0A20100000000003800000001000000002\0A20100000000003000000001000000008\0A20100000000004400000001000000002\0A20100000000003c00000001000000008\0A00000000000000000000000000000000\0A",
// CHECK-SAME: accel.fetch_programs = {layer_gemm = 0 : i32, step_gemv = 2 : i32},
// CHECK-SAME: channels = [0 : i32, 1 : i32, 2 : i32, 3 : i32], kv_pipes = 4 : i32,
// CHECK-SAME: data_bits = 256 : i32, table_channel = 3 : i32}}
// CHECK-LABEL: hw.module @accllm_top(
// CHECK-SAME: in %fetch_base: i3, in %pos: i32,
// CHECK-SAME: in %hbm0_rlast: i1, in %hbm0_awready: i1, in %hbm0_wready: i1, in %hbm0_bvalid: i1, in %hbm0_bresp: i2,
// CHECK-SAME: in %hbm3_bresp: i2, in %tbl_arready: i1, in %tbl_rvalid: i1, in %tbl_rdata: i256, in %tbl_rresp: i2, in %tbl_rlast: i1, out hbm0_arvalid: i1,
// CHECK-SAME: out hbm3_rready: i1, out hbm0_awvalid: i1, out hbm0_awaddr: i24, out hbm0_awlen: i8, out hbm0_awsize: i3, out hbm0_awburst: i2, out hbm0_wvalid: i1, out hbm0_wdata: i256, out hbm0_wstrb: i32, out hbm0_wlast: i1, out hbm0_bready: i1,
// CHECK-SAME: out norm_err: i1, out tbl_arvalid: i1, out tbl_araddr: i24, out tbl_arlen: i8, out tbl_arsize: i3, out tbl_arburst: i2, out tbl_rready: i1, out busy: i1,
// CHECK-SAME: out host_rdata: i256, out hbm_err: i1, out fetch_idle: i1, out fetch_err: i1)
// CHECK:      hw.instance "pf3" @stream_prefetcher({{.*}}m_axi_rdata: %hbm3_rdata: i256,
// CHECK:      hw.instance "mac" @stream_linear_unit({{.*}}s_valid: {{%[0-9]+}}: i4, s_data: {{%[0-9]+}}: i1024,
// The attention unit's stream port c is demux c's output 1 (tag attn).
// CHECK:      [[A3:%[0-9]+]] = comb.extract %dmx3_m_valid from 1 :  (i2) -> i1
// CHECK-NEXT: [[A2:%[0-9]+]] = comb.extract %dmx2_m_valid from 1 :  (i2) -> i1
// CHECK-NEXT: [[A1:%[0-9]+]] = comb.extract %dmx1_m_valid from 1 :  (i2) -> i1
// CHECK-NEXT: [[A0:%[0-9]+]] = comb.extract %dmx0_m_valid from 1 :  (i2) -> i1
// CHECK-NEXT: [[AV:%[0-9]+]] = comb.concat [[A3]], [[A2]], [[A1]], [[A0]] : i1, i1, i1, i1
// CHECK-NEXT: [[AD:%[0-9]+]] = comb.concat %dmx3_m_data, %dmx2_m_data, %dmx1_m_data, %dmx0_m_data : i256, i256, i256, i256
// CHECK-NEXT: hw.instance "attn" @stream_attention_unit({{.*}}pos: %pos: i32, {{.*}}s_valid: [[AV]]: i4, s_data: [[AD]]: i1024, {{.*}}) {parameters = {PIPES = 4 : i32, SINK = 4 : i32, WINDOW = 12 : i32, HEAD_DIM = 16 : i32, DW = 256 : i32, KV_HEADS = 4 : i32,
// One KV write master per pipeline, on its channel's write port.
// CHECK:      hw.instance "kvw0" @axi_write_master({{.*}}m_axi_awready: %hbm0_awready: i1, m_axi_wready: %hbm0_wready: i1, m_axi_bvalid: %hbm0_bvalid: i1, m_axi_bresp: %hbm0_bresp: i2)
// CHECK:      hw.instance "kvw3" @axi_write_master({{.*}}m_axi_awready: %hbm3_awready: i1,
// CHECK-NOT:  hw.instance "kvw4"
// Demux c's ready: {attn: the attention unit's s_ready[c], mac: the MAC unit's}.
// CHECK:      [[M0:%[0-9]+]] = comb.extract %mac_s_ready from 0 :  (i4) -> i1
// CHECK-NEXT: [[S0:%[0-9]+]] = comb.extract %attn_s_ready from 0 :  (i4) -> i1
// CHECK-NEXT: {{%[0-9]+}} = comb.concat [[S0]], [[M0]] : i1, i1
// CHECK:      hw.instance "norm" @norm_unit({{.*}}g_data: %tbl_rd_m_axis_tdata: i256,
// CHECK:      %tbl_rd_cmd_ready, %tbl_rd_busy, %tbl_rd_err, {{.*}} = hw.instance "tbl_rd" @axi_read_master(clk: %clk: !seq.clock, rst: %rst: i1, cmd_valid: %norm_g_cmd_valid: i1, cmd_addr: %norm_g_cmd_addr: i24, cmd_len: %norm_g_cmd_len: i24, m_axi_arready: %tbl_arready: i1, m_axi_rvalid: %tbl_rvalid: i1, m_axi_rdata: %tbl_rdata: i256, m_axi_rresp: %tbl_rresp: i2, m_axi_rlast: %tbl_rlast: i1, m_axis_tready: %norm_g_ready: i1)
// CHECK-NOT:  @axi_read_master
// CHECK:      [[HERR:%[0-9]+]] = comb.or %kvw0_err, %kvw1_err, %kvw2_err, %kvw3_err, %tbl_rd_err : i1
// CHECK-NEXT: [[IDLE:%[0-9]+]] = comb.and %pf0_idle, %pf1_idle, %pf2_idle, %pf3_idle : i1
// CHECK-NEXT: [[ERR:%[0-9]+]] = comb.or %pf0_err, %dmx0_err, %pf1_err, %dmx1_err, %pf2_err, %dmx2_err, %pf3_err, %dmx3_err : i1
// CHECK-NEXT: hw.output {{.*}}, %tbl_rd_m_axi_arvalid, %tbl_rd_m_axi_araddr, %tbl_rd_m_axi_arlen, %tbl_rd_m_axi_arsize, %tbl_rd_m_axi_arburst, %tbl_rd_m_axi_rready, {{.*}}, %act_a_rdata, [[HERR]], [[IDLE]], [[ERR]] :

// u280: 2 beats of 64 bytes per channel (channel 31 after the table, at 0x80), 512-bit stream
// ports and prefetchers of 1024-beat FIFOs, but the table port stays 256 bits wide; 4 KV heads:
// 4 attention pipelines and KV write masters (channels 0-3) of the 32 channels.
// U280:      fetch_c0.hex = "10000000000000000000000000000002\0A
// U280:      fetch_c31.hex = "10000000000000800000000000000002\0A
// U280-SAME: kv_pipes = 4 : i32,
// U280-SAME: data_bits = 512 : i32, table_channel = 31 : i32}}
// U280-LABEL: hw.module @accllm_top(
// U280-SAME: in %hbm0_rdata: i512,
// U280-SAME: in %hbm31_rlast: i1, in %tbl_arready: i1, in %tbl_rvalid: i1, in %tbl_rdata: i256,
// U280:      hw.instance "pf31" @stream_prefetcher({{.*}}m_axi_rdata: %hbm31_rdata: i512, {{.*}}) {parameters = {ADDR_W = 28 : i32, DATA_W = 512 : i32, TAG_W = 4 : i32, DEPTH = 1024 : i32, PC_W = 3 : i32, POS_W = 32 : i32, MAX_BURST = 64 : i32}}
// U280:      hw.instance "mac" @stream_linear_unit({{.*}}s_valid: {{%[0-9]+}}: i32, s_data: {{%[0-9]+}}: i16384, {{.*}}) {parameters = {CH = 32 : i32, LANES = 17 : i32, BLOCKS = 4 : i32, DW = 512 : i32, TOK = 4 : i32, MAX_K = 64 : i32, MFD = 16 : i32, ACT_AW = 19 : i32, DESC_AW = 1 : i32}}
// U280:      hw.instance "attn" @stream_attention_unit({{.*}}s_valid: {{%[0-9]+}}: i4, s_data: {{%[0-9]+}}: i2048, {{.*}}) {parameters = {PIPES = 4 : i32,
// U280:      hw.instance "kvw3" @axi_write_master({{.*}}m_axi_awready: %hbm3_awready: i1,
// U280-NOT:  hw.instance "kvw4"
// U280:      hw.instance "tbl_rd" @axi_read_master({{.*}}m_axi_rdata: %tbl_rdata: i256,
