// The attention unit of the engine: executes accel.kv_append and accel.attention descriptors
// (accllm.backend.accel_program_attn.AttnDescriptor, field offsets below) over a Λ KV4 cache
// held in a KV memory inside the unit.
//
// Per token t (position pos = pos_base [+ the runtime position register `pos`] + t):
//   append (flag bit 1): for each KV head g, K and V rows (Q15.16, head_dim values) are read
//     from the activation buffer, KV4-quantized (contract kv4_quantize: exponent search from
//     kv_exp_max down, zero point, codes) and written as one {V entry, K entry} record at the
//     Λ slot of pos (kv_cache_ctrl write channel: address head * (SINK + WINDOW) + slot,
//     offset by the descriptor's kv_base, so several layers' caches share the memory);
//   attend (flag bit 0): for each query head h (KV head h / (heads / kv_heads), GQA), the
//     query row is A8-quantized per (token, head) (contract quantize_act_pow2), kv_cache_ctrl
//     lists the Λ-visible slots, attn_mac forms the QK dots against the KV4 keys, requantizer
//     turns them into base-2 logits (multiplier M, shift fq + ek + sh - 10), softmax_unit gives
//     the probabilities and attn_mac's PV mode sums them over the KV4 values, one 8-dim chunk
//     (one act word of int32) at a time: the Q15.16 output row of contract.attention_lambda.
// Appending token t right before attending with it keeps exactly the keys a query sees in the
// S + W slots (a visible key's slot is only reused by a position later than the query), so a
// prefill of any length runs with the bounded cache: the attention descriptor of a prefill
// carries both flags (the preceding kv_append only appends and is then redundant, but harmless:
// the fused pass rewrites every slot before a query reads it and ends in the same state).
//
// Commands: two streams that share the datapath and the descriptor ROM, one per sequencer unit
// (docs/isa.md: `attn` -> cmd_*, `kv` -> kv_cmd_*), each with its own done pulse (the
// sequencer counts completions per unit); kv_cmd wins when both are valid. The payload's low
// DESC_AW bits index the descriptor ROM.
// KV memory: KV_ENTRIES records of 2 * (4 * HEAD_DIM + 12) bits, {V: zp, exp, codes, K: zp, exp,
// codes} (codes LSB-first, the contract's kv4_pack bytes read as a little-endian vector); why it
// is on chip and not in HBM: docs/rtl_lib.md (attention_unit). A host read port exposes it.
// Activation buffer: Q15.16 rows of tokens, heads * head_dim / 8 words per token (q, output) or
// kv_heads * head_dim / 8 (k, v); head h of token t at base + t * row_words + h * head_dim / 8.
module attention_unit #(
    parameter int SINK = 4,
    parameter int WINDOW = 28,
    parameter int KV_HEADS = 4,  // most KV heads of a layer (kv_cache_ctrl address space)
    parameter int HEAD_DIM = 64,  // multiple of 8 (one activation word of int32 per chunk)
    parameter int KV_ENTRIES = 1024,  // KV memory records (layers x KV_HEADS x (SINK + WINDOW))
    parameter int ACT_AW = 12,
    parameter int DESC_AW = 8,
    parameter int POS_W = 32
) (
    input  logic                          clk,
    input  logic                          rst,
    // accel.attention commands (sequencer unit `attn`)
    input  logic                          cmd_valid,
    output logic                          cmd_ready,
    input  logic [                  55:0] cmd_payload,
    output logic                          done,
    // accel.kv_append commands (sequencer unit `kv`)
    input  logic                          kv_cmd_valid,
    output logic                          kv_cmd_ready,
    input  logic [                  55:0] kv_cmd_payload,
    output logic                          kv_done,
    // runtime position register (decode): added to pos_base when descriptor flag bit 2 is set
    input  logic [             POS_W-1:0] pos,
    // descriptor ROM (data one cycle after the address)
    output logic [           DESC_AW-1:0] desc_addr,
    input  logic [                 255:0] desc_data,
    // activation buffer port (read data one cycle after the address)
    output logic [            ACT_AW-1:0] act_addr,
    output logic                          act_we,
    output logic [                   7:0] act_lane_we,
    output logic [                 255:0] act_wdata,
    input  logic [                 255:0] act_rdata,
    // host read port of the KV memory (data one cycle after the address)
    input  logic [$clog2(KV_ENTRIES)-1:0] kv_rd_addr,
    output logic [ 8*HEAD_DIM+24-1:0]     kv_rd_data,
    // sticky: an exponent search found no exponent (contract raises), or a score shift left
    // [0, 47]; cleared by reset
    output logic                          err
);
  localparam int SLOTS = SINK + WINDOW;
  localparam int CHUNKS = HEAD_DIM / 8;
  localparam int CH_W = (CHUNKS > 1) ? $clog2(CHUNKS) : 1;
  localparam int N_W = $clog2(SLOTS + 1);
  localparam int J_W = $clog2(SLOTS);
  localparam int HEAD_W = $clog2(KV_HEADS);
  localparam int CA_W = $clog2(KV_HEADS * SLOTS);  // kv_cache_ctrl address width
  localparam int KA_W = $clog2(KV_ENTRIES);
  localparam int EW = 4 * HEAD_DIM + 12;  // one KV4 entry {zp, exp, codes}
  localparam int RES_FRAC = 16;  // contract NUMERICS.res_frac
  localparam int SM_FRAC = 10;  // contract NUMERICS.sm_frac
  localparam int EXP_MAX = 31;  // act_exp_max = kv_exp_max
  localparam int EXP_MIN = -32;  // act_exp_min = kv_exp_min

  initial begin
    if (HEAD_DIM % 8 != 0) $error("attention_unit: HEAD_DIM must be a multiple of 8");
    if (KV_ENTRIES < KV_HEADS * SLOTS) $error("attention_unit: KV_ENTRIES below one cache");
  end

  // ---- descriptor (accel_program_attn.ATTN_FIELDS, LSB first) ----------------------------------
  logic [23:0] d_q_base, d_k_base, d_v_base, d_o_base, d_kv_base;
  logic [31:0] d_pos_base;
  logic [15:0] d_tokens;
  logic [7:0] d_heads, d_kv_heads, d_sh, d_flags, d_rep;
  logic [15:0] d_mult;
  logic [31:0] d_rsvd;
  logic is_kv_q;  // the running command came from kv_cmd

  typedef enum logic [4:0] {
    S_IDLE, S_DESC, S_TOK, S_LOAD, S_LOADW, S_SEARCH, S_CODES, S_WR, S_WRW, S_QUERY, S_LIST,
    S_QK_RD, S_QK_BEAT, S_SM, S_PV_RD, S_PV_BEAT, S_PV_WAIT, S_NEXT, S_DONE
  } state_t;
  state_t st;
  typedef enum logic [1:0] {R_K, R_V, R_Q} row_t;
  row_t row_q;

  logic [15:0] tok_q;
  logic [7:0] g_q;  // KV head being appended
  logic [7:0] h_q;  // query head
  logic [7:0] hg_q, hr_q;  // KV head of h_q, and h_q's index within its group (GQA)
  logic [POS_W-1:0] pos_q;  // position of token tok_q
  logic [CH_W-1:0] w_q;  // row word / chunk counter
  logic pend_q;  // an act read is in flight
  logic [CH_W-1:0] pidx_q;  // word index of that read
  logic [HEAD_DIM*32-1:0] row_r;  // the Q15.16 row being quantized
  logic signed [31:0] hi_q, lo_q;  // running max(row, 0), min(row, 0)
  logic signed [7:0] e_q;  // exponent candidate / result
  logic [3:0] z_q;  // KV4 zero point
  logic [4*HEAD_DIM-1:0] kcode_q, vcode_q;
  logic [3:0] kz_q, vz_q;
  logic [7:0] ke_q, ve_q;
  logic [N_W-1:0] n_q;  // visible slots of the current query
  logic [J_W-1:0] j_q;
  logic [CA_W-1:0] list_r[SLOTS];  // their kv_cache_ctrl addresses, in key-position order
  logic [7:0] ek_r[SLOTS];  // their key exponents
  logic [15:0] prob_r[SLOTS];  // their probabilities
  logic [N_W-1:0] ridx_q, sidx_q, pcnt_q;  // requantizer-in, softmax-in, softmax-out counters

  assign cmd_ready = (st == S_IDLE) && !kv_cmd_valid;
  assign kv_cmd_ready = (st == S_IDLE);
  assign desc_addr = kv_cmd_valid ? kv_cmd_payload[DESC_AW-1:0] : cmd_payload[DESC_AW-1:0];

  // ---- round_shift of the contract (half toward +inf; a negative shift is a left shift) -------
  function automatic logic signed [63:0] rshift(input logic signed [63:0] x, input int s);
    if (s > 0) rshift = (x + (64'sd1 <<< (s - 1))) >>> s;
    else rshift = x <<< (-s);
  endfunction

  // Exponent test of the candidate e_q: A8 (|q| <= 127) or KV4 (range of 16 codes).
  logic signed [63:0] rs_hi, rs_lo;
  logic e_ok;
  always_comb begin
    rs_hi = rshift(64'(hi_q), RES_FRAC - 32'(e_q));
    rs_lo = rshift(64'(lo_q), RES_FRAC - 32'(e_q));
    if (row_q == R_Q) e_ok = (rs_hi <= 64'sd127) && (rs_lo >= -64'sd127);
    else e_ok = (rs_hi - rs_lo <= 64'sd15);
  end

  // Quantized lanes of chunk w_q: A8 codes of the query (exponent fq_q), KV4 codes (e_q, z_q).
  logic signed [7:0] fq_q;
  logic [63:0] qlanes;
  logic [31:0] clanes;
  always_comb begin
    for (int d = 0; d < 8; d++) begin
      qlanes[8*d+:8] = 8'(rshift(64'(signed'(row_r[(32'(w_q) * 8 + d) * 32+:32])),
                                 RES_FRAC - 32'(fq_q)));
      clanes[4*d+:4] = 4'(rshift(64'(signed'(row_r[(32'(w_q) * 8 + d) * 32+:32])),
                                 RES_FRAC - 32'(e_q)) + 64'(z_q));
    end
  end

  // ---- Λ controller ---------------------------------------------------------------------------
  logic c_wr_valid, c_wr_ready, c_mem_we, c_q_valid, c_q_ready, c_m_valid, c_m_last;
  logic [CA_W-1:0] c_mem_addr, c_m_addr;
  logic [EW-1:0] c_mem_wdata;
  logic [SLOTS-1:0] c_q_mask;
  logic [J_W-1:0] c_m_slot;
  logic [POS_W-1:0] c_m_key_pos;
  assign c_wr_valid = (st == S_WR);
  assign c_q_valid = (st == S_QUERY);

  kv_cache_ctrl #(
      .SINK(SINK),
      .WINDOW(WINDOW),
      .HEADS(KV_HEADS),
      .HEAD_DIM(HEAD_DIM),
      .POS_W(POS_W)
  ) u_ctrl (
      .clk(clk),
      .rst(rst),
      .wr_valid(c_wr_valid),
      .wr_ready(c_wr_ready),
      .wr_pos(pos_q),
      .wr_head(HEAD_W'(g_q)),
      .wr_codes(kcode_q),
      .wr_exp(ke_q),
      .wr_zp(kz_q),
      .mem_we(c_mem_we),
      .mem_addr(c_mem_addr),
      .mem_wdata(c_mem_wdata),
      .q_valid(c_q_valid),
      .q_ready(c_q_ready),
      .q_pos(pos_q),
      .q_head(HEAD_W'(hg_q)),
      .q_mask(c_q_mask),
      .m_valid(c_m_valid),
      .m_ready(st == S_LIST),
      .m_slot(c_m_slot),
      .m_addr(c_m_addr),
      .m_key_pos(c_m_key_pos),
      .m_last(c_m_last)
  );

  // ---- KV memory: {V entry, K entry} per slot; port a = unit, port b = host read ------------
  logic [2*EW-1:0] kvmem[KV_ENTRIES];
  logic [2*EW-1:0] ent_q;
  logic [KA_W-1:0] rd_addr;
  always_comb rd_addr = KA_W'(32'(d_kv_base) + 32'(list_r[j_q]));
  always_ff @(posedge clk) begin
    if (c_mem_we) kvmem[KA_W'(32'(d_kv_base) + 32'(c_mem_addr))] <= {vz_q, ve_q, vcode_q, c_mem_wdata};
    ent_q <= kvmem[rd_addr];
    kv_rd_data <= kvmem[kv_rd_addr];
  end

  // ---- attn_mac -> score requantizer -> softmax --------------------------------------------------
  logic a_s_valid, a_s_ready, a_s_mode, a_s_last, a_m_valid, a_m_ready, a_m_mode;
  logic [31:0] a_s_codes;
  logic [3:0] a_s_zero;
  logic [7:0] a_s_exp;
  logic [15:0] a_s_prob;
  logic [8*32-1:0] a_m_data;
  logic r_s_ready, r_m_valid, r_m_ready;
  logic [31:0] r_m_data;
  logic signed [31:0] r_shift;
  logic sm_s_ready, sm_m_valid, sm_m_last, sm_ovf;
  logic [15:0] sm_m_data;

  always_comb begin
    a_s_valid = (st == S_QK_BEAT) || (st == S_PV_BEAT);
    a_s_mode = (st == S_PV_BEAT);
    a_s_codes = a_s_mode ? ent_q[EW + 32 * 32'(w_q)+:32] : ent_q[32*32'(w_q)+:32];
    a_s_zero = a_s_mode ? ent_q[2*EW-4+:4] : ent_q[EW-4+:4];
    a_s_exp = ent_q[2*EW-12+:8];
    a_s_prob = prob_r[j_q];
    a_s_last = a_s_mode ? (32'(j_q) + 1 == 32'(n_q)) : (32'(w_q) + 1 == CHUNKS);
    a_m_ready = a_m_mode ? (st == S_PV_WAIT) : r_s_ready;
    r_shift = 32'(fq_q) + 32'(signed'(ek_r[J_W'(ridx_q)])) + 32'(d_sh) - SM_FRAC;
  end

  attn_mac #(
      .LANES(8)
  ) u_mac (
      .clk(clk),
      .rst(rst),
      .s_valid(a_s_valid),
      .s_ready(a_s_ready),
      .s_mode(a_s_mode),
      .s_codes(a_s_codes),
      .s_zero(a_s_zero),
      .s_exp(a_s_exp),
      .s_q(qlanes),
      .s_prob(a_s_prob),
      .s_last(a_s_last),
      .m_valid(a_m_valid),
      .m_ready(a_m_ready),
      .m_mode(a_m_mode),
      .m_data(a_m_data)
  );

  requantizer #(
      .LANES(1),
      .ACC_W(32),
      .MUL_W(16),
      .SHIFT_W(6),
      .OUT_W(32)
  ) u_score (
      .clk(clk),
      .rst(rst),
      .s_valid(a_m_valid && !a_m_mode),
      .s_ready(r_s_ready),
      .s_acc(a_m_data[31:0]),
      .s_mult(d_mult),
      .s_shift(r_shift[5:0]),
      .m_valid(r_m_valid),
      .m_ready(r_m_ready),
      .m_data(r_m_data)
  );

  softmax_unit #(
      .MAX_N(SLOTS)
  ) u_softmax (
      .clk(clk),
      .rst(rst),
      .s_valid(r_m_valid),
      .s_ready(sm_s_ready),
      .s_data(r_m_data),
      .s_vis(1'b1),  // only the visible slots are listed
      .s_last(32'(sidx_q) + 1 == 32'(n_q)),
      .m_valid(sm_m_valid),
      .m_ready(st == S_SM),
      .m_data(sm_m_data),
      .m_last(sm_m_last),
      .row_overflow(sm_ovf)
  );
  assign r_m_ready = sm_s_ready;

  // ---- activation buffer port: row loads, output writes ----------------------------------------
  logic [31:0] row_base;
  always_comb begin
    case (row_q)
      R_K: row_base = 32'(d_k_base) + (32'(tok_q) * 32'(d_kv_heads) + 32'(g_q)) * CHUNKS;
      R_V: row_base = 32'(d_v_base) + (32'(tok_q) * 32'(d_kv_heads) + 32'(g_q)) * CHUNKS;
      default: row_base = 32'(d_q_base) + (32'(tok_q) * 32'(d_heads) + 32'(h_q)) * CHUNKS;
    endcase
    act_we = (st == S_PV_WAIT) && a_m_valid && a_m_mode;
    act_lane_we = 8'hff;
    act_wdata = a_m_data;
    if (st == S_PV_WAIT)
      act_addr = ACT_AW'(32'(d_o_base) + (32'(tok_q) * 32'(d_heads) + 32'(h_q)) * CHUNKS + 32'(w_q));
    else act_addr = ACT_AW'(row_base + 32'(w_q));
  end

  // Range of the row so far with the returning word folded in.
  logic signed [31:0] hi_n, lo_n;
  always_comb begin
    hi_n = hi_q;
    lo_n = lo_q;
    for (int d = 0; d < 8; d++) begin
      if (signed'(act_rdata[32*d+:32]) > hi_n) hi_n = signed'(act_rdata[32*d+:32]);
      if (signed'(act_rdata[32*d+:32]) < lo_n) lo_n = signed'(act_rdata[32*d+:32]);
    end
  end

  // ---- control ----------------------------------------------------------------------------------
  logic last_chunk;
  assign last_chunk = (32'(w_q) + 1 == CHUNKS);

  always_ff @(posedge clk) begin
    done <= 1'b0;
    kv_done <= 1'b0;
    if (rst) begin
      st <= S_IDLE;
      pend_q <= 1'b0;
      err <= 1'b0;
      ridx_q <= '0;
      sidx_q <= '0;
    end else begin
      pend_q <= (st == S_LOAD);
      pidx_q <= w_q;
      if (pend_q) row_r[32'(pidx_q) * 256+:256] <= act_rdata;
      case (st)
        S_IDLE: begin
          if (kv_cmd_valid) begin
            is_kv_q <= 1'b1;
            st <= S_DESC;
          end else if (cmd_valid) begin
            is_kv_q <= 1'b0;
            st <= S_DESC;
          end
        end
        S_DESC: begin
          {d_rsvd, d_rep, d_flags, d_sh, d_mult, d_kv_heads, d_heads, d_tokens, d_pos_base, d_kv_base,
           d_o_base, d_v_base, d_k_base, d_q_base} <= desc_data;
          tok_q <= '0;
          st <= S_TOK;
        end
        S_TOK: begin  // start token tok_q: its position, then append and/or attend
          pos_q <= POS_W'(32'(d_pos_base) + 32'(tok_q)) + (d_flags[2] ? pos : '0);
          g_q <= '0;
          h_q <= '0;
          hg_q <= '0;
          hr_q <= '0;
          w_q <= '0;
          hi_q <= '0;
          lo_q <= '0;
          if (d_flags[1]) begin
            row_q <= R_K;
            st <= S_LOAD;
          end else begin
            row_q <= R_Q;
            st <= d_flags[0] ? S_LOAD : S_NEXT;
          end
        end
        S_LOAD: begin  // one read per cycle; data lands the cycle after
          w_q <= w_q + CH_W'(1);
          if (last_chunk) st <= S_LOADW;
        end
        S_LOADW: begin  // the last word lands now
          e_q <= 8'(EXP_MAX);
          w_q <= '0;
          st <= S_SEARCH;
        end
        S_SEARCH: begin  // largest exponent that fits, one candidate per cycle
          if (e_ok || e_q == 8'(EXP_MIN)) begin
            if (!e_ok) err <= 1'b1;
            z_q <= 4'(-rs_lo);
            if (row_q == R_Q) begin
              fq_q <= e_q;
              st <= S_QUERY;
            end else st <= S_CODES;
          end else e_q <= e_q - 8'd1;
        end
        S_CODES: begin  // KV4 codes, 8 per cycle
          if (row_q == R_K) kcode_q[32*32'(w_q)+:32] <= clanes;
          else vcode_q[32*32'(w_q)+:32] <= clanes;
          w_q <= w_q + CH_W'(1);
          if (last_chunk) begin
            w_q <= '0;
            hi_q <= '0;
            lo_q <= '0;
            if (row_q == R_K) begin
              kz_q <= z_q;
              ke_q <= e_q;
              row_q <= R_V;
              st <= S_LOAD;
            end else begin
              vz_q <= z_q;
              ve_q <= e_q;
              st <= S_WR;
            end
          end
        end
        S_WR: if (c_wr_ready) st <= S_WRW;
        S_WRW: if (c_mem_we) begin  // the record is in memory: next KV head, or attend
          w_q <= '0;
          if (32'(g_q) + 1 < 32'(d_kv_heads)) begin
            g_q <= g_q + 8'd1;
            row_q <= R_K;
            st <= S_LOAD;
          end else if (d_flags[0]) begin
            row_q <= R_Q;
            st <= S_LOAD;
          end else st <= S_NEXT;
        end
        S_QUERY: if (c_q_ready) begin
          n_q <= '0;
          st <= S_LIST;
        end
        S_LIST: if (c_m_valid) begin
          list_r[J_W'(n_q)] <= c_m_addr;
          n_q <= n_q + N_W'(1);
          if (c_m_last) begin
            j_q <= '0;
            w_q <= '0;
            st <= S_QK_RD;
          end
        end
        S_QK_RD: st <= S_QK_BEAT;  // ent_q holds slot j's record from the next cycle on
        S_QK_BEAT: if (a_s_ready) begin
          if (w_q == '0) ek_r[j_q] <= ent_q[EW-12+:8];
          w_q <= w_q + CH_W'(1);
          if (last_chunk) begin
            w_q <= '0;
            j_q <= j_q + J_W'(1);
            st <= (32'(j_q) + 1 == 32'(n_q)) ? S_SM : S_QK_RD;
          end
        end
        S_SM: if (sm_m_valid) begin
          prob_r[J_W'(pcnt_q)] <= sm_m_data;
          if (sm_m_last) begin
            j_q <= '0;
            w_q <= '0;
            st <= S_PV_RD;
          end
        end
        S_PV_RD: st <= S_PV_BEAT;
        S_PV_BEAT: if (a_s_ready) begin
          if (32'(j_q) + 1 == 32'(n_q)) st <= S_PV_WAIT;
          else begin
            j_q <= j_q + J_W'(1);
            st <= S_PV_RD;
          end
        end
        S_PV_WAIT: if (a_m_valid && a_m_mode) begin  // chunk w_q of the output row written
          j_q <= '0;
          w_q <= w_q + CH_W'(1);
          if (!last_chunk) st <= S_PV_RD;
          else if (32'(h_q) + 1 < 32'(d_heads)) begin
            h_q <= h_q + 8'd1;
            // GQA: heads / kv_heads consecutive query heads share a KV head
            if (hr_q + 8'd1 == d_rep) begin
              hr_q <= '0;
              hg_q <= hg_q + 8'd1;
            end else hr_q <= hr_q + 8'd1;
            w_q <= '0;
            hi_q <= '0;
            lo_q <= '0;
            row_q <= R_Q;
            st <= S_LOAD;
          end else st <= S_NEXT;
        end
        S_NEXT: begin
          if (32'(tok_q) + 1 < 32'(d_tokens)) begin
            tok_q <= tok_q + 16'd1;
            st <= S_TOK;
          end else st <= S_DONE;
        end
        S_DONE: begin
          if (is_kv_q) kv_done <= 1'b1;
          else done <= 1'b1;
          st <= S_IDLE;
        end
        default: st <= S_IDLE;
      endcase
      // running range of the row being loaded (0 included: KV4 needs it, A8 is unaffected)
      if (pend_q) begin
        hi_q <= hi_n;
        lo_q <= lo_n;
      end
      // score pipeline counters (one row per query)
      if (st == S_QUERY) begin
        ridx_q <= '0;
        sidx_q <= '0;
        pcnt_q <= '0;
      end else begin
        if (a_m_valid && !a_m_mode && r_s_ready) ridx_q <= ridx_q + N_W'(1);
        if (r_m_valid && sm_s_ready) sidx_q <= sidx_q + N_W'(1);
        if (st == S_SM && sm_m_valid) pcnt_q <= pcnt_q + N_W'(1);
      end
      if (a_m_valid && !a_m_mode && r_s_ready && (r_shift < 0 || r_shift > 47)) err <= 1'b1;
      if (sm_ovf) err <= 1'b1;
    end
  end

  logic unused_ok;
  assign unused_ok = ^{cmd_payload[55:DESC_AW], kv_cmd_payload[55:DESC_AW], d_rsvd, c_q_mask,
                       c_m_slot, c_m_key_pos, a_m_data[255:32], d_flags[7:3]};
endmodule
