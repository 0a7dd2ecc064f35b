// Targets whose issue has not landed say so (exit 2) and write nothing.
// RUN: not accllm-translate --emit-hls %s -o %t.cpp 2>&1 | FileCheck %s --check-prefix=HLS
// RUN: not test -e %t.cpp
// HLS: accllm-translate: error: --emit-hls is not implemented yet
// RUN: not accllm-translate %s 2>&1 | FileCheck %s --check-prefix=NOTARGET
// NOTARGET: one of the arguments --emit-verilog --emit-hls --emit-report is required

func.func @f() {
  func.return
}
