// The element-wise units of the engine: sequencer unit `vec` (accel.vector requantize, add) and
// unit `act` (accel.vector swiglu), both working in the activation buffer.
//
//   requantize: per token, A8 codes q = round_shift(x, 16 - f) with f the largest exponent in
//               [-32, 31] keeping every q in [-127, 127] (contract.quantize_act_pow2), written as
//               int8 rows plus one signed exponent byte per token (tiling.act_words layout);
//   add:        saturate(x + y, 32) per lane (contract.residual_add);
//   swiglu:     saturate(round_shift(silu(g) * u, 16), 32) per lane (contract.swiglu_int), SiLU
//               by silu_unit (8 lanes, one activation word per beat).
//
// Commands: cmd_payload / act_cmd_payload [DESC_AW-1:0] = index of a 256-bit descriptor in the
// descriptor ROM (accllm.backend.accel_program_vector.VectorDescriptor: field offsets below).
// `done` pulses once per finished `vec` command, `act_done` once per `act` command (the
// sequencer counts completions per unit); `act` wins when both are valid (the activation port
// is shared, so the two streams are serialised).
// Activation buffer: Q15.16 rows of 8 int32 lanes per word; A8 rows of 32 int8 per word.
// The single activation port (one read or one write per cycle, read data one cycle after the
// address) is the bound of every op, and each runs at it:
//   add:        3 cycles per word (read x, read y, write);
//   swiglu:     3 cycles per word in rounds (read gate w, read up w, write w - 1): silu_unit's 3
//               stages overlap the next round's reads, one extra round writes the last word;
//   requantize: per token the row's max/min (one read per cycle, each word also kept in a row
//               buffer of A8-word-sized entries), the exponent search started at the candidate
//               the row max's bit length gives (<= 3 candidates instead of up to 64), then one
//               write per A8 word (32 codes from one buffer entry, 32 lanes), and the exponent
//               byte (read-modify-write). A row longer than MAX_H sets `err` and the command
//               completes without writing.
module vector_unit #(
    parameter int MAX_H = 4096,  // longest requantize row (values; the row buffer)
    parameter int ACT_AW = 12,
    parameter int DESC_AW = 8
) (
    input  logic              clk,
    input  logic              rst,
    // unit `vec`: requantize, add
    input  logic              cmd_valid,
    output logic              cmd_ready,
    input  logic [      55:0] cmd_payload,
    output logic              done,
    // unit `act`: swiglu
    input  logic              act_cmd_valid,
    output logic              act_cmd_ready,
    input  logic [      55:0] act_cmd_payload,
    output logic              act_done,
    // descriptor ROM (data one cycle after the address)
    output logic [DESC_AW-1:0] desc_addr,
    input  logic [     255:0] desc_data,
    // activation buffer port (read data one cycle after the address)
    output logic [ ACT_AW-1:0] act_addr,
    output logic              act_we,
    output logic [       7:0] act_lane_we,
    output logic [     255:0] act_wdata,
    input  logic [     255:0] act_rdata,
    // sticky: an op code this port does not execute, a requantize row longer than MAX_H
    output logic              err
);
  localparam int RES_FRAC = 16;  // contract res_frac (Q15.16)
  localparam int EXP_MAX = 31;  // contract act_exp_max / act_exp_min
  localparam int EXP_MIN = -32;
  localparam logic [7:0] OP_REQUANT = 8'd0, OP_ADD = 8'd1, OP_SWIGLU = 8'd2;
  localparam int QW = (MAX_H + 31) / 32;  // row buffer entries: 4 Q15.16 words = one A8 word
  localparam int Q_AW = (QW > 1) ? $clog2(QW) : 1;

  initial begin
    if (MAX_H < 8) $error("vector_unit: MAX_H must be >= 8");
  end

  // ---- descriptor (accel_program_vector.VectorDescriptor, LSB first) --------------------------
  logic [7:0] d_op;
  logic [23:0] d_x_base, d_y_base, d_o_base, d_fo_base;
  logic [15:0] d_tokens, d_xrw, d_orw;
  logic d_from_act;  // the running command came in on the `act` port

  typedef enum logic [3:0] {
    S_IDLE, S_DESC, S_LOAD, S_LOADW, S_SEARCH, S_QRD, S_QWR, S_FXRD, S_FXWR, S_RDX, S_RDY,
    S_WR, S_GX, S_GY, S_GW, S_DONE
  } state_t;
  state_t st;

  logic [15:0] tok_q;  // requantize: token
  logic [15:0] w_q;  // word within the row (requantize) or within the whole operand (add, swiglu)
  logic [31:0] nwords;  // add / swiglu: words of the operand
  logic signed [31:0] hi_q, lo_q;  // running max(row, 0), min(row, 0)
  logic signed [7:0] e_q;  // exponent candidate / result
  logic [255:0] x_q, y_q, s_q;  // operand words, SiLU of the gate word
  logic [1023:0] rbuf[QW];  // requantize: the row, 4 words per entry
  logic [1023:0] rb_q;  // the entry read for the A8 word being written
  logic [15:0] g_q;  // A8 word of the row being written
  logic [15:0] nq;  // A8 words of a row
  assign nq = (d_xrw + 16'd3) >> 2;
  logic s_v;  // swiglu: s_q holds the SiLU of the word to write

  assign cmd_ready = (st == S_IDLE) && !act_cmd_valid;
  assign act_cmd_ready = (st == S_IDLE);
  assign desc_addr = act_cmd_valid ? act_cmd_payload[DESC_AW-1:0] : cmd_payload[DESC_AW-1:0];
  assign nwords = 32'(d_tokens) * 32'(d_xrw);

  // ---- round_shift of the contract (half toward +inf; a negative shift is a left shift) -------
  function automatic logic signed [63:0] rshift(input logic signed [63:0] x, input int s);
    if (s > 0) rshift = (x + (64'sd1 <<< (s - 1))) >>> s;
    else rshift = x <<< (-s);
  endfunction

  function automatic logic signed [31:0] sat32(input logic signed [63:0] x);
    if (x > 64'sh7fffffff) sat32 = 32'sh7fffffff;
    else if (x < -64'sh80000000) sat32 = -32'sh80000000;
    else sat32 = x[31:0];
  endfunction

  // Exponent test of the candidate e_q (monotone in e, so the first fit from the top is f).
  logic e_ok;
  always_comb
    e_ok = (rshift(64'(hi_q), RES_FRAC - 32'(e_q)) <= 64'sd127) &&
           (rshift(64'(lo_q), RES_FRAC - 32'(e_q)) >= -64'sd127);

  // First exponent candidate: with b = bitlen(max(hi, -lo)) >= 1, 25 - b never fits (the
  // largest |value| >= 2^(b-1) would quantize to >= 128) and 22 - b always does, so the search
  // from 24 - b takes at most 3 cycles and ends where the search from 31 would; an all-zero
  // row keeps 31.
  function automatic logic signed [7:0] e_start(input logic signed [31:0] hi,
                                                input logic signed [31:0] lo);
    logic signed [32:0] hh, ll;  // hi >= 0, -lo <= 2^31
    logic [5:0] b;
    hh = 33'(hi);
    ll = -(33'(lo));
    if (ll > hh) hh = ll;
    b = '0;
    for (int i = 0; i < 33; i++) if (hh[i]) b = 6'(i + 1);
    e_start = (b == 0) ? 8'(EXP_MAX) : 8'sd24 - 8'(b);
  endfunction

  // Row statistics of the word arriving from the buffer (pass 1 of requantize).
  logic signed [31:0] hi_n, lo_n;
  always_comb begin
    hi_n = hi_q;
    lo_n = lo_q;
    for (int l = 0; l < 8; l++) begin
      if (signed'(act_rdata[32*l+:32]) > hi_n) hi_n = signed'(act_rdata[32*l+:32]);
      if (signed'(act_rdata[32*l+:32]) < lo_n) lo_n = signed'(act_rdata[32*l+:32]);
    end
  end

  // Lane results of the word being written: A8 codes (8 bytes of an A8 word), sum, SwiGLU.
  logic [255:0] qcodes;  // the 32 codes of A8 word g_q (zero past the row's last word)
  logic [255:0] sum_w, glu_w;
  always_comb begin
    for (int l = 0; l < 8; l++) begin
      sum_w[32*l+:32] = sat32(64'(signed'(x_q[32*l+:32])) + 64'(signed'(act_rdata[32*l+:32])));
      glu_w[32*l+:32] = sat32(rshift(64'(signed'(s_q[32*l+:32])) * 64'(signed'(y_q[32*l+:32])),
                                     RES_FRAC));
    end
  end

  always_comb begin
    for (int l = 0; l < 32; l++)
      qcodes[8*l+:8] = (32'(g_q) * 32 + 32'(l) < 32'(d_xrw) * 8) ?
          8'(rshift(64'(signed'(rb_q[32*l+:32])), RES_FRAC - 32'(e_q))) : 8'd0;
  end

  // Row buffer: written as pass 1's words land, read one entry ahead of each A8 word's write.
  logic [15:0] wl;  // the word landing in S_LOAD / S_LOADW
  assign wl = w_q - 16'd1;
  always_ff @(posedge clk) begin
    if ((st == S_LOAD && w_q != 0) || st == S_LOADW)
      rbuf[Q_AW'(wl >> 2)][256*wl[1:0]+:256] <= act_rdata;
    if (st == S_QRD || st == S_QWR) rb_q <= rbuf[Q_AW'((st == S_QRD) ? 16'd0 : g_q + 16'd1)];
  end

  // The exponent word of token tok_q with its byte replaced by f.
  logic [255:0] fx_word;
  always_comb begin
    fx_word = act_rdata;
    fx_word[8*32'(tok_q[4:0])+:8] = e_q;
  end

  logic [31:0] xrow, orow;  // first word of token tok_q's input / output row
  assign xrow = 32'(d_x_base) + 32'(tok_q) * 32'(d_xrw);
  assign orow = 32'(d_o_base) + 32'(tok_q) * 32'(d_orw);

  always_comb begin
    act_addr = '0;
    act_we = 1'b0;
    act_lane_we = '0;
    act_wdata = '0;
    case (st)
      S_LOAD: act_addr = ACT_AW'(xrow + 32'(w_q));
      S_QWR: begin  // A8 word g (the row's last one padded with zero codes: tiling.act_words)
        act_addr = ACT_AW'(orow + 32'(g_q));
        act_we = 1'b1;
        act_lane_we = 8'hff;
        act_wdata = qcodes;
      end
      S_FXRD: act_addr = ACT_AW'(32'(d_fo_base) + 32'(tok_q) / 32);
      S_FXWR: begin  // read-modify-write of the token's exponent byte (32-bit lane writes)
        act_addr = ACT_AW'(32'(d_fo_base) + 32'(tok_q) / 32);
        act_we = 1'b1;
        act_lane_we = 8'd1 << tok_q[4:2];
        act_wdata = fx_word;
      end
      S_RDX, S_GX: act_addr = ACT_AW'(32'(d_x_base) + 32'(w_q));
      S_RDY, S_GY: act_addr = ACT_AW'(32'(d_y_base) + 32'(w_q));
      S_WR: begin
        act_addr = ACT_AW'(32'(d_o_base) + 32'(w_q));
        act_we = 1'b1;
        act_lane_we = 8'hff;
        act_wdata = sum_w;
      end
      S_GW: begin  // the previous round's word
        act_addr = ACT_AW'(32'(d_o_base) + 32'(w_q) - 32'd1);
        act_we = s_v;
        act_lane_we = {8{s_v}};
        act_wdata = glu_w;
      end
      default: ;
    endcase
  end

  // ---- SiLU of the gate word ---------------------------------------------------------------------
  logic silu_s_ready, silu_m_valid;
  logic [255:0] silu_m_data;
  // Fed with the gate word as it lands (S_GY of a round that read one), drained every cycle:
  // its result is there in the next round's S_GY, before that round's S_GW writes it.
  logic g_feed;
  assign g_feed = (st == S_GY) && 32'(w_q) < nwords;
  silu_unit #(
      .LANES(8)
  ) u_silu (
      .clk,
      .rst,
      .s_valid(g_feed),
      .s_ready(silu_s_ready),
      .s_data (act_rdata),
      .m_valid(silu_m_valid),
      .m_ready(1'b1),
      .m_data (silu_m_data)
  );

  always_ff @(posedge clk) begin
    done <= 1'b0;
    act_done <= 1'b0;
    if (rst) begin
      st <= S_IDLE;
      err <= 1'b0;
      s_v <= 1'b0;
    end else begin
      case (st)
        S_IDLE:
        if (act_cmd_valid || cmd_valid) begin
          d_from_act <= act_cmd_valid;
          st <= S_DESC;
        end
        S_DESC: begin  // the ROM answers the address of the accepted command
          {d_orw, d_xrw, d_tokens, d_fo_base, d_o_base, d_y_base, d_x_base, d_op} <= desc_data[151:0];
          tok_q <= '0;
          w_q <= '0;
          hi_q <= '0;
          lo_q <= '0;
          // `act` executes swiglu, `vec` requantize and add; anything else is refused.
          if (d_from_act ? (desc_data[7:0] == OP_SWIGLU)
                         : (desc_data[7:0] == OP_REQUANT || desc_data[7:0] == OP_ADD)) begin
            if (desc_data[7:0] == OP_REQUANT) begin
              // desc_data[135:120] = x_row_words
              if (32'(desc_data[135:120]) * 8 > MAX_H) begin
                err <= 1'b1;
                st  <= S_DONE;
              end else st <= S_LOAD;
            end
            else if (desc_data[7:0] == OP_SWIGLU) st <= S_GX;
            else st <= S_RDX;
          end else begin
            err <= 1'b1;
            st <= S_DONE;
          end
        end
        // ---- requantize: pass 1 (row max / min), exponent search, pass 2 (codes), exponent
        S_LOAD: begin  // one read per cycle; word w_q - 1 lands now
          if (w_q != 0) begin
            hi_q <= hi_n;
            lo_q <= lo_n;
          end
          w_q <= w_q + 16'd1;
          if (w_q + 16'd1 == d_xrw) st <= S_LOADW;
        end
        S_LOADW: begin  // the last word lands now
          hi_q <= hi_n;
          lo_q <= lo_n;
          e_q <= e_start(hi_n, lo_n);
          st <= S_SEARCH;
        end
        S_SEARCH: begin  // largest exponent that fits, one candidate per cycle
          // e = -32 always fits a 32-bit row (shift 48), so the search ends there at the latest.
          if (e_ok || e_q == 8'(EXP_MIN)) begin
            g_q <= '0;
            st  <= S_QRD;
          end else e_q <= e_q - 8'd1;
        end
        S_QRD: st <= S_QWR;  // the buffer's first entry
        S_QWR: begin  // write A8 word g_q, the next entry is read meanwhile
          g_q <= g_q + 16'd1;
          if (g_q + 16'd1 == nq) st <= S_FXRD;
        end
        S_FXRD: st <= S_FXWR;
        S_FXWR: begin
          w_q <= '0;
          hi_q <= '0;
          lo_q <= '0;
          tok_q <= tok_q + 16'd1;
          if (tok_q + 16'd1 == d_tokens) st <= S_DONE;
          else st <= S_LOAD;
        end
        // ---- add / swiglu: word by word
        S_RDX: st <= S_RDY;
        S_RDY: begin
          x_q <= act_rdata;
          st <= S_WR;
        end
        S_WR: begin
          w_q <= w_q + 16'd1;
          if (32'(w_q) + 1 == nwords) st <= S_DONE;
          else st <= S_RDX;
        end
        // ---- swiglu: round w reads gate w (S_GX) and up w (S_GY, the gate word into silu_unit),
        // writes word w - 1 (S_GW, the up word w lands); round nwords only writes.
        S_GX: st <= S_GY;
        S_GY: st <= S_GW;
        S_GW: begin
          y_q <= act_rdata;
          if (w_q != 0 && !s_v) err <= 1'b1;  // silu_unit is 3 stages: never late
          w_q <= w_q + 16'd1;
          st <= (32'(w_q) == nwords) ? S_DONE : S_GX;
        end
        S_DONE: begin
          if (d_from_act) act_done <= 1'b1;
          else done <= 1'b1;
          st <= S_IDLE;
        end
        default: st <= S_IDLE;
      endcase
      // The gate word's SiLU, held for S_GW (silu_unit never stalls: m_ready is tied high).
      if (silu_m_valid) begin
        s_q <= silu_m_data;
        s_v <= 1'b1;
      end else if (st == S_GW) s_v <= 1'b0;
      if (g_feed && !silu_s_ready) err <= 1'b1;
    end
  end

  logic unused_ok;
  assign unused_ok = ^{d_op, cmd_payload[55:DESC_AW], act_cmd_payload[55:DESC_AW], desc_data[255:152]};
endmodule
