// String instance parameters: a parameter the extern declares with type `none` (CIRCT's form of
// a string parameter) takes a string value, printed as a SystemVerilog string literal (the
// rtl_lib ROM's $readmemh image file); the type must match the declaration. An extern with a
// verilogName (two ROM shapes of one rtl_lib module) is instantiated under that name.
// RUN: accllm-translate --emit-verilog %s | FileCheck %s
// RUN: accllm-translate --emit-verilog %s -o %t/prog_top.sv
// RUN: FileCheck %s --input-file=%t/prog_top.sv
// RUN: FileCheck %s --check-prefix=LIST --input-file=%t/filelist.f

// CHECK-LABEL: module prog_top (
// CHECK:      rom #(.WIDTH(64), .DEPTH(16), .IMAGE("prog.hex")) prog (
// CHECK-NEXT:   .clk(clk),
// CHECK-NEXT:   .addr(pc),
// CHECK-NEXT:   .rdata(ins{{.*}})
// CHECK:      rom #(.WIDTH(8), .DEPTH(16), .IMAGE("")) zero (
// LIST:      rom.sv
// LIST-NEXT: prog_top.sv
hw.module.extern @rom<WIDTH: i32, DEPTH: i32, IMAGE: none>(in %clk : !seq.clock, in %addr : i4, out rdata : i64)
hw.module.extern @rom8<WIDTH: i32, DEPTH: i32, IMAGE: none>(in %clk : !seq.clock, in %addr : i4, out rdata : i8) attributes {verilogName = "rom"}
hw.module @prog_top(in %clk : !seq.clock, in %pc : i4, out ins : i64, out z : i8) {
  %ins = hw.instance "prog" @rom(clk: %clk : !seq.clock, addr: %pc : i4) -> (rdata: i64) {parameters = {WIDTH = 64 : i32, DEPTH = 16 : i32, IMAGE = "prog.hex"}}
  %z = hw.instance "zero" @rom8(clk: %clk : !seq.clock, addr: %pc : i4) -> (rdata: i8) {parameters = {WIDTH = 8 : i32, DEPTH = 16 : i32, IMAGE = ""}}
  hw.output %ins, %z : i64, i8
}
