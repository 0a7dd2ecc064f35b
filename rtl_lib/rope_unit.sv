// Rotary position embedding of one rotate-half pair per beat (numerics contract:
// accllm.numerics.contract.rope_cos_sin / rope_int):
//   lo = p & 63, hi = p >> 6;  cl, sl = LO[lo][i];  ch, sh = HI[hi][i]     (Q1.14 tables)
//   c = round_shift(ch*cl - sh*sl, 14);  s = round_shift(sh*cl + ch*sl, 14)
//   y1 = sat32(round_shift(x1*c - x2*s, 14));  y2 = sat32(round_shift(x2*c + x1*s, 14))
// for the pair (x1, x2) = (x[i], x[i + HALF]) of a head vector at absolute position p (Q15.16).
// The four tables depend on the model's inverse frequencies, so they are RAMs written through
// the tbl_* port (contents: contract.rope_tables; tbl_sel 0 cos_lo, 1 sin_lo, 2 cos_hi,
// 3 sin_hi; tbl_addr = row * HALF + i), normally once at start-up.
// Pipeline: 3 register stages (table read -> cos/sin by angle addition -> rotation), one beat per
// cycle; the whole pipeline stalls while the output holds a beat that is not accepted.
// A position with p >> 6 beyond the high table (p >= 64 * ceil(MAX_POS / 64)) sets the sticky
// `pos_error` (the contract rejects it); only reset clears it.
module rope_unit #(
    parameter int HALF = 64,  // head_dim / 2
    parameter int MAX_POS = 4096,
    parameter int POS_W = 32
) (
    input  logic                                    clk,
    input  logic                                    rst,
    input  logic                                    tbl_we,
    input  logic [                             1:0] tbl_sel,
    input  logic [$clog2((MAX_POS > 4096 ? (MAX_POS + 63) / 64 : 64) * HALF)-1:0] tbl_addr,
    input  logic [                            15:0] tbl_data,
    input  logic                                    s_valid,
    output logic                                    s_ready,
    input  logic [                       POS_W-1:0] s_pos,
    input  logic [                 $clog2(HALF)-1:0] s_idx,
    input  logic [                            31:0] s_x1,
    input  logic [                            31:0] s_x2,
    output logic                                    m_valid,
    input  logic                                    m_ready,
    output logic [                            31:0] m_y1,
    output logic [                            31:0] m_y2,
    output logic                                    pos_error
);
  localparam int NHI = (MAX_POS + 63) / 64;
  localparam int LO_N = 64 * HALF;
  localparam int HI_N = NHI * HALF;
  localparam int LA_W = $clog2(LO_N);
  localparam int HA_W = (HI_N > 1) ? $clog2(HI_N) : 1;

  logic [15:0] cos_lo[LO_N];
  logic [15:0] sin_lo[LO_N];
  logic [15:0] cos_hi[HI_N];
  logic [15:0] sin_hi[HI_N];

  always_ff @(posedge clk) begin
    if (tbl_we) begin
      case (tbl_sel)
        2'd0: cos_lo[tbl_addr[LA_W-1:0]] <= tbl_data;
        2'd1: sin_lo[tbl_addr[LA_W-1:0]] <= tbl_data;
        2'd2: cos_hi[tbl_addr[HA_W-1:0]] <= tbl_data;
        default: sin_hi[tbl_addr[HA_W-1:0]] <= tbl_data;
      endcase
    end
  end

  logic ce;
  pipe_valid #(
      .DEPTH(3)
  ) u_pipe (
      .clk,
      .rst,
      .s_valid,
      .s_ready,
      .m_valid,
      .m_ready,
      .ce
  );

  always_ff @(posedge clk) begin
    if (rst) begin
      pos_error <= 1'b0;
    end else if (ce) begin
      if (s_valid && (s_pos >> 6) >= POS_W'(NHI)) pos_error <= 1'b1;
    end
  end

  // Stage 1: table reads.
  logic [LA_W-1:0] lo_addr;
  logic [HA_W-1:0] hi_addr;
  logic signed [15:0] cl1, sl1, ch1, sh1;
  logic signed [31:0] xa1, xb1;
  assign lo_addr = LA_W'(s_pos[5:0]) * LA_W'(HALF) + LA_W'(s_idx);
  assign hi_addr = HA_W'(HA_W'(s_pos >> 6) * HA_W'(HALF) + HA_W'(s_idx));
  always_ff @(posedge clk) begin
    if (ce) begin
      cl1 <= cos_lo[lo_addr];
      sl1 <= sin_lo[lo_addr];
      ch1 <= cos_hi[hi_addr];
      sh1 <= sin_hi[hi_addr];
      xa1 <= s_x1;
      xb1 <= s_x2;
    end
  end

  // Stage 2: cos/sin of p * w_i by angle addition (|c|, |s| <= 2^15).
  logic signed [32:0] c_sum, s_sum;
  logic signed [17:0] c2, s2;
  logic signed [31:0] xa2, xb2;
  assign c_sum = 33'(ch1) * 33'(cl1) - 33'(sh1) * 33'(sl1) + 33'sd8192;
  assign s_sum = 33'(sh1) * 33'(cl1) + 33'(ch1) * 33'(sl1) + 33'sd8192;
  always_ff @(posedge clk) begin
    if (ce) begin
      c2  <= 18'(c_sum >>> 14);
      s2  <= 18'(s_sum >>> 14);
      xa2 <= xa1;
      xb2 <= xb1;
    end
  end

  // Stage 3: rotation, rounding, saturation to int32 (|x * c| <= 2^46).
  logic signed [50:0] r1, r2;
  logic signed [36:0] q1, q2;
  assign r1 = 51'(xa2) * 51'(c2) - 51'(xb2) * 51'(s2) + 51'sd8192;
  assign r2 = 51'(xb2) * 51'(c2) + 51'(xa2) * 51'(s2) + 51'sd8192;
  assign q1 = 37'(r1 >>> 14);
  assign q2 = 37'(r2 >>> 14);

  function automatic logic [31:0] sat32(input logic signed [36:0] v);
    if (v > 37'sh0_7fff_ffff) sat32 = 32'h7fff_ffff;
    else if (v < -37'sh0_8000_0000) sat32 = 32'h8000_0000;
    else sat32 = v[31:0];
  endfunction

  always_ff @(posedge clk) begin
    if (ce) begin
      m_y1 <= sat32(q1);
      m_y2 <= sat32(q2);
    end
  end

  logic unused;
  assign unused = ^{c_sum[32], s_sum[32]};
endmodule
