"""Simulated cycles per second of the RTL under Verilator + cocotb.

    python -m accllm.bench.sim_bench [--cycles 20000] [--tokens 16]

1. rtl_lib's stream_fifo (default parameters: 512-bit beats, 2048 deep, the prefetcher's FIFO)
   with a full-rate input stream (valid every cycle, output always ready) for the given cycles,
   once free-running (clock only: Verilator's
   own speed plus cocotb's clock) and once driven (inputs written every cycle from Python: what
   a cocotb testbench costs).
2. The emitted engine's MAC unit, rtl_lib's stream_linear_unit, as its cost validation runs it
   (`backend.sim.stream_linear_unit_run`, the sim target's engine: 4 channels x 1 lane, 256-bit
   beats, GEMM tiles of 4 tokens, each channel's stream driven from Python at the sim target's
   0.25 words per cycle): three W2 layers, 12 times, back to back with `--tokens` tokens each
   (at most the tile), every output checked against the contract; simulated cycles per
   wall-clock second of the second run (the first may build the model).

The whole accelerator (`accllm compile --simulate`) is timed by its own tests.  Writes
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
    width = len(dut.s_data)
    dut.s_valid.value = 1
    t0 = time.perf_counter()
    for _ in range(n):
        dut.s_data.value = rng.getrandbits(width)
        await RisingEdge(dut.clk)
    driven = time.perf_counter() - t0
    Path(os.environ[OUT_ENV]).write_text(json.dumps({"free_s": free, "driven_s": driven}))


def main() -> None:
    from accllm.rtl_lib import sim

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=20000)
    ap.add_argument("--tokens", type=int, default=4, help="tokens per layer (one GEMM tile)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "t.json"
        prim = sim.get_primitive("stream_fifo")
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
        f"stream_fifo (Verilator + cocotb): {free:,.0f} cycles/s free-running, "
        f"{driven:,.0f} cycles/s with Python-driven inputs"
    )
    lu = stream_linear_unit_bench(args.tokens)
    print(
        f"stream_linear_unit (Verilator + cocotb, Python-driven streams): {lu['cycles']:,} "
        f"cycles in {lu['wall_s']:.2f} s = {lu['cycles_per_s']:,} cycles/s ({lu['layers']})"
    )
    write_results(
        "sim_bench",
        {
            "command": (
                f"python -m accllm.bench.sim_bench --cycles {args.cycles} --tokens {args.tokens}"
            ),
            "design": "rtl_lib stream_fifo, default parameters",
            "cycles": args.cycles,
            "cycles_per_s_free": round(free),
            "cycles_per_s_driven": round(driven),
            "stream_linear_unit": lu,
        },
    )


REPEAT = 12  # the layers run this many times: enough cycles to dwarf the simulator's start-up


def stream_linear_unit_bench(tokens: int) -> dict:
    """stream_linear_unit on the sim target's engine and stream rate: simulated cycles per
    second (of the second run: the first may build the Verilator model)."""
    from accllm.backend.sim import stream_linear_unit_run as slr
    from accllm.backend.target_desc import derive_engine, load_target

    eng = derive_engine(load_target("sim"))
    if not 1 <= tokens <= eng.tile_tokens:
        raise SystemExit(f"--tokens must be 1..{eng.tile_tokens} (one GEMM tile)")
    ch, lanes = eng.weight_channels, eng.lanes_per_channel
    layers = [(64, 128, 64, tokens), (40, 128, 128, tokens), (96, 96, 32, tokens)]
    jobs = slr.packed_jobs(layers * REPEAT, ch)
    params = slr.unit_parameters(ch, lanes, jobs, dw=eng.words_per_beat * 256, tok=eng.tile_tokens)
    delivery = slr.Delivery(eng.words_per_cycle)
    slr.simulate(params, jobs, delivery)
    t0 = time.perf_counter()
    cycles = slr.simulate(params, jobs, delivery)
    wall = time.perf_counter() - t0
    return {
        "design": f"rtl_lib stream_linear_unit {params}",
        "layers": f"{REPEAT} x ("
        + ", ".join(f"N={n} K={k} G={g} T={t}" for n, k, g, t in layers)
        + ")",
        "descriptor_cycles": cycles,
        "cycles": sum(cycles),
        "wall_s": round(wall, 3),
        "cycles_per_s": round(sum(cycles) / wall),
        "note": "wall time includes the runner's start-up of the simulator",
    }


if __name__ == "__main__":
    main()
