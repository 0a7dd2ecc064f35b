// RUN: not accllm-opt %s 2>&1 | FileCheck %s --check-prefix=STRICT -DFILE=%s
// RUN: accllm-opt --allow-unregistered-dialect %s | FileCheck %s --check-prefix=OPAQUE
// STRICT: [[FILE]]:8:{{[0-9]+}}: error: Operation torch.aten.relu is not registered
// OPAQUE: "torch.aten.relu"(%{{.*}}) : (i32) -> i32

func.func @f(%a: i32) -> i32 {
  // torch-mlir output is read in generic form as opaque ops
  %0 = "torch.aten.relu"(%a) : (i32) -> i32
  func.return %0 : i32
}
