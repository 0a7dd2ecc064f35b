// RUN: not accllm-opt %t.does-not-exist.mlir 2>&1 | FileCheck %s
// CHECK: does-not-exist.mlir:0:0: error: cannot open input file: No such file or directory
