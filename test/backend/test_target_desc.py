"""Target descriptions: loading, validation errors naming the field, engine derivation."""

from __future__ import annotations

import copy
import json
import math

import pytest

from accllm.backend.target_desc import (
    TARGETS_DIR,
    TargetError,
    available_targets,
    derive_engine,
    load_target,
    parse_target,
)

U280 = json.loads((TARGETS_DIR / "u280.json").read_text())


def test_shipped_targets_load():
    assert {"u280", "sim"} <= set(available_targets())
    u = load_target("u280")
    # Datasheet figures of the Alveo U280 (xcu280): 32 HBM2 pseudo-channels, 460 GB/s.
    assert u.hbm.channels == 32 and u.hbm_bandwidth_gbps == pytest.approx(460.0)
    assert (u.resources.dsp, u.resources.bram36, u.resources.uram) == (9024, 2016, 960)
    assert load_target("sim").hbm.channels == 4


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d["hbm"].pop("channels"), "hbm.channels: missing"),
        (lambda d: d["hbm"].update(channels="32"), "hbm.channels: expected int"),
        (lambda d: d["hbm"].update(channels=2), "hbm.channels: need >= 3"),
        (lambda d: d["hbm"].update(axi_data_bits=300), "hbm.axi_data_bits: must be a multiple"),
        (lambda d: d["resources"].update(dsp=-1), "resources.dsp: must be > 0"),
        (lambda d: d["resources"].update(uram=-1), "resources.uram: must be >= 0"),
        (lambda d: d["resources"].update(luts=1), "unknown field(s) ['luts']"),
        (lambda d: d.update(clock_mhz=True), "clock_mhz: expected float"),
        (lambda d: d.update(utilisation_limit=1.5), "utilisation_limit: must be in (0, 1]"),
        (lambda d: d.pop("family"), "family: missing"),
    ],
)
def test_validation_names_the_field(edit, message):
    raw = copy.deepcopy(U280)
    edit(raw)
    with pytest.raises(TargetError) as err:
        parse_target(raw, "u280.json")
    assert message in str(err.value)


def test_unknown_target_lists_the_shipped_ones():
    with pytest.raises(TargetError, match="unknown target 'vu9p'.*sim.*u280"):
        load_target("vu9p")


def test_u280_stream_engine():
    e = derive_engine(load_target("u280"))
    # 14.375 GB/s per channel at 225 MHz is 14.375e9 / (32 B * 225e6) = 1.9965 words/cycle;
    # a 512-bit AXI port carries 2 words, so bandwidth is the limit.
    assert e.words_per_cycle == pytest.approx(14.375e9 / (32 * 225e6), abs=1e-4)
    assert e.words_per_beat == 2
    # Every channel streams weights through its prefetcher and may hold KV rings (an attention
    # pipeline each); the last one holds the tables too.
    assert (e.channels, e.weight_channels, e.kv_channels, e.misc_channel) == (32, 32, 32, 31)
    # 1.2 x ~71.9 blocks per cycle per channel would be 22 lanes of 4 blocks (a MAC beat never
    # straddles a G=32 group of 8 blocks); the LUT share caps them at 17.
    assert e.mac_blocks == 4 and e.lanes_per_channel == 17 and e.mac_lanes == 17 * 32
    assert e.bound == "LUT"
    assert e.tile_tokens == 4
    assert not [f for f in e.to_json() if f.startswith("stream_")]  # one engine, not two
    # On-chip memory x 0.7 / 8 over 32 channels of 64-byte beats: ~1909 beats, so 1024.
    assert e.fifo_beats == 1024
    assert e.estimate["LUT"] <= 1303680 * 0.7 * 0.75 and e.estimate["DSP"] <= 9024 * 0.7 * 0.75
    onchip = (2016 * 4608 + 960 * 36864) * 0.7
    assert e.estimate["onchip_bytes"] == int(onchip // 2) + int(onchip // 4) + 1024 * 64 * 32


def test_sim_engine_is_small():
    e = derive_engine(load_target("sim"))
    # 0.8 GB/s at 100 MHz = 0.25 words = 9 blocks per cycle per channel, 256-bit beats of 1 word.
    assert e.words_per_cycle == 0.25 and e.words_per_beat == 1
    assert (e.channels, e.weight_channels, e.kv_channels, e.misc_channel) == (4, 4, 4, 3)
    # 1.2 x 9 blocks would be 3 lanes of 4 blocks; the DSP share (0.75 x 64) holds one lane per
    # channel (44 DSPs; two would take 64).
    assert (e.mac_blocks, e.lanes_per_channel, e.mac_lanes) == (4, 1, 4)
    assert e.bound == "DSP" and e.estimate["DSP"] <= 64 * 0.75
    # 64 BRAM36 = 64 * 4608 B; half of it is the activation buffer, an eighth the prefetch
    # FIFOs: 36864 B over 4 channels of 32-byte beats = 288 beats, so 256.
    assert e.act_buffer_bytes == 64 * 4608 // 2
    assert e.fifo_beats == 256 and e.tile_tokens == 4
    assert e.gemm_tokens == e.act_buffer_bytes // 4096  # default: rows of 4096 features


def test_budget_caps_the_lanes():
    """`bound` names the budget that capped the lanes; the unit keeps at least one lane per word
    of a beat (the beat's words go to distinct lanes). The u280 unit takes 160 DSPs per lane of
    each of its 32 channels (512 at 2 lanes)."""
    raw = copy.deepcopy(U280)
    raw["resources"]["dsp"] = 4000  # 0.7 x 0.75 x 4000 = 2100 DSPs: 11 lanes (1952; 12: 2112)
    e = derive_engine(parse_target(raw, "small-dsp"))
    assert e.bound == "DSP" and e.lanes_per_channel == 11 and e.estimate["DSP"] == 1952
    raw["resources"]["dsp"] = 1200  # 630 DSPs: 2 lanes (3 take 672), one per word of a beat
    e = derive_engine(parse_target(raw, "smaller-dsp"))
    assert e.bound == "DSP" and e.lanes_per_channel == e.words_per_beat == 2
    assert e.estimate["DSP"] == 512


def test_a_budget_below_one_beat_of_lanes_is_an_error():
    raw = copy.deepcopy(U280)
    raw["resources"]["dsp"] = 100  # 52 DSPs for a unit of 32 channels x 2 lanes (512 DSPs)
    with pytest.raises(TargetError, match="resources: the DSP budget cannot hold"):
        derive_engine(parse_target(raw, "tiny-dsp"))


def test_prefetch_fifo_depth_follows_the_on_chip_memory():
    raw = copy.deepcopy(U280)
    raw["resources"]["uram"] = 4 * 960  # room for 7000+ beats per channel: capped
    assert derive_engine(parse_target(raw, "big")).fifo_beats == 4096
    raw = json.loads((TARGETS_DIR / "sim.json").read_text())
    raw["resources"]["bram36"] = 16  # 16 * 4608 / 8 / (4 x 32 B) = 72 beats: 64
    assert derive_engine(parse_target(raw, "sim16")).fifo_beats == 64
    raw["resources"]["bram36"] = 8  # 36 beats
    with pytest.raises(TargetError, match="holds 36 beats of prefetch FIFO per channel"):
        derive_engine(parse_target(raw, "sim8"))


def test_gemm_tile_height_follows_the_activation_buffer():
    e = derive_engine(load_target("sim"), max_features=128)
    assert e.gemm_tokens == e.act_buffer_bytes // 128


@pytest.mark.parametrize("target", ["u280", "sim"])
def test_stream_unit_lanes_follow_the_overprovision_and_the_budget(target):
    from accllm.backend.target_desc import (
        STREAM_BUDGET_SHARE,
        STREAM_OVERPROVISION,
        _baseline,
        stream_unit_resources,
    )

    t = load_target(target)
    e = derive_engine(t)
    want = math.ceil(STREAM_OVERPROVISION * 36 * e.words_per_cycle / e.mac_blocks)
    assert want == {"u280": 22, "sim": 3}[target]
    lim = t.utilisation_limit * STREAM_BUDGET_SHARE
    budget = {"LUT": t.resources.lut * lim, "DSP": t.resources.dsp * lim}
    fits = stream_unit_resources(_baseline(), e.channels, e.lanes_per_channel)
    assert all(fits[c] <= budget[c] for c in budget)
    assert {c: int(v) for c, v in fits.items()} == {
        c: v for c, v in e.estimate.items() if c != "onchip_bytes"
    }
    if e.lanes_per_channel < want:
        over = stream_unit_resources(_baseline(), e.channels, e.lanes_per_channel + 1)
        assert over[e.bound] > budget[e.bound]
    else:
        assert e.lanes_per_channel == want and e.bound == "overprovision"
