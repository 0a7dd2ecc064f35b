// A failing --emit-verilog writes nothing: no top, no copied sources, no file list, not even its
// output directory (the emitter writes into a staging directory moved into place on success).
// RUN: rm -rf %t && mkdir -p %t
// RUN: not accllm-translate --emit-verilog %s -o %t/v/top.sv 2>&1 | FileCheck %s
// CHECK: error: 'hw.module.extern' op external module 'no_such_primitive' is not an rtl_lib primitive
// RUN: not ls %t/v
// RUN: %python -c "import os, sys; sys.exit(len(os.listdir(sys.argv[1])))" %t

hw.module.extern @no_such_primitive(in %a : i8, out o : i8)

hw.module @top(in %a : i8, out o : i8) {
  %o = hw.instance "u" @no_such_primitive(a: %a : i8) -> (o : i8)
  hw.output %o : i8
}
