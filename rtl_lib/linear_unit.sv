// The MAC unit of the engine (accel.linear): runs one linear-layer descriptor per command, A8
// activations from and Q15.16 outputs to the activation buffer, weights from CH weight channels,
// metadata from the misc channel. The descriptor's int8 bit selects the datapath:
// * W2 (int8 = 0): y[t, o] = requantize_pow2(acc[t, o], f_x[t] + e[o] - 16, 32) (contract
//   linear_w2a8), 2:4 W2 weights into CH sparse_mac_arrays of LANES lanes each, metadata
//   per row: exponent, per-group zero point and scale mantissa.
// * int8 (int8 = 1, the LM head): y[t, o] = requantize(acc[t, o], M[o], f_x[t] + e[o] - 16, 32)
//   (contract linear_int8), acc = dense int8 x int8 dot product; rows of 32 int8 weights per
//   word (same lane-interleaved tile layout), each channel's word consumed I8_MACS products per
//   cycle (32 / I8_MACS cycles per word) into a 32-bit accumulator per lane; metadata one 32-bit
//   slot per row: bits [7:0] e[o], [23:8] M[o].
//
// Command: cmd_payload[DESC_AW-1:0] = index of a 256-bit descriptor in the descriptor ROM
// (accllm.backend.accel_program.LinearDescriptor: field offsets below); `done` pulses once per
// finished command (the sequencer's unit_done).
// HBM layouts (accllm.backend.tiling.RowSplit): a channel's weights pass by pass, word by word,
// lane by lane. W2 metadata: records of MW words per row, ordered pass, channel, lane; record
// bits [7:0] exponent e[o], then per group g at 8 + 18 g: zero point (2 bits), mantissa (16 bits).
// int8 metadata: per pass, the descriptor's meta_words words of 32-bit slots ordered channel,
// lane (slot c * LANES + l at bit 32 (c * LANES + l) of the pass's words).
// Activation buffer: token rows of k/32 words (int8), exponents one byte per token from fx_base;
// outputs token rows of n/8 words (int32), written one 32-bit lane at a time.
// Order: for each pass, load the pass's metadata, then for each token load the token's row and
// stream the pass's weights once more (prefill re-streams weights per token: GEMV-shaped).
module linear_unit #(
    parameter int CH = 2,
    parameter int LANES = 3,
    parameter int BLOCKS = 4,
    parameter int MAX_K = 128,
    parameter int MW = 1,
    // int8 products per cycle per weight channel (a divisor of 32; one DSP each): 32 x the
    // channel's words per cycle keeps the LM head bandwidth bound.
    parameter int I8_MACS = 8,
    parameter int ADDR_W = 34,
    parameter int ACT_AW = 12,
    parameter int DESC_AW = 8
) (
    input  logic                     clk,
    input  logic                     rst,
    input  logic                     cmd_valid,
    output logic                     cmd_ready,
    input  logic [             55:0] cmd_payload,
    output logic                     done,
    // descriptor ROM (data one cycle after the address)
    output logic [      DESC_AW-1:0] desc_addr,
    input  logic [            255:0] desc_data,
    // weight channels: AXI read master commands and word streams
    output logic [           CH-1:0] w_cmd_valid,
    input  logic [           CH-1:0] w_cmd_ready,
    output logic [       ADDR_W-1:0] w_cmd_addr,
    output logic [             23:0] w_cmd_len,
    input  logic [           CH-1:0] w_valid,
    output logic [           CH-1:0] w_ready,
    input  logic [       CH*256-1:0] w_data,
    // metadata channel
    output logic                     m_cmd_valid,
    input  logic                     m_cmd_ready,
    output logic [       ADDR_W-1:0] m_cmd_addr,
    output logic [             23:0] m_cmd_len,
    input  logic                     m_valid,
    output logic                     m_ready,
    input  logic [            255:0] m_data,
    // activation buffer port (read data one cycle after the address)
    output logic [       ACT_AW-1:0] act_addr,
    output logic                     act_we,
    output logic [              7:0] act_lane_we,
    output logic [            255:0] act_wdata,
    input  logic [            255:0] act_rdata
);
  localparam int BEAT_W = BLOCKS * 32;  // int8 activations per MAC beat
  localparam int META_W = MW * 256;
  localparam int L_W = (LANES > 1) ? $clog2(LANES) : 1;
  localparam int C_W = (CH > 1) ? $clog2(CH) : 1;
  localparam int I8_BEATS = 32 / I8_MACS;  // cycles per int8 word
  localparam int I8_B_W = (I8_BEATS > 1) ? $clog2(I8_BEATS) : 1;
  localparam int I8_SUM_W = 16 + $clog2(I8_MACS) + 1;  // I8_MACS products of |p| <= 2^14

  // The int8 accumulator is 32 bit: |acc| <= 128 * 127 * K < 2^31 for K <= 2^17 (weights are
  // symmetric, |w| <= 127: contract quantize_int8_rows), which is what requantize takes.
  if (32 % I8_MACS != 0 || MAX_K > (1 << 17) || MAX_K % 32 != 0) begin : g_bad_params
    $error("linear_unit: I8_MACS must divide 32, MAX_K a multiple of 32 up to 2^17");
  end

  // ---- descriptor (accel_program.LinearDescriptor, LSB first) ---------------------------------
  logic [31:0] d_w_base, d_meta_base;
  logic [23:0] d_x_base, d_fx_base, d_y_base;
  logic [19:0] d_k, d_rpc, d_n;
  logic [11:0] d_mw;
  logic [15:0] d_tokens, d_wpr;
  logic [14:0] d_group_beats;
  logic d_i8;  // int8 datapath (the LM head) instead of W2
  logic [31:0] mpass;  // metadata words per pass

  typedef enum logic [3:0] {
    S_IDLE, S_DESC, S_META_CMD, S_META, S_XLOAD, S_FX, S_W_CMD, S_MAC, S_WRITE, S_DONE
  } state_t;
  state_t st;

  logic [15:0] pass_q, tok_q;
  logic [15:0] xcnt_q;       // activation words requested
  logic        xpend_q;      // a read of the activation buffer is in flight
  logic [15:0] xidx_q;       // word index of the returning read
  logic [MAX_K*8-1:0] xrow_q;
  logic signed [7:0] fx_q;
  logic [15:0] mcnt_q;       // metadata words received this pass
  logic [CH*LANES*META_W-1:0] meta_q;
  logic [CH-1:0] wsent_q, got_q;
  logic [CH*LANES*48-1:0] res_q;
  logic [C_W-1:0] wc_q;
  logic [L_W-1:0] wl_q;

  assign cmd_ready = (st == S_IDLE);
  assign desc_addr = cmd_payload[DESC_AW-1:0];
  // W2: every lane's record, MW words each; int8: the pass's slots, meta_words words in all.
  assign mpass = d_i8 ? 32'(d_mw) : CH * LANES * 32'(d_mw);

  // Output requantization of the lane being written: shift = f_x + e - 16, both directions;
  // int8 first multiplies the 32-bit accumulator by the row's mantissa M (|acc * M| < 2^47,
  // one 32 x 17 product per written lane: the DSPs of the output stage).
  logic [47:0] wacc;
  logic [7:0] wexp;
  logic [15:0] wmant;
  logic signed [47:0] wprod;
  logic signed [10:0] wshift;
  logic signed [127:0] wwide, wround;
  logic signed [31:0] wy;
  logic [19:0] wrow;
  logic wvalid_row;
  always_comb begin
    wacc = res_q[(32'(wc_q) * LANES + 32'(wl_q)) * 48 +: 48];
    wmant = meta_q[(32'(wc_q) * LANES + 32'(wl_q)) * 32 + 8 +: 16];
    wprod = 48'(signed'(wacc[31:0])) * 48'(signed'({1'b0, wmant}));
    if (d_i8) wexp = meta_q[(32'(wc_q) * LANES + 32'(wl_q)) * 32 +: 8];
    else wexp = meta_q[(32'(wc_q) * LANES + 32'(wl_q)) * META_W +: 8];
    wshift = 11'(fx_q) + 11'({3'b0, wexp}) - 11'sd16;
    wwide = d_i8 ? 128'(wprod) : 128'(signed'(wacc));
    if (wshift > 0) wround = (wwide + (128'sd1 <<< (wshift - 11'sd1))) >>> wshift;
    else wround = wwide <<< (-wshift);
    if (wround > 128'sh7fffffff) wy = 32'sh7fffffff;
    else if (wround < -128'sh80000000) wy = -32'sh80000000;
    else wy = wround[31:0];
    wrow = 20'(32'(wc_q) * 32'(d_rpc) + 32'(pass_q) * LANES + 32'(wl_q));
    wvalid_row = (32'(pass_q) * LANES + 32'(wl_q) < 32'(d_rpc)) && (wrow < d_n);
  end

  // Activation buffer port: row loads, exponent load, output writes.
  always_comb begin
    act_we = 1'b0;
    act_lane_we = '0;
    act_wdata = '0;
    act_addr = '0;
    case (st)
      S_XLOAD: act_addr = ACT_AW'(32'(d_x_base) + 32'(tok_q) * (32'(d_k) / 32) + 32'(xcnt_q));
      S_FX: act_addr = ACT_AW'(32'(d_fx_base) + 32'(tok_q) / 32);
      S_WRITE: begin
        act_addr = ACT_AW'(32'(d_y_base) + 32'(tok_q) * (32'(d_n) / 8) + 32'(wrow) / 8);
        act_we = wvalid_row;
        act_lane_we = 8'(1) << wrow[2:0];
        act_wdata = {8{wy}};
      end
      default: ;
    endcase
  end

  assign m_cmd_valid = (st == S_META_CMD);
  assign m_cmd_addr = ADDR_W'((64'(d_meta_base) + 64'(pass_q) * 64'(mpass)) * 32);
  assign m_cmd_len = 24'(mpass);
  assign m_ready = (st == S_META);
  assign w_cmd_valid = (st == S_W_CMD) ? ~wsent_q : '0;
  assign w_cmd_addr = ADDR_W'((64'(d_w_base) + 64'(pass_q) * LANES * 64'(d_wpr)) * 32);
  assign w_cmd_len = 24'(32'(LANES) * 32'(d_wpr));

  logic [CH-1:0] mac_valid;
  logic [CH*LANES*48-1:0] mac_acc;

  always_ff @(posedge clk) begin
    done <= 1'b0;
    if (rst) begin
      st <= S_IDLE;
      xpend_q <= 1'b0;
    end else begin
      case (st)
        S_IDLE: if (cmd_valid) st <= S_DESC;
        S_DESC: begin  // the ROM answers the address of the accepted command

          {d_wpr, d_i8, d_group_beats, d_tokens, d_mw, d_n, d_rpc, d_k, d_y_base, d_fx_base,
           d_x_base, d_meta_base, d_w_base} <= desc_data;
          pass_q <= '0;
          st <= S_META_CMD;
        end
        S_META_CMD: if (m_cmd_ready) begin
          mcnt_q <= '0;
          st <= S_META;
        end
        S_META: if (m_valid) begin
          // Records (slots) arrive channel by channel, lane by lane.
          meta_q[32'(mcnt_q) * 256 +: 256] <= m_data;
          mcnt_q <= mcnt_q + 16'd1;
          if (32'(mcnt_q) + 1 == mpass) begin
            tok_q <= '0;
            xcnt_q <= '0;
            st <= S_XLOAD;
          end
        end
        S_XLOAD: begin
          xpend_q <= 1'b1;
          xidx_q <= xcnt_q;
          xcnt_q <= xcnt_q + 16'd1;
          if (32'(xcnt_q) + 1 == 32'(d_k) / 32) st <= S_FX;
        end
        S_FX: begin
          xpend_q <= 1'b0;
          st <= S_W_CMD;
          wsent_q <= '0;
          got_q <= '0;
        end
        S_W_CMD: begin
          wsent_q <= wsent_q | w_cmd_ready;
          if (&(wsent_q | w_cmd_ready)) st <= S_MAC;
        end
        S_MAC: begin
          got_q <= got_q | mac_valid;
          if (&(got_q | mac_valid)) begin
            wc_q <= '0;
            wl_q <= '0;
            st <= S_WRITE;
          end
        end
        S_WRITE: begin
          if (32'(wl_q) + 1 < LANES) wl_q <= wl_q + L_W'(1);
          else begin
            wl_q <= '0;
            wc_q <= wc_q + C_W'(1);
            if (32'(wc_q) + 1 == CH) begin
              if (32'(tok_q) + 1 < 32'(d_tokens)) begin
                tok_q <= tok_q + 16'd1;
                xcnt_q <= '0;
                st <= S_XLOAD;
              end else if ((32'(pass_q) + 1) * LANES < 32'(d_rpc)) begin
                pass_q <= pass_q + 16'd1;
                st <= S_META_CMD;
              end else st <= S_DONE;
            end
          end
        end
        S_DONE: begin
          done <= 1'b1;
          st <= S_IDLE;
        end
        default: st <= S_IDLE;
      endcase
      if (xpend_q) xrow_q[32'(xidx_q) * 256 +: 256] <= act_rdata;
      if (st == S_FX) xpend_q <= 1'b0;
    end
  end

  // The exponent byte of the token arrives the cycle after S_FX.
  logic fx_pend_q;
  always_ff @(posedge clk) begin
    if (rst) fx_pend_q <= 1'b0;
    else fx_pend_q <= (st == S_FX);
    if (fx_pend_q) fx_q <= act_rdata[8*tok_q[4:0]+:8];
  end

  // ---- per-channel datapath: word demux -> LANES unpackers -> sparse MAC array ----------------
  for (genvar c = 0; c < CH; c++) begin : g_ch
    logic [L_W-1:0] wsel_q;
    logic [LANES-1:0] u_s_ready, u_valid;
    logic [LANES*BLOCKS*3-1:0] pat;
    logic [LANES*BLOCKS*2-1:0] clo, chi;
    logic [15:0] bcnt_q, gcnt_q;
    logic [LANES*META_W-1:0] msh_q;
    logic [LANES*2-1:0] zero;
    logic [LANES*16-1:0] scale;
    logic all_v, mac_ready, fire, glast, rlast;
    logic [BEAT_W-1:0] xbeat;
    // int8 datapath state (below)
    logic [23:0] i8cnt_q;  // words accepted this token
    logic [15:0] i8word_q;  // word index (within the row) of the next word to arrive
    logic h_v, p_v;
    logic [255:0] h_word;
    logic [L_W-1:0] h_lane, p_lane;
    logic [15:0] h_widx;
    logic [I8_B_W-1:0] h_b;
    logic h_last, i8_ready, i8_take, i8_done;
    logic signed [I8_SUM_W-1:0] dot, p_sum;
    logic [LANES*32-1:0] i8acc_q;
    logic [I8_MACS*8-1:0] xs;

    assign all_v = &u_valid;
    assign fire = all_v && mac_ready;
    assign w_ready[c] = d_i8 ? i8_ready : u_s_ready[wsel_q];
    assign glast = (gcnt_q + 16'd1 == 16'(d_group_beats));
    assign rlast = (32'(bcnt_q) + 1 == 32'(d_wpr) * (36 / BLOCKS));
    // Blocks past k (a row's padding up to its word boundary) meet zero activations.
    assign xbeat = (32'(bcnt_q) * BLOCKS * 4 < 32'(d_k)) ? xrow_q[32'(bcnt_q) * BEAT_W +: BEAT_W] : '0;

    always_ff @(posedge clk) begin
      if (rst || st == S_FX) begin
        wsel_q <= '0;
        bcnt_q <= '0;
        gcnt_q <= '0;
      end else begin
        if (w_valid[c] && w_ready[c]) wsel_q <= (32'(wsel_q) + 1 == LANES) ? '0 : wsel_q + L_W'(1);
        if (fire) begin
          bcnt_q <= rlast ? '0 : bcnt_q + 16'd1;
          gcnt_q <= (glast || rlast) ? '0 : gcnt_q + 16'd1;
        end
      end
      // Each lane's record, consumed one group at a time (zero point and mantissa in its low
      // bits after the exponent byte).
      if (st == S_FX) msh_q <= meta_q[c*LANES*META_W +: LANES*META_W];
      else if (fire && glast) begin
        for (int l = 0; l < LANES; l++) msh_q[l*META_W +: META_W] <= msh_q[l*META_W +: META_W] >> 18;
      end
    end

    for (genvar l = 0; l < LANES; l++) begin : g_lane
      logic u_ill;
      logic [BLOCKS-1:0] u_illegal;
      assign zero[2*l +: 2] = msh_q[l*META_W + 8 +: 2];
      assign scale[16*l +: 16] = msh_q[l*META_W + 10 +: 16];
      w2_unpacker #(.WORD_W(256), .OUT_BLOCKS(BLOCKS)) u_unp (
          .clk(clk),
          .rst(rst),
          .s_valid(w_valid[c] && !d_i8 && (wsel_q == L_W'(l))),
          .s_ready(u_s_ready[l]),
          .s_word(w_data[c*256 +: 256]),
          .m_valid(u_valid[l]),
          .m_ready(fire),
          .m_pattern(pat[l*BLOCKS*3 +: BLOCKS*3]),
          .m_code_lo(clo[l*BLOCKS*2 +: BLOCKS*2]),
          .m_code_hi(chi[l*BLOCKS*2 +: BLOCKS*2]),
          .m_illegal(u_illegal),
          .m_first(u_ill)
      );
      logic unused_lane;
      assign unused_lane = ^{u_illegal, u_ill};
    end

    logic sp_valid;
    logic [LANES*48-1:0] sp_acc;
    sparse_mac_array #(.LANES(LANES), .BLOCKS(BLOCKS), .PSUM_W(20), .SCALE_W(16), .ACC_W(48)) u_mac (
        .clk(clk),
        .rst(rst),
        .s_valid(all_v),
        .s_ready(mac_ready),
        .s_act(xbeat),
        .s_pattern(pat),
        .s_code_lo(clo),
        .s_code_hi(chi),
        .s_zero(zero),
        .s_scale(scale),
        .s_group_last(glast),
        .s_row_last(rlast),
        .m_valid(sp_valid),
        .m_ready(st == S_MAC && !got_q[c] && !d_i8),
        .m_acc(sp_acc)
    );

    // ---- int8 datapath: hold word -> I8_MACS products summed -> lane accumulator ------------
    // The channel's words arrive lane by lane (word w of lane l is the (w * LANES + l)-th); a
    // held word is consumed I8_MACS bytes per cycle and the next one taken in the cycle its last
    // slice leaves (no bubble), so one word per I8_BEATS cycles per channel.

    assign h_last = (32'(h_b) + 1 == I8_BEATS);
    assign i8_ready = (st == S_MAC) && (i8cnt_q < 24'(32'(LANES) * 32'(d_wpr))) && (!h_v || h_last);
    assign i8_take = d_i8 && w_valid[c] && i8_ready;
    assign i8_done = (i8cnt_q == 24'(32'(LANES) * 32'(d_wpr))) && !h_v && !p_v;
    assign xs = xrow_q[(32'(h_widx) * 32 + 32'(h_b) * I8_MACS) * 8 +: I8_MACS * 8];
    always_comb begin
      dot = '0;
      for (int i = 0; i < I8_MACS; i++)
        dot = dot + I8_SUM_W'(16'(signed'(h_word[(32'(h_b) * I8_MACS + i) * 8 +: 8]))
                              * 16'(signed'(xs[i*8 +: 8])));
    end

    always_ff @(posedge clk) begin
      if (rst || st == S_FX) begin
        i8cnt_q <= '0;
        i8word_q <= '0;
        h_v <= 1'b0;
        p_v <= 1'b0;
        i8acc_q <= '0;
      end else begin
        if (i8_take) begin
          h_v <= 1'b1;
          h_word <= w_data[c*256 +: 256];
          h_lane <= wsel_q;
          h_widx <= i8word_q;
          h_b <= '0;
          i8cnt_q <= i8cnt_q + 24'd1;
          if (32'(wsel_q) + 1 == LANES) i8word_q <= i8word_q + 16'd1;
        end else if (h_v) begin
          if (h_last) h_v <= 1'b0;
          else h_b <= h_b + I8_B_W'(1);
        end
        p_v <= h_v;
        p_sum <= dot;
        p_lane <= h_lane;
        if (p_v)
          i8acc_q[32'(p_lane) * 32 +: 32] <= i8acc_q[32'(p_lane) * 32 +: 32] + 32'(p_sum);
      end
    end

    assign mac_valid[c] = d_i8 ? i8_done : sp_valid;
    for (genvar l = 0; l < LANES; l++) begin : g_i8out
      assign mac_acc[(c*LANES+l)*48 +: 48] =
          d_i8 ? 48'(signed'(i8acc_q[l*32 +: 32])) : sp_acc[l*48 +: 48];
    end
    always_ff @(posedge clk) begin
      if (mac_valid[c] && st == S_MAC && !got_q[c]) res_q[c*LANES*48 +: LANES*48] <= mac_acc[c*LANES*48 +: LANES*48];
    end
  end

  logic unused_ok;
  assign unused_ok = ^{cmd_payload[55:DESC_AW], wexp, wacc[47:32]};
endmodule
