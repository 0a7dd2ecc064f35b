"""axi_read_master against a behavioural AXI4 slave memory with random latency and back-pressure.

The memory holds 2:4 W2 rows packed by `accllm.numerics.contract.pack_2_4_w2` (the words the HBM
really holds; at DATA_W = 512 two 256-bit words per beat, the lower address in the low bits)
followed by random words. Commands of 1 word, exactly MAX_BURST, MAX_BURST + 1,
crossing 4 KiB boundaries and a few hundred words run back to back; the stream must deliver
exactly the memory words of each command, in order, with tlast on each command's last word. The
slave checks every AXI rule the master must keep (INCR, arsize, burst length <= MAX_BURST, no
4 KiB crossing, request stable until arready, outstanding bursts <= MAX_OUTSTANDING) and holds
its data stable until rready. A beat answered with SLVERR must raise `err`. With PIPELINE = 1 at
u280's parameters (512-bit beats, 64-cycle latency) back-to-back commands against the behavioural
HBM of `accllm.backend.sim.hbm` must stream one beat per cycle: beats + latency + a few cycles.
"""

from __future__ import annotations

import random
from collections import deque

import cocotb
import numpy as np
import pytest
from cocotb.triggers import ReadOnly, RisingEdge, with_timeout

from accllm.backend.sim import hbm
from accllm.numerics import contract
from accllm.rtl_lib import sim
from accllm.rtl_lib.stream import StreamSink, StreamSource, clock_and_reset


class AxiSlaveMemory:
    """Word-addressed AXI4 read slave; `mem[byte_address]` is a DATA_W-bit word."""

    def __init__(self, dut, mem: dict[int, int], bytes_per_word: int, max_burst: int, max_os: int):
        self.dut, self.mem, self.bpw = dut, mem, bytes_per_word
        self.max_burst, self.max_os = max_burst, max_os
        self.bursts: deque[list] = deque()  # [address, beats left, cycle ready]
        self.cycle, self.in_flight, self.max_in_flight = 0, 0, 0
        self.error_addresses: set[int] = set()
        self.violations: list[str] = []
        dut.m_axi_arready.value = 0
        dut.m_axi_rvalid.value = 0
        cocotb.start_soon(self._ar())
        cocotb.start_soon(self._r())

    def _check(self, cond: bool, msg: str) -> None:
        if not cond:
            self.violations.append(msg)

    async def _ar(self) -> None:
        held = None  # the request seen with arvalid high and arready low: must not change
        while True:
            self.dut.m_axi_arready.value = int(random.random() < 0.5)
            await ReadOnly()
            d = self.dut
            self._check(held is None or d.m_axi_arvalid.value == 1, "arvalid dropped early")
            if d.m_axi_arvalid.value == 1:
                req = (int(d.m_axi_araddr.value), int(d.m_axi_arlen.value))
                self._check(held is None or held == req, f"AR changed while waiting: {held}->{req}")
                if d.m_axi_arready.value == 1:
                    addr, arlen = req
                    n = arlen + 1
                    self._check(int(d.m_axi_arburst.value) == 1, "arburst is not INCR")
                    self._check(1 << int(d.m_axi_arsize.value) == self.bpw, "arsize")
                    self._check(n <= self.max_burst, f"burst of {n} > MAX_BURST")
                    self._check(addr // 4096 == (addr + n * self.bpw - 1) // 4096, "4K crossing")
                    self._check(addr % self.bpw == 0, f"unaligned address {addr:#x}")
                    self.bursts.append([addr, n, self.cycle + random.randint(1, 12)])
                    self.in_flight += 1
                    self.max_in_flight = max(self.max_in_flight, self.in_flight)
                    self._check(self.in_flight <= self.max_os, "too many outstanding bursts")
                    held = None
                else:
                    held = req
            await RisingEdge(self.dut.clk)
            self.cycle += 1

    async def _r(self) -> None:
        d = self.dut
        while True:
            b = self.bursts[0] if self.bursts else None
            if b is not None and b[2] <= self.cycle and random.random() < 0.7:
                addr = b[0]
                d.m_axi_rvalid.value = 1
                d.m_axi_rdata.value = self.mem[addr]
                d.m_axi_rlast.value = int(b[1] == 1)
                d.m_axi_rresp.value = 2 if addr in self.error_addresses else 0
                while True:  # hold the beat until rready
                    await ReadOnly()
                    taken = d.m_axi_rready.value == 1
                    await RisingEdge(d.clk)
                    if taken:
                        break
                b[0], b[1] = addr + self.bpw, b[1] - 1
                if b[1] == 0:
                    self.bursts.popleft()
                    self.in_flight -= 1
            else:
                d.m_axi_rvalid.value = 0
                await RisingEdge(d.clk)


def _memory(rng, beats: int, data_w: int) -> list[int]:
    """Packed W2 rows (contract layout) followed by random words, as DATA_W-bit beats."""
    k, n = 4 * 100, 20  # 100 blocks = 3 words per row
    pats = rng.integers(0, 6, size=(n, k // 4))
    codes = rng.integers(0, 4, size=(n, k // 4, 2))
    words = [w for row in contract.words_to_ints(contract.pack_2_4_w2(codes, pats)) for w in row]
    per = data_w // 256
    words += [random.getrandbits(256) for _ in range(beats * per - len(words))]
    return [sum(words[b * per + i] << (256 * i) for i in range(per)) for b in range(beats)]


@cocotb.test()
async def bursts_deliver_memory(dut):
    p = sim.test_parameters()
    bpw, mb = p["DATA_W"] // 8, p["MAX_BURST"]
    await clock_and_reset(dut)
    rng = np.random.default_rng(random.getrandbits(32))
    base = 0x1_0000_0000 if p["ADDR_W"] > 32 else 0  # exercise the bits above 4 GiB
    words = _memory(rng, 1200, p["DATA_W"])
    mem = {base + i * bpw: w for i, w in enumerate(words)}
    slave = AxiSlaveMemory(dut, mem, bpw, mb, p["MAX_OUTSTANDING"])
    page = 4096 // bpw
    cmds = [(0, 60), (0, 1), (5, mb), (page - 3, 10), (page + 1, mb + 1), (2 * page - 1, 300)]
    cmds += [
        (int(s), int(n))
        for s, n in zip(rng.integers(0, 800, 6), rng.integers(1, 150, 6), strict=True)
    ]
    src = StreamSource(dut, valid="cmd_valid", ready="cmd_ready", gap_prob=0.3, max_gap=20)
    sink = StreamSink(
        dut, ["m_axis_tdata", "m_axis_tlast"], valid="m_axis_tvalid", ready="m_axis_tready"
    )
    cocotb.start_soon(src.send([{"cmd_addr": base + s * bpw, "cmd_len": n} for s, n in cmds]))
    got = await with_timeout(sink.collect(sum(n for _, n in cmds)), 5_000_000, "ns")
    want_data = [words[s + i] for s, n in cmds for i in range(n)]
    want_last = [int(i == n - 1) for _, n in cmds for i in range(n)]
    assert [g["m_axis_tdata"] for g in got] == want_data
    assert [g["m_axis_tlast"] for g in got] == want_last
    assert not slave.violations, slave.violations[:5]
    assert slave.max_in_flight >= 2, "the master never overlapped bursts"
    assert dut.err.value == 0


@cocotb.test()
async def slave_error_sets_err(dut):
    p = sim.test_parameters()
    bpw = p["DATA_W"] // 8
    await clock_and_reset(dut)
    mem = {i * bpw: random.getrandbits(p["DATA_W"]) for i in range(64)}
    slave = AxiSlaveMemory(dut, mem, bpw, p["MAX_BURST"], p["MAX_OUTSTANDING"])
    slave.error_addresses.add(7 * bpw)
    src = StreamSource(dut, valid="cmd_valid", ready="cmd_ready")
    sink = StreamSink(dut, ["m_axis_tdata"], valid="m_axis_tvalid", ready="m_axis_tready")
    cocotb.start_soon(src.send([{"cmd_addr": 0, "cmd_len": 16}]))
    got = await with_timeout(sink.collect(16), 500_000, "ns")
    assert [g["m_axis_tdata"] for g in got] == [mem[i * bpw] for i in range(16)]
    assert dut.err.value == 1
    # The next command clears the sticky flag.
    cocotb.start_soon(src.send([{"cmd_addr": 32 * bpw, "cmd_len": 4}]))
    await with_timeout(sink.collect(4), 500_000, "ns")
    assert dut.err.value == 0


@cocotb.test()
async def streams_at_full_rate(dut):
    """Back-to-back page-sized commands against the behavioural HBM at one beat per cycle."""
    p = sim.test_parameters()
    assert p["PIPELINE"], "one command at a time costs a round trip per command by design"
    bpw, latency, n_cmds, blen = p["DATA_W"] // 8, 64, 24, 4096 // (p["DATA_W"] // 8)
    await clock_and_reset(dut)
    words = {i: random.getrandbits(256) for i in range(n_cmds * blen * bpw // 32)}
    ch = hbm.AxiHbm(
        "m_axi_", words, latency, words_per_cycle=p["DATA_W"] / 256, data_bits=p["DATA_W"]
    )
    cocotb.start_soon(hbm.serve_axi(dut, dut.clk, [ch]))
    dut.m_axis_tready.value = 1
    got, cycle, first = [], 0, None
    cmds = [(i * blen * bpw, blen) for i in range(n_cmds)]
    while len(got) < n_cmds * blen:
        dut.cmd_valid.value = int(bool(cmds))
        if cmds:
            dut.cmd_addr.value, dut.cmd_len.value = cmds[0]
        await ReadOnly()
        if cmds and dut.cmd_ready.value == 1:
            first = cycle if first is None else first
            cmds.pop(0)
        if dut.m_axis_tvalid.value == 1:
            got.append(int(dut.m_axis_tdata.value))
        await RisingEdge(dut.clk)
        cycle += 1
        assert cycle < 10 * n_cmds * blen, "stream stalled"
    want = [ch.read_beat(i * bpw) for i in range(n_cmds * blen)]
    assert got == want
    elapsed, ideal = cycle - first, n_cmds * blen + latency
    dut._log.info(f"{n_cmds * blen} beats in {elapsed} cycles (beats + latency = {ideal})")
    assert elapsed <= ideal + 8, f"{elapsed} cycles for {n_cmds * blen} beats, latency {latency}"
    assert not ch.violations, ch.violations[:3]


FUNCTIONAL = ["bursts_deliver_memory", "slave_error_sets_err"]


@pytest.mark.rtl
def test_axi_read_master_default():
    """HBM defaults: 256-bit words, bursts of up to 64, 4 outstanding, one command at a time."""
    sim.run_primitive("axi_read_master", __file__, testcase=FUNCTIONAL)


@pytest.mark.rtl
def test_axi_read_master_short_bursts_pipelined():
    """Bursts of at most 4 words, 2 outstanding, commands pipelined: many bursts per command,
    the next command accepted while the previous one's data is in flight."""
    sim.run_primitive(
        "axi_read_master",
        __file__,
        {"MAX_BURST": 4, "MAX_OUTSTANDING": 2, "PIPELINE": 1},
        testcase=FUNCTIONAL,
    )


@pytest.mark.rtl
def test_axi_read_master_u280():
    """u280: 512-bit beats (two stream words), pipelined commands; at a 64-cycle latency 4
    outstanding page bursts stream one beat per cycle."""
    sim.run_primitive("axi_read_master", __file__, {"DATA_W": 512, "PIPELINE": 1})
