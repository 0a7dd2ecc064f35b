"""linear_unit vs `accllm.numerics.contract.linear_w2a8` / `linear_int8`, bit for bit.

A random 2:4 W2 layer (codes, patterns, zero points, 16-bit group mantissas, per-row exponents)
is laid out in HBM exactly as the backend lays it out (`accllm.backend.accel_program`: lane-
interleaved weight tiles on CH channels, metadata records on the misc channel), served by the
behavioural HBM model (`accllm.backend.sim.hbm`: latency and bandwidth per channel); A8 rows and
per-token exponents sit in a modelled activation buffer. Four descriptors run back to back:
* W2: a G=64 layer with 4 tokens, a G=128 layer with K=128 and 1 token (rows not a multiple of
  the lanes);
* int8 (the LM head): the tiny model's `compress_model` LM head (vocab 256 x hidden 64, its
  16-bit row mantissas and exponents) on 2 tokens whose A8 input is the final RMSNorm of a
  random residual; the expected logits are `golden.lm_head_block` of that residual; then a
  random int8 layer of an odd shape (200 x 96: 3 words per row, padded lanes, 3 tokens) against
  `contract.linear_int8`.
Every written Q15.16 output must equal the reference's and nothing else may be written.
The harness is `accllm.backend.sim.linear_unit_run` (shared with the estimator's validation).
"""

from __future__ import annotations

import random

import cocotb
import numpy as np
import pytest

from accllm.backend.sim import linear_unit_run as lur
from accllm.numerics import contract as ct
from accllm.numerics import golden
from accllm.rtl_lib import sim


def tiny_lm_head_case(rng, tokens: int) -> lur.Int8Case:
    """The tiny default model's compressed LM head on the final-norm A8 of a random residual."""
    from accllm.models.default import build_model, default_config
    from accllm.numerics.compress import compress_model

    cm = compress_model(build_model(default_config(gqa=True), seed=0))
    h = rng.integers(-(1 << 18), 1 << 18, size=(tokens, cm.lm_q.shape[1]))
    x_q, f_x = ct.quantize_act_pow2(golden.rmsnorm_block(h, cm.final_norm), ct.NUMERICS.res_frac)
    want = golden.lm_head_block(h, cm)
    return lur.Int8Case(cm.lm_q, cm.lm_mult, cm.lm_exp, x_q, f_x, want)


@cocotb.test()
async def linear_layers_match_the_contract(dut):
    p = sim.test_parameters()
    rng = np.random.default_rng(random.randrange(1 << 30))
    layers = [(64, 64, 64, 4), (40, 128, 128, 1), (256, 64, 0, 2, "int8"), (200, 96, 0, 3, "int8")]
    jobs = lur.packed_jobs(layers, p["CH"], p["LANES"])
    cases = {2: tiny_lm_head_case(rng, 2)}
    # Weight channels at the sim target's 0.25 words per cycle, metadata at 1; 8-cycle latency.
    cycles = await lur.run_jobs(dut, jobs, lur.HbmTiming(8, 0.25, 1.0), rng, cases=cases)
    dut._log.info(f"linear_unit cycles per descriptor: {cycles}")


@pytest.mark.slow
def test_linear_unit():
    sim.run_primitive("linear_unit", __file__)
