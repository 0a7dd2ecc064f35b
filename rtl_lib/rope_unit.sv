// Rotary position embedding of 8 rotate-half pairs per beat (numerics contract:
// accllm.numerics.contract.rope_cos_sin / rope_int), per lane l of chunk j (pair i = 8 j + l):
//   lo = p & 63, hi = p >> 6;  cl, sl = LO[lo][i];  ch, sh = HI[hi][i]     (Q1.14 tables)
//   c = round_shift(ch*cl - sh*sl, 14);  s = round_shift(sh*cl + ch*sl, 14)
//   y1 = sat32(round_shift(x1*c - x2*s, 14));  y2 = sat32(round_shift(x2*c + x1*s, 14))
// for the pairs (x1, x2) = (x[i], x[i + HALF]) of a head vector at absolute position p (Q15.16):
// s_x1 is the activation word of x[8j .. 8j+7], s_x2 the word of x[HALF + 8j ..], lane l at bits
// 32 l. The four tables depend on the model's inverse frequencies, so they are RAMs written
// through the tbl_* port (contents: contract.rope_tables; tbl_sel 0 cos_lo, 1 sin_lo, 2 cos_hi,
// 3 sin_hi; tbl_addr = row * HALF + i), normally once at start-up; each is stored as words of
// the 8 entries of a chunk, so one read per table gives a beat's 8 lanes.
// Pipeline: 3 register stages (table read -> cos/sin by angle addition -> rotation), one beat per
// cycle; the whole pipeline stalls while the output holds a beat that is not accepted.
// A position with p >> 6 beyond the high table (p >= 64 * ceil(MAX_POS / 64)) sets the sticky
// `pos_error` (the contract rejects it); only reset clears it.
module rope_unit #(
    parameter int HALF = 64,  // head_dim / 2, a multiple of 8
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
    input  logic [          $clog2(HALF / 8 + 1)-1:0] s_chunk,  // j: pairs 8 j .. 8 j + 7
    input  logic [                           255:0] s_x1,
    input  logic [                           255:0] s_x2,
    output logic                                    m_valid,
    input  logic                                    m_ready,
    output logic [                           255:0] m_y1,
    output logic [                           255:0] m_y2,
    output logic                                    pos_error
);
  localparam int L = 8;
  localparam int CH = HALF / L;  // chunks of a half head
  localparam int NHI = (MAX_POS + 63) / 64;
  localparam int LO_N = 64 * CH;
  localparam int HI_N = NHI * CH;
  localparam int LA_W = $clog2(LO_N);
  localparam int HA_W = (HI_N > 1) ? $clog2(HI_N) : 1;
  localparam int TA_W = $clog2((MAX_POS > 4096 ? (MAX_POS + 63) / 64 : 64) * HALF);

  initial begin
    if (HALF % L != 0) $error("rope_unit: HALF must be a multiple of 8 (whole words)");
  end

  logic [127:0] cos_lo[LO_N];
  logic [127:0] sin_lo[LO_N];
  logic [127:0] cos_hi[HI_N];
  logic [127:0] sin_hi[HI_N];

  // Entry row * HALF + i is lane i mod 8 of word row * CH + i / 8 (HALF = 8 CH).
  logic [TA_W-4:0] tw;
  logic [2:0] tl;
  assign tw = tbl_addr[TA_W-1:3];
  assign tl = tbl_addr[2:0];
  always_ff @(posedge clk) begin
    if (tbl_we) begin
      case (tbl_sel)
        2'd0: cos_lo[tw[LA_W-1:0]][16*tl+:16] <= tbl_data;
        2'd1: sin_lo[tw[LA_W-1:0]][16*tl+:16] <= tbl_data;
        2'd2: cos_hi[tw[HA_W-1:0]][16*tl+:16] <= tbl_data;
        default: sin_hi[tw[HA_W-1:0]][16*tl+:16] <= tbl_data;
      endcase
    end
  end

  logic ce;
  logic [2:0] en;  // stage i loads only a valid beat (pipe_valid)
  pipe_valid #(
      .DEPTH(3)
  ) u_pipe (
      .clk,
      .rst,
      .s_valid,
      .s_ready,
      .m_valid,
      .m_ready,
      .ce,
      .en
  );

  always_ff @(posedge clk) begin
    if (rst) begin
      pos_error <= 1'b0;
    end else if (ce) begin
      if (s_valid && (s_pos >> 6) >= POS_W'(NHI)) pos_error <= 1'b1;
    end
  end

  // Stage 1: table reads (a chunk's 8 entries per table).
  logic [LA_W-1:0] lo_addr;
  logic [HA_W-1:0] hi_addr;
  logic [127:0] cl1, sl1, ch1, sh1;
  logic [255:0] xa1, xb1;
  assign lo_addr = LA_W'(s_pos[5:0]) * LA_W'(CH) + LA_W'(s_chunk);
  assign hi_addr = HA_W'(HA_W'(s_pos >> 6) * HA_W'(CH) + HA_W'(s_chunk));
  always_ff @(posedge clk) begin
    if (en[0]) begin
      cl1 <= cos_lo[lo_addr];
      sl1 <= sin_lo[lo_addr];
      ch1 <= cos_hi[hi_addr];
      sh1 <= sin_hi[hi_addr];
      xa1 <= s_x1;
      xb1 <= s_x2;
    end
  end

  function automatic logic [31:0] sat32(input logic signed [36:0] v);
    if (v > 37'sh0_7fff_ffff) sat32 = 32'h7fff_ffff;
    else if (v < -37'sh0_8000_0000) sat32 = 32'h8000_0000;
    else sat32 = v[31:0];
  endfunction

  // Stage 2: cos/sin of p * w_i by angle addition (|c|, |s| <= 2^15); stage 3: rotation,
  // rounding, saturation to int32 (|x * c| <= 2^46). Per lane.
  logic signed [17:0] c2[L], s2[L];
  logic [255:0] xa2, xb2;
  logic signed [17:0] c_n[L], s_n[L];
  logic [255:0] y1_n, y2_n;
  always_comb begin
    for (int l = 0; l < L; l++) begin
      logic signed [15:0] cl, sl, chh, shh;
      logic signed [31:0] xa, xb;
      logic signed [32:0] c_sum, s_sum;
      logic signed [50:0] r1, r2;
      cl = cl1[16*l+:16];
      sl = sl1[16*l+:16];
      chh = ch1[16*l+:16];
      shh = sh1[16*l+:16];
      c_sum = 33'(chh) * 33'(cl) - 33'(shh) * 33'(sl) + 33'sd8192;
      s_sum = 33'(shh) * 33'(cl) + 33'(chh) * 33'(sl) + 33'sd8192;
      c_n[l] = 18'(c_sum >>> 14);
      s_n[l] = 18'(s_sum >>> 14);
      xa = xa2[32*l+:32];
      xb = xb2[32*l+:32];
      r1 = 51'(xa) * 51'(c2[l]) - 51'(xb) * 51'(s2[l]) + 51'sd8192;
      r2 = 51'(xb) * 51'(c2[l]) + 51'(xa) * 51'(s2[l]) + 51'sd8192;
      y1_n[32*l+:32] = sat32(37'(r1 >>> 14));
      y2_n[32*l+:32] = sat32(37'(r2 >>> 14));
    end
  end

  always_ff @(posedge clk) begin
    if (en[1]) begin
      for (int l = 0; l < L; l++) begin
        c2[l] <= c_n[l];
        s2[l] <= s_n[l];
      end
      xa2 <= xa1;
      xb2 <= xb1;
    end
    if (en[2]) begin
      m_y1 <= y1_n;
      m_y2 <= y2_n;
    end
  end
endmodule
