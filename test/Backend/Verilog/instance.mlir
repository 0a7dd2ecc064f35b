// hw.module.extern + hw.instance with parameters (the rtl_lib stream_fifo); unused instance
// outputs and unread bits go to the _unused_ok lint sink.
// RUN: accllm-translate --emit-verilog %s | FileCheck %s
// RUN: accllm-translate --emit-verilog %s -o %t/fifo_top.sv
// RUN: FileCheck %s --input-file=%t/fifo_top.sv
// RUN: FileCheck %s --check-prefix=LIST --input-file=%t/filelist.f
// RUN: test -f %t/stream_fifo.sv

// The extern itself is not printed: its Verilog is the rtl_lib source.
// CHECK-NOT: module stream_fifo
// CHECK-LABEL: module fifo_top (
// CHECK:      stream_fifo #(.WIDTH(8), .DEPTH(4), .URAM(0)) q (
// CHECK-NEXT:   .clk(clk),
// CHECK-NEXT:   .rst(rst),
// CHECK:        .s_data(d),
// CHECK:        .m_valid(m_valid),
// CHECK:        .m_data(m_data),
// CHECK-NEXT:   .count(count)
// CHECK-NEXT: );
// CHECK:      assign low_1 = m_data[3:0];
// CHECK:      assign low = low_1;
// CHECK:      wire _unused_ok = &{1'b0, s_ready, m_valid, m_data[7:4], count};
// LIST:      stream_fifo.sv
// LIST-NEXT: fifo_top.sv
hw.module.extern @stream_fifo<WIDTH: i32, DEPTH: i32, URAM: i32>(
    in %clk : !seq.clock, in %rst : i1, in %s_valid : i1, out s_ready : i1, in %s_data : i8,
    out m_valid : i1, in %m_ready : i1, out m_data : i8, out count : i3)
hw.module @fifo_top(in %clk : !seq.clock, in %rst : i1, in %d : i8, out low : i4) {
  %one = hw.constant 1 : i1
  %s_ready, %m_valid, %m_data, %count = hw.instance "q" @stream_fifo(clk: %clk : !seq.clock, rst: %rst : i1, s_valid: %one : i1, s_data: %d : i8, m_ready: %one : i1) -> (s_ready: i1, m_valid: i1, m_data: i8, count: i3) {parameters = {WIDTH = 8 : i32, DEPTH = 4 : i32, URAM = 0 : i32}}
  %low = comb.extract %m_data from 0 : (i8) -> i4
  hw.output %low : i4
}
