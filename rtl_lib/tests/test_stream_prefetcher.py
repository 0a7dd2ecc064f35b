"""stream_prefetcher against the fetch-program reference model and the behavioural HBM.

The fetch programs are encoded by `accllm.rtl_lib.fetch_isa` into a ROM model (one cycle of read
latency, like rtl_lib/rom.sv); the AXI port is served by `accllm.backend.sim.hbm.AxiHbm`. The
beats and tags the prefetcher delivers must equal `fetch_isa.deliveries` (data read from the
memory at each delivered address). Functional runs use a small FIFO (64 beats) so the credit
rule is exercised: the consumer stalls completely for a while, then pops under random
back-pressure while the HBM adds random gaps and arready stalls; the R channel must never be
back-pressured (rready high whenever rvalid is). With HBM and consumer at one beat per cycle and
a 64-cycle latency, a long RANGE and a RING must take the cycles of the timing rule in
docs/rtl_lib.md (`sustained_rate`): at u280's parameters (512-bit beats, 2048-beat FIFO) beats +
latency + 9; with the 64-beat FIFO the credit loop limits the rate to 64 / (64 + 8 + 15).
"""

from __future__ import annotations

import random

import cocotb
import pytest
from cocotb.triggers import ReadOnly, RisingEdge

from accllm.backend.sim import hbm
from accllm.rtl_lib import fetch_isa as fi
from accllm.rtl_lib import sim
from accllm.rtl_lib.stream import clock_and_reset


async def _rom(dut, words: dict[int, int]) -> None:
    """ROM model: prog_data = entry at the address presented in the previous cycle."""
    while True:
        await ReadOnly()
        addr = int(dut.prog_addr.value)
        await RisingEdge(dut.clk)
        dut.prog_data.value = words.get(addr, 0)


class Monitor:
    """Counts cycles where the R channel offers a beat that the prefetcher does not take."""

    def __init__(self, dut):
        self.dut, self.blocked = dut, 0
        cocotb.start_soon(self._run())

    async def _run(self) -> None:
        while True:
            await ReadOnly()
            if self.dut.m_axi_rvalid.value == 1 and self.dut.m_axi_rready.value == 0:
                self.blocked += 1
            await RisingEdge(self.dut.clk)


async def _start(dut, pc: int, pos: int) -> None:
    dut.start_pc.value, dut.pos.value, dut.start.value = pc, pos, 1
    await RisingEdge(dut.clk)
    dut.start.value = 0


async def _consume(dut, count: int, hold: int = 0, stall_prob: float = 0.0, limit: int = 50_000):
    """Pop `count` beats (none in the first `hold` cycles, then ready low with `stall_prob`);
    returns the (tag, data) list and the cycle of the last pop."""
    got, cycle = [], 0
    while len(got) < count:
        dut.m_ready.value = int(cycle >= hold and random.random() >= stall_prob)
        await ReadOnly()
        if dut.m_valid.value == 1 and dut.m_ready.value == 1:
            got.append((int(dut.m_tag.value), int(dut.m_data.value)))
        await RisingEdge(dut.clk)
        cycle += 1
        assert cycle < limit, f"{len(got)} of {count} beats after {limit} cycles"
    dut.m_ready.value = 0
    return got, cycle


async def _wait_idle(dut, limit: int = 1000) -> int:
    for n in range(limit):
        await ReadOnly()
        if dut.idle.value == 1:
            await RisingEdge(dut.clk)
            return n
        await RisingEdge(dut.clk)
    raise AssertionError("idle never rose")


def _setup(dut, p, latency, wpc, stall_prob):
    mem = {i: random.getrandbits(256) for i in range(1 << 13)}  # 256 KiB
    ch = hbm.AxiHbm("m_axi_", mem, latency, wpc, data_bits=p["DATA_W"], stall_prob=stall_prob)
    dut.start.value = 0
    dut.m_ready.value = 0
    dut.prog_data.value = 0
    return ch


FIRST_BEAT = 9  # cycles from start to the first beat on m_valid, besides the HBM latency


def _expect(ch: hbm.AxiHbm, prog, pos: int, dw: int) -> list[tuple[int, int]]:
    return [(tag, ch.read_beat(addr)) for tag, addr in fi.deliveries(prog, pos, dw)]


@cocotb.test()
async def program_delivers_reference(dut):
    p = sim.test_parameters()
    dw, bb, ntags = p["DATA_W"], p["DATA_W"] // 8, 1 << p["TAG_W"]
    ch = _setup(dut, p, latency=16, wpc=dw / 256, stall_prob=0.3)
    await clock_and_reset(dut)
    cocotb.start_soon(hbm.serve_axi(dut, dut.clk, [ch]))
    mon = Monitor(dut)
    # program A at pc 0: ranges of odd lengths and alignments, KV-like rings (64-byte slots,
    # 2-byte scale slots, a ring whose capacity is below pos), a ring crossing MAX_BURST edges.
    prog_a = [
        fi.Range(1, 0, 1),
        fi.Range(3, 5 * bb, 200),
        fi.Ring(0, 4096, 64, 1024),
        fi.Ring(2, 300 * bb, 2, 1024),
        fi.Range(ntags - 1, 1000 * bb, p["MAX_BURST"] + 3),
        fi.Ring(1, 1200 * bb, 96, 30),
        fi.Range(0, 3 * bb, 17),
        fi.End(),
    ]
    # program B at pc 20: rings only; run with pos 0 they deliver nothing
    prog_b = [fi.Ring(1, 0, 64, 8), fi.Range(2, 64 * bb, 5), fi.Ring(0, 128 * bb, 2, 100), fi.End()]
    words = dict(enumerate(fi.encode_program(prog_a, dw, ntags)))
    words |= {20 + i: w for i, w in enumerate(fi.encode_program(prog_b, dw, ntags))}
    cocotb.start_soon(_rom(dut, words))
    for pc, prog, pos in [(0, prog_a, 40), (20, prog_b, 0), (20, prog_b, 5), (0, prog_a, 5000)]:
        want = _expect(ch, prog, pos, dw)
        await _start(dut, pc, pos)
        got, _ = await _consume(dut, len(want), hold=400, stall_prob=0.4)
        assert got == want
        await _wait_idle(dut)
        assert dut.err.value == 0
    assert mon.blocked == 0, f"R channel back-pressured in {mon.blocked} cycles"
    assert not ch.violations, ch.violations[:3]


@cocotb.test()
async def illegal_entry_stops_with_err(dut):
    """Illegal entries stop the walk with err_code bit 0; a SLVERR read sets bit 1."""
    p = sim.test_parameters()
    dw, bb, ntags = p["DATA_W"], p["DATA_W"] // 8, 1 << p["TAG_W"]
    ch = _setup(dut, p, latency=8, wpc=dw / 256, stall_prob=0.0)
    await clock_and_reset(dut)
    cocotb.start_soon(hbm.serve_axi(dut, dut.clk, [ch]))
    good = fi.Range(1, bb, 3)
    bad = {
        "tag": fi.encode(fi.Range(0, 0, 1)) | (ntags << fi.TAG_SHIFT),
        "unaligned": fi.encode(fi.Range(0, 0, 1)) | (bb // 2 << fi.ADDR_SHIFT),
        "opcode": 0x7 << fi.OPCODE_SHIFT,
        "zero beats": fi.Opcode.RANGE << fi.OPCODE_SHIFT,
    }
    rom: dict[int, int] = {}
    cocotb.start_soon(_rom(dut, rom))
    for name, word in bad.items():
        rom.clear()
        rom |= {0: fi.encode(good), 1: word, 2: fi.encode(good)}
        await _start(dut, 0, 0)
        got, _ = await _consume(dut, 3)
        assert got == _expect(ch, [good, fi.End()], 0, dw), name
        await _wait_idle(dut)
        assert dut.err.value == 1 and int(dut.err_code.value) == 1, name
        await RisingEdge(dut.clk)
        assert dut.m_valid.value == 0, f"{name}: the walk went on after the illegal entry"
    # the next start clears the error
    rom |= {1: fi.encode(fi.End())}
    await _start(dut, 0, 0)
    await _consume(dut, 3)
    await _wait_idle(dut)
    assert dut.err.value == 0
    # an AXI read error (SLVERR on the second beat): data delivered, err_code bit 1
    ch.error_addrs.add(2 * bb)
    await _start(dut, 0, 0)
    got, _ = await _consume(dut, 3)
    assert got == _expect(ch, [good, fi.End()], 0, dw)
    await _wait_idle(dut)
    assert dut.err.value == 1 and int(dut.err_code.value) == 2


def sustained_rate(depth: int, max_burst: int, latency: int) -> float:
    """The timing rule of docs/rtl_lib.md: beats per cycle the credit loop sustains (HBM and
    consumer at one beat per cycle). A credit freed by a pop returns as a beat in the FIFO after
    latency + 8 cycles, and a command waits for a whole chunk (up to MAX_BURST beats) of credit."""
    return min(1.0, depth / (latency + 8 + max_burst - 1))


@cocotb.test()
async def streams_at_full_rate(dut):
    """One beat per cycle from HBM and consumer: a long RANGE and a RING take their beats at the
    rate of `sustained_rate` (1 at u280's parameters) plus the latency to the first beat."""
    p = sim.test_parameters()
    dw, bb, latency = p["DATA_W"], p["DATA_W"] // 8, 64
    ch = _setup(dut, p, latency=latency, wpc=dw / 256, stall_prob=0.0)
    await clock_and_reset(dut)
    cocotb.start_soon(hbm.serve_axi(dut, dut.clk, [ch]))
    beats = 3000
    ring = fi.Ring(1, 0, 64, 1024)  # a K ring of 128 4-bit dims per slot, 1024 slots
    prog = [fi.Range(0, 64 * bb, beats), fi.End(), ring, fi.End()]
    cocotb.start_soon(_rom(dut, dict(enumerate(fi.encode(e) for e in prog))))
    rate = sustained_rate(p["DEPTH"], p["MAX_BURST"], latency)
    for pc, entries, pos in [(0, prog[:2], 0), (2, prog[2:], 4000)]:
        want = _expect(ch, entries, pos, dw)
        await _start(dut, pc, pos)
        got, cycles = await _consume(dut, len(want))
        assert got == want
        model = len(want) / rate + latency + FIRST_BEAT
        dut._log.info(
            f"{len(want)} beats in {cycles} cycles from start; rule {model:.0f} "
            f"(rate {rate:.3f} beats/cycle, latency {latency} + {FIRST_BEAT})"
        )
        assert abs(cycles - model) <= 0.02 * model + 4, f"{cycles} cycles, rule {model:.0f}"
        await _wait_idle(dut)
    assert not ch.violations, ch.violations[:3]


SMALL = {"DATA_W": 256, "TAG_W": 2, "DEPTH": 64, "MAX_BURST": 16, "MAX_OUTSTANDING": 4}


@pytest.mark.rtl
def test_stream_prefetcher_small_fifo():
    """256-bit beats (sim), a 64-beat FIFO: the credit rule under a stalled consumer, and a rate
    below one beat per cycle at a 64-cycle latency (the FIFO is shallower than the loop)."""
    sim.run_primitive(
        "stream_prefetcher",
        __file__,
        SMALL,
    )


@pytest.mark.rtl
def test_stream_prefetcher_u280():
    """u280 parameters (512-bit beats, 2048-beat FIFO, in UltraRAM as the u280 build would put
    it): the reference program and the full rate."""
    sim.run_primitive(
        "stream_prefetcher",
        __file__,
        {"URAM": 1},
        testcase=["program_delivers_reference", "streams_at_full_rate"],
    )
