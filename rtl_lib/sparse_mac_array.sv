// 2:4-sparse W2 x A8 MAC array with per-group scaling into a wide accumulator.
// LANES output channels in parallel; each beat brings BLOCKS 2:4 blocks (4*BLOCKS activations,
// shared by all lanes) per lane. Numerics contract (sparse group MAC), per lane o:
//   p[o,g]  = sum over kept j in group g of x[j] * (code_j - z[o,g])      (PSUM_W signed bits)
//   acc[o]  = sum over groups g of p[o,g] * S[o,g]                         (ACC_W signed bits)
// with x int8, code 0..3, z 0..3 and S the unsigned SCALE_W-bit group-scale mantissa.
// Sequencing is by flags, so the group size G is not fixed in hardware: a group spans the beats
// up to one with s_group_last; s_row_last ends the row (and its group) and emits the LANES
// accumulators. s_zero is read on every beat (it must be constant within a group), s_scale on
// the beat that ends a group.
// Metadata: pattern code 0..5 = kept positions (0,1),(0,2),(0,3),(1,2),(1,3),(2,3); illegal codes
// 6 and 7 contribute zero (w2_unpacker flags them upstream).
// Resources: the W2 x A8 products are a 3-way mux (x, 2x, 3x, negated) in LUTs: a DSP slice per
// 2-bit product would waste it; one DSP per lane does the PSUM_W x SCALE_W group scaling.
// Bounds: |p| <= 128*3*G/2 < 2^(PSUM_W-1) needs G <= 2048 at PSUM_W = 20; ACC_W = 48 is a DSP48
// accumulator (docs/numerics.md proves the bound from K and G).
// Pipeline: 4 stages (products+adder tree, group accumulate, scale multiply, row accumulate);
// one beat per cycle; the output appears 4 cycles after the row's last beat is accepted; the
// whole pipeline stalls while the output holds an unaccepted result.
module sparse_mac_array #(
    parameter int LANES   = 4,
    parameter int BLOCKS  = 4,
    parameter int PSUM_W  = 20,
    parameter int SCALE_W = 16,
    parameter int ACC_W   = 48
) (
    input  logic                         clk,
    input  logic                         rst,
    input  logic                         s_valid,
    output logic                         s_ready,
    input  logic [BLOCKS*4*8-1:0]        s_act,      // int8 activations, element 0 lowest
    input  logic [LANES*BLOCKS*3-1:0]    s_pattern,  // lane-major: lane l block b at l*BLOCKS+b
    input  logic [LANES*BLOCKS*2-1:0]    s_code_lo,  // code of the lower kept position
    input  logic [LANES*BLOCKS*2-1:0]    s_code_hi,  // code of the higher kept position
    input  logic [LANES*2-1:0]           s_zero,     // zero point of the current group per lane
    input  logic [LANES*SCALE_W-1:0]     s_scale,    // group-scale mantissa per lane
    input  logic                         s_group_last,
    input  logic                         s_row_last,
    output logic                         m_valid,
    input  logic                         m_ready,
    output logic [LANES*ACC_W-1:0]       m_acc       // signed accumulators, lane 0 lowest
);
  localparam int PROD_W = PSUM_W + SCALE_W;  // signed x unsigned product width
  localparam int TERM_W = 11;                // int8 * [-3, 3] fits 11 signed bits

  logic ce;
  logic v1, g1, r1;
  logic v2, r2;
  logic v3, r3;
  logic v4;
  assign ce      = !v4 || m_ready;
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
      v4 <= v3 && r3;          // only completed rows are output
    end
  end

  always_ff @(posedge clk) begin
    if (ce) begin
      g1 <= s_group_last;
      r1 <= s_row_last;
      r2 <= r1;
      r3 <= r2;
    end
  end

  // x * d for d in [-3, 3] as shift-and-add: a LUT-sized product, never a DSP.
  function automatic logic signed [TERM_W-1:0] w2_term(input logic signed [7:0] x,
                                                        input logic signed [2:0] d);
    logic signed [TERM_W-1:0] xe, mag;
    xe  = TERM_W'(x);
    case (d[1:0] ^ {2{d[2]}})  // |d| for d in [-3, 3] is (d ^ sign) + sign; add sign below
      2'd0: mag = '0;
      2'd1: mag = xe;
      2'd2: mag = xe <<< 1;
      default: mag = xe + (xe <<< 1);
    endcase
    // d < 0: |d| = ~d + 1 -> the case picked |d| - 1, so add one more x before negating.
    if (d[2]) w2_term = -(mag + xe);
    else w2_term = mag;
  endfunction

  for (genvar l = 0; l < LANES; l++) begin : g_lane
    // ---- stage 1: 2:4 selection, W2 x A8 products, adder tree over the beat -------------------
    logic signed [PSUM_W-1:0] beat_sum;
    logic signed [2:0] z;
    assign z = $signed({1'b0, s_zero[2*l+:2]});

    always_comb begin
      beat_sum = '0;
      for (int b = 0; b < BLOCKS; b++) begin
        logic [2:0] pat;
        logic [1:0] i_lo, i_hi;
        logic signed [7:0] x_lo, x_hi;
        logic signed [2:0] d_lo, d_hi;
        logic legal;
        pat = s_pattern[3*(l*BLOCKS+b)+:3];
        legal = 1'b1;
        case (pat)
          3'd0: begin i_lo = 2'd0; i_hi = 2'd1; end
          3'd1: begin i_lo = 2'd0; i_hi = 2'd2; end
          3'd2: begin i_lo = 2'd0; i_hi = 2'd3; end
          3'd3: begin i_lo = 2'd1; i_hi = 2'd2; end
          3'd4: begin i_lo = 2'd1; i_hi = 2'd3; end
          3'd5: begin i_lo = 2'd2; i_hi = 2'd3; end
          default: begin i_lo = 2'd0; i_hi = 2'd1; legal = 1'b0; end
        endcase
        x_lo = s_act[8*(4*b+int'(i_lo))+:8];
        x_hi = s_act[8*(4*b+int'(i_hi))+:8];
        d_lo = $signed({1'b0, s_code_lo[2*(l*BLOCKS+b)+:2]}) - z;
        d_hi = $signed({1'b0, s_code_hi[2*(l*BLOCKS+b)+:2]}) - z;
        if (legal) beat_sum = beat_sum + PSUM_W'(w2_term(x_lo, d_lo)) + PSUM_W'(w2_term(x_hi, d_hi));
      end
    end

    logic signed [PSUM_W-1:0]  bsum1;
    logic [SCALE_W-1:0]        scale1, scale2;
    always_ff @(posedge clk) begin
      if (ce) begin
        bsum1  <= beat_sum;
        scale1 <= s_scale[SCALE_W*l+:SCALE_W];
        scale2 <= scale1;
      end
    end

    // ---- stage 2: group partial sum -----------------------------------------------------------
    logic signed [PSUM_W-1:0] pacc, gsum, gsum2;
    assign gsum = pacc + bsum1;
    always_ff @(posedge clk) begin
      if (rst) pacc <= '0;
      else if (ce && v1) pacc <= (g1 || r1) ? '0 : gsum;
    end
    always_ff @(posedge clk) begin
      if (ce) gsum2 <= gsum;
    end

    // ---- stage 3: scale by the group mantissa (one DSP) ---------------------------------------
    logic signed [PROD_W-1:0] prod3;
    always_ff @(posedge clk) begin
      if (ce) prod3 <= PROD_W'(gsum2 * $signed({1'b0, scale2}));
    end

    // ---- stage 4: row accumulator ---------------------------------------------------------------
    logic signed [ACC_W-1:0] acc, rsum, out4;
    assign rsum = acc + ACC_W'(prod3);
    always_ff @(posedge clk) begin
      if (rst) acc <= '0;
      else if (ce && v3) acc <= r3 ? '0 : rsum;
    end
    always_ff @(posedge clk) begin
      if (ce && v3 && r3) out4 <= rsum;
    end
    assign m_acc[ACC_W*l+:ACC_W] = out4;
  end
endmodule
