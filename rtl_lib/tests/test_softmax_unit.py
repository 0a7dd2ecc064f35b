"""softmax_unit vs `accllm.numerics.contract.softmax_int`, bit for bit, under back-pressure.

Rows (back to back, each ended by `s_last`): random lengths from 1 to MAX_N, logits with a small
spread (every term counts), a large spread (most terms underflow) and the full int32 range,
random visibility masks plus the edges: a single element, all invisible (all zeros out), all
equal, the maximum first or last, differences exactly at the underflow boundary (n = 20 and 21)
and at every LUT fraction extreme. A second build with MAX_N = 16 checks that an over-long row is
cut at MAX_N and raises `row_overflow`.
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

I32 = (-(1 << 31), (1 << 31) - 1)


def _row(n: int, kind: str) -> tuple[list[int], list[int]]:
    vis = [int(random.random() < 0.8) for _ in range(n)]
    if kind == "small":
        s = [random.randint(-(1 << 13), 1 << 13) for _ in range(n)]
    elif kind == "large":
        s = [random.randint(-(1 << 16), 1 << 16) for _ in range(n)]
    elif kind == "full":
        s = [random.randint(*I32) for _ in range(n)]
    elif kind == "boundary":  # d = m - s straddles n = 20 / 21 and the fraction extremes
        m = random.randint(-(1 << 20), 1 << 20)
        ds = [0, 1, 1023, 1024, 20 * 1024 - 1, 20 * 1024, 21 * 1024 - 1, 21 * 1024, 21 * 1024 + 1]
        s = [m - random.choice(ds) for _ in range(n)]
        s[0] = m
        vis[0] = 1
    elif kind == "hidden":
        s = [random.randint(*I32) for _ in range(n)]
        vis = [0] * n
    elif kind == "equal":
        s = [random.randint(*I32)] * n
        vis = [1] * n
    else:  # "extremes": the widest difference the 32-bit input allows
        s = [random.choice(I32) for _ in range(n)]
    return s, vis


def _rows(max_n: int) -> list[tuple[list[int], list[int]]]:
    rows = [_row(1, "small"), _row(1, "hidden"), _row(min(5, max_n), "equal")]
    rows += [_row(max_n, "small"), _row(max_n, "boundary")]
    for kind in ("small", "large", "full", "boundary", "hidden", "equal", "extremes"):
        for _ in range(2):
            rows.append(_row(random.randint(1, min(max_n, 64)), kind))
    s, v = _row(min(max_n, 40), "small")
    s[-1] = max(s) + 1  # maximum last
    v[-1] = 1
    rows.append((s, v))
    random.shuffle(rows)
    return rows


def _beats(rows) -> list[dict[str, int]]:
    beats = []
    for s, v in rows:
        for k, (x, vis) in enumerate(zip(s, v, strict=True)):
            beats.append({"s_data": x & 0xFFFFFFFF, "s_vis": vis, "s_last": int(k == len(s) - 1)})
    return beats


def _check(got, rows) -> None:
    k = 0
    for r, (s, v) in enumerate(rows):
        want = contract.softmax_int(np.array([s], dtype=np.int64), np.array([v], dtype=bool))[0]
        row = got[k : k + len(s)]
        k += len(s)
        assert [g["m_data"] for g in row] == [int(w) for w in want], f"row {r} ({len(s)} long)"
        assert [g["m_last"] for g in row] == [0] * (len(s) - 1) + [1], f"row {r}: m_last"


@cocotb.test()
async def softmax_rows_match_contract(dut):
    """Every probability of every row equals contract.softmax_int of that row."""
    max_n = sim.test_parameters()["MAX_N"]
    await clock_and_reset(dut)
    rows = _rows(max_n)
    src = StreamSource(dut, gap_prob=0.2)
    sink = StreamSink(dut, ["m_data", "m_last"], stall_prob=0.3)
    cocotb.start_soon(src.send(_beats(rows)))
    n = sum(len(s) for s, _ in rows)
    got = await with_timeout(sink.collect(n, 1_000_000), 100_000_000, "ns")
    _check(got, rows)
    assert dut.row_overflow.value == 0


@cocotb.test()
async def overlong_row_is_cut_and_flagged(dut):
    """MAX_N + 3 elements without s_last in time: the first MAX_N form a row, flag raised."""
    max_n = sim.test_parameters()["MAX_N"]
    await clock_and_reset(dut)
    s, v = _row(max_n + 3, "small")
    beats = _beats([(s, v)])
    rows = [(s[:max_n], v[:max_n]), (s[max_n:], v[max_n:])]
    src = StreamSource(dut, gap_prob=0.2)
    sink = StreamSink(dut, ["m_data", "m_last"], stall_prob=0.3)
    cocotb.start_soon(src.send(beats))
    got = await with_timeout(sink.collect(max_n + 3, 100_000), 10_000_000, "ns")
    await RisingEdge(dut.clk)
    _check(got, rows)
    assert dut.row_overflow.value == 1


@pytest.mark.rtl
def test_softmax_unit_default():
    """Default parameters (rows up to 1024 = S + W)."""
    sim.run_primitive("softmax_unit", __file__, testcase="softmax_rows_match_contract")


@pytest.mark.rtl
def test_softmax_unit_small():
    """MAX_N = 16: many full rows and the over-long row."""
    sim.run_primitive("softmax_unit", __file__, {"MAX_N": 16})
