"""Descriptors of the stream attention unit (accllm.backend.accel_program_attn) and its ring image.

The 256-bit words are decoded here bit by bit at the offsets `rtl_lib/stream_attention_unit.sv`
slices (written out below, not taken from STREAM_ATTN_FIELDS); the RTL side is tested by
rtl_lib/tests/test_stream_attention_unit.py and the whole accelerator's tests.
"""

from __future__ import annotations

import numpy as np
import pytest

from accllm.backend import accel_program_attn as apa
from accllm.backend import tiling
from accllm.backend.accel_program import EncodingError
from accllm.numerics import contract as ct
from accllm.numerics import golden

# (offset, width) of each field in the RTL's unpacking order (LSB first).
OFFSETS = {
    "q_base": (0, 24),
    "k_base": (24, 24),
    "v_base": (48, 24),
    "o_base": (72, 24),
    "kv_addr": (96, 32),
    "pos_base": (128, 32),
    "tokens": (160, 16),
    "heads": (176, 8),
    "kv_heads": (184, 8),
    "score_mult": (192, 16),
    "score_shift": (208, 8),
    "flags": (216, 8),
    "rep": (224, 8),
    "reserved": (232, 24),
}
LIMITS = apa.StreamAttnLimits(kv_heads=4, rep=4, tokens=16)


def field(word: int, name: str) -> int:
    off, width = OFFSETS[name]
    return word >> off & ((1 << width) - 1)


def test_prefill_command_appends_and_attends():
    d = apa.stream_attention_descriptor(
        q_base=0x123456,
        k_base=0x111,
        v_base=0x222,
        o_base=0xABCDE,
        kv_addr=0x4000,
        heads=4,
        kv_heads=2,
        head_dim=16,
        tokens=12,
        position=7,
        limits=LIMITS,
    )
    w = d.pack()
    assert w < 1 << 256
    m, sh = ct.attention_score_scale(16)
    want = {
        "q_base": 0x123456,
        "k_base": 0x111,
        "v_base": 0x222,
        "o_base": 0xABCDE,
        "kv_addr": 0x4000,
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


def test_decode_and_append_only_use_the_position_register():
    common = dict(q_base=3, k_base=5, v_base=9, o_base=4, kv_addr=0, tokens=1, position=None)
    att = apa.stream_attention_descriptor(
        heads=8, kv_heads=2, head_dim=32, limits=LIMITS, **common
    ).pack()
    assert field(att, "flags") == 0b111  # attend + append + position register
    assert (field(att, "rep"), field(att, "pos_base")) == (4, 0)
    app = apa.stream_attention_descriptor(
        heads=2, kv_heads=2, head_dim=32, limits=LIMITS, attend=False, **common
    ).pack()
    assert field(app, "flags") == 0b110  # append + position register, no attention


def test_rejects_what_the_unit_cannot_run():
    common = dict(q_base=0, k_base=0, v_base=0, o_base=0, kv_addr=0, position=0, limits=LIMITS)
    with pytest.raises(EncodingError, match="head_dim"):
        apa.stream_attention_descriptor(heads=4, kv_heads=2, head_dim=24, tokens=1, **common)
    with pytest.raises(EncodingError, match="multiple"):
        apa.stream_attention_descriptor(heads=6, kv_heads=4, head_dim=16, tokens=1, **common)
    with pytest.raises(EncodingError, match="tokens=17"):
        apa.stream_attention_descriptor(heads=4, kv_heads=2, head_dim=16, tokens=17, **common)
    with pytest.raises(EncodingError, match="rep=8"):
        apa.stream_attention_descriptor(heads=16, kv_heads=2, head_dim=16, tokens=1, **common)
    with pytest.raises(EncodingError, match="q_base"):
        apa.stream_attention_descriptor(
            heads=4, kv_heads=2, head_dim=16, tokens=1, **{**common, "q_base": 1 << 24}
        ).pack()


def test_ring_image_follows_the_ring_layout():
    """kv_ring_bytes puts slot s of head g at its ring's code / scale offsets on channel
    g mod pipes, and only the filled slots."""
    hd, sink, window, kvh, pipes = 16, 2, 6, 3, 2
    cache = golden.LambdaKVCache(1, kvh, hd, sink, window)
    rng = np.random.default_rng(0)
    q, k, v = (rng.integers(-(1 << 18), 1 << 18, size=(3, kvh, hd)) for _ in range(3))
    golden.lambda_attention_step(q, k, v, np.arange(3), cache, 0)  # fills slots 0, 1, 2
    ring = tiling.kv_ring(hd, sink, window)
    got = apa.kv_ring_bytes(cache, 0, 0x1000, pipes)
    assert set(got) == {0, 1}
    cb = hd // 2
    for g in range(kvh):
        base = tiling.kv_head_addr(0x1000, g, pipes, ring)
        mem = got[g % pipes]
        for s in range(3):
            assert bytes(mem[base + ring.k_codes + s * cb + i] for i in range(cb)) == bytes(
                cache.k_packed[0, g, s]
            )
            assert mem[base + ring.v_scales + 2 * s] == cache.v_zp[0, g, s]
            assert mem[base + ring.k_scales + 2 * s + 1] == int(cache.k_exp[0, g, s]) & 0xFF
        assert base + ring.k_codes + 3 * cb not in mem  # slot 3 is empty


def test_row_sizes():
    assert apa.q15_row_words(12, 4, 16) == 12 * 8
