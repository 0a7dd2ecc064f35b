// A function without a single-block body has no HLS form: a located error from the emitter and
// from hls-annotate, not an internal error (found by bench/fuzz_bench.py, issue #18).
// RUN: accllm-translate --emit-hls %s --verify-diagnostics
// RUN: accllm-opt -p hls-annotate %s --verify-diagnostics
// RUN: accllm-opt -p lower-to-accel %s --verify-diagnostics

// expected-error @+1 {{single-block functions, this one has 0}}
func.func private @f(%x: tensor<2xf32>) -> tensor<2xf32>
