"""attn_mac vs the contract's attention arithmetic, bit for bit.

QK^T: keys are KV4-quantized by `contract.kv4_quantize` from random Q15.16 rows; the reference is
`contract.attention_qk_dot` (the MAC stage of `contract.attention_lambda`). PV: probabilities come
from `contract.softmax_int` (plus a one-hot row with P = 2^15), V rows from `contract.kv4_quantize`
over magnitudes from 2^-16 to 2^31 (so the dequantization shifts both left and right, with
rounding), and the reference is `contract.attention_pv`, the PV stage of `attention_lambda`.
"""

from __future__ import annotations

import random

import cocotb
import numpy as np
import pytest
from cocotb.triggers import with_timeout

from accllm.numerics import contract
from accllm.rtl_lib import sim
from accllm.rtl_lib.stream import StreamSink, StreamSource, clock_and_reset, pack, unpack

C = contract.NUMERICS


def _kv_rows(rng, n: int, hd: int) -> np.ndarray:
    """Q15.16 rows with magnitudes spread from a few LSBs to nearly the full int32 range."""
    mags = [1 << int(b) for b in rng.integers(2, 31, size=n)]
    mags[:3] = [4, 1 << 30, (1 << 31) - 1]
    rows = [rng.integers(-m, m, size=hd, endpoint=False) for m in mags]
    rows[0][:] = rng.integers(0, 4, size=hd)  # tiny, non-negative: exponent > 16, right shifts
    return np.stack(rows)


async def _run(dut, beats, n_out):
    p = sim.test_parameters()
    src = StreamSource(dut, gap_prob=0.2)
    sink = StreamSink(dut, ["m_data", "m_mode"], stall_prob=0.3)
    cocotb.start_soon(src.send(beats))
    got = await with_timeout(sink.collect(n_out), 2_000_000, "ns")
    return [unpack(b["m_data"], p["OUT_W"], p["LANES"], signed=True) for b in got], got


@cocotb.test()
async def qk_matches_contract(dut):
    lanes = sim.test_parameters()["LANES"]
    await clock_and_reset(dut)
    rng = np.random.default_rng(random.getrandbits(32))
    hd, n = 4 * lanes, 12
    kc, kz, _ = contract.kv4_quantize(_kv_rows(rng, n, hd))
    q = rng.integers(-127, 128, size=hd)
    q[:2] = [127, -127]
    beats = [
        {
            "s_mode": 0,
            "s_codes": pack(kc[j, d0 : d0 + lanes], 4),
            "s_zero": int(kz[j]),
            "s_q": pack(q[d0 : d0 + lanes], 8),
            "s_last": int(d0 + lanes == hd),
        }
        for j in range(n)
        for d0 in range(0, hd, lanes)
    ]
    outs, raw = await _run(dut, beats, n)
    want = contract.attention_qk_dot(q[None, None], kc[None], kz[None])[0, 0]
    assert [o[0] for o in outs] == want.tolist()
    assert all(o[1:] == [0] * (lanes - 1) for o in outs) and all(b["m_mode"] == 0 for b in raw)


@cocotb.test()
async def pv_matches_contract(dut):
    lanes = sim.test_parameters()["LANES"]
    await clock_and_reset(dut)
    rng = np.random.default_rng(random.getrandbits(32))
    hd, n = 2 * lanes, 10
    vc, vz, ve = contract.kv4_quantize(_kv_rows(rng, n, hd))
    vdeq = contract.kv4_dequantize(vc, vz, ve, C.res_frac)
    assert np.abs(vdeq).max() < 1 << (sim.test_parameters()["DEQ_W"] - 1)
    logits = rng.integers(-(8 << C.sm_frac), 8 << C.sm_frac, size=(3, n))
    probs = contract.softmax_int(logits, np.ones((3, n), dtype=bool))
    probs = np.concatenate([probs, np.eye(n, dtype=np.int64)[None, 1] << C.prob_frac])
    beats, expect = [], []
    for prow in probs:
        for d0 in range(0, hd, lanes):
            for j in range(n):
                beats.append(
                    {
                        "s_mode": 1,
                        "s_codes": pack(vc[j, d0 : d0 + lanes], 4),
                        "s_zero": int(vz[j]),
                        "s_exp": int(ve[j]) & 0xFF,
                        "s_prob": int(prow[j]),
                        "s_last": int(j == n - 1),
                    }
                )
        o = contract.attention_pv(prow[None, None], vc[None], vz[None], ve[None])[0, 0]
        expect += [o[d0 : d0 + lanes].tolist() for d0 in range(0, hd, lanes)]
    outs, raw = await _run(dut, beats, len(expect))
    assert outs == expect
    assert all(b["m_mode"] == 1 for b in raw)


@pytest.mark.rtl
def test_attn_mac_default():
    """8 lanes (head dims per beat)."""
    sim.run_primitive("attn_mac", __file__)


@pytest.mark.rtl
def test_attn_mac_two_lanes():
    """2 lanes: longer reductions, QK adder tree of 2."""
    sim.run_primitive("attn_mac", __file__, {"LANES": 2})
