// RUN: rm -rf %t && mkdir -p %t
// RUN: not accllm import %S/Inputs/bad_type --config-only -o %t/x.mlir 2>&1 | FileCheck %s --check-prefix=TYPE
// RUN: not accllm import %S/Inputs/tiny_gqa -o %t/x.mlir 2>&1 | FileCheck %s --check-prefix=NOWEIGHTS
// RUN: not accllm import %S/Inputs/missing --config-only -o %t/x.mlir 2>&1 | FileCheck %s --check-prefix=MISSING

// User errors are one line, no traceback.
// TYPE: accllm: error: model_type 'gpt2' is not supported (supported: llama, mistral, qwen2)
// TYPE-NOT: Traceback
// NOWEIGHTS: accllm: error: {{.*}}no *.safetensors weights (pickled weights are not loaded)
// NOWEIGHTS-NOT: Traceback
// MISSING: accllm: error: {{.*}}missing: no such file or directory
