"""Fixtures shared by the driver (test/tools) and runtime (test/runtime) tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
TINY_CHUNK = 4  # tokens per prefill chunk program of the `tiny_build` design


@pytest.fixture(scope="session")
def tiny_build(tmp_path_factory) -> Path:
    """The default tiny model compiled once per session up to 'emit' (Λ S=2, W=2, 4-token
    chunk programs): a build directory for the chunked-prefill and runtime tests."""
    out = tmp_path_factory.mktemp("tiny") / "flow"
    cmd = [str(BIN / "accllm"), "compile", "-o", str(out), "--sink", "2", "--window", "2"]
    cmd += ["--prompt-len", "6", "--chunk", str(TINY_CHUNK), "--stop-after", "emit"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out
