// Fixed-point RMSNorm of one row, a word of 8 elements per cycle (numerics contract:
// accllm.numerics.contract.rmsnorm_int):
//   sh = max(bitlen(max|x|) - 15, 0);  xs = round_shift(x, sh)              (|xs| <= 2^15)
//   v  = max(sum xs^2 + round_shift(eps_q * H, 2 sh), 1)
//   (Y, k) = rsqrt_int(v): mant = v / 4^k in [2^30, 2^32), Y = RSQRT[(mant >> 24) - 64]
//            (rsqrt_rom = contract.rsqrt_lut()), then two Newton steps in Q.30
//   n  = round_shift(xs * Y, 22);  y = saturate(round_shift(n * G_i, 7 + k + gain_shift), 32)
// x and y are Q15.16, 8 lanes per beat (lane j at bits 32 j, the activation word's layout); G_i
// is the signed 16-bit gain mantissa of lane i (s_gain bits 16 i); gain_shift (per layer) and
// eps_q (eps in units of 2^-32) are sampled with the first beat of a row. A row is the beats up
// to `s_last`, H = 8 x beats (at most MAX_H, a multiple of 8, <= 2^16). sh needs the whole row's
// max|x| before any square, so the row goes to a row buffer in three passes of one word per cycle:
//   input (H/8 beats: store, max|x| of the 8 lanes and the row) -> sum of squares (H/8 reads,
//   8 squares + an adder tree, 2 stages) -> rsqrt (one shared multiplier, 10 cycles) -> output
//   (H/8 words, 3 stages, stalls with m_ready). The next row is accepted once the last output
//   word of the current row has left. A row longer than MAX_H is cut after MAX_H elements and
//   sets the sticky `row_overflow` (an error; only reset clears it).
module rmsnorm_unit #(
    parameter int MAX_H = 4096
) (
    input  logic         clk,
    input  logic         rst,
    input  logic         s_valid,
    output logic         s_ready,
    input  logic [255:0] s_data,        // 8 signed x, Q15.16
    input  logic [127:0] s_gain,        // 8 signed gain mantissas G_i
    input  logic         s_last,
    input  logic [  5:0] s_gain_shift,  // 0..47, first beat of a row
    input  logic [ 31:0] s_eps,         // eps_q, first beat of a row
    output logic         m_valid,
    input  logic         m_ready,
    output logic [255:0] m_data,        // 8 signed y, Q15.16
    output logic         m_last,
    output logic         row_overflow
);
  localparam int L = 8;  // lanes of a word
  localparam int WORDS = MAX_H / L;
  localparam int IDX_W = (WORDS > 1) ? $clog2(WORDS) : 1;
  localparam int CNT_W = $clog2(WORDS + 1);
  localparam int V_W = 52;  // v < 2^30 * 2^16 + 2^32 * 2^16 / 1 < 2^49; headroom for round
  localparam int MUL_W = 34;  // shared multiplier operands (signed)

  initial begin
    if (MAX_H > 65536) $error("rmsnorm_unit: MAX_H must be <= 2^16 (bound of v < 2^47)");
    if (MAX_H % L != 0) $error("rmsnorm_unit: MAX_H must be a multiple of 8 (whole words)");
  end

  typedef enum logic [2:0] {
    P_IN,
    P_SUM,
    P_SEED,
    P_NEWTON,
    P_OUT
  } phase_t;
  phase_t phase;

  logic [383:0] buf_mem[WORDS];  // {G[8], x[8]}
  logic [CNT_W-1:0] n_row;  // words of the row
  logic [IDX_W-1:0] wk;
  logic [31:0] amax;  // max |x| (|-2^31| = 2^31 fits unsigned)
  logic [5:0] gsh;
  logic [31:0] eps;
  logic first;
  logic [4:0] sh;  // <= 17

  // Bit length of a non-negative value: a leading-zero count.
  function automatic logic [5:0] bitlen(input logic [V_W-1:0] v);
    logic [5:0] b;
    b = '0;
    for (int i = 0; i < V_W; i++) if (v[i]) b = 6'(i + 1);
    bitlen = b;
  endfunction

  // round_shift(x, s) for s in [0, 31]: add 2^(s-1), arithmetic shift.
  function automatic logic signed [32:0] rshift(input logic signed [31:0] x, input logic [4:0] s);
    logic signed [33:0] t;
    t = 34'(x) + ((s == 0) ? 34'sd0 : (34'sd1 <<< (s - 1'b1)));
    rshift = 33'(t >>> s);
  endfunction

  // ---------------------------------------------------------------- input pass
  logic in_fire, in_end;
  logic [31:0] wmax, nmax;  // max |x| of the beat; of the row so far, this beat included
  assign s_ready = (phase == P_IN);
  assign in_fire = s_valid && s_ready;
  assign in_end = s_last || wk == IDX_W'(WORDS - 1);
  always_comb begin
    wmax = '0;
    for (int j = 0; j < L; j++) begin
      logic [31:0] a;
      a = s_data[32*j+31] ? 32'(-s_data[32*j+:32]) : s_data[32*j+:32];  // -(-2^31) = 2^31
      if (a > wmax) wmax = a;
    end
    nmax = (first || wmax > amax) ? wmax : amax;
  end

  always_ff @(posedge clk) begin
    if (in_fire) buf_mem[wk] <= {s_gain, s_data};
  end

  // ---------------------------------------------------------------- sum of squares
  logic [IDX_W:0] rk;  // read index of the sum and output passes
  logic s_issue, s1_v, s2_v;
  logic [383:0] rd;  // buffer read data
  logic [30:0] sq[L];  // xs^2 <= 2^30
  logic [33:0] sq_sum;
  logic [V_W-1:0] sumsq;
  assign s_issue = (phase == P_SUM) && rk < (IDX_W + 1)'(n_row);
  always_comb begin
    sq_sum = '0;
    for (int j = 0; j < L; j++) sq_sum = sq_sum + 34'(sq[j]);
  end

  // ---------------------------------------------------------------- rsqrt (shared multiplier)
  logic [V_W-1:0] v, eps_term;
  logic [5:0] vb;
  logic signed [6:0] k;  // -15 .. 10
  logic [31:0] mant;
  logic [30:0] seed;
  logic [1:0] nstep;
  logic [1:0] nsub;  // 0: Y*Y, 1: mant*Y2, 2: Y*(3*2^30 - H)
  logic signed [63:0] y, y2, hh;
  logic signed [MUL_W-1:0] mul_a, mul_b;
  logic signed [2*MUL_W-1:0] mul_p;
  logic signed [2*MUL_W-1:0] mul_r30, mul_r31;
  assign mul_p = mul_a * mul_b;
  assign mul_r30 = (mul_p + (68'sd1 <<< 29)) >>> 30;
  assign mul_r31 = (mul_p + (68'sd1 <<< 30)) >>> 31;
  always_comb begin
    case (nsub)
      2'd0: begin
        mul_a = MUL_W'(y);
        mul_b = MUL_W'(y);
      end
      2'd1: begin
        mul_a = $signed({2'b00, mant});
        mul_b = MUL_W'(y2);
      end
      default: begin
        mul_a = MUL_W'(y);
        mul_b = MUL_W'((64'sd3 <<< 30) - hh);
      end
    endcase
  end

  // eps_q * H rounded by 2 sh (2 sh <= 34), as in the contract; H = 8 x words.
  logic [V_W-1:0] eps_h;
  assign eps_h = V_W'(eps) * (V_W'(n_row) << 3);
  assign eps_term = (sh == 0) ? eps_h : (eps_h + (V_W'(1) << (2 * sh - 1))) >> (2 * sh);
  assign vb = bitlen(v);
  assign k = 7'((7'($signed({1'b0, vb})) - 7'sd32 + 7'sd1) >>> 1);  // ceil((bitlen - 32) / 2)

  logic [V_W-1:0] mant_full;
  assign mant_full = k[6] ? v << (2 * 7'(-k)) : v >> (2 * k);

  rsqrt_rom u_rsqrt (
      .clk (clk),
      .en  (1'b1),
      .addr(8'(mant[31:24] - 8'd64)),
      .data(seed)
  );

  // ---------------------------------------------------------------- output pass (per lane)
  logic ce, o_issue, a_v, a_last, b_v, b_last;
  logic signed [24:0] b_n[L];  // |n| <= 2^23
  logic signed [15:0] b_g[L];
  logic signed [6:0] total;  // 7 + k + gain_shift: -8 .. 62
  logic signed [17:0] xs[L];  // |xs| <= 2^15, the sum and the output pass
  logic signed [24:0] n_w[L];
  logic [255:0] y_w;
  assign ce = !m_valid || m_ready;
  assign o_issue = (phase == P_OUT) && rk < (IDX_W + 1)'(n_row);
  always_comb begin
    for (int j = 0; j < L; j++) begin
      logic signed [40:0] np;
      logic signed [65:0] shifted;
      xs[j] = 18'(rshift(rd[32*j+:32], sh));
      n_w[j] = 25'((64'(xs[j]) * $signed({33'd0, y[30:0]}) + (64'sd1 <<< 21)) >>> 22);
      np = 41'(b_n[j]) * 41'(b_g[j]);
      shifted = total[6] ? 66'(np) <<< 7'(-total)
              : (66'(np) + ((total == 0) ? 66'sd0 : (66'sd1 <<< (total - 1)))) >>> total;
      y_w[32*j+:32] = (shifted > 66'sh7fffffff) ? 32'h7fffffff :
                      (shifted < -66'sh80000000) ? 32'h80000000 : shifted[31:0];
    end
  end

  // One read port serves both passes.
  always_ff @(posedge clk) begin
    if (s_issue || (o_issue && ce)) rd <= buf_mem[rk[IDX_W-1:0]];
  end

  // ---------------------------------------------------------------- control
  always_ff @(posedge clk) begin
    if (rst) begin
      phase <= P_IN;
      n_row <= '0;
      wk <= '0;
      amax <= '0;
      gsh <= '0;
      eps <= '0;
      first <= 1'b1;
      sh <= '0;
      row_overflow <= 1'b0;
      rk <= '0;
      s1_v <= 1'b0;
      s2_v <= 1'b0;
      sumsq <= '0;
      v <= '0;
      mant <= '0;
      nstep <= '0;
      nsub <= '0;
      y <= '0;
      y2 <= '0;
      hh <= '0;
      total <= '0;
      a_v <= 1'b0;
      a_last <= 1'b0;
      b_v <= 1'b0;
      b_last <= 1'b0;
      m_valid <= 1'b0;
      m_last <= 1'b0;
      m_data <= '0;
      for (int j = 0; j < L; j++) begin
        sq[j] <= '0;
        b_n[j] <= '0;
        b_g[j] <= '0;
      end
    end else begin
      case (phase)
        P_IN:
        if (in_fire) begin
          first <= in_end;
          if (first) begin
            gsh <= s_gain_shift;
            eps <= s_eps;
          end
          amax <= nmax;
          if (in_end) begin
            n_row <= CNT_W'(wk) + 1'b1;
            rk <= '0;
            sumsq <= '0;
            s1_v <= 1'b0;
            s2_v <= 1'b0;
            phase <= P_SUM;
            if (!s_last) row_overflow <= 1'b1;
          end else begin
            wk <= wk + 1'b1;
          end
          // sh from the final max|x| (this beat included).
          sh <= 5'(bitlen(V_W'(nmax)) > 6'd15 ? bitlen(V_W'(nmax)) - 6'd15 : 6'd0);
        end
        P_SUM: begin
          // issue -> rd (buffer) -> 8 squares (s1) -> adder tree into the sum (s2)
          if (s_issue) rk <= rk + 1'b1;
          s1_v <= s_issue;
          s2_v <= s1_v;
          for (int j = 0; j < L; j++) sq[j] <= 31'(xs[j] * xs[j]);
          if (s2_v) sumsq <= sumsq + V_W'(sq_sum);
          if (!s_issue && !s1_v && !s2_v && rk != '0) begin
            phase <= P_SEED;
            nsub  <= 2'd3;  // first P_SEED cycle: form v
          end
        end
        P_SEED: begin
          // cycle 1: v; cycle 2: mant and the ROM address; cycle 3: seed valid.
          nsub <= nsub - 1'b1;
          if (nsub == 2'd3) begin
            v <= (sumsq + eps_term == '0) ? V_W'(1) : sumsq + eps_term;
          end else if (nsub == 2'd2) begin
            mant  <= mant_full[31:0];
            total <= 7'sd7 + k + 7'(gsh);
          end else if (nsub == 2'd0) begin
            y <= 64'(seed);
            nstep <= 2'd0;
            nsub <= 2'd0;
            phase <= P_NEWTON;
          end
        end
        P_NEWTON: begin
          case (nsub)
            2'd0: y2 <= 64'(mul_r30);
            2'd1: hh <= 64'(mul_r30);
            default: y <= 64'(mul_r31);
          endcase
          nsub <= (nsub == 2'd2) ? 2'd0 : nsub + 1'b1;
          if (nsub == 2'd2) begin
            nstep <= nstep + 1'b1;
            if (nstep == 2'd1) begin
              phase <= P_OUT;
              rk <= '0;
            end
          end
        end
        default: begin  // P_OUT: issue -> rd -> n = xs * Y (b) -> n * G, shift, saturate (m)
          if (ce) begin
            if (o_issue) rk <= rk + 1'b1;
            a_v <= o_issue;
            a_last <= o_issue && rk == (IDX_W + 1)'(n_row) - 1'b1;
            b_v <= a_v;
            b_last <= a_last;
            for (int j = 0; j < L; j++) begin
              b_n[j] <= n_w[j];
              b_g[j] <= rd[256+16*j+:16];
            end
            m_valid <= b_v;
            m_last <= b_last;
            m_data <= y_w;
          end
          if (m_valid && m_ready && m_last) begin
            phase <= P_IN;
            wk <= '0;
            first <= 1'b1;
          end
        end
      endcase
    end
  end

  logic unused;
  assign unused = ^{mant_full[V_W-1:32], y[63:31], y2[63:34], mul_r30[67:64], mul_r31[67:64], vb};
endmodule
