"""vector_unit vs the numerics contract, bit for bit.

Descriptors come from `accllm.backend.accel_program_vector` (as the netlist emitter builds
them); Q15.16 operands sit in a modelled activation buffer (one-cycle reads, 32-bit lane writes)
whose every other word holds random garbage. Expected values: `contract.quantize_act_pow2`
(requantize, laid out by `stream_linear_unit_run.act_words`, the A8 layout the MAC unit reads),
`contract.residual_add` (add), `contract.swiglu_int` (swiglu). Checked after each descriptor:
every output word, the exponent bytes (and that the other bytes of the exponent words keep
their old contents), that nothing outside the output is written, and that the command's own
done pulse (`done` for unit vec, `act_done` for unit act) is the one that fires; then the
command's cycles against the estimator's rule (`cost.vector_unit_cycles`, the requantize search
per token from the row's data by `cost.a8_search_cycles`).

Data: per-token magnitudes from 0 to 2^31 (A8 exponents from 31 down to -15, left and right
shifts, an all-zero token, int32 extremes), 40 tokens so the exponent bytes span two words,
rows of 5 and 6 words (a last A8 word of 8 and 16 codes); full-range operands so the add and
the SwiGLU product saturate; gates across and beyond the sigmoid table's [-16, 16]. A requantize
row longer than the row buffer (MAX_H) is refused with `err`.
"""

from __future__ import annotations

import random

import cocotb
import numpy as np
import pytest

from accllm.backend import accel_program_vector as apv
from accllm.backend import tiling
from accllm.backend.perf import cost
from accllm.backend.sim.stream_linear_unit_run import act_words
from accllm.numerics import contract as ct
from accllm.rtl_lib import sim
from accllm.rtl_lib.stream import UnitMemories, clock_and_reset, run_command

RES_FRAC = ct.NUMERICS.res_frac
MASK32 = 0xFFFFFFFF


def q15_words(x) -> list[int]:
    """Q15.16 rows -> 256-bit words of 8 int32 lanes, lane 0 lowest."""
    flat = np.asarray(x, dtype=np.int64).reshape(-1)
    return [
        sum((int(v) & MASK32) << (32 * i) for i, v in enumerate(flat[w : w + 8]))
        for w in range(0, len(flat), 8)
    ]


def random_rows(rng, tokens: int, length: int) -> np.ndarray:
    """Q15.16 rows whose per-token magnitude bound is 2^b, b in [0, 31], plus the edge rows."""
    bits = rng.integers(0, 32, size=tokens)
    x = np.stack([rng.integers(-(1 << int(b)), 1 << int(b), size=length) for b in bits])
    x = np.clip(x, -(1 << 31), (1 << 31) - 1)
    if tokens > 2:
        x[1] = 0  # all-zero token: f = act_exp_max
        x[2, ::2], x[2, 1::2] = (1 << 31) - 1, -(1 << 31)  # int32 extremes
    return x


class Harness:
    def __init__(self, dut, mems, rng):
        self.dut, self.mems, self.rng, self.ndesc = dut, mems, rng, 0
        self.next_word = 0
        self.cycles: list[tuple[str, int, int, int]] = []

    def alloc(self, words: int) -> int:
        """A fresh region filled with garbage (so unwritten outputs cannot pass by accident)."""
        base, self.next_word = self.next_word, self.next_word + words
        for w in range(base, base + words):
            self.mems.act[w] = int.from_bytes(self.rng.bytes(32), "little")
        return base

    def store(self, base: int, x) -> None:
        for i, w in enumerate(q15_words(x)):
            self.mems.act[base + i] = w

    async def dispatch(self, d: apv.VectorDescriptor, unit: str) -> int:
        """Run one descriptor on unit `vec` or `act` to its done pulse; returns the cycles."""
        idx = self.ndesc
        self.ndesc += 1
        self.mems.desc[idx] = d.pack()
        dut = self.dut
        pre = "act_" if unit == "act" else ""
        other = "done" if unit == "act" else "act_done"
        return await run_command(dut, idx, pre, other)

    async def run(self, kind: str, inputs, tokens: int, length: int) -> None:
        """Lay out `inputs` (Q15.16 [tokens, length] each), run the op, check the buffer."""
        mems = self.mems
        bases = []
        for x in inputs:
            bases.append(self.alloc(len(q15_words(x))))
            self.store(bases[-1], x)
        per_token = kind == "requantize"
        bits = 8 if per_token else ct.NUMERICS.res_bits
        out_words = tiling.act_words(tokens, length, bits, per_token)
        o_base = self.alloc(out_words)
        before = {w: mems.act[w] for w in range(o_base, o_base + out_words)}
        d = apv.vector_descriptor(kind, inputs=bases, o_base=o_base, length=length, tokens=tokens)
        mems.written.clear()
        n = await self.dispatch(d, apv.unit_of(kind))
        search: list[int] = []
        if kind == "requantize":
            _, f = ct.quantize_act_pow2(inputs[0], RES_FRAC)
            x = np.asarray(inputs[0], dtype=np.int64)
            m = np.maximum(np.maximum(x.max(axis=-1), 0), -np.minimum(x.min(axis=-1), 0))
            search = [
                cost.a8_search_cycles(int(v).bit_length(), int(e))
                for v, e in zip(m, f, strict=True)
            ]
        want_n = cost.vector_unit_cycles(kind, tokens, length, search)
        self.cycles.append((kind, tokens, length, n, want_n))
        assert mems.written <= set(range(o_base, o_base + out_words)), (
            f"{kind}: wrote outside its output: {sorted(mems.written)[:8]}"
        )
        got = [mems.act[o_base + i] for i in range(out_words)]
        if kind == "requantize":
            q, f = ct.quantize_act_pow2(inputs[0], RES_FRAC)
            want = act_words(q, f)
            # Exponent words: bytes past the last token keep the garbage they held.
            row_part = tokens * tiling.act_row_words(length, 8)
            for i in range(row_part, out_words):
                keep = before[o_base + i]
                t0 = 32 * (i - row_part)
                for b in range(32):
                    if t0 + b >= tokens:
                        want[i] |= keep & (0xFF << (8 * b))
        elif kind == "add":
            want = q15_words(ct.residual_add(*inputs))
        else:
            want = q15_words(ct.swiglu_int(*inputs))
        bad = [i for i in range(out_words) if got[i] != want[i]]
        assert not bad, (
            f"{kind} T={tokens} L={length}: {len(bad)} of {out_words} words differ, first at "
            f"{bad[0]}: got {got[bad[0]]:#x}, want {want[bad[0]]:#x}"
        )


@cocotb.test()
async def vector_ops_match_the_contract(dut):
    rng = np.random.default_rng(random.randrange(1 << 30))
    dut.cmd_valid.value = 0
    dut.act_cmd_valid.value = 0
    dut.cmd_payload.value = 0
    dut.act_cmd_payload.value = 0
    mems = UnitMemories(dut)
    cocotb.start_soon(mems.run())
    await clock_and_reset(dut)
    h = Harness(dut, mems, rng)

    # requantize: 40 tokens (exponent bytes span two words), then a longer row.
    await h.run("requantize", [random_rows(rng, 40, 64)], 40, 64)
    await h.run("requantize", [random_rows(rng, 3, 128)], 3, 128)
    await h.run("requantize", [random_rows(rng, 4, 40)], 4, 40)
    await h.run("requantize", [random_rows(rng, 2, 48)], 2, 48)
    # add: full-range int32 operands (frequent saturation) and small residual-like values.
    full = [rng.integers(-(1 << 31), 1 << 31, size=(12, 64)) for _ in range(2)]
    await h.run("add", full, 12, 64)
    await h.run("add", [random_rows(rng, 4, 64), random_rows(rng, 4, 64)], 4, 64)
    # swiglu: gates within and beyond [-16, 16] (sigmoid table edges), full-range up values.
    gate = rng.integers(-20 << RES_FRAC, 20 << RES_FRAC, size=(5, 128))
    gate[0, :8] = [-(1 << 31), (1 << 31) - 1, 16 << RES_FRAC, -16 << RES_FRAC, 0, 1, -1, 2047]
    up = rng.integers(-(1 << 31), 1 << 31, size=(5, 128))
    up[1] = rng.integers(-(1 << 18), 1 << 18, size=128)
    await h.run("swiglu", [gate, up], 5, 128)
    await h.run("swiglu", [random_rows(rng, 1, 128), random_rows(rng, 1, 128)], 1, 128)
    await h.run("swiglu", [random_rows(rng, 1, 8), random_rows(rng, 1, 8)], 1, 8)
    for kind, t, length, n, want_n in h.cycles:
        dut._log.info(f"vector_unit {kind} T={t} L={length}: {n} cycles (rule {want_n})")
    assert all(n == want_n for *_, n, want_n in h.cycles), "cycles differ from the rule"

    # A kind sent to the wrong unit is refused: err, the unit's own done, nothing written.
    assert not int(dut.err.value)
    mems.written.clear()
    bad = apv.vector_descriptor("swiglu", inputs=[0, 0], o_base=0, length=8, tokens=1)
    await h.dispatch(bad, "vec")
    assert int(dut.err.value) and not mems.written


@cocotb.test()
async def overlong_requantize_row_is_refused(dut):
    """A requantize row longer than MAX_H (the row buffer): err, done, nothing written."""
    max_h = sim.test_parameters()["MAX_H"]
    dut.cmd_valid.value = 0
    dut.act_cmd_valid.value = 0
    mems = UnitMemories(dut)
    cocotb.start_soon(mems.run())
    await clock_and_reset(dut)
    h = Harness(dut, mems, np.random.default_rng(1))
    d = apv.vector_descriptor("requantize", inputs=[0], o_base=0, length=max_h + 8, tokens=1)
    await h.dispatch(d, "vec")
    assert int(dut.err.value) and not mems.written


@pytest.mark.rtl
def test_vector_unit():
    sim.run_primitive("vector_unit", __file__)
