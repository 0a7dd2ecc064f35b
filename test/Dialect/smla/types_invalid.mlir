// Every verifier and parser error of the smla types and attributes.
// RUN: accllm-opt %s --split-input-file --verify-diagnostics

// expected-error @+1 {{#smla.param needs a non-empty file name}}
"test.op"() {p = #smla.param<"", "w">} : () -> ()

// -----

// expected-error @+1 {{#smla.param needs a non-empty tensor name}}
"test.op"() {p = #smla.param<"m.safetensors", "">} : () -> ()

// -----

// expected-error @+1 {{sparsity 1:4 is not supported (legal: 2:4)}}
"test.op"() {s = #smla.sparsity<1:4>} : () -> ()

// -----

// expected-error @+1 {{Expected one of 'index', 'pattern' (sparsity metadata)}}
"test.op"() {s = #smla.sparsity<2:4, bitmap>} : () -> ()

// -----

// expected-error @+1 {{!smla.qweight must be 2-D [out, in], got 4x4x32}}
"test.op"() : () -> !smla.qweight<4x4x32, ui2, group=32>

// -----

// expected-error @+1 {{!smla.qweight needs a static shape with positive sizes, got ?x128}}
"test.op"() : () -> !smla.qweight<?x128, ui2, group=32>

// -----

// expected-error @+1 {{!smla.qweight codes i2 must state signedness: ui2 (asymmetric W2) or si8 (symmetric int8)}}
"test.op"() : () -> !smla.qweight<4096x4096, i2, group=128, sparse=2:4>

// -----

// expected-error @+1 {{unsigned (asymmetric) weight codes must be ui2, got ui4}}
"test.op"() : () -> !smla.qweight<64x64, ui4, group=32>

// -----

// expected-error @+1 {{signed (symmetric) weight codes must be si8, got si4}}
"test.op"() : () -> !smla.qweight<64x64, si4>

// -----

// expected-error @+1 {{W2 weights need a group size (group=G)}}
"test.op"() : () -> !smla.qweight<64x64, ui2>

// -----

// expected-error @+1 {{group size 16 is not one of 32, 64, 128}}
"test.op"() : () -> !smla.qweight<64x64, ui2, group=16>

// -----

// expected-error @+1 {{group size 128 does not divide the input size K=96}}
"test.op"() : () -> !smla.qweight<64x96, ui2, group=128>

// -----

// expected-error @+1 {{int8 weights have one scale per output channel: drop 'group='}}
"test.op"() : () -> !smla.qweight<64x64, si8, group=32>

// -----

// expected-error @+1 {{2:4 sparsity needs K divisible by 4, got K=10}}
"test.op"() : () -> !smla.qweight<64x10, si8, sparse=2:4>

// -----

// expected-error @+1 {{'meta=' must follow 'sparse=N:M'}}
"test.op"() : () -> !smla.qweight<64x64, ui2, group=32, meta=index>

// -----

// expected-error @+1 {{sparsity 4:8 is not supported (legal: 2:4)}}
"test.op"() : () -> !smla.qweight<64x64, ui2, group=32, sparse=4:8>

// -----

// expected-error @+1 {{!smla.qweight codes must be an integer type, got f32}}
"test.op"() : () -> !smla.qweight<64x64, f32, group=32>

// -----

// expected-error @+1 {{!smla.qtensor element must be an integer type, got f32}}
"test.op"() : () -> !smla.qtensor<4x64xf32, frac=16>

// -----

// expected-error @+1 {{!smla.qtensor element must be a signed integer (siN), got i32}}
"test.op"() : () -> !smla.qtensor<4x64xi32, frac=16>

// -----

// expected-error @+1 {{!smla.qtensor needs a static shape with positive sizes, got ?x64}}
"test.op"() : () -> !smla.qtensor<?x64xsi32, frac=16>

// -----

// expected-error @+1 {{per-token quantized tensors are si8, got si16}}
"test.op"() : () -> !smla.qtensor<4x64xsi16, per_token>

// -----

// expected-error @+1 {{a per-token quantized tensor needs rank >= 1}}
"test.op"() : () -> !smla.qtensor<si8, per_token>

// -----

// expected-error @+1 {{fixed-point element wider than 64 bits: si128}}
"test.op"() : () -> !smla.qtensor<4xsi128, frac=0>

// -----

// expected-error @+1 {{frac 63 is outside [-62, 62]}}
"test.op"() : () -> !smla.qtensor<4xsi32, frac=63>
