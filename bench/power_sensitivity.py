"""Tokens per joule of Llama-2-7B decode on u280 against the Λ window, the LM head's precision
and the clock (the sensitivity table of docs/performance.md).

    python -m accllm.bench.power_sensitivity [--mlir l7b.mlir] [--context 4096]

Each row is the estimate of the emitted stream engine (`estimate.estimate_workload`, its power
section: `backend/perf/power.py`) at one decode context, S = 4, with one thing changed:

* the Λ window W (what accllm-compress's `window` emits; the RTL's ring size follows it);
* the LM head's precision: int8 is what accllm-compress emits (AccLLM's scheme); W2 (2:4, the
  linears' G = 128) is a WHAT-IF of the compression -- stream_linear_unit has the W2 path, but
  no flow emits a W2 LM head and its accuracy is not measured;
* the clock: 225 MHz is u280's target clock; other clocks are a WHAT-IF (the same RTL, no
  timing closure checked; the channel's bytes per cycle follow the clock, `derive_engine`).

Prints a markdown table and writes results/power_sensitivity.json.  A pre-silicon estimate,
no board measurement.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import replace
from pathlib import Path

from accllm.bench._common import write_results
from accllm.bench.perf_7b import load

WINDOWS = (508, 1020, 2044, 4092)
CLOCKS_MHZ = (150.0, 225.0, 300.0)


def _clock_target(mhz: float) -> str:
    """A u280 target file at another clock (a what-if: only clock_mhz changes)."""
    from accllm.backend.target_desc import TARGETS_DIR

    raw = json.loads((TARGETS_DIR / "u280.json").read_text())
    raw["clock_mhz"] = mhz
    path = Path(tempfile.mkdtemp(prefix="accllm-clock-")) / f"u280_{mhz:g}mhz.json"
    path.write_text(json.dumps(raw))
    return str(path)


def _w2_lm_head(wl, group: int):
    """The workload with its int8 linears (the LM head) as 2:4 W2 of group `group`."""
    from accllm.backend.perf.workload import Workload

    steps = [
        replace(s, precision="w2", group=group)
        if s.kind == "linear" and s.precision == "int8"
        else s
        for s in wl.steps
    ]
    return Workload(wl.name, steps, wl.tokens, wl.live_bytes_per_token, dict(wl.assumed))


def row(module, wl, target: str, context: int, label: str, what_if: str) -> dict:
    from accllm.backend.perf.estimate import estimate_workload, machine_for

    m = machine_for(module, wl, target)
    r = estimate_workload(wl, m, contexts=(context,), prompts=())
    dec = r["decode"][-1]
    pw = r["power"]["decode"]
    return {
        "config": label,
        "what_if": what_if,
        "clock_mhz": m.target.clock_mhz,
        "tokens_per_s": dec["tokens_per_s"],
        "hbm_gb_per_token": round(dec["hbm_bytes_per_token"] / 1e9, 4),
        "watts": pw["watts"],
        "watts_range": pw["watts_range"],
        "tokens_per_joule": pw["tokens_per_joule"],
        "tokens_per_joule_range": pw["tokens_per_joule_range"],
        "hbm_w": round(pw["breakdown_w"]["hbm_dynamic"] + pw["breakdown_w"]["hbm_static"], 2),
        "fits": r["resources"]["fits"],
    }


def main() -> None:
    from accllm.backend.perf.estimate import with_window
    from accllm.backend.perf.power import LIMITS
    from accllm.backend.perf.workload import Assumed, workloads

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mlir")
    ap.add_argument("--context", type=int, default=4096)
    args = ap.parse_args()
    module = load(args.mlir)
    base = workloads(module)[0]
    rows = []
    for w in WINDOWS:
        rows.append(row(module, with_window(base, 4, w), "u280", args.context, f"W = {w}", ""))
    w1020 = with_window(base, 4, 1020)
    rows.append(
        row(
            module,
            _w2_lm_head(w1020, Assumed.group),
            "u280",
            args.context,
            "W = 1020, LM head W2",
            "what-if: the compression keeps the LM head int8",
        )
    )
    for mhz in CLOCKS_MHZ:
        if mhz == 225.0:
            continue  # the W = 1020 row above
        rows.append(
            row(
                module,
                w1020,
                _clock_target(mhz),
                args.context,
                f"W = 1020, {mhz:g} MHz",
                "what-if: same RTL, timing closure not checked",
            )
        )
    print(f"Llama-2-7B decode on u280, S = 4, context {args.context} ({LIMITS})")
    print("| config | tok/s | GB/token | W (range) | HBM W | tok/J (range) | what-if |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        lo, hi = r["watts_range"]
        tlo, thi = r["tokens_per_joule_range"]
        print(
            f"| {r['config']} | {r['tokens_per_s']:.1f} | {r['hbm_gb_per_token']:.3f} | "
            f"{r['watts']:.1f} ({lo:.1f}-{hi:.1f}) | {r['hbm_w']:.1f} | "
            f"{r['tokens_per_joule']:.2f} ({tlo:.2f}-{thi:.2f}) | {r['what_if'] or '-'} |"
        )
    write_results(
        "power_sensitivity",
        {
            "what": f"tokens/J of the emitted engine, Llama-2-7B decode on u280 ({LIMITS})",
            "command": "python -m accllm.bench.power_sensitivity"
            + (f" --mlir {args.mlir}" if args.mlir else "")
            + f" --context {args.context}",
            "context": args.context,
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
