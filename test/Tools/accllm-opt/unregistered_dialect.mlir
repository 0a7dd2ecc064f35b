// RUN: not accllm-opt %s 2>&1 | FileCheck %s --check-prefix=STRICT -DFILE=%s
// RUN: accllm-opt --allow-unregistered-dialect %s | FileCheck %s --check-prefix=OPAQUE
// STRICT: [[FILE]]:8:{{[0-9]+}}: error: Operation mystery.relu is not registered
// OPAQUE: "mystery.relu"(%{{.*}}) : (i32) -> i32

func.func @f(%a: i32) -> i32 {
  // ops of unknown dialects are kept opaque
  %0 = "mystery.relu"(%a) : (i32) -> i32
  func.return %0 : i32
}
