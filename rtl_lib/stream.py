"""cocotb helpers shared by the rtl_lib tests: clock/reset, valid/ready source and sink, packing.

Conventions every rtl_lib primitive follows (so these helpers fit all of them):
- one clock `clk`, rising edge; synchronous active-high reset `rst`;
- a streaming input is `s_valid`/`s_ready` plus payload ports, a streaming output is
  `m_valid`/`m_ready` plus payload ports (names can be overridden); a beat moves on a rising edge
  where valid and ready are both 1; a source never retracts valid or changes payload before the
  beat moves;
- vectors of lanes are packed into one port, lane 0 in the least significant bits.

`StreamSource` inserts random valid gaps and `StreamSink` applies random back-pressure, both drawn
from Python's `random` (seeded by cocotb from `ACCLLM_RTL_SEED`, see `accllm.rtl_lib.sim`).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge


def pack(values: Iterable[int], width: int) -> int:
    """Pack integers (two's complement if negative) into one int, element 0 in the low bits."""
    out, mask = 0, (1 << width) - 1
    for i, v in enumerate(values):
        out |= (int(v) & mask) << (i * width)
    return out


def unpack(word: int, width: int, count: int, signed: bool = False) -> list[int]:
    """Inverse of `pack`: `count` fields of `width` bits, element 0 from the low bits."""
    mask = (1 << width) - 1
    out = []
    for i in range(count):
        v = (word >> (i * width)) & mask
        if signed and v >> (width - 1):
            v -= 1 << width
        out.append(v)
    return out


async def clock_and_reset(dut, period_ns: int = 10, cycles: int = 3) -> None:
    """Start `dut.clk` and hold `dut.rst` high for `cycles` rising edges."""
    cocotb.start_soon(Clock(dut.clk, period_ns, unit="ns").start())
    dut.rst.value = 1
    await ClockCycles(dut.clk, cycles)
    dut.rst.value = 0
    await RisingEdge(dut.clk)


class StreamSource:
    """Drives beats into a valid/ready input of `dut`.

    `send(beats)` drives each beat (a mapping port name -> integer) in order, waiting a random
    number of idle cycles before a beat with probability `gap_prob` (up to `max_gap` cycles).
    Ports of a beat not named in it keep their previous value.
    """

    def __init__(
        self,
        dut,
        valid: str = "s_valid",
        ready: str = "s_ready",
        gap_prob: float = 0.3,
        max_gap: int = 3,
    ) -> None:
        self.dut, self.clk = dut, dut.clk
        self.valid, self.ready = getattr(dut, valid), getattr(dut, ready)
        self.gap_prob, self.max_gap = gap_prob, max_gap
        self.valid.value = 0

    async def send(self, beats: Sequence[Mapping[str, int]]) -> None:
        """Drive every beat of `beats`; returns after the last one was accepted."""
        for beat in beats:
            if self.gap_prob and random.random() < self.gap_prob:
                self.valid.value = 0
                await ClockCycles(self.clk, random.randint(1, self.max_gap))
            for name, value in beat.items():
                getattr(self.dut, name).value = int(value)
            self.valid.value = 1
            while True:
                # Sample ready once everything settled before the edge that moves the beat.
                await ReadOnly()
                accepted = self.ready.value == 1
                await RisingEdge(self.clk)
                if accepted:
                    break
        self.valid.value = 0


class StreamSink:
    """Collects beats from a valid/ready output of `dut` under random back-pressure.

    Each cycle `ready` is low with probability `stall_prob`. Every accepted beat is recorded as a
    dict port name -> unsigned integer for the ports in `fields`; `signed_fields` are recorded
    as signed (two's complement of their full port width) instead.
    """

    def __init__(
        self,
        dut,
        fields: Sequence[str],
        valid: str = "m_valid",
        ready: str = "m_ready",
        stall_prob: float = 0.3,
        signed_fields: Sequence[str] = (),
    ) -> None:
        self.dut, self.clk = dut, dut.clk
        self.fields, self.signed = list(fields), set(signed_fields)
        self.valid, self.ready = getattr(dut, valid), getattr(dut, ready)
        self.stall_prob = stall_prob
        self.beats: list[dict[str, int]] = []
        self.ready.value = 0

    def _read(self, name: str) -> int:
        v = getattr(self.dut, name).value
        if not hasattr(v, "to_unsigned"):  # a 1-bit port reads as a Logic, not a LogicArray
            return int(v)
        return v.to_signed() if name in self.signed else v.to_unsigned()

    async def collect(self, count: int, timeout_cycles: int = 100_000) -> list[dict[str, int]]:
        """Accept `count` beats (appended to `self.beats`, also returned); fails on a timeout."""
        got: list[dict[str, int]] = []
        for _ in range(timeout_cycles):
            self.ready.value = 0 if random.random() < self.stall_prob else 1
            # Sample the settled values of this cycle: the beat moves at the next rising edge.
            await ReadOnly()
            moved = self.valid.value == 1 and self.ready.value == 1
            if moved:
                got.append({f: self._read(f) for f in self.fields})
            await RisingEdge(self.clk)
            if moved and len(got) == count:
                break
        else:
            raise AssertionError(f"timeout: {len(got)} of {count} beats after {timeout_cycles}")
        self.ready.value = 0
        self.beats.extend(got)
        return got


async def run_command(
    dut, payload: int, prefix: str = "", other_done: str | None = None, limit: int = 200_000
) -> int:
    """Run one command of an engine unit: hold `<prefix>cmd_valid` with `<prefix>cmd_payload`
    until `<prefix>cmd_ready`, then wait for `<prefix>done`. Returns the cycles from acceptance
    to done. `other_done` names the done pulse of the unit's other command stream, which must
    stay low meanwhile; `limit` bounds the wait (the error names the unit's state `st`)."""
    getattr(dut, f"{prefix}cmd_payload").value = payload
    getattr(dut, f"{prefix}cmd_valid").value = 1
    await RisingEdge(dut.clk)
    while not int(getattr(dut, f"{prefix}cmd_ready").value):
        await RisingEdge(dut.clk)
    getattr(dut, f"{prefix}cmd_valid").value = 0
    n = 0
    while not int(getattr(dut, f"{prefix}done").value):
        if other_done is not None:
            assert not int(getattr(dut, other_done).value), f"{other_done} pulsed"
        await RisingEdge(dut.clk)
        n += 1
        assert n < limit, f"{dut._name} stuck in state {int(dut.st.value)}"
    return n


class UnitMemories:
    """The descriptor ROM and the activation buffer around an engine unit under test (ports
    `desc_addr`/`desc_data`, `act_addr`/`act_we`/`act_lane_we`/`act_wdata`/`act_rdata`): reads
    answer the previous cycle's address, a write replaces the 32-bit lanes its enables name.
    `writes` records every write as (address, lane enables, data) in order, `written` the
    addresses; start `run()` with cocotb.start_soon."""

    def __init__(self, dut, desc: dict[int, int] | None = None, act: dict[int, int] | None = None):
        self.dut = dut
        self.desc = {} if desc is None else desc
        self.act = {} if act is None else act
        self.writes: list[tuple[int, int, int]] = []
        self.written: set[int] = set()

    async def run(self) -> None:
        dut = self.dut
        while True:
            await ReadOnly()
            daddr, aaddr = int(dut.desc_addr.value), int(dut.act_addr.value)
            we, lanes = int(dut.act_we.value), int(dut.act_lane_we.value)
            wdata = int(dut.act_wdata.value)
            await RisingEdge(dut.clk)
            if we:
                self.writes.append((aaddr, lanes, wdata))
                self.written.add(aaddr)
                old = self.act.get(aaddr, 0)
                for i in range(8):
                    if lanes >> i & 1:
                        m = 0xFFFFFFFF << (32 * i)
                        old = (old & ~m) | (wdata & m)
                self.act[aaddr] = old
            dut.desc_data.value = self.desc.get(daddr, 0)
            dut.act_rdata.value = self.act.get(aaddr, 0)

    def lane_writes(self) -> list[tuple[int, int, int]]:
        """Every written 32-bit lane as (address, lane, signed value), in write order."""
        out = []
        for addr, lanes, wdata in self.writes:
            for i in range(8):
                if lanes >> i & 1:
                    v = (wdata >> (32 * i)) & 0xFFFFFFFF
                    out.append((addr, i, v - (1 << 32) if v >> 31 else v))
        return out
