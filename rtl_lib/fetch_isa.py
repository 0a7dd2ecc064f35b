"""The stream prefetcher's fetch programs: the one Python definition of their 128-bit encoding.

A fetch program lists, in consumption order, every HBM read one accelerator program (a prefill
chunk or one decode step) makes on one pseudo-channel. `rtl_lib/stream_prefetcher.sv` walks it
from a ROM and streams the words into its FIFO, each beat tagged with the unit that consumes it;
docs/isa.md is the prose version. `deliveries` is the reference model: the (tag, beat address)
sequence the prefetcher must deliver, which the cocotb test compares with the RTL.

Entry layout (bit 127 is the MSB; reserved bits must be zero):

    [127:124] opcode   (0 END, 1 RANGE, 2 RING; other values are illegal)
    [123:116] tag      unit tag carried with every beat of the entry
    [115:112] reserved
    [111:64]  addr     byte address of the first beat (aligned to a DW-bit beat)
    RANGE [63:32] reserved          [31:0]  beats (>= 1)
    RING  [63:32] capacity (>= 1)   [31:16] reserved   [15:0] slot_bytes (>= 1)
    END   [123:0] reserved

RANGE reads `beats` consecutive DW-bit beats from `addr`. RING reads the first
min(pos, capacity) slots of a ring of `slot_bytes`-byte slots at `addr`, rounded up to whole
beats: ceil(min(pos, capacity) * slot_bytes / (DW / 8)) beats (none when pos = 0), where `pos`
is the program's runtime position register (tokens already in the KV cache). END stops the walk.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

ENTRY_BITS = 128
OPCODE_SHIFT = 124
TAG_SHIFT = 116
TAG_BITS = 8
ADDR_SHIFT = 64
ADDR_BITS = 48
BEATS_BITS = 32
CAPACITY_SHIFT = 32
CAPACITY_BITS = 32
SLOT_BYTES_BITS = 16
DATA_BITS = (256, 512)  # beat widths the prefetcher is built for (sim, u280)


class FetchIsaError(ValueError):
    """A fetch entry or program the prefetcher cannot execute."""


class Opcode(IntEnum):
    """Values of the opcode field [127:124]."""

    END = 0x0
    RANGE = 0x1
    RING = 0x2


@dataclass(frozen=True)
class Range:
    """Read `beats` DW-bit beats from byte address `addr` for the unit tagged `tag`."""

    tag: int
    addr: int
    beats: int


@dataclass(frozen=True)
class Ring:
    """Read the first min(pos, capacity) slots of `slot_bytes` bytes each from `addr` (rounded up
    to whole beats) for the unit tagged `tag`: the valid part of a Λ KV ring or its scales."""

    tag: int
    addr: int
    slot_bytes: int
    capacity: int


@dataclass(frozen=True)
class End:
    """The end of the program."""


Entry = Range | Ring | End


def _field(name: str, value: int, bits: int, minimum: int = 0) -> int:
    if not isinstance(value, int) or not minimum <= value < (1 << bits):
        raise FetchIsaError(
            f"{name}={value!r} does not fit in {bits} unsigned bits"
            + (f" (minimum {minimum})" if minimum else "")
        )
    return value


def encode(entry: Entry) -> int:
    """The 128-bit word of one entry; raises FetchIsaError naming a field that does not fit."""
    match entry:
        case End():
            return Opcode.END << OPCODE_SHIFT
        case Range(tag=tag, addr=addr, beats=beats):
            head = _head(Opcode.RANGE, "RANGE", tag, addr)
            return head | _field("RANGE beats", beats, BEATS_BITS, 1)
        case Ring(tag=tag, addr=addr, slot_bytes=slot_bytes, capacity=capacity):
            head = _head(Opcode.RING, "RING", tag, addr)
            capacity = _field("RING capacity", capacity, CAPACITY_BITS, 1)
            slot_bytes = _field("RING slot_bytes", slot_bytes, SLOT_BYTES_BITS, 1)
            return head | (capacity << CAPACITY_SHIFT) | slot_bytes
    raise FetchIsaError(f"not a fetch entry: {entry!r}")


def _head(op: Opcode, name: str, tag: int, addr: int) -> int:
    tag = _field(f"{name} tag", tag, TAG_BITS)
    addr = _field(f"{name} addr", addr, ADDR_BITS)
    return (op << OPCODE_SHIFT) | (tag << TAG_SHIFT) | (addr << ADDR_SHIFT)


def decode(word: int) -> Entry:
    """The entry encoded by a 128-bit word; raises FetchIsaError for the words the hardware
    rejects whatever its parameters (unknown opcode, nonzero reserved bits, RANGE beats 0,
    RING capacity or slot_bytes 0)."""
    _field("fetch entry word", word, ENTRY_BITS)
    try:
        op = Opcode(word >> OPCODE_SHIFT)
    except ValueError:
        op_bits = word >> OPCODE_SHIFT
        raise FetchIsaError(f"illegal fetch opcode {op_bits:#x} in {word:#034x}") from None
    used = {
        Opcode.END: 0,
        Opcode.RANGE: _mask(TAG_SHIFT, TAG_BITS) | _mask(ADDR_SHIFT, ADDR_BITS) | _mask(0, 32),
        Opcode.RING: _mask(TAG_SHIFT, TAG_BITS)
        | _mask(ADDR_SHIFT, ADDR_BITS)
        | _mask(CAPACITY_SHIFT, CAPACITY_BITS)
        | _mask(0, SLOT_BYTES_BITS),
    }[op]
    body = word & ((1 << OPCODE_SHIFT) - 1)
    if body & ~used:
        raise FetchIsaError(f"{op.name} with nonzero reserved bits: {word:#034x}")
    tag = (word >> TAG_SHIFT) & ((1 << TAG_BITS) - 1)
    addr = (word >> ADDR_SHIFT) & ((1 << ADDR_BITS) - 1)
    if op == Opcode.END:
        return End()
    if op == Opcode.RANGE:
        beats = word & ((1 << BEATS_BITS) - 1)
        if beats == 0:
            raise FetchIsaError(f"RANGE with 0 beats: {word:#034x}")
        return Range(tag, addr, beats)
    capacity = (word >> CAPACITY_SHIFT) & ((1 << CAPACITY_BITS) - 1)
    slot_bytes = word & ((1 << SLOT_BYTES_BITS) - 1)
    if capacity == 0 or slot_bytes == 0:
        raise FetchIsaError(f"RING with capacity or slot_bytes 0: {word:#034x}")
    return Ring(tag, addr, slot_bytes, capacity)


def _mask(shift: int, bits: int) -> int:
    return ((1 << bits) - 1) << shift


def _beat_bytes(data_bits: int) -> int:
    if data_bits not in DATA_BITS:
        raise FetchIsaError(f"data_bits={data_bits}: the prefetcher is built for {DATA_BITS}")
    return data_bits // 8


def ring_beats(pos: int, capacity: int, slot_bytes: int, data_bits: int) -> int:
    """Beats a RING entry reads at position register `pos`: ceil(min(pos, capacity) *
    slot_bytes / (data_bits / 8))."""
    bb = _beat_bytes(data_bits)
    return -(-min(pos, capacity) * slot_bytes // bb)


def check_program(
    program: Sequence[Entry], data_bits: int, num_tags: int, max_beats: int = 1 << BEATS_BITS
) -> None:
    """Raise FetchIsaError unless `program` runs on a prefetcher with `data_bits`-bit beats and
    `num_tags` unit tags: every address is beat aligned, every tag < num_tags, a RING's largest
    read (capacity slots) is below `max_beats`, and the program ends with END (its only END)."""
    bb = _beat_bytes(data_bits)
    for i, e in enumerate(program):
        encode(e)  # field ranges
        if isinstance(e, End):
            if i != len(program) - 1:
                raise FetchIsaError(f"entry {i}: END before the last entry")
            continue
        if e.tag >= num_tags:
            raise FetchIsaError(f"entry {i}: tag {e.tag} >= {num_tags} unit tags")
        if e.addr % bb:
            raise FetchIsaError(f"entry {i}: addr {e.addr:#x} not aligned to {bb}-byte beats")
        if isinstance(e, Ring) and ring_beats(e.capacity, e.capacity, e.slot_bytes, data_bits) >= (
            max_beats
        ):
            raise FetchIsaError(f"entry {i}: RING of {e.capacity} slots exceeds {max_beats} beats")
    if not program or not isinstance(program[-1], End):
        raise FetchIsaError("a fetch program must end with END")


def encode_program(program: Sequence[Entry], data_bits: int, num_tags: int) -> list[int]:
    """Check `program` (see `check_program`) and return its entry words, entry 0 first."""
    check_program(program, data_bits, num_tags)
    return [encode(e) for e in program]


def decode_program(words: Iterable[int]) -> list[Entry]:
    """Decode a list of entry words (entry 0 first)."""
    return [decode(w) for w in words]


def to_readmemh(words: Iterable[int]) -> str:
    """Entry words as a `$readmemh` file: one 32-digit hex word per line."""
    return "".join(f"{w:032x}\n" for w in words)


def deliveries(program: Sequence[Entry], pos: int, data_bits: int) -> list[tuple[int, int]]:
    """The reference model: every beat the prefetcher delivers for `program` started with
    position register `pos`, in order, as (tag, byte address of the beat). Stops at END."""
    bb = _beat_bytes(data_bits)
    out: list[tuple[int, int]] = []
    for e in program:
        match e:
            case End():
                return out
            case Range(tag=tag, addr=addr, beats=beats):
                out += [(tag, addr + i * bb) for i in range(beats)]
            case Ring(tag=tag, addr=addr, slot_bytes=sb, capacity=cap):
                out += [(tag, addr + i * bb) for i in range(ring_beats(pos, cap, sb, data_bits))]
    raise FetchIsaError("the fetch program ran past its last entry without END")
