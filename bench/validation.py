"""Every validation of the estimator and the activity measurement against Verilator.

    python -m accllm.bench.validation

The test suite runs a subset of each (test/backend/test_perf_validation.py: two of the linear
programs, one whole-accelerator configuration; test_stream_linear_cost.py: three of the unit's
configurations); this runs the tests marked `bench`, every configuration, and the
whole-accelerator activity check (test_activity_sim.py), prints their tables and writes
results/validation.json (the rows of each table, the machine, the pytest verdict). They are
kept out of the suite for its time budget: together about 10 minutes on 2 idle cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from accllm.bench._common import REPO, write_results

FILES = (
    "test/backend/test_perf_validation.py",
    "test/backend/test_stream_linear_cost.py",
    "test/backend/test_activity_sim.py",
)
ENV = "ACCLLM_VALIDATION_DIR"


def record(name: str, rows: list[dict]) -> None:
    """Called by the validation tests: with $ACCLLM_VALIDATION_DIR set (this bench), their
    rows as <name>.json there; otherwise nothing."""
    where = os.environ.get(ENV)
    if where:
        (Path(where) / f"{name}.json").write_text(json.dumps(rows, default=float))


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="accllm-validation-") as tmp:
        cmd = [sys.executable, "-m", "pytest", "-s", "-q", "-m", "bench", *FILES]
        print(" ".join(cmd), flush=True)
        rc = subprocess.call(cmd, cwd=REPO, env=dict(os.environ, **{ENV: tmp}))
        tables = {p.stem: json.loads(p.read_text()) for p in sorted(Path(tmp).glob("*.json"))}
    path = write_results(
        "validation",
        {"command": "python -m accllm.bench.validation", "passed": rc == 0, "tables": tables},
    )
    print(f"pytest exit code {rc} ({path})")
    return rc


if __name__ == "__main__":
    sys.exit(main())
