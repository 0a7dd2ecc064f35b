// W2 2:4 weight-stream unpacker: one WORD_W-bit HBM word in, WORD_W/7/OUT_BLOCKS beats out.
// Word layout (numerics contract, pack_2_4_w2): BLOCKS_PER_WORD = WORD_W / 7 blocks of 7 bits
// packed LSB-first; block bits [2:0] pattern code, [4:3] code of the lower kept position, [6:5]
// code of the higher kept position; the WORD_W % 7 top bits are zero.
// Each output beat carries OUT_BLOCKS consecutive blocks, block 0 in the low bits of every port.
// m_first marks the first beat of a word (every output channel starts on a word boundary).
// m_illegal flags, per block, a pattern code 6 or 7 (not one of the six legal 2:4 pairs); the
// beat is still delivered so the consumer (or a sticky error bit) decides what to do with it.
// Throughput: one beat per cycle; a new word is accepted in the cycle its predecessor's last beat
// leaves, so a word stream at one word per BEATS cycles is consumed without bubbles.
// Latency: the first beat of a word is valid the cycle after the word is accepted.
module w2_unpacker #(
    parameter int WORD_W     = 256,
    parameter int OUT_BLOCKS = 4
) (
    input  logic                      clk,
    input  logic                      rst,
    input  logic                      s_valid,
    output logic                      s_ready,
    input  logic [WORD_W-1:0]         s_word,
    output logic                      m_valid,
    input  logic                      m_ready,
    output logic [OUT_BLOCKS*3-1:0]   m_pattern,
    output logic [OUT_BLOCKS*2-1:0]   m_code_lo,
    output logic [OUT_BLOCKS*2-1:0]   m_code_hi,
    output logic [OUT_BLOCKS-1:0]     m_illegal,
    output logic                      m_first
);
  localparam int BLOCKS_PER_WORD = WORD_W / 7;
  localparam int BEATS = BLOCKS_PER_WORD / OUT_BLOCKS;
  localparam int CNT_W = (BEATS > 1) ? $clog2(BEATS) : 1;
  localparam int USED_W = BLOCKS_PER_WORD * 7;

  // A wrong OUT_BLOCKS would silently drop blocks at the end of every word.
  if (BLOCKS_PER_WORD % OUT_BLOCKS != 0) begin : g_bad_out_blocks
    $error("w2_unpacker: OUT_BLOCKS must divide WORD_W/7 blocks per word");
  end

  logic [USED_W-1:0] word_q;  // remaining blocks of the current word, next beat in the low bits
  logic [CNT_W-1:0]  beat_q;
  logic              full_q;
  logic              last_beat;
  logic              take;

  assign last_beat = (beat_q == CNT_W'(BEATS - 1));
  assign s_ready   = !full_q || (last_beat && m_ready);
  assign take      = s_valid && s_ready;
  assign m_valid   = full_q;
  assign m_first   = (beat_q == '0);

  always_ff @(posedge clk) begin
    if (rst) begin
      full_q <= 1'b0;
      beat_q <= '0;
    end else if (take) begin
      full_q <= 1'b1;
      beat_q <= '0;
    end else if (full_q && m_ready) begin
      full_q <= !last_beat;
      beat_q <= last_beat ? '0 : beat_q + CNT_W'(1);
    end
  end

  // The word is shifted down by one beat as each beat leaves, so output muxing is a fixed slice.
  always_ff @(posedge clk) begin
    if (take) word_q <= s_word[USED_W-1:0];
    else if (full_q && m_ready) word_q <= word_q >> (7 * OUT_BLOCKS);
  end

  for (genvar b = 0; b < OUT_BLOCKS; b++) begin : g_block
    logic [6:0] blk;
    assign blk = word_q[7*b+:7];
    assign m_pattern[3*b+:3] = blk[2:0];
    assign m_code_lo[2*b+:2] = blk[4:3];
    assign m_code_hi[2*b+:2] = blk[6:5];
    assign m_illegal[b] = (blk[2:1] == 2'b11);
  end

  // The WORD_W % 7 padding bits are zero by the contract and carry nothing.
  if (WORD_W > USED_W) begin : g_pad
    logic unused_pad;
    assign unused_pad = ^s_word[WORD_W-1:USED_W];
  end
endmodule
