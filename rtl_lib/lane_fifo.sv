// Per-lane word buffer of the stream-fed MAC unit: a small synchronous FIFO whose head is read
// combinationally (distributed RAM), so a consumer can slice the head word in the cycle it needs
// it and pop it in the same cycle. One push and one pop per cycle; `flush` empties it (a command
// boundary drops the padding left over from the previous layer).
// DEPTH is a power of two; `count` is the number of words held (0..DEPTH).
module lane_fifo #(
    parameter int W = 256,
    parameter int DEPTH = 4
) (
    input  logic                       clk,
    input  logic                       rst,
    input  logic                       flush,
    input  logic                       push,
    input  logic [              W-1:0] wdata,
    input  logic                       pop,
    output logic [              W-1:0] head,
    output logic                       empty,
    output logic                       full,
    output logic [$clog2(DEPTH+1)-1:0] count
);
  localparam int AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;
  localparam int CW = $clog2(DEPTH + 1);
  if (DEPTH < 2 || (DEPTH & (DEPTH - 1)) != 0) begin : g_bad_depth
    $error("lane_fifo: DEPTH must be a power of two >= 2");
  end

  logic [W-1:0] mem[DEPTH];
  logic [AW-1:0] rd_q, wr_q;
  logic [CW-1:0] cnt_q;

  assign count = cnt_q;
  assign empty = (cnt_q == '0);
  assign full = (32'(cnt_q) == DEPTH);
  assign head = mem[rd_q];

  always_ff @(posedge clk) begin
    if (rst || flush) begin
      rd_q <= '0;
      wr_q <= '0;
      cnt_q <= '0;
    end else begin
      if (push) wr_q <= wr_q + AW'(1);
      if (pop) rd_q <= rd_q + AW'(1);
      cnt_q <= cnt_q + CW'(push) - CW'(pop);
    end
  end

  always_ff @(posedge clk) begin
    if (push) mem[wr_q] <= wdata;
  end
endmodule
