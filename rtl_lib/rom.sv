// Read-only memory initialised from a $readmemh image (program, descriptors): WIDTH-bit words,
// DEPTH of them; rdata holds the word at the address presented in the previous cycle.
module rom #(
    parameter int WIDTH = 64,
    parameter int DEPTH = 256,
    parameter IMAGE = ""  // $readmemh file; "" = all zero (yosys reads no `string` type)
) (
    input  logic                     clk,
    input  logic [$clog2(DEPTH)-1:0] addr,
    output logic [        WIDTH-1:0] rdata
);
  logic [WIDTH-1:0] mem[DEPTH];
  if (IMAGE != "") begin : g_image
    initial $readmemh(IMAGE, mem);
  end else begin : g_zero
    initial for (int i = 0; i < DEPTH; i++) mem[i] = '0;
  end
  always_ff @(posedge clk) rdata <= mem[addr];
endmodule
