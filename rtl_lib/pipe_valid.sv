// Valid/ready control of a fixed-depth pipeline that stalls as a whole.
//
// Every stage register of the datapath is enabled by `ce`: the pipeline advances whenever its
// last stage is empty or being taken, so a stalled output holds every stage (no bubbles are
// squeezed out; throughput is one beat per cycle while m_ready is high). Shared by the
// fixed-latency units (silu_unit, rope_unit) so the handshake is written once.
module pipe_valid #(
    parameter int DEPTH = 3
) (
    input  logic clk,
    input  logic rst,
    input  logic s_valid,
    output logic s_ready,
    output logic m_valid,
    input  logic m_ready,
    output logic ce
);
  logic [DEPTH-1:0] v;
  assign ce      = !v[DEPTH-1] || m_ready;
  assign s_ready = ce;
  assign m_valid = v[DEPTH-1];

  always_ff @(posedge clk) begin
    if (rst) v <= '0;
    else if (ce) begin
      v[0] <= s_valid;
      for (int i = 1; i < DEPTH; i++) v[i] <= v[i-1];
    end
  end
endmodule
