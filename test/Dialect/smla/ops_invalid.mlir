// Every verifier error of the smla ops.
// RUN: accllm-opt %s --split-input-file --verify-diagnostics

// ---- smla.weight ----

// expected-error @+1 {{result must be a float tensor, !smla.qweight or !smla.qtensor, got tensor<4xi32>}}
%0 = smla.weight #smla.param<"m.safetensors", "w"> : tensor<4xi32>

// -----

// expected-error @+1 {{inline dense<...> data is for float tensors; quantized weights take a dictionary of components}}
%0 = smla.weight dense<1> : tensor<4x4xi8> : !smla.qtensor<4x4xsi8, frac=0>

// -----

// expected-error @+1 {{dense data of type tensor<4x4xf32> does not match the result tensor<4x8xf32>}}
%0 = smla.weight dense<1.0> : tensor<4x4xf32> : tensor<4x8xf32>

// -----

// expected-error @+1 {{inline weight violates 2:4 sparsity: a block of 4 inputs has more than 2 non-zeros}}
%0 = smla.weight dense<[[1.0, 2.0, 0.0, 0.0], [1.0, 0.0, 3.0, 4.0]]> : tensor<2x4xf32> : tensor<2x4xf32, #smla.sparsity<2:4>>

// -----

// expected-error @+1 {{a float weight takes dense<...> data, not a dictionary}}
%0 = smla.weight {values = dense<1.0> : tensor<4xf32>} : tensor<4xf32>

// -----

// expected-error @+1 {{value must be #smla.param, dense<...> or a dictionary, got "w.bin"}}
%0 = smla.weight "w.bin" : tensor<4xf32>

// -----

// expected-error @+1 {{expected ':' and the weight's type}}
%0 = smla.weight #smla.param<"m.safetensors", "w">

// -----

// expected-error @+1 {{inline smla.qtensor needs exactly the components ['exp', 'values'], got ['values']}}
%0 = smla.weight {values = dense<1> : tensor<2x2xi8>} : !smla.qtensor<2x2xsi8, per_token>

// -----

// expected-error @+1 {{component 'exp' must be an integer dense<...> attribute}}
%0 = smla.weight {values = dense<1> : tensor<2x2xi8>, exp = dense<1.0> : tensor<2xf32>} : !smla.qtensor<2x2xsi8, per_token>

// -----

// expected-error @+1 {{component 'exp' has shape 3, expected 2}}
%0 = smla.weight {values = dense<1> : tensor<2x2xi8>, exp = dense<1> : tensor<3xi8>} : !smla.qtensor<2x2xsi8, per_token>

// -----

// A8 codes are symmetric: -128 is never produced.
// expected-error @+1 {{component 'values' has values outside [-127, 127]}}
%0 = smla.weight {values = dense<-128> : tensor<2x2xi8>, exp = dense<1> : tensor<2xi8>} : !smla.qtensor<2x2xsi8, per_token>

// -----

// expected-error @+1 {{component 'exp' has values outside [-32, 31]}}
%0 = smla.weight {values = dense<1> : tensor<2x2xi8>, exp = dense<40> : tensor<2xi8>} : !smla.qtensor<2x2xsi8, per_token>

// -----

// expected-error @+1 {{component 'values' has values outside [-32768, 32767]}}
%0 = smla.weight {values = dense<40000> : tensor<2xi32>} : !smla.qtensor<2xsi16, frac=8>

// -----

// expected-error @+1 {{component 'zero_point' has values outside [0, 3]}}
%0 = smla.weight {codes = dense<0> : tensor<1x32xi8>, zero_point = dense<4> : tensor<1x1xi8>, scale_mant = dense<1> : tensor<1x1xi32>, scale_exp = dense<0> : tensor<1xi8>} : !smla.qweight<1x32, ui2, group=32>

// -----

// expected-error @+1 {{component 'codes' has values outside [0, 3]}}
%0 = smla.weight {codes = dense<-1> : tensor<1x32xi8>, zero_point = dense<0> : tensor<1x1xi8>, scale_mant = dense<1> : tensor<1x1xi32>, scale_exp = dense<0> : tensor<1xi8>} : !smla.qweight<1x32, ui2, group=32>

// -----

// expected-error @+1 {{component 'scale_mant' has values outside [0, 65535]}}
%0 = smla.weight {codes = dense<0> : tensor<1x32xi8>, zero_point = dense<0> : tensor<1x1xi8>, scale_mant = dense<65536> : tensor<1x1xi32>, scale_exp = dense<0> : tensor<1xi8>} : !smla.qweight<1x32, ui2, group=32>

// -----

// expected-error @+1 {{component 'scale_exp' has values outside [0, 47]}}
%0 = smla.weight {codes = dense<0> : tensor<1x32xi8>, zero_point = dense<0> : tensor<1x1xi8>, scale_mant = dense<1> : tensor<1x1xi32>, scale_exp = dense<48> : tensor<1xi8>} : !smla.qweight<1x32, ui2, group=32>

// -----

// Pattern codes 6 and 7 are illegal (6 legal position pairs).
// expected-error @+1 {{component 'meta' has values outside [0, 5]}}
%0 = smla.weight {codes = dense<0> : tensor<1x16xi8>, zero_point = dense<0> : tensor<1x1xi8>, scale_mant = dense<1> : tensor<1x1xi32>, scale_exp = dense<0> : tensor<1xi8>, meta = dense<6> : tensor<1x8xi8>} : !smla.qweight<1x32, ui2, group=32, sparse=2:4>

// -----

// expected-error @+1 {{2:4 index metadata must name two distinct positions per block, lower first}}
%0 = smla.weight {codes = dense<0> : tensor<1x16xi8>, zero_point = dense<0> : tensor<1x1xi8>, scale_mant = dense<1> : tensor<1x1xi32>, scale_exp = dense<0> : tensor<1xi8>, meta = dense<[[2, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]]> : tensor<1x16xi8>} : !smla.qweight<1x32, ui2, group=32, sparse=2:4, meta=index>

// -----

// ---- forms ----

func.func @f(%x: tensor<4x64xf32>, %w: !smla.qweight<64x64, ui2, group=32>) {
  // expected-error @+1 {{mixes float tensors and quantized types: tensor<4x64xf32>, !smla.qweight<64x64, ui2, group=32>, tensor<4x64xf32> (use smla.quantize / smla.dequantize between levels)}}
  %0 = smla.linear %x, %w : tensor<4x64xf32>, !smla.qweight<64x64, ui2, group=32> -> tensor<4x64xf32>
  func.return
}

// -----

func.func @f(%x: i32) {
  // expected-error @+1 {{expected a tensor or quantized type, got i32}}
  %0 = smla.silu %x : i32 -> i32
  func.return
}

// -----

func.func @f(%x: tensor<4x64xf32>, %g: tensor<64xf16>) {
  // expected-error @+1 {{float operands and result must share one element type; gamma has f16, expected f32}}
  %0 = smla.rmsnorm %x, %g epsilon = 1.0e-05 : tensor<4x64xf32>, tensor<64xf16> -> tensor<4x64xf32>
  func.return
}

// -----

// ---- smla.linear / smla.lm_head ----

func.func @f(%x: tensor<f32>, %w: tensor<4x4xf32>) {
  // expected-error @+1 {{input must have rank >= 1, got shape }}
  %0 = smla.linear %x, %w : tensor<f32>, tensor<4x4xf32> -> tensor<4xf32>
  func.return
}

// -----

func.func @f(%x: tensor<2x4xf32>, %w: tensor<4xf32>) {
  // expected-error @+1 {{weight must be 2-D [out, in], got shape 4}}
  %0 = smla.linear %x, %w : tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xf32>
  func.return
}

// -----

func.func @f(%x: tensor<2x64xf32>, %w: tensor<64x32xf32>) {
  // expected-error @+1 {{input feature size 64 does not match the weight's input size 32 (weight is [out, in])}}
  %0 = smla.linear %x, %w : tensor<2x64xf32>, tensor<64x32xf32> -> tensor<2x64xf32>
  func.return
}

// -----

func.func @f(%x: tensor<2x32xf32>, %w: tensor<64x32xf32>) {
  // expected-error @+1 {{result has shape 2x32, expected 2x64}}
  %0 = smla.linear %x, %w : tensor<2x32xf32>, tensor<64x32xf32> -> tensor<2x32xf32>
  func.return
}

// -----

func.func @f(%x: tensor<2x32xf32>, %w: tensor<64x32xf32>, %b: tensor<32xf32>) {
  // expected-error @+1 {{bias has shape 32, expected 64}}
  %0 = smla.linear %x, %w bias %b : tensor<2x32xf32>, tensor<64x32xf32>, tensor<32xf32> -> tensor<2x64xf32>
  func.return
}

// -----

func.func @f(%x: tensor<2x32xf32>, %w: tensor<64x32xf32, "csr">) {
  // expected-error @+1 {{float weight encoding must be #smla.sparsity or none, got "csr"}}
  %0 = smla.linear %x, %w : tensor<2x32xf32>, tensor<64x32xf32, "csr"> -> tensor<2x64xf32>
  func.return
}

// -----

func.func @f(%x: tensor<2x6xf32>, %w: tensor<8x6xf32, #smla.sparsity<2:4>>) {
  // expected-error @+1 {{2:4 sparse weight needs K divisible by 4, got K=6}}
  %0 = smla.linear %x, %w : tensor<2x6xf32>, tensor<8x6xf32, #smla.sparsity<2:4>> -> tensor<2x8xf32>
  func.return
}

// -----

func.func @f(%x: tensor<2x32xf32>, %w: tensor<64x32xf32>) {
  // expected-error @+1 {{acc_bits applies to the quantized form only}}
  %0 = smla.linear %x, %w {acc_bits = 32} : tensor<2x32xf32>, tensor<64x32xf32> -> tensor<2x64xf32>
  func.return
}

// -----

func.func @f(%x: !smla.qtensor<2x64xsi32, frac=16>, %w: !smla.qweight<64x64, ui2, group=32>) {
  // expected-error @+1 {{quantized input must be per-token A8 (!smla.qtensor<...xsi8, per_token>), got !smla.qtensor<2x64xsi32, frac=16>}}
  %0 = smla.linear %x, %w {acc_bits = 48} : !smla.qtensor<2x64xsi32, frac=16>, !smla.qweight<64x64, ui2, group=32> -> !smla.qtensor<2x64xsi32, frac=16>
  func.return
}

// -----

func.func @f(%x: !smla.qtensor<2x64xsi8, per_token>, %w: !smla.qtensor<64x64xsi8, frac=0>) {
  // expected-error @+1 {{quantized weight must be !smla.qweight, got !smla.qtensor<64x64xsi8, frac=0>}}
  %0 = smla.linear %x, %w {acc_bits = 48} : !smla.qtensor<2x64xsi8, per_token>, !smla.qtensor<64x64xsi8, frac=0> -> !smla.qtensor<2x64xsi32, frac=16>
  func.return
}

// -----

func.func @f(%x: !smla.qtensor<2x64xsi8, per_token>, %w: !smla.qweight<64x64, ui2, group=32>) {
  // expected-error @+1 {{quantized result must be fixed point si32 (frac=F), got !smla.qtensor<2x64xsi16, frac=16>}}
  %0 = smla.linear %x, %w {acc_bits = 48} : !smla.qtensor<2x64xsi8, per_token>, !smla.qweight<64x64, ui2, group=32> -> !smla.qtensor<2x64xsi16, frac=16>
  func.return
}

// -----

func.func @f(%x: !smla.qtensor<2x64xsi8, per_token>, %w: !smla.qweight<64x64, ui2, group=32>, %b: !smla.qtensor<64xsi32, frac=8>) {
  // expected-error @+1 {{quantized bias must have the result's element type and frac, got !smla.qtensor<64xsi32, frac=8>}}
  %0 = smla.linear %x, %w bias %b {acc_bits = 48} : !smla.qtensor<2x64xsi8, per_token>, !smla.qweight<64x64, ui2, group=32>, !smla.qtensor<64xsi32, frac=8> -> !smla.qtensor<2x64xsi32, frac=16>
  func.return
}

// -----

func.func @f(%x: !smla.qtensor<2x64xsi8, per_token>, %w: !smla.qweight<64x64, ui2, group=32>) {
  // expected-error @+1 {{quantized form needs acc_bits (accumulator width)}}
  %0 = smla.linear %x, %w : !smla.qtensor<2x64xsi8, per_token>, !smla.qweight<64x64, ui2, group=32> -> !smla.qtensor<2x64xsi32, frac=16>
  func.return
}

// -----

// K = 4096 dense W2: 4096 * 127 * 3 * 65535 needs 38 bits.
func.func @f(%x: !smla.qtensor<1x4096xsi8, per_token>, %w: !smla.qweight<64x4096, ui2, group=128>) {
  // expected-error @+1 {{accumulator of 37 bits can overflow: K=4096 with !smla.qweight<64x4096, ui2, group=128> needs 38 bits}}
  %0 = smla.linear %x, %w {acc_bits = 37} : !smla.qtensor<1x4096xsi8, per_token>, !smla.qweight<64x4096, ui2, group=128> -> !smla.qtensor<1x64xsi32, frac=16>
  func.return
}

// -----

// 2:4 halves the products: the same K fits one bit less.
func.func @f(%x: !smla.qtensor<1x4096xsi8, per_token>, %w: !smla.qweight<64x4096, ui2, group=128, sparse=2:4>) {
  // expected-error @+1 {{accumulator of 36 bits can overflow: K=4096 with !smla.qweight<64x4096, ui2, group=128, sparse=2:4> needs 37 bits}}
  %0 = smla.linear %x, %w {acc_bits = 36} : !smla.qtensor<1x4096xsi8, per_token>, !smla.qweight<64x4096, ui2, group=128, sparse=2:4> -> !smla.qtensor<1x64xsi32, frac=16>
  func.return
}

// -----

// A K so large that even the 48-bit DSP accumulator cannot hold the proven bound.
func.func @f(%x: !smla.qtensor<1x8388864xsi8, per_token>, %w: !smla.qweight<1x8388864, ui2, group=128>) {
  // expected-error @+1 {{accumulator of 48 bits can overflow: K=8388864}}
  %0 = smla.linear %x, %w {acc_bits = 48} : !smla.qtensor<1x8388864xsi8, per_token>, !smla.qweight<1x8388864, ui2, group=128> -> !smla.qtensor<1x1xsi32, frac=16>
  func.return
}

// -----

func.func @f(%x: !smla.qtensor<1x64xsi8, per_token>, %w: !smla.qweight<64x64, ui2, group=32>) {
  // expected-error @+1 {{accumulator of 49 bits exceeds the 48-bit hardware accumulator of this weight scheme}}
  %0 = smla.linear %x, %w {acc_bits = 49} : !smla.qtensor<1x64xsi8, per_token>, !smla.qweight<64x64, ui2, group=32> -> !smla.qtensor<1x64xsi32, frac=16>
  func.return
}

// -----

// The int8 LM head feeds the 32-bit requantizer input.
func.func @f(%x: !smla.qtensor<1x64xsi8, per_token>, %w: !smla.qweight<256x64, si8>) {
  // expected-error @+1 {{accumulator of 40 bits exceeds the 32-bit hardware accumulator of this weight scheme}}
  %0 = smla.lm_head %x, %w {acc_bits = 40} : !smla.qtensor<1x64xsi8, per_token>, !smla.qweight<256x64, si8> -> !smla.qtensor<1x256xsi32, frac=16>
  func.return
}

// -----

func.func @f(%x: !smla.qtensor<1x64xsi8, per_token>, %w: !smla.qweight<256x64, si8>) {
  // expected-error @+1 {{accumulator of 20 bits can overflow: K=64 with !smla.qweight<256x64, si8> needs 21 bits}}
  %0 = smla.lm_head %x, %w {acc_bits = 20} : !smla.qtensor<1x64xsi8, per_token>, !smla.qweight<256x64, si8> -> !smla.qtensor<1x256xsi32, frac=16>
  func.return
}

// -----

func.func @f(%x: tensor<1x64xf32>, %w: tensor<256x64xf32>) {
  // expected-error @+1 {{result has shape 1x64, expected 1x256}}
  %0 = smla.lm_head %x, %w : tensor<1x64xf32>, tensor<256x64xf32> -> tensor<1x64xf32>
  func.return
}

// -----

// ---- quantize / dequantize / requantize ----

func.func @f(%x: !smla.qtensor<2x4xsi32, frac=16>) {
  // expected-error @+1 {{input must be a float tensor, got !smla.qtensor<2x4xsi32, frac=16>}}
  %0 = smla.quantize %x : !smla.qtensor<2x4xsi32, frac=16> -> !smla.qtensor<2x4xsi8, per_token>
  func.return
}

// -----

func.func @f(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{result must be !smla.qtensor, got tensor<2x4xf16>}}
  %0 = smla.quantize %x : tensor<2x4xf32> -> tensor<2x4xf16>
  func.return
}

// -----

func.func @f(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{result has shape 4x2, expected 2x4}}
  %0 = smla.quantize %x : tensor<2x4xf32> -> !smla.qtensor<4x2xsi8, per_token>
  func.return
}

// -----

func.func @f(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{input must be !smla.qtensor or !smla.qweight, got tensor<2x4xf32>}}
  %0 = smla.dequantize %x : tensor<2x4xf32> -> tensor<2x4xf32>
  func.return
}

// -----

func.func @f(%x: !smla.qtensor<2x4xsi8, per_token>) {
  // expected-error @+1 {{result must be a float tensor, got !smla.qtensor<2x4xsi32, frac=16>}}
  %0 = smla.dequantize %x : !smla.qtensor<2x4xsi8, per_token> -> !smla.qtensor<2x4xsi32, frac=16>
  func.return
}

// -----

func.func @f(%w: !smla.qweight<8x32, ui2, group=32, sparse=2:4>) {
  // expected-error @+1 {{dequantized result is a plain tensor (no encoding)}}
  %0 = smla.dequantize %w : !smla.qweight<8x32, ui2, group=32, sparse=2:4> -> tensor<8x32xf32, #smla.sparsity<2:4>>
  func.return
}

// -----

func.func @f(%w: !smla.qweight<8x32, ui2, group=32>) {
  // expected-error @+1 {{result has shape 32x8, expected 8x32}}
  %0 = smla.dequantize %w : !smla.qweight<8x32, ui2, group=32> -> tensor<32x8xf32>
  func.return
}

// -----

func.func @f(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{input must be !smla.qtensor, got tensor<2x4xf32>}}
  %0 = smla.requantize %x : tensor<2x4xf32> -> !smla.qtensor<2x4xsi8, per_token>
  func.return
}

// -----

func.func @f(%x: !smla.qtensor<2x4xsi8, per_token>) {
  // expected-error @+1 {{result must be !smla.qtensor, got tensor<2x4xf32>}}
  %0 = smla.requantize %x : !smla.qtensor<2x4xsi8, per_token> -> tensor<2x4xf32>
  func.return
}

// -----

func.func @f(%x: !smla.qtensor<2x4xsi8, per_token>) {
  // expected-error @+1 {{requantizing per-token to per-token is not defined}}
  %0 = smla.requantize %x : !smla.qtensor<2x4xsi8, per_token> -> !smla.qtensor<2x4xsi8, per_token>
  func.return
}

// -----

func.func @f(%x: !smla.qtensor<2x4xsi32, frac=16>) {
  // expected-error @+1 {{result has shape 2x8, expected 2x4}}
  %0 = smla.requantize %x : !smla.qtensor<2x4xsi32, frac=16> -> !smla.qtensor<2x8xsi8, per_token>
  func.return
}

// -----

// ---- smla.add / smla.mul ----

func.func @f(%x: tensor<2x4xf32>, %y: tensor<4x2xf32>) {
  // expected-error @+1 {{rhs has shape 4x2, expected 2x4}}
  %0 = smla.add %x, %y : tensor<2x4xf32>, tensor<4x2xf32> -> tensor<2x4xf32>
  func.return
}

// -----

func.func @f(%x: !smla.qtensor<2x4xsi8, per_token>) {
  // expected-error @+1 {{quantized lhs must be fixed point (frac=F), got !smla.qtensor<2x4xsi8, per_token>}}
  %0 = smla.add %x, %x : !smla.qtensor<2x4xsi8, per_token>, !smla.qtensor<2x4xsi8, per_token> -> !smla.qtensor<2x4xsi8, per_token>
  func.return
}

// -----

func.func @f(%x: !smla.qtensor<2x4xsi32, frac=16>, %y: !smla.qtensor<2x4xsi32, frac=8>) {
  // expected-error @+1 {{quantized add needs identical operand and result types}}
  %0 = smla.add %x, %y : !smla.qtensor<2x4xsi32, frac=16>, !smla.qtensor<2x4xsi32, frac=8> -> !smla.qtensor<2x4xsi32, frac=16>
  func.return
}

// -----

func.func @f(%x: !smla.qtensor<2x4xsi64, frac=16>, %y: !smla.qtensor<2x4xsi8, frac=0>) {
  // expected-error @+1 {{product of si64 and si8 needs 72 bits and can overflow the 64-bit intermediate}}
  %0 = smla.mul %x, %y : !smla.qtensor<2x4xsi64, frac=16>, !smla.qtensor<2x4xsi8, frac=0> -> !smla.qtensor<2x4xsi32, frac=16>
  func.return
}

// -----

func.func @f(%x: !smla.qtensor<2x4xsi16, frac=62>, %y: !smla.qtensor<2x4xsi16, frac=62>) {
  // expected-error @+1 {{rescaling shift 124 is outside [-62, 62]}}
  %0 = smla.mul %x, %y : !smla.qtensor<2x4xsi16, frac=62>, !smla.qtensor<2x4xsi16, frac=62> -> !smla.qtensor<2x4xsi32, frac=0>
  func.return
}

// -----

func.func @f(%x: tensor<2x4xf32>, %y: tensor<2x4xf32>) {
  // expected-error @+1 {{result has shape 2x8, expected 2x4}}
  %0 = smla.mul %x, %y : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x8xf32>
  func.return
}

// -----

// ---- smla.rmsnorm ----

func.func @f(%x: tensor<2x64xf32>, %g: tensor<32xf32>) {
  // expected-error @+1 {{gamma has shape 32, expected 64}}
  %0 = smla.rmsnorm %x, %g epsilon = 1.0e-05 : tensor<2x64xf32>, tensor<32xf32> -> tensor<2x64xf32>
  func.return
}

// -----

func.func @f(%x: tensor<2x64xf32>, %g: tensor<64xf32>) {
  // expected-error @+1 {{epsilon must be >= 0, got -1.0}}
  %0 = smla.rmsnorm %x, %g epsilon = -1.0 : tensor<2x64xf32>, tensor<64xf32> -> tensor<2x64xf32>
  func.return
}

// -----

func.func @f(%x: !smla.qtensor<2x64xsi16, frac=8>, %g: !smla.qtensor<64xsi16, frac=8>) {
  // expected-error @+1 {{quantized input must be the residual format !smla.qtensor<...xsi32, frac=16>, got !smla.qtensor<2x64xsi16, frac=8>}}
  %0 = smla.rmsnorm %x, %g epsilon = 1.0e-05 : !smla.qtensor<2x64xsi16, frac=8>, !smla.qtensor<64xsi16, frac=8> -> !smla.qtensor<2x64xsi16, frac=8>
  func.return
}

// -----

func.func @f(%x: !smla.qtensor<2x64xsi32, frac=16>, %g: !smla.qtensor<64xsi32, frac=8>) {
  // expected-error @+1 {{quantized gamma must be si16 fixed point (frac=sh_g), got !smla.qtensor<64xsi32, frac=8>}}
  %0 = smla.rmsnorm %x, %g epsilon = 1.0e-05 : !smla.qtensor<2x64xsi32, frac=16>, !smla.qtensor<64xsi32, frac=8> -> !smla.qtensor<2x64xsi32, frac=16>
  func.return
}

// -----

func.func @f(%x: !smla.qtensor<2x64xsi32, frac=16>, %g: !smla.qtensor<64xsi16, frac=-1>) {
  // expected-error @+1 {{gamma frac -1 is outside [0, 47]}}
  %0 = smla.rmsnorm %x, %g epsilon = 1.0e-05 : !smla.qtensor<2x64xsi32, frac=16>, !smla.qtensor<64xsi16, frac=-1> -> !smla.qtensor<2x64xsi32, frac=16>
  func.return
}

// -----

func.func @f(%x: !smla.qtensor<1x65537xsi32, frac=16>, %g: !smla.qtensor<65537xsi16, frac=8>) {
  // expected-error @+1 {{hidden size 65537 exceeds 65536: the sum of squares can overflow}}
  %0 = smla.rmsnorm %x, %g epsilon = 1.0e-05 : !smla.qtensor<1x65537xsi32, frac=16>, !smla.qtensor<65537xsi16, frac=8> -> !smla.qtensor<1x65537xsi32, frac=16>
  func.return
}

// -----

// ---- smla.silu / smla.swiglu ----

func.func @f(%x: !smla.qtensor<2x4xsi8, per_token>) {
  // expected-error @+1 {{quantized input must be the residual format}}
  %0 = smla.silu %x : !smla.qtensor<2x4xsi8, per_token> -> !smla.qtensor<2x4xsi8, per_token>
  func.return
}

// -----

func.func @f(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{result has shape 4x2, expected 2x4}}
  %0 = smla.silu %x : tensor<2x4xf32> -> tensor<4x2xf32>
  func.return
}

// -----

func.func @f(%g: tensor<2x4xf32>, %u: tensor<2x8xf32>) {
  // expected-error @+1 {{up has shape 2x8, expected 2x4}}
  %0 = smla.swiglu %g, %u : tensor<2x4xf32>, tensor<2x8xf32> -> tensor<2x4xf32>
  func.return
}

// -----

func.func @f(%g: !smla.qtensor<2x4xsi32, frac=16>, %u: !smla.qtensor<2x4xsi32, frac=12>) {
  // expected-error @+1 {{quantized up must be the residual format}}
  %0 = smla.swiglu %g, %u : !smla.qtensor<2x4xsi32, frac=16>, !smla.qtensor<2x4xsi32, frac=12> -> !smla.qtensor<2x4xsi32, frac=16>
  func.return
}

// -----

// ---- smla.rope ----

func.func @f(%x: tensor<64xf32>, %p: tensor<1xi64>) {
  // expected-error @+1 {{input must have rank >= 2, got shape 64}}
  %0 = smla.rope %x, %p {head_dim = 16, theta = 10000.0, max_positions = 128} : tensor<64xf32>, tensor<1xi64> -> tensor<64xf32>
  func.return
}

// -----

func.func @f(%x: tensor<4x64xf32>, %p: tensor<4xi64>) {
  // expected-error @+1 {{head_dim must be positive and even, got 15}}
  %0 = smla.rope %x, %p {head_dim = 15, theta = 10000.0, max_positions = 128} : tensor<4x64xf32>, tensor<4xi64> -> tensor<4x64xf32>
  func.return
}

// -----

func.func @f(%x: tensor<4x64xf32>, %p: tensor<4xi64>) {
  // expected-error @+1 {{feature size 64 is not a multiple of head_dim 24}}
  %0 = smla.rope %x, %p {head_dim = 24, theta = 10000.0, max_positions = 128} : tensor<4x64xf32>, tensor<4xi64> -> tensor<4x64xf32>
  func.return
}

// -----

func.func @f(%x: tensor<4x64xf32>, %p: tensor<4xi64>) {
  // expected-error @+1 {{theta must be > 0, got 0.0}}
  %0 = smla.rope %x, %p {head_dim = 16, theta = 0.0, max_positions = 128} : tensor<4x64xf32>, tensor<4xi64> -> tensor<4x64xf32>
  func.return
}

// -----

func.func @f(%x: tensor<4x64xf32>, %p: tensor<4xi64>) {
  // expected-error @+1 {{max_positions must be positive}}
  %0 = smla.rope %x, %p {head_dim = 16, theta = 10000.0, max_positions = 0} : tensor<4x64xf32>, tensor<4xi64> -> tensor<4x64xf32>
  func.return
}

// -----

func.func @f(%x: tensor<4x64xf32>, %p: tensor<4xf32>) {
  // expected-error @+1 {{positions must be an integer tensor, got tensor<4xf32>}}
  %0 = smla.rope %x, %p {head_dim = 16, theta = 10000.0, max_positions = 128} : tensor<4x64xf32>, tensor<4xf32> -> tensor<4x64xf32>
  func.return
}

// -----

func.func @f(%x: tensor<4x64xf32>, %p: tensor<3xi64>) {
  // expected-error @+1 {{positions has shape 3, expected 4}}
  %0 = smla.rope %x, %p {head_dim = 16, theta = 10000.0, max_positions = 128} : tensor<4x64xf32>, tensor<3xi64> -> tensor<4x64xf32>
  func.return
}

// -----

func.func @f(%x: !smla.qtensor<4x64xsi32, frac=16>, %p: tensor<4xi64>) {
  // expected-error @+1 {{quantized result must be the residual format}}
  %0 = smla.rope %x, %p {head_dim = 16, theta = 10000.0, max_positions = 128} : !smla.qtensor<4x64xsi32, frac=16>, tensor<4xi64> -> !smla.qtensor<4x64xsi32, frac=15>
  func.return
}

// -----

// ---- smla.embedding ----

func.func @f(%ids: tensor<4xf32>, %t: tensor<16x8xf32>) {
  // expected-error @+1 {{ids must be an integer tensor, got tensor<4xf32>}}
  %0 = smla.embedding %ids, %t : tensor<4xf32>, tensor<16x8xf32> -> tensor<4x8xf32>
  func.return
}

// -----

func.func @f(%ids: tensor<4xi64>, %t: tensor<16xf32>) {
  // expected-error @+1 {{table must be 2-D [vocab, hidden], got 16}}
  %0 = smla.embedding %ids, %t : tensor<4xi64>, tensor<16xf32> -> tensor<4x8xf32>
  func.return
}

// -----

func.func @f(%ids: tensor<4xi64>, %t: tensor<16x8xf32>) {
  // expected-error @+1 {{result has shape 4x16, expected 4x8}}
  %0 = smla.embedding %ids, %t : tensor<4xi64>, tensor<16x8xf32> -> tensor<4x16xf32>
  func.return
}

// -----

func.func @f(%ids: tensor<4xi64>, %t: !smla.qtensor<16x8xsi32, frac=16>) {
  // expected-error @+1 {{quantized table must be per-token A8, got !smla.qtensor<16x8xsi32, frac=16>}}
  %0 = smla.embedding %ids, %t : tensor<4xi64>, !smla.qtensor<16x8xsi32, frac=16> -> !smla.qtensor<4x8xsi32, frac=16>
  func.return
}

// -----

func.func @f(%ids: tensor<4xi64>, %t: !smla.qtensor<16x8xsi8, per_token>) {
  // expected-error @+1 {{quantized result must be the residual format}}
  %0 = smla.embedding %ids, %t : tensor<4xi64>, !smla.qtensor<16x8xsi8, per_token> -> !smla.qtensor<4x8xsi8, per_token>
  func.return
}

// -----
// Bounds the hardware relies on (issue #18).

func.func @f(%x: tensor<2x64xf32>, %g: tensor<64xf32>) {
  // expected-error @+1 {{epsilon must be finite, got inf}}
  %0 = smla.rmsnorm %x, %g epsilon = 1.0e+309 : tensor<2x64xf32>, tensor<64xf32> -> tensor<2x64xf32>
  func.return
}

// -----

func.func @f(%x: tensor<4x64xf32>, %p: tensor<4xi64>) {
  // expected-error @+1 {{max_positions = 2147483648 exceeds 1048576 (the RoPE tables a target holds)}}
  %0 = smla.rope %x, %p {head_dim = 16, theta = 10000.0, max_positions = 2147483648} : tensor<4x64xf32>, tensor<4xi64> -> tensor<4x64xf32>
  func.return
}

// -----

func.func @f(%x: tensor<8x64xf32>, %p: tensor<8xi64>) {
  // expected-error @+1 {{8 positions of a sequence cannot all be below max_positions = 4}}
  %0 = smla.rope %x, %p {head_dim = 16, theta = 10000.0, max_positions = 4} : tensor<8x64xf32>, tensor<8xi64> -> tensor<8x64xf32>
  func.return
}

// -----

func.func @f(%x: tensor<4x64xf32>) {
  %p = arith.constant dense<[0, 1, 2, 9]> : tensor<4xi64>
  // expected-error @+1 {{position 9 is outside [0, max_positions = 8)}}
  %0 = smla.rope %x, %p {head_dim = 16, theta = 10000.0, max_positions = 8} : tensor<4x64xf32>, tensor<4xi64> -> tensor<4x64xf32>
  func.return
}

// -----

func.func @f(%ids: tensor<1x4xi64>, %t: tensor<0x64xf32>) {
  // expected-error @+1 {{table must have vocab >= 1 and hidden >= 1, got 0x64}}
  %0 = smla.embedding %ids, %t : tensor<1x4xi64>, tensor<0x64xf32> -> tensor<1x4x64xf32>
  func.return
}
