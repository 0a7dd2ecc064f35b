// One head pipeline of stream_attention_unit: the Λ attention of up to REP_MAX query heads (a
// GQA group) against one KV head whose cached K/V arrive on a stream port (one HBM channel) and
// whose new tokens (the command's chunk) come from an on-chip staging memory (bypass).
//
// A run (start .. done) consumes, in this order, the four regions of the head's Λ ring in HBM
// (backend/tiling.py kv_ring_regions; n = st_nc cached slots, slots 0..n-1 in slot order):
//   K scales  ceil(2 n / BB) beats   {exp, zp} bytes per slot, dense (BB = DW / 8)
//   K codes   ceil(n SB / BB) beats  SB = HEAD_DIM / 2 bytes per slot (contract kv4_pack)
//   V scales, V codes                the same
// then the st_nb bypass entries (staging[st_stg + b], the chunk's tokens 0..st_nb-1) follow each
// code region. Per entry (slot or bypass) and query head j, one cycle each:
//   QK:  dot = sum_d q_j[d] kc[d] - kz * sum_d q_j[d]   (= contract.attention_qk_dot)
//        s   = saturate(round_shift(dot * M, fq_j + ke + sh - 10), 32)   (requantize)
//        visible by the Λ rule from the entry's key position (kp: cached slot s holds
//        kp = s (s < SINK), st_bq + s (s <= st_sq), st_bq + s - WINDOW (else); bypass b holds
//        st_i - st_nb + 1 + b): kp < SINK or kp + WINDOW > st_i
//   softmax (contract.softmax_int): the running max of the visible scores; then the e/Z pass,
//        EXPU entries per cycle (EXPU exp2_rom copies), e = round_shift(LUT[d & 1023], d >> 10),
//        0 when invisible or d >> 10 > 20; R = floor(2^47 / Z) per head (restoring divider,
//        running while the V scales stream in)
//   PV:  P = round_shift(e R, 32) on the fly; vdeq = round_shift(vc - vz, ve - 16);
//        acc_j[d] += P vdeq[d]; output saturate(round_shift(acc, 15), 32) (attention_pv)
// Query rows arrive QW activation words (8 A8 codes each) per q_we. The output rows are read through o_raddr (query head, 8-dim chunk) after done.
// The order of entries does not change the result (max, sums: exact integers).
// err (sticky): a score shift outside [0, 62] (contract round_shift's range; the old unit's
// rule), cleared by reset.
module stream_attn_pipe #(
    parameter int SINK = 2,
    parameter int WINDOW = 6,
    parameter int HEAD_DIM = 16,  // power of two >= 8 (u280: 128)
    parameter int DW = 256,  // stream beat width (AXI width of the target; u280: 512)
    parameter int REP_MAX = 2,  // query heads per KV head (GQA group), at most
    parameter int TMAX = 4,  // tokens per command (bypass entries), at most
    parameter int STG_DEPTH = 4,  // staging entries (KV heads per pipeline x TMAX)
    parameter int EXPU = 4,  // exp units (entries per cycle of the e/Z pass)
    parameter int POS_W = 32,
    parameter int QW = 2  // activation words of query codes per q_we (8 codes each)
) (
    input  logic                          clk,
    input  logic                          rst,
    // stream port (one HBM channel)
    input  logic                          s_valid,
    output logic                          s_ready,
    input  logic [                DW-1:0] s_data,
    // staging memory: written by the unit's append phase, read here (bypass) or by the unit
    input  logic                          stg_we,
    input  logic [ $clog2(STG_DEPTH)-1:0] stg_waddr,
    input  logic [ 2*(4*HEAD_DIM+16)-1:0] stg_wdata,
    input  logic [ $clog2(STG_DEPTH)-1:0] stg_raddr,
    output logic [ 2*(4*HEAD_DIM+16)-1:0] stg_rdata,
    // query rows (A8 codes, 8 per write), their exponents and code sums
    input  logic                          q_we,
    input  logic [((REP_MAX > 1) ? $clog2(REP_MAX) : 1)-1:0] q_head,
    input  logic [$clog2(HEAD_DIM/8+1)-1:0] q_word,
    input  logic [               64*QW-1:0] q_codes,
    input  logic signed [              7:0] q_exp,
    input  logic signed [             31:0] q_sum,
    // run
    input  logic                          start,
    input  logic [$clog2(SINK+WINDOW+1)-1:0] st_nc,
    input  logic [ $clog2(TMAX+1)-1:0]    st_nb,
    input  logic [ $clog2(STG_DEPTH)-1:0] st_stg,
    input  logic [$clog2(REP_MAX+1)-1:0]  st_rep,
    input  logic [             POS_W-1:0] st_i,
    input  logic [             POS_W-1:0] st_bq,
    input  logic [$clog2(SINK+WINDOW)-1:0] st_sq,
    input  logic [                  15:0] st_mult,
    input  logic [                   7:0] st_sh,
    output logic                          busy,
    output logic                          done,
    // output rows
    input  logic [((REP_MAX > 1) ? $clog2(REP_MAX) : 1)-1:0] o_head,
    input  logic [$clog2(HEAD_DIM/8+1)-1:0] o_word,
    output logic [                 255:0] o_data,
    output logic                          err
);
  localparam int SLOTS = SINK + WINDOW;
  localparam int SB = HEAD_DIM / 2;  // code bytes per slot
  localparam int BB = DW / 8;  // bytes per beat
  localparam int SPB = (SB <= BB) ? BB / SB : 1;  // slots per beat
  localparam int BPS = (SB > BB) ? SB / BB : 1;  // beats per slot
  localparam int PPB = BB / 2;  // scale pairs per beat
  localparam int SCB = (2 * SLOTS + BB - 1) / BB;  // scale beats of a full ring
  localparam int NMAX = SLOTS + TMAX;  // entries per query head
  localparam int NB = (NMAX + EXPU - 1) / EXPU;  // rows of a score / e bank per head
  localparam int CW = 4 * HEAD_DIM;  // code bits per slot
  localparam int KW = CW + 16;  // one staged K or V entry {exp, zp, codes}
  localparam int RW = $clog2(REP_MAX + 1);
  localparam int RI = (REP_MAX > 1) ? $clog2(REP_MAX) : 1;  // query head index
  localparam int NW = $clog2(NMAX + 1);
  localparam int SW = $clog2(SLOTS + 1);
  localparam int SSW = $clog2(SCB + 1);
  localparam int SCA = (SCB > 1) ? $clog2(SCB) : 1;
  localparam int SCD = (SCB > 1) ? SCB : 2;
  localparam int PSW = (SPB > 1) ? $clog2(SPB) : 1;
  localparam int BSW = (BPS > 1) ? $clog2(BPS) : 1;
  localparam int STW = $clog2(STG_DEPTH);
  localparam int BKW = (NB > 1) ? $clog2(NB) : 1;
  localparam int EXW = (EXPU > 1) ? $clog2(EXPU) : 1;

  initial begin
    if ((HEAD_DIM & (HEAD_DIM - 1)) != 0 || HEAD_DIM < 8)
      $error("stream_attn_pipe: HEAD_DIM must be a power of two >= 8");
    if (DW % 256 != 0 || (BB & (BB - 1)) != 0) $error("stream_attn_pipe: DW = 256 * 2^k");
    if ((EXPU & (EXPU - 1)) != 0) $error("stream_attn_pipe: EXPU must be a power of two");
  end

  // ---- staging memory (chunk tokens' KV4 entries) -------------------------------------------
  logic [2*KW-1:0] stg[STG_DEPTH];
  always_ff @(posedge clk) if (stg_we) stg[stg_waddr] <= stg_wdata;
  assign stg_rdata = stg[stg_raddr];

  // ---- query rows ------------------------------------------------------------------------------
  logic [8*HEAD_DIM-1:0] qrow[REP_MAX];
  logic signed [7:0] fq[REP_MAX];
  logic signed [31:0] qs[REP_MAX];
  always_ff @(posedge clk) begin
    if (q_we) begin
      qrow[q_head][64*QW*32'(q_word)+:64*QW] <= q_codes;
      fq[q_head] <= q_exp;
      qs[q_head] <= q_sum;
    end
  end

  // ---- run parameters --------------------------------------------------------------------------
  logic [SW-1:0] nc;
  logic [NW-1:0] nent;  // nc + nb
  logic [$clog2(TMAX+1)-1:0] nb;
  logic [STW-1:0] stgb;
  logic [RW-1:0] rep;
  logic [POS_W-1:0] qi, bq;
  logic [$clog2(SLOTS)-1:0] sq;
  logic [15:0] mult;
  logic [7:0] shb;

  typedef enum logic [3:0] {
    P_IDLE, P_KS, P_K, P_KDRAIN, P_EXP, P_EXPDRAIN, P_VS, P_V, P_VDRAIN, P_DONE
  } phase_t;
  phase_t ph;

  // ---- scale beats (K and V): stored as they arrive, pair s = bits [16 (s mod PPB) +: 16] ----
  logic [DW-1:0] ksc[SCD];
  logic [DW-1:0] vsc[SCD];
  logic [SSW-1:0] scnt;  // scale beats taken
  logic [SSW-1:0] sc_beats;
  assign sc_beats = SSW'((32'(nc) * 2 + BB - 1) / BB);

  // ---- entry walk: idx over the nc cached slots (stream) then the nb bypass entries ----------
  logic [NW-1:0] idx;
  logic [RI-1:0] jh;  // query head of this cycle
  logic [DW*BPS-1:0] beat_q;  // the current beat (or the gathered beats of one slot)
  logic have;  // beat_q holds unconsumed slots
  logic [PSW-1:0] sib;  // slot within the beat
  logic [BSW-1:0] gat;  // beats gathered (BPS > 1)
  logic cached;  // idx < nc
  logic ent_ok;  // the entry of this cycle is available
  logic ent_fire;  // ... and processed for head jh
  logic ent_last_head;
  logic code_ph;
  assign code_ph = (ph == P_K) || (ph == P_V);
  assign cached = 32'(idx) < 32'(nc);
  assign ent_ok = code_ph && (!cached || have);
  assign ent_fire = ent_ok;
  assign ent_last_head = 32'(jh) + 1 == 32'(rep);

  // the slot of this cycle and its scales
  logic [CW-1:0] e_codes;
  logic [7:0] e_zp, e_exp;
  logic [2*KW-1:0] stg_ent;
  logic [15:0] pair;
  logic [POS_W-1:0] kp;
  logic e_vis;
  always_comb begin
    stg_ent = stg[STW'(32'(stgb) + 32'(idx) - 32'(nc))];
    if (BPS > 1) e_codes = beat_q[CW-1:0];
    else e_codes = beat_q[CW*32'(sib)+:CW];
    if (ph == P_K) pair = ksc[(32'(idx) / PPB)][16*(32'(idx)%PPB)+:16];
    else pair = vsc[(32'(idx) / PPB)][16*(32'(idx)%PPB)+:16];
    e_zp = pair[7:0];
    e_exp = pair[15:8];
    if (!cached) begin
      if (ph == P_K) {e_exp, e_zp, e_codes} = stg_ent[KW-1:0];
      else {e_exp, e_zp, e_codes} = stg_ent[2*KW-1:KW];
    end
    // key position of the entry
    if (!cached) kp = qi - POS_W'(nb) + POS_W'(1) + POS_W'(32'(idx) - 32'(nc));
    else if (32'(idx) < SINK) kp = POS_W'(idx);
    else if (32'(idx) <= 32'(sq)) kp = bq + POS_W'(idx);
    else kp = bq + POS_W'(idx) - POS_W'(WINDOW);
    e_vis = (kp < POS_W'(SINK)) || ({1'b0, kp} + (POS_W + 1)'(WINDOW) > {1'b0, qi});
  end

  // stream handshake: scale beats are taken directly; code beats fill beat_q when it is empty or
  // its last slot is being consumed this cycle
  logic slot_done;  // the current cached slot is finished (all heads)
  logic beat_done;  // ... and it was the last slot of beat_q
  assign slot_done = ent_fire && cached && ent_last_head;
  assign beat_done = slot_done && ((BPS > 1) || 32'(sib) == SPB - 1 || 32'(idx) + 1 == 32'(nc));
  logic want_beat;
  always_comb begin
    want_beat = 1'b0;
    if ((ph == P_KS || ph == P_VS) && scnt < sc_beats) want_beat = 1'b1;
    // a code beat is wanted while cached slots remain beyond those in beat_q
    if (code_ph && cached && (!have || beat_done)) begin
      // the next beat exists unless the current one holds the last cached slot
      if (!have) want_beat = 1'b1;
      else if (32'(idx) + 1 < 32'(nc)) want_beat = 1'b1;
    end
  end
  assign s_ready = want_beat;

  // ---- QK datapath: 3 registered stages, then the score write ----------------------------------
  logic signed [31:0] raw_c;
  always_comb begin
    raw_c = '0;
    for (int d = 0; d < HEAD_DIM; d++)
      raw_c = raw_c + 32'(signed'(qrow[jh][8*d+:8])) * $signed({28'd0, e_codes[4*d+:4]});
  end
  logic k1_v, k2_v, k3_v;
  logic k1_vis, k2_vis, k3_vis;
  logic [RI-1:0] k1_j, k2_j, k3_j;
  logic [NW-1:0] k1_i, k2_i, k3_i;
  logic signed [31:0] k1_raw, k1_zq;
  logic signed [9:0] k1_sh, k2_sh;
  logic signed [63:0] k2_prod;
  logic signed [31:0] k3_s;
  function automatic logic signed [31:0] sat32(input logic signed [63:0] x);
    if (x > 64'sh7fffffff) sat32 = 32'sh7fffffff;
    else if (x < -64'sh80000000) sat32 = -32'sh80000000;
    else sat32 = x[31:0];
  endfunction
  logic signed [63:0] k2_rnd;
  always_comb begin
    // round_shift by k2_sh in [0, 62] (0: unchanged); |k2_prod| < 2^47
    if (k2_sh <= 0) k2_rnd = k2_prod;
    else k2_rnd = (k2_prod + (64'sd1 <<< (32'(k2_sh) - 1))) >>> 32'(k2_sh);
  end
  always_ff @(posedge clk) begin
    k1_v <= (ph == P_K) && ent_fire;
    k2_v <= k1_v;
    k3_v <= k2_v;
    k1_vis <= e_vis;
    k1_j <= jh;
    k1_i <= idx;
    k1_raw <= raw_c;
    k1_zq <= 32'($signed({1'b0, e_zp})) * qs[jh];
    k1_sh <= 10'(fq[jh]) + 10'($signed(e_exp)) + 10'(shb) - 10'sd10;
    k2_vis <= k1_vis;
    k2_j <= k1_j;
    k2_i <= k1_i;
    k2_sh <= k1_sh;
    k2_prod <= 64'(k1_raw - k1_zq) * $signed({48'd0, mult});
    k3_vis <= k2_vis;
    k3_j <= k2_j;
    k3_i <= k2_i;
    k3_s <= sat32(k2_rnd);
  end

  // score banks: entry i of head j in bank i mod EXPU, row j * NB + i / EXPU; {visible, score}
  logic [32:0] sbank[EXPU][REP_MAX*NB];
  logic [15:0] ebank[EXPU][REP_MAX*NB];
  logic signed [31:0] mx[REP_MAX];
  logic [REP_MAX-1:0] anyv;
  always_ff @(posedge clk) begin
    if (k3_v) sbank[EXW'(k3_i)][32'(k3_j)*NB+32'(k3_i)/EXPU] <= {k3_vis, k3_s};
  end

  // ---- e/Z pass: EXPU entries of one head per cycle (stage 0: score read, d, ROM address;
  // stage 1: ROM data, e = round_shift(LUT, n), written to the e banks and summed into Z) -------
  logic [RI-1:0] xj, x1_j;
  logic [BKW:0] xb, x1_b;  // bank row
  logic x1_v;
  logic [EXPU-1:0] x1_keep;
  logic [4:0] x1_n[EXPU];
  logic [15:0] lut[EXPU];
  logic [47:0] zsum[REP_MAX];
  for (genvar b = 0; b < EXPU; b++) begin : g_exp
    logic [32:0] se;
    logic signed [32:0] dd;
    assign se = sbank[b][32'(xj)*NB+32'(xb)];
    assign dd = 33'(mx[xj]) - 33'($signed(se[31:0]));
    exp2_rom u_rom (
        .clk (clk),
        .en  (1'b1),
        .addr(dd[9:0]),
        .data(lut[b])
    );
    always_ff @(posedge clk) begin
      x1_keep[b] <= se[32] && (dd[32:10] <= 23'd20) && (32'(xb) * EXPU + b < 32'(nent));
      x1_n[b] <= dd[14:10];
    end
  end
  logic [15:0] x1_e[EXPU];
  /* verilator lint_off UNUSEDSIGNAL */
  logic [47:0] x1_sum;
  always_comb begin
    x1_sum = '0;
    for (int b = 0; b < EXPU; b++) begin
      logic [21:0] r;
      r = (x1_n[b] == '0) ? 22'(lut[b]) : (22'(lut[b]) + (22'd1 << (x1_n[b] - 5'd1))) >> x1_n[b];
      x1_e[b] = x1_keep[b] ? r[15:0] : 16'd0;  // r < 2^16: LUT <= 2^15
      x1_sum = x1_sum + 48'(x1_e[b]);
    end
  end
  /* verilator lint_on UNUSEDSIGNAL */
  always_ff @(posedge clk) begin
    if (x1_v) for (int b = 0; b < EXPU; b++) ebank[b][32'(x1_j)*NB+32'(x1_b)] <= x1_e[b];
  end

  // ---- reciprocals R_j = floor(2^47 / Z_j): one restoring divider per head, in parallel -------
  logic [5:0] dstep;
  logic [47:0] rem[REP_MAX];
  logic [32:0] recip[REP_MAX];
  logic div_busy;
  assign div_busy = dstep != '0;

  // ---- PV datapath ------------------------------------------------------------------------------
  logic v1_v, v2_v;
  logic [RI-1:0] v1_j, v2_j;
  logic [16:0] v1_p;
  logic signed [33:0] v1_deq[HEAD_DIM];
  logic signed [50:0] v2_prod[HEAD_DIM];
  logic signed [63:0] acc[REP_MAX][HEAD_DIM];
  logic [15:0] ev;
  logic [48:0] pe;
  assign ev = ebank[EXW'(idx)][32'(jh)*NB+32'(idx)/EXPU];
  assign pe = 49'(ev) * 49'(recip[jh]) + 49'(33'h0_8000_0000);
  always_ff @(posedge clk) begin
    v1_v <= (ph == P_V) && ent_fire;
    v2_v <= v1_v;
    v1_j <= jh;
    v2_j <= v1_j;
    v1_p <= pe[48:32];
    for (int d = 0; d < HEAD_DIM; d++) begin
      logic signed [4:0] df;
      logic signed [9:0] s;
      df = $signed({1'b0, e_codes[4*d+:4]}) - $signed({1'b0, e_zp[3:0]});
      s = 10'($signed(e_exp)) - 10'sd16;
      if (s > 0) v1_deq[d] <= 34'((35'(df) + (35'sd1 <<< (32'(s) - 1))) >>> 32'(s));
      else v1_deq[d] <= 34'(df) <<< 32'(-s);
      v2_prod[d] <= 51'($signed({1'b0, v1_p})) * 51'(v1_deq[d]);
    end
  end

  // output row chunk: saturate(round_shift(acc, 15), 32)
  always_comb begin
    for (int l = 0; l < 8; l++)
      o_data[32*l+:32] = sat32((acc[o_head][8*32'(o_word)+l] + 64'sd16384) >>> 15);
  end

  // ---- control -----------------------------------------------------------------------------------
  assign busy = (ph != P_IDLE);
  logic [2:0] drain;
  logic [NW-1:0] ent_next;
  assign ent_next = idx + NW'(1);
  always_ff @(posedge clk) begin
    done <= 1'b0;
    if (rst) begin
      ph <= P_IDLE;
      err <= 1'b0;
      have <= 1'b0;
      dstep <= '0;
      x1_v <= 1'b0;
    end else begin
      // stream beats
      if (s_valid && s_ready) begin
        if (ph == P_KS) ksc[SCA'(scnt)] <= s_data;
        if (ph == P_VS) vsc[SCA'(scnt)] <= s_data;
        if (ph == P_KS || ph == P_VS) scnt <= scnt + SSW'(1);
      end
      if (code_ph && s_valid && s_ready) begin
        if (BPS > 1) begin
          beat_q[DW*32'(gat)+:DW] <= s_data;
          gat <= (32'(gat) == BPS - 1) ? '0 : gat + BSW'(1);
          if (32'(gat) == BPS - 1) have <= 1'b1;
          else if (beat_done) have <= 1'b0;
        end else begin
          beat_q[DW-1:0] <= s_data;
          have <= 1'b1;
        end
        sib <= '0;
      end else if (beat_done) have <= 1'b0;
      if (ent_fire) begin
        if (ent_last_head) begin
          jh <= '0;
          idx <= ent_next;
          if (slot_done && !beat_done) sib <= sib + PSW'(1);
        end else jh <= jh + RI'(1);
      end
      // score max per head
      if (k3_v && k3_vis && (!anyv[k3_j] || k3_s > mx[k3_j])) begin
        mx[k3_j] <= k3_s;
        anyv[k3_j] <= 1'b1;
      end
      if (k2_v && (k2_sh < 0 || k2_sh > 62)) err <= 1'b1;
      // e/Z pipeline
      x1_v <= (ph == P_EXP);
      x1_j <= xj;
      x1_b <= xb;
      if (x1_v) zsum[x1_j] <= zsum[x1_j] + x1_sum;
      // dividers
      if (div_busy) begin
        for (int j = 0; j < REP_MAX; j++) begin
          logic [48:0] r2;
          r2 = {rem[j], dstep == 6'd48};
          if (r2 >= 49'(zsum[j])) begin
            rem[j] <= 48'(r2 - 49'(zsum[j]));
            recip[j] <= {recip[j][31:0], 1'b1};
          end else begin
            rem[j] <= r2[47:0];
            recip[j] <= {recip[j][31:0], 1'b0};
          end
        end
        dstep <= dstep - 6'd1;
        if (dstep == 6'd1) for (int j = 0; j < REP_MAX; j++) if (zsum[j] == '0) recip[j] <= '0;
      end
      // accumulate PV
      if (v2_v) for (int d = 0; d < HEAD_DIM; d++) acc[v2_j][d] <= acc[v2_j][d] + 64'(v2_prod[d]);
      case (ph)
        P_IDLE:
        if (start) begin
          nc <= SW'(st_nc);
          nb <= st_nb;
          nent <= NW'(32'(st_nc) + 32'(st_nb));
          stgb <= st_stg;
          rep <= st_rep;
          qi <= st_i;
          bq <= st_bq;
          sq <= st_sq;
          mult <= st_mult;
          shb <= st_sh;
          scnt <= '0;
          anyv <= '0;
          for (int j = 0; j < REP_MAX; j++) begin
            zsum[j] <= '0;
            for (int d = 0; d < HEAD_DIM; d++) acc[j][d] <= '0;
          end
          ph <= P_KS;
        end
        P_KS:
        if (scnt == sc_beats) begin
          idx <= '0;
          jh <= '0;
          have <= 1'b0;
          gat <= '0;
          ph <= P_K;
        end
        P_K:
        if (ent_fire && ent_last_head && 32'(ent_next) == 32'(nent)) begin
          drain <= 3'd4;
          ph <= P_KDRAIN;
        end
        P_KDRAIN: begin
          drain <= drain - 3'd1;
          if (drain == 3'd1) begin
            xj <= '0;
            xb <= '0;
            ph <= P_EXP;
          end
        end
        P_EXP: begin
          if (32'(xb) + 1 >= (32'(nent) + EXPU - 1) / EXPU) begin
            xb <= '0;
            if (32'(xj) + 1 == 32'(rep)) begin
              drain <= 3'd2;
              ph <= P_EXPDRAIN;
            end else xj <= xj + RI'(1);
          end else xb <= xb + (BKW + 1)'(1);
        end
        P_EXPDRAIN: begin
          drain <= drain - 3'd1;
          if (drain == 3'd1) begin
            dstep <= 6'd48;
            for (int j = 0; j < REP_MAX; j++) begin
              rem[j] <= '0;
              recip[j] <= '0;
            end
            scnt <= '0;
            ph <= P_VS;
          end
        end
        P_VS:
        if (scnt == sc_beats && !div_busy) begin
          idx <= '0;
          jh <= '0;
          have <= 1'b0;
          gat <= '0;
          ph <= P_V;
        end
        P_V:
        if (ent_fire && ent_last_head && 32'(ent_next) == 32'(nent)) begin
          drain <= 3'd3;
          ph <= P_VDRAIN;
        end
        P_VDRAIN: begin
          drain <= drain - 3'd1;
          if (drain == 3'd1) ph <= P_DONE;
        end
        default: begin
          done <= 1'b1;
          ph <= P_IDLE;
        end
      endcase
    end
  end

  logic unused_ok;
  assign unused_ok = ^{e_zp[7:4], pe[31:0]};
endmodule
