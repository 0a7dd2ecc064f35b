"""Llama-2-7B hardware from its config alone: wall time and peak memory of the emit.

    python -m accllm.bench.emit_7b [--config CONFIG] [--target u280]

Runs `accllm compile CONFIG --config-only --target u280 --stop-after emit -o DIR` (DIR in a
temporary directory) as a child process, as a user would; prints the wall time, each stage's
time (summary.json), the child's CPU time (on a shared machine the wall time includes other
processes' turns: the load average is recorded) and peak resident memory (getrusage
RUSAGE_CHILDREN), checks
the layout names every HBM region, and writes results/emit_7b.json.  Issue #14's targets:
<= 60 s and <= 4 GB on the 2-core development machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from accllm.bench._common import LLAMA2_7B, write_results

TARGET_SECONDS, TARGET_GB = 60.0, 4.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(LLAMA2_7B))
    ap.add_argument("--target", default="u280")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="accllm-emit7b-") as tmp:
        out = Path(tmp) / "design"
        cmd = [sys.executable, "-m", "accllm.tools.accllm_driver", "compile", args.config]
        cmd += ["--config-only", "--target", args.target, "--stop-after", "emit", "-o", str(out)]
        t0 = time.perf_counter()
        run = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if run.returncode:
            sys.exit(f"compile failed ({run.returncode}):\n{run.stdout}\n{run.stderr}")
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_gb, cpu = usage.ru_maxrss / 2**20, usage.ru_utime + usage.ru_stime
        summary = json.loads((out / "summary.json").read_text())
        layout = json.loads((out / "hbm_layout.json").read_text())
        verilog = sorted(p.name for p in (out / "verilog").iterdir())
        sizes = {p.name: p.stat().st_size for p in out.iterdir() if p.is_file()}
    regions = layout["regions"]
    data_regions = [r for r in regions if "tensor" in r]
    print(f"accllm compile {args.config} --config-only --target {args.target} --stop-after emit")
    for stage, s in summary["seconds"].items():
        print(f"  {stage:10s} {s:6.1f} s")
    print(
        f"wall {wall:.1f} s (target <= {TARGET_SECONDS:.0f} s; CPU time {cpu:.1f} s, load "
        f"average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores), peak memory "
        f"{peak_gb:.2f} GB (target <= {TARGET_GB:.0f} GB); {len(verilog)} files in verilog/, "
        f"{len(regions)} HBM regions ({len(data_regions)} hold weights) on "
        f"{layout['channels']} channels, {sum(layout['images']['bytes']) / 2**30:.2f} GiB of HBM"
    )
    write_results(
        "emit_7b",
        {
            "command": f"python -m accllm.bench.emit_7b --config {args.config} "
            f"--target {args.target}",
            "wall_seconds": round(wall, 2),
            "cpu_seconds": round(cpu, 2),
            "load_average": round(os.getloadavg()[0], 2),
            "stage_seconds": summary["seconds"],
            "peak_rss_gb": round(peak_gb, 3),
            "targets": {"seconds": TARGET_SECONDS, "gb": TARGET_GB},
            "meets_targets": wall <= TARGET_SECONDS and peak_gb <= TARGET_GB,
            "meets_targets_in_cpu_time": cpu <= TARGET_SECONDS and peak_gb <= TARGET_GB,
            "verilog_files": len(verilog),
            "hbm_regions": len(regions),
            "weight_regions": len(data_regions),
            "hbm_bytes_per_channel": layout["images"]["bytes"],
            "artefact_bytes": sizes,
        },
    )


if __name__ == "__main__":
    main()
