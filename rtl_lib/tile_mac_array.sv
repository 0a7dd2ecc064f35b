// GEMM-tile MAC array of the stream-fed linear unit: LANES output rows in parallel, each beat
// applied to one token `s_tok` of a tile of up to TOK tokens (per-token partial sums and
// accumulators), so a weight beat held for T cycles serves T tokens (weights streamed once per
// tile). Two datapaths, chosen per beat by `s_i8`:
// * W2 2:4 (contract sparse_group_mac): per lane, BLOCKS 7-bit blocks (pattern [2:0], lower code
//   [4:3], higher code [6:5]) in s_w[l*32 +: 7*BLOCKS] against 4*BLOCKS activations;
//   p[t,o,g] = sum x * (code - z), acc[t,o] = sum_g p * S (S: the group's 16-bit mantissa);
// * int8 (contract linear_int8, the LM head): per lane, P8 int8 weights in s_w[l*32 +: 8*P8]
//   against the first P8 activations; every beat closes a "group" of scale 1, so
//   acc[t,o] = sum w * x in the same 48-bit accumulator.
// s_group_last closes the token's group (W2: the beat ends a group of G/(4 BLOCKS) beats),
// s_row_last ends the token's row and emits its LANES accumulators (m_tok says which token).
// Pipeline: 4 stages (products + adder tree, group accumulate, scale multiply, row accumulate),
// one beat per cycle, the output 4 cycles after a row's last beat; the whole pipeline stalls
// while the output holds an unaccepted result. Beats of one token may follow each other in
// consecutive cycles (the per-token registers are read after the previous write).
// Bounds: |p| <= 128 * 3 * G / 2 < 2^19 (G <= 2048) and |int8 beat| <= 128 * 127 * P8 < 2^19
// (P8 <= 32) fit PSUM_W = 20; |acc| < 2^47 (docs/numerics.md) fits ACC_W = 48.
module tile_mac_array #(
    parameter int LANES = 4,
    parameter int BLOCKS = 4,
    parameter int P8 = 4,
    parameter int TOK = 4,
    parameter int PSUM_W = 20,
    parameter int SCALE_W = 16,
    parameter int ACC_W = 48
) (
    input  logic                       clk,
    input  logic                       rst,
    input  logic                       s_valid,
    output logic                       s_ready,
    input  logic                       s_i8,
    input  logic [        TOK_W-1:0]   s_tok,
    input  logic [   BLOCKS*4*8-1:0]   s_act,        // int8 activations, element 0 lowest
    input  logic [     LANES*32-1:0]   s_w,          // per lane: W2 blocks or int8 weights
    input  logic [      LANES*2-1:0]   s_zero,       // zero point of the group, per lane
    input  logic [LANES*SCALE_W-1:0]   s_scale,      // group-scale mantissa, per lane
    input  logic                       s_group_last,
    input  logic                       s_row_last,
    output logic                       m_valid,
    input  logic                       m_ready,
    output logic [        TOK_W-1:0]   m_tok,
    output logic [  LANES*ACC_W-1:0]   m_acc         // signed accumulators, lane 0 lowest
);
  localparam int TOK_W = (TOK > 1) ? $clog2(TOK) : 1;
  localparam int PROD_W = PSUM_W + SCALE_W;
  localparam int TERM_W = 11;  // int8 * [-3, 3]
  if (BLOCKS * 7 > 32 || P8 * 8 > 32 || P8 > BLOCKS * 4) begin : g_bad_params
    $error("tile_mac_array: a lane's beat is at most 32 bits (BLOCKS <= 4, P8 <= 4)");
  end

  logic ce, v1, g1, r1, v2, r2, v3, r3, v4;
  logic [TOK_W-1:0] t1, t2, t3;
  assign ce = !v4 || m_ready;
  assign s_ready = ce;
  assign m_valid = v4;

  always_ff @(posedge clk) begin
    if (rst) begin
      v1 <= 1'b0;
      v2 <= 1'b0;
      v3 <= 1'b0;
      v4 <= 1'b0;
    end else if (ce) begin
      v1 <= s_valid;
      v2 <= v1 && (g1 || r1);  // only completed groups move on
      v3 <= v2;
      v4 <= v3 && r3;  // only completed rows are output
    end
  end

  always_ff @(posedge clk) begin
    if (ce) begin
      g1 <= s_group_last || s_i8;
      r1 <= s_row_last;
      t1 <= s_tok;
      r2 <= r1;
      t2 <= t1;
      r3 <= r2;
      t3 <= t2;
      if (v3 && r3) m_tok <= t3;
    end
  end

  // x * d for d in [-3, 3] as shift-and-add: a LUT-sized product, never a DSP.
  function automatic logic signed [TERM_W-1:0] w2_term(input logic signed [7:0] x,
                                                        input logic signed [2:0] d);
    logic signed [TERM_W-1:0] xe, mag;
    xe = TERM_W'(x);
    case (d[1:0] ^ {2{d[2]}})
      2'd0: mag = '0;
      2'd1: mag = xe;
      2'd2: mag = xe <<< 1;
      default: mag = xe + (xe <<< 1);
    endcase
    if (d[2]) w2_term = -(mag + xe);
    else w2_term = mag;
  endfunction

  for (genvar l = 0; l < LANES; l++) begin : g_lane
    // ---- stage 1: 2:4 selection and W2 x A8 terms, or int8 products; adder tree --------------
    logic signed [PSUM_W-1:0] beat_sum, w2_sum, i8_sum;
    logic signed [2:0] z;
    assign z = $signed({1'b0, s_zero[2*l+:2]});
    assign beat_sum = s_i8 ? i8_sum : w2_sum;
    always_comb begin
      i8_sum = '0;
      for (int i = 0; i < P8; i++)
        i8_sum = i8_sum + PSUM_W'(16'(signed'(s_w[l*32+8*i+:8])) * 16'(signed'(s_act[8*i+:8])));
    end
    always_comb begin
      w2_sum = '0;
      for (int b = 0; b < BLOCKS; b++) begin
        logic [6:0] blk;
        logic [1:0] i_lo, i_hi;
        logic legal;
        blk = s_w[l*32+7*b+:7];
        legal = 1'b1;
        case (blk[2:0])
          3'd0: begin i_lo = 2'd0; i_hi = 2'd1; end
          3'd1: begin i_lo = 2'd0; i_hi = 2'd2; end
          3'd2: begin i_lo = 2'd0; i_hi = 2'd3; end
          3'd3: begin i_lo = 2'd1; i_hi = 2'd2; end
          3'd4: begin i_lo = 2'd1; i_hi = 2'd3; end
          3'd5: begin i_lo = 2'd2; i_hi = 2'd3; end
          default: begin i_lo = 2'd0; i_hi = 2'd1; legal = 1'b0; end
        endcase
        if (legal)
          w2_sum = w2_sum
              + PSUM_W'(w2_term(s_act[8*(4*b+int'(i_lo))+:8], $signed({1'b0, blk[4:3]}) - z))
              + PSUM_W'(w2_term(s_act[8*(4*b+int'(i_hi))+:8], $signed({1'b0, blk[6:5]}) - z));
      end
    end

    logic signed [PSUM_W-1:0] bsum1;
    logic [SCALE_W-1:0] scale1, scale2;
    always_ff @(posedge clk) begin
      if (ce) begin
        bsum1 <= beat_sum;
        scale1 <= s_i8 ? SCALE_W'(1) : s_scale[SCALE_W*l+:SCALE_W];
        scale2 <= scale1;
      end
    end

    // ---- stage 2: per-token group partial sum ---------------------------------------------------
    logic signed [PSUM_W-1:0] pacc[TOK];
    logic signed [PSUM_W-1:0] gsum, gsum2;
    assign gsum = pacc[t1] + bsum1;
    always_ff @(posedge clk) begin
      if (rst) begin
        for (int t = 0; t < TOK; t++) pacc[t] <= '0;
      end else if (ce && v1) pacc[t1] <= (g1 || r1) ? '0 : gsum;
    end
    always_ff @(posedge clk) begin
      if (ce) gsum2 <= gsum;
    end

    // ---- stage 3: scale by the group mantissa (one DSP) -----------------------------------------
    logic signed [PROD_W-1:0] prod3;
    always_ff @(posedge clk) begin
      if (ce) prod3 <= PROD_W'(gsum2 * $signed({1'b0, scale2}));
    end

    // ---- stage 4: per-token row accumulator -------------------------------------------------------
    logic signed [ACC_W-1:0] acc[TOK];
    logic signed [ACC_W-1:0] rsum, out4;
    assign rsum = acc[t3] + ACC_W'(prod3);
    always_ff @(posedge clk) begin
      if (rst) begin
        for (int t = 0; t < TOK; t++) acc[t] <= '0;
      end else if (ce && v3) acc[t3] <= r3 ? '0 : rsum;
    end
    always_ff @(posedge clk) begin
      if (ce && v3 && r3) out4 <= rsum;
    end
    assign m_acc[ACC_W*l+:ACC_W] = out4;
  end
endmodule
