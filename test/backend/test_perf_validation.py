"""The estimator's cycles against Verilator (issue 10, item 2).

Two validations, each within 5 % on every configuration:

* the whole accelerator (`test_schedule_cycles_within_5_percent_of_whole_accelerator`): the
  tiny model compiled and simulated by `accllm compile --simulate` (prefill, then a few greedy
  decode steps through `backend.sim.model_run.simulate_model`, bit-exact against the integer
  golden model) on MHA / GQA models and several Λ geometries; every program's simulated cycles
  against `schedule_cycles(module, "sim", positions=...)` of the same `model.accel.mlir`
  (the sequencer, barriers, every unit's cost);
* the MAC unit alone (`test_linear_cost_within_5_percent_of_verilator`, below): the cycles
  `schedule_cycles` gives an `accel.schedule` holding one W2 or int8 (LM head) `accel.linear`,
  against the cycles `rtl_lib/linear_unit.sv` takes for the same descriptor, at HBM timings
  the whole-accelerator flow does not simulate.

For the MAC unit, each configuration is a sim-like target (the shipped `sim`, and `sim` with
other HBM channel counts, bandwidths, AXI widths and latencies) and one linear layer; together
they vary what the cost model must capture: channels and lanes (1 x 2 up to 2 x 9, from
`derive_engine`), words per cycle (0.125 to 1, including a fractional 0.375), HBM latency (8 to
32 cycles), K (128 to 512, one to four words per row), G (32 to 128, one or two metadata words
per row), N (rows that do not fill the last pass) and tokens (decode and prefill tiles of 2 to
4). The int8 configurations (the LM head, `smla.lm_head`) vary the int8 MACs per channel
(`tiling.int8_macs` of the words per cycle: 4, 8 and 32), channels (1 or 2), words per row (2
to 4) and padded lanes.

Both sides start from the same IR: a compressed `smla.linear` lowered by `lower-to-accel` for
the target.  Estimator: `schedule_cycles(module, target)` (the public API; it never sees the
simulation).  Simulation: the module's `accel.engine`, `accel.linear` and region / buffer
addresses become the linear_unit parameters and descriptor (`backend.accel_program`), random
weights and activations are laid out as the backend lays them out, the behavioural HBM serves
them at the target's latency (+ axi_read_master's) and words per cycle
(`backend.sim.linear_unit_run`), and every output is checked bit for bit against
`contract.linear_w2a8` / `contract.linear_int8` (a run with a wrong output fails before any
cycle is compared).

Run: `.venv/bin/pytest -s -m slow test/backend/test_perf_validation.py` (prints the tables; the
first run builds the Verilator models, several minutes on 2 cores; later runs reuse them: the
whole-accelerator test then takes ~3 minutes).
"""

from __future__ import annotations

import json

import pytest
from xdsl.context import Context

from accllm.backend import tiling
from accllm.backend.perf.estimate import schedule_cycles
from accllm.backend.sim import linear_unit_run as lur
from accllm.backend.target_desc import TARGETS_DIR, load_target
from accllm.dialects.registry import register_all_dialects
from accllm.ir.io import Chunk, parse_chunk, verify_module
from accllm.passes.lower_to_accel import LowerToAccel

TOLERANCE = 0.05

# (target name, HBM fields changed from backend/targets/sim.json, (tokens, n, k, group))
CONFIGS = [
    ("sim", {}, (4, 64, 128, 64)),
    (
        "sim-narrow",
        dict(channels=3, channel_bandwidth_gbps=0.4, latency_cycles=8),
        (1, 48, 256, 32),
    ),
    ("sim-wide", dict(channels=4, channel_bandwidth_gbps=1.6, latency_cycles=32), (2, 80, 512, 32)),
    (
        "sim-fast",
        dict(channels=4, channel_bandwidth_gbps=3.2, latency_cycles=24, axi_data_bits=512),
        (3, 72, 256, 64),
    ),
    ("sim-odd", dict(channels=3, channel_bandwidth_gbps=1.2, latency_cycles=24), (2, 40, 384, 128)),
    # int8 LM heads (group 0 = int8): tiny-model vocab x hidden, and an odd shape.
    ("sim-lm", {}, (1, 256, 64, 0)),
    (
        "sim-lm-narrow",
        dict(channels=3, channel_bandwidth_gbps=0.4, latency_cycles=8),
        (2, 200, 96, 0),
    ),
    (
        "sim-lm-fast",
        dict(channels=4, channel_bandwidth_gbps=3.2, latency_cycles=24),
        (1, 168, 128, 0),
    ),
]


def linear_ir(tokens: int, n: int, k: int, group: int) -> str:
    """A compressed function holding one 2:4 W2 linear, or (group 0) one int8 LM head (A8
    per-token input, Q15.16 output)."""
    x = f"!smla.qtensor<{tokens}x{k}xsi8, per_token>"
    y = f"!smla.qtensor<{tokens}x{n}xsi32, frac=16>"
    if group:
        w = f"!smla.qweight<{n}x{k}, ui2, group={group}, sparse=2:4>"
        op = "smla.linear %a8, %w {acc_bits = 48}"
    else:
        w = f"!smla.qweight<{n}x{k}, si8>"
        op = "smla.lm_head %a8, %w {acc_bits = 32}"
    return (
        f"func.func @lin(%a8: {x}) -> {y} {{\n"
        f'  %w = smla.weight #smla.param<"v.safetensors", "w"> : {w}\n'
        f"  %y = {op} : {x}, {w} -> {y}\n"
        f"  func.return %y : {y}\n"
        f"}}\n"
    )


def lowered(target: str, shape: tuple[int, int, int, int]):
    """The accel module `lower-to-accel{target}` makes of `linear_ir(*shape)`."""
    ctx = Context()
    register_all_dialects(ctx)
    chunk = Chunk(linear_ir(*shape), "linear.mlir", 0)
    module = parse_chunk(ctx, chunk)
    verify_module(module, chunk)
    LowerToAccel(target=target).apply(ctx, module)
    module.verify()
    return module


def target_file(tmp_path, name: str, hbm: dict) -> str:
    """Path of `sim` with the HBM fields in `hbm` changed (the shipped file when none are)."""
    if not hbm:
        return str(TARGETS_DIR / "sim.json")
    raw = json.loads((TARGETS_DIR / "sim.json").read_text())
    raw["name"] = name
    raw["description"] = f"sim with HBM {hbm} (estimator validation)"
    raw["hbm"] = {**raw["hbm"], **hbm}
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(raw))
    return str(path)


def validate(tmp_path) -> list[dict]:
    """One row per configuration: engine, timing, layer, estimated and simulated cycles."""
    rows = []
    for name, hbm, shape in CONFIGS:
        target = target_file(tmp_path, name, hbm)
        module = lowered(target, shape)
        est = schedule_cycles(module, target)
        assert len(est) == 1, est
        engine, jobs = lur.jobs_from_module(module)
        assert len(jobs) == 1, jobs
        timing = lur.timing_for_target(load_target(target))
        i8_macs = tiling.int8_macs(timing.weight_wpc)
        params = lur.unit_parameters(engine["CH"], engine["LANES"], engine["BLOCKS"], jobs, i8_macs)
        run = lur.simulate(params, jobs, timing)
        est_c, sim_c = next(iter(est.values())), run.cycles[0]
        rows.append(
            {
                "target": name,
                "engine": f"{params['CH']}x{params['LANES']}x{params['BLOCKS']}",
                "wpc": timing.weight_wpc,
                "latency": timing.latency,
                "layer": "T={} N={} K={} {}".format(
                    *shape[:3], f"G={shape[3]}" if shape[3] else f"int8 x{i8_macs}"
                ),
                "est": est_c,
                "sim": sim_c,
                "err": (est_c - sim_c) / sim_c,
            }
        )
    return rows


def table(rows: list[dict]) -> str:
    head = (
        "| target | ch x lanes x blocks | words/cycle | read latency | layer | est | sim | error |"
    )
    lines = [head, "|---|---|---:|---:|---|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['target']} | {r['engine']} | {r['wpc']:g} | {r['latency']} | {r['layer']} "
            f"| {r['est']} | {r['sim']} | {100 * r['err']:+.1f} % |"
        )
    return "\n".join(lines)


@pytest.mark.rtl
@pytest.mark.slow
def test_linear_cost_within_5_percent_of_verilator(tmp_path):
    rows = validate(tmp_path)
    text = table(rows)
    print("\nestimator vs Verilator, linear_unit cycles per descriptor\n" + text)
    assert len(rows) >= 3
    bad = [r["target"] for r in rows if abs(r["err"]) > TOLERANCE]
    assert not bad, f"estimate off by more than 5 % on {bad}:\n{text}"


# --------------------------------------------------------------------------------------------
# The whole accelerator: every schedule of the tiny model against its Verilator run
# --------------------------------------------------------------------------------------------

# (name, GQA model, sink S, window W, prompt tokens, decode steps).  Together: MHA (4 KV heads)
# and GQA (2), a prefill past the Λ window (the query's slot listing pays kv_cache_ctrl's mod)
# and one inside it, decode steps with the window full and not yet full.
# (name, GQA, S, W, prompt, decode steps, chunk): prompts run as chunk programs at run-time
# positions (3 chunks of 4 in the first: positions 0, 4, 8), then single-token steps.
MODEL_CONFIGS = [
    ("mha-S2-W6", False, 2, 6, 12, 3, 4),
    ("gqa-S2-W6", True, 2, 6, 10, 3, 8),
    ("mha-S4-W12", False, 4, 12, 8, 3, 8),
]


def simulate_config(
    tmp_path, gqa: bool, sink: int, window: int, prompt: int, steps: int, chunk: int
):
    """`accllm compile --simulate` of the tiny model (its simulate stage is
    `backend.sim.model_run.simulate_model`, checked bit for bit against the integer golden
    model); returns the accel module and, per program run, (schedule, first position, cycles)."""
    from accllm.interpreter.runner import load_module
    from accllm.models.default import build_model, default_config, save_checkpoint
    from accllm.tools.accllm_driver import main as accllm

    out = tmp_path / f"{'gqa' if gqa else 'mha'}-{sink}-{window}"
    argv = ["compile", "-o", str(out), "--target", "sim", "--simulate"]
    argv += ["--sink", str(sink), "--window", str(window)]
    argv += ["--prompt-len", str(prompt), "--decode-steps", str(steps), "--chunk", str(chunk)]
    if gqa:
        ckpt = tmp_path / "gqa-model"
        save_checkpoint(build_model(default_config(gqa=True), seed=0), ckpt)
        argv.insert(1, str(ckpt))
    assert accllm(argv) == 0, f"accllm {' '.join(argv)} failed"
    sim = json.loads((out / "summary.json").read_text())["simulate"]
    assert sim["match"], "the simulated run differs from the golden model"
    runs = list(zip(sim["programs"], sim["positions"], sim["cycles"], strict=True))
    return load_module(out / "model.accel.mlir"), runs


def validate_model(tmp_path) -> list[dict]:
    """One row per configuration and program: estimated and simulated cycles."""
    rows = []
    for name, gqa, sink, window, prompt, steps, chunk in MODEL_CONFIGS:
        module, sims = simulate_config(tmp_path, gqa, sink, window, prompt, steps, chunk)
        runs = []
        for sched, pos, sim_c in sims:  # each program at its position register's value
            e = schedule_cycles(module, "sim", positions={sched: pos})[sched]
            runs.append((f"{sched.split('_')[0]} @{pos}", sched, e, sim_c))
        for what, _, est_c, sim_c in runs:
            rows.append(
                {
                    "config": name,
                    "lam": f"S={sink} W={window}",
                    "program": what,
                    "est": est_c,
                    "sim": sim_c,
                    "err": (est_c - sim_c) / sim_c,
                }
            )
    return rows


def model_table(rows: list[dict]) -> str:
    lines = ["| config | Λ | program | est | sim | error |", "|---|---|---|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['config']} | {r['lam']} | {r['program']} | {r['est']} | {r['sim']} "
            f"| {100 * r['err']:+.2f} % |"
        )
    return "\n".join(lines)


@pytest.mark.rtl
@pytest.mark.slow
def test_schedule_cycles_within_5_percent_of_whole_accelerator(tmp_path):
    rows = validate_model(tmp_path)
    text = model_table(rows)
    print("\nestimator vs Verilator, whole accelerator (sim target), cycles per program\n" + text)
    assert len({r["config"] for r in rows}) >= 3
    bad = [(r["config"], r["program"]) for r in rows if abs(r["err"]) > TOLERANCE]
    assert not bad, f"estimate off by more than 5 % on {bad}:\n{text}"
