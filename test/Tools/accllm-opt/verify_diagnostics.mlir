// RUN: accllm-opt --split-input-file --verify-diagnostics %s
// A wrong expectation, or an expected error that does not happen, fails:
// RUN: sed -e 's/same types as the function/WRONG TEXT/' %s > %t.mlir
// RUN: not accllm-opt --split-input-file --verify-diagnostics %t.mlir 2>&1 | FileCheck %s --check-prefix=MISMATCH
// MISMATCH: error: unexpected error: 'func.return' op Expected arguments
// MISMATCH: error: expected error "{{.*}}WRONG TEXT{{.*}}" was not produced

func.func @f(%a: i32) -> i64 {
  // expected-error @+1 {{Expected arguments to have the same types as the function output types}}
  func.return %a : i32
}

// -----

func.func @g(%a: i32) -> i32 {
  // expected-error @+2 {{operand is used with type i32, but has been previously used or defined with type i64}}
  %0 = "arith.addi"(%a, %a) : (i32, i32) -> i64
  func.return %0 : i32
}
