"""Descriptor and HBM-image encodings of the MAC units (accllm.backend.accel_program).

The images are decoded here independently (bit slicing per the documented layouts) and compared
with the contract's stored integers; the RTL side is tested by rtl_lib/tests/test_linear_unit.py
(linear_unit, the word-aligned images) and test_stream_linear_unit.py (stream_linear_unit, the
unit the emitted top instantiates: its descriptors and GEMM tiles are tested at the end).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from accllm.backend import accel_program as ap
from accllm.backend import tiling
from accllm.backend.target_desc import derive_engine, load_target
from accllm.numerics import contract as ct


def _linear_unit_engine():
    """The sim target's engine with linear_unit's geometry (2 weight channels x 3 lanes): the
    word-aligned images below belong to that unit, not to the target's stream engine."""
    return dataclasses.replace(
        derive_engine(load_target("sim")), weight_channels=2, lanes_per_channel=3, mac_lanes=6
    )


def _layer(rng, n=40, k=128, group=64):
    patterns = rng.integers(0, 6, size=(n, k // 4))
    codes = rng.integers(0, 4, size=(n, k // 4, 2))
    return ct.W2Linear(
        packed=ct.pack_2_4_w2(codes, patterns),
        zp=rng.integers(0, 4, size=(n, k // group)),
        scale_mant=rng.integers(1, 1 << 16, size=(n, k // group)),
        scale_exp=rng.integers(0, 48, size=n),
        in_features=k,
        out_features=n,
        group=group,
    )


def test_images_follow_the_row_split_layout():
    rng = np.random.default_rng(3)
    lin = _layer(rng)
    split = tiling.split_rows(40, _linear_unit_engine())  # 20 rows/ch, 3 lanes
    assert (split.rows_per_channel, split.passes, split.lanes) == (20, 7, 3)
    rows = ct.words_to_ints(lin.packed)
    wpr = ct.words_per_row(128)
    for c, words in enumerate(ap.w2_weight_image(lin, split)):
        assert len(words) == split.padded_rows * wpr
        for slot in range(split.padded_rows):
            p, lane = divmod(slot, split.lanes)
            for w in range(wpr):
                got = words[(p * wpr + w) * split.lanes + lane]
                want = rows[c * 20 + slot][w] if slot < 20 else 0
                assert got == want
    meta = ap.w2_meta_image(lin, split)
    assert len(meta) == ap.meta_region_words(40, 128, 64, split)
    for p in range(split.passes):
        for c in range(2):
            for lane in range(3):
                rec = meta[(p * 2 + c) * 3 + lane]  # one word per record at K=128, G=64
                slot = p * 3 + lane
                if slot >= 20:
                    assert rec == 0
                    continue
                r = c * 20 + slot
                assert rec & 0xFF == lin.scale_exp[r]
                for g in range(2):
                    bits = rec >> (8 + 18 * g)
                    assert (bits & 3, bits >> 2 & 0xFFFF) == (lin.zp[r, g], lin.scale_mant[r, g])


def test_descriptor_fields_and_limits():
    split = tiling.RowSplit(32, 2, 11, 3)
    d = ap.linear_descriptor(
        w_base_bytes=64,
        meta_base_bytes=96,
        x_base=5,
        y_base=40,
        n=64,
        k=64,
        group=64,
        tokens=4,
        split=split,
        mac_blocks=4,
    )
    word = d.pack()
    assert word & 0xFFFFFFFF == 2 and (word >> 32) & 0xFFFFFFFF == 3
    assert (word >> 88) & 0xFFFFFF == 5 + 4 * 2  # exponents follow 4 rows of 2 words
    assert word >> 240 == ct.words_per_row(64) and (word >> 224) & 0xFFFF == 4  # G=64: 4 beats
    with pytest.raises(ap.EncodingError, match="k % 32"):
        ap.linear_descriptor(
            w_base_bytes=0,
            meta_base_bytes=0,
            x_base=0,
            y_base=0,
            n=64,
            k=48,
            group=16,
            tokens=1,
            split=split,
            mac_blocks=4,
        )
    with pytest.raises(ap.EncodingError, match="tokens=70000"):
        ap.LinearDescriptor(0, 0, 0, 0, 0, 64, 1, 64, 1, 70000, 1, 0, 1).pack()


def test_int8_images_follow_the_row_split_layout():
    """The LM head's tile: byte i of word w of row r is w_q[r, 32 w + i] (two's complement),
    rows placed pass, word, lane; its metadata: per pass one 32-bit slot per (channel, lane)
    (exponent byte, 16-bit mantissa), padded to a word."""
    rng = np.random.default_rng(5)
    n, k = 200, 96
    w_q, mult, exp = ct.quantize_int8_rows(rng.normal(size=(n, k)))
    split = tiling.split_rows(n, _linear_unit_engine())  # 100 rows/ch, 3 lanes
    assert (split.rows_per_channel, split.passes, split.lanes) == (100, 34, 3)
    wpr = tiling.int8_words_per_row(k)
    assert wpr == 3
    tiles = ap.int8_weight_image(w_q, split)
    assert len(tiles) == 2
    for c, words in enumerate(tiles):
        assert len(words) == split.padded_rows * wpr
        for slot in range(split.padded_rows):
            p, lane = divmod(slot, split.lanes)
            for w in range(wpr):
                word = words[(p * wpr + w) * split.lanes + lane]
                got = [
                    (word >> (8 * i) & 0xFF) - ((word >> (8 * i) & 0x80) << 1) for i in range(32)
                ]
                want = w_q[c * 100 + slot, 32 * w : 32 * w + 32] if slot < 100 else [0] * 32
                assert got == list(want)
    meta = ap.int8_meta_image(mult, exp, split)
    per = tiling.int8_meta_words_per_pass(split)
    assert per == 1 and len(meta) == tiling.int8_meta_region_words(split) == 34
    for p in range(split.passes):
        for c in range(2):
            for lane in range(3):
                s = meta[p * per] >> (32 * (c * 3 + lane)) & 0xFFFFFFFF
                slot = p * 3 + lane
                if slot >= 100:
                    assert s == 0
                    continue
                r = c * 100 + slot
                assert (s & 0xFF, s >> 8 & 0xFFFF, s >> 24) == (exp[r], mult[r], 0)
        assert meta[p * per] >> (32 * 6) == 0  # the pass's padding slots
    with pytest.raises(ap.EncodingError, match="-127, 127"):
        ap.int8_weight_image(np.full((2, 32), -128), tiling.RowSplit(1, 2, 1, 1))
    with pytest.raises(ap.EncodingError, match="M=65536"):
        ap.int8_meta_image([65536], [3], tiling.RowSplit(1, 1, 1, 1))


def test_int8_meta_words_per_pass_pads_each_pass():
    # u280-like: 18 lanes on 3 channels = 54 slots = 216 bytes -> 7 words per pass.
    split = tiling.RowSplit(36, 3, 2, 18)
    assert tiling.int8_meta_words_per_pass(split) == 7
    assert tiling.int8_meta_region_words(split) == 14
    assert [tiling.int8_macs(w) for w in (0.125, 0.25, 0.375, 1.0, 2.0)] == [4, 8, 16, 32, 32]


def test_int8_descriptor_fields():
    split = tiling.RowSplit(128, 2, 43, 3)
    d = ap.int8_descriptor(
        w_base_bytes=320,
        meta_base_bytes=64,
        x_base=7,
        y_base=100,
        n=256,
        k=64,
        tokens=2,
        split=split,
    )
    word = d.pack()
    assert word & 0xFFFFFFFF == 10 and (word >> 32) & 0xFFFFFFFF == 2
    assert (word >> 64) & 0xFFFFFF == 7 and (word >> 88) & 0xFFFFFF == 7 + 2 * 2
    assert (word >> 112) & 0xFFFFFF == 100
    assert (word >> 136) & 0xFFFFF == 64 and (word >> 156) & 0xFFFFF == 128
    assert (word >> 176) & 0xFFFFF == 256
    assert (word >> 196) & 0xFFF == 1  # meta words per pass: 6 slots
    assert (word >> 208) & 0xFFFF == 2
    assert (word >> 224) & 0x7FFF == 0 and word >> 239 & 1 == 1  # no groups; the int8 bit
    assert word >> 240 == 2  # words per row
    w2 = ap.linear_descriptor(
        w_base_bytes=0,
        meta_base_bytes=0,
        x_base=0,
        y_base=0,
        n=64,
        k=64,
        group=64,
        tokens=1,
        split=split,
        mac_blocks=4,
    )
    assert w2.pack() >> 239 & 1 == 0
    with pytest.raises(ap.EncodingError, match="n % 8"):
        ap.int8_descriptor(
            w_base_bytes=0, meta_base_bytes=0, x_base=0, y_base=0, n=20, k=64, tokens=1, split=split
        )


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
