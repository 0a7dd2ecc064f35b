"""The ISA encoder/decoder against hand-worked words, and the reference execution order.

The expected words are written out bit field by bit field from docs/isa.md, not computed by the
encoder; the hardware side of the same encoding is checked in test_sequencer.py.
"""

from __future__ import annotations

import pytest

from accllm.rtl_lib import isa

# (instruction, word worked out by hand from the table in docs/isa.md)
HAND = [
    (isa.Nop(), 0x0000_0000_0000_0000),
    (isa.Dispatch(3, 0xAB_CDEF_0123_4567), 0x13AB_CDEF_0123_4567),
    (isa.Dispatch(15, (1 << 56) - 1), 0x1FFF_FFFF_FFFF_FFFF),
    (isa.Loop(1), 0x2000_0000_0000_0001),
    (isa.Loop(0xFFFF_FFFF), 0x2000_0000_FFFF_FFFF),
    (isa.EndLoop(), 0x3000_0000_0000_0000),
    (isa.Barrier([0, 2, 15]), 0x4000_0000_0000_8005),
    (isa.Barrier([]), 0x4000_0000_0000_0000),
    (isa.Halt(), 0x5000_0000_0000_0000),
]


@pytest.mark.parametrize(("instr", "word"), HAND)
def test_encode_decode_hand_worked(instr, word):
    assert isa.encode(instr) == word
    assert isa.decode(word) == instr


@pytest.mark.parametrize(
    "word",
    [
        0x6000_0000_0000_0000,  # opcode 6
        0xF000_0000_0000_0000,
        0x0000_0000_0000_0001,  # NOP reserved bit
        0x2000_0001_0000_0001,  # LOOP reserved bit 32
        0x2000_0000_0000_0000,  # LOOP 0
        0x4000_0000_0001_0000,  # BARRIER reserved bit 16
        0x5800_0000_0000_0000,  # HALT reserved bit 59
        1 << 64,  # not a 64-bit word
    ],
)
def test_decode_rejects_illegal_words(word):
    with pytest.raises(isa.IsaError):
        isa.decode(word)


@pytest.mark.parametrize(
    "instr",
    [isa.Dispatch(16, 0), isa.Dispatch(0, 1 << 56), isa.Loop(0), isa.Loop(1 << 32),
     isa.Barrier([16]), isa.Dispatch(-1, 0)],
)  # fmt: skip
def test_encode_rejects_out_of_range_fields(instr):
    with pytest.raises(isa.IsaError):
        isa.encode(instr)


def test_expand_unrolls_nested_loops():
    d = [isa.Dispatch(u, u) for u in range(4)]
    prog = [
        d[0],
        isa.Loop(2),
        d[1],
        isa.Loop(3),
        d[2],
        isa.EndLoop(),
        isa.Barrier([2]),
        isa.EndLoop(),
        isa.Nop(),
        d[3],
        isa.Halt(),
        d[0],  # after HALT: never executed
    ]
    inner = [d[1], d[2], d[2], d[2], isa.Barrier([2])]
    assert isa.expand(prog) == [d[0], *inner, *inner, d[3], isa.Halt()]


def test_check_program_limits():
    ok = [isa.Loop(2), isa.Loop(2), isa.Dispatch(1, 0), isa.EndLoop(), isa.EndLoop(), isa.Halt()]
    assert len(isa.encode_program(ok, num_units=2, loop_depth=2)) == 6
    with pytest.raises(isa.IsaError, match="deeper"):
        isa.check_program(ok, num_units=2, loop_depth=1)
    with pytest.raises(isa.IsaError, match="unit 1"):
        isa.check_program(ok, num_units=1, loop_depth=2)
    with pytest.raises(isa.IsaError, match="HALT"):
        isa.check_program(ok[:-1], num_units=2, loop_depth=2)
    with pytest.raises(isa.IsaError, match="without LOOP"):
        isa.check_program([isa.EndLoop(), isa.Halt()], num_units=2, loop_depth=2)
    with pytest.raises(isa.IsaError, match="without ENDLOOP"):
        isa.check_program([isa.Loop(1), isa.Halt()], num_units=2, loop_depth=2)


def test_readmemh_format():
    assert isa.to_readmemh([0x13AB_CDEF_0123_4567, 0]) == "13abcdef01234567\n0000000000000000\n"
