// Ops and IR the HLS backend cannot map are errors at the op, never placeholder output.
// RUN: accllm-translate --emit-hls %s --split-input-file --verify-diagnostics

// A top-level array without an HBM channel: hls-annotate was not run.
// expected-error @+1 {{argument #0 has no hls.m_axi attribute (run the hls-annotate pass first)}}
func.func @no_channel(%x: !smla.qtensor<2x32xsi32, frac=16>) {
  func.return
}

// -----

func.func @unknown_op(%x: !smla.qtensor<2x32xsi32, frac=16> {hls.m_axi = #hls.m_axi<channel = 0>}) {
  // expected-error @+1 {{is not supported by the HLS C++ backend}}
  %c = "test.op"() : () -> i32
  func.return
}

// -----

// Dense W2 has no packed-stream format (the 256-bit words are 2:4 blocks).
func.func @dense_w2(%x: !smla.qtensor<2x32xsi32, frac=16> {hls.m_axi = #hls.m_axi<channel = 0>}) {
  // expected-error @+1 {{the HLS backend streams 2:4 W2 weights with pattern metadata}}
  %w = smla.weight {codes = dense<1> : tensor<8x32xi8>, zero_point = dense<1> : tensor<8x1xi8>, scale_mant = dense<300> : tensor<8x1xi32>, scale_exp = dense<12> : tensor<8xi8>} attributes {hls.m_axi = #hls.m_axi<channel = 1>} : !smla.qweight<8x32, ui2, group=32>
  func.return
}

// -----

// The old cache value is read after the append: in-place update would be wrong.
func.func @cache_reuse(%c: !lattn.kv_cache<heads=1, head_dim=16, sink=1, window=2, ui4> {hls.m_axi = #hls.m_axi<channel = 0>},
                       %k: !smla.qtensor<1x16xsi32, frac=16> {hls.m_axi = #hls.m_axi<channel = 1>},
                       %q: !smla.qtensor<1x16xsi32, frac=16> {hls.m_axi = #hls.m_axi<channel = 2>})
    -> (!smla.qtensor<1x16xsi32, frac=16> {hls.m_axi = #hls.m_axi<channel = 3>}) {
  // expected-error @+1 {{the appended-to cache is used again}}
  %c1 = lattn.append %c, %k, %k : !lattn.kv_cache<heads=1, head_dim=16, sink=1, window=2, ui4>, !smla.qtensor<1x16xsi32, frac=16>, !smla.qtensor<1x16xsi32, frac=16>
  %o = lattn.decode %q, %c {num_heads = 1} : !smla.qtensor<1x16xsi32, frac=16>, !lattn.kv_cache<heads=1, head_dim=16, sink=1, window=2, ui4> -> !smla.qtensor<1x16xsi32, frac=16>
  func.return %o : !smla.qtensor<1x16xsi32, frac=16>
}
