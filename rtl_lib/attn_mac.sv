// Attention MAC over KV4 codes (8 x 4-bit products with a zero point), two modes per reduction:
//   QK (s_mode = 0): one key token per reduction; a beat brings LANES head dims of it:
//       dot = sum_d q[d] * (kc[d] - kz)                                   q int8, kc/kz 0..15
//     output lane 0 = saturate(dot, OUT_W) (the contract bounds |dot| < 2^31), other lanes 0.
//   PV (s_mode = 1): one chunk of LANES head dims per reduction; a beat brings one token j:
//       vdeq[d] = round_shift(vc[d] - vz, ev - VFRAC)    (KV4 dequantization, contract
//                                                          kv4_dequantize with out_frac = VFRAC)
//       o[d]    = saturate(round_shift(sum_j P_j * vdeq[d], PFRAC), OUT_W)
//     with P_j the unsigned Q1.PFRAC probability and ev the token's signed exponent.
// s_last marks the last beat of a reduction. Requirement of the PV path: |vdeq| < 2^(DEQ_W-1),
// which kv4_quantize of any int32 Q15.16 tensor guarantees at DEQ_W = 34 (docs/rtl_lib.md).
// Resources: the 8 x 5-bit QK products stay in LUTs; the PV product (17 x DEQ_W bits) is a DSP
// product per lane.
// Pipeline: 5 stages, one beat per cycle, result 5 cycles after the last beat is accepted; the
// whole pipeline stalls while the output holds an unaccepted result.
module attn_mac #(
    parameter int LANES    = 8,
    parameter int P_W      = 16,  // probability width (unsigned)
    parameter int DEQ_W    = 34,  // dequantized V width (signed)
    parameter int ACC_W    = 64,  // accumulator width (signed)
    parameter int OUT_W    = 32,
    parameter int VFRAC    = 16,  // fraction bits of dequantized V (residual stream Q15.16)
    parameter int PFRAC    = 15   // fraction bits of the probabilities
) (
    input  logic                     clk,
    input  logic                     rst,
    input  logic                     s_valid,
    output logic                     s_ready,
    input  logic                     s_mode,   // 0 = QK^T, 1 = PV
    input  logic [LANES*4-1:0]       s_codes,  // KV4 codes of LANES head dims, dim 0 lowest
    input  logic [3:0]               s_zero,   // zero point of this token
    input  logic [7:0]               s_exp,    // signed exponent of this token (PV)
    input  logic [LANES*8-1:0]       s_q,      // int8 query of the same dims (QK)
    input  logic [P_W-1:0]           s_prob,   // probability of this token (PV)
    input  logic                     s_last,
    output logic                     m_valid,
    input  logic                     m_ready,
    output logic                     m_mode,
    output logic [LANES*OUT_W-1:0]   m_data    // signed results, lane 0 lowest
);
  localparam int QT_W = 13;                         // int8 * [-15, 15]
  localparam int QS_W = QT_W + $clog2(LANES) + 1;   // sum of LANES such terms
  localparam int PT_W = P_W + 1 + DEQ_W;            // unsigned P x signed vdeq
  localparam int RS_W = 17;                         // (c - z) + 2^14 for right shifts <= 15
  localparam logic signed [ACC_W-1:0] OUT_MAX = ACC_W'({1'b0, {(OUT_W - 1) {1'b1}}});
  localparam logic signed [ACC_W-1:0] OUT_MIN = -OUT_MAX - ACC_W'(1);

  logic ce;
  logic v1, v2, v3, v4, v5;
  logic m1, m2, m3, m4, m5;
  logic l1, l2, l3;
  assign ce      = !v5 || m_ready;
  assign s_ready = ce;
  assign m_valid = v5;
  assign m_mode  = m5;

  always_ff @(posedge clk) begin
    if (rst) begin
      {v1, v2, v3, v4, v5} <= '0;
    end else if (ce) begin
      v1 <= s_valid;
      v2 <= v1;
      v3 <= v2;
      v4 <= v3 && l3;
      v5 <= v4;
    end
  end
  always_ff @(posedge clk) begin
    if (ce) begin
      {m1, l1} <= {s_mode, s_last};
      {m2, l2} <= {m1, l1};
      {m3, l3} <= {m2, l2};
      if (v3 && l3) m4 <= m3;
      m5 <= m4;
    end
  end

  // ---- stage 1: zero-point subtraction, dequantization shift amount ------------------------
  logic signed [8:0] sh1;  // ev - VFRAC: > 0 rounds right, <= 0 shifts left
  logic [P_W-1:0]    prob1, prob2;
  always_ff @(posedge clk) begin
    if (ce) begin
      sh1   <= 9'($signed(s_exp)) - 9'(VFRAC);
      prob1 <= s_prob;
      prob2 <= prob1;
    end
  end

  logic signed [QT_W-1:0] qterm2[LANES];
  logic signed [PT_W-1:0] pterm3[LANES];

  for (genvar d = 0; d < LANES; d++) begin : g_lane
    logic signed [4:0] diff1;
    logic signed [7:0] q1;
    always_ff @(posedge clk) begin
      if (ce) begin
        diff1 <= $signed({1'b0, s_codes[4*d+:4]}) - $signed({1'b0, s_zero});
        q1    <= s_q[8*d+:8];
      end
    end

    // ---- stage 2: KV4 dequantization (round_shift by ev - VFRAC) and the QK product --------
    logic signed [DEQ_W-1:0] vdeq2;
    logic signed [RS_W-1:0]  rnd;
    logic [3:0]              rsh;
    assign rsh = sh1[3:0];
    assign rnd = (RS_W'(diff1) + (RS_W'(1) <<< (rsh - 4'd1))) >>> rsh;
    always_ff @(posedge clk) begin
      if (ce) begin
        if (sh1 > 9'sd0) vdeq2 <= DEQ_W'(rnd);
        else vdeq2 <= DEQ_W'(diff1) <<< (-sh1);
        qterm2[d] <= QT_W'(q1) * QT_W'(diff1);
      end
    end

    // ---- stage 3: PV product (DSP) ------------------------------------------------------------
    always_ff @(posedge clk) begin
      if (ce) pterm3[d] <= PT_W'($signed({1'b0, prob2}) * vdeq2);
    end
  end

  // ---- stage 3: QK adder tree ----------------------------------------------------------------
  logic signed [QS_W-1:0] qsum3;
  always_ff @(posedge clk) begin
    if (ce) begin
      logic signed [QS_W-1:0] s;
      s = '0;
      for (int d = 0; d < LANES; d++) s = s + QS_W'(qterm2[d]);
      qsum3 <= s;
    end
  end

  // ---- stages 4 and 5: accumulate, then round/saturate the finished reduction -----------------
  for (genvar d = 0; d < LANES; d++) begin : g_acc
    logic signed [ACC_W-1:0] acc, term, sum, fin4, rounded;
    logic signed [OUT_W-1:0] out5;
    assign term = m3 ? ACC_W'(pterm3[d]) : ((d == 0) ? ACC_W'(qsum3) : '0);
    assign sum  = acc + term;
    always_ff @(posedge clk) begin
      if (rst) acc <= '0;
      else if (ce && v3) acc <= l3 ? '0 : sum;
    end
    always_ff @(posedge clk) begin
      if (ce && v3 && l3) fin4 <= sum;
    end
    // PV rounds half toward +infinity (add 2^(PFRAC-1), shift); fin4 + half cannot overflow
    // because |sum_j P_j vdeq_j| <= 2^(PFRAC+1) * 2^(DEQ_W-1) * tokens << 2^(ACC_W-1).
    assign rounded = m4 ? ((fin4 + (ACC_W'(1) <<< (PFRAC - 1))) >>> PFRAC) : fin4;
    always_ff @(posedge clk) begin
      if (ce) begin
        if (rounded > OUT_MAX) out5 <= OUT_MAX[OUT_W-1:0];
        else if (rounded < OUT_MIN) out5 <= OUT_MIN[OUT_W-1:0];
        else out5 <= rounded[OUT_W-1:0];
      end
    end
    assign m_data[OUT_W*d+:OUT_W] = out5;
  end
endmodule
