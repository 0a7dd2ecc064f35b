"""The toggle-rate measurement (`backend/sim/activity.py`) on a design whose toggles are known
by hand: two instances of an 8-bit counter under one top, one counting every cycle, one held
(its enable low).

Counting from a multiple of 256 for a multiple of 256 cycles, counter bit i toggles once every
2^i cycles, so a window of N cycles holds N (1 + 1/2 + ... + 1/128) = N (2 - 1/128)
transitions over 8 bits: a rate of (2 - 1/128) / 8 = 0.2490234375 per bit per cycle.  The held
counter has none.  Two runs of 256 and 768 cycles are differenced (the window is the last 512
cycles); the coverage build is a separate cached binary (its build key has the coverage flags).
"""

from __future__ import annotations

import os

import cocotb
import pytest
from cocotb.triggers import RisingEdge

from accllm.rtl_lib import sim
from accllm.rtl_lib.stream import clock_and_reset

COUNTER_SV = """\
module tcount (
    input  logic       clk,
    input  logic       rst,
    input  logic       en,
    output logic [7:0] q
);
  always_ff @(posedge clk) begin
    if (rst) q <= '0;
    else if (en) q <= q + 8'd1;
  end
endmodule

module toggle_pair (
    input  logic       clk,
    input  logic       rst,
    output logic [7:0] q_on,
    output logic [7:0] q_off
);
  tcount u_on (.clk(clk), .rst(rst), .en(1'b1), .q(q_on));
  tcount u_off (.clk(clk), .rst(rst), .en(1'b0), .q(q_off));
endmodule
"""
CYCLES_ENV = "ACCLLM_TOGGLE_CYCLES"


@cocotb.test()
async def count(dut):
    await clock_and_reset(dut)
    for _ in range(int(os.environ[CYCLES_ENV])):
        await RisingEdge(dut.clk)


@pytest.mark.rtl
def test_counter_toggle_rates_by_hand(tmp_path):
    from accllm.backend.sim.activity import by_module, read_toggles, toggle_rate, window

    src = tmp_path / "toggle_pair.sv"
    src.write_text(COUNTER_SV)
    runs = {}
    for cycles in (256, 768):
        cov = tmp_path / f"cov_{cycles}.dat"
        sim.run(
            __file__,
            "toggle_pair",
            [src],
            extra_env={CYCLES_ENV: str(cycles)},
            coverage_file=cov,
        )
        runs[cycles] = read_toggles(cov, "toggle_pair", [src])
    win = window(runs[256], runs[768])
    assert set(win) == {"u_on", "u_off"}
    # q only: clk, rst and the input en are not the instance's own nets
    assert win["u_on"].bits == win["u_off"].bits == 8
    assert win["u_on"].toggles == 512 * 2 - 4  # 512 (2 - 1/128) = 1020
    assert toggle_rate(win["u_on"].toggles, 8, 512) == pytest.approx((2 - 1 / 128) / 8)
    assert win["u_off"].toggles == 0  # the idle instance
    assert by_module(win) == {"tcount": {"instances": 2, "bits": 16, "toggles": 1020}}


def test_coverage_build_has_its_own_key(tmp_path):
    """A coverage build is another binary: its key differs from the plain build's, and the
    plain key is unchanged by the coverage option's existence (cached builds stay valid)."""
    src = tmp_path / "toggle_pair.sv"
    src.write_text(COUNTER_SV)
    plain = sim._build_key("verilator", "toggle_pair", [src], {})
    cov = sim._build_key("verilator", "toggle_pair", [src], {}, sim.TOGGLE_COVERAGE)
    assert plain != cov
    assert plain == sim._build_key("verilator", "toggle_pair", [src], {}, [])
