"""w2_unpacker vs `accllm.numerics.contract.pack_2_4_w2` / `unpack_2_4_w2`, bit for bit.

Rows of random 2:4 codes and patterns (K chosen so that rows end mid-word, exercising the zero-block
padding) are packed by the contract into 256-bit words, streamed through the unpacker with random
valid gaps and back-pressure, and every block coming out must equal the contract's unpacking of
the same words (and the original codes/patterns). A hand-built word with the illegal pattern codes
6 and 7 must raise `m_illegal` on exactly those blocks.
"""

from __future__ import annotations

import random

import cocotb
import numpy as np
import pytest
from cocotb.triggers import with_timeout

from accllm.numerics import contract
from accllm.rtl_lib import sim
from accllm.rtl_lib.stream import StreamSink, StreamSource, clock_and_reset, unpack

FIELDS = ["m_pattern", "m_code_lo", "m_code_hi", "m_illegal", "m_first"]


async def _stream_words(dut, words: list[int]) -> list[dict[str, int]]:
    p = sim.test_parameters()
    beats_per_word = (p["WORD_W"] // 7) // p["OUT_BLOCKS"]
    src = StreamSource(dut, gap_prob=0.25)
    sink = StreamSink(dut, FIELDS, stall_prob=0.3)
    cocotb.start_soon(src.send([{"s_word": w} for w in words]))
    return await with_timeout(sink.collect(len(words) * beats_per_word), 1_000_000, "ns")


def _blocks(beats: list[dict[str, int]], nb: int) -> tuple[np.ndarray, np.ndarray, list[int]]:
    pats, codes, illegal = [], [], []
    for b in beats:
        pats += unpack(b["m_pattern"], 3, nb)
        lo, hi = unpack(b["m_code_lo"], 2, nb), unpack(b["m_code_hi"], 2, nb)
        codes += list(zip(lo, hi, strict=True))
        illegal += unpack(b["m_illegal"], 1, nb)
    return np.array(pats), np.array(codes), illegal


@cocotb.test()
async def unpack_matches_contract(dut):
    """Random rows (K = 4 * 50: 50 blocks, i.e. 1 full word + 14 blocks + 22 padding blocks)."""
    p = sim.test_parameters()
    nb = p["OUT_BLOCKS"]
    await clock_and_reset(dut)
    rng = np.random.default_rng(random.getrandbits(32))
    n, k = 6, 4 * 50
    patterns = rng.integers(0, 6, size=(n, k // 4))
    codes = rng.integers(0, 4, size=(n, k // 4, 2))
    patterns[0, :6] = np.arange(6)  # every legal pattern at least once
    codes[1] = 3  # all-ones codes
    words = contract.pack_2_4_w2(codes, patterns)
    ints = [w for row in contract.words_to_ints(words) for w in row]
    beats = await _stream_words(dut, ints)
    got_pat, got_codes, illegal = _blocks(beats, nb)
    nw = contract.words_per_row(k)
    got_pat = got_pat.reshape(n, nw * 36)
    got_codes = got_codes.reshape(n, nw * 36, 2)
    want_codes, want_pat = contract.unpack_2_4_w2(words, k)
    assert np.array_equal(got_pat[:, : k // 4], want_pat)
    assert np.array_equal(got_codes[:, : k // 4], want_codes)
    assert np.array_equal(want_pat, patterns) and np.array_equal(want_codes, codes)
    assert not np.any(got_pat[:, k // 4 :]) and not np.any(got_codes[:, k // 4 :]), "padding"
    assert not any(illegal)
    per_word = 36 // nb
    firsts = [b["m_first"] for b in beats]
    assert firsts == ([1] + [0] * (per_word - 1)) * (len(beats) // per_word)


@cocotb.test()
async def illegal_patterns_flagged(dut):
    """Hand-built word: block 0 pattern 6, block 35 pattern 7, block 1 pattern 5 codes (1, 2)."""
    p = sim.test_parameters()
    nb = p["OUT_BLOCKS"]
    await clock_and_reset(dut)
    word = 6 | ((5 | (1 << 3) | (2 << 5)) << 7) | (7 << (7 * 35))
    beats = await _stream_words(dut, [word])
    pats, codes, illegal = _blocks(beats, nb)
    assert pats[0] == 6 and pats[35] == 7 and pats[1] == 5
    assert tuple(codes[1]) == (1, 2)
    assert [i for i, f in enumerate(illegal) if f] == [0, 35]


@pytest.mark.rtl
def test_w2_unpacker_default():
    """4 blocks per beat (9 beats per word)."""
    sim.run_primitive("w2_unpacker", __file__)


@pytest.mark.rtl
def test_w2_unpacker_whole_word():
    """36 blocks per beat: one beat per word, back-to-back words without bubbles."""
    sim.run_primitive("w2_unpacker", __file__, {"OUT_BLOCKS": 36})
