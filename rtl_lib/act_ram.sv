// The engine's on-chip activation buffer: WORDS words of 256 bits, two ports (a: host / loader,
// b: engine unit), each reading the word at the previous cycle's address and writing 32-bit
// lanes selected by lane_we. Same-address writes from both ports in one cycle: b wins.
module act_ram #(
    parameter int WORDS = 4096,
    parameter int AW = $clog2(WORDS)
) (
    input  logic           clk,
    input  logic [ AW-1:0] a_addr,
    input  logic           a_we,
    input  logic [    7:0] a_lane_we,
    input  logic [  255:0] a_wdata,
    output logic [  255:0] a_rdata,
    input  logic [ AW-1:0] b_addr,
    input  logic           b_we,
    input  logic [    7:0] b_lane_we,
    input  logic [  255:0] b_wdata,
    output logic [  255:0] b_rdata
);
  logic [255:0] mem[WORDS];
  always_ff @(posedge clk) begin
    for (int i = 0; i < 8; i++) begin
      if (a_we && a_lane_we[i]) mem[a_addr][32*i+:32] <= a_wdata[32*i+:32];
      if (b_we && b_lane_we[i]) mem[b_addr][32*i+:32] <= b_wdata[32*i+:32];
    end
    a_rdata <= mem[a_addr];
    b_rdata <= mem[b_addr];
  end
endmodule
