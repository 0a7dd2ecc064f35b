"""embedding_unit vs `contract.embedding_int8`, bit for bit.

The table image is `backend/sim/hbm_image.embedding_table_image` of random int8 rows and
exponents, served by the behavioural HBM model (`accllm.backend.sim.hbm`: latency and
bandwidth, so the row stream has valid gaps); the token ids (`apv.embedding_ids_words`) and the
Q15.16 output rows sit in a modelled activation buffer (`rtl_lib.stream.UnitMemories`). Checked:
every output word, nothing written outside the output rows, no `err`; then a row whose value
does not fit Q15.16 raises `err`.

Cases: the tiny model's shape (12 tokens, H = 64: the exponent in byte 0 of the third row word)
at the sim target's 0.25 words per cycle, H = 88 (the exponent in byte 24 of word 2, 9 tokens
with repeated ids) at full bandwidth, and a single token (decode). Exponents cover right shifts
(f > 16, up to rounding everything to 0), f = 16 and left shifts down to f = -8 (q * 2^24).
"""

from __future__ import annotations

import random

import cocotb
import numpy as np
import pytest

from accllm.backend import accel_program_vector as apv
from accllm.backend import tiling
from accllm.backend.sim import hbm
from accllm.backend.sim.hbm_image import embedding_table_image
from accllm.numerics import contract as ct
from accllm.rtl_lib import sim
from accllm.rtl_lib.stream import UnitMemories, clock_and_reset, run_command
from accllm.rtl_lib.tests.test_vector_unit import q15_words

PORTS = hbm.Ports(
    "g_cmd_valid", "g_cmd_ready", "g_cmd_addr", "g_cmd_len", "g_valid", "g_ready", "g_data"
)


async def _run(dut, mems, idx: int) -> int:
    return await run_command(dut, idx)


@cocotb.test()
async def embedding_rows_match_the_contract(dut):
    rng = np.random.default_rng(random.randrange(1 << 30))
    dut.cmd_valid.value = 0
    dut.cmd_payload.value = 0
    mems = UnitMemories(dut)
    cocotb.start_soon(mems.run())
    chan = hbm.HbmChannel(PORTS, {}, latency=8, words_per_cycle=0.25)
    cocotb.start_soon(hbm.serve(dut, dut.clk, [chan]))
    await clock_and_reset(dut)
    next_word, table_word, cycles = 0, 100, []
    cases = [(12, 64, 40, 0.25), (9, 88, 7, 1.0), (1, 64, 40, 0.25)]
    for idx, (tokens, hidden, vocab, bandwidth) in enumerate(cases):
        chan.words_per_cycle = bandwidth
        values = rng.integers(-128, 128, size=(vocab, hidden))
        values[0, :2] = (-128, 127)
        exps = rng.integers(-8, 30, size=vocab)
        exps[:3] = (-8, 16, 29)
        image = embedding_table_image(values, exps)
        chan.words.update({table_word + i: w for i, w in enumerate(image)})
        ids = rng.integers(0, vocab, size=tokens)
        ids[: min(tokens, 3)] = [0, vocab - 1, 1][: min(tokens, 3)]
        rw = tiling.act_row_words(hidden, 32)
        ids_words = apv.embedding_ids_words(ids)
        ids_base, o_base = next_word, next_word + len(ids_words)
        next_word = o_base + tokens * rw
        for i, w in enumerate(ids_words):
            mems.act[ids_base + i] = w
        for i in range(tokens * rw):  # garbage where the output goes
            mems.act[o_base + i] = int.from_bytes(rng.bytes(32), "little")
        d = apv.embedding_descriptor(
            ids_base=ids_base,
            o_base=o_base,
            hidden=hidden,
            tokens=tokens,
            table_base_bytes=table_word * tiling.WORD_BYTES,
        )
        table_word += len(image)
        mems.desc[idx] = d.pack()
        mems.written.clear()
        n = await _run(dut, mems, idx)
        cycles.append((tokens, hidden, n))
        assert not int(dut.err.value), "embedding_unit raised err"
        assert mems.written <= set(range(o_base, o_base + tokens * rw))
        want = q15_words(ct.embedding_int8(ids, values, exps))
        got = [mems.act[o_base + i] for i in range(tokens * rw)]
        bad = [i for i in range(len(want)) if got[i] != want[i]]
        assert not bad, (
            f"embedding T={tokens} H={hidden}: {len(bad)} words differ, first {bad[0]}: "
            f"got {got[bad[0]]:#x}, want {want[bad[0]]:#x}"
        )
    for tokens, hidden, n in cycles:
        dut._log.info(f"embedding_unit T={tokens} H={hidden}: {n} cycles")
    # -128 * 2^25 (f = -9) does not fit int32: err
    values = np.zeros((1, 64), dtype=np.int64)
    values[0, 5] = -128
    chan.words.update(
        {table_word + i: w for i, w in enumerate(embedding_table_image(values, [-9]))}
    )
    mems.act[next_word] = 0
    d = apv.embedding_descriptor(
        ids_base=next_word,
        o_base=next_word + 1,
        hidden=64,
        tokens=1,
        table_base_bytes=table_word * tiling.WORD_BYTES,
    )
    mems.desc[len(cases)] = d.pack()
    await _run(dut, mems, len(cases))
    assert int(dut.err.value), "an int32 overflow did not raise err"


@pytest.mark.rtl
def test_embedding_unit():
    sim.run_primitive("embedding_unit", __file__)
