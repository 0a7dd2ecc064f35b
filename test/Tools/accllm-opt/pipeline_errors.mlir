// Malformed or unsupported pipelines are located errors with exit code 1.
// RUN: not accllm-opt --pass-pipeline='builtin.module(func.func(canonicalize))' %s 2>&1 | FileCheck %s --check-prefix=NESTED
// NESTED: <pass-pipeline>:1:16: error: cannot honour the nested anchor 'func.func'

// RUN: not accllm-opt --pass-pipeline='canonicalize' %s 2>&1 | FileCheck %s --check-prefix=ANCHOR
// ANCHOR: <pass-pipeline>:1:1: error: the pipeline must be anchored on 'builtin.module(...)'

// RUN: not accllm-opt --pass-pipeline='builtin.module(no-such-pass)' %s 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: error: invalid pipeline: Unrecognized passes: ['no-such-pass']

// RUN: not accllm-opt --pass-pipeline='builtin.module(canonicalize{max-iterations=1' %s 2>&1 | FileCheck %s --check-prefix=UNBALANCED
// UNBALANCED: error: expected ')' at the end of the pipeline

// RUN: not accllm-opt -p 'canonicalize{no-such-option=3}' %s 2>&1 | FileCheck %s --check-prefix=OPTION
// OPTION: error: invalid pipeline: Provided arguments ["no_such_option"] not found

func.func @f() {
  func.return
}
