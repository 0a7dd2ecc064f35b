// hw.module.extern + hw.instance with parameters (the rtl_lib requantizer); unused instance
// outputs and unread bits go to the _unused_ok lint sink.
// RUN: accllm-translate --emit-verilog %s | FileCheck %s
// RUN: accllm-translate --emit-verilog %s -o %t/requant_top.sv
// RUN: FileCheck %s --input-file=%t/requant_top.sv
// RUN: FileCheck %s --check-prefix=LIST --input-file=%t/filelist.f
// RUN: test -f %t/requantizer.sv

// The extern itself is not printed: its Verilog is the rtl_lib source.
// CHECK-NOT: module requantizer
// CHECK-LABEL: module requant_top (
// CHECK:      requantizer #(.LANES(1), .ACC_W(32), .MUL_W(16), .SHIFT_W(6), .OUT_W(8)) rq (
// CHECK-NEXT:   .clk(clk),
// CHECK-NEXT:   .rst(rst),
// CHECK:        .s_acc(acc),
// CHECK:        .m_valid(m_valid),
// CHECK-NEXT:   .m_data(q)
// CHECK-NEXT: );
// CHECK:      assign low_1 = q[3:0];
// CHECK:      assign low = low_1;
// CHECK:      wire _unused_ok = &{1'b0, s_ready, m_valid, q[7:4]};
// LIST:      requantizer.sv
// LIST-NEXT: requant_top.sv
hw.module.extern @requantizer<LANES: i32, ACC_W: i32, MUL_W: i32, SHIFT_W: i32, OUT_W: i32>(
    in %clk : !seq.clock, in %rst : i1, in %s_valid : i1, out s_ready : i1,
    in %s_acc : i32, in %s_mult : i16, in %s_shift : i6,
    out m_valid : i1, in %m_ready : i1, out m_data : i8)
hw.module @requant_top(in %clk : !seq.clock, in %rst : i1, in %acc : i32, in %mult : i16,
                       in %shift : i6, out low : i4) {
  %one = hw.constant 1 : i1
  %s_ready, %m_valid, %q = hw.instance "rq" @requantizer(clk: %clk : !seq.clock, rst: %rst : i1, s_valid: %one : i1, s_acc: %acc : i32, s_mult: %mult : i16, s_shift: %shift : i6, m_ready: %one : i1) -> (s_ready: i1, m_valid: i1, m_data: i8) {parameters = {LANES = 1 : i32, ACC_W = 32 : i32, MUL_W = 16 : i32, SHIFT_W = 6 : i32, OUT_W = 8 : i32}}
  %low = comb.extract %q from 0 : (i8) -> i4
  hw.output %low : i4
}
