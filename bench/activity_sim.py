"""Measure the emitted accelerator's switching activity on the `sim` target (the power model's
toggle rates, backend/perf/activity_sim.json).

    python -m accllm.bench.activity_sim [--chunk 4] [--steps 3] [--keep DIR]

Compiles the built-in tiny Llama for `sim` (`accllm compile --target sim`, Λ S = 2, W = 6,
a prompt of two chunks), builds the emitted top with Verilator's toggle coverage and runs it
three times (`backend/sim/activity.measure_model`: the first chunk; both chunks; both chunks
and `--steps` greedy decode steps, the decoded tokens checked against the integer golden
model).  The differences give the toggles of one prefill chunk and of the decode steps per
unit; divided by the unit's bits and its busy cycles (the cost model's, validated within 1.4 %
on these programs) they are the rates `backend/perf/power.py` scales to another engine.
Writes backend/perf/activity_sim.json (committed: the estimator reads it, it runs no
simulation) and results/activity_sim.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from accllm.bench._common import REPO, write_results

ACTIVITY_JSON = REPO / "backend" / "perf" / "activity_sim.json"


def main() -> None:
    from accllm.backend.sim.activity import CoverageError, measure_compiled
    from accllm.tools.accllm_driver import main as accllm

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chunk", type=int, default=4, help="tokens per prefill chunk program")
    ap.add_argument("--steps", type=int, default=3, help="greedy decode steps measured")
    ap.add_argument("--keep", help="directory for the compiled design and the coverage files")
    args = ap.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="accllm-activity-"))
    out = work / "tiny"
    argv = ["compile", "-o", str(out), "--target", "sim", "--sink", "2", "--window", "6"]
    argv += ["--prompt-len", str(2 * args.chunk), "--chunk", str(args.chunk)]
    argv += ["--decode-steps", str(args.steps)]
    if accllm(argv) != 0:
        raise SystemExit(f"accllm {' '.join(argv)} failed")
    t0 = time.time()
    try:
        meas = measure_compiled(out, args.steps, work / "coverage")
    except CoverageError as err:
        raise SystemExit(f"activity_sim: {err}") from None
    command = f"python -m accllm.bench.activity_sim --chunk {args.chunk} --steps {args.steps}"
    data = {
        "what": "toggle counts of the emitted tiny-Llama accelerator on the sim target "
        "(Verilator --coverage-toggle), per RTL module: bits, toggles, the window's cycles "
        "and the module's busy cycles (cost model); rate = toggles / (bits x cycles)",
        "command": command,
        "design": "built-in tiny Llama, accllm compile --target sim --sink 2 --window 6 "
        f"--chunk {args.chunk}: prompt {2 * args.chunk} tokens, {args.steps} decode steps",
        "windows": meas["windows"],
    }
    ACTIVITY_JSON.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {ACTIVITY_JSON}")
    for phase, win in meas["windows"].items():
        print(f"{phase}: {win['cycles']} cycles ({len(win['programs'])} program(s))")
        print(f"  {'module':24s} {'inst':>4s} {'bits':>7s} {'toggles':>10s} busy  rate(busy)")
        for mod, d in win["modules"].items():
            print(
                f"  {mod:24s} {d['instances']:4d} {d['bits']:7d} {d['toggles']:10d} "
                f"{d['busy_cycles'] / win['cycles']:5.1%} {d['rate_busy']:.4f}"
            )
    write_results(
        "activity_sim",
        {**data, "runs": meas["runs"], "simulation_s": round(time.time() - t0, 1)},
    )


if __name__ == "__main__":
    main()
