"""stream_linear_unit vs `contract.linear_w2a8` / `contract.linear_int8`, bit for bit.

Random 2:4 W2 layers (codes, patterns, zero points, 16-bit group mantissas, per-row exponents)
and int8 layers are laid out in the unit's per-channel streams exactly as the backend lays them
out (`accllm.backend.accel_program.w2_stream_image` / `int8_stream_image`: per pass the lanes'
metadata entry words, then the lane-interleaved weight words), driven on the stream ports from
Python with random idle cycles while the unit applies back-pressure (its lane FIFOs fill); A8
rows and per-token exponents sit in a modelled activation buffer. The descriptors run back to
back on a 256-bit and on a 512-bit (two words per beat, the u280 width) build:
* W2 GEMM tiles (4 and 3 tokens) and decode (1 token), G = 32 / 64 / 128, rows that do not fill
  the last pass (the pass streams fewer lanes);
* W2 with a Q15.16 bias (Qwen2's q/k/v: two entries after each row's exponent, added after the
  requantizer, `contract.linear_bias_add`), rows at the int32 extremes saturating;
* a zero-padded K (W2 weights of K 96 on activations of 80, `contract.padded_k`) and an int8 K
  of part of a word (80), the rows' bytes past K holding garbage the unit must read as zeros;
* int8 (the LM head): the tiny model's compressed LM head on 2 tokens against
  `golden.lm_head_block` (256-bit build; a random int8 layer on the 512-bit one), and a random
  int8 layer of an odd shape.
Every written Q15.16 output must equal the reference's and nothing else may be written; each
stream must be read to its end.
"""

from __future__ import annotations

import random

import cocotb
import numpy as np
import pytest

from accllm.backend.sim import stream_linear_unit_run as slr
from accllm.numerics import contract as ct
from accllm.numerics import golden
from accllm.rtl_lib import sim


def tiny_lm_head_case(rng, tokens: int) -> slr.Int8Case:
    """The tiny default model's compressed LM head on the final-norm A8 of a random residual."""
    from accllm.models.default import build_model, default_config
    from accllm.numerics.compress import compress_model

    cm = compress_model(build_model(default_config(gqa=True), seed=0))
    h = rng.integers(-(1 << 18), 1 << 18, size=(tokens, cm.lm_q.shape[1]))
    x_q, f_x = ct.quantize_act_pow2(golden.rmsnorm_block(h, cm.final_norm), ct.NUMERICS.res_frac)
    want = golden.lm_head_block(h, cm)
    return slr.Int8Case(cm.lm_q, cm.lm_mult, cm.lm_exp, x_q, f_x, want)


LAYERS = [
    (64, 128, 64, 4),
    (40, 256, 128, 1),
    (24, 64, 32, 3),
    (8, 96, 32, 2),
    (48, 128, 64, 4, "w2", True),
    (16, 64, 32, 1, "w2", True),
    (24, 96, 32, 2, "w2", False, 80),
    (16, 80, 0, 1, "int8"),
    (256, 64, 0, 2, "int8"),
    (200, 96, 0, 3, "int8"),
]


@cocotb.test()
async def stream_linear_layers_match_the_contract(dut):
    p = sim.test_parameters()
    rng = np.random.default_rng(random.randrange(1 << 30))
    jobs = slr.packed_jobs(LAYERS, p["CH"])
    # The tiny model's LM head once (building the model takes a while); random int8 otherwise.
    cases = {8: tiny_lm_head_case(rng, 2)} if p["DW"] == 256 else {}
    delivery = slr.Delivery(words_per_cycle=p["DW"] / 256, gap_prob=0.3)
    cycles = await slr.run_jobs(dut, jobs, delivery, rng, cases=cases)
    dut._log.info(f"stream_linear_unit cycles per descriptor: {cycles}")


@pytest.mark.slow
@pytest.mark.parametrize("dw", [256, 512])
def test_stream_linear_unit(dw):
    sim.run_primitive("stream_linear_unit", __file__, {"DW": dw, "BIAS": 1})
