"""Behavioural HBM channels for cocotb: per-channel latency and bandwidth.

`HbmChannel` serves the read-command / word-stream interface of `rtl_lib/axi_read_master.sv`
(`cmd_valid/ready/addr/len` in, `valid/ready/data` out): a command's first word leaves
`latency` cycles after it is accepted, then words leave at most `words_per_cycle` per cycle on
average (a credit counter: 0.25 = one word every 4 cycles), as a channel of the target delivers
them.  A channel's contents are a dict word address -> 256-bit int (absent = 0); byte
addresses are word aligned.  `serve` runs a set of channels in one coroutine so that channels
sharing vector ports (`index` = their slot) are driven with one write per port and cycle.
Counters record commands and words per channel.

`AxiHbm` serves the same memory through an AXI4 slave port `prefix` (`<prefix>arvalid` ...
`<prefix>rlast`, as `rtl_lib/axi_read_master.sv` and the accelerator top `accllm_top` expose
them) with `data_bits`-bit beats (256 on `sim`, 512 on `u280`: a 512-bit beat is two 256-bit
words of the word dict, the lower address in the low bits).  Reads: a burst of arlen + 1 beats is
queued (its data taken from the memory) when its address is accepted, its first beat `latency`
cycles later, then beats in order (single ID), `rlast` on a burst's last beat, `rresp` OKAY.
Writes, when the DUT has `<prefix>awvalid` (AW / W / B): a burst's W beats are accepted once its
address is, each byte written where `wstrb` is set, and its B response (OKAY) comes `latency`
cycles after its last beat.  Reads and writes share one bandwidth credit of `words_per_cycle`
256-bit words per cycle (a beat takes data_bits / 256 words of credit; when both wait they take
turns).  `stall_prob` > 0 adds random back-pressure and gaps (arready, awready, wready low, no R
beat offered) for tests.  Every AXI rule the model can see broken (unaligned address, 4 KiB
crossing, wlast not on a burst's last beat) is appended to `violations`.  Tests inject errors with
`error_addrs` (byte addresses of beats): such a read beat comes with rresp SLVERR, a write burst
that touches one gets bresp SLVERR (its data is still written).  Counters: words read and
written (256-bit words), bytes written (strobes set), bursts.  `serve_axi` runs a set of them.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from cocotb.triggers import ReadOnly, RisingEdge

from accllm.numerics.words import WORD_BITS, WORD_BYTES

OKAY, SLVERR = 0, 2  # AXI response codes


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
    """One HBM channel behind an AXI4 port `prefix` (ports `<prefix>arvalid`, ...)."""

    prefix: str
    words: dict[int, int]
    latency: int
    words_per_cycle: float
    data_bits: int = WORD_BITS
    stall_prob: float = 0.0
    words_read: int = 0
    words_written: int = 0
    bytes_written: int = 0
    bursts: int = 0
    write_bursts: int = 0
    first_request: int | None = None  # cycle of the first accepted burst
    last_beat: int | None = None  # cycle of the last delivered beat
    violations: list[str] = field(default_factory=list)
    error_addrs: set[int] = field(default_factory=set)
    _queue: deque = field(default_factory=deque)  # (ready cycle, beat data, last, resp)
    _credit: float = 0.0
    _offer: tuple[int, bool, int] | None = None
    _aw: deque = field(default_factory=deque)  # [address of the next beat, beats left, resp]
    _b_due: deque = field(default_factory=deque)  # (ready cycle, resp) of pending B responses
    _b_offer: int | None = None  # bresp offered
    _wready: bool = False
    _w_first: bool = False  # the write side takes the credit first next time both wait

    def __post_init__(self) -> None:
        if self.data_bits % WORD_BITS or self.data_bits <= 0:
            raise ValueError(f"data_bits={self.data_bits}: a multiple of {WORD_BITS} expected")
        self.beat_words = self.data_bits // WORD_BITS
        self.beat_bytes = self.data_bits // 8

    def _check_burst(self, kind: str, addr: int, beats: int) -> None:
        if addr % self.beat_bytes:
            self.violations.append(f"{kind} address {addr:#x} not aligned to {self.beat_bytes}")
        if addr // 4096 != (addr + beats * self.beat_bytes - 1) // 4096:
            self.violations.append(f"{kind} burst at {addr:#x} of {beats} beats crosses 4 KiB")

    def read_beat(self, addr: int) -> int:
        """The beat at byte address `addr` (its words, lowest address in the low bits)."""
        base = addr // WORD_BYTES
        return sum(self.words.get(base + i, 0) << (i * WORD_BITS) for i in range(self.beat_words))

    def write_beat(self, addr: int, data: int, strb: int) -> None:
        """Write the bytes of a beat at byte address `addr` whose strobe bit is set."""
        base = addr // WORD_BYTES
        for i in range(self.beat_words):
            s = (strb >> (i * WORD_BYTES)) & ((1 << WORD_BYTES) - 1)
            if not s:
                continue
            mask = sum(0xFF << (8 * b) for b in range(WORD_BYTES) if s >> b & 1)
            new = (data >> (i * WORD_BITS)) & mask
            self.words[base + i] = (self.words.get(base + i, 0) & ~mask) | new
            self.words_written += 1
            self.bytes_written += s.bit_count()

    def step(
        self,
        cycle: int,
        ar: tuple[int, int] | None,
        moved: bool,
        aw: tuple[int, int] | None = None,
        w: tuple[int, int, int] | None = None,
        b_moved: bool = False,
        w_waiting: bool = False,
    ) -> None:
        """Advance one clock edge given the handshakes of the cycle before it: AR (addr, len),
        an R beat, AW (addr, len), a W beat (data, strb, last), a B response; `w_waiting`: the DUT
        held wvalid high in that cycle."""
        if w is not None:
            data, strb, last = w
            burst = self._aw[0]
            self.write_beat(burst[0], data, strb)
            if burst[0] in self.error_addrs:
                burst[2] = SLVERR
            self._credit -= self.beat_words
            burst[0] += self.beat_bytes
            burst[1] -= 1
            if bool(last) != (burst[1] == 0):
                self.violations.append(f"wlast={last} with {burst[1]} beats left in the burst")
            if burst[1] == 0:
                self._aw.popleft()
                self._b_due.append((cycle + self.latency, burst[2]))
        if aw is not None:
            addr, awlen = aw
            self._check_burst("write", addr, awlen + 1)
            self.write_bursts += 1
            self._aw.append([addr, awlen + 1, OKAY])
        if ar is not None:
            addr, arlen = ar
            self._check_burst("read", addr, arlen + 1)
            self.bursts += 1
            if self.first_request is None:
                self.first_request = cycle
            for i in range(arlen + 1):
                a = addr + i * self.beat_bytes
                resp = SLVERR if a in self.error_addrs else OKAY
                self._queue.append((cycle + self.latency, self.read_beat(a), i == arlen, resp))
        if moved:
            self._queue.popleft()
            self.words_read += self.beat_words
            self.last_beat = cycle
            self._offer = None
        if b_moved:
            self._b_offer = None
        self._credit = min(self._credit + self.words_per_cycle, max(1.0, self.beat_words))
        want_w = bool(self._aw)
        self._wready = False
        both = want_w and w_waiting
        if both and self._w_first:
            self._grant_w()
            self._grant_r(cycle)
            if self._wready:  # the write side had its turn
                self._w_first = False
        else:
            granted_r = self._grant_r(cycle)
            self._grant_w()
            if both and granted_r:  # the read side had its turn
                self._w_first = True
        if self._b_offer is None and self._b_due and self._b_due[0][0] <= cycle:
            self._b_offer = self._b_due.popleft()[1]

    def _stall(self) -> bool:
        return self.stall_prob > 0 and random.random() < self.stall_prob

    def _grant_r(self, cycle: int) -> bool:
        """Offer the next R beat if it is due and the credit allows; True if one was offered."""
        spare = self._credit - (self.beat_words if self._wready else 0)
        if self._offer is None and self._queue and self._queue[0][0] <= cycle:
            if spare >= self.beat_words and not self._stall():
                self._credit -= self.beat_words
                self._offer = self._queue[0][1:]
                return True
        return False

    def _grant_w(self) -> bool:
        """Raise wready if the credit allows a W beat (its credit is taken when it moves)."""
        self._wready = bool(self._aw) and self._credit >= self.beat_words and not self._stall()
        return self._wready


async def serve_axi(dut, clk, channels: Sequence[AxiHbm]) -> None:
    """Run AXI4 slaves `channels` forever (start with cocotb.start_soon). A port has a read side
    when the DUT has `<prefix>arvalid` and a write side when it has `<prefix>awvalid`. Without
    `stall_prob` arready and awready are always high (the model queues any number of bursts)."""
    cycle = 0
    reads = [hasattr(dut, ch.prefix + "arvalid") for ch in channels]
    writes = [hasattr(dut, ch.prefix + "awvalid") for ch in channels]

    def put(ch: AxiHbm, port: str, value: int) -> None:
        getattr(dut, ch.prefix + port).value = value

    for ch, rd, wr in zip(channels, reads, writes, strict=True):
        if rd:
            for port in ("rvalid", "rresp", "rlast", "rdata"):
                put(ch, port, 0)
            put(ch, "arready", int(not ch._stall()))
        if wr:
            for port in ("wready", "bvalid", "bresp"):
                put(ch, port, 0)
            put(ch, "awready", int(not ch._stall()))
    while True:
        await ReadOnly()
        seen = []
        for ch, rd, wr in zip(channels, reads, writes, strict=True):

            def get(port, ch=ch):
                return int(getattr(dut, ch.prefix + port).value)

            ar = aw = w = None
            moved = b_moved = w_waiting = False
            if rd:
                ar = (get("araddr"), get("arlen")) if get("arvalid") and get("arready") else None
                moved = bool(get("rvalid") and get("rready"))
            if wr:
                aw = (get("awaddr"), get("awlen")) if get("awvalid") and get("awready") else None
                w_waiting = bool(get("wvalid"))
                if w_waiting and get("wready"):
                    w = (get("wdata"), get("wstrb"), get("wlast"))
                b_moved = bool(get("bvalid") and get("bready"))
            seen.append((ar, moved, aw, w, b_moved, w_waiting))
        await RisingEdge(clk)
        cycle += 1
        for ch, rd, wr, args in zip(channels, reads, writes, seen, strict=True):
            ch.step(cycle, *args)
            if rd:
                offer = ch._offer
                put(ch, "rvalid", int(offer is not None))
                put(ch, "rdata", offer[0] if offer else 0)
                put(ch, "rlast", int(bool(offer and offer[1])))
                if ch.error_addrs:  # rresp stays OKAY otherwise (one VPI write less per cycle)
                    put(ch, "rresp", offer[2] if offer else OKAY)
                if ch.stall_prob:
                    put(ch, "arready", int(not ch._stall()))
            if wr:
                put(ch, "wready", int(ch._wready))
                put(ch, "bvalid", int(ch._b_offer is not None))
                put(ch, "bresp", ch._b_offer or OKAY)
                if ch.stall_prob:
                    put(ch, "awready", int(not ch._stall()))
