"""rope_cmd_unit vs `contract.rope_int` (the golden model's RoPE), bit for bit.

Tables: `contract.rope_tables(contract.rope_inv_freq(theta, head_dim), MAX_POS)` written through
the unit's table port; descriptors from `accel_program_vector.rope_descriptor`; Q15.16 rows in
the modelled activation buffer of `test_vector_unit`. Cases (HALF = 8: the tiny model's
head_dim 16): a 12-token prefill of 4 heads at position 0, then 3 decode tokens of 2 heads at
the position register (70, 71, 4000: the high table), full-range rows (saturation); a second
build with HALF = 16 (two chunks per half head). Checked: every output word, nothing written
outside the output, no `err`, and the cycles against the estimator's rule (`cost.rope_cycles`).
"""

from __future__ import annotations

import random

import cocotb
import numpy as np
import pytest
from cocotb.triggers import RisingEdge

from accllm.backend import accel_program_vector as apv
from accllm.backend.perf import cost
from accllm.numerics import contract as ct
from accllm.rtl_lib import sim
from accllm.rtl_lib.stream import UnitMemories, clock_and_reset, run_command
from accllm.rtl_lib.tests.test_vector_unit import q15_words, random_rows


async def load_tables(dut, tables: ct.RopeTables, half: int) -> None:
    dut.tbl_we.value = 1
    for sel, t in enumerate((tables.cos_lo, tables.sin_lo, tables.cos_hi, tables.sin_hi)):
        for r, row in enumerate(t):
            for i, v in enumerate(row):
                dut.tbl_sel.value = sel
                dut.tbl_addr.value = r * half + i
                dut.tbl_data.value = int(v) & 0xFFFF
                await RisingEdge(dut.clk)
    dut.tbl_we.value = 0


@cocotb.test()
async def rope_rows_match_the_contract(dut):
    p = sim.test_parameters()
    half, hd = p["HALF"], 2 * p["HALF"]
    rng = np.random.default_rng(random.randrange(1 << 30))
    dut.cmd_valid.value = 0
    dut.cmd_payload.value = 0
    dut.tbl_we.value = 0
    dut.pos.value = 0
    mems = UnitMemories(dut)
    cocotb.start_soon(mems.run())
    await clock_and_reset(dut)
    tables = ct.rope_tables(ct.rope_inv_freq(10000.0, hd), p["MAX_POS"])
    await load_tables(dut, tables, half)
    nxt, cycles = 0, []
    cases = [(12, 4, 0, None), (1, 2, 70, 70), (1, 2, 71, 71), (1, 2, 4000, 4000)]
    for idx, (tokens, heads, start, reg) in enumerate(cases):
        x = random_rows(rng, tokens, heads * hd)
        words = len(q15_words(x))
        x_base, o_base = nxt, nxt + words
        nxt = o_base + words
        for i, w in enumerate(q15_words(x)):
            mems.act[x_base + i] = w
        d = apv.rope_descriptor(
            x_base=x_base,
            o_base=o_base,
            length=heads * hd,
            head_dim=hd,
            tokens=tokens,
            position=None if reg is not None else start,
        )
        mems.desc[idx] = d.pack()
        mems.written.clear()
        dut.pos.value = reg or 0
        n = await run_command(dut, idx)
        cycles.append((tokens, heads, n))
        assert not int(dut.err.value), "rope_cmd_unit raised err"
        assert mems.written <= set(range(o_base, o_base + words))
        pos = start + np.arange(tokens)
        want = q15_words(ct.rope_int(x.reshape(tokens, heads, hd), pos, tables))
        got = [mems.act.get(o_base + i, 0) for i in range(words)]
        bad = [i for i in range(words) if got[i] != want[i]]
        assert not bad, f"rope case {idx}: {len(bad)} of {words} words differ, first {bad[0]}"
    for tokens, heads, n in cycles:
        want_n = cost.rope_cycles(tokens, heads * hd)
        dut._log.info(f"rope_cmd_unit T={tokens} heads={heads} hd={hd}: {n} cycles (rule {want_n})")
        assert n == want_n, f"T={tokens} heads={heads}: {n} cycles, the rule says {want_n}"


@pytest.mark.rtl
def test_rope_cmd_unit():
    sim.run_primitive("rope_cmd_unit", __file__, {"HALF": 8})


@pytest.mark.rtl
def test_rope_cmd_unit_two_chunks():
    """head_dim 32: two chunks of 8 pairs per half head (rounds within a head)."""
    sim.run_primitive("rope_cmd_unit", __file__, {"HALF": 16})
