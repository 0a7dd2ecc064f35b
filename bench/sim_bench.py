"""Simulated cycles per second of the RTL under Verilator + cocotb.

    python -m accllm.bench.sim_bench [--cycles 20000]

Runs rtl_lib's sparse_mac_array (default parameters; the largest datapath primitive) with a
full-rate input stream (valid every cycle, output always ready) for the given cycles, once
free-running (clock only: Verilator's own speed plus cocotb's clock) and once driven (inputs
written every cycle from Python: what a cocotb testbench costs).  The whole-accelerator
simulation is not available yet; this is the per-primitive figure.  Writes
results/sim_bench.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

import cocotb
from cocotb.triggers import ClockCycles, RisingEdge

from accllm.bench._common import write_results

OUT_ENV = "ACCLLM_SIM_BENCH_OUT"
CYCLES_ENV = "ACCLLM_SIM_BENCH_CYCLES"


@cocotb.test()
async def bench_cycles(dut):
    """Free-running and driven cycles; wall time of each (written to $ACCLLM_SIM_BENCH_OUT)."""
    from accllm.rtl_lib.stream import clock_and_reset

    n = int(os.environ[CYCLES_ENV])
    await clock_and_reset(dut)
    dut.m_ready.value = 1
    dut.s_valid.value = 0
    t0 = time.perf_counter()
    await ClockCycles(dut.clk, n)
    free = time.perf_counter() - t0
    rng = random.Random(1)
    width = len(dut.s_act)
    dut.s_valid.value = 1
    t0 = time.perf_counter()
    for i in range(n):
        dut.s_act.value = rng.getrandbits(width)
        dut.s_row_last.value = int(i % 8 == 7)
        dut.s_group_last.value = int(i % 8 == 7)
        await RisingEdge(dut.clk)
    driven = time.perf_counter() - t0
    Path(os.environ[OUT_ENV]).write_text(json.dumps({"free_s": free, "driven_s": driven}))


def main() -> None:
    from accllm.rtl_lib import sim

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=20000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "t.json"
        prim = sim.get_primitive("sparse_mac_array")
        sim.run(
            __file__,
            prim.top,
            prim.source_paths(),
            prim.params,
            extra_env={OUT_ENV: str(out), CYCLES_ENV: str(args.cycles)},
        )
        t = json.loads(out.read_text())
    free, driven = args.cycles / t["free_s"], args.cycles / t["driven_s"]
    print(
        f"sparse_mac_array (Verilator + cocotb): {free:,.0f} cycles/s free-running, "
        f"{driven:,.0f} cycles/s with Python-driven inputs"
    )
    write_results(
        "sim_bench",
        {
            "command": f"python -m accllm.bench.sim_bench --cycles {args.cycles}",
            "design": "rtl_lib sparse_mac_array, default parameters",
            "cycles": args.cycles,
            "cycles_per_s_free": round(free),
            "cycles_per_s_driven": round(driven),
        },
    )


if __name__ == "__main__":
    main()
