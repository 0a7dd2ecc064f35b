// Valid/ready control of a fixed-depth pipeline that stalls as a whole.
//
// The pipeline advances (`ce`) whenever its last stage is empty or being taken, so a stalled
// output holds every stage (no bubbles are squeezed out; throughput is one beat per cycle while
// m_ready is high). Stage i's data registers load on `en[i]` = `ce` and a valid beat entering
// it (stage 0 from s_valid, stage i from stage i-1): an idle pipeline holds its registers
// instead of capturing whatever its inputs carry (the shared activation read bus changes on
// every cycle other units read it; measured with toggle coverage, backend/sim/activity.py).
// Shared by the fixed-latency units (silu_unit, rope_unit) so the handshake is written once.
module pipe_valid #(
    parameter int DEPTH = 3
) (
    input  logic clk,
    input  logic rst,
    input  logic s_valid,
    output logic s_ready,
    output logic m_valid,
    input  logic m_ready,
    output logic ce,
    output logic [DEPTH-1:0] en
);
  logic [DEPTH-1:0] v;
  assign ce      = !v[DEPTH-1] || m_ready;
  assign s_ready = ce;
  assign m_valid = v[DEPTH-1];
  always_comb begin
    en[0] = ce && s_valid;
    for (int i = 1; i < DEPTH; i++) en[i] = ce && v[i-1];
  end

  always_ff @(posedge clk) begin
    if (rst) v <= '0;
    else if (ce) begin
      v[0] <= s_valid;
      for (int i = 1; i < DEPTH; i++) v[i] <= v[i-1];
    end
  end
endmodule
