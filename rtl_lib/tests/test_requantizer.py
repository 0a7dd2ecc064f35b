"""requantizer vs `accllm.numerics.contract.requantize`, bit for bit, under back-pressure.

Vectors: uniform random int32 accumulators, 16-bit multipliers and shifts in [0, 47], plus the
edges (extreme accumulators, multiplier 0 and 2^16-1, shift 0, 1 and 47, exact rounding ties) that
exercise saturation at both ends and the half-toward-+infinity tie rule.
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


def _vectors(n: int, acc_w: int, mul_w: int) -> list[tuple[int, int, int]]:
    lo, hi = -(1 << (acc_w - 1)), (1 << (acc_w - 1)) - 1
    edges_acc = [lo, hi, 0, -1, 1, 127, -128, 1 << 20, -(1 << 20)]
    edges_mul = [0, 1, (1 << mul_w) - 1, 1 << (mul_w - 1)]
    edges_sh = [0, 1, 2, 15, 16, 31, 46, 47]
    vecs = [(a, m, s) for a in edges_acc for m in edges_mul for s in edges_sh]
    # Exact ties: acc * mult = (2k + 1) * 2^(s-1) must round up (toward +infinity), also if < 0.
    for s in range(1, 12):
        for k in (-3, -2, -1, 0, 1, 2):
            vecs.append(((2 * k + 1) << (s - 1), 1, s))
    for _ in range(n):
        vecs.append(
            (random.randint(lo, hi), random.randint(0, (1 << mul_w) - 1), random.randint(0, 47))
        )
    random.shuffle(vecs)
    return vecs


@cocotb.test()
async def requantize_matches_contract(dut):
    """Every lane of every output beat equals contract.requantize of its input."""
    p = sim.test_parameters()
    lanes, acc_w, mul_w, sh_w, out_w = (
        p[k] for k in ("LANES", "ACC_W", "MUL_W", "SHIFT_W", "OUT_W")
    )
    await clock_and_reset(dut)
    vecs = _vectors(1200, acc_w, mul_w)
    vecs += vecs[: (-len(vecs)) % lanes]  # whole beats
    beats = [vecs[i : i + lanes] for i in range(0, len(vecs), lanes)]
    src = StreamSource(dut, gap_prob=0.3)
    sink = StreamSink(dut, ["m_data"], stall_prob=0.3)
    cocotb.start_soon(
        src.send(
            [
                {
                    "s_acc": pack([v[0] for v in b], acc_w),
                    "s_mult": pack([v[1] for v in b], mul_w),
                    "s_shift": pack([v[2] for v in b], sh_w),
                }
                for b in beats
            ]
        )
    )
    got = await with_timeout(sink.collect(len(beats)), 2_000_000, "ns")
    acc, mult, shift = (np.array([v[i] for v in vecs], dtype=np.int64) for i in range(3))
    want = contract.requantize(acc, mult, shift, out_w).reshape(len(beats), lanes)
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        lanes_got = unpack(g["m_data"], out_w, lanes, signed=True)
        assert lanes_got == [int(x) for x in w], f"beat {i} inputs {beats[i]}: {lanes_got} != {w}"


@pytest.mark.rtl
def test_requantizer_default():
    """Default parameters (4 lanes, int32 x u16 -> int8)."""
    sim.run_primitive("requantizer", __file__)


@pytest.mark.rtl
def test_requantizer_wide_output():
    """One lane, 16-bit output: saturation bounds follow OUT_W."""
    sim.run_primitive("requantizer", __file__, {"LANES": 1, "OUT_W": 16})
