"""Descriptors of the vector units (accllm.backend.accel_program_vector).

The 256-bit words are decoded here bit by bit at the offsets `rtl_lib/vector_unit.sv` and
`rtl_lib/norm_unit.sv` slice (written out below, not taken from VECTOR_FIELDS / NORM_FIELDS);
the RTL side is tested by rtl_lib/tests/test_vector_unit.py and test_norm_unit.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from accllm.backend import accel_program_vector as apv
from accllm.backend import tiling
from accllm.backend.accel_program import EncodingError
from accllm.numerics import contract as ct

# (offset, width) of each field in the RTL's unpacking order (LSB first).
OFFSETS = {
    "op": (0, 8),
    "x_base": (8, 24),
    "y_base": (32, 24),
    "o_base": (56, 24),
    "fo_base": (80, 24),
    "tokens": (104, 16),
    "x_row_words": (120, 16),
    "o_row_words": (136, 16),
    "reserved": (152, 104),
}


def field(word: int, name: str) -> int:
    off, width = OFFSETS[name]
    return word >> off & ((1 << width) - 1)


def decode(word: int) -> dict[str, int]:
    assert 0 <= word < 1 << 256
    return {name: field(word, name) for name in OFFSETS}


def test_requantize_writes_the_a8_layout_of_the_mac_unit():
    """Tiny model: 12 tokens of 64 -> A8 rows of 2 words, exponents right after them."""
    d = apv.vector_descriptor("requantize", inputs=[0x1234], o_base=0xABCDE, length=64, tokens=12)
    assert decode(d.pack()) == {
        "op": 0,
        "x_base": 0x1234,
        "y_base": 0,
        "o_base": 0xABCDE,
        "fo_base": 0xABCDE + 12 * 2,
        "tokens": 12,
        "x_row_words": 8,
        "o_row_words": 2,
        "reserved": 0,
    }
    # The region it fills is exactly tiling.act_words of an A8 activation.
    assert 12 * 2 + 1 == tiling.act_words(12, 64, 8, per_token=True)
    assert apv.unit_of("requantize") == "vec"


def test_add_and_swiglu_fields():
    d = apv.vector_descriptor("add", inputs=[7, 0x800000 - 1], o_base=300, length=64, tokens=1)
    assert decode(d.pack()) == {
        "op": 1,
        "x_base": 7,
        "y_base": 0x7FFFFF,
        "o_base": 300,
        "fo_base": 0,
        "tokens": 1,
        "x_row_words": 8,
        "o_row_words": 8,
        "reserved": 0,
    }
    d = apv.vector_descriptor("swiglu", inputs=[10, 20], o_base=30, length=128, tokens=12)
    w = decode(d.pack())
    assert (w["op"], w["x_base"], w["y_base"], w["o_base"]) == (2, 10, 20, 30)
    assert (w["tokens"], w["x_row_words"], w["o_row_words"]) == (12, 16, 16)
    assert apv.unit_of("add") == "vec" and apv.unit_of("swiglu") == "act"


def test_every_bit_of_a_field_lands_in_its_slot():
    """All-ones fields decode to all ones and leave their neighbours zero."""
    for name, (off, width) in OFFSETS.items():
        if name == "reserved":
            continue
        kw = {n: 0 for n in OFFSETS if n != "reserved"}
        kw[name] = (1 << width) - 1
        assert apv.VectorDescriptor(**kw).pack() == ((1 << width) - 1) << off


def test_refused_operations():
    with pytest.raises(EncodingError, match="length % 8"):
        apv.vector_descriptor("add", inputs=[0, 1], o_base=2, length=12, tokens=1)
    with pytest.raises(EncodingError, match="input buffer"):
        apv.vector_descriptor("add", inputs=[0], o_base=2, length=64, tokens=1)
    with pytest.raises(EncodingError, match="does not execute"):
        apv.vector_descriptor("rmsnorm", inputs=[0], o_base=2, length=64, tokens=1)
    with pytest.raises(EncodingError, match="x_base"):
        apv.vector_descriptor("requantize", inputs=[1 << 24], o_base=2, length=64, tokens=1).pack()


NORM_OFFSETS = {
    "x_base": (0, 24),
    "o_base": (24, 24),
    "tokens": (48, 16),
    "x_row_words": (64, 16),
    "gain_base": (80, 32),
    "gain_words": (112, 16),
    "gain_shift": (128, 8),
    "eps_q": (136, 32),
    "reserved": (168, 88),
}


def test_norm_descriptor_fields():
    """Tiny model's first norm: 12 tokens of 64, gains at byte 24576 of the misc channel."""
    gq, gsh, eps_q = ct.rmsnorm_params(np.linspace(0.5, 1.5, 64), 1e-5)
    d = apv.norm_descriptor(
        x_base=0x10,
        o_base=0x70,
        length=64,
        tokens=12,
        gain_base_bytes=24576,
        gain_shift=gsh,
        eps_q=eps_q,
    )
    w = d.pack()
    got = {n: w >> off & ((1 << width) - 1) for n, (off, width) in NORM_OFFSETS.items()}
    assert got == {
        "x_base": 0x10,
        "o_base": 0x70,
        "tokens": 12,
        "x_row_words": 8,
        "gain_base": 768,
        "gain_words": 4,
        "gain_shift": gsh,
        "eps_q": eps_q,
        "reserved": 0,
    }
    # 4 words = the 128-byte table region the lowering allocates for H = 64.
    assert 4 * tiling.WORD_BYTES == 128


def test_norm_gain_image_is_little_endian_int16():
    gain = np.array([1, -1, 32767, -32768] + list(range(14)))
    words = apv.norm_gain_image(gain)
    assert len(words) == 2
    raw = b"".join(w.to_bytes(32, "little") for w in words)
    assert list(np.frombuffer(raw[: 2 * len(gain)], dtype="<i2")) == list(gain)
    assert raw[2 * len(gain) :] == bytes(64 - 2 * len(gain))
    with pytest.raises(EncodingError, match="gain mantissa"):
        apv.norm_gain_image([1 << 15])


def test_norm_refuses_unaligned_tables_and_shifts():
    kw = dict(x_base=0, o_base=0, length=64, tokens=1, gain_shift=3, eps_q=1)
    with pytest.raises(EncodingError, match="word aligned"):
        apv.norm_descriptor(gain_base_bytes=16, **kw)
    with pytest.raises(EncodingError, match="gain_shift"):
        apv.norm_descriptor(gain_base_bytes=0, **{**kw, "gain_shift": 48})


ROPE_OFFSETS = {
    "x_base": (0, 24),
    "o_base": (24, 24),
    "tokens": (48, 16),
    "heads": (64, 8),
    "half": (72, 8),
    "row_words": (80, 16),
    "pos_base": (96, 32),
    "flags": (128, 8),
    "reserved": (136, 120),
}


def test_rope_descriptor_fields():
    """Tiny model's q rope: 4 heads x 16; prefill at a constant, decode at the register."""
    for position, pos_base, flags in ((0, 0, 0), (9, 9, 0), (None, 0, 1)):
        d = apv.rope_descriptor(
            x_base=5, o_base=0x654321, length=64, head_dim=16, tokens=12, position=position
        )
        w = d.pack()
        got = {n: w >> off & ((1 << width) - 1) for n, (off, width) in ROPE_OFFSETS.items()}
        assert got == {
            "x_base": 5,
            "o_base": 0x654321,
            "tokens": 12,
            "heads": 4,
            "half": 8,
            "row_words": 8,
            "pos_base": pos_base,
            "flags": flags,
            "reserved": 0,
        }
    with pytest.raises(EncodingError, match="head_dim"):
        apv.rope_descriptor(x_base=0, o_base=0, length=64, head_dim=24, tokens=1, position=0)


def test_embedding_descriptor_fields_and_ids():
    d = apv.embedding_descriptor(
        ids_base=300, o_base=7, hidden=64, tokens=12, table_base_bytes=32 * 1000
    )
    assert (d.x_row_words, d.row_words, d.table_base) == (8, 3, 1000)  # 65 bytes: 3 words
    w = d.pack()
    assert w & (1 << 24) - 1 == 300 and w >> 24 & (1 << 24) - 1 == 7
    assert w >> 80 & 0xFFFFFFFF == 1000 and w >> 112 & 0xFFFF == 3
    assert w >> 128 == 64  # hidden, nothing above it
    assert apv.embedding_ids_words(list(range(9))) == [
        sum(i << (32 * i) for i in range(8)),
        8,
    ]
    with pytest.raises(EncodingError, match="word aligned"):
        apv.embedding_descriptor(ids_base=0, o_base=0, hidden=64, tokens=1, table_base_bytes=4)
    with pytest.raises(EncodingError, match="length % 8"):
        apv.embedding_descriptor(ids_base=0, o_base=0, hidden=60, tokens=1, table_base_bytes=0)
