// RUN: not accllm-opt %s 2>&1 | FileCheck %s -DFILE=%s
// A verifier error names the op and points at it.
// CHECK: [[FILE]]:7:3: error: 'func.return' op Expected arguments to have the same types as the function output types: expected [i64], got [i32]
// CHECK-NOT: Traceback

func.func @f(%a: i32) -> i64 {
  func.return %a : i32
}
