"""cocotb bench of the Vitis RTL kernel (`backend/vitis`: `accllm_kernel` around the top),
driven the way a host drives a card: every access goes through the AXI4-Lite control slave
`s_axi_control` (the register map of `job.regmap`, regmap.json; cocotbext-axi's AXI4-Lite
master runs `backend/kernel_host.KernelHost`, the protocol the `device` backend runs on a
card), the HBM images are served
behind the `m_axi_hbm<c>` masters at the buffer addresses the host wrote into the pointer
registers (channel c at (c + 1) << 32: the kernel's address adder is exercised).

Same job and server protocol as `accel_tb` (`AccelJob`, `AccelServer`): RoPE tables written
through the `rope_tbl_*` registers (a strobe register write per entry), token ids through the
`host_*` registers, each program started by `ap_start` after `prog_base` / `pos` are written and
waited for by polling `ap_done` (cycles counted from the `ap_start` write to the read that saw
`ap_done`: what a host measures), logits rows read back through `host_addr` / `host_rdata_*`,
the sequencer's and units' errors read from the status registers after each program.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge
from cocotb.utils import get_sim_time
from cocotbext.axi import AxiLiteBus, AxiLiteMaster

from accllm.backend.kernel_host import KernelHost, step_runner
from accllm.backend.sim.accel_tb import _Progress, _serve
from accllm.backend.sim.accelerator import JOB_ENV, AccelJob, AccelRun
from accllm.backend.sim.hbm import AxiHbm, serve_axi


def pointer(channel: int) -> int:
    """The buffer address the host gives channel `channel`'s master."""
    return (channel + 1) << 32


CLOCK_NS = 10


class HostBus:
    """A host's register accesses to `s_axi_control`, one at a time as a driver makes them,
    through cocotbext-axi's AXI4-Lite master (`KernelHost`'s bus: timeouts in cycles)."""

    def __init__(self, dut):
        bus = AxiLiteBus.from_prefix(dut, "s_axi_control")
        self.master = AxiLiteMaster(bus, dut.ap_clk, dut.ap_rst_n, reset_active_level=False)
        for side in (self.master.write_if, self.master.read_if):
            side.log.setLevel(logging.WARNING)  # its start-up banner, not per-access noise

    async def write(self, addr: int, value: int) -> None:
        await self.master.write_dword(addr, value)

    async def read(self, addr: int) -> int:
        return await self.master.read_dword(addr)

    def now(self) -> int:
        return get_sim_time("ns") // CLOCK_NS


@cocotb.test()
async def run_kernel(dut):
    job = AccelJob.from_json(Path(os.environ[JOB_ENV]).read_text())
    cocotb.start_soon(Clock(dut.ap_clk, CLOCK_NS, unit="ns").start())
    bus = HostBus(dut)
    mems = {
        c: {pointer(c) // 32 + a: w for a, w in job.hbm.get(c, {}).items()} for c in job.channels
    }
    chans = [
        AxiHbm(f"m_axi_hbm{c}_", mems[c], job.latency, job.words_per_cycle, job.data_bits)
        for c in job.channels
    ]
    # The table master reads the misc channel's buffer (the same memory, the same pointer).
    tables = []
    if job.table_channel >= 0:
        mem = mems.setdefault(job.table_channel, {})
        tables = [AxiHbm("m_axi_tbl_", mem, job.latency, min(1.0, job.words_per_cycle))]
    dut.ap_rst_n.value = 0
    await ClockCycles(dut.ap_clk, 3)
    dut.ap_rst_n.value = 1
    await RisingEdge(dut.ap_clk)
    cocotb.start_soon(serve_axi(dut, dut.ap_clk, chans + tables))

    host = KernelHost(bus, job.regmap, job.rope_tables, job.fetch_bases, job.max_cycles)
    ptrs = {f"hbm{c}_ptr": pointer(c) for c in job.channels}
    if tables:
        ptrs["tbl_ptr"] = pointer(job.table_channel)
    await host.setup(ptrs)
    await host.load(job.act_in)
    run_steps = step_runner(host.load, host.run_program, host.read, _Progress())

    cycles: list[int] = []
    step_act: list[dict[int, int]] = []
    await run_steps(job.programs, job.positions, job.step_in, job.step_reads, cycles, step_act)
    if job.serve:
        await _serve(job.serve, run_steps, chans, job.channels)
    act = await host.read(job.reads)
    violations = [v for ch in chans for v in ch.violations]
    assert not violations, f"AXI rules broken: {violations[:3]}"
    run = AccelRun(
        cycles=cycles,
        act=act,
        words_read={c: ch.words_read for c, ch in zip(job.channels, chans, strict=True)},
        bursts={c: ch.bursts for c, ch in zip(job.channels, chans, strict=True)},
        step_act=step_act,
    )
    Path(os.environ["ACCLLM_ACCEL_RESULT"]).write_text(run.to_json())
