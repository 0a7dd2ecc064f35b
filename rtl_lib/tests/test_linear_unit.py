"""linear_unit vs `accllm.numerics.contract.linear_w2a8`, bit for bit.

A random 2:4 W2 layer (codes, patterns, zero points, 16-bit group mantissas, per-row exponents)
is laid out in HBM exactly as the backend lays it out (`accllm.backend.accel_program`: lane-
interleaved weight tiles on CH channels, metadata records on the misc channel), served by the
behavioural HBM model (`accllm.backend.sim.hbm`: latency and bandwidth per channel); A8 rows and
per-token exponents sit in a modelled activation buffer. Two descriptors run back to back (a
G=64 layer with 4 tokens, a G=128 layer with K=128 and 1 token, rows not a multiple of the
lanes); every written Q15.16 output must equal the contract's and nothing else may be written.
The harness is `accllm.backend.sim.linear_unit_run` (shared with the estimator's validation).
"""

from __future__ import annotations

import random

import cocotb
import numpy as np
import pytest

from accllm.backend.sim import linear_unit_run as lur
from accllm.rtl_lib import sim


@cocotb.test()
async def linear_layers_match_the_contract(dut):
    p = sim.test_parameters()
    rng = np.random.default_rng(random.randrange(1 << 30))
    jobs = lur.packed_jobs([(64, 64, 64, 4), (40, 128, 128, 1)], p["CH"], p["LANES"])
    # Weight channels at the sim target's 0.25 words per cycle, metadata at 1; 8-cycle latency.
    cycles = await lur.run_jobs(dut, jobs, lur.HbmTiming(8, 0.25, 1.0), rng)
    dut._log.info(f"linear_unit cycles per descriptor: {cycles}")


@pytest.mark.slow
def test_linear_unit():
    sim.run_primitive("linear_unit", __file__)
