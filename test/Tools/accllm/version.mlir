// RUN: accllm --version | FileCheck %s
// RUN: accllm compile --help | FileCheck %s --check-prefix=HELP
// CHECK: accllm 0.1.0
// HELP: Run the compile flow: model -> reference -> import
// HELP: --stop-after
