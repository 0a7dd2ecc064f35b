"""axi_write_master against the behavioural HBM's AXI write slave (backend/sim/hbm.AxiHbm).

Commands of 1 beat, exactly MAX_BURST, MAX_BURST + 1, crossing 4 KiB boundaries and a few
hundred beats run back to back (random gaps between commands and between data beats, random
awready/wready stalls in the slave); every beat carries random byte strobes. The memory must end
up as the expected byte image, computed here byte by byte from the commands (not with the
model's write routine); the slave records any AXI rule broken (unaligned or 4 KiB-crossing
burst, wlast off a burst's last beat). `busy` must stay high until the last B response has been
delivered and `done` pulse once when it falls; a SLVERR response must set `err`.
"""

from __future__ import annotations

import random

import cocotb
import pytest
from cocotb.triggers import ReadOnly, RisingEdge

from accllm.backend.sim import hbm
from accllm.rtl_lib import sim
from accllm.rtl_lib.stream import StreamSource, clock_and_reset


def _bytes_of(words: dict[int, int], nbytes: int) -> bytearray:
    out = bytearray(nbytes)
    for a, w in words.items():
        out[a * 32 : a * 32 + 32] = w.to_bytes(32, "little")
    return out


async def _watch_done(dut, ch: hbm.AxiHbm, record: list) -> None:
    """Record every `done` pulse; when busy falls, no B response may still be due."""
    while True:
        await ReadOnly()
        if dut.done.value == 1:
            record.append((len(ch._aw), len(ch._b_due), ch._b_offer))
        await RisingEdge(dut.clk)


async def _run(dut, cmds, ch, gaps=True) -> list:
    p = sim.test_parameters()
    bb = p["DATA_W"] // 8
    beats = []
    for addr, n in cmds:
        for i in range(n):
            strb = random.getrandbits(bb) if random.random() < 0.7 else (1 << bb) - 1
            beats.append((addr + i * bb, random.getrandbits(p["DATA_W"]), strb))
    csrc = StreamSource(dut, valid="cmd_valid", ready="cmd_ready", gap_prob=0.3 * gaps, max_gap=30)
    dsrc = StreamSource(dut, valid="s_valid", ready="s_ready", gap_prob=0.3 * gaps, max_gap=5)
    cocotb.start_soon(csrc.send([{"cmd_addr": a, "cmd_len": n} for a, n in cmds]))
    await dsrc.send([{"s_data": d, "s_strb": s} for _, d, s in beats])
    return beats


@cocotb.test()
async def writes_land_with_strobes(dut):
    p = sim.test_parameters()
    bb, mb = p["DATA_W"] // 8, p["MAX_BURST"]
    await clock_and_reset(dut)
    size = 1 << 16
    init = {i: random.getrandbits(256) for i in range(size // 32)}
    ch = hbm.AxiHbm("m_axi_", dict(init), 16, p["DATA_W"] / 256, p["DATA_W"], stall_prob=0.3)
    cocotb.start_soon(hbm.serve_axi(dut, dut.clk, [ch]))
    dones: list = []
    cocotb.start_soon(_watch_done(dut, ch, dones))
    page = 4096 // bb
    cmds = [(0, 1), (3 * bb, mb), ((page - 2) * bb, 5), ((page + 7) * bb, mb + 1)]
    cmds += [((2 * page - 1) * bb, 300)]
    cmds += [(random.randrange(0, size // bb - 200) * bb, random.randint(1, 120)) for _ in range(6)]
    beats = await _run(dut, cmds, ch)
    want = _bytes_of(init, size)
    for addr, data, strb in beats:
        for b in range(bb):
            if strb >> b & 1:
                want[addr + b] = (data >> (8 * b)) & 0xFF
    for _ in range(10_000):
        await ReadOnly()
        if dut.busy.value == 0:
            break
        await RisingEdge(dut.clk)
    else:
        raise AssertionError("busy never fell")
    for _ in range(3):  # let the done monitor see the cycle in which busy fell
        await RisingEdge(dut.clk)
    assert _bytes_of(ch.words, size) == want
    assert not ch.violations, ch.violations[:3]
    assert ch.bytes_written == sum(bin(s).count("1") for _, _, s in beats)
    assert dones and all(d == (0, 0, None) for d in dones), f"done with B pending: {dones}"
    assert dut.err.value == 0


@cocotb.test()
async def slave_error_sets_err(dut):
    p = sim.test_parameters()
    bb = p["DATA_W"] // 8
    await clock_and_reset(dut)
    ch = hbm.AxiHbm("m_axi_", {}, 8, p["DATA_W"] / 256, p["DATA_W"])
    ch.error_addrs.add(5 * bb)
    cocotb.start_soon(hbm.serve_axi(dut, dut.clk, [ch]))
    await _run(dut, [(0, 4)], ch, gaps=False)
    for _ in range(100):
        await RisingEdge(dut.clk)
    assert dut.err.value == 0
    await _run(dut, [(4 * bb, 4)], ch, gaps=False)
    for _ in range(100):
        await RisingEdge(dut.clk)
    assert dut.err.value == 1 and dut.busy.value == 0


@pytest.mark.rtl
def test_axi_write_master_u280():
    """u280 defaults: 512-bit beats (64 strobes), bursts of up to 64 beats, 4 outstanding."""
    sim.run_primitive("axi_write_master", __file__)


@pytest.mark.rtl
def test_axi_write_master_short_bursts():
    """256-bit beats (sim), bursts of at most 4 beats, 2 outstanding: many bursts per command."""
    sim.run_primitive(
        "axi_write_master", __file__, {"DATA_W": 256, "MAX_BURST": 4, "MAX_OUTSTANDING": 2}
    )
