// RUN: accllm-opt < %s | FileCheck %s
// RUN: accllm-opt - < %s | FileCheck %s
// RUN: accllm-opt %s -o %t && FileCheck %s < %t
// CHECK: func.func @f() {

func.func @f() {
  func.return
}
