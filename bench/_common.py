"""Shared bits of the benchmark scripts: the machine line and the results file."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "results"
LLAMA2_7B = REPO / "test" / "Passes" / "estimate" / "Inputs" / "llama2_7b" / "config.json"


def machine() -> str:
    """What the figures were measured on (CPU model, cores visible, Python)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores visible, Python {platform.python_version()}"


def write_results(name: str, data: dict) -> Path:
    """results/<name>.json with the machine and the time of the run."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {"machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M:%S")} | data
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {path}")
    return path
