// Read-only memory initialised from a $readmemh image (program, descriptors): WIDTH-bit words,
// DEPTH of them; rdata holds the word at the address presented in the previous cycle.
module rom #(
    parameter int WIDTH = 64,
    parameter int DEPTH = 256,
    parameter string IMAGE = "program.hex"
) (
    input  logic                     clk,
    input  logic [$clog2(DEPTH)-1:0] addr,
    output logic [        WIDTH-1:0] rdata
);
  logic [WIDTH-1:0] mem[DEPTH];
  initial $readmemh(IMAGE, mem);
  always_ff @(posedge clk) rdata <= mem[addr];
endmodule
