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
        ap.LinearDescriptor(0, 0, 0, 0, 0, 64, 1, 64, 1, 70000, 1, 1).pack()
