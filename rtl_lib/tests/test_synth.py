"""Resource figures: the categorizer, the tolerance rule, and a re-synthesis vs the baseline."""

from __future__ import annotations

import pytest

from accllm.rtl_lib import primitives, synth


def test_categorize_counts_cells():
    cells = {
        "LUT2": 3,
        "LUT6": 4,
        "FDRE": 5,
        "FDSE": 1,
        "DSP48E2": 2,
        "RAMB36E2": 1,
        "RAMB18E2": 1,
        "CARRY8": 7,
        "MUXF7": 2,
        "SRLC32E": 1,
    }
    assert synth.categorize(cells) == {
        "LUT": 7,
        "LUTRAM": 1,
        "FF": 6,
        "DSP": 2,
        "BRAM": 3,
        "CARRY": 7,
        "MUXF": 2,
    }


def test_categorize_rejects_unknown_cells():
    with pytest.raises(ValueError, match="URAM288"):
        synth.categorize({"URAM288": 1})


def test_compare_tolerance():
    name = next(iter(primitives.PRIMITIVES))
    params = dict(primitives.PRIMITIVES[name].params)
    base = {
        name: {
            "params": params,
            "LUT": 100,
            "LUTRAM": 0,
            "FF": 10,
            "DSP": 1,
            "BRAM": 0,
            "CARRY": 0,
            "MUXF": 0,
        }
    }
    same = {name: {"LUT": 110, "LUTRAM": 0, "FF": 12, "DSP": 1, "BRAM": 0, "CARRY": 2, "MUXF": 0}}
    assert synth.compare(base, same) == []
    worse = {name: {**same[name], "LUT": 111, "DSP": 2}}
    assert synth.compare(base, worse) == [f"{name}: LUT 100 -> 111", f"{name}: DSP 1 -> 2"]


def test_baseline_lists_every_primitive():
    assert sorted(synth.load_baseline()) == sorted(primitives.PRIMITIVES)


@pytest.mark.slow
def test_resources_match_baseline():
    """Re-synthesise every primitive in the baseline; fail on a change beyond tolerance."""
    baseline = synth.load_baseline()
    current = synth.synthesize([n for n in baseline if n in primitives.PRIMITIVES])
    problems = synth.compare(baseline, current)
    assert not problems, (
        "resources changed (python -m accllm.rtl_lib.synth --update):\n" + "\n".join(problems)
    )


def test_docs_table_matches_baseline():
    """docs/rtl_lib.md shows the checked-in figures (synth --update rewrites both)."""
    assert synth.docs_table() == synth.resource_table(synth.load_baseline())
