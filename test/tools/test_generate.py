"""`accllm generate`: text from a build directory on the golden and sim backends.

The sim test builds a word-level `tokenizers` tokenizer (<= 256 ids, a BOS post-processor),
saves it into the checkpoint of a copy of the shared tiny build and checks that the simulated
accelerator (the Vitis RTL kernel driven through its AXI4-Lite registers) and the integer golden
model generate the same tokens and text for the same seed,
that the simulator's output went to the log file and not to the terminal, and that a sim
session after `reset` (a stale KV cache in the accelerator) still matches a fresh golden one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BIN = Path(sys.executable).parent
WORDS = (
    "the a cat dog sat ran on under mat tree and then it was big small red blue green over "
    "quick brown fox jumps lazy sun moon star sky sea"
).split()


def generate(*args: str | Path) -> subprocess.CompletedProcess:
    cmd = [str(BIN / "accllm"), "generate", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True)


def save_word_tokenizer(checkpoint: Path) -> None:
    """A WordLevel tokenizer of 256 ids: [UNK], <s>, </s> (the tiny config's bos/eos ids 1, 2),
    the words above, then filler words; whitespace pre-tokenizer, BOS added on encode."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    vocab = {"[UNK]": 0, "<s>": 1, "</s>": 2}
    for w in WORDS + [f"w{i}" for i in range(256)]:
        if len(vocab) < 256:
            vocab.setdefault(w, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    tok.add_special_tokens(["<s>", "</s>"])
    tok.save(str(checkpoint / "tokenizer.json"))


def test_byte_level_golden_streams_the_prompt_and_its_continuation(tiny_build, tmp_path):
    import accllm.runtime as rt
    from accllm.tools.generate_command import printable

    out = tmp_path / "g.json"
    proc = generate(tiny_build, "--prompt", "Hi ü", "--backend", "golden", "--max-new-tokens",
                    "5", "--temperature", "0.7", "--seed", "2", "--json", out)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    got = json.loads(out.read_text())
    assert got["prompt_ids"] == list("Hi ü".encode())  # byte-level: no tokenizer file
    with rt.open(tiny_build, "golden") as s:
        want = s.generate(got["prompt_ids"], 5, rt.Sampling(temperature=0.7, seed=2))
    assert got["tokens"] == want
    text = bytes(want).decode("utf-8", errors="replace")
    assert got["text"] == text
    assert proc.stdout == "Hi ü" + printable(text) + "\n"
    assert all(c.isprintable() or c in "\n\t" for c in proc.stdout[:-1])
    assert "tokens/s (wall time)" in proc.stderr and "cycles" not in proc.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["{missing}", "--prompt", "x"], "no such build directory"),
        (["{tmp}", "--prompt", "x"], "not an accllm build directory"),
        (["{big}", "--prompt", "x"], "no tokenizer.json"),
        (["{build}", "--prompt", "x", "--top-p", "0"], r"--top-p: must be in \(0, 1\]"),
        (["{build}", "--prompt", "x", "--temperature", "-1"], "--temperature: must be"),
        (["{build}", "--prompt", "x", "--top-k", "1.5"], "--top-k: '1.5' is not an integer"),
        (["{build}", "--prompt", "x", "--max-new-tokens", "0"], "must be >= 1"),
        (["{build}", "--prompt", "", "--backend", "golden"], "the prompt is empty"),
        (
            ["{build}", "--prompt", "x", "--backend", "golden", "--max-new-tokens", "300"],
            "past the model's 256 positions",
        ),  # fmt: skip
        (["{build}", "--prompt", "x", "--backend", "device"], "the device backend needs pynq"),
    ],
)
def test_errors_are_one_line(tiny_build, tmp_path, args, message):
    big = tmp_path / "big"  # a build whose model has 300 ids and no tokenizer file
    (big / "model").mkdir(parents=True)
    shutil.copy(tiny_build / "summary.json", big)
    config = json.loads((tiny_build / "model" / "config.json").read_text())
    (big / "model" / "config.json").write_text(json.dumps({**config, "vocab_size": 300}))
    names = {"missing": tmp_path / "nope", "tmp": tmp_path, "big": big, "build": tiny_build}
    proc = generate(*[a.format(**names) for a in args])
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert "error" in lines[-1] and "Traceback" not in proc.stderr
    assert len([ln for ln in lines if "error" in ln]) == 1, proc.stderr
    assert __import__("re").search(message, lines[-1]), lines[-1]
    assert proc.stdout == ""  # nothing generated, not even the prompt


@pytest.mark.slow
@pytest.mark.rtl
def test_sim_and_golden_generate_the_same_tokens(tiny_build, tmp_path):
    import accllm.runtime as rt
    from accllm.runtime.tokenizer import FileTokenizer

    build = tmp_path / "build"
    shutil.copytree(tiny_build, build)
    save_word_tokenizer(build / "model")
    prompt = "the quick brown"  # <s> + 3 words: one 4-token chunk program
    sampling = ["--temperature", "0.8", "--top-k", "40", "--top-p", "0.95", "--seed", "3"]
    runs = {}
    for backend in ("golden", "sim"):
        out = tmp_path / f"{backend}.json"
        proc = generate(build, "--prompt", prompt, "--max-new-tokens", "2", *sampling,
                        "--backend", backend, "--json", out)  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]
        runs[backend] = (json.loads(out.read_text()), proc)
    (gold, gold_proc), (sim, sim_proc) = runs["golden"], runs["sim"]
    tok = FileTokenizer(build / "model" / "tokenizer.json", ())
    assert gold["prompt_ids"] == [1] + [WORDS.index(w) + 3 for w in prompt.split()]
    assert sim["tokens"] == gold["tokens"] and len(gold["tokens"]) >= 1
    assert sim["text"] == gold["text"] == tok.decode(gold["tokens"])
    assert sim_proc.stdout == gold_proc.stdout == prompt + gold["text"] + "\n"
    # speed: wall time, and the simulated cycles at the sim target's 100 MHz clock
    speed = sim["speed"]
    assert speed["clock_mhz"] == 100.0 and len(speed["decode_cycles"]) == speed["decode_tokens"]
    want = 100e6 * speed["decode_tokens"] / sum(speed["decode_cycles"])
    assert speed["target_tokens_per_second"] == pytest.approx(want)
    assert f"= {want:.1f} tokens/s" in sim_proc.stderr
    # cocotb's and Verilator's output is in the log file, not on the terminal
    assert "TESTS=" not in sim_proc.stdout + sim_proc.stderr
    assert "Running command" not in sim_proc.stderr
    log = (build / "runtime-sim.log").read_text()
    assert "kernel_tb.run_kernel" in log and "PASS=1" in log  # the Vitis kernel, via registers

    # One sim session: a second sequence after reset runs over the first one's KV cache
    # (nothing is cleared in the accelerator) and must still equal a fresh golden run.
    ids = np.random.default_rng(4).integers(0, 256, 6)
    second = rt.Sampling(temperature=1.0, top_k=20, seed=9)
    with rt.open(build, "sim", log_file=tmp_path / "api.log") as s, rt.open(build, "golden") as g:
        s.generate(ids[:4], 1)  # positions 0..4: the Λ window (S=2, W=2) has wrapped
        assert s.generate(ids[4:], 2, second) == g.generate(ids[4:], 2, second)
        np.testing.assert_array_equal(s.logits, g.logits)
        assert len(s.stats.decode_cycles) == 2 and len(s.stats.prefill_cycles) == 2
