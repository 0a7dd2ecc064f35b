"""stream_fifo: random valid gaps and back-pressure (including long stalls that fill it to DEPTH)
must pass every entry in order; s_ready must fall exactly when the RAM holds DEPTH entries;
`count` must equal the entries written minus those read; with both sides always ready it must
pass one entry per cycle after its 3-cycle latency."""

from __future__ import annotations

import random

import cocotb
import pytest
from cocotb.triggers import ReadOnly, RisingEdge

from accllm.rtl_lib import sim
from accllm.rtl_lib.stream import clock_and_reset


async def _drive(dut, n: int, in_prob: float, out_prob, checks: bool = True) -> tuple[list, int]:
    """Offer n random entries (valid with in_prob per cycle), pop with out_prob(cycle)."""
    width = sim.test_parameters()["WIDTH"]
    data = [random.getrandbits(width) for _ in range(n)]
    sent, got, held, cycle = 0, [], 0, 0
    while len(got) < n:
        offer = sent < n and random.random() < in_prob
        dut.s_valid.value = int(offer)
        if offer:
            dut.s_data.value = data[sent]
        dut.m_ready.value = int(random.random() < out_prob(cycle))
        await ReadOnly()
        if checks:
            assert int(dut.count.value) == held, f"count {int(dut.count.value)} != {held}"
        if offer and dut.s_ready.value == 1:
            sent += 1
            held += 1
        if dut.m_valid.value == 1 and dut.m_ready.value == 1:
            got.append(int(dut.m_data.value))
            held -= 1
        await RisingEdge(dut.clk)
        cycle += 1
        assert cycle < 100 * n + 1000, "stalled"
    dut.s_valid.value = 0
    dut.m_ready.value = 0
    assert got == data
    return got, cycle


@cocotb.test()
async def random_gaps_and_backpressure(dut):
    depth = sim.test_parameters()["DEPTH"]
    await clock_and_reset(dut)
    await _drive(dut, 6 * depth, 0.7, lambda c: 0.6)
    # a consumer that stalls for a long stretch: the FIFO fills up to DEPTH (+ buffer) entries
    await _drive(dut, 3 * depth, 0.9, lambda c: 0.0 if c < 3 * depth else 0.5)


@cocotb.test()
async def fills_to_depth(dut):
    depth = sim.test_parameters()["DEPTH"]
    await clock_and_reset(dut)
    dut.m_ready.value = 0
    dut.s_valid.value = 1
    accepted = 0
    for _ in range(depth + 10):
        dut.s_data.value = accepted
        await ReadOnly()
        accepted += int(dut.s_ready.value)
        await RisingEdge(dut.clk)
    dut.s_valid.value = 0
    # the RAM holds DEPTH entries, the output buffer 2 more
    assert accepted == depth + 2, accepted
    assert int(dut.count.value) == depth + 2


@cocotb.test()
async def one_entry_per_cycle(dut):
    await clock_and_reset(dut)
    n = 200
    _, cycles = await _drive(dut, n, 1.0, lambda c: 1.0)
    assert cycles <= n + 3, f"{n} entries took {cycles} cycles"


@pytest.mark.rtl
def test_stream_fifo_small():
    """A 16-entry FIFO of 64-bit entries: every fill level is reached many times."""
    sim.run_primitive("stream_fifo", __file__, {"WIDTH": 64, "DEPTH": 16})
