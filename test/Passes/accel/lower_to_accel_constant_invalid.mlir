// A constant that is not a contiguous run of RoPE positions has no accel mapping.
// RUN: not accllm-opt %s -p 'lower-to-accel{target="sim"}' 2>&1 | FileCheck %s
// CHECK: error: 'arith.constant' op only a contiguous run of RoPE positions (p0, p0+1, ...) has an accel mapping
func.func @f(%q: !smla.qtensor<2x64xsi32, frac=16>) -> !smla.qtensor<2x64xsi32, frac=16> {
  %pos = arith.constant dense<[3, 1]> : tensor<2xi64>
  %qr = smla.rope %q, %pos {head_dim = 16 : i64, theta = 1.000000e+04 : f64, max_positions = 256 : i64} : !smla.qtensor<2x64xsi32, frac=16>, tensor<2xi64> -> !smla.qtensor<2x64xsi32, frac=16>
  func.return %qr : !smla.qtensor<2x64xsi32, frac=16>
}
