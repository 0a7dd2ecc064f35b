"""`accllm compile --simulate` on the default tiny model: the whole flow ends with the verdict.

Runs the driver as a user would (prompt 12, Λ sink 2 + window 6, 24 decode steps = 3 (S + W);
the prompt runs as one 8-token chunk program and four single-token steps)
and checks its output: the artefacts of lower/emit exist, the cycles are printed and the
simulated tokens and logits are reported bit-exact with the integer golden model (the stage
raises, exit 1, naming the first difference otherwise: `compile_flow.first_difference`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


@pytest.mark.slow
def test_compile_simulate_matches_golden(tmp_path):
    out = tmp_path / "flow"
    proc = subprocess.run(
        [
            str(BIN / "accllm"),
            "compile",
            "-o",
            str(out),
            "--sink",
            "2",
            "--window",
            "6",
            "--prompt-len",
            "12",
            "--simulate",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = proc.stdout
    assert "[7/7] simulate" in text
    assert "the host writes only the token ids" in text
    assert "simulated tokens and logits match the integer golden model bit for bit" in text
    # each stage's wall time is printed; cocotb's and Verilator's output is in the log file
    assert "(simulate: " in text and "accllm: wall time" in text
    assert "TESTS=" not in proc.stdout + proc.stderr and "Running command" not in proc.stderr
    assert "PASS=1" in (out / "simulate.log").read_text()
    for f in ("model.accel.mlir", "model.hw.mlir", "verilog/filelist.f", "verilog/accllm_top.sv"):
        assert (out / f).exists(), f
    summary = json.loads((out / "summary.json").read_text())
    assert summary["simulate"]["match"] is True
    # the 12-token prompt: one 8-token chunk (the default --chunk), then 4 single-token steps
    programs = ["chunk_gemm"] + ["decode_gemv"] * (4 + 24)
    assert summary["simulate"]["programs"] == programs
    assert summary["simulate"]["positions"] == [0, *range(8, 12 + 24)]
    assert len(summary["simulate"]["cycles"]) == len(programs)
    assert list(summary["seconds"]) == ["model", "reference", "import", "compress", "lower",
                                        "emit", "simulate"]  # fmt: skip


def test_u280_lowers_and_emits_but_does_not_simulate(tmp_path):
    out = tmp_path / "u280"
    base = [
        str(BIN / "accllm"),
        "compile",
        "-o",
        str(out),
        "--sink",
        "2",
        "--window",
        "6",
        "--prompt-len",
        "12",
        "--target",
        "u280",
    ]
    proc = subprocess.run(base, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (out / "verilog" / "filelist.f").exists()
    # a card target also gets the Vitis RTL kernel packaging (test/backend/test_vitis_kernel.py)
    for f in ("accllm_kernel.sv", "kernel.xml", "package_xo.tcl", "link.cfg", "build.sh"):
        assert (out / "vitis" / f).is_file(), f
    assert "sp=accllm_kernel_1.m_axi_hbm0:HBM[0]" in (out / "vitis" / "link.cfg").read_text()
    # refused before any work: nothing of a new output directory is created
    fresh = [*base[:3], str(tmp_path / "u280-sim"), *base[4:], "--simulate"]
    proc = subprocess.run(fresh, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "simulation runs on the small 'sim' target only" in proc.stdout + proc.stderr
    assert "[1/7]" not in proc.stdout and not (tmp_path / "u280-sim").exists()
