"""Fixtures shared by the accelerator-top tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def run_tool(*cmd: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(cmd)}:\n{proc.stderr}"


@pytest.fixture(scope="session")
def emit_accelerator():
    """`emit(src_ir, work, top) -> (design dir, accel IR path)`: the real tools, as a user runs
    them: `accllm-opt -p lower-to-accel{target=sim},accel-insert-barriers`, `-p accel-to-hw`, then
    `accllm-translate --emit-verilog -o <work>/rtl/<top>.sv`."""

    def emit(src: Path, work: Path, top: str) -> tuple[Path, Path]:
        accel_ir, hw_ir = work / "accel.mlir", work / "hw.mlir"
        opt = str(BIN / "accllm-opt")
        run_tool(
            opt,
            "-p",
            "lower-to-accel{target=sim},accel-insert-barriers",
            str(src),
            "-o",
            str(accel_ir),
        )
        run_tool(opt, "-p", "accel-to-hw", str(accel_ir), "-o", str(hw_ir))
        out = work / "rtl"
        out.mkdir(exist_ok=True)  # the tools refuse an output path whose directory is missing
        run_tool(
            str(BIN / "accllm-translate"),
            "--emit-verilog",
            str(hw_ir),
            "-o",
            str(out / f"{top}.sv"),
        )
        return out, accel_ir

    return emit
