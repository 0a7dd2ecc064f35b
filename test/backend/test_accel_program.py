"""Descriptors of the stream-fed MAC unit (accllm.backend.accel_program) and its GEMM tiles.

The descriptor words are decoded here independently (bit slicing as stream_linear_unit.sv
unpacks them); the channel streams are read back in test_stream_layout.py and the RTL side is
tested by rtl_lib/tests/test_stream_linear_unit.py.
"""

from __future__ import annotations

import dataclasses

import pytest

from accllm.backend import accel_program as ap
from accllm.backend import tiling
from accllm.numerics import contract as ct

# ---- stream_linear_unit: descriptors and GEMM tiles --------------------------------------------

# The descriptor word as stream_linear_unit.sv unpacks it (desc_data[220:0], LSB first).
STREAM_DESC_BITS = {
    "x_base": (0, 24),
    "fx_base": (24, 24),
    "y_base": (48, 24),
    "k": (72, 20),
    "rows_per_channel": (92, 20),
    "n": (112, 20),
    "tokens": (132, 16),
    "group_beats": (148, 15),
    "int8": (163, 1),
    "words_per_row": (164, 16),
    "entries_per_row": (180, 12),
    "passes": (192, 16),
    "channels_used": (208, 8),
    "fx_byte": (216, 5),
}


def _unpack_stream(word: int) -> dict[str, int]:
    assert word >> 221 == 0, "bits above fx_byte must be zero"
    return {f: (word >> lo) & ((1 << bits) - 1) for f, (lo, bits) in STREAM_DESC_BITS.items()}


def test_linear_tiles_cover_the_tokens_in_tile_order():
    assert tiling.linear_tiles(1, 4) == [(0, 1)]
    assert tiling.linear_tiles(6, 4) == [(0, 4), (4, 2)]
    assert tiling.linear_tiles(8, 4) == [(0, 4), (4, 4)]
    assert tiling.linear_tiles(70, 32) == [(0, 32), (32, 32), (64, 6)]
    for tokens in range(1, 80):
        for tile in (1, 2, 4, 8, 16, 32):
            tiles = tiling.linear_tiles(tokens, tile)
            assert [t0 for t0, _ in tiles] == list(range(0, tokens, tile))
            assert sum(t for _, t in tiles) == tokens and all(1 <= t <= tile for _, t in tiles)
            # a divisor of 32: no tile straddles a word of 32 exponent bytes
            assert all(t0 // 32 == (t0 + t - 1) // 32 for t0, t in tiles)
    for bad in (0, 3, 5, 64):
        with pytest.raises(ValueError, match="tile_tokens must divide 32"):
            tiling.linear_tiles(8, bad)


def _stream_layout(n=64, k=128, group=64, lanes=2, wpb=2):
    return tiling.linear_stream_layout(n, k, group, "w2", tiling.ceil_div(n, 4), lanes, wpb)


def test_stream_descriptor_fields():
    layout = _stream_layout()
    d = ap.stream_linear_descriptor(
        layout,
        x_base=10,
        y_base=200,
        n=64,
        k=128,
        group=64,
        tokens=3,
        mac_blocks=4,
        max_tokens=4,
        meta_fifo_words=16,
    )
    got = _unpack_stream(d.pack())
    assert got == {
        "x_base": 10,
        "fx_base": 10 + 3 * 4,  # the exponents follow the 3 rows of 128 bytes
        "y_base": 200,
        "k": 128,
        "rows_per_channel": 16,
        "n": 64,
        "tokens": 3,
        "group_beats": 4,  # G=64 at 4 blocks (16 weights) per MAC beat
        "int8": 0,
        "words_per_row": ct.words_per_row(128),
        "entries_per_row": 3,  # the row exponent + 2 groups
        "passes": 8,  # 16 rows on 2 lanes
        "channels_used": 4,
        "fx_byte": 0,
    }


def test_stream_descriptor_of_a_gemm_tile():
    """Tile t of a T-token activation: rows from token t0 (x and y advance by t0 rows), the
    exponents after all T rows (fx_base from the activation's base, word t0 // 32) at byte
    t0 % 32 (fx_byte)."""
    layout = _stream_layout()
    kw = dict(x_base=10, y_base=200, n=64, k=128, group=64, mac_blocks=4, max_tokens=4)
    kw["meta_fifo_words"] = 16
    total = 70
    row8, row32 = tiling.act_row_words(128, 8), tiling.act_row_words(64, 32)
    assert (row8, row32) == (4, 8)
    descs = [
        _unpack_stream(
            ap.stream_linear_descriptor(
                layout, tokens=t, first_token=t0, total_tokens=total, **kw
            ).pack()
        )
        for t0, t in tiling.linear_tiles(total, 4)
    ]
    assert len(descs) == 18 and descs[-1]["tokens"] == 2
    for i, d in enumerate(descs):
        t0 = 4 * i
        assert d["x_base"] == 10 + t0 * row8
        assert d["y_base"] == 200 + t0 * row32
        assert d["fx_base"] == 10 + total * row8 + t0 // 32
        assert d["fx_byte"] == t0 % 32
        assert d["tokens"] == min(4, total - t0)
    # the last tile: tokens 68..69, exponent word 2 (tokens 64..95) byte 4
    assert (descs[-1]["fx_base"], descs[-1]["fx_byte"]) == (10 + 280 + 2, 4)
    # without first_token / total_tokens: one tile of the whole activation
    whole = ap.stream_linear_descriptor(layout, tokens=4, **kw)
    assert whole == ap.stream_linear_descriptor(
        layout, tokens=4, first_token=0, total_tokens=4, **kw
    )


def test_stream_descriptor_refuses_tiles_outside_the_activation_or_its_exponent_word():
    layout = _stream_layout()
    kw = dict(x_base=0, y_base=0, n=64, k=128, group=64, mac_blocks=4, meta_fifo_words=16)
    with pytest.raises(ap.EncodingError, match="tile of tokens 30..33 of 64"):
        ap.stream_linear_descriptor(
            layout, tokens=4, max_tokens=4, first_token=30, total_tokens=64, **kw
        )
    with pytest.raises(ap.EncodingError, match="tile of tokens 4..7 of 6"):
        ap.stream_linear_descriptor(
            layout, tokens=4, max_tokens=4, first_token=4, total_tokens=6, **kw
        )
    with pytest.raises(ap.EncodingError, match="the unit's GEMM tile holds 1..4"):
        ap.stream_linear_descriptor(layout, tokens=5, max_tokens=4, **kw)
    with pytest.raises(ap.EncodingError, match="k % 32 == 0"):
        ap.stream_linear_descriptor(layout, tokens=1, max_tokens=4, **{**kw, "k": 48})
    with pytest.raises(ap.EncodingError, match="not a whole number of 4-block beats"):
        ap.stream_linear_descriptor(layout, tokens=1, max_tokens=4, **{**kw, "group": 40})
    with pytest.raises(ap.EncodingError, match="fx_byte=32 does not fit 5 bits"):
        dataclasses.replace(
            ap.stream_linear_descriptor(layout, tokens=1, max_tokens=4, **kw), fx_byte=32
        ).pack()
