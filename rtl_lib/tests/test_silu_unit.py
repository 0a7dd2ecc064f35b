"""silu_unit vs `accllm.numerics.contract.silu_int`, bit for bit, under back-pressure.

Vectors: uniform random Q15.16 values over the sigmoid table range [-20, 20] and over all of
int32, plus the edges: int32 extremes, 0 and +-1 LSB, both ends of the table (-16 and 16 and one
LSB either side), table grid points (multiples of 2^11 around them) and interpolation rounding
ties.
"""

from __future__ import annotations

import random

import cocotb
import numpy as np
import pytest
from cocotb.triggers import with_timeout

from accllm.numerics import contract
from accllm.rtl_lib import sim
from accllm.rtl_lib.stream import StreamSink, StreamSource, clock_and_reset, pack, unpack

ONE = 1 << 16


def _vectors(n: int) -> list[int]:
    edges = [-(1 << 31), (1 << 31) - 1, 0, 1, -1, ONE, -ONE]
    for b in (-16 * ONE, 16 * ONE):
        edges += [b + d for d in (-2049, -2048, -1025, -1024, -1, 0, 1, 1023, 1024, 2047)]
    edges += [k << 11 for k in range(-600, 600, 37)]  # grid points
    edges += [(k << 11) + 1024 for k in range(-500, 500, 41)]  # half-way between grid points
    vecs = edges + [random.randint(-20 * ONE, 20 * ONE) for _ in range(n)]
    vecs += [random.randint(-(1 << 31), (1 << 31) - 1) for _ in range(n // 4)]
    random.shuffle(vecs)
    return vecs


@cocotb.test()
async def silu_matches_contract(dut):
    """Every lane of every output beat equals contract.silu_int of its input."""
    lanes = sim.test_parameters()["LANES"]
    await clock_and_reset(dut)
    vecs = _vectors(2000)
    vecs += vecs[: (-len(vecs)) % lanes]
    beats = [vecs[i : i + lanes] for i in range(0, len(vecs), lanes)]
    src = StreamSource(dut, gap_prob=0.3)
    sink = StreamSink(dut, ["m_data"], stall_prob=0.3)
    cocotb.start_soon(src.send([{"s_data": pack(b, 32)} for b in beats]))
    got = await with_timeout(sink.collect(len(beats)), 10_000_000, "ns")
    want = contract.silu_int(np.array(vecs, dtype=np.int64)).reshape(len(beats), lanes)
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        lanes_got = unpack(g["m_data"], 32, lanes, signed=True)
        assert lanes_got == [int(v) for v in w], f"beat {i} x={beats[i]}: {lanes_got} != {w}"


@pytest.mark.rtl
def test_silu_unit_default():
    """Default parameters (2 lanes)."""
    sim.run_primitive("silu_unit", __file__)


@pytest.mark.rtl
def test_silu_unit_one_lane():
    """One lane."""
    sim.run_primitive("silu_unit", __file__, {"LANES": 1})
