"""rope_unit vs `accllm.numerics.contract.rope_int`, bit for bit, under back-pressure.

The cos/sin tables are `contract.rope_tables` of Llama-style inverse frequencies
(theta = 10000 and 500000), written through the table port. Vectors: whole head vectors at random
positions and at the table edges (0, 63, 64, the last position), components uniform over a
typical range and over all of int32 (rotations of extreme values saturate), each sent as HALF/8
beats of 8 rotate-half pairs (the chunks in shuffled order). Also checks that a position beyond
the table raises `pos_error`.
"""

from __future__ import annotations

import random

import cocotb
import numpy as np
import pytest
from cocotb.triggers import RisingEdge, with_timeout

from accllm.numerics import contract
from accllm.rtl_lib import sim
from accllm.rtl_lib.stream import StreamSink, StreamSource, clock_and_reset
from accllm.rtl_lib.tests.test_vector_unit import q15_words

I32 = (-(1 << 31), (1 << 31) - 1)


def _tables(half: int, max_pos: int, theta: float) -> contract.RopeTables:
    inv_freq = 1.0 / theta ** (np.arange(half, dtype=np.float64) / half)
    return contract.rope_tables(inv_freq, max_pos)


async def _load(dut, t: contract.RopeTables) -> None:
    for sel, table in enumerate((t.cos_lo, t.sin_lo, t.cos_hi, t.sin_hi)):
        for addr, v in enumerate(table.reshape(-1)):
            dut.tbl_we.value = 1
            dut.tbl_sel.value = sel
            dut.tbl_addr.value = addr
            dut.tbl_data.value = int(v) & 0xFFFF
            await RisingEdge(dut.clk)
    dut.tbl_we.value = 0


async def _setup(dut):
    dut.tbl_we.value = 0
    await clock_and_reset(dut)
    p = sim.test_parameters()
    return p["HALF"], p["MAX_POS"]


@cocotb.test()
async def rope_matches_contract(dut):
    """Every rotated pair equals the matching elements of contract.rope_int."""
    half, max_pos = await _setup(dut)
    top = 64 * ((max_pos + 63) // 64) - 1  # last position the tables cover
    for theta in (10000.0, 500000.0):
        tables = _tables(half, max_pos, theta)
        await _load(dut, tables)
        positions = [0, 1, 63, 64, 65, top] + [random.randint(0, top) for _ in range(10)]
        xs, beats, want = [], [], []
        for n, pos in enumerate(positions):
            lim = I32 if n % 3 == 0 else (-(1 << 22), 1 << 22)
            x = np.array([random.randint(*lim) for _ in range(2 * half)], dtype=np.int64)
            xs.append(x)
            y = contract.rope_int(x[None, None, :], np.array([pos]), tables)[0, 0]
            order = list(range(half // 8))
            random.shuffle(order)
            for j in order:
                lanes = slice(8 * j, 8 * j + 8)
                beats.append(
                    {
                        "s_pos": pos,
                        "s_chunk": j,
                        "s_x1": q15_words(x[lanes])[0],
                        "s_x2": q15_words(x[half:][lanes])[0],
                    }
                )
                want.append((q15_words(y[lanes])[0], q15_words(y[half:][lanes])[0], pos, j))
        src = StreamSource(dut, gap_prob=0.3)
        sink = StreamSink(dut, ["m_y1", "m_y2"], stall_prob=0.3)
        cocotb.start_soon(src.send(beats))
        got = await with_timeout(sink.collect(len(beats)), 100_000_000, "ns")
        for g, (y1, y2, pos, j) in zip(got, want, strict=True):
            assert (g["m_y1"], g["m_y2"]) == (y1, y2), f"theta {theta} pos {pos} chunk {j}"
    assert dut.pos_error.value == 0
    # One position past the tables: the contract rejects it, the hardware flags it.
    with pytest.raises(ValueError):
        contract.rope_cos_sin(np.array([top + 1]), tables)
    src = StreamSource(dut, gap_prob=0.0)
    sink = StreamSink(dut, ["m_y1"], stall_prob=0.0)
    cocotb.start_soon(src.send([{"s_pos": top + 1, "s_chunk": 0, "s_x1": 1, "s_x2": 1}]))
    await sink.collect(1)
    assert dut.pos_error.value == 1


@pytest.mark.rtl
def test_rope_unit_default():
    """Default parameters (head_dim 128, 4096 positions)."""
    sim.run_primitive("rope_unit", __file__)


@pytest.mark.rtl
def test_rope_unit_small():
    """head_dim 16, 200 positions (a partly used high table)."""
    sim.run_primitive("rope_unit", __file__, {"HALF": 8, "MAX_POS": 200})
