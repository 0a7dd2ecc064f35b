// RUN: rm -rf %t && mkdir -p %t
// RUN: not accllm import %S/Inputs/bad_type --config-only -o %t/x.mlir 2>&1 | FileCheck %s --check-prefix=TYPE
// RUN: not accllm import %S/Inputs/tiny_gqa -o %t/x.mlir 2>&1 | FileCheck %s --check-prefix=NOWEIGHTS
// RUN: not accllm import %S/Inputs/missing --config-only -o %t/x.mlir 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not accllm import %S/Inputs/tiny_gqa --config-only --seq-len 100000 -o %t/x.mlir 2>&1 | FileCheck %s --check-prefix=SEQ

// User errors are one line, no traceback.
// TYPE: accllm: error: model_type 'gpt2' is not supported (supported: llama, mistral, qwen2)
// TYPE-NOT: Traceback
// NOWEIGHTS: accllm: error: {{.*}}no *.safetensors weights (pickled weights are not loaded)
// NOWEIGHTS-NOT: Traceback
// MISSING: accllm: error: {{.*}}missing: no such file or directory
// SEQ: accllm: error: {{.*}}config.json: --seq-len 100000 exceeds the model's max_position_embeddings = {{[0-9]+}}
// SEQ-NOT: Traceback
