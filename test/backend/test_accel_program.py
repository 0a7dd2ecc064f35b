"""Descriptor and HBM-image encodings of the MAC unit (accllm.backend.accel_program).

The images are decoded here independently (bit slicing per the documented layouts) and compared
with the contract's stored integers; the RTL side is tested by rtl_lib/tests/test_linear_unit.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from accllm.backend import accel_program as ap
from accllm.backend import tiling
from accllm.backend.target_desc import derive_engine, load_target
from accllm.numerics import contract as ct


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
    split = tiling.split_rows(40, derive_engine(load_target("sim")))  # 20 rows/ch, 3 lanes
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
    split = tiling.split_rows(n, derive_engine(load_target("sim")))  # 100 rows/ch, 3 lanes
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
