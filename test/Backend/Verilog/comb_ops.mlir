// Every supported comb/hw op, one Verilog expression each; signed ops use $signed.
// RUN: accllm-translate --emit-verilog %s | FileCheck %s

// CHECK-LABEL: module ops (
// CHECK: logic [1:0][7:0] arr;
hw.module @ops(in %a : i8, in %b : i8, in %c : i1, in %clk : !seq.clock, out o : i8, out w : i16, out f : i1) {
  // CHECK: assign sum = a + b + a;
  %sum = comb.add %a, %b, %a : i8
  // CHECK: assign prod = a * b;
  %prod = comb.mul %a, %b : i8
  // CHECK: assign diff = a - b;
  %diff = comb.sub %a, %b : i8
  // CHECK: assign qu = a / b;
  %qu = comb.divu %a, %b : i8
  // CHECK: assign qs = $signed(a) / $signed(b);
  %qs = comb.divs %a, %b : i8
  // CHECK: assign ru = a % b;
  %ru = comb.modu %a, %b : i8
  // CHECK: assign rs = $signed(a) % $signed(b);
  %rs = comb.mods %a, %b : i8
  // CHECK: assign sl = a << b;
  %sl = comb.shl %a, %b : i8
  // CHECK: assign sru = a >> b;
  %sru = comb.shru %a, %b : i8
  // CHECK: assign srs = $signed(a) >>> b;
  %srs = comb.shrs %a, %b : i8
  // CHECK: assign x = a & b;
  %x = comb.and %a, %b : i8
  // CHECK: assign y = a | b;
  %y = comb.or %a, %b : i8
  // CHECK: assign z = a ^ b ^ sum;
  %z = comb.xor %a, %b, %sum : i8
  // CHECK: assign lt = $signed(a) < $signed(b);
  %lt = comb.icmp slt %a, %b : i8
  // CHECK: assign ge = a >= b;
  %ge = comb.icmp uge %a, %b : i8
  // CHECK: assign eq = a == b;
  %eq = comb.icmp eq %a, %b : i8
  // CHECK: assign hi = a[7:4];
  %hi = comb.extract %a from 4 : (i8) -> i4
  // `bit` is a keyword: renamed.
  // CHECK: assign bit_1 = b[0];
  %bit = comb.extract %b from 0 : (i8) -> i1
  // CHECK: assign cat = {hi, hi};
  %cat = comb.concat %hi, %hi : i4, i4
  // CHECK: assign rep = {8{c}};
  %rep = comb.replicate %c : (i1) -> i8
  // CHECK: assign neg = 8'hff;
  %neg = hw.constant -1 : i8
  // CHECK: assign arr = {a, b};
  %arr = hw.array_create %a, %b : i8
  // CHECK: assign el = arr[c];
  %el = hw.array_get %arr[%c] : !hw.array<2xi8>, i1
  // CHECK: assign flat = arr;
  %flat = hw.bitcast %arr : (!hw.array<2xi8>) -> i16
  // CHECK: always_ff @(posedge clk) r <= el;
  %r = seq.compreg %el, %clk : i8
  %t0 = comb.xor %prod, %diff, %qu, %qs, %ru, %rs, %sl, %sru, %srs, %x, %y, %z, %cat, %rep : i8
  %t1 = comb.xor %t0, %neg, %r : i8
  %f0 = comb.and %lt, %ge, %eq, %bit : i1
  // CHECK: assign o = t1;
  // CHECK: assign w = flat;
  // CHECK: assign f = f0;
  hw.output %t1, %flat, %f0 : i8, i16, i1
}
