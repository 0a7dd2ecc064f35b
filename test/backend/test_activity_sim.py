"""The activity measurement on the whole emitted accelerator (`sim` target): the tiny Llama of
`bench/activity_sim.py` (its coverage build is shared with the bench through the build cache),
one chunk of prompt, then one decode step measured (two runs differenced).

Checks that the tool gives sane rates from a real simulation: the decode step's tokens are the
golden model's, every unit the decode step uses toggled, no unit's rate over the
window reaches 100 % (UG440: a flip-flop toggling on every clock edge), the rates while busy
are at least those over the window, and the descriptor ROMs (read a few times per program)
are far quieter than the units.
"""

from __future__ import annotations

import pytest

UNITS = (
    "stream_linear_unit",
    "stream_attention_unit",
    "stream_prefetcher",
    "stream_demux",
    "norm_unit",
    "vector_unit",
    "rope_cmd_unit",
    "axi_write_master",
    "axi_read_master",
    "sequencer",
    "act_ram",
)


@pytest.mark.bench
@pytest.mark.rtl
def test_whole_accelerator_activity(tmp_path):
    from accllm.backend.sim.activity import measure_compiled
    from accllm.tools.accllm_driver import main as accllm

    out = tmp_path / "tiny"
    argv = ["compile", "-o", str(out), "--target", "sim", "--sink", "2", "--window", "6"]
    argv += ["--prompt-len", "4", "--chunk", "4", "--decode-steps", "1"]
    assert accllm(argv) == 0
    meas = measure_compiled(out, 1, tmp_path / "cov")  # checks the token against the golden model
    assert set(meas["windows"]) == {"decode"}
    win = meas["windows"]["decode"]
    mods = win["modules"]
    for unit in UNITS:
        d = mods[unit]
        assert d["toggles"] > 0, f"{unit} ran but did not toggle"
        assert 0 < d["rate_window"] < 1.0, f"{unit} rate {d['rate_window']}"
        assert d["rate_busy"] >= d["rate_window"], unit
        assert d["busy_cycles"] <= win["cycles"] * 1.02, f"{unit} busy"
    assert mods["rom"]["rate_window"] < mods["stream_linear_unit"]["rate_window"] / 10
