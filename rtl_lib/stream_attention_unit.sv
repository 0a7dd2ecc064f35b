// The attention unit of the stream engine (issue #13): Λ attention with the KV4 cache in HBM,
// one stream_attn_pipe per KV channel (PIPES), executing StreamAttnDescriptor commands
// (accllm.backend.accel_program_attn.STREAM_ATTN_FIELDS, unpacked below).
//
// A command covers T = tokens new tokens at positions p0 .. p0 + T - 1 (p0 = pos_base [+ the
// runtime position register `pos`, flag 2]); the cache in HBM holds positions 0 .. p0 - 1.
//   1. append (flag 1): per token t and KV head g, the K and V rows (Q15.16, activation buffer)
//      are KV4-quantized (contract kv4_quantize; the exponent from a leading-zero count of the
//      row's range and three candidate tests instead of a search, docs/rtl_lib.md; CW words
//      coded per cycle) into pipeline (g mod PIPES)'s staging memory at (g / PIPES) * TMAX + t;
//   2. attend (flag 0, needs flag 1): per token t, per round of PIPES KV heads: for each
//      pipeline, its KV head is appended (1.), its query heads' rows (rep of them, GQA) are
//      A8-quantized (contract quantize_act_pow2, exponent by leading-zero count) into it, and it
//      is started, so the pipelines stream their KV heads' rings (min(p0, S + W) cached slots)
//      in parallel while the next ones load, with the chunk's tokens 0..t from staging; then
//      each pipeline's output rows are written to the activation buffer;
//   3. write-back (flag 1): every staged entry goes to its Λ slot lambda_slot(p0 + t) in HBM
//      through the pipeline's KV write port: 4 writes (K codes, K scales, V codes, V scales,
//      byte strobes), every pipeline's port at once; `done` when every write port is idle
//      (kvw_busy low).
// Writing back after the attends keeps the streamed cache equal to the cache before the command
// while its reads may still be in flight (the prefetcher runs ahead): a chunk token's slot still
// holds a key an earlier query of the chunk sees.
// HBM layout (backend/tiling.py kv_ring_regions, per channel): KV head g of the layer at
// kv_addr + (g / PIPES) * RING; within a ring K codes (S + W slots of HEAD_DIM / 2 bytes), K
// scales (2 bytes per slot: zero point, exponent), V codes, V scales, each region 64-byte aligned.
// KV write port (per pipeline, to an axi_write_master): kvw_cmd_addr is a byte address aligned to
// the beat, kvw_cmd_len the number of DW beats (>= 1); then the beats on kvw_valid/ready with
// byte strobes. kvw_busy must be high from the cycle after a command is accepted until its write
// response is in.
// Activation buffer: Q15.16 rows, heads * HEAD_DIM / 8 words per token (q, output) or
// kv_heads * HEAD_DIM / 8 (k, v); head h of token t at base + (t * row_heads + h) * HEAD_DIM / 8.
// err (sticky): an exponent outside the contract's range, a descriptor beyond the parameters
// (tokens > TMAX, kv_heads > KV_HEADS, rep > REP_MAX, rep * kv_heads != heads), a pipeline err.
module stream_attention_unit #(
    parameter int PIPES = 2,  // KV channels (KV head g on channel g mod PIPES)
    parameter int SINK = 2,
    parameter int WINDOW = 6,
    parameter int HEAD_DIM = 16,  // power of two >= 8
    parameter int DW = 256,
    parameter int KV_HEADS = 2,  // most KV heads of a layer
    parameter int REP_MAX = 2,  // most query heads per KV head
    parameter int TMAX = 4,  // most tokens per command
    parameter int EXPU = 4,
    parameter int ACT_AW = 10,
    parameter int DESC_AW = 8,
    parameter int POS_W = 32
) (
    input  logic                  clk,
    input  logic                  rst,
    input  logic                  cmd_valid,
    output logic                  cmd_ready,
    input  logic [          55:0] cmd_payload,
    output logic                  done,
    input  logic [     POS_W-1:0] pos,
    output logic [   DESC_AW-1:0] desc_addr,
    input  logic [         255:0] desc_data,
    output logic [    ACT_AW-1:0] act_addr,
    output logic                  act_we,
    output logic [           7:0] act_lane_we,
    output logic [         255:0] act_wdata,
    input  logic [         255:0] act_rdata,
    // stream ports, one per pipeline
    input  logic [     PIPES-1:0] s_valid,
    output logic [     PIPES-1:0] s_ready,
    input  logic [  PIPES*DW-1:0] s_data,
    // KV write ports, one per pipeline
    output logic [     PIPES-1:0] kvw_cmd_valid,
    input  logic [     PIPES-1:0] kvw_cmd_ready,
    output logic [  PIPES*32-1:0] kvw_cmd_addr,
    output logic [  PIPES*16-1:0] kvw_cmd_len,
    output logic [     PIPES-1:0] kvw_valid,
    input  logic [     PIPES-1:0] kvw_ready,
    output logic [  PIPES*DW-1:0] kvw_data,
    output logic [PIPES*DW/8-1:0] kvw_strb,
    input  logic [     PIPES-1:0] kvw_busy,
    output logic                  err
);
  localparam int SLOTS = SINK + WINDOW;
  localparam int SB = HEAD_DIM / 2;
  localparam int BB = DW / 8;
  localparam int BPS = (SB > BB) ? SB / BB : 1;
  localparam int SBX = (SB > BB) ? BB : SB;  // code bytes of a slot within one beat
  localparam int ALIGN = 64;  // tiling.KV_REGION_ALIGN
  localparam int KC_BYTES = (SLOTS * SB + ALIGN - 1) / ALIGN * ALIGN;
  localparam int KS_BYTES = (SLOTS * 2 + ALIGN - 1) / ALIGN * ALIGN;
  localparam int RING = 2 * (KC_BYTES + KS_BYTES);
  localparam int CHUNKS = HEAD_DIM / 8;
  localparam int CH_W = $clog2(CHUNKS + 1);
  localparam int CW = (CHUNKS >= 4) ? 4 : CHUNKS;  // activation words quantized per cycle
  localparam int NCODE = CHUNKS / CW;
  localparam int KVPP = (KV_HEADS + PIPES - 1) / PIPES;
  localparam int STG_DEPTH = (KVPP * TMAX > 1) ? KVPP * TMAX : 2;
  localparam int STW = $clog2(STG_DEPTH);
  localparam int KW = 4 * HEAD_DIM + 16;
  localparam int RW = $clog2(REP_MAX + 1);
  localparam int RI = (REP_MAX > 1) ? $clog2(REP_MAX) : 1;
  localparam int TI = (TMAX > 1) ? $clog2(TMAX) : 1;
  localparam int PW = (PIPES > 1) ? $clog2(PIPES) : 1;
  localparam int SLW = $clog2(SLOTS);
  localparam int RES_FRAC = 16;

  initial begin
    if (BB > ALIGN) $error("stream_attention_unit: DW beyond the 64-byte region alignment");
    if (WINDOW < 2 || SINK < 1) $error("stream_attention_unit: SINK >= 1, WINDOW >= 2");
  end

  // ---- descriptor (STREAM_ATTN_FIELDS, LSB first) -----------------------------------------------
  logic [23:0] d_q_base, d_k_base, d_v_base, d_o_base, d_rsvd;
  logic [31:0] d_kv_addr, d_pos_base;
  logic [15:0] d_tokens, d_mult;
  logic [7:0] d_heads, d_kvh, d_sh, d_flags, d_rep;

  typedef enum logic [4:0] {
    S_IDLE, S_DESC, S_POS, S_MOD, S_TOK, S_LD, S_LDW, S_EXP, S_WAITC,
    S_OWAIT, S_OWR, S_ANEXT, S_WCMD, S_WDAT, S_WNEXT, S_WFIN, S_DONE
  } state_t;
  state_t st;
  typedef enum logic [1:0] {R_K, R_V, R_Q} row_t;
  row_t row_q;
  typedef enum logic [1:0] {M_APPEND, M_ATTEND, M_WRITE} mode_t;
  mode_t mode;

  logic [POS_W-1:0] p0, bq;
  logic [POS_W-1:0] p0_c;  // pos_base (+ pos), latched as p0 in S_POS
  assign p0_c = POS_W'(d_pos_base) + (d_flags[2] ? pos : '0);
  logic [SLW-1:0] sq, slot0;
  logic [$clog2(SLOTS+1)-1:0] nc;
  logic [SLW-1:0] slot_of[TMAX];  // Λ slot of each token of the command
  logic [15:0] t_q;
  logic [7:0] g_q, rnd_q;  // KV head, round of PIPES KV heads
  logic [PW-1:0] p_q;  // pipeline
  logic [RI-1:0] j_q;  // query head within the group
  logic [CH_W-1:0] w_q, pidx_q;
  logic pend_q;
  logic [HEAD_DIM*32-1:0] row_r;
  logic signed [31:0] hi_q, lo_q;
  // the coder: quantizes a loaded row (CW words per cycle) while the next row loads
  logic c_busy;
  logic [CH_W-1:0] c_w;
  logic [HEAD_DIM*32-1:0] c_row;
  logic signed [7:0] c_e;  // exponent (A8 f or KV4 e)
  logic [3:0] c_z;
  row_t c_kind;
  logic c_last;  // Q: the group's last query row (start the pipeline); V: stage the entry
  logic [PW-1:0] c_p;
  logic [RI-1:0] c_j;
  logic [7:0] c_g;
  logic [15:0] c_t;
  logic [KW-1:0] kent_q;  // K entry {exp, zp, codes} while V is quantized
  logic [4*HEAD_DIM-1:0] codes_q, codes_n;
  logic signed [31:0] qsum_q;
  logic signed [7:0] e_q;
  logic [3:0] z_q;
  assign e_q = c_e;
  assign z_q = c_z;
  logic [1:0] reg_q;  // write-back region: K codes, K scales, V codes, V scales
  logic [$clog2(BPS+1)-1:0] wb_q;  // beat of the write
  logic [1:0] settle_q;

  assign cmd_ready = (st == S_IDLE);
  assign desc_addr = cmd_payload[DESC_AW-1:0];

  // ---- round_shift of the contract (half toward +inf; a shift <= 0 is an exact left shift) ------
  function automatic logic signed [63:0] rshift(input logic signed [63:0] x, input int s);
    if (s > 0) rshift = (x + (64'sd1 <<< (s - 1))) >>> s;
    else rshift = x <<< (-s);
  endfunction
  function automatic int bitlen(input logic [32:0] v);
    bitlen = 0;
    for (int b = 0; b < 33; b++) if (v[b]) bitlen = b + 1;
  endfunction

  // ---- exponent from a leading-zero count (docs/rtl_lib.md, stream_attention_unit) ------------
  // KV4: every shift k < bitlen(hi - lo) - 5 leaves a range of >= 32 codes and k = bitlen - 3
  // always fits, so the contract's largest e = 16 - k is among three candidates; A8: every
  // k < bitlen(max(hi, -lo)) - 7 gives |q| >= 128 and bitlen - 6 always fits: two candidates.
  // Candidates below k = -15 (e = 31, the exponent range's top) are clamped to it.
  logic signed [7:0] e_new;
  logic e_fail;
  always_comb begin
    int base, k;
    logic found;
    logic [32:0] span;
    logic signed [63:0] rh, rl;
    logic fits;
    logic signed [33:0] hi_x, lo_x, nlo_x;
    found = 1'b0;
    e_new = -8'sd32;
    hi_x = 34'(hi_q);
    lo_x = 34'(lo_q);
    nlo_x = -lo_x;
    if (row_q == R_Q) span = (hi_x > nlo_x) ? 33'(hi_x) : 33'(nlo_x);
    else span = 33'(hi_x - lo_x);
    base = bitlen(span) - ((row_q == R_Q) ? 7 : 5);
    if (base < RES_FRAC - 31) base = RES_FRAC - 31;
    for (int c = 0; c < 3; c++) begin
      k = base + c;
      rh = rshift(64'(hi_q), k);
      rl = rshift(64'(lo_q), k);
      fits = (row_q == R_Q) ? (rh <= 64'sd127 && rl >= -64'sd127) : (rh - rl <= 64'sd15);
      if (!found && k <= RES_FRAC + 32 && fits) begin
        found = 1'b1;
        e_new = 8'(RES_FRAC - k);
      end
    end
    e_fail = !found;
  end

  // codes of words c_w * CW .. + CW - 1 of the coder's row (A8: round_shift; KV4: + z)
  logic [64*CW-1:0] qlanes;
  logic [32*CW-1:0] clanes;
  logic signed [31:0] qlsum;
  always_comb begin
    qlsum = '0;
    for (int d = 0; d < 8 * CW; d++) begin
      logic signed [63:0] r;
      r = rshift(64'(signed'(c_row[(32'(c_w) * 8 * CW + d) * 32+:32])), RES_FRAC - 32'(e_q));
      qlanes[8*d+:8] = r[7:0];
      clanes[4*d+:4] = 4'(r + 64'(z_q));
      qlsum = qlsum + 32'(signed'(r[7:0]));
    end
  end

  // ---- pipelines ----------------------------------------------------------------------------
  logic [PIPES-1:0] p_busy, p_err, p_done, p_start, p_stg_we, p_q_we;
  logic [2*KW-1:0] p_stg_rdata[PIPES];
  logic [255:0] p_o_data[PIPES];
  logic [STW-1:0] stg_idx;
  assign stg_idx = STW'((32'(g_q) / PIPES) * TMAX + 32'(t_q));
  always_comb begin
    codes_n = codes_q;
    codes_n[32*CW*32'(c_w)+:32*CW] = clanes;
  end
  logic c_end;  // the coder's last cycle of a row
  assign c_end = c_busy && 32'(c_w) + 1 == NCODE;

  for (genvar p = 0; p < PIPES; p++) begin : g_pipe
    stream_attn_pipe #(
        .SINK(SINK),
        .WINDOW(WINDOW),
        .HEAD_DIM(HEAD_DIM),
        .DW(DW),
        .REP_MAX(REP_MAX),
        .TMAX(TMAX),
        .STG_DEPTH(STG_DEPTH),
        .EXPU(EXPU),
        .POS_W(POS_W),
        .QW(CW)
    ) u_pipe (
        .clk(clk),
        .rst(rst),
        .s_valid(s_valid[p]),
        .s_ready(s_ready[p]),
        .s_data(s_data[p*DW+:DW]),
        .stg_we(p_stg_we[p]),
        .stg_waddr(STW'((32'(c_g) / PIPES) * TMAX + 32'(c_t))),
        .stg_wdata({e_q, 4'd0, z_q, codes_n, kent_q}),
        .stg_raddr(stg_idx),
        .stg_rdata(p_stg_rdata[p]),
        .q_we(p_q_we[p]),
        .q_head(c_j),
        .q_word(c_w),
        .q_codes(qlanes),
        .q_exp(e_q),
        .q_sum(qsum_q + qlsum),
        .start(p_start[p]),
        .st_nc(nc),
        .st_nb($clog2(TMAX + 1)'(32'(c_t) + 1)),
        .st_stg(STW'((32'(c_g) / PIPES) * TMAX)),  // token 0 of the head's chunk
        .st_rep(RW'(d_rep)),
        .st_i(p0 + POS_W'(c_t)),
        .st_bq(bq),
        .st_sq(sq),
        .st_mult(d_mult),
        .st_sh(d_sh),
        .busy(p_busy[p]),
        .done(p_done[p]),
        .o_head(j_q),
        .o_word(w_q),
        .o_data(p_o_data[p]),
        .err(p_err[p])
    );
  end

  always_comb begin
    p_stg_we = '0;
    p_q_we = '0;
    p_start = '0;
    if (c_end && c_kind == R_V) p_stg_we[PW'(32'(c_g) % PIPES)] = 1'b1;
    if (c_busy && c_kind == R_Q) p_q_we[c_p] = 1'b1;
    if (c_end && c_kind == R_Q && c_last) p_start[c_p] = 1'b1;
  end

  // ---- Λ slot of p0 - 1: one remainder per command ---------------------------------------------
  logic mod_busy;
  logic [$clog2(WINDOW)-1:0] mod_r;
  mod_const #(
      .X_W(POS_W),
      .DIV(WINDOW)
  ) u_mod (
      .clk(clk),
      .rst(rst),
      .start(st == S_POS),
      .x(p0_c - POS_W'(1) - POS_W'(SINK)),
      .busy(mod_busy),
      .r(mod_r)
  );
  function automatic logic [SLW-1:0] next_slot(input logic [SLW-1:0] s);
    next_slot = (32'(s) == SLOTS - 1) ? SLW'(SINK) : s + SLW'(1);
  endfunction

  // ---- activation buffer port ----------------------------------------------------------------
  logic [31:0] row_base;
  logic [7:0] hq;  // query head
  assign hq = 8'(32'(g_q) * 32'(d_rep) + 32'(j_q));
  always_comb begin
    case (row_q)
      R_K: row_base = 32'(d_k_base) + (32'(t_q) * 32'(d_kvh) + 32'(g_q)) * CHUNKS;
      R_V: row_base = 32'(d_v_base) + (32'(t_q) * 32'(d_kvh) + 32'(g_q)) * CHUNKS;
      default: row_base = 32'(d_q_base) + (32'(t_q) * 32'(d_heads) + 32'(hq)) * CHUNKS;
    endcase
    act_we = (st == S_OWR);
    act_lane_we = 8'hff;
    act_wdata = p_o_data[p_q];
    if (st == S_OWR)
      act_addr = ACT_AW'(32'(d_o_base) + (32'(t_q) * 32'(d_heads) + 32'(hq)) * CHUNKS + 32'(w_q));
    else act_addr = ACT_AW'(row_base + 32'(w_q));
  end
  logic signed [31:0] hi_n, lo_n;
  always_comb begin
    hi_n = hi_q;
    lo_n = lo_q;
    for (int d = 0; d < 8; d++) begin
      if (signed'(act_rdata[32*d+:32]) > hi_n) hi_n = signed'(act_rdata[32*d+:32]);
      if (signed'(act_rdata[32*d+:32]) < lo_n) lo_n = signed'(act_rdata[32*d+:32]);
    end
  end

  // ---- KV write ports: the write-back drives every pipeline's port in lockstep ------------------
  // (ring k = g_q / PIPES of token t_q: pipeline p writes its KV head k * PIPES + p; the address
  // is the same on every channel, the data comes from each pipeline's staging entry)
  logic [31:0] w_off, w_byte;
  logic [PIPES-1:0] w_act, w_took;  // pipelines with a KV head in this ring; handshakes taken
  always_comb begin
    case (reg_q)
      2'd0: w_off = 0;
      2'd1: w_off = KC_BYTES;
      2'd2: w_off = KC_BYTES + KS_BYTES;
      default: w_off = 2 * KC_BYTES + KS_BYTES;
    endcase
    if (reg_q[0]) w_byte = w_off + 2 * 32'(slot_of[TI'(t_q)]);
    else w_byte = w_off + SB * 32'(slot_of[TI'(t_q)]);
    for (int p = 0; p < PIPES; p++) w_act[p] = 32'(g_q) + p < 32'(d_kvh);
  end
  for (genvar p = 0; p < PIPES; p++) begin : g_wr
    logic [KW-1:0] wkv;
    logic [DW*BPS+KW-1:0] wkv_x;  // wkv widened so that every beat's part-select is in range
    logic [DW-1:0] wd;
    logic [BB-1:0] ws;
    always_comb begin
      wkv = reg_q[1] ? p_stg_rdata[p][2*KW-1:KW] : p_stg_rdata[p][KW-1:0];
      wkv_x = (DW * BPS + KW)'(wkv);
      wd = '0;
      ws = '0;
      if (reg_q[0]) begin  // scales {exp, zp}
        wd[8*(w_byte%BB)+:16] = {wkv[KW-1-:8], wkv[KW-9-:8]};
        ws[w_byte%BB+:2] = 2'b11;
      end else if (BPS > 1) begin
        wd = wkv_x[DW*32'(wb_q)+:DW];
        ws = '1;
      end else begin
        wd[8*(w_byte%BB)+:SBX*8] = wkv[SBX*8-1:0];
        ws[w_byte%BB+:SBX] = '1;
      end
    end
    assign kvw_data[DW*p+:DW] = wd;
    assign kvw_strb[BB*p+:BB] = ws;
    assign kvw_cmd_valid[p] = (st == S_WCMD) && w_act[p] && !w_took[p];
    assign kvw_valid[p] = (st == S_WDAT) && w_act[p] && !w_took[p];
    assign kvw_cmd_addr[32*p+:32] = d_kv_addr + (32'(g_q) / PIPES) * RING + (w_byte & ~32'(BB - 1));
    assign kvw_cmd_len[16*p+:16] = reg_q[0] ? 16'd1 : 16'(BPS);
  end
  logic [PIPES-1:0] w_took_n;  // handshakes taken including this cycle's
  always_comb begin
    w_took_n = w_took;
    if (st == S_WCMD) w_took_n = w_took | (kvw_cmd_valid & kvw_cmd_ready);
    if (st == S_WDAT) w_took_n = w_took | (kvw_valid & kvw_ready);
  end

  // ---- control -----------------------------------------------------------------------------------
  logic last_chunk;
  assign last_chunk = (32'(w_q) + 1 == CHUNKS);
  logic last_tok, last_g, last_j, last_p_in_rnd;
  assign last_tok = 32'(t_q) + 1 >= 32'(d_tokens);
  assign last_g = 32'(g_q) + 1 >= 32'(d_kvh);
  assign last_j = 32'(j_q) + 1 >= 32'(d_rep);
  assign last_p_in_rnd = 32'(p_q) + 1 >= PIPES || 32'(g_q) + 1 >= 32'(d_kvh);

  always_ff @(posedge clk) begin
    done <= 1'b0;
    if (rst) begin
      st <= S_IDLE;
      err <= 1'b0;
      pend_q <= 1'b0;
      c_busy <= 1'b0;
    end else begin
      // coder: CW words per cycle; a K row's entry is kept for its V row, a V row's entry is
      // staged, the last query row of a group starts its pipeline (both in the last cycle)
      if (c_busy) begin
        if (c_kind == R_Q) qsum_q <= qsum_q + qlsum;
        else codes_q <= codes_n;
        c_w <= c_w + CH_W'(1);
        if (c_end) begin
          c_busy <= 1'b0;
          if (c_kind == R_K) kent_q <= {e_q, 4'd0, z_q, codes_n};
        end
      end
      pend_q <= (st == S_LD);
      pidx_q <= w_q;
      if (pend_q) row_r[32'(pidx_q)*256+:256] <= act_rdata;
      if (pend_q) begin
        hi_q <= hi_n;
        lo_q <= lo_n;
      end
      if (|p_err) err <= 1'b1;
      case (st)
        S_IDLE: if (cmd_valid) st <= S_DESC;
        S_DESC: begin
          {d_rsvd, d_rep, d_flags, d_sh, d_mult, d_kvh, d_heads, d_tokens, d_pos_base, d_kv_addr,
           d_o_base, d_v_base, d_k_base, d_q_base} <= desc_data;
          st <= S_POS;
        end
        S_POS: begin
          if (32'(d_tokens) > TMAX || 32'(d_kvh) > KV_HEADS || 32'(d_rep) > REP_MAX ||
              (d_flags[0] && !d_flags[1]) ||
              32'(d_rep) * 32'(d_kvh) != 32'(d_heads) || d_tokens == '0 || d_kvh == '0) begin
            err <= 1'b1;
            st <= S_DONE;
          end else st <= S_MOD;
        end
        S_MOD: if (!mod_busy) begin  // the remainder started in S_POS is ready
          if (p0 == '0) begin
            sq <= '0;
            bq <= '0;
            slot0 <= '0;
          end else if (p0 - POS_W'(1) < POS_W'(SINK) + POS_W'(WINDOW)) begin
            sq <= SLW'(p0 - POS_W'(1));
            bq <= '0;
            slot0 <= next_slot(SLW'(p0 - POS_W'(1)));
          end else begin
            sq <= SLW'(SINK) + SLW'(mod_r);
            bq <= p0 - POS_W'(1) - POS_W'(SINK) - POS_W'(mod_r);
            slot0 <= next_slot(SLW'(SINK) + SLW'(mod_r));
          end
          nc <= (p0 < POS_W'(SLOTS)) ? ($clog2(SLOTS + 1))'(p0) : ($clog2(SLOTS + 1))'(SLOTS);
          t_q <= '0;
          g_q <= '0;
          rnd_q <= '0;
          p_q <= '0;
          j_q <= '0;
          mode <= d_flags[0] ? M_ATTEND : M_APPEND;
          row_q <= R_K;
          st <= d_flags[1] ? S_TOK : S_DONE;
        end
        S_TOK: begin  // start loading the row of (t_q, g_q / j_q, row_q)
          if (g_q == '0 && row_q == R_K)
            slot_of[TI'(t_q)] <= (t_q == '0) ? slot0 : next_slot(slot_of[TI'(t_q-16'd1)]);
          w_q <= '0;
          hi_q <= '0;
          lo_q <= '0;
          st <= S_LD;
        end
        S_LD: begin
          w_q <= w_q + CH_W'(1);
          if (last_chunk) st <= S_LDW;
        end
        S_LDW: st <= S_EXP;  // the last word lands
        S_EXP: begin  // the row goes to the coder (idle: it needs NCODE <= CH + 2 cycles)
          c_busy <= 1'b1;
          c_w <= '0;
          c_row <= row_r;
          c_e <= e_new;
          c_z <= 4'(-rshift(64'(lo_q), RES_FRAC - 32'(e_new)));
          c_kind <= row_q;
          c_last <= last_j;
          c_p <= p_q;
          c_j <= j_q;
          c_g <= g_q;
          c_t <= t_q;
          if (row_q == R_Q) qsum_q <= '0;
          if (e_fail) err <= 1'b1;
          w_q <= '0;
          st <= S_TOK;
          case (row_q)
            R_K: row_q <= R_V;
            R_V:
            if (mode == M_ATTEND) begin
              row_q <= R_Q;
              j_q <= '0;
            end else begin  // append only: next KV head / token, or write back
              row_q <= R_K;
              if (!last_g) g_q <= g_q + 8'd1;
              else if (!last_tok) begin
                g_q <= '0;
                t_q <= t_q + 16'd1;
              end else begin
                g_q <= '0;
                t_q <= '0;
                st <= S_WAITC;
              end
            end
            default:
            if (!last_j) j_q <= j_q + RI'(1);
            else begin  // the pipeline starts when the coder is done; next pipeline of the round
              j_q <= '0;
              row_q <= R_K;
              if (!last_p_in_rnd) begin
                p_q <= p_q + PW'(1);
                g_q <= g_q + 8'd1;
              end else begin
                p_q <= '0;
                g_q <= 8'(32'(rnd_q) * PIPES);
                st <= S_WAITC;
              end
            end
          endcase
        end
        S_WAITC: if (!c_busy) begin  // the last row is coded: collect outputs, or write back
          w_q <= '0;
          if (mode == M_ATTEND) st <= S_OWAIT;
          else begin
            mode <= M_WRITE;
            w_took <= '0;
            reg_q <= '0;
            wb_q <= '0;
            st <= S_WCMD;
          end
        end
        S_OWAIT: if (!p_busy[p_q]) begin
          w_q <= '0;
          st <= S_OWR;
        end
        S_OWR: begin
          w_q <= w_q + CH_W'(1);
          if (last_chunk) begin
            w_q <= '0;
            if (!last_j) j_q <= j_q + RI'(1);
            else begin
              j_q <= '0;
              if (!last_p_in_rnd) begin
                p_q <= p_q + PW'(1);
                g_q <= g_q + 8'd1;
                st <= S_OWAIT;
              end else st <= S_ANEXT;
            end
          end
        end
        S_ANEXT: begin  // next round of KV heads, next token, or write back
          p_q <= '0;
          row_q <= R_K;
          if (!last_g) begin
            rnd_q <= rnd_q + 8'd1;
            g_q <= g_q + 8'd1;
            st <= S_TOK;
          end else if (!last_tok) begin
            rnd_q <= '0;
            g_q <= '0;
            t_q <= t_q + 16'd1;
            st <= S_TOK;
          end else begin
            mode <= M_WRITE;
            w_took <= '0;
            g_q <= '0;
            t_q <= '0;
            reg_q <= '0;
            wb_q <= '0;
            st <= S_WCMD;
          end
        end
        S_WCMD: begin
          w_took <= w_took_n;
          if ((w_took_n & w_act) == w_act) begin
            w_took <= '0;
            st <= S_WDAT;
          end
        end
        S_WDAT: begin
          w_took <= w_took_n;
          if ((w_took_n & w_act) == w_act) begin
            w_took <= '0;
            if (!reg_q[0] && 32'(wb_q) + 1 < BPS) wb_q <= wb_q + 1'b1;
            else begin
              wb_q <= '0;
              st <= S_WNEXT;
            end
          end
        end
        S_WNEXT: begin
          reg_q <= reg_q + 2'd1;
          st <= S_WCMD;
          if (reg_q == 2'd3) begin
            if (32'(g_q) + PIPES < 32'(d_kvh)) g_q <= 8'(32'(g_q) + PIPES);
            else if (!last_tok) begin
              g_q <= '0;
              t_q <= t_q + 16'd1;
            end else begin
              settle_q <= 2'd2;
              st <= S_WFIN;
            end
          end
        end
        S_WFIN: begin  // every write response in (kvw_busy rises the cycle after a command)
          if (settle_q != '0) settle_q <= settle_q - 2'd1;
          else if (kvw_busy == '0) st <= S_DONE;
        end
        S_DONE: begin
          done <= 1'b1;
          st <= S_IDLE;
        end
        default: st <= S_IDLE;
      endcase
      if (st == S_POS) p0 <= p0_c;
    end
  end

  logic unused_ok;
  assign unused_ok = ^{cmd_payload[55:DESC_AW], d_rsvd, p_done, d_flags[7:3]};
endmodule
