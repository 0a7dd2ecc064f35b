"""stream_demux: a tagged stream with random valid gaps to NU ports, each under its own random
back-pressure; every port must receive exactly the beats tagged with its index, in order, and a
beat with a tag >= NU must be dropped with `err` raised."""

from __future__ import annotations

import random

import cocotb
import pytest
from cocotb.triggers import ReadOnly, RisingEdge

from accllm.rtl_lib import sim
from accllm.rtl_lib.stream import StreamSource, clock_and_reset


async def _ports(dut, nu: int, got: list[list[int]], stall: list[float]) -> None:
    """Each port u takes beats with probability 1 - stall[u] per cycle."""
    while True:
        dut.m_ready.value = sum(int(random.random() >= stall[u]) << u for u in range(nu))
        await ReadOnly()
        valid, ready = int(dut.m_valid.value), int(dut.m_ready.value)
        assert valid & (valid - 1) == 0, f"more than one port valid: {valid:b}"
        for u in range(nu):
            if valid >> u & 1 and ready >> u & 1:
                got[u].append(int(dut.m_data.value))
        await RisingEdge(dut.clk)


@cocotb.test()
async def routes_by_tag(dut):
    p = sim.test_parameters()
    nu, dw = p["NU"], p["DATA_W"]
    await clock_and_reset(dut)
    got: list[list[int]] = [[] for _ in range(nu)]
    stall = [random.choice([0.0, 0.3, 0.8]) for _ in range(nu)]
    cocotb.start_soon(_ports(dut, nu, got, stall))
    beats = [(random.randrange(nu), random.getrandbits(dw)) for _ in range(600)]
    # long runs for one port as well as interleaving
    beats += [(nu - 1, random.getrandbits(dw)) for _ in range(50)]
    src = StreamSource(dut, gap_prob=0.3)
    await src.send([{"s_tag": t, "s_data": d} for t, d in beats])
    for _ in range(5):
        await RisingEdge(dut.clk)
    for u in range(nu):
        assert got[u] == [d for t, d in beats if t == u], f"port {u}"
    assert dut.err.value == 0
    if nu < 1 << p["TAG_W"]:
        await src.send([{"s_tag": nu, "s_data": 1}, {"s_tag": 0, "s_data": 2}])
        await RisingEdge(dut.clk)
        assert dut.err.value == 1
        assert got[0][-1] == 2 and all(1 not in g[-1:] for g in got[1:])


@pytest.mark.rtl
def test_stream_demux_default():
    """u280 width, 4 ports (tags 0..3 of 16: the bad-tag path is exercised)."""
    sim.run_primitive("stream_demux", __file__)
