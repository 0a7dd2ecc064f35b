"""The stream unit's cost rule against Verilator (issue 13, item 5: the new units alone).

`cost.stream_linear_cycles` (the estimator's rule for `rtl_lib/stream_linear_unit.sv`, given a
stream delivery model: beat i of a channel's stream offered from cycle
ceil((i + 1) * words_per_beat / words_per_cycle)) against the cycles the unit takes for the same
descriptor under Verilator (`backend/sim/stream_linear_unit_run.py`, the stream driven from
Python at exactly that rate, every output checked bit for bit against the contract first).

The configurations vary what the rule must capture: 256- and 512-bit stream ports (the two
builds of the unit's own test, reused), stream-bound delivery (the decode case: fewer words per
cycle than the lanes consume) and compute-bound delivery (GEMM tiles of 3 and 4 tokens: the lane
FIFOs fill and back-pressure the stream), G = 32 / 64 / 128, passes that do not fill the lanes,
the int8 datapath, and many channels of few lanes whose word writes queue at the arbiter.

Run: `.venv/bin/pytest -s -m slow test/backend/test_stream_linear_cost.py` (prints the table).
"""

from __future__ import annotations

import pytest

from accllm.backend.perf.cost import StreamUnit, stream_linear_cycles
from accllm.backend.sim import stream_linear_unit_run as slr
from accllm.bench.validation import record

TOLERANCE = 0.05

# (name, unit build (CH, LANES, DW), words per cycle,
#  layers (n, k, group, tokens[, precision[, bias]]))
CONFIGS = [
    ("256-bit decode, stream bound", (2, 4, 256), 0.25, [(48, 256, 64, 1)]),
    ("256-bit GEMM tile, compute bound", (2, 4, 256), 1.0, [(40, 128, 32, 4)]),
    # a biased linear (Qwen2's q/k/v): 2 more entries and feeder cycles per row
    ("256-bit biased decode, stream bound", (2, 4, 256), 0.25, [(48, 256, 64, 1, "w2", True)]),
    ("256-bit biased GEMM tile", (2, 4, 256), 1.0, [(40, 128, 32, 4, "w2", True)]),
    ("512-bit decode, stream bound", (2, 4, 512), 0.375, [(64, 256, 128, 1)]),
    ("512-bit GEMM tile, full rate", (2, 4, 512), 2.0, [(72, 192, 64, 3)]),
    ("512-bit int8 LM head", (2, 4, 512), 0.5, [(200, 128, 0, 1, "int8")]),
    # 4 channels of one lane, 4-token tiles: each row's 4 word writes per channel fill the
    # channel's write FIFO while the arbiter serves the 4 channels (the writer-bound case).
    ("256-bit 4x1 GEMM tile, write bound", (4, 1, 256), 4.0, [(128, 64, 32, 4)]),
]


# The suite's subset; `python -m accllm.bench.validation` runs them all.
SUITE = (
    "256-bit decode, stream bound",
    "256-bit biased GEMM tile",
    "512-bit GEMM tile, full rate",
)


def validate(configs=CONFIGS) -> list[dict]:
    rows = []
    for name, (ch, lanes, dw), wpc, layers in configs:
        jobs = slr.packed_jobs(layers, ch)
        params = slr.unit_parameters(ch, lanes, jobs, dw=dw, tok=4)
        # the builds of rtl_lib/tests/test_stream_linear_unit.py (with the bias path, which an
        # unbiased descriptor does not use)
        params |= {"MAX_K": 256, "BIAS": 1}
        sim = slr.simulate(params, jobs, slr.Delivery(wpc))
        unit = StreamUnit(lanes=lanes, channels=ch, words_per_beat=dw // 256)
        for j, sim_c in zip(jobs, sim, strict=True):
            est = stream_linear_cycles(
                j.layout(lanes, dw // 256),
                unit,
                k=j.k,
                group=j.group,
                tokens=j.tokens,
                words_per_cycle=wpc,
            )
            rows.append(
                {
                    "config": name,
                    "engine": f"{ch}x{lanes}, DW {dw}",
                    "wpc": wpc,
                    "layer": f"T={j.tokens} N={j.n} K={j.k} "
                    + (f"G={j.group}" if j.precision == "w2" else "int8")
                    + (" bias" if j.bias else ""),
                    "est": est,
                    "sim": sim_c,
                    "err": (est - sim_c) / sim_c,
                }
            )
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| config | ch x lanes, port | words/cycle | layer | est | sim | error |",
        "|---|---|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['config']} | {r['engine']} | {r['wpc']:g} | {r['layer']} | {r['est']:.0f} "
            f"| {r['sim']} | {100 * r['err']:+.1f} % |"
        )
    return "\n".join(lines)


def check(configs) -> None:
    rows = validate(configs)
    text = table(rows)
    print("\nestimator vs Verilator, stream_linear_unit cycles per descriptor\n" + text)
    record("stream_linear_unit", rows)
    assert {r["config"] for r in rows} == {c[0] for c in configs}
    bad = [r["config"] for r in rows if abs(r["err"]) > TOLERANCE]
    assert not bad, f"estimate off by more than 5 % on {bad}:\n{text}"


@pytest.mark.rtl
@pytest.mark.slow
def test_stream_linear_cost_within_5_percent_of_verilator():
    check([c for c in CONFIGS if c[0] in SUITE])


@pytest.mark.bench
@pytest.mark.rtl
def test_stream_linear_cost_of_every_configuration():
    check(CONFIGS)


def test_stream_linear_cost_of_a_7b_step_on_u280():
    """`cost.stream_linear_cost` on the engine `derive_engine` sizes: a Llama-2-7B q projection
    (decode) moves the stream layout's bytes and takes at least the channel's stream time (and
    not much more: the tile load, the first round, the last row's writes); a tile larger than
    the unit's is an error."""
    from accllm.backend import tiling
    from accllm.backend.perf.cost import Machine, Step, stream_linear_cost
    from accllm.backend.target_desc import derive_engine, load_target

    target = load_target("u280")
    m = Machine(target, derive_engine(target))
    eng = m.engine
    c = stream_linear_cost(Step("linear", "mac", n=4096, k=4096, group=128), m, 1)
    layout = tiling.linear_stream_layout(4096, 4096, 128, "w2", 128, eng.lanes_per_channel, 2)
    assert c.read == layout.beats * 2 * 32 * 32
    stream = layout.words / eng.words_per_cycle
    assert stream <= c.cycles <= 1.3 * stream
    with pytest.raises(ValueError, match="tile holds 1..4"):
        stream_linear_cost(Step("linear", "mac", n=4096, k=4096, group=128), m, 5)


def test_held_beats_and_a_late_stream():
    """The rule with a prefetch FIFO: beats already held are offered at once, the rest from
    `offset` on; with no beat held and no offset it is the plain rule, with every beat held it
    is the rule at an unbounded rate, and a later stream never makes it faster."""
    import math

    from accllm.backend import tiling

    unit = StreamUnit(lanes=4, channels=2, words_per_beat=1)
    lay = tiling.linear_stream_layout(48, 256, 64, "w2", 24, 4, 1)
    kw = dict(k=256, group=64, tokens=1)
    plain = stream_linear_cycles(lay, unit, words_per_cycle=0.25, **kw)
    assert stream_linear_cycles(lay, unit, words_per_cycle=0.25, held=0, offset=0, **kw) == plain
    full = stream_linear_cycles(lay, unit, words_per_cycle=0.25, held=lay.beats, **kw)
    assert full == stream_linear_cycles(lay, unit, words_per_cycle=math.inf, **kw)
    assert full < plain
    late = [
        stream_linear_cycles(lay, unit, words_per_cycle=0.25, offset=o, **kw) for o in (0, 10, 100)
    ]
    assert late == sorted(late) and late[-1] >= plain + 90


def test_biased_linear_costs_its_entries():
    """A biased linear (Qwen2.5-7B's q projection, decode on u280) streams its rows' two bias
    entries: more bytes than the same linear without, and not fewer cycles."""
    from accllm.backend.perf.cost import Machine, Step, stream_linear_cost
    from accllm.backend.target_desc import derive_engine, load_target

    target = load_target("u280")
    m = Machine(target, derive_engine(target))
    plain = stream_linear_cost(Step("linear", "mac", n=3584, k=3584, group=128), m, 1)
    biased = stream_linear_cost(Step("linear", "mac", n=3584, k=3584, group=128, bias=True), m, 1)
    assert biased.read > plain.read and biased.cycles >= plain.cycles
