"""sparse_mac_array vs `accllm.numerics.contract.sparse_group_mac`, bit for bit.

For each group size G in {32, 64, 128} a random 2:4 W2 matrix (codes, patterns, zero points,
16-bit group-scale mantissas) and int8 activations are streamed row by row (LANES output channels
per pass, BLOCKS blocks per beat, group/row ends marked by flags) with random valid gaps and
back-pressure; every accumulator must equal the contract's. An extreme case (|x| = 128/127,
codes - z = +-3, S = 2^16 - 1) drives the accumulator beyond 32 bits in both signs.
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


def _beats(x, codes, patterns, zp, scale, group, lanes, blocks):
    """Input beats for every (token, chunk of LANES output channels), in that order."""
    t_count, k = x.shape
    n = patterns.shape[0]
    per_beat = 4 * blocks
    beats = []
    for t in range(t_count):
        for o0 in range(0, n, lanes):
            rows = range(o0, o0 + lanes)
            for kb in range(k // per_beat):
                b0, g = kb * blocks, (kb * per_beat) // group
                blk = [(o, b) for o in rows for b in range(b0, b0 + blocks)]
                beats.append(
                    {
                        "s_act": pack(x[t, kb * per_beat : (kb + 1) * per_beat], 8),
                        "s_pattern": pack([patterns[o, b] for o, b in blk], 3),
                        "s_code_lo": pack([codes[o, b, 0] for o, b in blk], 2),
                        "s_code_hi": pack([codes[o, b, 1] for o, b in blk], 2),
                        "s_zero": pack([zp[o, g] for o in rows], 2),
                        "s_scale": pack([scale[o, g] for o in rows], 16),
                        "s_group_last": int(((kb + 1) * per_beat) % group == 0),
                        "s_row_last": int(kb == k // per_beat - 1),
                    }
                )
    return beats


async def _check(dut, x, codes, patterns, zp, scale, group):
    p = sim.test_parameters()
    lanes, blocks, acc_w = p["LANES"], p["BLOCKS"], p["ACC_W"]
    beats = _beats(x, codes, patterns, zp, scale, group, lanes, blocks)
    src = StreamSource(dut, gap_prob=0.2)
    sink = StreamSink(dut, ["m_acc"], stall_prob=0.3)
    n_out = x.shape[0] * patterns.shape[0] // lanes
    cocotb.start_soon(src.send(beats))
    got = await with_timeout(sink.collect(n_out), 5_000_000, "ns")
    got_acc = [v for b in got for v in unpack(b["m_acc"], acc_w, lanes, signed=True)]
    want = contract.sparse_group_mac(x, codes, patterns, zp, scale, group)
    got_acc = np.array(got_acc).reshape(want.shape)
    bad = np.argwhere(got_acc != want)[:3]
    assert not len(bad), f"G={group}: mismatches at [t, o] {bad.tolist()}"


@cocotb.test()
async def random_groups_match_contract(dut):
    p = sim.test_parameters()
    lanes = p["LANES"]
    await clock_and_reset(dut)
    rng = np.random.default_rng(random.getrandbits(32))
    for group in (32, 64, 128):
        k, n, t = 256, 2 * lanes, 2
        x = rng.integers(-127, 128, size=(t, k))
        patterns = rng.integers(0, 6, size=(n, k // 4))
        codes = rng.integers(0, 4, size=(n, k // 4, 2))
        zp = rng.integers(0, 4, size=(n, k // group))
        scale = rng.integers(0, 1 << 16, size=(n, k // group))
        await _check(dut, x, codes, patterns, zp, scale, group)


@cocotb.test()
async def extreme_accumulator(dut):
    """All products at +-3 * 128 and S = 65535: |acc| > 2^31 in both signs."""
    p = sim.test_parameters()
    lanes = p["LANES"]
    await clock_and_reset(dut)
    k, group = 512, 128
    x = np.stack([np.full(k, 127), np.full(k, -128)])
    patterns = np.tile(np.arange(6), (lanes, k // 4 // 6 + 1))[:, : k // 4]
    codes = np.zeros((lanes, k // 4, 2), dtype=np.int64)
    zp = np.zeros((lanes, k // group), dtype=np.int64)
    codes[0::2] = 3  # code - z = +3
    zp[1::2] = 3  # code - z = -3
    scale = np.full((lanes, k // group), (1 << 16) - 1)
    want = contract.sparse_group_mac(x, codes, patterns, zp, scale, group)
    assert np.abs(want).max() > 1 << 31  # the case is as extreme as claimed
    await _check(dut, x, codes, patterns, zp, scale, group)


@pytest.mark.rtl
def test_sparse_mac_array_default():
    """4 lanes x 4 blocks per beat."""
    sim.run_primitive("sparse_mac_array", __file__)


@pytest.mark.rtl
def test_sparse_mac_array_one_block():
    """1 lane, 1 block per beat: every beat of a G=32 group is its own adder-tree input."""
    sim.run_primitive("sparse_mac_array", __file__, {"LANES": 1, "BLOCKS": 1})
