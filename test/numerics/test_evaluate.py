"""`accllm eval` and numerics/evaluate.py on the project's trained reference model.

The fixture (test/fixtures/vimdoc_llama: checkpoint, held-out and calibration text) was made by
bench/train_reference.py; nothing here retrains. Only a few hundred bytes are evaluated.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from accllm.frontend.checkpoint import load_checkpoint
from accllm.numerics import evaluate as ev
from accllm.numerics.compress import compress_model
from accllm.tools.accllm_driver import main as driver_main
from accllm.tools.eval_command import GOLDEN_FAKEQUANT_BOUND

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "vimdoc_llama"
SEQ = 128


@pytest.fixture(scope="module")
def model():
    return load_checkpoint(FIXTURE)


@pytest.fixture(scope="module")
def text_windows(model):
    ids = ev.text_ids((FIXTURE / "heldout.txt").read_bytes()[: SEQ + 1], 256)
    return ev.windows(ids, SEQ)


def test_float_decoder_is_the_hf_model(model, text_windows):
    """The float64 decoder every per-step level runs on (FakeQuantModel with float weights and
    no quantizers) gives the HF model's logits when its window covers the sequence."""
    ids = text_windows[0, :-1]
    dec = ev.float_decoder(model, compress_model(model), {}, 0, SEQ)
    with torch.no_grad():
        got = dec(ids).numpy()
        want = model(torch.as_tensor(ids)[None]).logits[0].double().numpy()
    np.testing.assert_allclose(got, want, atol=2e-4, rtol=0)


def test_golden_tracks_fakequant_and_compression_costs(model, text_windows):
    """One window of 128 bytes with S=4, W=60 (the window wraps); the data-aware methods'
    integers are checked bit for bit elsewhere (test/passes/test_second_order.py)."""
    res = ev.evaluate(
        model,
        text_windows,
        4,
        60,
        methods=("magnitude",),
        levels=("float", "fake-quant", "golden"),
    )
    by = {(r.level, r.method): r.perplexity for r in res}
    for method, gap in ev.golden_fakequant_gap(res).items():
        assert gap <= GOLDEN_FAKEQUANT_BOUND, (method, gap)
    # 2:4 + W2A8KV4 of a trained model loses accuracy: a real property, with a wide margin.
    assert by[("fake-quant", "magnitude")] > 1.05 * by[("float", None)]
    # a trained model predicts held-out text far better than a uniform byte (ppl 256)
    assert by[("float", None)] < 20


def _accllm_in_process(capsys, *args):
    """The driver in this process (no second torch import); (exit code, stdout, stderr)."""
    code = driver_main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_prints_the_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "e.json"
    code, stdout, err = _accllm_in_process(
        capsys,
        "eval",
        FIXTURE,
        "--text",
        FIXTURE / "heldout.txt",
        "--seq-len",
        64,
        "--max-windows",
        1,
        "--method",
        "magnitude",
        "--level",
        "float",
        "--level",
        "golden",
        "--json",
        out,
    )
    assert code == 0, err
    assert "bits/byte" in stdout and "golden" in stdout
    data = json.loads(out.read_text())
    levels = {(x["level"], x["method"]) for x in data["results"]}
    assert levels == {("float", None), ("golden", "magnitude")}
    row = data["results"][0]
    assert row["bits_per_byte"] == pytest.approx(row["nll"] / np.log(2))


@pytest.mark.parametrize(
    "args, message",
    [
        (["--text", "/nonexistent.txt"], "text file '/nonexistent.txt' not found"),
        (["--text", FIXTURE / "heldout.txt", "--seq-len", 4096], "exceeds the model's"),
        (["--text", FIXTURE / "training.json", "--group", 48], "--group 48 is not one of"),
        (["--text", FIXTURE / "heldout.txt", "--sink", -1], "needs --sink >= 0"),
    ],
)
def test_cli_bad_input_is_one_line(capsys, args, message):
    code, _, err = _accllm_in_process(
        capsys, "eval", FIXTURE, *args, "--method", "magnitude", "--level", "float"
    )
    assert code == 1
    lines = [x for x in err.splitlines() if x.startswith("accllm:")]
    assert len(lines) == 1 and message in lines[0], err
    assert "Traceback" not in err
