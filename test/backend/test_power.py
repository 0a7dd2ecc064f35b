"""The power model's arithmetic (backend/perf/power.py) against figures computed by hand from
the coefficients documented in docs/performance.md ("Power and energy per token").

The expected values below are written out from the documented table (LUT 0.1, FF 0.02, FF
clock 0.01, DSP 10, RAMB36 30, URAM 40 uW/MHz; HBM 3.9 pJ/bit; u280 static 10 W and HBM
static 1 W), not taken from the code; the first test pins the shipped figures to that table.
"""

from __future__ import annotations

import copy

import pytest

from accllm.backend.perf import power
from accllm.backend.perf.estimate import DEFAULT_ASSUMED, estimate_workload, machine_for
from accllm.backend.perf.workload import workloads

DOC = {"LUT": 0.1, "FF": 0.02, "FF_clock": 0.01, "DSP": 10.0, "BRAM36": 30.0, "URAM": 40.0}


def test_shipped_figures_are_the_documented_ones():
    f = power.load_figures()
    assert {k: v.value for k, v in f["fabric"].items()} == DOC
    assert f["hbm_pj_per_bit"].value == 3.9
    assert f["devices"]["u280"]["static_w"].value == 10.0
    assert f["devices"]["u280"]["hbm_static_w"].value == 1.0
    # every figure says where it comes from, and the ones with no public source say so
    for name, fig in power.figures_table().items():
        assert fig["source"], name
        assert fig["low"] <= fig["value"] <= fig["high"], name
        if not fig["public"]:
            assert "assumption" in fig["source"], name


def test_unit_watts_by_hand():
    # 1000 LUT, 2000 FF, 4 DSP, 2 RAMB36 at 225 MHz, toggle rate 0.2, busy half the cycles:
    # data (0.2 x (1000 x 0.1 + 2000 x 0.02 + 4 x 10) + 0.5 x 2 x 30) uW/MHz = 36 + 30 = 66
    # clock 2000 x 0.01 = 20 uW/MHz; (66 + 20) x 225 MHz = 19350 uW
    use = {"LUT": 1000, "FF": 2000, "DSP": 4, "BRAM36": 2}
    assert power.unit_watts(use, 0.2, 0.5, DOC, 225.0) == pytest.approx(19350e-6)
    # an idle unit still pays its clock: 2000 x 0.01 x 225 = 4500 uW
    assert power.unit_watts(use, 0.0, 0.0, DOC, 225.0) == pytest.approx(4500e-6)


def test_memory_watts_by_hand():
    # a 512-bit access enables ceil(512 / 72) = 8 blocks; 1.5 accesses a cycle, all in URAM:
    # 1.5 x 8 x 40 uW/MHz x 225 MHz = 108000 uW
    assert power.memory_watts(1.5, 512, 1.0, DOC, 225.0) == pytest.approx(0.108)
    # a 256-bit access (4 blocks), a quarter URAM: (0.25 x 40 + 0.75 x 30) x 4 = 130 uW/MHz
    assert power.memory_watts(1.0, 256, 0.25, DOC, 100.0) == pytest.approx(130 * 100 * 1e-6)


def test_hbm_watts_by_hand():
    # 1.854 GB per token at 74.75 tokens/s and 3.9 pJ/bit: 1.854e9 x 8 x 74.75 x 3.9e-12 W
    assert power.hbm_watts(1.854e9, 74.75, 3.9) == pytest.approx(4.3239, rel=1e-4)


def _activity(rate_busy: float) -> dict:
    """A measurement where every module toggled at `rate_busy` while busy (1000 bits, 100
    busy cycles of a 200-cycle window)."""
    mods = {
        m: {"instances": 1, "bits": 1000, "toggles": round(rate_busy * 1000 * 100),
            "busy_cycles": 100}
        for mods in power.UNIT_MODULES.values()
        for m in mods
    }  # fmt: skip
    win = {"cycles": 200, "programs": [], "modules": mods}
    return {"command": "test", "windows": {"decode": win, "prefill": win}}


def test_rates_scale_by_the_busy_fraction():
    act = _activity(0.3)
    assert power.active_rates(act, "decode")["norm_unit"] == pytest.approx(0.3)
    # busy 250 of 1000 cycles on the target engine: 0.3 x 0.25
    busy = {"norm_unit": 250.0, "stream_prefetcher": 1000.0, "stream_demux": 500.0}
    rates = power.unit_rates(act, "decode", busy, 1000.0)
    assert rates["norm_unit"] == pytest.approx(0.075)
    # a group: bit-weighted over its modules (equal bits): (0.3 x 1 + 0.3 x 0.5) / 2
    assert rates["stream_prefetcher + stream_demux"] == pytest.approx(0.225)
    assert rates["vector_unit"] == 0.0  # not busy on this engine


def test_program_power_sums_its_parts_on_u280(llama_small):
    """The whole model on a u280 engine: total = static + HBM + units + memories; tokens/J =
    tokens/s / W; the HBM part is the documented 3.9 pJ/bit of the bytes moved; the static
    parts are the documented device figures; the range brackets the value."""
    module, wl = llama_small
    m = machine_for(module, wl, "u280")
    r = estimate_workload(wl, m, contexts=(64,), prompts=())
    p = r["power"]["decode"]
    parts = p["breakdown_w"]
    assert parts["device_static"] == 10.0 and parts["hbm_static"] == 1.0
    hbm = p["hbm_bytes_per_token"] * 8 * p["tokens_per_s"] * 3.9e-12
    assert parts["hbm_dynamic"] == pytest.approx(hbm, rel=1e-3)
    assert p["watts"] == pytest.approx(sum(parts.values()), abs=2e-3)
    assert p["tokens_per_joule"] == pytest.approx(p["tokens_per_s"] / p["watts"], rel=1e-3)
    lo, hi = p["watts_range"]
    assert lo < p["watts"] < hi
    tlo, thi = p["tokens_per_joule_range"]
    assert tlo < p["tokens_per_joule"] < thi
    # every unit of the resource model is priced, and costs at least its clock power
    for unit, use in r["resources"]["units"].items():
        assert parts[f"unit {unit}"] >= use["FF"] * 0.01 * 225e-6 * 0.999, unit
    assert p["limits"] == "pre-silicon estimate, no board measurement"


def test_more_activity_costs_more(llama_small):
    module, wl = llama_small
    m = machine_for(module, wl, "u280")
    res = estimate_workload(wl, m, contexts=(64,), prompts=())["resources"]
    quiet = power.program_power(wl, m, 1, 63, res, "decode", activity=_activity(0.05))
    busy = power.program_power(wl, m, 1, 63, res, "decode", activity=_activity(0.5))
    assert busy["watts"] > quiet["watts"]
    assert busy["tokens_per_s"] == quiet["tokens_per_s"]


def test_a_target_without_figures_says_so(llama_small):
    module, wl = llama_small
    m = machine_for(module, wl, "sim")
    r = estimate_workload(wl, m, contexts=(8,), prompts=())
    assert "no device power figures for target 'sim'" in r["power"]["unavailable"]
    assert "not estimated" in power.headline(r["power"])


def test_unknown_step_kind_is_a_clear_error(llama_small):
    module, wl = llama_small
    m = machine_for(module, wl, "u280")
    r = copy.copy(power.run_schedule(wl.steps, m, 1, 7))
    r.by_kind = {**r.by_kind, "fft": 10.0}
    with pytest.raises(power.PowerError, match="no RTL module known for step kind 'fft'"):
        power.unit_busy(r, m)


@pytest.fixture(scope="module")
def llama_small():
    from pathlib import Path

    from xdsl.context import Context
    from xdsl.parser import Parser

    from accllm.dialects.registry import register_all_dialects

    src = Path(__file__).resolve().parents[1] / "Passes" / "Inputs" / "tiny_decoder.mlir"
    ctx = Context(allow_unregistered=True)
    register_all_dialects(ctx)
    module = Parser(ctx, src.read_text()).parse_module()
    return module, workloads(module, DEFAULT_ASSUMED)[0]
