"""The performance model's costs against figures derived by hand from the docs' rules.

The engine is a fixed literal (not derive_engine) so that the expected numbers below are
worked out from the contract's storage (29 stream words per 4096-input row, 3 metadata words
per row at G=128) and the rtl_lib rates, independently of the code under test.
"""

from __future__ import annotations

import itertools
import math

import pytest

from accllm.backend.perf.cost import Machine, PerfOptions, Step, linear_cost, run_schedule
from accllm.backend.perf.estimate import decode, roofline
from accllm.backend.perf.resources import estimate as resource_estimate
from accllm.backend.perf.workload import Workload
from accllm.backend.target_desc import EngineConfig, load_target

U280 = load_target("u280")
# 27 weight channels x 18 lanes x 4 blocks, 2 words per cycle per channel.
ENGINE = EngineConfig(
    target="u280",
    clock_mhz=225.0,
    channels=32,
    weight_channels=27,
    kv_channels=4,
    misc_channel=31,
    words_per_cycle=2.0,
    mac_blocks=4,
    mac_lanes=486,
    lanes_per_channel=18,
    attn_lanes=8,
    act_buffer_bytes=1 << 24,
    kv_buffer_bytes=1 << 23,
    gemm_tokens=64,
    bound="bandwidth",
    estimate={},
)
Q_PROJ = Step("linear", "mac", n=4096, k=4096, group=128)


def machine(**opts) -> Machine:
    return Machine(U280, ENGINE, PerfOptions(**opts))


def test_linear_bytes_are_the_contract_storage():
    # 4096 rows x (29 weight words + 3 metadata words: 8 + 32 x 18 = 584 bits) x 32 bytes.
    assert linear_cost(Q_PROJ, machine(), 1).read == 4096 * (29 + 3) * 32
    # index2 metadata: 8-bit blocks, 1024 blocks per row / 32 per word = 32 words.
    assert linear_cost(Q_PROJ, machine(encoding="index2"), 1).read == 4096 * (32 + 3) * 32


def test_linear_gemv_phases_without_double_buffering():
    # 152 rows per channel -> 9 passes of 18 lanes; the unit takes one word per cycle per channel
    # (rate 1, although u280 could deliver ~2).  Per pass, metadata: 1 (S_META_CMD) + 67 (fill:
    # 64 HBM + 3 AXI) + 1 (first record) + 27*18*3 - 1 = 1457 (the other records: every weight
    # channel's lanes, 3 words per row at K=4096, G=128).  Per token: 129 (128 activation words
    # + exponent); the first round 1 (S_W_CMD) + 67 (fill) + 1 (lane 0) + 17 (lanes 1..17) +
    # 1 (unpacker) + 8 (the round's other MAC beats) = 95; 28 more rounds of max(18 words,
    # 9 beats + 1 + 16) = 26 cycles (an unpacker takes its next word only with its last beat);
    # 4 (MAC pipeline); 486 (S_WRITE: one lane of every channel per cycle).
    per_pass_meta = 1 + 67 + 1 + (27 * 18 * 3 - 1)
    per_token = 129 + (1 + 67 + 1 + 17 + 1 + 8) + 28 * 26 + 4 + 486
    assert linear_cost(Q_PROJ, machine(), 1).cycles == pytest.approx(
        9 * (per_pass_meta + per_token) + 3
    )


def test_linear_gemv_double_buffered_is_bandwidth_bound():
    # Overlapped phases: max(129, 261, 261, ceil(486/8) = 61) per pass, metadata beside the
    # weights (18*3/2 = 27 cycles, hidden); two fills and the pipeline once.
    m = machine(double_buffer=True, striping=True, write_lanes=8)
    assert linear_cost(Q_PROJ, m, 1).cycles == pytest.approx(9 * 261 + 2 * 67 + 5 + 3)


def test_prefill_restreams_weights_per_token():
    one, four = linear_cost(Q_PROJ, machine(), 1), linear_cost(Q_PROJ, machine(), 4)
    assert four.read - 3 * 4096 * 29 * 32 == one.read  # metadata once, weights per token


def _layer() -> Workload:
    steps = [
        Step("rmsnorm", "norm", length=4096, in_bytes=4 * 4096, out_bytes=4 * 4096),
        Step(
            "linear", "mac", n=4096, k=4096, group=128, in_bytes=4097, out_bytes=4 * 4096, deps=(0,)
        ),
        Step("kv_append", "kv", kv_heads=32, head_dim=128, sink=4, window=1020, deps=(1,)),
        Step(
            "attention",
            "attn",
            heads=32,
            kv_heads=32,
            head_dim=128,
            sink=4,
            window=1020,
            deps=(1, 2),
        ),
        Step("linear", "mac", n=11008, k=4096, group=128, deps=(3,)),
        Step("linear", "mac", n=4096, k=11008, group=128, deps=(4,)),
    ]
    return Workload("layer", steps)


def test_kv_read_per_decode_token():
    # At context 1024 every head reads 1024 slots of 64 code bytes + 2 scale bytes, K and V:
    # 2 x 32 x ceil(1024 * 66 / 32) words.
    att = Step("attention", "attn", heads=32, kv_heads=32, head_dim=128, sink=4, window=1020)
    r = run_schedule([att], machine(), 1, 1023)
    assert r.read == 2 * 32 * math.ceil(1024 * 66 / 32) * 32
    # Λ: a longer context reads the same S + W slots.
    assert run_schedule([att], machine(), 1, 5000).read == r.read


def test_estimate_never_beats_its_roofline():
    wl = _layer()
    for db, st, onchip, lanes in itertools.product(
        [False, True], [False, True], [False, True], [8, 4096]
    ):
        m = machine(
            double_buffer=db,
            striping=st,
            act_onchip=onchip,
            attn_lanes=lanes,
            softmax_units=32,
            vector_lanes=16,
            write_lanes=8,
        )
        for ctx in (1, 1024, 4096):
            d = decode(wl, m, ctx)
            assert d["tokens_per_s"] <= roofline(m, d["hbm_bytes_per_token"]) * 1.0001


def test_each_option_moves_decode_toward_the_roofline():
    wl = _layer()
    base = decode(wl, machine(), 1024)
    steps = [
        dict(double_buffer=True),
        dict(striping=True),
        dict(attn_lanes=512),
        dict(softmax_units=16),
        dict(write_lanes=8),
    ]
    opts: dict = {}
    prev = base["tokens_per_s"]
    for s in steps:
        opts |= s
        now = decode(wl, machine(**opts), 1024)["tokens_per_s"]
        assert now > prev, s
        prev = now
    spilled = decode(wl, machine(**opts, act_onchip=False), 1024)
    assert spilled["hbm_bytes_per_token"] > base["hbm_bytes_per_token"]


def test_resources_scale_with_lanes_and_fit_flags():
    small = resource_estimate(machine(), 4096)
    # DSP: one per MAC lane (486) + attn_mac 24 + requantizer 8 + rmsnorm 15 + rope 12 +
    # silu 6 + softmax 2 (the baseline's counts at default parameters).
    assert small["use"]["DSP"] == 486 + 24 + 8 + 15 + 12 + 6 + 2
    assert small["fits"]
    big = resource_estimate(machine(attn_lanes=8 * 400), 4096)  # 400 x 24 DSP > 0.7 x 9024
    assert big["use"]["DSP"] > 0.7 * U280.resources.dsp and not big["fits"]
