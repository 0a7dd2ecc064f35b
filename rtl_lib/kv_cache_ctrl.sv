// Λ-shaped KV-cache controller: SINK sink slots plus a circular window of WINDOW slots per head.
//
// Λ rule (docs/numerics.md): the key/value of absolute position p lives in slot p if p < SINK,
// else in slot SINK + ((p - SINK) mod WINDOW). A query at position i sees key positions j <= i with
// j < SINK or j > i - WINDOW.
//
// Write channel: one KV4 entry (one token, one head) per beat. The memory word at address
// head * (SINK + WINDOW) + slot is {zp[3:0], exp[7:0], codes[4*HEAD_DIM-1:0]}, the codes packed
// LSB-first four bits each (the contract's KV4 byte layout read as a little-endian vector).
// Query channel: for a query position i (and a head, to form addresses) the controller emits the
// visible slots as a stream in increasing key position (sinks first, then the window oldest to
// newest; `m_last` marks j = i) and holds the slot visibility mask `q_mask` (bit s set when slot
// s holds a key the query sees, assuming every key position <= i has been written and none later)
// from the first entry of that query until the next query is accepted.
module kv_cache_ctrl #(
    parameter int SINK = 4,
    parameter int WINDOW = 1020,
    parameter int HEADS = 32,
    parameter int HEAD_DIM = 128,
    parameter int POS_W = 32
) (
    input logic clk,
    input logic rst,

    // KV4 write stream
    input  logic                       wr_valid,
    output logic                       wr_ready,
    input  logic [          POS_W-1:0] wr_pos,
    input  logic [  $clog2(HEADS)-1:0] wr_head,
    input  logic [     4*HEAD_DIM-1:0] wr_codes,
    input  logic [                7:0] wr_exp,
    input  logic [                3:0] wr_zp,

    // cache memory write port (one word per cycle, always accepted)
    output logic                                    mem_we,
    output logic [$clog2(HEADS*(SINK+WINDOW))-1:0] mem_addr,
    output logic [                4*HEAD_DIM+11:0] mem_wdata,

    // query stream in, visible-slot stream out
    input  logic                                    q_valid,
    output logic                                    q_ready,
    input  logic [                       POS_W-1:0] q_pos,
    input  logic [               $clog2(HEADS)-1:0] q_head,
    output logic [                 SINK+WINDOW-1:0] q_mask,
    output logic                                    m_valid,
    input  logic                                    m_ready,
    output logic [         $clog2(SINK+WINDOW)-1:0] m_slot,
    output logic [$clog2(HEADS*(SINK+WINDOW))-1:0] m_addr,
    output logic [                       POS_W-1:0] m_key_pos,
    output logic                                    m_last
);
  localparam int SLOTS = SINK + WINDOW;
  localparam int SLOT_W = $clog2(SLOTS);
  localparam int HEAD_W = $clog2(HEADS);
  localparam int ADDR_W = $clog2(HEADS * SLOTS);
  localparam int WORD_W = 4 * HEAD_DIM + 12;
  localparam logic [SLOT_W-1:0] LAST_SLOT = SLOT_W'(SLOTS - 1);
  localparam logic [SLOT_W-1:0] FIRST_WIN = SLOT_W'(SINK);
  localparam logic [POS_W-1:0] P_SLOTS = POS_W'(SLOTS);
  localparam logic [POS_W-1:0] P_SINK = POS_W'(SINK);

  initial begin
    if (SINK < 1) $error("kv_cache_ctrl: SINK must be >= 1");
    if (WINDOW < 2) $error("kv_cache_ctrl: WINDOW must be >= 2");
    if (HEADS < 2) $error("kv_cache_ctrl: HEADS must be >= 2");
    if (SLOT_W >= POS_W) $error("kv_cache_ctrl: POS_W too narrow for SINK + WINDOW");
  end

  // Slot that follows s in position order: +1, wrapping from the last window slot to the first.
  function automatic logic [SLOT_W-1:0] next_slot(input logic [SLOT_W-1:0] s);
    next_slot = (s == LAST_SLOT) ? FIRST_WIN : s + 1'b1;
  endfunction

  function automatic logic [ADDR_W-1:0] slot_addr(input logic [HEAD_W-1:0] h,
                                                  input logic [SLOT_W-1:0] s);
    slot_addr = ADDR_W'(h) * ADDR_W'(SLOTS) + ADDR_W'(s);
  endfunction

  // ------------------------------------------------------------------ write channel
  // Positions below SINK + WINDOW map to themselves; a write at the same position as the previous
  // one (another head) or the next position reuses/advances the last slot. Only a jump inside the
  // wrapped region needs the iterative remainder.
  logic w_wait;  // waiting for the remainder of a wrapped position
  logic [HEAD_W-1:0] w_head;
  logic [WORD_W-1:0] w_word;
  logic [POS_W-1:0] w_pos;
  logic last_valid;
  logic [POS_W-1:0] last_pos;
  logic [SLOT_W-1:0] last_slot;
  logic wmod_busy;
  logic [$clog2(WINDOW)-1:0] wmod_r;

  logic w_direct, w_same, w_next, w_fast, w_fire;
  logic [POS_W:0] last_pos_inc;
  logic [SLOT_W-1:0] w_fast_slot, w_mod_slot;

  assign wr_ready = !w_wait;
  // The entry register feeds the memory directly: it is loaded on every accepted beat and held
  // while a wrapped write waits for its slot (wr_ready low).
  assign mem_wdata = w_word;
  assign w_fire = wr_valid && wr_ready;
  assign last_pos_inc = {1'b0, last_pos} + 1'b1;
  assign w_direct = wr_pos < P_SLOTS;
  assign w_same = last_valid && (wr_pos == last_pos);
  assign w_next = last_valid && ({1'b0, wr_pos} == last_pos_inc);
  assign w_fast = w_direct || w_same || w_next;
  assign w_fast_slot = w_direct ? wr_pos[SLOT_W-1:0] : (w_same ? last_slot : next_slot(last_slot));
  assign w_mod_slot = FIRST_WIN + SLOT_W'(wmod_r);

  mod_const #(
      .X_W(POS_W),
      .DIV(WINDOW)
  ) u_wmod (
      .clk  (clk),
      .rst(rst),
      .start(w_fire && !w_fast),
      .x    (wr_pos - P_SINK),
      .busy (wmod_busy),
      .r    (wmod_r)
  );

  always_ff @(posedge clk) begin
    if (rst) begin
      w_wait <= 1'b0;
      mem_we <= 1'b0;
      last_valid <= 1'b0;
      mem_addr <= '0;
      w_head <= '0;
      w_word <= '0;
      w_pos <= '0;
      last_pos <= '0;
      last_slot <= '0;
    end else begin
      mem_we <= 1'b0;
      if (w_fire) w_word <= {wr_zp, wr_exp, wr_codes};
      if (w_fire && w_fast) begin
        mem_we <= 1'b1;
        mem_addr <= slot_addr(wr_head, w_fast_slot);
        last_valid <= 1'b1;
        last_pos <= wr_pos;
        last_slot <= w_fast_slot;
      end else if (w_fire) begin
        w_wait <= 1'b1;
        w_head <= wr_head;
        w_pos <= wr_pos;
      end else if (w_wait && !wmod_busy) begin
        w_wait <= 1'b0;
        mem_we <= 1'b1;
        mem_addr <= slot_addr(w_head, w_mod_slot);
        last_valid <= 1'b1;
        last_pos <= w_pos;
        last_slot <= w_mod_slot;
      end
    end
  end

  // ------------------------------------------------------------------ query channel
  typedef enum logic [1:0] {
    Q_IDLE,
    Q_MOD,
    Q_STREAM
  } qstate_t;
  qstate_t q_state;
  logic [POS_W-1:0] q_i;  // query position
  logic [HEAD_W-1:0] q_h;
  logic [POS_W-1:0] cur_pos;  // key position of the entry on the output
  logic [SLOT_W-1:0] cur_slot;
  logic [POS_W-1:0] win_pos;  // first window key position the query sees
  logic [SLOT_W-1:0] win_slot;
  logic qmod_busy;
  logic [$clog2(WINDOW)-1:0] qmod_r;
  logic q_fire, q_full;

  assign q_ready = (q_state == Q_IDLE);
  assign q_fire = q_valid && q_ready;
  // Window full: the oldest visible window key i - WINDOW + 1 sits in the slot after slot(i), i.e.
  // SINK + ((i - SINK + 1) mod WINDOW); before that the window starts at position/slot SINK.
  assign q_full = q_pos >= P_SLOTS;

  mod_const #(
      .X_W(POS_W),
      .DIV(WINDOW)
  ) u_qmod (
      .clk  (clk),
      .rst(rst),
      .start(q_fire && q_full),
      .x    (q_pos - P_SINK + 1'b1),
      .busy (qmod_busy),
      .r    (qmod_r)
  );

  assign m_valid = (q_state == Q_STREAM);
  assign m_slot = cur_slot;
  assign m_key_pos = cur_pos;
  assign m_last = (cur_pos == q_i);
  assign m_addr = slot_addr(q_h, cur_slot);

  always_ff @(posedge clk) begin
    if (rst) begin
      q_state <= Q_IDLE;
      q_i <= '0;
      q_h <= '0;
      cur_pos <= '0;
      cur_slot <= '0;
      win_pos <= '0;
      win_slot <= '0;
    end else begin
      case (q_state)
        Q_IDLE:
        if (q_fire) begin
          q_i <= q_pos;
          q_h <= q_head;
          cur_pos <= '0;
          cur_slot <= '0;
          win_pos <= q_full ? q_pos - POS_W'(WINDOW) + 1'b1 : P_SINK;
          win_slot <= FIRST_WIN;
          q_state <= q_full ? Q_MOD : Q_STREAM;
        end
        Q_MOD:
        if (!qmod_busy) begin
          win_slot <= FIRST_WIN + SLOT_W'(qmod_r);
          q_state  <= Q_STREAM;
        end
        default:
        if (m_ready) begin
          if (m_last) begin
            q_state <= Q_IDLE;
          end else if (cur_pos == P_SINK - 1'b1) begin
            cur_pos  <= win_pos;
            cur_slot <= win_slot;
          end else begin
            cur_pos  <= cur_pos + 1'b1;
            cur_slot <= next_slot(cur_slot);
          end
        end
      endcase
    end
  end

  // Visibility is a thermometer code: slot s is seen iff s <= i (positions below SINK + WINDOW sit
  // in their own slot; once i >= SINK + WINDOW - 1 every slot holds a visible key).
  // One wide compare decides "all visible"; below that i < SLOTS fits SLOT_W bits, and i >= s is
  // split into high/low halves (shared decodes), so each mask bit is a single 4-input function.
  localparam int LO_W = SLOT_W / 2;
  localparam int HI_W = SLOT_W - LO_W;
  logic q_all;
  logic [(1<<HI_W)-1:0] hi_gt, hi_eq;
  logic [(1<<LO_W)-1:0] lo_ge;
  assign q_all = q_pos >= POS_W'(SLOTS - 1);
  for (genvar h = 0; h < (1 << HI_W); h++) begin : g_hi
    if (h == (1 << HI_W) - 1) begin : g_top
      assign hi_gt[h] = 1'b0;
    end else begin : g_cmp
      assign hi_gt[h] = q_pos[SLOT_W-1:LO_W] > HI_W'(h);
    end
    assign hi_eq[h] = q_pos[SLOT_W-1:LO_W] == HI_W'(h);
  end
  for (genvar l = 0; l < (1 << LO_W); l++) begin : g_lo
    if (l == 0) begin : g_zero
      assign lo_ge[l] = 1'b1;
    end else begin : g_cmp
      assign lo_ge[l] = q_pos[LO_W-1:0] >= LO_W'(l);
    end
  end
  always_ff @(posedge clk) begin
    if (rst) q_mask <= '0;
    else if (q_fire)
      for (int s = 0; s < SLOTS; s++)
        q_mask[s] <= q_all || hi_gt[s>>LO_W] || (hi_eq[s>>LO_W] && lo_ge[s&((1<<LO_W)-1)]);
  end
endmodule
