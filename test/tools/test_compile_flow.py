"""`accllm compile` end to end, as the README's main job runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from accllm.models.default import build_model, default_config, save_checkpoint

ACCLLM = str(Path(sys.executable).parent / "accllm")


def compile_(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([ACCLLM, "compile", *args], capture_output=True, text=True, timeout=600)


def test_gqa_checkpoint_compiles_to_ir_that_matches_the_golden_model(tmp_path):
    """Import + compress a GQA checkpoint with a prompt longer than S + W (Λ evicts during
    prefill); the compress stage fails unless the interpreted IR equals the golden integers."""
    ckpt = save_checkpoint(build_model(default_config(gqa=True), seed=3), tmp_path / "ckpt")
    out = tmp_path / "out"
    r = compile_(
        str(ckpt),
        "-o",
        str(out),
        "--sink",
        "2",
        "--window",
        "4",
        "--prompt-len",
        "9",
        "--decode-steps",
        "18",
        "--stop-after",
        "compress",
    )
    assert r.returncode == 0, r.stderr
    assert "bit for bit (2304 prefill logits)" in r.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stopped_after"] == "compress"
    assert summary["compress"]["ir_vs_golden"] == "bit-exact"
    assert len(summary["reference"]["tokens"]) == 18
    report = json.loads((out / "compression_report.json").read_text())
    assert report  # written from the compressed IR


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    r = compile_(str(tmp_path / "nope"), "-o", str(tmp_path / "out"), "--stop-after", "model")
    assert r.returncode == 1
    assert r.stderr.startswith("accllm: error: ") and "not a checkpoint directory" in r.stderr
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr
