// accllm-translate needs exactly one target.
// RUN: not accllm-translate %s 2>&1 | FileCheck %s --check-prefix=NOTARGET
// NOTARGET: one of the arguments --emit-verilog --emit-hls --emit-report is required

func.func @f() {
  func.return
}
