// Deep synchronous FIFO for streams: DEPTH entries of WIDTH bits in one inferred block RAM (one
// write port, one registered read port, so Yosys/Vivado map it to BRAM/URAM), followed by a
// 2-entry register buffer so that it passes one entry per cycle under any valid/ready pattern.
// A RAM read is issued whenever the buffer will have room for it (counting the read in flight
// and the entry leaving this cycle), so m_ready reaches the RAM read enable through one adder.
// Latency: an entry written into an empty FIFO leaves 3 cycles later (RAM write, RAM read,
// buffer); throughput one entry per cycle. Capacity: s_ready while the RAM holds < DEPTH entries
// (DEPTH + 2 entries in all, with the buffer); `count` = entries held (RAM, read, buffer).
// URAM = 1 marks the RAM (* ram_style = "ultra" *): UltraRAM on UltraScale+ (URAM288, 4K x 72
// each; Yosys maps 2048 x 516 to 8 of them instead of 58 RAMB18 units).
module stream_fifo #(
    parameter int WIDTH = 512,
    parameter int DEPTH = 2048,  // power of two
    parameter int URAM  = 0
) (
    input  logic                         clk,
    input  logic                         rst,
    input  logic                         s_valid,
    output logic                         s_ready,
    input  logic [WIDTH-1:0]             s_data,
    output logic                         m_valid,
    input  logic                         m_ready,
    output logic [WIDTH-1:0]             m_data,
    output logic [$clog2(DEPTH + 3)-1:0] count
);
  localparam int AW = $clog2(DEPTH);
  localparam int CW = $clog2(DEPTH + 3);

  initial begin
    if (DEPTH < 2 || (1 << AW) != DEPTH) $error("stream_fifo: DEPTH must be a power of two >= 2");
  end

  logic [WIDTH-1:0] rd_data;
  logic [AW-1:0] wr_ptr, rd_ptr;
  logic [AW:0] ram_count;
  logic wr_en, rd_en, pending, m_fire;
  logic [WIDTH-1:0] ob[2];
  logic ob_rd, ob_wr;
  logic [1:0] ob_count;

  assign s_ready = (ram_count != (AW + 1)'(DEPTH));
  assign wr_en   = s_valid && s_ready;
  assign m_valid = (ob_count != 2'd0);
  assign m_data  = ob[ob_rd];
  assign m_fire  = m_valid && m_ready;
  // Room in the buffer for one more read: occupied + in flight - leaving < 2.
  assign rd_en   = (ram_count != '0) && (3'(ob_count) + 3'(pending) < 3'd2 + 3'(m_fire));
  assign count   = CW'(ram_count) + CW'(pending) + CW'(ob_count);

  if (URAM != 0) begin : g_uram
    (* ram_style = "ultra" *) logic [WIDTH-1:0] mem[DEPTH];
    always_ff @(posedge clk) begin
      if (wr_en) mem[wr_ptr] <= s_data;
      if (rd_en) rd_data <= mem[rd_ptr];
    end
  end else begin : g_ram
    logic [WIDTH-1:0] mem[DEPTH];
    always_ff @(posedge clk) begin
      if (wr_en) mem[wr_ptr] <= s_data;
      if (rd_en) rd_data <= mem[rd_ptr];
    end
  end

  always_ff @(posedge clk) begin
    if (pending) ob[ob_wr] <= rd_data;
  end

  always_ff @(posedge clk) begin
    if (rst) begin
      wr_ptr    <= '0;
      rd_ptr    <= '0;
      ram_count <= '0;
      pending   <= 1'b0;
      ob_rd     <= 1'b0;
      ob_wr     <= 1'b0;
      ob_count  <= '0;
    end else begin
      if (wr_en) wr_ptr <= wr_ptr + AW'(1);
      if (rd_en) rd_ptr <= rd_ptr + AW'(1);
      ram_count <= ram_count + (AW + 1)'(wr_en) - (AW + 1)'(rd_en);
      pending   <= rd_en;
      if (pending) ob_wr <= !ob_wr;
      if (m_fire) ob_rd <= !ob_rd;
      ob_count <= ob_count + 2'(pending) - 2'(m_fire);
    end
  end
endmodule
