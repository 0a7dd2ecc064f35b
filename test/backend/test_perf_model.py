"""The performance model of the emitted stream engine against figures worked out by hand.

The engine is a fixed literal (u280's stream engine: 32 channels x 17 lanes, 512-bit beats,
0.998 beats per cycle per channel, 4-token GEMM tiles, 1024-beat prefetch FIFOs) so that the
expected numbers below come from the contract's storage and the fetch program's rules, worked
out in the comments, independently of the code under test.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from accllm.backend.perf.cost import (
    Machine,
    Step,
    attention_command,
    linear_commands,
    run_schedule,
    step_commands,
)
from accllm.backend.perf.estimate import decode, roofline
from accllm.backend.perf.resources import estimate as resource_estimate
from accllm.backend.perf.workload import Workload
from accllm.backend.target_desc import (
    EngineConfig,
    derive_engine,
    load_target,
    stream_unit_resources,
)

U280 = load_target("u280")
ENGINE = EngineConfig(
    target="u280",
    clock_mhz=225.0,
    channels=32,
    weight_channels=32,
    kv_channels=32,
    misc_channel=31,
    words_per_cycle=1.9965,
    mac_blocks=4,
    mac_lanes=544,
    lanes_per_channel=17,
    words_per_beat=2,
    tile_tokens=4,
    fifo_beats=1024,
    attn_lanes=8,
    act_buffer_bytes=1 << 24,
    kv_buffer_bytes=1 << 23,
    gemm_tokens=64,
    bound="LUT",
    estimate={},
)
M = Machine(U280, ENGINE)
Q_PROJ = Step("linear", "mac", n=4096, k=4096, group=128)
RATE = 1.9965 / 2  # beats per cycle per channel
# Q_PROJ's channel stream: 128 rows per channel = 7 passes of 17 lanes + one of 9; a row is 29
# weight words and 33 metadata entries (exponent + 32 groups) at 14 entries per word, so a lane
# streams ceil(p * 33 / 14) metadata words after p rows: 3, 2, 3, 2, 2, 3, 2, 2 per pass.
# Words: 17 x (3+2+3+2+2+3+2 + 7 x 29) + 9 x (2 + 29) = 3740 + 279 = 4019 -> 2010 beats.
Q_BEATS = 2010
ATT = Step("attention", "attn", heads=32, kv_heads=32, head_dim=128, sink=4, window=1020)
# One KV head per channel; 1024 slots: K and V scales ceil(1024 x 2 / 64) = 32 beats each, K and
# V codes 1024 x 64 / 64 = 1024 beats each.
KV_BEATS = 2 * (32 + 1024)


def test_linear_streams_the_channel_layout_once_per_tile():
    (c,) = linear_commands(Q_PROJ, M, 1)
    assert c.demand == dict.fromkeys(range(32), Q_BEATS)
    assert c.read == Q_BEATS * 64 * 32
    # 8 tokens: two GEMM tiles of 4, each a command streaming the weights again.
    eight = linear_commands(Q_PROJ, M, 8)
    assert len(eight) == 2 and all(e.demand == c.demand for e in eight)
    assert len(linear_commands(Q_PROJ, M, 4)) == 1


def test_decode_linear_alone_in_a_program():
    # The stream starts with the program (latency 64 + 8), every channel delivers its 2010
    # beats at 0.998 per cycle; 17 lanes take 0.94x of that rate (derive_engine's LUT cap), so
    # the unit is the bound: the unit rule at the channel's rate (stream_linear_cost), whose
    # first 128 cycles load the activation row (S_XLOAD) and hide the first beat's latency,
    # after the dispatch (2 cycles).
    from accllm.backend.perf.cost import stream_linear_cost

    r = run_schedule([Q_PROJ], M, 1, 0)
    stream = 64 + 8 + Q_BEATS / RATE
    rule = stream_linear_cost(Q_PROJ, M, 1).cycles
    assert rule > Q_BEATS / RATE
    assert stream < r.cycles
    assert r.cycles == pytest.approx(2 + rule, abs=1)
    assert r.read == Q_BEATS * 64 * 32


def test_gemm_tile_is_compute_bound():
    # A tile of 4 tokens applies each beat to 4 tokens: the unit, not the stream, is the bound.
    (c,) = linear_commands(Q_PROJ, M, 4)
    assert c.cycles > 2 * Q_BEATS / RATE
    # the dispatch (fetch + wait), the command; at most the stream's first-beat latency (64 +
    # 8) more: the program starts with an empty FIFO.
    r = run_schedule([Q_PROJ], M, 4, 0).cycles
    assert c.cycles + 2 <= r <= c.cycles + 2 + 72


def test_kv_ring_reads_of_a_decode_step():
    c = attention_command(ATT, M, 1, 1024)  # 1024 tokens cached
    assert c.demand == dict.fromkeys(range(32), KV_BEATS)
    assert c.read == 32 * KV_BEATS * 64
    # 1023 cached: ceil(1023 x 2 / 64) = 32 scale beats, 1023 code beats per ring half.
    assert attention_command(ATT, M, 1, 1023).demand[0] == 2 * (32 + 1023)
    # The new token's K and V are appended by the same command: 64 code + 2 scale bytes each.
    assert c.written == 2 * 32 * 66
    # Λ: a longer context reads the same S + W slots; at position 10 only 10 slots are cached.
    assert attention_command(ATT, M, 1, 5000).demand == c.demand
    short = 2 * (math.ceil(10 * 2 / 64) + math.ceil(10 * 64 / 64))
    assert attention_command(ATT, M, 1, 10).demand == dict.fromkeys(range(32), short)


def test_decode_append_is_fused_into_the_attention():
    app = Step("kv_append", "kv", kv_heads=32, head_dim=128, sink=4, window=1020, fused=True)
    assert step_commands(app, M, 1, 100) == []
    solo = replace(app, fused=False)
    (c,) = step_commands(solo, M, 1, 100)
    assert c.demand == {} and c.written == 2 * 32 * 66


def _layer() -> Workload:
    steps = [
        Step("rmsnorm", "norm", length=4096),
        Step("linear", "mac", n=4096, k=4096, group=128, deps=(0,)),
        Step("attention", "attn", **{k: getattr(ATT, k) for k in ATT.__dataclass_fields__
                                     if k in ("heads", "kv_heads", "head_dim", "sink",
                                              "window")}, deps=(1,)),
        Step("linear", "mac", n=11008, k=4096, group=128, deps=(2,)),
        Step("linear", "mac", n=4096, k=11008, group=128, deps=(3,)),
    ]  # fmt: skip
    return Workload("layer", steps)


def test_prefetch_hides_compute_bubbles_with_a_deep_fifo():
    """With the unit faster than the stream (here a channel at half of u280's rate, 0.5 beats
    per cycle, against the unit's port of one beat per cycle), the stream runs on through the
    RMSNorm and the attention and the linears drain the backlog: with 1024-beat FIFOs the layer
    takes less than its parts one after the other, and more with 64-beat FIFOs.  (On u280 the
    port's one beat per cycle is the channel's rate: no backlog can be drained.)"""
    wl = _layer()
    fast = replace(ENGINE, words_per_cycle=1.0)
    m = Machine(U280, fast)
    deep = run_schedule(wl.steps, m, 1, 1023).cycles
    shallow = run_schedule(wl.steps, Machine(U280, replace(fast, fifo_beats=64)), 1, 1023).cycles
    alone = sum(run_schedule([replace(s, deps=())], m, 1, 1023).cycles for s in wl.steps)
    assert deep < shallow <= alone + 1


def test_estimate_never_beats_its_roofline():
    wl = _layer()
    for ctx in (1, 1024, 4096):
        d = decode(wl, M, ctx)
        assert d["tokens_per_s"] <= roofline(M, d["hbm_bytes_per_token"]) * 1.0001


def test_resources_of_the_stream_engine():
    import json

    from accllm.backend.target_desc import BASELINE_PATH

    base = json.loads(BASELINE_PATH.read_text())["primitives"]
    m = Machine(U280, derive_engine(U280))
    r = resource_estimate(m, 11008, 128, 32)
    lin = stream_unit_resources(base, 32, m.engine.lanes_per_channel)
    assert r["units"]["stream_linear_unit"]["DSP"] == round(lin["DSP"])
    # 32 pipelines of stream_attn_pipe, each 128 / 16 = 8x the baseline's lanes.
    pipe, unit = base["stream_attn_pipe"], base["stream_attention_unit"]
    att_dsp = unit["DSP"] - 2 * pipe["DSP"] + 32 * 8 * pipe["DSP"]
    assert r["units"]["stream_attention_unit"]["DSP"] == att_dsp
    assert r["use"]["DSP"] >= lin["DSP"] + att_dsp
    assert r["fits"] == (not r["over"])
    # the prefetch FIFOs: 32 x 1024 beats x 64 B
    assert r["buffers_bytes"]["prefetch_fifos"] == 32 * m.engine.fifo_beats * 64
