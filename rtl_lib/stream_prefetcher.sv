// Stream prefetcher of one HBM pseudo-channel: walks a fetch program (128-bit entries of
// accllm.rtl_lib.fetch_isa, read from a ROM port with one cycle of latency) from `start_pc` when
// `start` is pulsed while idle, issues its reads through an axi_read_master (PIPELINE = 1) and
// pushes the returned beats, each with the unit tag of its entry, into a FIFO of DEPTH beats
// (stream_fifo: block RAM); the consumers pop them on m_valid/m_ready/m_data/m_tag.
//   RANGE tag, addr, beats              : `beats` beats from byte address addr;
//   RING  tag, addr, slot_bytes, capacity: ceil(min(pos, capacity) * slot_bytes / (DATA_W/8))
//                                          beats from addr (none when pos = 0);
//   END                                  : stop; `idle` rises once the last beat was popped.
// `pos` (tokens already in the KV cache) is sampled with `start`.
// Reads are split into commands that never cross a MAX_BURST-beat boundary (one AXI burst each
// when MAX_BURST beats <= 4 KiB). A command is issued only when the FIFO has room for all of its
// beats, counting every beat already requested (a credit of DEPTH beats taken at issue and given
// back as beats are popped), so a stalled consumer never blocks the AXI R channel.
// Errors (sticky `err`, cleared by `start`; `err_code` bit 0: an illegal entry -- unknown opcode,
// reserved bits, a zero count, a tag >= 2^TAG_W, an address not beat aligned or beyond ADDR_W, a
// RING of 2^32 beats or more -- which stops the walk as END would; bit 1: an AXI read error).
// Timing (docs/rtl_lib.md): 3 cycles per RANGE entry and 5 per RING entry from its fetch to its
// first command; the read master turns a command into a burst 2 cycles later and accepts the next
// command as soon as the previous one's burst is requested; one beat per cycle when HBM and
// consumer allow it.
module stream_prefetcher #(
    parameter int ADDR_W          = 34,
    parameter int DATA_W          = 512,
    parameter int TAG_W           = 4,
    parameter int DEPTH           = 2048,
    parameter int PC_W            = 10,
    parameter int POS_W           = 32,
    parameter int MAX_BURST       = 64,
    parameter int MAX_OUTSTANDING = 8,
    parameter int URAM            = 0  // 1: the FIFO in UltraRAM (stream_fifo)
) (
    input  logic              clk,
    input  logic              rst,
    // control
    input  logic              start,
    input  logic [PC_W-1:0]   start_pc,
    input  logic [POS_W-1:0]  pos,
    output logic              idle,
    output logic              err,
    output logic [1:0]        err_code,
    // fetch program ROM (rdata = entry at the address of the previous cycle)
    output logic [PC_W-1:0]   prog_addr,
    input  logic [127:0]      prog_data,
    // AXI4 read port
    output logic              m_axi_arvalid,
    input  logic              m_axi_arready,
    output logic [ADDR_W-1:0] m_axi_araddr,
    output logic [7:0]        m_axi_arlen,
    output logic [2:0]        m_axi_arsize,
    output logic [1:0]        m_axi_arburst,
    input  logic              m_axi_rvalid,
    output logic              m_axi_rready,
    input  logic [DATA_W-1:0] m_axi_rdata,
    input  logic [1:0]        m_axi_rresp,
    input  logic              m_axi_rlast,
    // tagged beats
    output logic              m_valid,
    input  logic              m_ready,
    output logic [DATA_W-1:0] m_data,
    output logic [TAG_W-1:0]  m_tag
);
  localparam int LSB = $clog2(DATA_W / 8);
  localparam int BW = ADDR_W - LSB;           // beat address width
  localparam int CB_W = $clog2(MAX_BURST);    // beat offset inside a MAX_BURST block
  localparam int CL_W = CB_W + 1;             // command length 1..MAX_BURST
  localparam int CR_W = $clog2(DEPTH + 1);    // FIFO credits 0..DEPTH
  localparam int TQ = MAX_OUTSTANDING + 2;    // commands the read master holds, plus one
  localparam int TQ_W = $clog2(TQ + 1);
  localparam int TQP_W = $clog2(TQ);
  localparam int FW = TAG_W + DATA_W;
  localparam int BYTES_M1 = DATA_W / 8 - 1;

  initial begin
    if (DEPTH < MAX_BURST) $error("stream_prefetcher: DEPTH must hold one MAX_BURST command");
    if ((1 << CB_W) != MAX_BURST) $error("stream_prefetcher: MAX_BURST must be a power of two");
    if (MAX_BURST * DATA_W / 8 > 4096) $error("stream_prefetcher: MAX_BURST beats exceed 4 KiB");
    if (TAG_W > 8 || POS_W > 32 || ADDR_W > 48) $error("stream_prefetcher: TAG_W/POS_W/ADDR_W");
  end

  // ---- entry fields (fetch_isa) ---------------------------------------------------------------
  logic [3:0]  e_op;
  logic [7:0]  e_tag;
  logic [47:0] e_addr;
  logic [31:0] e_beats, e_cap;
  logic [15:0] e_slot;
  logic        e_bad_common, e_bad_range, e_bad_ring;
  assign e_op    = prog_data[127:124];
  assign e_tag   = prog_data[123:116];
  assign e_addr  = prog_data[111:64];
  assign e_beats = prog_data[31:0];
  assign e_cap   = prog_data[63:32];
  assign e_slot  = prog_data[15:0];
  assign e_bad_common = (prog_data[115:112] != '0) || ({1'b0, e_tag} >= 9'(1 << TAG_W))
                        || (e_addr[LSB-1:0] != '0) || ((e_addr >> ADDR_W) != '0);
  assign e_bad_range  = e_bad_common || (prog_data[63:32] != '0) || (e_beats == '0);
  assign e_bad_ring   = e_bad_common || (prog_data[31:16] != '0) || (e_cap == '0)
                        || (e_slot == '0);

  // ---- walker -------------------------------------------------------------------------------
  typedef enum logic [2:0] {S_IDLE, S_FETCH, S_DECODE, S_RING_N, S_RING_P, S_ISSUE, S_END} st_t;
  st_t st;
  logic [PC_W-1:0]   pc;
  logic [31:0]       pos_r, ring_n, ring_cap;
  logic [15:0]       ring_slot;
  logic [47:0]       ring_bytes;
  logic [31:0]       left;        // beats of the entry still to request
  logic [BW-1:0]     cur;         // beat address of the next request
  logic [TAG_W-1:0]  tag_r;
  logic [CR_W-1:0]   credits;     // FIFO beats not yet promised to a request
  logic [CL_W-1:0]   chunk;
  logic              rm_cmd_valid, rm_cmd_ready, rm_busy, rm_err, cmd_fire;
  logic              m_fire;
  logic [TQ_W-1:0]   tq_count;
  logic [48:0]       ring_beats;

  assign prog_addr = pc;
  assign idle = (st == S_IDLE);
  assign m_fire = m_valid && m_ready;

  // Beats to the next MAX_BURST boundary, capped by what is left of the entry.
  always_comb begin
    logic [CL_W-1:0] to_edge;
    to_edge = CL_W'(MAX_BURST) - CL_W'(cur[CB_W-1:0]);
    chunk = (left < 32'(to_edge)) ? CL_W'(left) : to_edge;
  end

  assign rm_cmd_valid = (st == S_ISSUE) && (left != '0) && (credits >= CR_W'(chunk))
                        && (tq_count != TQ_W'(TQ));
  assign cmd_fire = rm_cmd_valid && rm_cmd_ready;
  assign ring_beats = 49'(ring_bytes) + 49'(BYTES_M1);

  always_ff @(posedge clk) begin
    if (rst) begin
      st       <= S_IDLE;
      pc       <= '0;
      err      <= 1'b0;
      err_code <= '0;
      credits  <= CR_W'(DEPTH);
    end else begin
      credits <= credits - (cmd_fire ? CR_W'(chunk) : CR_W'(0)) + CR_W'(m_fire);
      if (rm_err && !err) begin
        err      <= 1'b1;
        err_code <= 2'b10;
      end
      case (st)
        S_IDLE:
          if (start) begin
            pc       <= start_pc;
            pos_r    <= 32'(pos);
            err      <= 1'b0;
            err_code <= '0;
            st       <= S_FETCH;
          end
        S_FETCH: st <= S_DECODE;  // the ROM answers in the next cycle
        S_DECODE: begin
          tag_r <= e_tag[TAG_W-1:0];
          cur   <= e_addr[ADDR_W-1:LSB];
          ring_cap  <= e_cap;
          ring_slot <= e_slot;
          if (e_op == 4'd1 && !e_bad_range) begin
            left <= e_beats;
            st   <= S_ISSUE;
          end else if (e_op == 4'd2 && !e_bad_ring) begin
            st <= S_RING_N;
          end else begin
            if (e_op != 4'd0 || prog_data[123:0] != '0) begin
              err      <= 1'b1;
              err_code <= err_code | 2'b01;
            end
            st <= S_END;
          end
        end
        S_RING_N: begin
          ring_n <= (pos_r < ring_cap) ? pos_r : ring_cap;
          st     <= S_RING_P;
        end
        S_RING_P: begin
          ring_bytes <= ring_n * 48'(ring_slot);
          st         <= S_ISSUE;
          left       <= '0;
        end
        S_ISSUE:
          if (left == '0 && ring_bytes != '0) begin
            // first cycle of a RING: beats = ceil(bytes / beat bytes)
            ring_bytes <= '0;
            if (ring_beats[48:32+LSB] != '0) begin
              err      <= 1'b1;
              err_code <= err_code | 2'b01;
              st       <= S_END;
            end else left <= 32'(ring_beats[48:LSB]);
          end else if (left == '0) begin
            pc <= pc + PC_W'(1);  // a RING with no visible slot
            st <= S_FETCH;
          end else if (cmd_fire) begin
            cur  <= cur + BW'(chunk);
            left <= left - 32'(chunk);
            if (left == 32'(chunk)) begin
              pc <= pc + PC_W'(1);
              st <= S_FETCH;
            end
          end
        S_END:
          // every requested beat has been popped
          if (credits == CR_W'(DEPTH) && !rm_busy) st <= S_IDLE;
        default: st <= S_IDLE;
      endcase
    end
  end

  // ---- read master ----------------------------------------------------------------------------
  logic              rs_valid, rs_ready, rs_last;
  logic [DATA_W-1:0] rs_data;
  axi_read_master #(
      .ADDR_W(ADDR_W),
      .DATA_W(DATA_W),
      .LEN_W(CL_W),
      .MAX_BURST(MAX_BURST),
      .MAX_OUTSTANDING(MAX_OUTSTANDING),
      .PIPELINE(1)
  ) u_rd (
      .clk(clk),
      .rst(rst),
      .cmd_valid(rm_cmd_valid),
      .cmd_ready(rm_cmd_ready),
      .cmd_addr({cur, LSB'(0)}),
      .cmd_len(chunk),
      .busy(rm_busy),
      .err(rm_err),
      .m_axi_arvalid(m_axi_arvalid),
      .m_axi_arready(m_axi_arready),
      .m_axi_araddr(m_axi_araddr),
      .m_axi_arlen(m_axi_arlen),
      .m_axi_arsize(m_axi_arsize),
      .m_axi_arburst(m_axi_arburst),
      .m_axi_rvalid(m_axi_rvalid),
      .m_axi_rready(m_axi_rready),
      .m_axi_rdata(m_axi_rdata),
      .m_axi_rresp(m_axi_rresp),
      .m_axi_rlast(m_axi_rlast),
      .m_axis_tvalid(rs_valid),
      .m_axis_tready(rs_ready),
      .m_axis_tdata(rs_data),
      .m_axis_tlast(rs_last)
  );

  // ---- tags of the commands in flight, in order -------------------------------------------------
  logic [TAG_W-1:0] tq[TQ];
  logic [TQP_W-1:0] tq_rd, tq_wr;
  logic             rs_fire, tq_pop;
  assign rs_fire = rs_valid && rs_ready;
  assign tq_pop  = rs_fire && rs_last;

  function automatic logic [TQP_W-1:0] tq_next(input logic [TQP_W-1:0] p);
    tq_next = (p == TQP_W'(TQ - 1)) ? '0 : p + TQP_W'(1);
  endfunction

  always_ff @(posedge clk) begin
    if (rst) begin
      tq_rd    <= '0;
      tq_wr    <= '0;
      tq_count <= '0;
    end else begin
      if (cmd_fire) tq_wr <= tq_next(tq_wr);
      if (tq_pop) tq_rd <= tq_next(tq_rd);
      tq_count <= tq_count + TQ_W'(cmd_fire) - TQ_W'(tq_pop);
    end
  end
  always_ff @(posedge clk) if (cmd_fire) tq[tq_wr] <= tag_r;

  // ---- FIFO -----------------------------------------------------------------------------------
  logic [FW-1:0] f_out;
  logic [$clog2(DEPTH + 3)-1:0] f_count;
  stream_fifo #(
      .WIDTH(FW),
      .DEPTH(DEPTH),
      .URAM(URAM)
  ) u_fifo (
      .clk(clk),
      .rst(rst),
      .s_valid(rs_valid),
      .s_ready(rs_ready),  // always high: every beat in flight has a credited slot
      .s_data({tq[tq_rd], rs_data}),
      .m_valid(m_valid),
      .m_ready(m_ready),
      .m_data(f_out),
      .count(f_count)
  );
  assign m_data = f_out[DATA_W-1:0];
  assign m_tag  = f_out[FW-1:DATA_W];

  logic unused;
  assign unused = ^{f_count, e_tag, ring_beats[LSB-1:0]};
endmodule
