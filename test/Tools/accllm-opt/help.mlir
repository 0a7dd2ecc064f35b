// RUN: accllm-opt --help | FileCheck %s
// CHECK: --pass-pipeline PIPELINE
// CHECK: --split-input-file
// CHECK: --verify-diagnostics
// CHECK: --mlir-print-ir-after-all
// CHECK: accllm passes:
// CHECK: upstream xDSL passes
// CHECK: canonicalize
