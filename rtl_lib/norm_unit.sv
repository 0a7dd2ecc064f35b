// The RMSNorm unit of the engine (sequencer unit `norm`, accel.vector kind rmsnorm): runs one
// norm descriptor per command, y = contract.rmsnorm_int(x, G, gain_shift, eps_q) per token row,
// by rmsnorm_unit, reading Q15.16 rows from and writing Q15.16 rows to the activation buffer.
//
// Command: cmd_payload[DESC_AW-1:0] = index of a 256-bit descriptor in the descriptor ROM
// (accllm.backend.accel_program_vector.NormDescriptor: field offsets below); `done` pulses once
// per finished command.
// Gains: the layer's gain mantissas G_i (signed 16 bit, 16 per 256-bit word, element i at bits
// 16 (i mod 16) of word i / 16: accel_program_vector.norm_gain_image) are read once per command
// from the misc HBM channel (`g_*`: the read-command / word-stream interface of
// axi_read_master) into an on-chip gain memory (MAX_H / 16 words, BRAM), then streamed with x.
// Order per token: feed the row (one act read, then 8 beats into rmsnorm_unit per word), then
// collect the outputs 8 at a time and write each word (rmsnorm_unit returns a row only after the
// whole row is in, so input and output never compete for the single activation port).
module norm_unit #(
    parameter int MAX_H = 4096,
    parameter int ADDR_W = 34,
    parameter int ACT_AW = 12,
    parameter int DESC_AW = 8
) (
    input  logic               clk,
    input  logic               rst,
    input  logic               cmd_valid,
    output logic               cmd_ready,
    input  logic [       55:0] cmd_payload,
    output logic               done,
    // descriptor ROM (data one cycle after the address)
    output logic [DESC_AW-1:0] desc_addr,
    input  logic [      255:0] desc_data,
    // gain table channel (misc HBM channel: AXI read master commands and word stream)
    output logic               g_cmd_valid,
    input  logic               g_cmd_ready,
    output logic [ ADDR_W-1:0] g_cmd_addr,
    output logic [       23:0] g_cmd_len,
    input  logic               g_valid,
    output logic               g_ready,
    input  logic [      255:0] g_data,
    // activation buffer port (read data one cycle after the address)
    output logic [ ACT_AW-1:0] act_addr,
    output logic               act_we,
    output logic [        7:0] act_lane_we,
    output logic [      255:0] act_wdata,
    input  logic [      255:0] act_rdata,
    // sticky: a row longer than MAX_H (rmsnorm_unit cut it) or a gain table past the memory
    output logic               err
);
  localparam int GWORDS = (MAX_H + 15) / 16;
  localparam int G_AW = (GWORDS > 1) ? $clog2(GWORDS) : 1;

  // ---- descriptor (accel_program_vector.NormDescriptor, LSB first) ----------------------------
  logic [23:0] d_x_base, d_o_base;
  logic [15:0] d_tokens, d_xrw, d_gwords;
  logic [31:0] d_g_base, d_eps;
  logic [7:0] d_gsh;

  typedef enum logic [3:0] {
    S_IDLE, S_DESC, S_GCMD, S_GLOAD, S_XRD, S_XCAP, S_FEED, S_OUT, S_OWR, S_DONE
  } state_t;
  state_t st;

  logic [15:0] tok_q, w_q, gcnt_q;
  logic [2:0] lane_q;
  logic [255:0] x_q, out_q;
  logic [255:0] gmem[GWORDS];
  logic [255:0] g_rd;  // gain word of act word w_q (16 gains = two act words)

  assign cmd_ready = (st == S_IDLE);
  assign desc_addr = cmd_payload[DESC_AW-1:0];
  assign g_cmd_valid = (st == S_GCMD);
  assign g_cmd_addr = ADDR_W'(64'(d_g_base) * 32);
  assign g_cmd_len = 24'(d_gwords);
  assign g_ready = (st == S_GLOAD);

  logic [31:0] xrow;  // first word of token tok_q's row (input and output rows have one shape)
  assign xrow = 32'(tok_q) * 32'(d_xrw) + 32'(w_q);

  always_comb begin
    act_addr = '0;
    act_we = 1'b0;
    act_lane_we = '0;
    act_wdata = '0;
    case (st)
      S_XRD: act_addr = ACT_AW'(32'(d_x_base) + xrow);
      S_OWR: begin
        act_addr = ACT_AW'(32'(d_o_base) + xrow);
        act_we = 1'b1;
        act_lane_we = 8'hff;
        act_wdata = out_q;
      end
      default: ;
    endcase
  end

  // ---- rmsnorm_unit ------------------------------------------------------------------------------
  logic n_s_ready, n_m_valid, n_m_last, n_ovf;
  logic [31:0] n_m_data;
  logic feed_last;
  assign feed_last = (w_q + 16'd1 == d_xrw) && (lane_q == 3'd7);
  rmsnorm_unit #(
      .MAX_H(MAX_H)
  ) u_norm (
      .clk,
      .rst,
      .s_valid(st == S_FEED),
      .s_ready(n_s_ready),
      .s_data(x_q[32*lane_q+:32]),
      .s_gain(g_rd[16*{w_q[0], lane_q}+:16]),
      .s_last(feed_last),
      .s_gain_shift(d_gsh[5:0]),
      .s_eps(d_eps),
      .m_valid(n_m_valid),
      .m_ready(st == S_OUT),
      .m_data(n_m_data),
      .m_last(n_m_last),
      .row_overflow(n_ovf)
  );

  // Gain memory: written while the table streams in, read (registered: BRAM) per act word.
  always_ff @(posedge clk) begin
    if (st == S_GLOAD && g_valid && 32'(gcnt_q) < GWORDS) gmem[G_AW'(gcnt_q)] <= g_data;
    if (st == S_XRD) g_rd <= gmem[G_AW'(w_q >> 1)];
  end

  always_ff @(posedge clk) begin
    done <= 1'b0;
    if (rst) begin
      st <= S_IDLE;
      err <= 1'b0;
    end else begin
      if (n_ovf) err <= 1'b1;
      case (st)
        S_IDLE: if (cmd_valid) st <= S_DESC;
        S_DESC: begin  // the ROM answers the address of the accepted command
          {d_eps, d_gsh, d_gwords, d_g_base, d_xrw, d_tokens, d_o_base, d_x_base} <= desc_data[167:0];
          tok_q <= '0;
          w_q <= '0;
          gcnt_q <= '0;
          lane_q <= '0;
          st <= S_GCMD;
        end
        S_GCMD: if (g_cmd_ready) st <= S_GLOAD;
        S_GLOAD:
        if (g_valid) begin
          if (32'(gcnt_q) >= GWORDS) err <= 1'b1;
          gcnt_q <= gcnt_q + 16'd1;
          if (gcnt_q + 16'd1 == d_gwords) st <= S_XRD;
        end
        // ---- per token: feed the row, then write the normalised row
        S_XRD: st <= S_XCAP;
        S_XCAP: begin  // the row word lands now (the port reads every cycle: take it once)
          x_q <= act_rdata;
          lane_q <= '0;
          st <= S_FEED;
        end
        S_FEED:
        if (n_s_ready) begin
          lane_q <= lane_q + 3'd1;
          if (lane_q == 3'd7) begin
            if (feed_last) begin
              w_q <= '0;
              st <= S_OUT;
            end else begin
              w_q <= w_q + 16'd1;
              st <= S_XRD;
            end
          end
        end
        S_OUT:
        if (n_m_valid) begin
          out_q[32*lane_q+:32] <= n_m_data;
          lane_q <= lane_q + 3'd1;
          if (lane_q == 3'd7) st <= S_OWR;
        end
        S_OWR: begin
          w_q <= w_q + 16'd1;
          if (w_q + 16'd1 == d_xrw) begin
            w_q <= '0;
            tok_q <= tok_q + 16'd1;
            st <= (tok_q + 16'd1 == d_tokens) ? S_DONE : S_XRD;
          end else st <= S_OUT;
        end
        S_DONE: begin
          done <= 1'b1;
          st <= S_IDLE;
        end
        default: st <= S_IDLE;
      endcase
    end
  end

  logic unused_ok;
  assign unused_ok = ^{cmd_payload[55:DESC_AW], desc_data[255:168], d_gsh[7:6], n_m_last};
endmodule
