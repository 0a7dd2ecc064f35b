// The RoPE unit of the engine (sequencer unit `rope`, accel.vector kind rope): runs one rope
// descriptor per command, y = contract.rope_int(x, pos, tables) for every head of every token,
// by rope_unit, reading Q15.16 rows from and writing Q15.16 rows to the activation buffer.
//
// Command: cmd_payload[DESC_AW-1:0] = index of a 256-bit descriptor in the descriptor ROM
// (accllm.backend.accel_program_vector.RopeDescriptor: field offsets below); `done` pulses once
// per finished command. Token t is at position pos_base + t, plus the position register `pos`
// when flag bit 0 is set (decode).
// Tables: rope_unit's write port is brought out (`tbl_*`); the loader writes the entries of
// contract.rope_tables once before the first command (they depend on the model's theta and
// head_dim only). HALF (head_dim / 2, a multiple of 8) is fixed at build time: a descriptor
// whose half differs sets `err` and completes without writing.
// Order: per token, head, chunk j of 8 pairs, one round of 4 cycles on the activation port: read
// the x1 word (pairs 8j..8j+7), read the x2 word HALF/8 words later (the x1 word lands), write
// y1 of the previous chunk (the x2 word lands: both go into rope_unit, 8 pairs in one beat),
// write its y2. rope_unit's 3 stages end in the next round's second cycle, so the rounds
// overlap; one more round writes the last chunk.
module rope_cmd_unit #(
    parameter int HALF = 64,
    parameter int MAX_POS = 4096,
    parameter int POS_W = 32,
    parameter int ACT_AW = 12,
    parameter int DESC_AW = 8
) (
    input  logic               clk,
    input  logic               rst,
    input  logic               cmd_valid,
    output logic               cmd_ready,
    input  logic [       55:0] cmd_payload,
    output logic               done,
    input  logic [  POS_W-1:0] pos,                  // position register
    // descriptor ROM (data one cycle after the address)
    output logic [DESC_AW-1:0] desc_addr,
    input  logic [      255:0] desc_data,
    // rope_unit's table write port (tbl_sel 0 cos_lo, 1 sin_lo, 2 cos_hi, 3 sin_hi)
    input  logic               tbl_we,
    input  logic [        1:0] tbl_sel,
    input  logic [$clog2((MAX_POS > 4096 ? (MAX_POS + 63) / 64 : 64) * HALF)-1:0] tbl_addr,
    input  logic [       15:0] tbl_data,
    // activation buffer port (read data one cycle after the address)
    output logic [ ACT_AW-1:0] act_addr,
    output logic               act_we,
    output logic [        7:0] act_lane_we,
    output logic [      255:0] act_wdata,
    input  logic [      255:0] act_rdata,
    // sticky: a position beyond the tables, or a descriptor for another head size
    output logic               err
);
  localparam int CH = HALF / 8;  // words per half head

  // ---- descriptor (accel_program_vector.RopeDescriptor, LSB first) ----------------------------
  logic [23:0] d_x_base, d_o_base;
  logic [15:0] d_tokens, d_rw;
  logic [7:0] d_heads, d_half, d_flags;
  logic [31:0] d_pos_base;

  typedef enum logic [2:0] {S_IDLE, S_DESC, S_R1, S_R2, S_W1, S_W2, S_DONE} state_t;
  state_t st;

  logic [15:0] tok_q;
  logic [7:0] h_q;
  logic [15:0] j_q;  // chunk of 8 pairs within the half head
  logic more;  // the round reads a chunk (not the final write-only round)
  logic y_v;  // y1_q / y2_q hold the previous chunk's result
  logic [255:0] x1_q, y1_q, y2_q;
  logic [31:0] wp_q;  // offset of the previous chunk's x1 word
  logic [POS_W-1:0] tpos;

  assign cmd_ready = (st == S_IDLE);
  assign desc_addr = cmd_payload[DESC_AW-1:0];
  assign tpos = POS_W'(d_pos_base) + POS_W'(tok_q) + (d_flags[0] ? pos : '0);

  logic [31:0] w1;  // offset of the x1 word within the buffers
  assign w1 = 32'(tok_q) * 32'(d_rw) + 32'(h_q) * (2 * CH) + 32'(j_q);

  always_comb begin
    act_addr = '0;
    act_we = 1'b0;
    act_lane_we = '0;
    act_wdata = '0;
    case (st)
      S_R1: act_addr = ACT_AW'(32'(d_x_base) + w1);
      S_R2: act_addr = ACT_AW'(32'(d_x_base) + w1 + CH);
      S_W1, S_W2: begin
        act_addr = ACT_AW'(32'(d_o_base) + wp_q + ((st == S_W2) ? CH : 0));
        act_we = y_v;
        act_lane_we = {8{y_v}};
        act_wdata = (st == S_W2) ? y2_q : y1_q;
      end
      default: ;
    endcase
  end

  logic r_s_ready, r_m_valid, r_pos_err, r_feed;
  logic [255:0] r_y1, r_y2;
  assign r_feed = (st == S_W1) && more;
  rope_unit #(
      .HALF(HALF),
      .MAX_POS(MAX_POS),
      .POS_W(POS_W)
  ) u_rope (
      .clk,
      .rst,
      .tbl_we,
      .tbl_sel,
      .tbl_addr,
      .tbl_data,
      .s_valid(r_feed),
      .s_ready(r_s_ready),
      .s_pos(tpos),
      .s_chunk($clog2(CH + 1)'(j_q)),
      .s_x1(x1_q),
      .s_x2(act_rdata),
      .m_valid(r_m_valid),
      .m_ready(1'b1),
      .m_y1(r_y1),
      .m_y2(r_y2),
      .pos_error(r_pos_err)
  );

  always_ff @(posedge clk) begin
    done <= 1'b0;
    if (rst) begin
      st <= S_IDLE;
      err <= 1'b0;
      y_v <= 1'b0;
    end else begin
      if (r_pos_err) err <= 1'b1;
      if (r_feed && !r_s_ready) err <= 1'b1;  // rope_unit never stalls (m_ready tied high)
      case (st)
        S_IDLE: if (cmd_valid) st <= S_DESC;
        S_DESC: begin  // the ROM answers the address of the accepted command
          {d_flags, d_pos_base, d_rw, d_half, d_heads, d_tokens, d_o_base, d_x_base} <=
              desc_data[135:0];
          tok_q <= '0;
          h_q <= '0;
          j_q <= '0;
          more <= 1'b1;
          if (32'(desc_data[79:72]) == HALF) st <= S_R1;
          else begin
            err <= 1'b1;
            st <= S_DONE;
          end
        end
        S_R1: st <= S_R2;
        S_R2: begin  // the x1 word lands now
          x1_q <= act_rdata;
          st <= S_W1;
        end
        S_W1: begin  // the x2 word lands now: into rope_unit with x1 (r_feed)
          if (!more && !y_v) err <= 1'b1;
          st <= S_W2;
        end
        S_W2: begin  // next round: the next chunk, or the write-only round, or done
          wp_q <= w1;
          st <= more ? S_R1 : S_DONE;
          if (more) begin
            if (32'(j_q) + 1 < CH) j_q <= j_q + 16'd1;
            else begin
              j_q <= '0;
              if (h_q + 8'd1 < d_heads) h_q <= h_q + 8'd1;
              else begin
                h_q <= '0;
                tok_q <= tok_q + 16'd1;
                if (tok_q + 16'd1 == d_tokens) more <= 1'b0;
              end
            end
          end
        end
        S_DONE: begin
          done <= 1'b1;
          st <= S_IDLE;
        end
        default: st <= S_IDLE;
      endcase
      // The chunk's result, held for the next round's writes.
      if (r_m_valid) begin
        y1_q <= r_y1;
        y2_q <= r_y2;
        y_v  <= 1'b1;
      end else if (st == S_W2) y_v <= 1'b0;
    end
  end

  logic unused_ok;
  assign unused_ok = ^{cmd_payload[55:DESC_AW], desc_data[255:136], d_half, d_flags[7:1]};
endmodule
