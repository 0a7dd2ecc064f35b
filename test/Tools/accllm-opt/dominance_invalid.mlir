// A value used before its definition is an error at the use (xDSL 0.74's verifier does not check
// SSA dominance; accllm-quantize used to crash on such IR: found by bench/fuzz_bench.py).
// RUN: accllm-opt %s --split-input-file --verify-diagnostics
// RUN: accllm-opt -p accllm-compress %s --split-input-file --verify-diagnostics

func.func @f(%x: tensor<1x2x32xf32>) -> tensor<1x2x32xf32> {
  %g = smla.weight dense<1.0> : tensor<32xf32>
  // expected-error @+1 {{'smla.rmsnorm' op operand #0 is used before its definition}}
  %n = smla.rmsnorm %m, %g epsilon = 1.0e-05 : tensor<1x2x32xf32>, tensor<32xf32> -> tensor<1x2x32xf32>
  %m = smla.rmsnorm %x, %g epsilon = 1.0e-05 : tensor<1x2x32xf32>, tensor<32xf32> -> tensor<1x2x32xf32>
  func.return %n : tensor<1x2x32xf32>
}
