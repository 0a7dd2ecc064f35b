// The stream-fed MAC unit of the rebuilt engine (accel.linear, docs/engine.md): it issues no
// HBM reads; each weight channel c's words arrive on stream port c (s_valid/s_ready/s_data, DW
// bits = DW/256 stream words per beat, the lower address in the low bits) in the order of the
// layer's per-channel stream layout (accllm.backend.tiling.StreamLayout): pass by pass, first the
// pass's metadata words (lane-interleaved: word i to lane i mod lanes_in_pass), then its weight
// words (word w of lane l at w * lanes_in_pass + l). Each lane keeps a weight-word FIFO and a
// metadata-word FIFO (lane_fifo), so the MAC never waits for a word round while the stream runs.
// Metadata is an entry stream per lane, continued across the lane's rows and passes, EPW entries
// per 256-bit word: W2 (contract linear_w2a8) 18-bit entries, 14 per word: per row the exponent
// entry (e[o] in bits [7:0]) then one (zero point [1:0], mantissa [17:2]) entry per group;
// int8 (contract linear_int8, the LM head) 24-bit entries, 10 per word: e[o] [7:0], M[o] [23:8].
// A biased W2 linear (descriptor bit `bias`, Qwen2's q/k/v) has two more entries after the
// exponent: the Q15.16 bias b[o]'s bits [15:0], then [31:16] (contract quantize_bias); the
// write stage adds it after the requantizer, saturate(y + b, 32) (contract linear_bias_add).
// A zero-padded K (contract padded_k: the weights have k inputs, the activations fewer): the
// descriptor's k_pad last bytes of each A8 row are stored as zeros in S_XLOAD, whatever the
// activation buffer holds there (contract pad_inputs).
// GEMM tile: a descriptor runs `tokens` (<= TOK) tokens; each weight beat is applied to every
// token of the tile in consecutive cycles (tile_mac_array keeps per-token sums), so a tile
// streams the weights once.
// Command: cmd_payload[DESC_AW-1:0] = descriptor index (accllm.backend.accel_program.
// StreamLinearDescriptor, fields below); `done` pulses when every output has been written.
// Phases: S_XLOAD copies the tile's A8 rows (tokens x k/32 words from x_base) into every
// channel's activation store, S_FX reads the per-token exponents (one word: tokens <= 32), then
// S_RUN: the channels run their passes independently; outputs (Q15.16, token rows of n/8 words
// from y_base) leave a channel through one requantizer (one result per cycle) into whole-word
// writes with lane enables (the row's bias added after the requantizer), and a round-robin arbiter gives the activation-buffer port one word
// write per cycle.
module stream_linear_unit #(
    parameter int CH = 2,
    parameter int LANES = 4,
    parameter int BLOCKS = 4,
    parameter int P8 = 4,
    parameter int DW = 256,
    parameter int TOK = 4,
    parameter int MAX_K = 256,
    parameter int WFD = 4,
    parameter int MFD = 8,
    parameter int ACT_AW = 12,
    parameter int DESC_AW = 8,
    // 1: the bias path (row records carry LANES x 32 bias bits, the write stage's adder); a
    // build without it ignores the descriptor's bias bit (accel-to-hw sets BIAS when a linear
    // has a bias)
    parameter int BIAS = 0
) (
    input  logic                 clk,
    input  logic                 rst,
    input  logic                 cmd_valid,
    output logic                 cmd_ready,
    input  logic [         55:0] cmd_payload,
    output logic                 done,
    // descriptor ROM (data one cycle after the address)
    output logic [  DESC_AW-1:0] desc_addr,
    input  logic [        255:0] desc_data,
    // weight stream ports, one per channel
    input  logic [       CH-1:0] s_valid,
    output logic [       CH-1:0] s_ready,
    input  logic [    CH*DW-1:0] s_data,
    // activation buffer port (read data one cycle after the address)
    output logic [   ACT_AW-1:0] act_addr,
    output logic                 act_we,
    output logic [          7:0] act_lane_we,
    output logic [        255:0] act_wdata,
    input  logic [        255:0] act_rdata
);
  localparam int WPB = DW / 256;  // stream words per beat
  localparam int L_W = $clog2(LANES + 1);
  localparam int T_W = (TOK > 1) ? $clog2(TOK) : 1;
  localparam int C_W = (CH > 1) ? $clog2(CH) : 1;
  localparam int XWORDS = TOK * MAX_K / 32;  // activation store words per channel
  localparam int X_W = $clog2(XWORDS);
  localparam int BPW_W2 = 36 / BLOCKS;  // MAC beats per W2 word
  localparam int BPW_I8 = 32 / P8;  // MAC beats per int8 word
  localparam int EPW_W2 = 14, EPW_I8 = 10;  // metadata entries per word
  // a row's record: entries (exponent / int8 scale), biases, row base
  localparam int RB_W = (BIAS != 0) ? LANES * 32 : 1;  // bias bits of a record (1: unused)
  localparam int REC_W = LANES * 24 + RB_W + 16;
  localparam int WR_W = ACT_AW + 8 + 256;  // an output word write: address, lane enables, data

  if (DW % 256 != 0 || LANES < WPB || 36 % BLOCKS != 0 || 32 % P8 != 0 || P8 > 4 * BLOCKS
      || TOK > 32 || MAX_K % 32 != 0) begin : g_bad_params
    $error("stream_linear_unit: DW a multiple of 256 with LANES >= DW/256, BLOCKS | 36, P8 | 32");
  end

  // ---- descriptor (accel_program.StreamLinearDescriptor, LSB first) --------------------------
  logic [23:0] d_x_base, d_fx_base, d_y_base;
  logic [19:0] d_k, d_rpc, d_n;
  logic [15:0] d_tokens, d_wpr, d_passes;
  logic [14:0] d_group_beats;
  logic d_i8, d_bias;
  logic bias_on;  // this descriptor's rows carry biases (and the build has the bias path)
  assign bias_on = (BIAS != 0) && d_bias;
  logic [11:0] d_epr;  // metadata entries per row
  logic [7:0] d_ch_used;
  logic [4:0] d_fx_byte;  // byte of the exponent word holding the tile's first token
  logic [4:0] d_kpad;  // zero bytes at the end of each A8 row (a zero-padded K)

  typedef enum logic [2:0] {S_IDLE, S_DESC, S_START, S_XLOAD, S_FX, S_FXW, S_RUN, S_DONE} state_t;
  state_t st;

  logic [15:0] xcnt_q, xidx_q;
  logic [15:0] xword_q;  // word within its row of the pending tile-load write
  logic [255:0] xdata;  // the pending write, its row's padded bytes zeroed
  logic xpend_q;
  logic [7:0] fx_q[TOK];
  logic [CH-1:0] ch_done;
  logic [CH-1:0] wr_empty;
  logic [CH*WR_W-1:0] wr_head;
  logic [CH-1:0] wr_pop;
  logic [C_W-1:0] rr_q;
  logic start;  // one cycle: the descriptor is latched, every channel resets its state
  logic [15:0] kw;  // activation words per token row
  logic [15:0] rbeats;  // MAC beats per row
  logic [15:0] bpw;  // MAC beats per weight word
  logic [5:0] epw;

  assign cmd_ready = (st == S_IDLE);
  assign desc_addr = cmd_payload[DESC_AW-1:0];
  assign start = (st == S_START);
  assign kw = 16'(d_k / 32);
  assign rbeats = d_i8 ? 16'(d_k / P8) : 16'(d_k / (4 * BLOCKS));
  assign bpw = d_i8 ? 16'(BPW_I8) : 16'(BPW_W2);
  assign epw = d_i8 ? 6'(EPW_I8) : 6'(EPW_W2);

  always_ff @(posedge clk) begin
    done <= 1'b0;
    if (rst) begin
      st <= S_IDLE;
      xpend_q <= 1'b0;
      rr_q <= '0;
    end else begin
      xpend_q <= (st == S_XLOAD);
      xidx_q <= xcnt_q;
      if (st == S_START) xword_q <= '0;
      else if (xpend_q) xword_q <= (xword_q + 16'd1 == kw) ? '0 : xword_q + 16'd1;
      case (st)
        S_IDLE: if (cmd_valid) st <= S_DESC;
        S_DESC: begin
          {d_kpad, d_bias, d_fx_byte, d_ch_used, d_passes, d_epr, d_wpr, d_i8, d_group_beats,
           d_tokens, d_n, d_rpc, d_k, d_y_base, d_fx_base, d_x_base} <= desc_data[226:0];
          xcnt_q <= '0;
          st <= S_START;
        end
        S_START: st <= S_XLOAD;
        S_XLOAD: begin
          xcnt_q <= xcnt_q + 16'd1;
          if (32'(xcnt_q) + 1 == 32'(d_tokens) * 32'(kw)) st <= S_FX;
        end
        S_FX: st <= S_FXW;
        S_FXW: begin
          // A tile of a longer prompt starts at token byte d_fx_byte of the exponent word (its
          // tokens never straddle a word: the compiler aligns tiles to a divisor of 32).
          for (int t = 0; t < TOK; t++) fx_q[t] <= act_rdata[8*(32'(d_fx_byte)+t)+:8];
          st <= S_RUN;
        end
        S_RUN: if (&ch_done && &wr_empty) st <= S_DONE;
        S_DONE: begin
          done <= 1'b1;
          st <= S_IDLE;
        end
        default: st <= S_IDLE;
      endcase
      if (|wr_pop) rr_q <= (32'(rr_q) + 1 == CH) ? '0 : rr_q + C_W'(1);
    end
  end

  always_comb begin
    xdata = act_rdata;
    if (xword_q + 16'd1 == kw)
      for (int b = 0; b < 32; b++) if (32'(b) >= 32 - 32'(d_kpad)) xdata[8*b+:8] = 8'd0;
  end

  // ---- activation-buffer port: tile loads, then the arbitrated output writes -------------------
  logic [C_W-1:0] grant;
  logic granted;
  always_comb begin
    grant = '0;
    granted = 1'b0;
    for (int i = CH - 1; i >= 0; i--) begin
      logic [C_W-1:0] c;
      c = C_W'((32'(rr_q) + 32'(i)) % CH);
      if (!wr_empty[c]) begin
        grant = c;
        granted = 1'b1;
      end
    end
    wr_pop = '0;
    if (st == S_RUN && granted) wr_pop[grant] = 1'b1;
  end

  logic [WR_W-1:0] wsel;
  // Explicit muxes (a loop of compares) instead of variable part-selects, which synthesis
  // builds as barrel shifters over the whole vector.
  always_comb begin
    wsel = '0;
    for (int i = 0; i < CH; i++) if (32'(grant) == i) wsel = wr_head[i*WR_W+:WR_W];
  end
  always_comb begin
    act_we = 1'b0;
    act_lane_we = '0;
    act_wdata = '0;
    act_addr = '0;
    case (st)
      S_XLOAD: act_addr = ACT_AW'(32'(d_x_base) + 32'(xcnt_q));
      S_FX: act_addr = ACT_AW'(d_fx_base);
      S_RUN: begin
        act_we = granted;
        {act_addr, act_lane_we, act_wdata} = wsel;
      end
      default: ;
    endcase
  end

  // Lanes streamed in the pass whose first row slot is `rowbase`: every lane, or the rows
  // left (at least DW/256, so the words of one beat go to distinct lanes).
  function automatic logic [L_W-1:0] lanes_in_pass(input logic [19:0] rowbase,
                                                   input logic [19:0] rpc);
    logic [19:0] rem;
    rem = rpc - rowbase;
    if (rem >= 20'(LANES)) lanes_in_pass = L_W'(LANES);
    else if (rem < 20'(WPB)) lanes_in_pass = L_W'(WPB);
    else lanes_in_pass = L_W'(rem);
  endfunction

  typedef enum logic [2:0] {F_IDLE, F_EXP, F_BLO, F_BHI, F_BEAT, F_END} fstate_t;

  // ---- per channel: router -> lane FIFOs -> feeder -> tile MAC -> requantizer -> word writes ---
  for (genvar c = 0; c < CH; c++) begin : g_ch
    // -------- activation store (a copy per channel; the tile is written to all at once) --------
    logic [255:0] xmem[XWORDS];
    always_ff @(posedge clk) begin
      if (xpend_q) xmem[X_W'(xidx_q)] <= xdata;
    end

    // -------- lane FIFOs -------------------------------------------------------------------------
    logic [LANES-1:0] wf_push, wf_pop, wf_empty, wf_full;
    logic [LANES-1:0] mf_push, mf_pop, mf_empty, mf_full;
    logic [LANES*256-1:0] wf_wdata, mf_wdata, wf_head, mf_head;
    for (genvar l = 0; l < LANES; l++) begin : g_lane
      logic [$clog2(WFD+1)-1:0] wcount;
      logic [$clog2(MFD+1)-1:0] mcount;
      lane_fifo #(.W(256), .DEPTH(WFD)) u_wf (
          .clk(clk), .rst(rst), .flush(start), .push(wf_push[l]),
          .wdata(wf_wdata[l*256+:256]), .pop(wf_pop[l]), .head(wf_head[l*256+:256]),
          .empty(wf_empty[l]), .full(wf_full[l]), .count(wcount)
      );
      lane_fifo #(.W(256), .DEPTH(MFD)) u_mf (
          .clk(clk), .rst(rst), .flush(start), .push(mf_push[l]),
          .wdata(mf_wdata[l*256+:256]), .pop(mf_pop[l]), .head(mf_head[l*256+:256]),
          .empty(mf_empty[l]), .full(mf_full[l]), .count(mcount)
      );
      logic unused_counts;
      assign unused_counts = ^{wcount, mcount};
    end

    // -------- router: the channel's stream words into the lane FIFOs ---------------------------
    // State at the beat's first word: pass, phase (metadata / weights), lane, entries still
    // needed by every lane this pass (r_need > 0: metadata words follow), weight words left.
    logic r_done, r_meta;
    logic [15:0] r_pass;
    logic [L_W-1:0] r_lane, r_lip;
    logic [19:0] r_rowbase;
    logic signed [15:0] r_need;
    logic [23:0] r_wleft;

    logic n_done, n_meta;
    logic [15:0] n_pass;
    logic [L_W-1:0] n_lane, n_lip;
    logic [19:0] n_rowbase;
    logic signed [15:0] n_need;
    logic [23:0] n_wleft;
    logic beat_ok;
    logic [WPB*LANES-1:0] slot_sel;
    always_comb begin
      n_done = r_done;
      n_meta = r_meta;
      n_pass = r_pass;
      n_lane = r_lane;
      n_lip = r_lip;
      n_rowbase = r_rowbase;
      n_need = r_need;
      n_wleft = r_wleft;
      wf_push = '0;
      mf_push = '0;
      slot_sel = '0;
      beat_ok = !r_done && (st == S_XLOAD || st == S_FX || st == S_FXW || st == S_RUN);
      for (int j = 0; j < WPB; j++) begin
        logic [LANES-1:0] sel;
        sel = '0;
        if (!n_done) begin
          sel = LANES'(1) << n_lane;
          slot_sel[j*LANES+:LANES] = sel;
          if (n_meta) begin
            if (|(mf_full & sel)) beat_ok = 1'b0;
            mf_push = mf_push | sel;
          end else begin
            if (|(wf_full & sel)) beat_ok = 1'b0;
            wf_push = wf_push | sel;
            n_wleft = n_wleft - 24'd1;
          end
          if (n_lane + L_W'(1) == n_lip) begin
            n_lane = '0;
            if (n_meta) begin
              n_need = n_need - 16'(epw);
              if (n_need <= 0) n_meta = 1'b0;
            end
          end else n_lane = n_lane + L_W'(1);
          if (!n_meta && n_wleft == 0) begin  // the pass's last weight word
            n_pass = n_pass + 16'd1;
            n_rowbase = n_rowbase + 20'(LANES);
            if (n_pass == d_passes) n_done = 1'b1;
            else begin
              n_lip = lanes_in_pass(n_rowbase, d_rpc);
              n_need = n_need + 16'(d_epr);
              n_meta = (n_need > 0);
              n_wleft = 24'(n_lip) * 24'(d_wpr);
            end
          end
        end
      end
      if (!(s_valid[c] && beat_ok)) begin
        wf_push = '0;
        mf_push = '0;
      end
    end
    assign s_ready[c] = beat_ok;
    // A lane receives at most one word of a beat (lanes_in_pass >= DW/256).
    always_comb begin
      for (int l = 0; l < LANES; l++) begin
        wf_wdata[l*256+:256] = s_data[c*DW+:256];
        for (int j = 1; j < WPB; j++)
          if (slot_sel[j*LANES+l]) wf_wdata[l*256+:256] = s_data[c*DW+256*j+:256];
      end
    end
    assign mf_wdata = wf_wdata;

    always_ff @(posedge clk) begin
      if (rst) r_done <= 1'b1;
      else if (start) begin
        r_done <= (c >= 32'(d_ch_used));
        r_meta <= 1'b1;  // every row has at least one entry
        r_pass <= '0;
        r_lane <= '0;
        r_rowbase <= '0;
        r_lip <= lanes_in_pass('0, d_rpc);
        r_need <= 16'(d_epr);
        r_wleft <= 24'(lanes_in_pass('0, d_rpc)) * 24'(d_wpr);
      end else if (s_valid[c] && beat_ok) begin
        r_done <= n_done;
        r_meta <= n_meta;
        r_pass <= n_pass;
        r_lane <= n_lane;
        r_lip <= n_lip;
        r_rowbase <= n_rowbase;
        r_need <= n_need;
        r_wleft <= n_wleft;
      end
    end

    // -------- feeder: lockstep MAC beats over the pass's lanes ---------------------------------
    fstate_t f_st;
    logic [15:0] f_pass, f_bw, f_rb, f_gb;
    logic [T_W-1:0] f_tok;
    logic [5:0] f_ei;
    logic [L_W-1:0] f_lip;
    logic [19:0] f_rowbase;
    logic [LANES-1:0] act_mask;  // lanes streamed in this pass
    logic w_ok, m_ok, s0_free, fire, fire_exp, fire_blo, fire_bhi, rec_push;
    logic last_tok, glast, rlast, wlast, epop;
    logic rec_full, rec_empty, rec_pop;
    logic [REC_W-1:0] rec_head;

    always_comb begin
      for (int l = 0; l < LANES; l++) act_mask[l] = (32'(l) < 32'(f_lip));
    end
    assign w_ok = &(~wf_empty | ~act_mask);
    assign m_ok = &(~mf_empty | ~act_mask);
    assign last_tok = (32'(f_tok) + 1 == 32'(d_tokens));
    assign rlast = (f_rb + 16'd1 == rbeats);
    assign glast = d_i8 || rlast || (f_gb + 16'd1 == 16'(d_group_beats));
    assign wlast = rlast || (f_bw + 16'd1 == bpw);
    // The record is pushed with the row's last lead entry; nothing else pushes until then, so
    // room checked at the exponent holds through the bias cycles.
    assign fire_exp = (f_st == F_EXP) && (st == S_RUN) && m_ok && !rec_full;
    assign fire_blo = (f_st == F_BLO) && m_ok;
    assign fire_bhi = (f_st == F_BHI) && m_ok;
    assign rec_push = bias_on ? fire_bhi : fire_exp;
    assign fire = (f_st == F_BEAT) && w_ok && (d_i8 || m_ok) && s0_free;
    // An entry is used up by a lead cycle (exponent, bias halves), or (W2) by the last token of
    // a group's last beat.
    assign epop = fire_exp || fire_blo || fire_bhi || (fire && last_tok && glast && !d_i8);
    assign mf_pop = (epop && 32'(f_ei) + 1 == 32'(epw)) ? act_mask : '0;
    assign wf_pop = (fire && last_tok && wlast) ? act_mask : '0;

    always_ff @(posedge clk) begin
      if (rst) f_st <= F_IDLE;
      else if (start) begin
        f_st <= (c >= 32'(d_ch_used)) ? F_END : F_EXP;
        f_pass <= '0;
        f_bw <= '0;
        f_rb <= '0;
        f_gb <= '0;
        f_tok <= '0;
        f_ei <= '0;
        f_rowbase <= '0;
        f_lip <= lanes_in_pass('0, d_rpc);
      end else begin
        if (epop) f_ei <= (32'(f_ei) + 1 == 32'(epw)) ? '0 : f_ei + 6'd1;
        if (fire_exp) f_st <= bias_on ? F_BLO : F_BEAT;
        if (fire_blo) f_st <= F_BHI;
        if (fire_bhi) f_st <= F_BEAT;
        if (fire) begin
          if (!last_tok) f_tok <= f_tok + T_W'(1);
          else begin
            f_tok <= '0;
            f_gb <= glast ? '0 : f_gb + 16'd1;
            f_bw <= wlast ? '0 : f_bw + 16'd1;
            f_rb <= rlast ? '0 : f_rb + 16'd1;
            if (rlast) begin
              f_pass <= f_pass + 16'd1;
              f_rowbase <= f_rowbase + 20'(LANES);
              f_lip <= lanes_in_pass(f_rowbase + 20'(LANES), d_rpc);
              f_st <= (f_pass + 16'd1 == d_passes) ? F_END : F_EXP;
            end
          end
        end
      end
    end

    // Row records (exponents / int8 scales and the row base) wait here for the row's results.
    logic [LANES*24-1:0] f_rexp_next;
    always_comb begin
      for (int l = 0; l < LANES; l++) begin
        f_rexp_next[l*24+:24] = '0;
        for (int i = 0; i < EPW_W2; i++)
          if (!d_i8 && 32'(f_ei) == i) f_rexp_next[l*24+:24] = 24'(mf_head[l*256+18*i+:8]);
        for (int i = 0; i < EPW_I8; i++)
          if (d_i8 && 32'(f_ei) == i) f_rexp_next[l*24+:24] = mf_head[l*256+24*i+:24];
      end
    end
    // A biased row's exponents and bias low halves wait for its bias high halves.
    logic [LANES*24-1:0] f_rexp_q;
    logic [LANES*16-1:0] e_low;  // the lanes' current entries' bits [15:0]
    always_ff @(posedge clk) begin
      if (fire_exp) f_rexp_q <= f_rexp_next;
    end
    logic [RB_W-1:0] f_bias;
    if (BIAS != 0) begin : g_fbias
      logic [LANES*16-1:0] f_blo_q;
      always_ff @(posedge clk) begin
        if (fire_blo) f_blo_q <= e_low;
      end
      always_comb begin
        for (int l = 0; l < LANES; l++)
          f_bias[l*32+:32] = bias_on ? {e_low[l*16+:16], f_blo_q[l*16+:16]} : 32'd0;
      end
    end else begin : g_no_fbias
      assign f_bias = '0;
      logic unused_low;
      assign unused_low = ^e_low;
    end
    logic [2:0] rec_count, wr_count;
    lane_fifo #(.W(REC_W), .DEPTH(4)) u_rec (
        .clk(clk), .rst(rst), .flush(start), .push(rec_push),
        .wdata({f_rowbase[15:0], f_bias, bias_on ? f_rexp_q : f_rexp_next}), .pop(rec_pop),
        .head(rec_head), .empty(rec_empty), .full(rec_full), .count(rec_count)
    );

    // The lanes' beat slices of their head words and their current group entries.
    logic [LANES*32-1:0] w_beat;
    logic [LANES*2-1:0] e_zero;
    logic [LANES*16-1:0] e_scale;
    always_comb begin
      for (int l = 0; l < LANES; l++) begin
        logic [17:0] ent;
        ent = '0;
        for (int i = 0; i < EPW_W2; i++) if (32'(f_ei) == i) ent = mf_head[l*256+18*i+:18];
        w_beat[l*32+:32] = '0;
        for (int i = 0; i < BPW_W2; i++)
          if (!d_i8 && 32'(f_bw) == i)
            w_beat[l*32+:32] = 32'(wf_head[l*256+BLOCKS*7*i+:BLOCKS*7]);
        for (int i = 0; i < BPW_I8; i++)
          if (d_i8 && 32'(f_bw) == i) w_beat[l*32+:32] = 32'(wf_head[l*256+P8*8*i+:P8*8]);
        e_zero[l*2+:2] = ent[1:0];
        e_scale[l*16+:16] = ent[17:2];
        e_low[l*16+:16] = ent[15:0];
      end
    end

    // -------- stage 0: the beat's lane slices and entries; the activation word read ----------
    logic s0_v, s0_i8, s0_g, s0_r;
    logic [T_W-1:0] s0_tok;
    logic [LANES*32-1:0] s0_w;
    logic [LANES*2-1:0] s0_zero;
    logic [LANES*16-1:0] s0_scale;
    logic [4:0] s0_slot;
    logic [255:0] s0_x;
    logic mac_ready;
    assign s0_free = !s0_v || mac_ready;

    logic [15:0] abytes;
    logic [31:0] aoff;
    assign abytes = d_i8 ? 16'(P8) : 16'(4 * BLOCKS);
    assign aoff = 32'(f_rb) * 32'(abytes);  // byte offset of the beat in the token row

    always_ff @(posedge clk) begin
      if (rst || start) s0_v <= 1'b0;
      else if (s0_free) begin
        s0_v <= fire;
        s0_i8 <= d_i8;
        s0_tok <= f_tok;
        s0_g <= glast;
        s0_r <= rlast;
        s0_slot <= aoff[4:0];
        s0_x <= xmem[X_W'(32'(f_tok) * 32'(kw) + aoff / 32)];
        s0_w <= w_beat;
        s0_zero <= e_zero;
        s0_scale <= e_scale;
      end
    end

    logic [BLOCKS*32-1:0] s0_act;
    logic [511:0] s0_xpad;
    assign s0_xpad = {256'b0, s0_x};
    always_comb begin
      s0_act = '0;
      for (int i = 0; i < 32 / P8; i++)
        if (32'(s0_slot) == P8 * i) s0_act = s0_xpad[8*P8*i+:BLOCKS*32];
    end

    logic m_valid, m_ready;
    logic [T_W-1:0] m_tok;
    logic [LANES*48-1:0] m_acc;
    tile_mac_array #(.LANES(LANES), .BLOCKS(BLOCKS), .P8(P8), .TOK(TOK)) u_mac (
        .clk(clk), .rst(rst || start), .s_valid(s0_v), .s_ready(mac_ready), .s_i8(s0_i8),
        .s_tok(s0_tok), .s_act(s0_act), .s_w(s0_w), .s_zero(s0_zero), .s_scale(s0_scale),
        .s_group_last(s0_g), .s_row_last(s0_r), .m_valid(m_valid), .m_ready(m_ready),
        .m_tok(m_tok), .m_acc(m_acc)
    );

    // -------- snapshot + writer: one requantized result per cycle into word writes -------------
    logic [LANES*48-1:0] snap[TOK];
    logic w_busy;
    logic [LANES*24-1:0] w_exp;
    logic [RB_W-1:0] w_bias;
    logic [LANES*32-1:0] w_bias_l;  // the row's biases per lane (0 without the bias path)
    if (BIAS != 0) begin : g_wbias
      assign w_bias_l = w_bias;
    end else begin : g_no_wbias
      assign w_bias_l = '0;
      logic unused_wbias;
      assign unused_wbias = ^w_bias;
    end
    logic [19:0] w_rowbase;
    logic [T_W-1:0] w_t;
    logic [L_W-1:0] w_l;
    logic [7:0] asm_mask;
    logic [255:0] asm_data;
    logic wf2_full, wf2_push;
    logic [WR_W-1:0] wf2_wdata;

    assign m_ready = !w_busy;
    assign rec_pop = m_valid && m_ready && (32'(m_tok) + 1 == 32'(d_tokens));

    // The result being written: requantize_pow2 (W2) or requantize with M (int8), shift
    // f_x + e - 16 in either direction, saturated to int32; then + the row's bias (0 when the
    // linear has none) in 33 bits, saturated to int32 again (contract linear_bias_add).
    logic [47:0] racc;
    logic [23:0] rent;
    logic signed [31:0] rbias, rq;
    logic signed [32:0] rsum;
    logic signed [47:0] rprod;
    logic signed [10:0] rshift;
    logic signed [127:0] rwide, rround;
    logic signed [31:0] ry;
    logic [19:0] rrow;  // row within the layer
    logic rvalid, rflush;
    always_comb begin
      racc = '0;
      rent = '0;
      rbias = '0;
      for (int l = 0; l < LANES; l++)
        if (32'(w_l) == l) begin
          racc = snap[w_t][l*48+:48];
          rent = w_exp[l*24+:24];
          rbias = w_bias_l[l*32+:32];
        end
      rprod = 48'(signed'(racc[31:0])) * 48'(signed'({1'b0, rent[23:8]}));
      rshift = 11'(signed'(fx_q[w_t])) + 11'({3'b0, rent[7:0]}) - 11'sd16;
      rwide = d_i8 ? 128'(rprod) : 128'(signed'(racc));
      if (rshift > 0) rround = (rwide + (128'sd1 <<< (rshift - 11'sd1))) >>> rshift;
      else rround = rwide <<< (-rshift);
      if (rround > 128'sh7fffffff) rq = 32'sh7fffffff;
      else if (rround < -128'sh80000000) rq = -32'sh80000000;
      else rq = rround[31:0];
      rsum = 33'(rq) + 33'(rbias);
      if (BIAS == 0) ry = rq;
      else if (rsum > 33'sh07fffffff) ry = 32'sh7fffffff;
      else if (rsum < -33'sh080000000) ry = -32'sh80000000;
      else ry = rsum[31:0];
      rrow = 20'(32'(c) * 32'(d_rpc) + 32'(w_rowbase) + 32'(w_l));
      rvalid = (32'(w_rowbase) + 32'(w_l) < 32'(d_rpc)) && (rrow < d_n);
      rflush = (rrow[2:0] == 3'd7) || (32'(w_l) + 1 == LANES);
    end

    logic [7:0] nmask;
    logic [255:0] ndata;
    always_comb begin
      nmask = asm_mask;
      ndata = asm_data;
      if (rvalid) begin
        nmask[rrow[2:0]] = 1'b1;
        ndata[32*rrow[2:0]+:32] = ry;
      end
      wf2_push = w_busy && !wf2_full && rflush && (nmask != 0);
      wf2_wdata = {ACT_AW'(32'(d_y_base) + 32'(w_t) * (32'(d_n) / 8) + 32'(rrow) / 8), nmask,
                   ndata};
    end

    always_ff @(posedge clk) begin
      if (rst || start) begin
        w_busy <= 1'b0;
        asm_mask <= '0;
      end else begin
        if (m_valid && m_ready) begin
          snap[m_tok] <= m_acc;
          if (32'(m_tok) + 1 == 32'(d_tokens)) begin
            w_busy <= 1'b1;
            w_exp <= rec_head[LANES*24-1:0];
            w_bias <= rec_head[LANES*24+:RB_W];
            w_rowbase <= 20'(rec_head[REC_W-1-:16]);
            w_t <= '0;
            w_l <= '0;
          end
        end
        if (w_busy && !wf2_full) begin
          asm_mask <= rflush ? '0 : nmask;
          asm_data <= ndata;
          if (32'(w_l) + 1 == LANES) begin
            w_l <= '0;
            w_t <= w_t + T_W'(1);
            if (32'(w_t) + 1 == 32'(d_tokens)) w_busy <= 1'b0;
          end else w_l <= w_l + L_W'(1);
        end
      end
    end

    lane_fifo #(.W(WR_W), .DEPTH(4)) u_wr (
        .clk(clk), .rst(rst), .flush(start), .push(wf2_push), .wdata(wf2_wdata),
        .pop(wr_pop[c]), .head(wr_head[c*WR_W+:WR_W]), .empty(wr_empty[c]), .full(wf2_full),
        .count(wr_count)
    );

    logic unused_ch;
    assign unused_ch = ^{rec_count, wr_count};
    assign ch_done[c] = (f_st == F_END) && rec_empty && !w_busy && !(m_valid || s0_v);
  end

  logic unused_ok;
  assign unused_ok = ^{cmd_payload[55:DESC_AW], desc_data[255:227], d_fx_base, xidx_q};
endmodule
