"""One emitted accelerator prefills prompts of any length (issue #14, item 3).

The driver emits the default tiny model's accelerator once, with 4-token chunk programs
(`--chunk 4 --stop-after emit`: conftest's `tiny_build`); then the same design prefills
prompts of 1, C-1, C, C+1 and 3C+5 tokens (chunks at run-time positions, then single-token
steps) and decodes after them, and every prompt row's logits, every decoded token and its
logits equal the integer golden model's (which prefills the whole prompt at once).
"""

from __future__ import annotations

import numpy as np
import pytest

CHUNK = 4  # test/conftest.py: TINY_CHUNK
STEPS = 3  # decode steps after each prompt: past the Λ window (S=2, W=2) wrap


@pytest.fixture(scope="module")
def design(tiny_build):
    return tiny_build


@pytest.mark.slow
@pytest.mark.rtl
def test_one_design_prefills_any_prompt_length(design):
    from accllm.backend.sim.model_run import prompt_plan, simulate_model
    from accllm.interpreter.runner import load_module
    from accllm.models.checkpoint import load_checkpoint
    from accllm.numerics.compress import compress_model
    from accllm.numerics.golden import GoldenModel

    accel_module = load_module(design / "model.accel.mlir")
    hw_module = load_module(design / "model.hw.mlir")
    golden = GoldenModel(compress_model(load_checkpoint(design / "model")), 2, 2)
    rng = np.random.default_rng(5)
    for n in (1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5):
        prompt = rng.integers(0, 256, n)
        run = simulate_model(
            accel_module, hw_module, design / "verilog", design, prompt, STEPS, "sim"
        )
        assert run.prompt_programs == [s for s, _, _ in prompt_plan(n, CHUNK)]
        want_prefill, _ = golden.prefill(prompt)
        tokens, want_decode = golden.generate(prompt, STEPS)
        np.testing.assert_array_equal(run.prefill_logits, want_prefill, err_msg=f"prompt {n}")
        np.testing.assert_array_equal(run.tokens, tokens, err_msg=f"prompt {n}")
        np.testing.assert_array_equal(run.decode_logits, want_decode, err_msg=f"prompt {n}")


def test_prompt_plan():
    from accllm.backend.sim.model_run import prompt_plan

    assert prompt_plan(9, 4) == [
        ("chunk_gemm", 0, 4),
        ("chunk_gemm", 4, 4),
        ("decode_gemv", 8, 1),
    ]
    assert prompt_plan(3, 4) == [("decode_gemv", p, 1) for p in range(3)]
    with pytest.raises(ValueError, match="chunks >= 2"):
        prompt_plan(3, 1)
