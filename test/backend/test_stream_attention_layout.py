"""The stream attention unit's Python side: HBM ring layout, fetch order, descriptor encoding.

The RTL behaviour is checked by rtl_lib/tests/test_stream_attention_unit.py; these are the
compile-time rules it relies on (sizes, alignment, which channel streams what, the field layout
the unit unpacks, and the errors for commands the unit cannot run).
"""

from __future__ import annotations

import pytest

from accllm.backend import accel_program_attn as apa
from accllm.backend import tiling
from accllm.backend.accel_program import EncodingError
from accllm.backend.perf import cost
from accllm.numerics import contract as ct
from accllm.rtl_lib import fetch_isa
from accllm.rtl_lib.descriptors import STREAM_ATTN_FIELDS

LIMITS = apa.StreamAttnLimits(kv_heads=4, rep=2, tokens=8)


def test_ring_of_llama2_7b():
    """hd 128, S + W = 1024: 64-byte code slots, 2-byte scale pairs, 64-byte aligned regions."""
    r = tiling.kv_ring(128, 4, 1020)
    assert (r.k_codes, r.k_scales, r.v_codes, r.v_scales) == (0, 65536, 67584, 133120)
    assert r.ring_bytes == 135168
    assert all(off % tiling.KV_REGION_ALIGN == 0 for off in (r.k_scales, r.v_codes, r.v_scales))


def test_small_ring_regions_are_aligned():
    r = tiling.kv_ring(16, 2, 6)  # 8 slots of 8 code bytes, 16 scale bytes
    assert (r.k_codes, r.k_scales, r.v_codes, r.v_scales, r.ring_bytes) == (0, 64, 128, 192, 256)


def test_stream_order_per_channel():
    """3 KV heads on 2 channels: channel 0 streams heads 0 and 2, channel 1 head 1; per token
    and head the K scales, K codes, V scales, V codes."""
    r = tiling.kv_ring(16, 2, 6)
    base = tiling.kv_layer_addr(1024, 1, 3, 2, r)
    assert base == 1024 + 2 * r.ring_bytes  # two rings per channel per layer
    ch0 = tiling.kv_stream_rings(base, 3, 2, 0, 2, r)
    ch1 = tiling.kv_stream_rings(base, 3, 2, 1, 2, r)
    assert len(ch0) == 2 * 2 * 4 and len(ch1) == 2 * 1 * 4
    head2 = base + r.ring_bytes
    assert ch0[4:8] == [
        (head2 + r.k_scales, 2, 8),
        (head2 + r.k_codes, 8, 8),
        (head2 + r.v_scales, 2, 8),
        (head2 + r.v_codes, 8, 8),
    ]
    assert ch0[:8] == ch0[8:]  # every token re-streams the cache as it was before the command
    assert [tiling.kv_channel(h, 2) for h in range(3)] == [0, 1, 0]


@pytest.mark.parametrize("dw", fetch_isa.DATA_BITS)
def test_cost_beats_are_the_prefetchers(dw):
    """The cost rule's beats per region are the prefetcher's RING reads of those regions."""
    g = cost.StreamAttnGeometry(2, 128, dw, 4, 12)
    r = tiling.kv_ring(128, 4, 12)
    for pos in (0, 1, 5, 16, 40):
        prog = [
            fetch_isa.Ring(0, a, sb, c) for a, sb, c in tiling.kv_stream_rings(0, 1, 1, 0, 2, r)
        ]
        beats = len(fetch_isa.deliveries([*prog, fetch_isa.End()], pos, dw))
        assert beats == 2 * (g.ring_beats(pos, 2) + g.ring_beats(pos, 64))


def test_descriptor_fields_where_the_unit_unpacks_them():
    d = apa.stream_attention_descriptor(
        q_base=1, k_base=2, v_base=3, o_base=4, kv_addr=0x12345678, heads=4, kv_heads=2,
        head_dim=64, tokens=5, position=None, limits=LIMITS,
    )  # fmt: skip
    word, shift, got = d.pack(), 0, {}
    for name, bits in STREAM_ATTN_FIELDS:
        got[name] = word >> shift & ((1 << bits) - 1)
        shift += bits
    assert shift == 256
    assert got["kv_addr"] == 0x12345678 and got["tokens"] == 5 and got["rep"] == 2
    assert got["flags"] == apa.FLAG_ATTEND | apa.FLAG_APPEND | apa.FLAG_POS_REG
    assert (got["score_mult"], got["score_shift"]) == ct.attention_score_scale(64)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tokens": 9}, "tokens=9 outside"),
        ({"heads": 6, "kv_heads": 2}, "rep=3 outside"),
        ({"heads": 5, "kv_heads": 5}, "kv_heads=5 outside"),
        ({"head_dim": 48}, "power-of-two head_dim"),
        ({"heads": 3, "kv_heads": 2}, "not a multiple"),
        ({"kv_addr": 1 << 32}, "kv_addr"),
    ],
)
def test_descriptor_errors_name_the_field(change, message):
    args = dict(
        q_base=0, k_base=0, v_base=0, o_base=0, kv_addr=0, heads=4, kv_heads=2, head_dim=64,
        tokens=1, position=7, limits=LIMITS,
    )  # fmt: skip
    with pytest.raises(EncodingError, match=message):
        apa.stream_attention_descriptor(**(args | change)).pack()
