// RUN: accllm-opt -p canonicalize,cse --mlir-print-ir-after-all %s 2>&1 >/dev/null | FileCheck %s
// CHECK: // -----// IR Dump After canonicalize //----- //
// CHECK: arith.addi
// CHECK: // -----// IR Dump After cse //----- //

func.func @f(%a: i32) -> i32 {
  %0 = arith.addi %a, %a : i32
  func.return %0 : i32
}
