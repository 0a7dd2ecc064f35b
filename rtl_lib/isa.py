"""The sequencer's instruction set: the one Python definition of its 64-bit encoding.

docs/isa.md is the prose version; `rtl_lib/sequencer.sv` decodes the same fields. The backend emits
programs with `encode_program` and the cocotb test of the sequencer drives the RTL with it and
checks the dispatched commands against `expand`, the reference execution order.

Word layout (bit 63 is the MSB):

    [63:60] opcode
    DISPATCH  [59:56] unit       [55:0]  payload handed to the unit unchanged
    LOOP      [59:32] reserved   [31:0]  iteration count (>= 1)
    BARRIER   [59:16] reserved   [15:0]  unit mask (bit u = unit u)
    NOP, ENDLOOP, HALT           [59:0]  reserved

Reserved bits must be zero; the decoder here and the hardware both reject a word otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

WORD_BITS = 64
OPCODE_SHIFT = 60
UNIT_SHIFT = 56
UNIT_BITS = 4
PAYLOAD_BITS = 56
COUNT_BITS = 32
MASK_BITS = 16
MAX_UNITS = 1 << UNIT_BITS


class IsaError(ValueError):
    """An instruction or program that the sequencer cannot execute."""


class Opcode(IntEnum):
    """Values of the opcode field [63:60]; every other value is an illegal instruction."""

    NOP = 0x0
    DISPATCH = 0x1
    LOOP = 0x2
    ENDLOOP = 0x3
    BARRIER = 0x4
    HALT = 0x5


class ErrorCode(IntEnum):
    """Values of the sequencer's `err_code` output when it stops with `error` high."""

    ILLEGAL = 1  # unknown opcode, nonzero reserved bits, LOOP count 0, unit index >= NUM_UNITS
    LOOP_OVERFLOW = 2  # LOOP with all LOOP_DEPTH loop-stack entries in use
    LOOP_UNDERFLOW = 3  # ENDLOOP with an empty loop stack
    PC_OVERFLOW = 4  # execution ran past the last addressable instruction
    SPURIOUS_DONE = 5  # a unit pulsed unit_done with no command outstanding


@dataclass(frozen=True)
class Nop:
    """Does nothing for one instruction slot."""


@dataclass(frozen=True)
class Dispatch:
    """Hand `payload` (56 bits, meaning defined by the unit) to engine unit `unit` with valid/ready.

    Blocks until the unit accepts it; later instructions never overtake it.
    """

    unit: int
    payload: int


@dataclass(frozen=True)
class Loop:
    """Run the instructions up to the matching ENDLOOP `count` times (count >= 1)."""

    count: int


@dataclass(frozen=True)
class EndLoop:
    """Close the innermost LOOP: jump back to its body while iterations remain."""


@dataclass(frozen=True)
class Barrier:
    """Wait until every command dispatched so far to a unit in `units` has completed."""

    units: frozenset[int]

    def __init__(self, units: Iterable[int]) -> None:
        object.__setattr__(self, "units", frozenset(units))


@dataclass(frozen=True)
class Halt:
    """Wait until all dispatched commands have completed, then stop and raise `done`."""


Instr = Nop | Dispatch | Loop | EndLoop | Barrier | Halt


def _field(name: str, value: int, bits: int) -> int:
    if not isinstance(value, int) or not 0 <= value < (1 << bits):
        raise IsaError(f"{name}={value!r} does not fit in {bits} unsigned bits")
    return value


def encode(instr: Instr) -> int:
    """The 64-bit word of one instruction; raises IsaError for out-of-range fields."""
    match instr:
        case Nop():
            return Opcode.NOP << OPCODE_SHIFT
        case Dispatch(unit=unit, payload=payload):
            unit = _field("DISPATCH unit", unit, UNIT_BITS)
            payload = _field("DISPATCH payload", payload, PAYLOAD_BITS)
            return (Opcode.DISPATCH << OPCODE_SHIFT) | (unit << UNIT_SHIFT) | payload
        case Loop(count=count):
            count = _field("LOOP count", count, COUNT_BITS)
            if count == 0:
                raise IsaError("LOOP count must be >= 1 (a loop runs its body at least once)")
            return (Opcode.LOOP << OPCODE_SHIFT) | count
        case EndLoop():
            return Opcode.ENDLOOP << OPCODE_SHIFT
        case Barrier(units=units):
            mask = 0
            for u in units:
                if not isinstance(u, int) or not 0 <= u < MASK_BITS:
                    raise IsaError(f"BARRIER unit {u!r} outside 0..{MASK_BITS - 1}")
                mask |= 1 << u
            return (Opcode.BARRIER << OPCODE_SHIFT) | mask
        case Halt():
            return Opcode.HALT << OPCODE_SHIFT
    raise IsaError(f"not a sequencer instruction: {instr!r}")


def decode(word: int) -> Instr:
    """The instruction encoded by a 64-bit word; raises IsaError exactly when the hardware would
    stop with an illegal-instruction error (unknown opcode, nonzero reserved bits, LOOP count 0)."""
    _field("instruction word", word, WORD_BITS)
    try:
        op = Opcode(word >> OPCODE_SHIFT)
    except ValueError:
        raise IsaError(f"illegal opcode {word >> OPCODE_SHIFT:#x} in {word:#018x}") from None
    body = word & ((1 << OPCODE_SHIFT) - 1)
    used = {
        Opcode.DISPATCH: (1 << OPCODE_SHIFT) - 1,
        Opcode.LOOP: (1 << COUNT_BITS) - 1,
        Opcode.BARRIER: (1 << MASK_BITS) - 1,
    }.get(op, 0)
    if body & ~used:
        raise IsaError(f"{op.name} with nonzero reserved bits: {word:#018x}")
    match op:
        case Opcode.NOP:
            return Nop()
        case Opcode.DISPATCH:
            return Dispatch(unit=body >> UNIT_SHIFT, payload=body & ((1 << PAYLOAD_BITS) - 1))
        case Opcode.LOOP:
            if body == 0:
                raise IsaError(f"LOOP with count 0: {word:#018x}")
            return Loop(count=body)
        case Opcode.ENDLOOP:
            return EndLoop()
        case Opcode.BARRIER:
            return Barrier(u for u in range(MASK_BITS) if body >> u & 1)
        case _:
            return Halt()


def check_program(program: Sequence[Instr], num_units: int, loop_depth: int) -> None:
    """Raise IsaError unless `program` runs on a sequencer with `num_units` units and a loop stack
    of `loop_depth` entries: every unit index exists, LOOP/ENDLOOP nest within the stack depth, and
    the program ends with HALT (so execution cannot run past it)."""
    depth = 0
    for pc, instr in enumerate(program):
        match instr:
            case Dispatch(unit=unit) if unit >= num_units:
                raise IsaError(f"pc {pc}: DISPATCH to unit {unit}, only {num_units} units")
            case Barrier(units=units) if any(u >= num_units for u in units):
                raise IsaError(f"pc {pc}: BARRIER names a unit >= {num_units}")
            case Loop():
                depth += 1
                if depth > loop_depth:
                    raise IsaError(f"pc {pc}: loops nested deeper than {loop_depth}")
            case EndLoop():
                depth -= 1
                if depth < 0:
                    raise IsaError(f"pc {pc}: ENDLOOP without LOOP")
    if depth != 0:
        raise IsaError(f"{depth} LOOP(s) without ENDLOOP")
    if not program or not isinstance(program[-1], Halt):
        raise IsaError("a program must end with HALT")


def encode_program(program: Sequence[Instr], num_units: int, loop_depth: int) -> list[int]:
    """Check `program` (see `check_program`) and return its instruction words, pc 0 first."""
    check_program(program, num_units, loop_depth)
    return [encode(i) for i in program]


def decode_program(words: Iterable[int]) -> list[Instr]:
    """Decode a list of instruction words (pc 0 first)."""
    return [decode(w) for w in words]


def to_readmemh(words: Iterable[int]) -> str:
    """Instruction words as a `$readmemh` file: one 16-digit hex word per line."""
    return "".join(f"{w:016x}\n" for w in words)


def expand(program: Sequence[Instr]) -> list[Dispatch | Barrier | Halt]:
    """The reference execution order: the DISPATCH, BARRIER and HALT instructions in the order the
    sequencer executes them, with every loop unrolled. Stops at the first HALT."""
    out: list[Dispatch | Barrier | Halt] = []
    stack: list[list[int]] = []  # [body start pc, iterations left]
    pc = 0
    while pc < len(program):
        instr = program[pc]
        match instr:
            case Dispatch() | Barrier():
                out.append(instr)
            case Halt():
                out.append(instr)
                return out
            case Loop(count=count):
                stack.append([pc + 1, count])
            case EndLoop():
                if not stack:
                    raise IsaError(f"pc {pc}: ENDLOOP without LOOP")
                stack[-1][1] -= 1
                if stack[-1][1]:
                    pc = stack[-1][0]
                    continue
                stack.pop()
        pc += 1
    raise IsaError("execution ran past the end of the program without HALT")
