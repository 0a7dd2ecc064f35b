// AXI4 write master for one HBM channel (the KV write port of the engine): a command (byte
// address aligned to DATA_W/8, length in DATA_W-bit beats) becomes INCR bursts of at most
// MAX_BURST beats that never cross a 4 KiB boundary; the data beats (s_data with byte strobes
// s_strb, in order) go out on W, wlast on each burst's last beat. At most MAX_OUTSTANDING bursts
// wait for their B response. W beats of a burst are passed only after its AW was accepted (no
// write data before its address: every slave accepts that order). The next command is accepted
// as soon as the previous one's bursts are all requested (commands pipeline); `busy` stays high
// until every B response is in, and `done` pulses in the cycle after the last one arrives (busy
// falls). bresp != OKAY sets the sticky `err` (cleared by reset).
// AXI subset: single ID, awsize = log2(DATA_W/8), awburst = INCR; bready is always high.
// Timing: AW 2 cycles after the command; W beats flow from the cycle after their AW handshake
// at one beat per cycle (s_valid/wready permitting); done = last B + 1.
module axi_write_master #(
    parameter int ADDR_W          = 34,
    parameter int DATA_W          = 512,
    parameter int LEN_W           = 16,
    parameter int MAX_BURST       = 64,
    parameter int MAX_OUTSTANDING = 4
) (
    input  logic                clk,
    input  logic                rst,
    // command
    input  logic                cmd_valid,
    output logic                cmd_ready,
    input  logic [ADDR_W-1:0]   cmd_addr,
    input  logic [LEN_W-1:0]    cmd_len,    // beats, >= 1
    // data beats
    input  logic                s_valid,
    output logic                s_ready,
    input  logic [DATA_W-1:0]   s_data,
    input  logic [DATA_W/8-1:0] s_strb,
    output logic                busy,
    output logic                done,
    output logic                err,
    // AXI4 write address channel
    output logic                m_axi_awvalid,
    input  logic                m_axi_awready,
    output logic [ADDR_W-1:0]   m_axi_awaddr,
    output logic [7:0]          m_axi_awlen,
    output logic [2:0]          m_axi_awsize,
    output logic [1:0]          m_axi_awburst,
    // AXI4 write data channel
    output logic                m_axi_wvalid,
    input  logic                m_axi_wready,
    output logic [DATA_W-1:0]   m_axi_wdata,
    output logic [DATA_W/8-1:0] m_axi_wstrb,
    output logic                m_axi_wlast,
    // AXI4 write response channel
    input  logic                m_axi_bvalid,
    output logic                m_axi_bready,
    input  logic [1:0]          m_axi_bresp
);
  localparam int BYTES = DATA_W / 8;
  localparam int LSB = $clog2(BYTES);
  localparam int PAGE_WORDS = 4096 / BYTES;
  localparam int PAGE_W = $clog2(PAGE_WORDS);
  localparam int BL_W = $clog2(MAX_BURST) + 1;
  localparam int OS_W = $clog2(MAX_OUTSTANDING + 1);
  localparam int CMP_W = (PAGE_W + 1 > BL_W) ? PAGE_W + 1 : BL_W;
  localparam int BQ_W = (MAX_OUTSTANDING > 1) ? $clog2(MAX_OUTSTANDING) : 1;

  assign m_axi_awsize  = 3'(LSB);
  assign m_axi_awburst = 2'b01;  // INCR
  assign m_axi_bready  = 1'b1;

  logic unused_offset;
  assign unused_offset = ^cmd_addr[LSB-1:0];

  // ---- address side ------------------------------------------------------------------------
  logic [ADDR_W-LSB-1:0] aw_word;
  logic [LEN_W-1:0]      aw_left;
  logic [OS_W-1:0]       outstanding;  // bursts requested whose B has not arrived
  logic [BL_W-1:0]       blen;
  logic                  aw_fire, b_fire, aw_busy, busy_q;

  always_comb begin
    logic [PAGE_W:0] to_page;
    to_page = (PAGE_W + 1)'(PAGE_WORDS) - (PAGE_W + 1)'(aw_word[PAGE_W-1:0]);
    blen = BL_W'(MAX_BURST);
    if (aw_left < LEN_W'(blen)) blen = BL_W'(aw_left);
    if (CMP_W'(to_page) < CMP_W'(blen)) blen = BL_W'(to_page);
  end

  assign aw_busy   = (aw_left != '0) || m_axi_awvalid;
  assign busy      = aw_busy || (outstanding != '0);
  assign cmd_ready = !aw_busy;
  assign aw_fire   = m_axi_awvalid && m_axi_awready;
  assign b_fire    = m_axi_bvalid && m_axi_bready;
  assign done      = busy_q && !busy;

  always_ff @(posedge clk) begin
    if (rst) begin
      m_axi_awvalid <= 1'b0;
      aw_left       <= '0;
      outstanding   <= '0;
      busy_q        <= 1'b0;
      err           <= 1'b0;
    end else begin
      busy_q <= busy;
      if (cmd_valid && cmd_ready) begin
        aw_word <= cmd_addr[ADDR_W-1:LSB];
        aw_left <= cmd_len;
      end else if (aw_fire) begin
        m_axi_awvalid <= 1'b0;
        aw_word <= aw_word + (ADDR_W - LSB)'(m_axi_awlen) + (ADDR_W - LSB)'(1);
        aw_left <= aw_left - LEN_W'(m_axi_awlen) - LEN_W'(1);
      end else if (!m_axi_awvalid && aw_left != '0 && outstanding < OS_W'(MAX_OUTSTANDING)) begin
        m_axi_awvalid <= 1'b1;  // registered: stable until awready, as AXI requires
        m_axi_awaddr  <= {aw_word, LSB'(0)};
        m_axi_awlen   <= 8'(blen - BL_W'(1));
      end
      outstanding <= outstanding + OS_W'(aw_fire) - OS_W'(b_fire);
      if (b_fire && m_axi_bresp != 2'b00) err <= 1'b1;
    end
  end

  // ---- data side: lengths of the bursts whose address went out, W beats after them ----------
  logic [7:0]      bq[MAX_OUTSTANDING];
  logic [BQ_W-1:0] bq_rd, bq_wr;
  logic [OS_W-1:0] bq_count;
  logic [7:0]      w_cnt;
  logic            have_burst, w_fire, w_last;

  function automatic logic [BQ_W-1:0] bq_next(input logic [BQ_W-1:0] p);
    bq_next = (p == BQ_W'(MAX_OUTSTANDING - 1)) ? '0 : p + BQ_W'(1);
  endfunction

  assign have_burst   = (bq_count != '0);
  assign w_last       = (w_cnt == bq[bq_rd]);
  assign m_axi_wvalid = s_valid && have_burst;
  assign s_ready      = m_axi_wready && have_burst;
  assign m_axi_wdata  = s_data;
  assign m_axi_wstrb  = s_strb;
  assign m_axi_wlast  = w_last;
  assign w_fire       = m_axi_wvalid && m_axi_wready;

  always_ff @(posedge clk) begin
    if (rst) begin
      bq_rd    <= '0;
      bq_wr    <= '0;
      bq_count <= '0;
      w_cnt    <= '0;
    end else begin
      if (aw_fire) bq_wr <= bq_next(bq_wr);
      if (w_fire && w_last) bq_rd <= bq_next(bq_rd);
      bq_count <= bq_count + OS_W'(aw_fire) - OS_W'(w_fire && w_last);
      if (w_fire) w_cnt <= w_last ? '0 : w_cnt + 8'd1;
    end
  end
  always_ff @(posedge clk) if (aw_fire) bq[bq_wr] <= m_axi_awlen;
endmodule
