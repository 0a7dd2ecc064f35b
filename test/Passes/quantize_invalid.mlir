// accllm-quantize fails at the op it cannot handle, saying what to change; bad options fail
// before any work.
// RUN: accllm-opt %s -p accllm-quantize --split-input-file --verify-diagnostics
// RUN: not accllm-opt %s -p 'accllm-quantize{weights=4}' 2>&1 | FileCheck %s --check-prefix=W4
// RUN: not accllm-opt %s -p 'accllm-quantize{kv=8}' 2>&1 | FileCheck %s --check-prefix=KV8
// RUN: not accllm-opt %s -p 'accllm-quantize{group=100}' 2>&1 | FileCheck %s --check-prefix=G100
// W4: error: accllm-quantize: weights=4 is not supported: the numerics contract (docs/numerics.md) defines W2A8KV4 only; use weights=2
// KV8: error: accllm-quantize: kv=8 is not supported{{.*}}use kv=4
// G100: error: accllm-quantize: group=100 is not an allowed W2 group size (32, 64, 128)

func.func @unknown_float_op(%x: tensor<1x2x32xf32>) -> tensor<1x2x32xf32> {
  %w = smla.weight dense<1.0> : tensor<32xf32>
  %n = smla.rmsnorm %x, %w epsilon = 1.0e-05 : tensor<1x2x32xf32>, tensor<32xf32> -> tensor<1x2x32xf32>
  // expected-error @+1 {{accllm-quantize cannot quantize 'arith.addf'}}
  %y = arith.addf %n, %n : tensor<1x2x32xf32>
  func.return %y : tensor<1x2x32xf32>
}

// -----

func.func @not_causal(%q: tensor<1x4x32xf32>) -> tensor<1x4x32xf32> {
  // expected-error @+1 {{quantized attention is causal; this prefill is not}}
  %a = lattn.prefill %q, %q, %q {num_heads = 2, num_kv_heads = 2} : tensor<1x4x32xf32>, tensor<1x4x32xf32>, tensor<1x4x32xf32> -> tensor<1x4x32xf32>
  func.return %a : tensor<1x4x32xf32>
}

// -----

func.func @weight_from_argument(%x: tensor<1x2x32xf32>, %w: tensor<8x32xf32>) -> tensor<1x2x8xf32> {
  // expected-error @+1 {{the weight operand must be a float smla.weight to be quantized offline}}
  %y = smla.linear %x, %w : tensor<1x2x32xf32>, tensor<8x32xf32> -> tensor<1x2x8xf32>
  func.return %y : tensor<1x2x8xf32>
}

// -----

// A weight typed 2:4 whose data is not 2:4 (external data is not checked by the verifier).
func.func @lying_sparsity(%x: tensor<1x2x32xf32>) -> tensor<1x2x1xf32> {
  // expected-error @+1 {{weight is typed #smla.sparsity<2:4> but a block of 4 inputs has more than 2 non-zeros}}
  %w = smla.weight #smla.param<"Inputs/dense_1x32.safetensors", "w"> : tensor<1x32xf32, #smla.sparsity<2:4>>
  %y = smla.linear %x, %w : tensor<1x2x32xf32>, tensor<1x32xf32, #smla.sparsity<2:4>> -> tensor<1x2x1xf32>
  func.return %y : tensor<1x2x1xf32>
}
