// RUN: not accllm-opt --split-input-file %s 2>&1 | FileCheck %s -DFILE=%s
// Line numbers stay those of the whole file, and every failing chunk is reported.
// CHECK: [[FILE]]:11:3: error: 'func.return' op Expected arguments
// CHECK: [[FILE]]:16:3: error: 'func.return' op Expected arguments

func.func @ok() {
  func.return
}
// -----
func.func @bad1(%a: i32) -> i64 {
  func.return %a : i32
}

// -----
func.func @bad2(%a: i32) -> i64 {
  func.return %a : i32
}
