// What the Verilog printer refuses, each reported at the op with its name.
// RUN: accllm-translate --emit-verilog %s --split-input-file --verify-diagnostics

hw.module @foreign(in %a : i8, out o : i8) {
  // expected-error @+1 {{'arith.addi' has no Verilog form (not supported by the Verilog printer)}}
  %s = arith.addi %a, %a : i8
  hw.output %s : i8
}

// -----

hw.module @div(in %clk : !seq.clock, out o : !seq.clock) {
  // expected-error @+1 {{'seq.clock_div' has no Verilog form}}
  %c = seq.clock_div %clk by 2
  hw.output %c : !seq.clock
}

// -----

hw.module.extern @requantizer<LANES: i32>(in %s_acc : i32, out m_data : i8)
hw.module @badparam(in %a : i32, out o : i8) {
  // expected-error @+1 {{parameter 'WIDTH' is not declared by @requantizer (declared: ['LANES'])}}
  %q = hw.instance "rq" @requantizer(s_acc: %a : i32) -> (m_data: i8) {parameters = {WIDTH = 8 : i32}}
  hw.output %q : i8
}

// -----

// expected-error @+1 {{external module 'mystery' is not an rtl_lib primitive}}
hw.module.extern @mystery(in %a : i8, out b : i8)
hw.module @user(in %a : i8, out o : i8) {
  %b = hw.instance "m" @mystery(a: %a : i8) -> (b: i8)
  hw.output %b : i8
}

// -----

hw.module @wide(in %a : i8, out o : i8) {
  // expected-error @+1 {{result #0 has type f32 with no Verilog form}}
  %f = "test.op"() : () -> f32
  hw.output %a : i8
}

// -----

// expected-error @+1 {{port name 'reg' is not a legal SystemVerilog identifier}}
hw.module @kw(in %a : i8, out reg : i8) {
  hw.output %a : i8
}

// -----

hw.module @poweron(in %clk : !seq.clock, in %d : i8, out o : i8) {
  %z = hw.constant 0 : i8
  // expected-error @+1 {{seq.compreg powerOn values are not supported}}
  %q = seq.compreg %d, %clk powerOn %z : i8
  hw.output %q : i8
}

// -----

hw.module.extern @rom<WIDTH: i32, IMAGE: none>(in %addr : i4, out rdata : i8)
hw.module @intforstring(in %a : i4, out o : i8) {
  // expected-error @+1 {{parameter 'IMAGE' is declared as a string (none), got 3 : i32}}
  %q = hw.instance "r" @rom(addr: %a : i4) -> (rdata: i8) {parameters = {IMAGE = 3 : i32}}
  hw.output %q : i8
}

// -----

hw.module.extern @rom<WIDTH: i32, IMAGE: none>(in %addr : i4, out rdata : i8)
hw.module @stringforint(in %a : i4, out o : i8) {
  // expected-error @+1 {{parameter 'WIDTH' must be an integer, got "8"}}
  %q = hw.instance "r" @rom(addr: %a : i4) -> (rdata: i8) {parameters = {WIDTH = "8"}}
  hw.output %q : i8
}

// -----

hw.module.extern @rom<WIDTH: i32, IMAGE: none>(in %addr : i4, out rdata : i8)
hw.module @quoted(in %a : i4, out o : i8) {
  // expected-error @+1 {{string parameter 'IMAGE' = 'a"b.hex' holds a quote, backslash or non-printable character}}
  %q = hw.instance "r" @rom(addr: %a : i4) -> (rdata: i8) {parameters = {IMAGE = "a\"b.hex"}}
  hw.output %q : i8
}
