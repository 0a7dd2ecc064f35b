"""lane_fifo against a Python deque: random pushes (random gaps) and pops (random back-pressure).

Every cycle the test pushes a random word with probability 0.6 when not full and pops with
probability 0.5 when not empty (both in the same cycle too); the combinational head must always
equal the deque's head, `count`/`empty`/`full` its length, and a `flush` mid-run must empty it.
"""

from __future__ import annotations

import random
from collections import deque

import cocotb
from cocotb.triggers import ReadOnly, RisingEdge

from accllm.rtl_lib import sim
from accllm.rtl_lib.stream import clock_and_reset


@cocotb.test()
async def lane_fifo_matches_a_deque(dut):
    p = sim.test_parameters()
    width, depth = p["W"], p["DEPTH"]
    model: deque[int] = deque()
    dut.push.value = 0
    dut.pop.value = 0
    dut.flush.value = 0
    dut.wdata.value = 0
    await clock_and_reset(dut)
    pushed = popped = 0
    for cycle in range(3000):
        flush = cycle == 1500
        push = not flush and len(model) < depth and random.random() < 0.6
        pop = not flush and len(model) > 0 and random.random() < 0.5
        word = random.getrandbits(width)
        dut.push.value, dut.pop.value, dut.flush.value = int(push), int(pop), int(flush)
        dut.wdata.value = word
        await ReadOnly()
        assert int(dut.count.value) == len(model), f"cycle {cycle}: count"
        assert int(dut.empty.value) == (len(model) == 0)
        assert int(dut.full.value) == (len(model) == depth)
        if model:
            assert int(dut.head.value) == model[0], f"cycle {cycle}: head"
        await RisingEdge(dut.clk)
        if flush:
            model.clear()
            continue
        if pop:
            model.popleft()
            popped += 1
        if push:
            model.append(word)
            pushed += 1
    assert pushed > 1000 and popped > 1000


def test_lane_fifo():
    sim.run_primitive("lane_fifo", __file__, {"W": 40, "DEPTH": 8})
