"""`accllm compile -o DIR` never leaves a half-filled DIR (issue #18): a failed run removes what it
created and restores an earlier output; bad options and checkpoints fail before DIR exists."""

from __future__ import annotations

import argparse
import json

import pytest

from accllm.tools import compile_flow
from accllm.tools.accllm_driver import main
from accllm.tools.compile_flow import Stage, run_flow
from accllm.tools.errors import CommandError


def _args(out, **kw):
    base = dict(model=None, output_dir=str(out), prompt_len=8, decode_steps=4, stop_after=None)
    return argparse.Namespace(**(base | dict(simulate=False, target="sim", sink=2, window=6) | kw))


def _stages(monkeypatch, fail: bool):
    def write(state):
        (state.out / "artefact.txt").write_text("new")

    def boom(state):
        (state.out / "half.txt").write_text("partial")
        raise CommandError("stage failed on purpose")

    stages = [
        Stage("model", "writes", write),
        Stage("emit", "fails" if fail else "ok", boom if fail else write),
    ]
    monkeypatch.setattr(compile_flow, "STAGES", stages)


def test_failed_run_removes_the_directories_it_created(tmp_path, monkeypatch):
    _stages(monkeypatch, fail=True)
    out = tmp_path / "a" / "b" / "out"
    with pytest.raises(CommandError, match="on purpose"):
        run_flow(_args(out))
    assert list(tmp_path.iterdir()) == []


def test_failed_rerun_restores_the_earlier_output(tmp_path, monkeypatch):
    out = tmp_path / "out"
    _stages(monkeypatch, fail=False)
    assert run_flow(_args(out)) == 0
    before = sorted(p.name for p in out.iterdir())
    assert "summary.json" in before
    _stages(monkeypatch, fail=True)
    with pytest.raises(CommandError):
        run_flow(_args(out))
    assert sorted(p.name for p in out.iterdir()) == before
    assert json.loads((out / "summary.json").read_text())["stopped_after"] == "emit"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging left


def test_a_directory_that_is_not_an_accllm_output_is_refused(tmp_path, monkeypatch):
    _stages(monkeypatch, fail=False)
    (tmp_path / "mine.txt").write_text("user data")
    with pytest.raises(CommandError, match="not an accllm output directory"):
        run_flow(_args(tmp_path))
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--window", "0"], "argument --window: must be >= 1, got 0"),
        (["--sink", "-1"], "argument --sink: must be >= 0, got -1"),
        (["--prompt-len", "0"], "argument --prompt-len: must be >= 2, got 0"),
        (["--decode-steps", "-2"], "argument --decode-steps: must be >= 0, got -2"),
    ],
)
def test_bad_options_are_usage_errors(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["compile", "-o", str(tmp_path / "out"), *argv])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_output_naming_a_file_and_too_many_positions(tmp_path, capsys):
    (tmp_path / "f").write_text("")
    with pytest.raises(SystemExit):
        main(["compile", "-o", str(tmp_path / "f")])
    assert "is an existing file, not a directory" in capsys.readouterr().err
    out = tmp_path / "out"
    assert main(["compile", "-o", str(out), "--prompt-len", "250", "--decode-steps", "10"]) == 1
    assert (
        "260 positions exceed the model's max_position_embeddings = 256" in capsys.readouterr().err
    )
    assert not out.exists()
