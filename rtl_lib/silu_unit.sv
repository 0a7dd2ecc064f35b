// SiLU, LANES lanes per beat (numerics contract: accllm.numerics.contract.silu_int):
//   u = x + 16 * 2^16; i = u >>> 11; fr = u & 2047          (x Q15.16, sigmoid grid step 2^-5)
//   sig = LUT[i] + round_shift((LUT[i+1] - LUT[i]) * fr, 11)  (Q1.15; 0 if i < 0, 2^15 if i >= 1024)
//   y = round_shift(x * sig, 15)                            (Q15.16, fits 32 bits)
// LUT pairs come from sigmoid_rom (generated from contract.sigmoid_lut()), one ROM per lane.
// Pipeline: 3 register stages (ROM read -> interpolated sigmoid -> product), one beat per cycle;
// the whole pipeline stalls while the output holds a beat that is not accepted.
module silu_unit #(
    parameter int LANES = 2
) (
    input  logic                clk,
    input  logic                rst,
    input  logic                s_valid,
    output logic                s_ready,
    input  logic [LANES*32-1:0] s_data,   // signed Q15.16, lane 0 in the low bits
    output logic                m_valid,
    input  logic                m_ready,
    output logic [LANES*32-1:0] m_data    // signed Q15.16
);
  localparam int STEP = 11;  // res_frac - sig_step_bits
  localparam logic signed [21:0] NLUT = 22'sd1024;  // 2 * sig_range << sig_step_bits

  logic ce;  // every stage loads on its own `en` instead
  logic [2:0] en;  // stage i loads only a valid beat (pipe_valid)
  logic unused_ce;
  assign unused_ce = ce;
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

  for (genvar l = 0; l < LANES; l++) begin : g_lane
    logic signed [31:0] x0, x1, x2;
    logic signed [32:0] u0;
    logic signed [21:0] i0;  // u >>> 11 spans [-2^21, 2^21)
    logic [STEP-1:0] fr1;
    logic lo1, hi1;
    logic [24:0] pair1;
    logic [15:0] sig2;
    logic signed [31:0] y3;

    assign x0 = s_data[l*32+:32];
    assign u0 = 33'(x0) + 33'sd1048576;
    assign i0 = u0[32:STEP];

    // Stage 1: ROM read at the clamped index; remember the fraction and the out-of-range side.
    sigmoid_rom u_rom (
        .clk (clk),
        .en  (en[0]),
        .addr(i0[21] ? 10'd0 : (i0 >= NLUT) ? 10'd1023 : i0[9:0]),
        .data(pair1)
    );
    always_ff @(posedge clk) begin
      if (en[0]) begin
        x1  <= x0;
        fr1 <= u0[STEP-1:0];
        lo1 <= i0[21];
        hi1 <= i0 >= NLUT;
      end
    end

    // Stage 2: linear interpolation; the step LUT[i+1] - LUT[i] is in [0, 512).
    logic [19:0] interp;
    assign interp = 20'(pair1[24:16]) * 20'(fr1) + 20'(1 << (STEP - 1));
    always_ff @(posedge clk) begin
      if (en[1]) begin
        x2 <= x1;
        if (lo1) sig2 <= '0;
        else if (hi1) sig2 <= 16'h8000;
        else sig2 <= pair1[15:0] + 16'(interp[19:STEP]);
      end
    end

    // Stage 3: y = round_shift(x * sig, 15); |x * sig| <= 2^46.
    logic signed [48:0] prod;
    assign prod = 49'(x2) * $signed({33'd0, sig2}) + 49'sd16384;
    always_ff @(posedge clk) begin
      if (en[2]) y3 <= prod[46:15];
    end
    assign m_data[l*32+:32] = y3;

    logic unused;
    assign unused = ^{prod[48:47], prod[14:0], u0[32], interp[STEP-1:0]};
  end
endmodule
