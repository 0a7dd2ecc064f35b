// RUN: accllm-opt --pass-pipeline='builtin.module(canonicalize)' %s | FileCheck %s
// RUN: accllm-opt -p canonicalize %s | FileCheck %s
// RUN: accllm-opt --pass-pipeline='builtin.module(canonicalize, cse)' %s | FileCheck %s
// RUN: accllm-opt --pass-pipeline='builtin.module()' %s | FileCheck %s --check-prefix=NOPASS

// CHECK-LABEL: func.func @fold_add_zero
// CHECK-NEXT:    func.return %a : i32
// NOPASS:        arith.addi
func.func @fold_add_zero(%a: i32) -> i32 {
  %c0 = arith.constant 0 : i32
  %0 = arith.addi %a, %c0 : i32
  func.return %0 : i32
}
