"""rmsnorm_unit vs `accllm.numerics.contract.rmsnorm_int`, bit for bit, under back-pressure.

Rows of whole words (8 elements per beat in and out; back to back, each ended by `s_last`,
gain_shift and eps_q changing per row): random lengths up to MAX_H; magnitudes from a few LSBs
(v tiny: negative k and a left-shifting output stage) through typical activations to the int32
extremes (per-row shift sh up to 17); gains from `contract.rmsnorm_params` of random gammas and
raw random int16 mantissas with small shifts (saturation); eps_q 0, typical and 2^32 - 1;
all-zero rows (v = eps term or 1), single-element rows (one word). A second build with MAX_H =
16 also checks the over-long-row cut and `row_overflow`.
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


def _row(h: int) -> tuple[list[int], list[int], int, int]:
    mag = random.choice([2, 1 << 8, 1 << 15, 1 << 16, 1 << 20, 1 << 24, 1 << 31])
    kind = random.random()
    if kind < 0.1:
        x = [0] * h
    elif kind < 0.2:
        x = [random.choice(I32) for _ in range(h)]
    else:
        x = [max(I32[0], min(I32[1], random.randint(-mag, mag))) for _ in range(h)]
    if random.random() < 0.6:
        gamma = np.random.default_rng(random.getrandbits(32)).normal(1.0, 0.3, size=h)
        eps = random.choice([1e-5, 1e-6])
        g, gsh, eps_q = contract.rmsnorm_params(gamma, eps)
        g = [int(v) for v in g]
    else:
        g = [random.randint(-(1 << 15), (1 << 15) - 1) for _ in range(h)]
        # Small shifts make the output step coarse relative to n: every rounding shows.
        gsh = random.choice([0, 0, 0, 1, 5, 15, 30, 47])
        eps_q = random.choice([0, 1, 42950, (1 << 32) - 1])
    return x, g, int(gsh), int(eps_q)


L = 8  # elements per beat


def _pack(vals: list[int], bits: int) -> int:
    mask = (1 << bits) - 1
    return sum((v & mask) << (bits * i) for i, v in enumerate(vals))


def _beats(rows) -> list[dict[str, int]]:
    beats = []
    for x, g, gsh, eps_q in rows:
        n = len(x) // L
        for k in range(n):
            beats.append(
                {
                    "s_data": _pack(x[L * k : L * k + L], 32),
                    "s_gain": _pack(g[L * k : L * k + L], 16),
                    "s_last": int(k == n - 1),
                    # Only the first beat's values count; later beats carry garbage on purpose.
                    "s_gain_shift": gsh if k == 0 else random.randint(0, 63),
                    "s_eps": eps_q if k == 0 else random.getrandbits(32),
                }
            )
    return beats


def _lanes(word: int) -> list[int]:
    vals = [(word >> (32 * i)) & 0xFFFFFFFF for i in range(L)]
    return [v - (1 << 32) if v >> 31 else v for v in vals]


def _check(got, rows) -> None:
    k = 0
    for r, (x, g, gsh, eps_q) in enumerate(rows):
        want = contract.rmsnorm_int(np.array([x], dtype=np.int64), np.array(g), gsh, eps_q)[0]
        n = len(x) // L
        row = got[k : k + n]
        k += n
        assert [v for w in row for v in _lanes(w["m_data"])] == [int(w) for w in want], (
            f"row {r} (H={len(x)}, gain_shift={gsh}, eps_q={eps_q}, x[:4]={x[:4]})"
        )
        assert [w["m_last"] for w in row] == [0] * (n - 1) + [1], f"row {r}: m_last"


@cocotb.test()
async def rmsnorm_rows_match_contract(dut):
    """Every output of every row equals contract.rmsnorm_int of that row."""
    max_h = sim.test_parameters()["MAX_H"]
    await clock_and_reset(dut)
    rows = [_row(L), _row(max_h)] + [
        _row(L * random.randint(1, min(max_h // L, 4))) for _ in range(150)
    ]
    random.shuffle(rows)
    src = StreamSource(dut, gap_prob=0.2)
    sink = StreamSink(dut, ["m_data", "m_last"], stall_prob=0.3)
    cocotb.start_soon(src.send(_beats(rows)))
    n = sum(len(r[0]) // L for r in rows)
    got = await with_timeout(sink.collect(n, 1_000_000), 100_000_000, "ns")
    _check(got, rows)
    assert dut.row_overflow.value == 0


@cocotb.test()
async def overlong_row_is_cut_and_flagged(dut):
    """MAX_H + 8 elements without s_last in time: the first MAX_H form a row, flag raised."""
    max_h = sim.test_parameters()["MAX_H"]
    await clock_and_reset(dut)
    x, g, gsh, eps_q = _row(max_h + L)
    beats = _beats([(x, g, gsh, eps_q)])
    w = max_h // L  # first beat of the 2nd row
    beats[w]["s_gain_shift"], beats[w]["s_eps"] = gsh, eps_q
    rows = [(x[:max_h], g[:max_h], gsh, eps_q), (x[max_h:], g[max_h:], gsh, eps_q)]
    src = StreamSource(dut, gap_prob=0.2)
    sink = StreamSink(dut, ["m_data", "m_last"], stall_prob=0.3)
    cocotb.start_soon(src.send(beats))
    got = await with_timeout(sink.collect(w + 1, 100_000), 10_000_000, "ns")
    await RisingEdge(dut.clk)
    _check(got, rows)
    assert dut.row_overflow.value == 1


@pytest.mark.rtl
def test_rmsnorm_unit_default():
    """Default parameters (rows up to 4096)."""
    sim.run_primitive("rmsnorm_unit", __file__, testcase="rmsnorm_rows_match_contract")


@pytest.mark.rtl
def test_rmsnorm_unit_small():
    """MAX_H = 16: many full rows and the over-long row."""
    sim.run_primitive("rmsnorm_unit", __file__, {"MAX_H": 16})
