"""The fetch-program encoder/decoder against hand-worked words, and the reference deliveries.

Expected words are written field by field from the layout in docs/isa.md, not computed by the
encoder; the hardware side of the encoding is checked in test_stream_prefetcher.py.
"""

from __future__ import annotations

import pytest

from accllm.rtl_lib import fetch_isa as fi

HAND = [
    (fi.End(), 0x0 << 124),
    # RANGE tag 3, addr 0x1_0000_0040, 17 beats
    (fi.Range(3, 0x1_0000_0040, 17), 0x1030_0001_0000_0040_0000_0000_0000_0011),
    # RING tag 0xff, addr 0xffff_ffff_ffc0, slot 2 B, capacity 1024
    (fi.Ring(0xFF, 0xFFFF_FFFF_FFC0, 2, 1024), 0x2FF0_FFFF_FFFF_FFC0_0000_0400_0000_0002),
]


@pytest.mark.parametrize(("entry", "word"), HAND)
def test_encode_decode_hand_worked(entry, word):
    assert fi.encode(entry) == word
    assert fi.decode(word) == entry


@pytest.mark.parametrize(
    ("word", "msg"),
    [
        (0x3 << 124, "illegal fetch opcode 0x3"),
        (1, "END with nonzero reserved bits"),
        (0x1000_0000_0000_0000_0000_0001_0000_0001, "RANGE with nonzero reserved"),  # bit 32
        (0x1001_0000_0000_0000_0000_0000_0000_0001, "RANGE with nonzero reserved"),  # bit 112
        (0x1 << 124, "RANGE with 0 beats"),
        (0x2000_0000_0000_0000_0000_0001_0001_0001, "RING with nonzero reserved"),  # bit 16
        (0x2000_0000_0000_0000_0000_0000_0000_0002, "RING with capacity or slot_bytes 0"),
        (0x2000_0000_0000_0000_0000_0001_0000_0000, "RING with capacity or slot_bytes 0"),
        (1 << 128, "does not fit in 128"),
    ],
)
def test_decode_rejects(word, msg):
    with pytest.raises(fi.FetchIsaError, match=msg):
        fi.decode(word)


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        (fi.Range(256, 0, 1), "RANGE tag"),
        (fi.Range(0, 1 << 48, 1), "RANGE addr"),
        (fi.Range(0, 0, 0), "RANGE beats"),
        (fi.Range(0, 0, 1 << 32), "RANGE beats"),
        (fi.Ring(0, 0, 1 << 16, 4), "RING slot_bytes"),
        (fi.Ring(0, 0, 2, 0), "RING capacity"),
        (fi.Ring(0, -64, 2, 4), "RING addr"),
    ],
)
def test_encode_names_the_field(entry, field):
    with pytest.raises(fi.FetchIsaError, match=field):
        fi.encode(entry)


def test_check_program():
    ok = [fi.Range(1, 64, 2), fi.Ring(0, 128, 64, 8), fi.End()]
    assert fi.encode_program(ok, 512, 2) == [fi.encode(e) for e in ok]
    with pytest.raises(fi.FetchIsaError, match="not aligned to 64-byte"):
        fi.check_program([fi.Range(0, 32, 1), fi.End()], 512, 1)
    fi.check_program([fi.Range(0, 32, 1), fi.End()], 256, 1)
    with pytest.raises(fi.FetchIsaError, match="tag 2 >= 2"):
        fi.check_program([fi.Range(2, 0, 1), fi.End()], 256, 2)
    with pytest.raises(fi.FetchIsaError, match="must end with END"):
        fi.check_program([fi.Range(0, 0, 1)], 256, 1)
    with pytest.raises(fi.FetchIsaError, match="END before the last"):
        fi.check_program([fi.End(), fi.End()], 256, 1)
    with pytest.raises(fi.FetchIsaError, match="exceeds"):
        fi.check_program([fi.Ring(0, 0, 64, 1 << 20), fi.End()], 256, 1, max_beats=1 << 20)
    with pytest.raises(fi.FetchIsaError, match="built for"):
        fi.check_program([fi.End()], 128, 1)


def test_ring_beats_rounds_up_whole_beats():
    # 2-byte KV scale slots, 64-byte beats: 33 slots = 66 bytes -> 2 beats
    assert fi.ring_beats(33, 1024, 2, 512) == 2
    assert fi.ring_beats(32, 1024, 2, 512) == 1
    assert fi.ring_beats(0, 1024, 2, 512) == 0
    # capacity caps the slots: 64-byte K slots, pos beyond capacity
    assert fi.ring_beats(5000, 1024, 64, 512) == 1024
    assert fi.ring_beats(5000, 1024, 64, 256) == 2048


def test_deliveries_reference():
    prog = [
        fi.Range(2, 0x1000, 3),
        fi.Ring(1, 0x8000, 2, 100),  # pos 40: 80 bytes -> 3 beats of 32
        fi.Ring(0, 0x9000, 64, 100),  # 40 slots of 64 bytes -> 80 beats of 32
        fi.End(),
        fi.Range(0, 0, 5),  # after END: not delivered
    ]
    got = fi.deliveries(prog, 40, 256)
    want = [(2, 0x1000), (2, 0x1020), (2, 0x1040), (1, 0x8000), (1, 0x8020), (1, 0x8040)]
    want += [(0, 0x9000 + 32 * i) for i in range(80)]
    assert got == want
    assert fi.deliveries(prog, 0, 512) == [(2, 0x1000), (2, 0x1040), (2, 0x1080)]
    with pytest.raises(fi.FetchIsaError, match="without END"):
        fi.deliveries([fi.Range(0, 0, 1)], 0, 256)


def test_readmemh():
    assert fi.to_readmemh([1, 1 << 127]) == "0" * 31 + "1\n8" + "0" * 31 + "\n"
