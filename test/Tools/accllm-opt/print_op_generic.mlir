// RUN: accllm-opt --print-op-generic %s | FileCheck %s
// RUN: accllm-opt --print-op-generic %s | accllm-opt | FileCheck %s --check-prefix=ROUNDTRIP
// CHECK: "func.func"() <{sym_name = "f", function_type = () -> ()}> ({
// CHECK:   "func.return"() : () -> ()
// ROUNDTRIP: func.func @f() {

func.func @f() {
  func.return
}
