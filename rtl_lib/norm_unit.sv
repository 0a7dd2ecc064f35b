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
// Order per token: stream the row's words from the activation buffer into rmsnorm_unit, one read
// per cycle (its input pass stores them and takes max|x|), then write its output words as they
// come, one per cycle (rmsnorm_unit returns a row only after the whole row is in, so input and
// output never compete for the single activation port).
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

  typedef enum logic [2:0] {S_IDLE, S_DESC, S_GCMD, S_GLOAD, S_FEED, S_OUT, S_DONE} state_t;
  state_t st;

  logic [15:0] tok_q, w_q, wo_q, gcnt_q;
  logic rd_v, rd_half, rd_last;  // the act word read last cycle: present, gain half, row end
  logic [255:0] gmem[GWORDS];
  logic [255:0] g_rd;  // gain word of the act word being read (16 gains = two act words)

  assign cmd_ready = (st == S_IDLE);
  assign desc_addr = cmd_payload[DESC_AW-1:0];
  assign g_cmd_valid = (st == S_GCMD);
  assign g_cmd_addr = ADDR_W'(64'(d_g_base) * 32);
  assign g_cmd_len = 24'(d_gwords);
  assign g_ready = (st == S_GLOAD);

  // Rows are read from w_q and written from wo_q; input and output rows have one shape.
  logic x_issue;
  logic [31:0] row0;
  assign x_issue = (st == S_FEED) && w_q != d_xrw;
  assign row0 = 32'(tok_q) * 32'(d_xrw);

  // ---- rmsnorm_unit ------------------------------------------------------------------------------
  logic n_s_ready, n_m_valid, n_m_last, n_ovf;
  logic [255:0] n_m_data;
  rmsnorm_unit #(
      .MAX_H(MAX_H)
  ) u_norm (
      .clk,
      .rst,
      .s_valid(rd_v),
      .s_ready(n_s_ready),
      .s_data(act_rdata),
      .s_gain(rd_half ? g_rd[255:128] : g_rd[127:0]),
      .s_last(rd_last),
      .s_gain_shift(d_gsh[5:0]),
      .s_eps(d_eps),
      .m_valid(n_m_valid),
      .m_ready(st == S_OUT),
      .m_data(n_m_data),
      .m_last(n_m_last),
      .row_overflow(n_ovf)
  );

  always_comb begin
    act_addr = '0;
    act_we = 1'b0;
    act_lane_we = '0;
    act_wdata = '0;
    if (x_issue) act_addr = ACT_AW'(32'(d_x_base) + row0 + 32'(w_q));
    else if (st == S_OUT) begin
      act_addr = ACT_AW'(32'(d_o_base) + row0 + 32'(wo_q));
      act_we = n_m_valid;
      act_lane_we = {8{n_m_valid}};
      act_wdata = n_m_data;
    end
  end

  // Gain memory: written while the table streams in, read (registered: BRAM) with each act word.
  always_ff @(posedge clk) begin
    if (st == S_GLOAD && g_valid && 32'(gcnt_q) < GWORDS) gmem[G_AW'(gcnt_q)] <= g_data;
    if (x_issue) g_rd <= gmem[G_AW'(w_q >> 1)];
  end

  always_ff @(posedge clk) begin
    done <= 1'b0;
    if (rst) begin
      st <= S_IDLE;
      err <= 1'b0;
      rd_v <= 1'b0;
    end else begin
      if (n_ovf) err <= 1'b1;
      // rmsnorm_unit is in its input pass for the whole feed (the previous row has left).
      if (rd_v && !n_s_ready) err <= 1'b1;
      rd_v <= x_issue;
      rd_half <= w_q[0];
      rd_last <= w_q + 16'd1 == d_xrw;
      case (st)
        S_IDLE: if (cmd_valid) st <= S_DESC;
        S_DESC: begin  // the ROM answers the address of the accepted command
          {d_eps, d_gsh, d_gwords, d_g_base, d_xrw, d_tokens, d_o_base, d_x_base} <= desc_data[167:0];
          tok_q <= '0;
          w_q <= '0;
          wo_q <= '0;
          gcnt_q <= '0;
          st <= S_GCMD;
        end
        S_GCMD: if (g_cmd_ready) st <= S_GLOAD;
        S_GLOAD:
        if (g_valid) begin
          if (32'(gcnt_q) >= GWORDS) err <= 1'b1;
          gcnt_q <= gcnt_q + 16'd1;
          if (gcnt_q + 16'd1 == d_gwords) st <= S_FEED;
        end
        // ---- per token: read the row (one word per cycle), then write the normalised row
        S_FEED: begin
          if (x_issue) w_q <= w_q + 16'd1;
          if (rd_v && rd_last) st <= S_OUT;
        end
        S_OUT:
        if (n_m_valid) begin
          wo_q <= wo_q + 16'd1;
          if (n_m_last) begin
            w_q <= '0;
            wo_q <= '0;
            tok_q <= tok_q + 16'd1;
            st <= (tok_q + 16'd1 == d_tokens) ? S_DONE : S_FEED;
          end
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
  assign unused_ok = ^{cmd_payload[55:DESC_AW], desc_data[255:168], d_gsh[7:6]};
endmodule
