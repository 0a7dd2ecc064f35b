"""Descriptors of the attention unit (accllm.backend.accel_program_attn).

The 256-bit words are decoded here bit by bit at the offsets `rtl_lib/attention_unit.sv` slices
(written out below, not taken from ATTN_FIELDS); the RTL side is tested by
rtl_lib/tests/test_attention_unit.py.
"""

from __future__ import annotations

import pytest

from accllm.backend import accel_program_attn as apa
from accllm.backend import tiling
from accllm.backend.accel_program import EncodingError
from accllm.numerics import contract as ct

# (offset, width) of each field in the RTL's unpacking order (LSB first).
OFFSETS = {
    "q_base": (0, 24),
    "k_base": (24, 24),
    "v_base": (48, 24),
    "o_base": (72, 24),
    "kv_base": (96, 24),
    "pos_base": (120, 32),
    "tokens": (152, 16),
    "heads": (168, 8),
    "kv_heads": (176, 8),
    "score_mult": (184, 16),
    "score_shift": (200, 8),
    "flags": (208, 8),
    "rep": (216, 8),
    "reserved": (224, 32),
}


def field(word: int, name: str) -> int:
    off, width = OFFSETS[name]
    return word >> off & ((1 << width) - 1)


def test_prefill_attention_fuses_the_append():
    kvb = tiling.kv_entry_base(1, 2, 2, 6)
    d = apa.attention_descriptor(
        q_base=0x123456,
        o_base=0xABCDE,
        kv_base=kvb,
        heads=4,
        kv_heads=2,
        head_dim=16,
        tokens=12,
        position=7,
        k_base=0x111,
        v_base=0x222,
    )
    w = d.pack()
    assert w < 1 << 256
    m, sh = ct.attention_score_scale(16)
    want = {
        "q_base": 0x123456,
        "k_base": 0x111,
        "v_base": 0x222,
        "o_base": 0xABCDE,
        "kv_base": 16,  # layer 1 after 2 heads x 8 slots
        "pos_base": 7,
        "tokens": 12,
        "heads": 4,
        "kv_heads": 2,
        "score_mult": m,
        "score_shift": sh,
        "flags": 0b011,  # attend + append
        "rep": 2,
        "reserved": 0,
    }
    assert {n: field(w, n) for n in OFFSETS} == want
    # log2(e)/sqrt(16) as a 16-bit dyadic multiplier
    assert abs(m / 2**sh - 1.4426950408889634 / 4) < 2**-16


def test_decode_uses_the_position_register():
    app = apa.kv_append_descriptor(
        k_base=5, v_base=9, kv_base=0, kv_heads=2, head_dim=16, tokens=1, position=None
    ).pack()
    assert field(app, "flags") == 0b110  # append + position register, no attention
    assert (field(app, "k_base"), field(app, "v_base"), field(app, "tokens")) == (5, 9, 1)
    att = apa.attention_descriptor(
        q_base=3, o_base=4, kv_base=0, heads=8, kv_heads=2, head_dim=32, tokens=1, position=None
    ).pack()
    assert field(att, "flags") == 0b101  # attend + position register, no fused append
    assert (field(att, "rep"), field(att, "pos_base")) == (4, 0)


def test_rejects_what_the_unit_cannot_run():
    common = dict(q_base=0, o_base=0, kv_base=0, tokens=12, position=0)
    with pytest.raises(EncodingError, match="K/V buffers"):
        apa.attention_descriptor(heads=4, kv_heads=2, head_dim=16, **common)
    with pytest.raises(EncodingError, match="head_dim"):
        apa.attention_descriptor(heads=4, kv_heads=2, head_dim=12, k_base=0, v_base=0, **common)
    with pytest.raises(EncodingError, match="multiple"):
        apa.attention_descriptor(heads=6, kv_heads=4, head_dim=16, k_base=0, v_base=0, **common)
    with pytest.raises(EncodingError, match="q_base"):
        apa.attention_descriptor(
            q_base=1 << 24,
            o_base=0,
            kv_base=0,
            heads=4,
            kv_heads=2,
            head_dim=16,
            tokens=1,
            position=0,
        ).pack()


def test_row_and_cache_sizes():
    assert apa.q15_row_words(12, 4, 16) == 12 * 8
    assert tiling.kv_entries(4, 2, 6) == 32
    assert tiling.kv_entry_base(2, 4, 2, 6) == 64
