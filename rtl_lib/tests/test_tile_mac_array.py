"""tile_mac_array vs `contract.sparse_group_mac` (W2 2:4) and an int8 dot product, bit for bit.

Rows of random 2:4 codes, patterns, zero points and 16-bit group mantissas for every lane (G = 32
and 64), and random int8 rows, are fed as beats in the order the stream unit feeds them: for each
beat position, the beat of every token of the tile in consecutive beats (`s_tok` = 0..T-1), with
random valid gaps, while the output side applies random back-pressure. Every token's row result
(`m_tok`, the LANES accumulators) must equal the reference.
"""

from __future__ import annotations

import random

import cocotb
import numpy as np
from cocotb.triggers import with_timeout

from accllm.numerics import contract as ct
from accllm.rtl_lib import sim
from accllm.rtl_lib.stream import StreamSink, StreamSource, clock_and_reset, pack, unpack


def w2_row_beats(rng, lanes, blocks, tokens, k, group):
    """Beats of one W2 row per lane and the expected accumulators [tokens][lanes]."""
    pats = rng.integers(0, 6, size=(lanes, k // 4))
    codes = rng.integers(0, 4, size=(lanes, k // 4, 2))
    zp = rng.integers(0, 4, size=(lanes, k // group))
    mant = rng.integers(1, 1 << 16, size=(lanes, k // group))
    x = rng.integers(-127, 128, size=(tokens, k))
    want = ct.sparse_group_mac(x, codes, pats, zp, mant, group)  # [T, lanes]
    blk = pats | codes[..., 0] << 3 | codes[..., 1] << 5
    beats = []
    nb = k // (4 * blocks)
    for b in range(nb):
        g = (4 * blocks * b) // group
        glast = (4 * blocks * (b + 1)) % group == 0
        w = pack([pack(blk[lane, blocks * b : blocks * (b + 1)], 7) for lane in range(lanes)], 32)
        for t in range(tokens):
            beats.append(
                {
                    "s_i8": 0,
                    "s_tok": t,
                    "s_act": pack(x[t, 4 * blocks * b : 4 * blocks * (b + 1)], 8),
                    "s_w": w,
                    "s_zero": pack(zp[:, g], 2),
                    "s_scale": pack(mant[:, g], 16),
                    "s_group_last": int(glast),
                    "s_row_last": int(b == nb - 1),
                }
            )
    return beats, want


def int8_row_beats(rng, lanes, p8, tokens, k):
    w = rng.integers(-127, 128, size=(lanes, k))
    x = rng.integers(-127, 128, size=(tokens, k))
    want = x @ w.T
    beats = []
    for b in range(k // p8):
        for t in range(tokens):
            beats.append(
                {
                    "s_i8": 1,
                    "s_tok": t,
                    "s_act": pack(x[t, p8 * b : p8 * (b + 1)], 8),
                    "s_w": pack(
                        [pack(w[lane, p8 * b : p8 * (b + 1)], 8) for lane in range(lanes)], 32
                    ),
                    "s_zero": 0,
                    "s_scale": 0,
                    "s_group_last": 0,
                    "s_row_last": int(b == k // p8 - 1),
                }
            )
    return beats, want


@cocotb.test()
async def tile_mac_matches_the_contract(dut):
    p = sim.test_parameters()
    lanes, blocks, p8, tok = p["LANES"], p["BLOCKS"], p["P8"], p["TOK"]
    rng = np.random.default_rng(random.randrange(1 << 30))
    rows = [w2_row_beats(rng, lanes, blocks, tok, 128, 32)]
    rows.append(w2_row_beats(rng, lanes, blocks, 1, 128, 64))
    rows.append(int8_row_beats(rng, lanes, p8, tok - 1, 64))
    rows.append(w2_row_beats(rng, lanes, blocks, 2, 192, 64))
    beats = [b for r, _ in rows for b in r]
    want = [(t, list(w[t])) for _, w in rows for t in range(w.shape[0])]
    await clock_and_reset(dut)
    src = StreamSource(dut, gap_prob=0.3)
    sink = StreamSink(dut, ["m_tok", "m_acc"], stall_prob=0.3)
    cocotb.start_soon(src.send(beats))
    got = await with_timeout(sink.collect(len(want)), 1_000_000, "ns")
    for i, (g, (t, w)) in enumerate(zip(got, want, strict=True)):
        assert g["m_tok"] == t, f"result {i}: token {g['m_tok']}, expected {t}"
        assert unpack(g["m_acc"], 48, lanes, signed=True) == [int(v) for v in w], f"result {i}"


def test_tile_mac_array():
    sim.run_primitive("tile_mac_array", __file__, {"LANES": 3})
