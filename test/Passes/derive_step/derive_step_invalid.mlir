// accllm-derive-step refuses, with a location, a function it cannot derive a step from.
// RUN: accllm-opt %s -p 'accllm-derive-step{tokens=1}' --split-input-file --verify-diagnostics

// expected-error @+1 {{no constant RoPE positions 0..3 (the prompt's) to replace}}
func.func @forward(%ids: tensor<1x4xi64>) -> tensor<1x4xi64> {
  func.return %ids : tensor<1x4xi64>
}

// -----

// expected-error @+1 {{@forward must take token ids tensor<1xPxi64> first}}
func.func @forward(%x: tensor<4xf32>) -> tensor<4xf32> {
  func.return %x : tensor<4xf32>
}

// -----

func.func @forward(%ids: tensor<1x4xi64>) -> tensor<1x4xi64> {
  func.return %ids : tensor<1x4xi64>
}
// expected-error @+1 {{@decode exists already}}
func.func @decode(%ids: tensor<1x1xi64>) -> tensor<1x1xi64> {
  func.return %ids : tensor<1x1xi64>
}
