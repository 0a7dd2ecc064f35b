"""The host's side of the Vitis kernel's register protocol: what a driver does, over any bus.

One implementation for every way the kernel is driven: `backend/sim/kernel_tb.py` runs it over
the simulated AXI4-Lite slave (cocotb), the `device` runtime backend over a card's registers
(pynq's MMIO). A bus is anything with

- `async write(offset, value)` / `async read(offset) -> int`: one 32-bit register access;
- `now() -> int | float`: a clock for timeouts and the program's duration (simulated cycles on
  the simulator, seconds on a card), with `limit` (in the same unit) passed to `KernelHost`.

The protocol (register names from `regmap.kernel_spec`, docs/vitis.md):
1. `setup`: the 64-bit buffer address of every master (`<master>_ptr`, low word first), all
   host-port lanes enabled, then the RoPE tables through `rope_tbl_sel/addr/data` and the
   `rope_tbl_we` strobe;
2. `load`: activation-buffer words through `host_addr`, `host_wdata_<i>` and the `host_we` strobe;
3. `run_program`: the prefetchers must be idle (`fetch_idle`), then `fetch_base`, `prog_base`
   and `pos`, `ap_start`, `ap_done` polled; the status registers checked afterwards (a raised
   error names the register, or the sequencer's error code and pc);
4. `read`: activation-buffer words back through `host_addr` and `host_rdata_<i>`.
"""

from __future__ import annotations

from typing import Protocol

AP_START, AP_DONE = 1, 2
ALL_LANES = 0xFF
ERROR_REGS = ("error", "hbm_err", "attn_err", "vec_err", "emb_err", "norm_err", "rope_err")
ERROR_REGS += ("fetch_err",)


class KernelFault(AssertionError):
    """The kernel reported an error or did not finish (an AssertionError so that a cocotb
    bench fails the test with this message)."""


class RegisterBus(Protocol):
    async def write(self, offset: int, value: int) -> None: ...

    async def read(self, offset: int) -> int: ...

    def now(self) -> float: ...


class KernelHost:
    """The register protocol (module doc) of one kernel instance.

    `regs`: register name -> byte offset (regmap.json); `rope_tables`: (sel, addr, value) to
    write at setup; `fetch_bases`: program base -> fetch-program base; `limit`: how long
    (`bus.now()` units) a program may run before it is a fault."""

    def __init__(self, bus: RegisterBus, regs: dict[str, int], rope_tables, fetch_bases, limit):
        self.bus, self.regs = bus, regs
        self.rope_tables = list(rope_tables)
        self.fetch_bases = dict(fetch_bases)
        self.limit = limit
        self.wide = sorted((n for n in regs if n.startswith("host_wdata_")), key=_index)
        self.rdata = sorted((n for n in regs if n.startswith("host_rdata_")), key=_index)

    async def put(self, name: str, value: int) -> None:
        await self.bus.write(self.regs[name], value & 0xFFFFFFFF)

    async def get(self, name: str) -> int:
        return await self.bus.read(self.regs[name])

    async def setup(self, pointers: dict[str, int]) -> None:
        """Buffer addresses (`<master>_ptr` -> byte address), host lanes, RoPE tables."""
        for name, ptr in pointers.items():
            await self.put(name, ptr)
            await self.bus.write(self.regs[name] + 4, (ptr >> 32) & 0xFFFFFFFF)
        if "host_lane_we" in self.regs:
            await self.put("host_lane_we", ALL_LANES)
        sel = None
        for s, addr, value in self.rope_tables:
            if s != sel:
                await self.put("rope_tbl_sel", s)
                sel = s
            await self.put("rope_tbl_addr", addr)
            await self.put("rope_tbl_data", value & 0xFFFF)
            await self.put("rope_tbl_we", 1)

    async def load(self, words: dict[int, int]) -> None:
        for addr, word in sorted(words.items()):
            await self.put("host_addr", addr)
            for i, name in enumerate(self.wide):
                await self.put(name, word >> (32 * i))
            await self.put("host_we", 1)  # a one-cycle strobe

    async def read(self, ranges) -> dict[int, int]:
        act: dict[int, int] = {}
        for start, count in ranges:
            for addr in range(start, start + count):
                await self.put("host_addr", addr)
                parts = [await self.get(n) for n in self.rdata]
                act[addr] = sum(v << (32 * i) for i, v in enumerate(parts))
        return act

    async def run_program(self, base: int, pos: int):
        """Run the program at `base` from position `pos`; its duration in `bus.now()` units
        (from the `ap_start` write to the read that saw `ap_done`: what a host measures)."""
        if "fetch_base" in self.regs:
            if not await self.get("fetch_idle"):
                raise KernelFault(
                    f"before the program at {base}: a prefetcher still holds unconsumed words"
                )
            await self.put("fetch_base", self.fetch_bases[base])
        await self.put("prog_base", base)
        if "pos" in self.regs:
            await self.put("pos", pos)
        start = self.bus.now()
        await self.bus.write(0x00, AP_START)
        while not (await self.bus.read(0x00)) & AP_DONE:
            if self.bus.now() - start >= self.limit:
                raise KernelFault(f"program at {base}: no ap_done after {self.limit}")
        elapsed = self.bus.now() - start
        errors = {n: await self.get(n) for n in ERROR_REGS if n in self.regs}
        if errors.get("error"):
            code, pc = await self.get("err_code"), await self.get("err_pc")
            raise KernelFault(f"sequencer error code {code} at pc {pc} of the program at {base}")
        raised = [n for n, v in errors.items() if v]
        if raised:
            raise KernelFault(f"{', '.join(raised)} raised in the program at {base}")
        return elapsed


def step_runner(load, run_program, read, progress=None, before_read=None):
    """`run_steps(programs, positions, step_ins, step_reads, cycles, step_act)`: per program,
    its inputs loaded, the program run at its position (its duration appended), `progress`
    ticked, then its words read back (after `before_read()`, a phase change a bench needs).
    The one loop of every driver: the top's pins (`accel_tb`), the simulated kernel's registers
    (`kernel_tb`), a card (the `device` runtime backend)."""

    async def run_steps(programs, positions, step_ins, step_reads, cycles, step_act) -> None:
        for i, base in enumerate(programs):
            if i < len(step_ins):
                await load(step_ins[i])
            cycles.append(await run_program(base, positions[i] if i < len(positions) else 0))
            if progress is not None:
                progress.tick()
            if i < len(step_reads):
                if before_read is not None:
                    await before_read()
                step_act.append(await read(step_reads[i]))

    return run_steps


def _index(name: str) -> int:
    return int(name.rsplit("_", 1)[1])
