"""Runtime sessions on the `golden` backend (the tiny model built once: test/conftest.py), and
what every backend refuses.  The sim backend's agreement with golden is in
test/tools/test_generate.py (one Verilator session)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import accllm.runtime as rt
from accllm.runtime.errors import SessionError


@pytest.fixture(scope="module")
def golden(tiny_build):
    with rt.open(tiny_build, backend="golden") as s:
        yield s


@pytest.fixture(scope="module")
def reference(tiny_build):
    """The compile flow's reference run (GoldenModel.generate: greedy, 24 tokens)."""
    return np.load(tiny_build / "reference.npz")


def test_greedy_generate_is_the_flows_reference(golden, reference):
    tokens = golden.generate(reference["prompt"], 24)
    np.testing.assert_array_equal(tokens, reference["tokens"])
    # the logits after the last token run are the reference's last decode step
    np.testing.assert_array_equal(golden.logits, reference["decode_logits"][-1])
    assert golden.position == len(reference["prompt"]) + 24
    assert golden.stats.prefill_tokens == len(reference["prompt"])
    assert golden.stats.decode_tokens == 24 and golden.stats.decode_cycles == []


def test_prefill_in_parts_and_decode_continue_the_sequence(golden, reference):
    prompt = reference["prompt"]
    golden.reset()
    golden.prefill(prompt[:4])
    last = golden.prefill(prompt[4:])  # a second turn continues at position 4
    np.testing.assert_array_equal(last, reference["prefill_logits"][-1])
    assert golden.decode() == reference["tokens"][0]  # greedy from those logits
    assert golden.decode(int(reference["tokens"][1])) == reference["tokens"][1]
    np.testing.assert_array_equal(golden.logits, reference["decode_logits"][1])


def test_reset_and_seed_replay_a_sampled_generation(golden, reference):
    sampling = rt.Sampling(temperature=0.9, top_k=40, top_p=0.95, seed=5)
    first = golden.generate(reference["prompt"], 12, sampling)
    assert golden.generate(reference["prompt"], 12, sampling) == first
    other = golden.generate(reference["prompt"], 12, rt.Sampling(temperature=0.9, seed=6))
    assert other != first
    golden.reset()
    assert golden.position == 0 and golden.logits is None


def test_stop_id_ends_generation_without_running_it(golden, reference):
    greedy = golden.generate(reference["prompt"], 6)
    stop = greedy[2]
    out = golden.generate(reference["prompt"], 6, stop_ids=[stop])
    assert out == greedy[: greedy.index(stop) + 1]
    assert golden.position == len(reference["prompt"]) + len(out) - 1


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda s: s.prefill([]), "empty prompt"),
        (lambda s: s.prefill([1, 256]), r"token id 256 is outside the vocabulary 0\.\.255"),
        (lambda s: s.prefill([-1]), "token id -1 is outside"),
        (lambda s: s.prefill([[1, 2]]), "flat sequence of integers"),
        (lambda s: s.generate([1, 2], 0), "max_new_tokens must be >= 1"),
        (lambda s: s.generate([1, 2], 255), "past the model's 256 positions"),
    ],
)
def test_bad_input_is_refused_with_a_message(golden, call, message):
    with pytest.raises(SessionError, match=message):
        call(golden)


def test_decode_before_prefill_is_refused(golden):
    golden.reset()
    with pytest.raises(SessionError, match="prefill a prompt first"):
        golden.decode()


def test_open_refuses_what_it_cannot_run(tiny_build, tmp_path):
    with pytest.raises(SessionError, match="no such build directory"):
        rt.open(tmp_path / "missing")
    with pytest.raises(SessionError, match="no summary.json"):
        rt.open(tmp_path)
    with pytest.raises(SessionError, match="unknown backend 'fpga'"):
        rt.open(tiny_build, backend="fpga")
    # a build that stopped before 'emit' has no design to simulate
    early = tmp_path / "early"
    early.mkdir()
    summary = json.loads((tiny_build / "summary.json").read_text())
    summary["stopped_after"] = "compress"
    (early / "summary.json").write_text(json.dumps(summary))
    shutil.copytree(tiny_build / "model", early / "model")
    with pytest.raises(SessionError, match="stopped after 'compress'"):
        rt.open(early, backend="sim")
    with rt.open(early, backend="golden") as s:  # the golden model needs only the checkpoint
        assert s.vocab == 256


def test_device_backend_names_what_is_missing(tiny_build):
    from accllm.runtime.backends.device import xrt_bindings

    if xrt_bindings() is not None:
        pytest.skip("XRT Python bindings are installed here")
    with pytest.raises(SessionError, match=r"the device backend needs pynq \(pip install"):
        rt.open(tiny_build, backend="device")
