// RUN: accllm-opt %s -p accllm-lambda-attention --verify-diagnostics
// RUN: not accllm-opt %s -p 'accllm-lambda-attention{window=0}' 2>&1 | FileCheck %s --check-prefix=W0
// RUN: not accllm-opt %s -p 'accllm-lambda-attention{sink=-1}' 2>&1 | FileCheck %s --check-prefix=SNEG
// W0: error: accllm-lambda-attention: window must be >= 1 (the current token), got 0
// SNEG: error: accllm-lambda-attention: sink must be >= 0, got -1

func.func @bidirectional(%q: tensor<1x6x64xf32>) -> tensor<1x6x64xf32> {
  // expected-error @+1 {{the Λ mask restricts causal attention; this prefill is not causal}}
  %a = lattn.prefill %q, %q, %q {num_heads = 4, num_kv_heads = 4} : tensor<1x6x64xf32>, tensor<1x6x64xf32>, tensor<1x6x64xf32> -> tensor<1x6x64xf32>
  func.return %a : tensor<1x6x64xf32>
}
