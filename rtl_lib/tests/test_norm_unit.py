"""norm_unit vs the golden model's RMSNorm block, bit for bit.

Descriptors and the HBM gain table come from `accllm.backend.accel_program_vector`
(`norm_descriptor`, `norm_gain_image`), the gains from `contract.rmsnorm_params` of a random
gamma; the table is served by the behavioural HBM model (`accllm.backend.sim.hbm`: latency and
bandwidth, so the gain stream has valid gaps); Q15.16 rows sit in a modelled activation buffer
(`rtl_lib.stream.UnitMemories`). Expected: `golden.rmsnorm_block`. Checked: every output word,
nothing written outside the output rows, no `err`; then the cycles of each command's rows
against the estimator's rule (`cost.norm_row_cycles`; the gain table's fill depends on the
behavioural HBM and is counted from the unit's `g_*` handshake instead).

Cases: the tiny model's shape (12 tokens of H = 64, at the sim target's 0.25 words per cycle),
then H = 136 (a half-filled last gain word, a different gain shift and eps) at full bandwidth,
with per-token magnitudes from 0 (an all-zero row: eps alone) to 2^31 (the per-row shift sh).
"""

from __future__ import annotations

import random

import cocotb
import numpy as np
import pytest
from cocotb.triggers import ReadOnly, RisingEdge

from accllm.backend import accel_program_vector as apv
from accllm.backend import tiling
from accllm.backend.perf import cost
from accllm.backend.sim import hbm
from accllm.numerics import contract as ct
from accllm.numerics import golden
from accllm.numerics.compress import NormParams
from accllm.rtl_lib import sim
from accllm.rtl_lib.stream import UnitMemories, clock_and_reset, run_command
from accllm.rtl_lib.tests.test_vector_unit import q15_words, random_rows

PORTS = hbm.Ports(
    "g_cmd_valid", "g_cmd_ready", "g_cmd_addr", "g_cmd_len", "g_valid", "g_ready", "g_data"
)


async def count_gain_cycles(dut, counter: list[int]) -> None:
    """Cycles in S_GCMD or S_GLOAD (the gain table's command and stream): counter[0]."""
    while True:
        await ReadOnly()
        if int(dut.g_cmd_valid.value) or int(dut.g_ready.value):
            counter[0] += 1
        await RisingEdge(dut.clk)


@cocotb.test()
async def rmsnorm_rows_match_the_golden_block(dut):
    rng = np.random.default_rng(random.randrange(1 << 30))
    dut.cmd_valid.value = 0
    dut.cmd_payload.value = 0
    mems = UnitMemories(dut)
    cocotb.start_soon(mems.run())
    chan = hbm.HbmChannel(PORTS, {}, latency=8, words_per_cycle=0.25)
    cocotb.start_soon(hbm.serve(dut, dut.clk, [chan]))
    await clock_and_reset(dut)
    gain_cycles = [0]
    cocotb.start_soon(count_gain_cycles(dut, gain_cycles))
    next_word, gain_word, cycles = 0, 100, []
    cases = [(12, 64, 1e-5, 0.25, 1.0), (5, 136, 1e-2, 1.0, 0.05)]
    for idx, (tokens, length, eps, bandwidth, gscale) in enumerate(cases):
        chan.words_per_cycle = bandwidth
        gq, gsh, eps_q = ct.rmsnorm_params(rng.normal(1.0, 0.3, size=length) * gscale, eps)
        norm = NormParams(gq, gsh, eps_q)
        image = apv.norm_gain_image(gq)
        chan.words.update({gain_word + i: w for i, w in enumerate(image)})
        x = random_rows(rng, tokens, length)
        rw = tiling.act_row_words(length, 32)
        x_base, o_base = next_word, next_word + tokens * rw
        next_word = o_base + tokens * rw
        for i, w in enumerate(q15_words(x)):
            mems.act[x_base + i] = w
        for i in range(tokens * rw):  # garbage where the output goes
            mems.act[o_base + i] = int.from_bytes(rng.bytes(32), "little")
        d = apv.norm_descriptor(
            x_base=x_base,
            o_base=o_base,
            length=length,
            tokens=tokens,
            gain_base_bytes=gain_word * tiling.WORD_BYTES,
            gain_shift=norm.shift,
            eps_q=norm.eps_q,
        )
        gain_word += len(image)
        mems.desc[idx] = d.pack()
        mems.written.clear()
        gain_cycles[0] = 0
        n = await run_command(dut, idx)
        cycles.append((tokens, length, n, gain_cycles[0]))
        assert not int(dut.err.value), "norm_unit raised err"
        assert mems.written <= set(range(o_base, o_base + tokens * rw))
        want = q15_words(golden.rmsnorm_block(x, norm))
        got = [mems.act[o_base + i] for i in range(tokens * rw)]
        bad = [i for i in range(len(want)) if got[i] != want[i]]
        assert not bad, (
            f"rmsnorm T={tokens} H={length}: {len(bad)} words differ, first {bad[0]}: "
            f"got {got[bad[0]]:#x}, want {want[bad[0]]:#x}"
        )
    for tokens, length, n, gain in cycles:
        dut._log.info(f"norm_unit T={tokens} H={length}: {n} cycles ({gain} gain table)")
        # 3 per command besides the gain table and the rows: S_DESC, S_DONE, the done register
        assert n - gain - 3 == tokens * cost.norm_row_cycles(length), (
            f"T={tokens} H={length}: rows took {n - gain - 3} cycles, "
            f"the rule says {tokens * cost.norm_row_cycles(length)}"
        )


@pytest.mark.rtl
def test_norm_unit():
    sim.run_primitive("norm_unit", __file__)
