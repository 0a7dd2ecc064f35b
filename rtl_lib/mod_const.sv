// Remainder of an unsigned integer by a constant divisor, one restoring step per cycle.
//
// r = x mod DIV, for any x in [0, 2^X_W). A combinational `%` by a non-power-of-two constant is a
// full divider array; the Λ cache only needs a remainder once per wrapped write or per query, so a
// single X_W-bit compare-subtract iterated NSTEP times is the cheapest correct choice.
//
// Handshake: pulse `start` with `x` while `busy` is low; `busy` rises the next cycle and falls
// exactly NSTEP cycles after `start`; `r` then holds the remainder until the next `start`.
module mod_const #(
    parameter int X_W = 32,
    parameter int DIV = 1020
) (
    input  logic                   clk,
    input  logic                   rst,
    input  logic                   start,
    input  logic [X_W-1:0]         x,
    output logic                   busy,
    output logic [$clog2(DIV)-1:0] r
);
  // ceil(log2(DIV)) bits hold any remainder. DIV * 2^NSTEP > 2^X_W - 1, so NSTEP restoring steps
  // (subtracting DIV << k for k = NSTEP-1 .. 0) reduce every X_W-bit x below DIV, and the largest
  // shifted divisor DIV << (NSTEP-1) < 2^X_W still fits in X_W bits.
  localparam int LW = $clog2(DIV);
  localparam int NSTEP = X_W - LW + 1;
  localparam int CNT_W = $clog2(NSTEP + 1);
  localparam logic [X_W-1:0] DIV_TOP = X_W'(DIV) << (NSTEP - 1);

  initial begin
    if (DIV < 2) $error("mod_const: DIV must be >= 2");
    if (LW >= X_W) $error("mod_const: DIV must be <= 2^(X_W-1)");
  end

  logic [X_W-1:0] rem;
  logic [X_W-1:0] d;
  logic [CNT_W-1:0] cnt;

  always_ff @(posedge clk) begin
    if (rst) begin
      rem <= '0;
      d   <= '0;
      cnt <= '0;
    end else if (start) begin
      rem <= x;
      d   <= DIV_TOP;
      cnt <= CNT_W'(NSTEP);
    end else if (cnt != '0) begin
      if (rem >= d) rem <= rem - d;
      d   <= d >> 1;
      cnt <= cnt - 1'b1;
    end
  end

  assign busy = (cnt != '0);
  assign r = rem[LW-1:0];

  // Upper remainder bits are zero once the iteration has finished.
  logic unused_rem_hi;
  assign unused_rem_hi = ^rem[X_W-1:LW];
endmodule
