"""Simulated cycles per second of the RTL under Verilator + cocotb.

    python -m accllm.bench.sim_bench [--cycles 20000] [--tokens 16]

1. rtl_lib's sparse_mac_array (default parameters) with a full-rate input stream (valid every
   cycle, output always ready) for the given cycles, once free-running (clock only: Verilator's
   own speed plus cocotb's clock) and once driven (inputs written every cycle from Python: what
   a cocotb testbench costs).
2. The MAC unit, rtl_lib's linear_unit, as the estimator's validation runs it
   (`backend.sim.linear_unit_run`, sim target engine 2 channels x 3 lanes x 4 blocks, the sim
   target's HBM timing): W2 layers of the validation's sizes run back to back with `--tokens`
   tokens each, every output checked against the contract; cycles per second of the descriptor
   runs (the behavioural HBM, descriptor ROM and activation buffer are Python coroutines
   stepped every cycle).

The whole-accelerator simulation is not available yet.  Writes results/sim_bench.json.
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
    ap.add_argument("--tokens", type=int, default=16, help="tokens per linear_unit layer")
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
    lu = linear_unit_bench(args.tokens)
    print(
        f"linear_unit (Verilator + cocotb, Python HBM model): {lu['cycles']:,} cycles in "
        f"{lu['wall_s']:.2f} s = {lu['cycles_per_s']:,} cycles/s ({lu['layers']})"
    )
    write_results(
        "sim_bench",
        {
            "command": (
                f"python -m accllm.bench.sim_bench --cycles {args.cycles} --tokens {args.tokens}"
            ),
            "design": "rtl_lib sparse_mac_array, default parameters",
            "cycles": args.cycles,
            "cycles_per_s_free": round(free),
            "cycles_per_s_driven": round(driven),
            "linear_unit": lu,
        },
    )


def linear_unit_bench(tokens: int) -> dict:
    """linear_unit on the sim target's engine and HBM timing: simulated cycles per second."""
    from accllm.backend.sim import linear_unit_run as lur
    from accllm.backend.target_desc import derive_engine, load_target

    target = load_target("sim")
    eng = derive_engine(target)
    ch, lanes, blocks = eng.weight_channels, eng.lanes_per_channel, eng.mac_blocks
    layers = [(64, 128, 64, tokens), (40, 128, 128, tokens), (96, 96, 32, tokens)]
    jobs = lur.packed_jobs(layers, ch, lanes)
    params = lur.unit_parameters(ch, lanes, blocks, jobs)
    run = lur.simulate(params, jobs, lur.timing_for_target(target))
    return {
        "design": f"rtl_lib linear_unit {params}",
        "layers": ", ".join(f"N={n} K={k} G={g} T={t}" for n, k, g, t in layers),
        "descriptor_cycles": run.cycles,
        "cycles": run.run_cycles,
        "wall_s": round(run.run_s, 3),
        "cycles_per_s": round(run.run_cycles / run.run_s),
    }


if __name__ == "__main__":
    main()
