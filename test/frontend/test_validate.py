"""Damaged checkpoints are refused before any work, each with one line naming the file and the
tensor or field (issue #18): `accllm import` in-process, exit code 1, no traceback, no output."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

from accllm.models.default import build_model, default_config, save_checkpoint
from accllm.tools.accllm_driver import main


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "tiny"
    save_checkpoint(build_model(default_config(), seed=0), path)
    return path


def _copy(good, tmp_path):
    dst = tmp_path / "ck"
    shutil.copytree(good, dst)
    return dst, next(dst.glob("*.safetensors"))


def _edit_config(ck, **fields):
    cfg = json.loads((ck / "config.json").read_text())
    cfg.update(fields)
    (ck / "config.json").write_text(json.dumps(cfg))


def _edit_tensors(st, fn):
    tensors = load_file(st)
    fn(tensors)
    save_file(tensors, st, metadata={"format": "pt"})


def _damage(kind, ck, st):
    if kind == "truncated":
        st.write_bytes(st.read_bytes()[: st.stat().st_size // 2])
    elif kind == "bad_header":
        st.write_bytes(b"\xff" * 8 + st.read_bytes()[8:])
    elif kind == "missing_tensor":
        _edit_tensors(st, lambda t: t.pop("model.layers.1.mlp.up_proj.weight"))
    elif kind == "more_layers":
        _edit_config(ck, num_hidden_layers=3)
    elif kind == "fewer_layers":
        _edit_config(ck, num_hidden_layers=1)
    elif kind == "shape":
        _edit_config(ck, intermediate_size=96)
    elif kind == "heads":
        _edit_config(ck, num_attention_heads=5, num_key_value_heads=5)
    elif kind == "zero_vocab":
        _edit_config(ck, vocab_size=0)
    elif kind == "huge_layers":
        _edit_config(ck, num_hidden_layers=100000)
    elif kind == "json":
        (ck / "config.json").write_text('{"model_type": "llama", ')
    elif kind == "nan":
        _edit_tensors(
            st, lambda t: t["model.layers.0.self_attn.k_proj.weight"].view(-1)[3:5].fill_(torch.nan)
        )
    elif kind == "inf":
        _edit_tensors(st, lambda t: t["model.norm.weight"].view(-1)[0:1].fill_(torch.inf))


CASES = {
    "truncated": r"tensor '.*' ends at byte \d+ of a \d+-byte data section",
    "bad_header": r"bad safetensors header \(header length",
    "missing_tensor": r"tensor 'model.layers.1.mlp.up_proj.weight' is missing .*random values",
    "more_layers": r"tensor 'model.layers.2.\S+' is missing \(config.json: 3 layers\)",
    "fewer_layers": r"tensor 'model.layers.1.\S+' is not part of the model config.json describes",
    "shape": r"tensor 'model.layers.0.mlp.\w+_proj.weight' has shape \[\d+, \d+\], config.json "
    r"implies \[\d+, \d+\]",
    "heads": r"num_attention_heads = 5 does not divide hidden_size = 64",
    "zero_vocab": r"vocab_size must be >= 1, got 0",
    "huge_layers": r"num_hidden_layers = 100000 exceeds 1024",
    "json": r"config.json: not valid JSON",
    "nan": r"tensor 'model.layers.0.self_attn.k_proj.weight' holds NaN \(2 non-finite values\)",
    "inf": r"tensor 'model.norm.weight' holds Inf \(1 non-finite values\)",
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_damaged_checkpoint_is_one_line_error(kind, good, tmp_path, capsys):
    ck, st = _copy(good, tmp_path)
    _damage(kind, ck, st)
    out = tmp_path / "m.mlir"
    assert main(["import", str(ck), "-o", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("accllm: error: ") and "internal error" not in err, err
    assert str(ck) in err, err
    import re

    assert re.search(CASES[kind], err), err
    assert not out.exists()


def test_config_only_import_bounds_layers(good, tmp_path, capsys):
    ck, _ = _copy(good, tmp_path)
    _edit_config(ck, num_hidden_layers=100000)
    assert (
        main(["import", str(ck / "config.json"), "--config-only", "-o", str(tmp_path / "m")]) == 1
    )
    assert "num_hidden_layers = 100000 exceeds 1024" in capsys.readouterr().err
