// RUN: not accllm-opt %s 2>&1 | FileCheck %s -DFILE=%s
// A malformed file is a located diagnostic and exit code 1, never a traceback.
// CHECK: [[FILE]]:9:15: error: operand is used with type i32, but has been previously used or defined with type i64
// CHECK-NOT: Traceback

func.func @f(%a: i32) -> i32 {
  %0 = "arith.addi"(%a, %a) : (i32, i32) -> i64
  // the use below disagrees with the definition above
  func.return %0 : i32
}
