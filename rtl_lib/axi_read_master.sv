// AXI4 read master for one HBM channel: a command (byte address, length in DATA_W-bit words)
// becomes INCR bursts of at most MAX_BURST beats that never cross a 4 KiB boundary, with up to
// MAX_OUTSTANDING bursts in flight; the returned words leave as an AXI-stream (m_axis_*), in
// order, with tlast on each command's last word.
// AXI subset: single ID (in-order data), arsize = log2(DATA_W/8), arburst = INCR; the address
// must be aligned to DATA_W/8 bytes (the low bits are ignored). rresp != OKAY sets the sticky
// `err` flag (cleared by the next command accepted while the master is idle); the data is still
// delivered.
// PIPELINE = 0: a new command is accepted only when the previous one has fully returned (`busy`
// low), one round trip per command. PIPELINE = 1: the next command is accepted as soon as the
// previous one's bursts are all requested (a queue of MAX_OUTSTANDING + 1 command lengths marks
// tlast), so back-to-back commands stream without a gap (the stream prefetcher's mode).
// Throughput: one word per cycle while the slave streams; R is buffered in a 2-entry FIFO so
// rready is a register (no combinational path from m_axis_tready to the AXI port).
module axi_read_master #(
    parameter int ADDR_W          = 34,
    parameter int DATA_W          = 256,
    parameter int LEN_W           = 24,
    parameter int MAX_BURST       = 64,
    parameter int MAX_OUTSTANDING = 4,
    parameter int PIPELINE        = 0
) (
    input  logic              clk,
    input  logic              rst,
    // command
    input  logic              cmd_valid,
    output logic              cmd_ready,
    input  logic [ADDR_W-1:0] cmd_addr,
    input  logic [LEN_W-1:0]  cmd_len,    // words, >= 1
    output logic              busy,
    output logic              err,
    // AXI4 read address channel
    output logic              m_axi_arvalid,
    input  logic              m_axi_arready,
    output logic [ADDR_W-1:0] m_axi_araddr,
    output logic [7:0]        m_axi_arlen,
    output logic [2:0]        m_axi_arsize,
    output logic [1:0]        m_axi_arburst,
    // AXI4 read data channel
    input  logic              m_axi_rvalid,
    output logic              m_axi_rready,
    input  logic [DATA_W-1:0] m_axi_rdata,
    input  logic [1:0]        m_axi_rresp,
    input  logic              m_axi_rlast,
    // AXI-stream of words
    output logic              m_axis_tvalid,
    input  logic              m_axis_tready,
    output logic [DATA_W-1:0] m_axis_tdata,
    output logic              m_axis_tlast
);
  localparam int BYTES = DATA_W / 8;
  localparam int LSB = $clog2(BYTES);
  localparam int PAGE_WORDS = 4096 / BYTES;           // words in a 4 KiB page
  localparam int PAGE_W = $clog2(PAGE_WORDS);
  localparam int BL_W = $clog2(MAX_BURST) + 1;        // burst length 1..MAX_BURST
  localparam int OS_W = $clog2(MAX_OUTSTANDING + 1);
  localparam int CMP_W = (PAGE_W + 1 > BL_W) ? PAGE_W + 1 : BL_W;
  localparam int LQ = (PIPELINE != 0) ? MAX_OUTSTANDING + 1 : 1;  // commands not fully returned
  localparam int LQ_W = $clog2(LQ + 1);
  localparam int LQP_W = (LQ > 1) ? $clog2(LQ) : 1;

  assign m_axi_arsize  = 3'(LSB);

  // The byte offset inside a word is ignored: commands are word aligned by definition.
  logic unused_offset;
  assign unused_offset = ^cmd_addr[LSB-1:0];
  assign m_axi_arburst = 2'b01;  // INCR

  // ---- address side ------------------------------------------------------------------------
  logic [ADDR_W-LSB-1:0] ar_word;     // next word address to request
  logic [LEN_W-1:0]      ar_left;     // words still to request
  logic [OS_W-1:0]       outstanding; // bursts requested whose rlast has not arrived
  logic [LQ_W-1:0]       lq_count;    // commands accepted whose last word has not arrived
  logic                  ar_busy, cmd_fire;
  logic [BL_W-1:0]       blen;
  logic                  ar_fire, r_last_fire;

  // Burst length: min(MAX_BURST, words left, words to the next 4 KiB boundary).
  always_comb begin
    logic [PAGE_W:0] to_page;
    to_page = (PAGE_W + 1)'(PAGE_WORDS) - (PAGE_W + 1)'(ar_word[PAGE_W-1:0]);
    blen = BL_W'(MAX_BURST);
    if (ar_left < LEN_W'(blen)) blen = BL_W'(ar_left);
    if (CMP_W'(to_page) < CMP_W'(blen)) blen = BL_W'(to_page);
  end

  assign ar_busy   = (ar_left != '0) || m_axi_arvalid;
  assign busy      = ar_busy || (lq_count != '0);
  assign cmd_ready = (PIPELINE != 0) ? (!ar_busy && lq_count != LQ_W'(LQ)) : !busy;
  assign cmd_fire  = cmd_valid && cmd_ready;
  assign ar_fire   = m_axi_arvalid && m_axi_arready;

  always_ff @(posedge clk) begin
    if (rst) begin
      m_axi_arvalid <= 1'b0;
      ar_left       <= '0;
      outstanding   <= '0;
    end else begin
      if (cmd_fire) begin
        ar_word <= cmd_addr[ADDR_W-1:LSB];
        ar_left <= cmd_len;
      end else if (ar_fire) begin
        m_axi_arvalid <= 1'b0;
        ar_word <= ar_word + (ADDR_W - LSB)'(m_axi_arlen) + (ADDR_W - LSB)'(1);
        ar_left <= ar_left - LEN_W'(m_axi_arlen) - LEN_W'(1);
      end else if (!m_axi_arvalid && ar_left != '0 && outstanding < OS_W'(MAX_OUTSTANDING)) begin
        // The request is registered so that it stays stable until arready, as AXI requires.
        m_axi_arvalid <= 1'b1;
        m_axi_araddr  <= {ar_word, LSB'(0)};
        m_axi_arlen   <= 8'(blen - BL_W'(1));
      end
      outstanding <= outstanding + OS_W'(ar_fire) - OS_W'(r_last_fire);
    end
  end

  // ---- data side: command lengths (for tlast), 2-entry FIFO between R and the stream -------
  logic [LEN_W-1:0]  lq_len[LQ];
  logic [LQP_W-1:0]  lq_rd, lq_wr;
  logic [LEN_W-1:0]  rx_cnt;          // words of the oldest command delivered so far
  logic              rx_last;
  logic [DATA_W-1:0] fifo_data[2];
  logic              fifo_last[2];
  logic              rd_ptr, wr_ptr;
  logic [1:0]        count;
  logic              r_fire, t_fire;

  function automatic logic [LQP_W-1:0] lq_next(input logic [LQP_W-1:0] p);
    lq_next = (p == LQP_W'(LQ - 1)) ? '0 : p + LQP_W'(1);
  endfunction

  assign rx_last       = (rx_cnt == lq_len[lq_rd] - LEN_W'(1));
  assign m_axi_rready  = (count != 2'd2);
  assign r_fire        = m_axi_rvalid && m_axi_rready;
  assign r_last_fire   = r_fire && m_axi_rlast;
  assign m_axis_tvalid = (count != 2'd0);
  assign m_axis_tdata  = fifo_data[rd_ptr];
  assign m_axis_tlast  = fifo_last[rd_ptr];
  assign t_fire        = m_axis_tvalid && m_axis_tready;

  always_ff @(posedge clk) begin
    if (rst) begin
      rd_ptr   <= 1'b0;
      wr_ptr   <= 1'b0;
      count    <= '0;
      lq_count <= '0;
      lq_rd    <= '0;
      lq_wr    <= '0;
      rx_cnt   <= '0;
      err      <= 1'b0;
    end else begin
      if (cmd_fire) lq_wr <= lq_next(lq_wr);
      if (r_fire && rx_last) lq_rd <= lq_next(lq_rd);
      lq_count <= lq_count + LQ_W'(cmd_fire) - LQ_W'(r_fire && rx_last);
      if (r_fire) rx_cnt <= rx_last ? '0 : rx_cnt + LEN_W'(1);
      if (cmd_fire && !busy) err <= 1'b0;
      else if (r_fire && m_axi_rresp != 2'b00) err <= 1'b1;
      if (r_fire) wr_ptr <= !wr_ptr;
      if (t_fire) rd_ptr <= !rd_ptr;
      count <= count + 2'(r_fire) - 2'(t_fire);
    end
  end
  always_ff @(posedge clk) begin
    if (cmd_fire) lq_len[lq_wr] <= cmd_len;
    if (r_fire) begin
      fifo_data[wr_ptr] <= m_axi_rdata;
      fifo_last[wr_ptr] <= rx_last;
    end
  end
endmodule
