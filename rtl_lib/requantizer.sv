// Dyadic requantizer, LANES lanes per beat (numerics contract: accllm.numerics.contract.requantize):
//   y = saturate(round_shift(acc * mult, shift), OUT_W)
// acc signed ACC_W bits, mult unsigned MUL_W bits, shift unsigned in [0, 47]; round_shift adds
// 2^(shift-1) (shift > 0) then shifts right arithmetically: rounding half toward +infinity.
// Pipeline: 3 register stages (product -> rounded shift -> saturation), one beat per cycle; the
// whole pipeline stalls while the output holds a beat that is not accepted.
module requantizer #(
    parameter int LANES   = 4,
    parameter int ACC_W   = 32,
    parameter int MUL_W   = 16,
    parameter int SHIFT_W = 6,
    parameter int OUT_W   = 8
) (
    input  logic                       clk,
    input  logic                       rst,
    input  logic                       s_valid,
    output logic                       s_ready,
    input  logic [LANES*ACC_W-1:0]     s_acc,    // signed, lane 0 in the low bits
    input  logic [LANES*MUL_W-1:0]     s_mult,   // unsigned multiplier mantissa per lane
    input  logic [LANES*SHIFT_W-1:0]   s_shift,  // right shift per lane (must be < PROD_W)
    output logic                       m_valid,
    input  logic                       m_ready,
    output logic [LANES*OUT_W-1:0]     m_data    // signed saturated results
);
  // The product of a signed ACC_W and an unsigned MUL_W number needs ACC_W + MUL_W bits; one more
  // bit keeps the rounding addition from overflowing.
  localparam int PROD_W = ACC_W + MUL_W;
  localparam int RND_W  = PROD_W + 1;
  localparam logic signed [OUT_W-1:0] OUT_MAX = {1'b0, {(OUT_W - 1) {1'b1}}};
  localparam logic signed [OUT_W-1:0] OUT_MIN = {1'b1, {(OUT_W - 1) {1'b0}}};

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

  for (genvar l = 0; l < LANES; l++) begin : g_lane
    logic signed [PROD_W-1:0] prod1;
    logic [SHIFT_W-1:0]       sh1;
    logic signed [RND_W-1:0]  shifted2;
    logic signed [OUT_W-1:0]  sat3;

    // Stage 1: signed x unsigned product (the zero-extended multiplier keeps it unsigned).
    always_ff @(posedge clk) begin
      if (ce) begin
        prod1 <= PROD_W'($signed(s_acc[l*ACC_W+:ACC_W]) *
                         $signed({1'b0, s_mult[l*MUL_W+:MUL_W]}));
        sh1   <= s_shift[l*SHIFT_W+:SHIFT_W];
      end
    end

    // Stage 2: add half an output LSB, then arithmetic shift (round half toward +infinity).
    logic signed [RND_W-1:0] half1;
    assign half1 = (sh1 == '0) ? '0 : (RND_W'(1) <<< (sh1 - SHIFT_W'(1)));
    always_ff @(posedge clk) begin
      if (ce) shifted2 <= (RND_W'(prod1) + half1) >>> sh1;
    end

    // Stage 3: saturate to OUT_W signed bits.
    always_ff @(posedge clk) begin
      if (ce) begin
        if (shifted2 > RND_W'(OUT_MAX)) sat3 <= OUT_MAX;
        else if (shifted2 < RND_W'(OUT_MIN)) sat3 <= OUT_MIN;
        else sat3 <= shifted2[OUT_W-1:0];
      end
    end
    assign m_data[l*OUT_W+:OUT_W] = sat3;
  end
endmodule
