// The embedding unit of the engine (accel.vector kind embedding): runs one embedding descriptor
// per command, h[t] = contract.embedding_int8(ids, table_q, table_exp)[t] per token, reading the
// token ids from and writing Q15.16 rows to the activation buffer.
//
// Command: cmd_payload[DESC_AW-1:0] = index of a 256-bit descriptor in the descriptor ROM
// (accllm.backend.accel_program_vector.EmbeddingDescriptor: field offsets below); `done` pulses
// once per finished command.
// Ids: token t's id is the unsigned 32-bit lane t mod 8 of activation word ids_base + t / 8 (the
// program's input, written by the host).
// Table: row r of the table region (accllm.backend.sim.hbm_image.embedding_table_image) is
// row_words 256-bit words from HBM word table_base + r * row_words: the int8 values as bytes
// 0..hidden-1, then the row's pow2 exponent f as byte `hidden`. The row is read through the
// read-command / word-stream interface of axi_read_master (`g_*`, the misc HBM channel, shared
// like norm_unit's) into an on-chip row memory, then each output word (8 lanes) is
// round_shift(q, f - 16) (contract.round_shift: add half, arithmetic shift; a left shift for
// f < 16).
module embedding_unit #(
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
    // table channel (misc HBM channel: AXI read master commands and word stream)
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
    // sticky: a row longer than MAX_H or a value that does not fit Q15.16 (int32)
    output logic               err
);
  localparam int RWORDS = (MAX_H + 1 + 31) / 32;  // row memory: values + exponent byte
  localparam int R_AW = (RWORDS > 1) ? $clog2(RWORDS) : 1;
  localparam int RES_FRAC = 16;

  // ---- descriptor (accel_program_vector.EmbeddingDescriptor, LSB first) -----------------------
  logic [23:0] d_ids_base, d_o_base;
  logic [15:0] d_tokens, d_xrw, d_rw, d_hidden;
  logic [31:0] d_t_base;

  typedef enum logic [3:0] {
    S_IDLE, S_DESC, S_IRD, S_ICAP, S_GCMD, S_GLOAD, S_ORD, S_OWR, S_DONE
  } state_t;
  state_t st;

  logic [15:0] tok_q, w_q, gcnt_q;
  logic [31:0] id_q;
  logic [7:0] e_q;  // the row's exponent f (signed)
  logic [255:0] rmem[RWORDS];
  logic [255:0] r_rd;  // row word of output word w_q (32 values = 4 output words)

  assign cmd_ready = (st == S_IDLE);
  assign desc_addr = cmd_payload[DESC_AW-1:0];
  assign g_cmd_valid = (st == S_GCMD);
  assign g_cmd_addr = ADDR_W'((64'(d_t_base) + 64'(id_q) * 64'(d_rw)) * 64'd32);
  assign g_cmd_len = 24'(d_rw);
  assign g_ready = (st == S_GLOAD);

  // ---- dequantization: round_shift(q, f - RES_FRAC), 8 lanes --------------------------------
  logic signed [9:0] shift;  // f - 16
  assign shift = 10'(signed'(e_q)) - 10'(RES_FRAC);
  logic [255:0] out_w;
  logic [7:0] ovf;
  always_comb begin
    logic signed [63:0] x;
    logic [5:0] sh;
    out_w = '0;
    ovf = '0;
    for (int l = 0; l < 8; l++) begin
      x = 64'(signed'(r_rd[64*w_q[1:0]+8*l+:8]));
      sh = '0;
      if (shift > 0) begin  // s >= 9 rounds every int8 to 0, as s = 9 does
        sh = (shift > 10'sd9) ? 6'd9 : 6'(shift);
        x = (x + (64'sd1 <<< (sh - 6'd1))) >>> sh;
      end else if (shift < 0) begin
        if (shift < -10'sd40) begin
          sh = 6'd40;
          ovf[l] = (x != 64'sd0);
        end else sh = 6'(-shift);
        x = x <<< sh;
      end
      if (x != 64'(signed'(x[31:0]))) ovf[l] = 1'b1;
      out_w[32*l+:32] = x[31:0];
    end
  end

  logic [31:0] orow;  // output word w_q of token tok_q
  assign orow = 32'(d_o_base) + 32'(tok_q) * 32'(d_xrw) + 32'(w_q);

  always_comb begin
    act_addr = '0;
    act_we = 1'b0;
    act_lane_we = '0;
    act_wdata = '0;
    case (st)
      S_IRD: act_addr = ACT_AW'(32'(d_ids_base) + 32'(tok_q >> 3));
      S_OWR: begin
        act_addr = ACT_AW'(orow);
        act_we = 1'b1;
        act_lane_we = 8'hff;
        act_wdata = out_w;
      end
      default: ;
    endcase
  end

  // Row memory: written while the row streams in, read (registered: BRAM) per output word.
  always_ff @(posedge clk) begin
    if (st == S_GLOAD && g_valid && 32'(gcnt_q) < RWORDS) rmem[R_AW'(gcnt_q)] <= g_data;
    if (st == S_ORD) r_rd <= rmem[R_AW'(w_q >> 2)];
  end

  always_ff @(posedge clk) begin
    done <= 1'b0;
    if (rst) begin
      st <= S_IDLE;
      err <= 1'b0;
    end else begin
      case (st)
        S_IDLE: if (cmd_valid) st <= S_DESC;
        S_DESC: begin  // the ROM answers the address of the accepted command
          {d_hidden, d_rw, d_t_base, d_xrw, d_tokens, d_o_base, d_ids_base} <= desc_data[143:0];
          tok_q <= '0;
          st <= S_IRD;
        end
        // ---- per token: its id, its table row, then the Q15.16 row
        S_IRD: st <= S_ICAP;
        S_ICAP: begin  // the id word lands now
          id_q <= act_rdata[32*tok_q[2:0]+:32];
          gcnt_q <= '0;
          st <= S_GCMD;
        end
        S_GCMD: if (g_cmd_ready) st <= S_GLOAD;
        S_GLOAD:
        if (g_valid) begin
          if (32'(gcnt_q) >= RWORDS) err <= 1'b1;
          if (gcnt_q == (d_hidden >> 5)) e_q <= g_data[8*d_hidden[4:0]+:8];
          gcnt_q <= gcnt_q + 16'd1;
          if (gcnt_q + 16'd1 == d_rw) begin
            w_q <= '0;
            st <= S_ORD;
          end
        end
        S_ORD: st <= S_OWR;
        S_OWR: begin
          if (|ovf) err <= 1'b1;
          w_q <= w_q + 16'd1;
          if (w_q + 16'd1 == d_xrw) begin
            tok_q <= tok_q + 16'd1;
            st <= (tok_q + 16'd1 == d_tokens) ? S_DONE : S_IRD;
          end else st <= S_ORD;
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
  assign unused_ok = ^{cmd_payload[55:DESC_AW], desc_data[255:144], orow[31:ACT_AW]};
endmodule
