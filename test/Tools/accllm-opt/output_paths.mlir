// Output paths are checked before any work, and a failing run writes nothing (issue #18).
// RUN: rm -rf %t && mkdir -p %t
// RUN: not accllm-opt %s -o %t/nodir/out.mlir 2>&1 | FileCheck %s --check-prefix=NODIR
// NODIR: accllm-opt: error: {{.*}}nodir/out.mlir: the directory {{.*}}nodir of the output file does not exist
// RUN: not accllm-opt %s -o %t 2>&1 | FileCheck %s --check-prefix=ISDIR
// ISDIR: accllm-opt: error: {{.*}}: output file names a directory
// RUN: not accllm-opt %t/missing.mlir -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: missing.mlir:0:0: error: cannot open input file: No such file or directory
// MISSING-NOT: Traceback
// RUN: not ls %t/out.mlir
// A verifier error: no output file at all (not an empty one).
// RUN: echo 'func.func @f(%x: tensor<2x64xf32>, %g: tensor<64xf32>) { %0 = smla.rmsnorm %x, %g epsilon = -1.0 : tensor<2x64xf32>, tensor<64xf32> -> tensor<2x64xf32> func.return }' > %t/bad.mlir
// RUN: not accllm-opt %t/bad.mlir -o %t/out.mlir
// RUN: not ls %t/out.mlir
// A successful run replaces the file whole.
// RUN: accllm-opt %s -o %t/out.mlir && FileCheck %s < %t/out.mlir
// CHECK: func.func @f()
// RUN: not accllm-translate %t/missing.mlir --emit-report 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: echo > %t/afile
// RUN: not accllm-translate %s --emit-hls --hls-testbench-dir %t/afile 2>&1 | FileCheck %s --check-prefix=TBFILE
// TBFILE: accllm-translate: error: {{.*}}afile: --hls-testbench-dir names an existing file, not a directory

func.func @f() {
  func.return
}
