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


def test_u280_engine_keeps_up_with_hbm():
    e = derive_engine(load_target("u280"))
    # 14.375 GB/s per channel at 225 MHz is 14.375e9 / (32 B * 225e6) = 1.9965 words/cycle;
    # a 512-bit AXI port carries 2 words, so bandwidth is the limit.
    assert e.words_per_cycle == pytest.approx(14.375e9 / (32 * 225e6), abs=1e-4)
    assert (e.weight_channels, e.kv_channels, e.misc_channel) == (27, 4, 31)
    # ~71.9 blocks per cycle per channel as lanes of 4 blocks (a beat never straddles a G=32
    # group of 8 blocks): 18 lanes per channel.
    assert e.mac_blocks == 4 and e.lanes_per_channel == 18 and e.mac_lanes == 486
    assert e.mac_lanes * e.mac_blocks >= 36 * e.words_per_cycle * e.weight_channels
    assert e.bound == "bandwidth"
    assert e.estimate["DSP"] <= 9024 * 0.7 and e.estimate["LUT"] <= 1303680 * 0.7


def test_sim_engine_is_small():
    e = derive_engine(load_target("sim"))
    # 0.8 GB/s at 100 MHz = 0.25 words = 9 blocks per cycle per channel: 3 lanes of 4 blocks.
    assert e.words_per_cycle == 0.25
    assert (e.mac_blocks, e.lanes_per_channel, e.weight_channels) == (4, 3, 2)
    # 64 BRAM36 = 64 * 4608 B; half of it is the activation buffer, 64-feature rows.
    assert e.act_buffer_bytes == 64 * 4608 // 2
    assert e.gemm_tokens == e.act_buffer_bytes // 4096  # default: rows of 4096 features


def test_budget_caps_the_array():
    raw = copy.deepcopy(U280)
    raw["resources"]["dsp"] = 100  # 70 usable, attention + requantizer take 32
    e = derive_engine(parse_target(raw, "small-dsp"))
    assert e.bound == "DSP" and e.lanes_per_channel == 1
    raw["resources"]["dsp"] = 40
    with pytest.raises(TargetError, match="cannot hold one MAC lane"):
        derive_engine(parse_target(raw, "tiny-dsp"))


def test_gemm_tile_height_follows_the_activation_buffer():
    e = derive_engine(load_target("sim"), max_features=128)
    assert e.gemm_tokens == e.act_buffer_bytes // 128


def test_stream_unit_lanes_follow_the_overprovision_and_the_budget():
    from accllm.backend.target_desc import (
        STREAM_BUDGET_SHARE,
        STREAM_OVERPROVISION,
        _baseline,
        stream_unit_resources,
    )

    e = derive_engine(load_target("u280"))
    # All 32 channels stream weights, 2 words per 512-bit beat; 1.2 x 71.9 blocks per cycle per
    # channel would be 22 lanes of 4 blocks, unless the LUT / DSP share caps them.
    assert (e.stream_channels, e.stream_words_per_beat) == (32, 2)
    want = math.ceil(STREAM_OVERPROVISION * 36 * e.words_per_cycle / e.mac_blocks)
    assert want == 22
    budget = {"LUT": 1303680 * 0.7 * STREAM_BUDGET_SHARE, "DSP": 9024 * 0.7 * STREAM_BUDGET_SHARE}
    fits = stream_unit_resources(_baseline(), 32, e.stream_lanes)
    assert all(fits[c] <= budget[c] for c in budget)
    if e.stream_lanes < want:
        over = stream_unit_resources(_baseline(), 32, e.stream_lanes + 1)
        assert over[e.stream_bound] > budget[e.stream_bound]
    else:
        assert e.stream_lanes == want and e.stream_bound == "overprovision"
