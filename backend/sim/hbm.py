"""Behavioural HBM channels for cocotb: per-channel latency and bandwidth.

`HbmChannel` serves the read-command / word-stream interface of `rtl_lib/axi_read_master.sv`
(`cmd_valid/ready/addr/len` in, `valid/ready/data` out): a command's first word leaves
`latency` cycles after it is accepted, then words leave at most `words_per_cycle` per cycle on
average (a credit counter: 0.25 = one word every 4 cycles), as a channel of the target delivers
them.  A channel's contents are a dict word address -> 256-bit int (absent = 0); byte
addresses are word aligned.  `serve` runs a set of channels in one coroutine so that channels
sharing vector ports (`index` = their slot) are driven with one write per port and cycle.
Counters record commands and words per channel.

`AxiHbm` serves the same memory through an AXI4 read slave (AR / R channels of one port, as
`rtl_lib/axi_read_master.sv` and the accelerator top `accllm_top` expose them, named
`<prefix>arvalid` ... `<prefix>rlast`): a burst of arlen + 1 words is queued when its address
is accepted, its first beat `latency` cycles later, then beats at `words_per_cycle`, in order
(single ID), `rlast` on a burst's last beat, `rresp` OKAY.  `serve_axi` runs a set of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cocotb.triggers import ReadOnly, RisingEdge

WORD_BYTES = 32
WORD_BITS = 256


@dataclass
class Ports:
    """Names of one channel's ports on the DUT; `index` selects its slot in vector ports."""

    cmd_valid: str
    cmd_ready: str
    cmd_addr: str
    cmd_len: str
    valid: str
    ready: str
    data: str
    index: int | None = None


@dataclass
class HbmChannel:
    ports: Ports
    words: dict[int, int]
    latency: int
    words_per_cycle: float
    words_read: int = 0
    commands: int = 0
    _queue: list[tuple[int, int]] = field(default_factory=list)  # (arrival cycle, word)
    _credit: float = 0.0
    _offer: int | None = None

    def step(self, cycle: int, accept: bool, addr: int, length: int, moved: bool) -> None:
        """Advance one clock edge given what the DUT did in the cycle before it."""
        if accept:
            self.commands += 1
            base = addr // WORD_BYTES
            self._queue += [
                (cycle + self.latency, self.words.get(base + i, 0)) for i in range(length)
            ]
        if moved:
            self._queue.pop(0)
            self.words_read += 1
            self._offer = None
        self._credit = min(self._credit + self.words_per_cycle, 1.0)
        if self._offer is None and self._queue and self._queue[0][0] <= cycle:
            if self._credit >= 1.0:
                self._credit -= 1.0
                self._offer = self._queue[0][1]


def _field(value: int, index: int | None, width: int) -> int:
    return value if index is None else (value >> (index * width)) & ((1 << width) - 1)


async def serve(dut, clk, channels: Sequence[HbmChannel]) -> None:
    """Run `channels` forever (start with cocotb.start_soon)."""
    cycle = 0
    drives: dict[str, int] = {}
    for ch in channels:
        p = ch.ports
        for name in (p.cmd_ready, p.valid, p.data):
            drives[name] = 0
    for ch in channels:  # always ready for commands
        p = ch.ports
        drives[p.cmd_ready] |= 1 if p.index is None else 1 << p.index
    for name, v in drives.items():
        getattr(dut, name).value = v
    while True:
        await ReadOnly()
        seen = []
        for ch in channels:
            p = ch.ports

            def get(name, width=1, p=p):
                return _field(int(getattr(dut, name).value), p.index, width)

            seen.append(
                (
                    bool(get(p.cmd_valid)),
                    get(p.cmd_addr) if p.index is None else int(getattr(dut, p.cmd_addr).value),
                    get(p.cmd_len) if p.index is None else int(getattr(dut, p.cmd_len).value),
                    bool(get(p.valid) and get(p.ready)),
                )
            )
        await RisingEdge(clk)
        cycle += 1
        valid = {ch.ports.valid: 0 for ch in channels}
        data = {ch.ports.data: 0 for ch in channels}
        for ch, (accept, addr, length, moved) in zip(channels, seen, strict=True):
            ch.step(cycle, accept, addr, length, moved)
            p = ch.ports
            if ch._offer is not None:
                slot = 0 if p.index is None else p.index
                valid[p.valid] |= 1 << slot
                data[p.data] |= ch._offer << (slot * WORD_BITS)
        for name, v in {**valid, **data}.items():
            getattr(dut, name).value = v


@dataclass
class AxiHbm:
    """One HBM channel behind an AXI4 read port `prefix` (ports `<prefix>arvalid`, ...)."""

    prefix: str
    words: dict[int, int]
    latency: int
    words_per_cycle: float
    words_read: int = 0
    bursts: int = 0
    first_request: int | None = None  # cycle of the first accepted burst
    last_beat: int | None = None  # cycle of the last delivered beat
    _queue: list[tuple[int, int, bool]] = field(default_factory=list)  # (ready cycle, word, last)
    _credit: float = 0.0
    _offer: tuple[int, bool] | None = None

    def step(self, cycle: int, ar: tuple[int, int] | None, moved: bool) -> None:
        """Advance one clock edge given the AR handshake (addr, len) and R beat of the cycle."""
        if ar is not None:
            addr, arlen = ar
            self.bursts += 1
            if self.first_request is None:
                self.first_request = cycle
            base = addr // WORD_BYTES
            self._queue += [
                (cycle + self.latency, self.words.get(base + i, 0), i == arlen)
                for i in range(arlen + 1)
            ]
        if moved:
            self._queue.pop(0)
            self.words_read += 1
            self.last_beat = cycle
            self._offer = None
        self._credit = min(self._credit + self.words_per_cycle, 1.0)
        if self._offer is None and self._queue and self._queue[0][0] <= cycle:
            if self._credit >= 1.0:
                self._credit -= 1.0
                self._offer = self._queue[0][1:]


async def serve_axi(dut, clk, channels: Sequence[AxiHbm]) -> None:
    """Run AXI4 read slaves `channels` forever (start with cocotb.start_soon); arready is
    always high (the model queues any number of bursts)."""
    cycle = 0
    for ch in channels:
        getattr(dut, ch.prefix + "arready").value = 1
        getattr(dut, ch.prefix + "rvalid").value = 0
        getattr(dut, ch.prefix + "rresp").value = 0
        getattr(dut, ch.prefix + "rlast").value = 0
        getattr(dut, ch.prefix + "rdata").value = 0
    while True:
        await ReadOnly()
        seen = []
        for ch in channels:

            def get(port, ch=ch):
                return int(getattr(dut, ch.prefix + port).value)

            ar = (get("araddr"), get("arlen")) if get("arvalid") else None
            seen.append((ar, bool(get("rvalid") and get("rready"))))
        await RisingEdge(clk)
        cycle += 1
        for ch, (ar, moved) in zip(channels, seen, strict=True):
            ch.step(cycle, ar, moved)
            offer = ch._offer
            getattr(dut, ch.prefix + "rvalid").value = int(offer is not None)
            getattr(dut, ch.prefix + "rdata").value = offer[0] if offer else 0
            getattr(dut, ch.prefix + "rlast").value = int(bool(offer and offer[1]))
