// Fixed-point softmax of one row of base-2 logits (numerics contract:
// accllm.numerics.contract.softmax_int), one element per cycle in and out:
//   m = max of the visible s;  d = m - s;  n = d >> 10;  r = d & 1023
//   e = round_shift(LUT[r], n)  (0 if invisible or n > 20; LUT = exp2_rom = contract.exp2_lut())
//   Z = sum e;  R = floor(2^47 / Z) (0 if nothing is visible);  P = round_shift(e * R, 32)  (Q1.15)
// A row is the beats up to `s_last` (at most MAX_N). Three passes over a row buffer:
//   input (N cycles: store, running max) -> exponentials (N + 2 cycles: store e, sum Z) ->
//   reciprocal (48-cycle restoring divider) -> output (N cycles + 2, stalls with m_ready).
// The next row is accepted once the last probability of the current row has left.
// A row longer than MAX_N is cut after MAX_N elements and sets the sticky `row_overflow` (an
// error: the remainder would be taken as a new row); only reset clears it.
module softmax_unit #(
    parameter int MAX_N = 1024
) (
    input  logic        clk,
    input  logic        rst,
    input  logic        s_valid,
    output logic        s_ready,
    input  logic [31:0] s_data,   // signed base-2 logit, 10 fraction bits
    input  logic        s_vis,    // 1: visible (Λ mask), 0: masked out (P = 0)
    input  logic        s_last,
    output logic        m_valid,
    input  logic        m_ready,
    output logic [15:0] m_data,   // unsigned probability, Q1.15
    output logic        m_last,
    output logic        row_overflow
);
  localparam int IDX_W = $clog2(MAX_N);
  localparam int CNT_W = $clog2(MAX_N + 1);
  localparam int Z_W = $clog2(MAX_N) + 17;  // Z <= MAX_N * 2^15
  localparam int DIV_STEPS = 48;  // dividend 2^47: one quotient bit per step, MSB first

  typedef enum logic [1:0] {
    P_IN,
    P_EXP,
    P_DIV,
    P_OUT
  } phase_t;
  phase_t phase;

  logic [32:0] sbuf[MAX_N];  // {visible, logit}
  logic [15:0] ebuf[MAX_N];  // 2^-d in Q1.15
  logic [CNT_W-1:0] n;  // row length
  logic [IDX_W-1:0] wk;  // input / exponential write index
  logic signed [31:0] mx;
  logic any_vis;

  // ---------------------------------------------------------------- input pass
  logic in_fire, in_end;
  assign s_ready = (phase == P_IN);
  assign in_fire = s_valid && s_ready;
  assign in_end = s_last || wk == IDX_W'(MAX_N - 1);

  always_ff @(posedge clk) begin
    if (in_fire) sbuf[wk] <= {s_vis, s_data};
  end

  // ---------------------------------------------------------------- exponential pass
  // x1: sbuf read; x2: d, ROM read; x3: shift, write ebuf, accumulate Z.
  logic [IDX_W:0] xk;  // read index (one past the end when done)
  logic x_issue, x1_v, x2_v;
  logic [32:0] x1_s;
  logic x2_keep;  // visible and n <= 20
  logic [4:0] x2_n;
  logic [15:0] lut2;
  logic signed [32:0] d1;
  logic [21:0] e_round;
  logic [15:0] e3;
  logic [Z_W-1:0] z;
  assign x_issue = (phase == P_EXP) && xk < (IDX_W + 1)'(n);
  assign d1 = 33'(mx) - 33'($signed(x1_s[31:0]));

  exp2_rom u_exp2 (
      .clk (clk),
      .en  (1'b1),
      .addr(d1[9:0]),
      .data(lut2)
  );
  assign e_round = (x2_n == '0) ? 22'(lut2) : (22'(lut2) + (22'd1 << (x2_n - 1'b1))) >> x2_n;
  assign e3 = x2_keep ? e_round[15:0] : 16'd0;

  always_ff @(posedge clk) begin
    if (x_issue) x1_s <= sbuf[xk[IDX_W-1:0]];
    if (x2_v) ebuf[wk] <= e3;
  end

  // ---------------------------------------------------------------- reciprocal
  logic [Z_W-1:0] rem;  // partial remainder, always < Z
  logic [Z_W:0] rem2;
  logic [32:0] recip;  // R <= 2^32 when Z >= 2^15
  logic [5:0] dstep;
  assign rem2 = {rem, dstep == 6'(DIV_STEPS)};

  // ---------------------------------------------------------------- output pass
  logic ce, o_issue, a_v, a_last;
  logic [IDX_W:0] ok;
  logic [15:0] a_e;
  logic [48:0] prod;
  assign ce = !m_valid || m_ready;
  assign o_issue = (phase == P_OUT) && ok < (IDX_W + 1)'(n);
  assign prod = 49'(a_e) * 49'(recip) + 49'(32'h8000_0000);

  always_ff @(posedge clk) begin
    if (ce && o_issue) a_e <= ebuf[ok[IDX_W-1:0]];
  end

  // ---------------------------------------------------------------- control
  always_ff @(posedge clk) begin
    if (rst) begin
      phase <= P_IN;
      n <= '0;
      wk <= '0;
      mx <= '0;
      any_vis <= 1'b0;
      row_overflow <= 1'b0;
      xk <= '0;
      x1_v <= 1'b0;
      x2_v <= 1'b0;
      x2_keep <= 1'b0;
      x2_n <= '0;
      z <= '0;
      rem <= '0;
      recip <= '0;
      dstep <= '0;
      ok <= '0;
      a_v <= 1'b0;
      a_last <= 1'b0;
      m_valid <= 1'b0;
      m_last <= 1'b0;
      m_data <= '0;
    end else begin
      case (phase)
        P_IN:
        if (in_fire) begin
          if (s_vis && (!any_vis || $signed(s_data) > mx)) mx <= s_data;
          if (s_vis) any_vis <= 1'b1;
          if (in_end) begin
            n <= CNT_W'(wk) + 1'b1;
            wk <= '0;
            xk <= '0;
            z <= '0;
            phase <= P_EXP;
            if (!s_last) row_overflow <= 1'b1;
          end else begin
            wk <= wk + 1'b1;
          end
        end
        P_EXP: begin
          if (x_issue) xk <= xk + 1'b1;
          x1_v <= x_issue;
          x2_v <= x1_v;
          x2_keep <= x1_s[32] && d1[32:10] <= 23'd20;
          x2_n <= d1[14:10];
          if (x2_v) begin
            z <= z + Z_W'(e3);
            wk <= wk + 1'b1;
            if (CNT_W'(wk) + 1'b1 == n) begin
              phase <= P_DIV;
              rem <= '0;
              dstep <= 6'(DIV_STEPS);
            end
          end
        end
        P_DIV: begin
          if (rem2 >= (Z_W + 1)'(z)) begin
            rem <= Z_W'(rem2 - (Z_W + 1)'(z));
            recip <= {recip[31:0], 1'b1};
          end else begin
            rem <= rem2[Z_W-1:0];
            recip <= {recip[31:0], 1'b0};
          end
          dstep <= dstep - 1'b1;
          if (dstep == 6'd1) begin
            phase <= P_OUT;
            ok <= '0;
            if (!any_vis) recip <= '0;  // Z = 0: every probability is 0
          end
        end
        default: begin  // P_OUT
          if (ce) begin
            if (o_issue) ok <= ok + 1'b1;
            a_v <= o_issue;
            a_last <= o_issue && ok == (IDX_W + 1)'(n) - 1'b1;
            m_valid <= a_v;
            m_last <= a_last;
            m_data <= prod[47:32];
          end
          if (m_valid && m_ready && m_last) begin
            phase <= P_IN;
            wk <= '0;
            any_vis <= 1'b0;
          end
        end
      endcase
    end
  end

  logic unused;
  assign unused = ^{prod[48], prod[31:0], e_round[21:16], d1[32:15] == '0};
endmodule
