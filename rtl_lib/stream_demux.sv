// Demultiplexer of one channel's tagged stream (stream_prefetcher's m_*) to NU unit stream
// ports: a beat with tag t goes to port t (m_valid[t]); the data bus m_data is shared by all
// ports (wire it to each unit's s_data slot of this channel); s_ready is the selected port's
// m_ready. Combinational (no latency, no storage). A beat whose tag is >= NU is dropped (taken
// with s_ready high, offered to no port) and sets the sticky `err` (cleared by reset), so a
// wrong fetch program shows up instead of hanging the channel.
module stream_demux #(
    parameter int NU     = 4,
    parameter int DATA_W = 512,
    parameter int TAG_W  = 4
) (
    input  logic              clk,
    input  logic              rst,
    input  logic              s_valid,
    output logic              s_ready,
    input  logic [DATA_W-1:0] s_data,
    input  logic [TAG_W-1:0]  s_tag,
    output logic [NU-1:0]     m_valid,
    input  logic [NU-1:0]     m_ready,
    output logic [DATA_W-1:0] m_data,
    output logic              err
);
  initial begin
    if (NU < 1 || NU > (1 << TAG_W)) $error("stream_demux: need 1 <= NU <= 2^TAG_W");
  end

  logic bad;
  assign bad = ({1'b0, s_tag} >= (TAG_W + 1)'(NU));
  assign m_data = s_data;
  always_comb begin
    m_valid = '0;
    s_ready = bad;
    for (int u = 0; u < NU; u++) begin
      if (s_tag == TAG_W'(u)) begin
        m_valid[u] = s_valid;
        s_ready    = m_ready[u];
      end
    end
  end

  always_ff @(posedge clk) begin
    if (rst) err <= 1'b0;
    else if (s_valid && bad) err <= 1'b1;
  end
endmodule
