// RUN: accllm-opt --split-input-file -p canonicalize %s | FileCheck %s
// Each chunk is processed on its own and the outputs are joined by the marker again.
// CHECK:       func.func @first
// CHECK:       // -----
// CHECK:       func.func @second

func.func @first() {
  func.return
}

// -----

func.func @second() {
  func.return
}
