# ruff: noqa: E501  (hand-written IR lines are kept whole to stay readable)
"""`accllm run`: outputs on disk, and every bad input is a clear error (exit 1, no traceback)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from accllm.tools.accllm_driver import main

IR = """func.func @f(%x: tensor<2x4xf32>, %ids: tensor<1x2xi64>) -> (tensor<2x3xf32>, !smla.qtensor<2x3xsi8, per_token>, tensor<1x2x4xf32>) {
  %w = smla.weight #smla.param<"w.safetensors", "lin.weight"> : tensor<3x4xf32>
  %t = smla.weight #smla.param<"w.safetensors", "table"> : tensor<5x4xf32>
  %y = smla.linear %x, %w : tensor<2x4xf32>, tensor<3x4xf32> -> tensor<2x3xf32>
  %q = smla.quantize %y : tensor<2x3xf32> -> !smla.qtensor<2x3xsi8, per_token>
  %e = smla.embedding %ids, %t : tensor<1x2xi64>, tensor<5x4xf32> -> tensor<1x2x4xf32>
  func.return %y, %q, %e : tensor<2x3xf32>, !smla.qtensor<2x3xsi8, per_token>, tensor<1x2x4xf32>
}
"""


@pytest.fixture
def case(tmp_path: Path):
    """An IR file with its parameter file and good inputs; returns a runner of `accllm run`."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 4)).astype(np.float32)
    table = rng.standard_normal((5, 4)).astype(np.float32)
    save_file({"lin.weight": w, "table": table}, str(tmp_path / "w.safetensors"))
    (tmp_path / "m.mlir").write_text(IR)
    x = rng.standard_normal((2, 4)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "ids.npy", np.array([[4, 0]]))

    def run(*args, ir="m.mlir", inputs=("x.npy", "ids.npy")):
        argv = ["run", str(tmp_path / ir), "-o", str(tmp_path / "out")]
        argv += ["--inputs", *(str(tmp_path / i) for i in inputs)] if inputs else []
        return main(argv + ["--entry", "f", *args] if "--entry" not in args else argv + [*args])

    return tmp_path, run, (x, w, table)


def test_outputs_are_written_with_shapes_printed(case, capsys):
    d, run, (x, w, table) = case
    assert run() == 0
    out = capsys.readouterr().out
    assert "out0.npy: 2x3 float32" in out and "out2.npy: 1x2x4 float32" in out
    assert "out1.npz: {values: 2x3 int8, exp: 2 int8}" in out
    np.testing.assert_allclose(np.load(d / "out" / "out0.npy"), x @ w.T, rtol=1e-6)
    np.testing.assert_array_equal(np.load(d / "out" / "out2.npy")[0], table[[4, 0]])
    q = np.load(d / "out" / "out1.npz")
    real = q["values"] * np.exp2(-q["exp"].astype(np.float64))[:, None]
    np.testing.assert_allclose(real, x @ w.T, atol=2.0 ** -q["exp"].min())


def _error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize(
    "edit, message",
    [
        ({"inputs": ("x.npy",)}, "function 'f' takes 2 inputs, 1 given"),
        ({"inputs": ("ids.npy", "ids.npy")}, "input 0: shape 1x2 does not match 2x4"),
        ({"inputs": ("x.npy", "x.npy")}, "input 1: shape 2x4 does not match 1x2"),
        ({"inputs": ("x.npy", "missing.npy")}, "input 1: file"),
    ],
)
def test_bad_inputs(case, capsys, edit, message):
    _, run, _ = case
    assert run(**edit) == 1
    assert message in _error(capsys)


def test_wrong_dtype_and_unknown_entry(case, capsys):
    d, run, _ = case
    np.save(d / "xi.npy", np.zeros((2, 4), dtype=np.int64))
    assert run(inputs=("xi.npy", "ids.npy")) == 1
    assert "input 0: dtype int64 where the argument is float (float32)" in _error(capsys)
    assert run("--entry", "g") == 1
    assert "no function named 'g' in the IR (functions: f)" in _error(capsys)


def test_missing_parameter_file_and_tensor_are_located(case, capsys):
    d, run, _ = case
    (d / "w.safetensors").rename(d / "other.safetensors")
    assert run() == 1
    assert f"m.mlir:2:3: 'smla.weight' op parameter file '{d / 'w.safetensors'}' not found" in (
        _error(capsys)
    )
    save_file({"lin.weight": np.zeros((3, 4), np.float32)}, str(d / "w.safetensors"))
    assert run() == 1
    assert "m.mlir:3:3: 'smla.weight' op parameter 'table' not found in" in _error(capsys)


def test_runtime_error_names_op_and_location(case, capsys):
    d, run, _ = case
    np.save(d / "bad_ids.npy", np.array([[4, 5]]))
    assert run(inputs=("x.npy", "bad_ids.npy")) == 1
    assert "m.mlir:6:3: 'smla.embedding' op token ids must be in [0, 5), got [4, 5]" in (
        _error(capsys)
    )


def test_op_without_implementation_is_located_before_running(case, capsys):
    d, run, _ = case
    text = IR.replace(
        "  func.return %y,",
        "  %z = math.exp %y : tensor<2x3xf32>\n  func.return %y,",
    )
    (d / "u.mlir").write_text(text)
    assert run(ir="u.mlir") == 1
    assert "u.mlir:7:3: 'math.exp' op no interpreter implementation for 'math.exp'" in (
        _error(capsys)
    )
    assert not (d / "out").exists()  # nothing ran, nothing written


def test_ir_parse_error_is_a_located_diagnostic(case, capsys):
    d, run, _ = case
    (d / "bad.mlir").write_text("func.func @f( {\n")
    assert run(ir="bad.mlir") == 1
    assert f"{d / 'bad.mlir'}:1:" in _error(capsys)


def test_shell_exit_code_and_message(case):
    d, _, _ = case
    accllm = Path(sys.executable).parent / "accllm"
    r = subprocess.run(
        [str(accllm), "run", str(d / "m.mlir"), "--entry", "f", "-o", str(d / "o")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1
    assert r.stderr == "accllm: error: function 'f' takes 2 inputs, 0 given\n"
