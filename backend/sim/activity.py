"""Switching activity of the emitted accelerator from Verilator's toggle coverage.

A coverage build (`rtl_lib.sim.build(..., coverage=True)`) counts, per bit of every signal, its
0->1 and 1->0 transitions over the whole run (two points per bit in `coverage.dat`).  This
module reads that file per top-level instance of the top (`pf0`, `mac`, `attn`, ...: the
hierarchy's second component, everything below it included), and differences two runs that
share a prefix, so a window (one prefill chunk, a few decode steps) is measured without the
host's loading and reading around it.

The toggle rate of a group of instances over a window is UG440's: transitions per bit per
clock cycle (100 % = a bit that changes on every clock edge, XPE's "toggle rate").  Left out:
clock and reset bits (the clock toggles twice a cycle by definition and is priced as clock
power; reset does not move during a run) and every module's input ports -- an input is the
net of its driver, counted there (the activation buffer's read data, a bus every unit listens
to, would otherwise count as activity of every unit, busy or not); a net reached through
several levels of hierarchy is thereby counted once per output port and wire it passes, not
also once per input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

# C '<key\x02value\x01...>' <count>: one coverage point per line.
_POINT = re.compile(r"^C '(.*)' (\d+)$")
_UNCOUNTED = {"clk", "clock", "rst", "rst_n", "reset"}


class CoverageError(ValueError):
    """A coverage file is missing, not Verilator's format, or has no toggle points."""


@dataclass
class InstanceToggles:
    """One top-level instance: its module (Verilator's parameter suffix dropped), the bits it
    holds (signals of the instance and everything below it) and their transitions."""

    module: str
    bits: int = 0
    toggles: int = 0
    _points: int = field(default=0, repr=False)


def _fields(text: str) -> dict[str, str]:
    out = {}
    for item in text.split("\x01"):
        if item:
            key, _, value = item.partition("\x02")
            out[key] = value
    return out


def _signal(point: str) -> str:
    """`o` of a toggle point, e.g. 'data_q[3]:0->1' or 'u.valid:1->0': the signal's base name."""
    name = point.rsplit(":", 1)[0].split("[", 1)[0]
    return name.rsplit(".", 1)[-1]


class _InputPorts:
    """Whether a coverage point's declaration (file, line) is an input port, from the source
    line Verilator names (`input ...`).  The file is looked up by name among the design's
    `sources`: a cached build records the paths of the sources it was first built from, which
    may be gone, but its key covers every source's name and contents."""

    def __init__(self, sources: list[Path]) -> None:
        self._by_name = {Path(s).name: Path(s) for s in sources}
        self._lines: dict[str, list[str]] = {}

    def __call__(self, file: str, line: str) -> bool:
        name = Path(file).name
        if name not in self._lines:
            src = self._by_name.get(name)
            if src is None:
                raise CoverageError(f"coverage of '{name}', which is not among the sources")
            self._lines[name] = src.read_text(errors="replace").splitlines()
        text = self._lines[name]
        n = int(line) - 1
        return 0 <= n < len(text) and text[n].lstrip().startswith("input")


def read_toggles(path: str | Path, top: str, sources) -> dict[str, InstanceToggles]:
    """Per top-level instance of `top`, the toggle counts of a run (`coverage.dat` at `path`,
    written with per-instance points: `rtl_lib.sim.coverage_run_args`) of the design built
    from `sources`."""
    path = Path(path)
    if not path.exists():
        raise CoverageError(f"{path}: no coverage file (was the design built with coverage?)")
    out: dict[str, InstanceToggles] = {}
    is_input = _InputPorts(list(sources))
    lines = path.read_text(encoding="latin-1").splitlines()
    if not lines or not lines[0].startswith("# SystemC::Coverage"):
        raise CoverageError(f"{path}: not a Verilator coverage file")
    for n, line in enumerate(lines[1:], start=2):
        m = _POINT.match(line)
        if not m:
            raise CoverageError(f"{path}:{n}: not a coverage point: {line[:60]!r}")
        f = _fields(m.group(1))
        if f.get("t") != "toggle" or _signal(f.get("o", "")) in _UNCOUNTED:
            continue
        hier = f.get("h", "").split(".")
        if len(hier) < 2 or hier[0] != top:
            continue  # the top's own wires: routing between the units, not a unit
        inst = out.get(hier[1])
        if inst is None:
            inst = out[hier[1]] = InstanceToggles(module="")
        if len(hier) == 2:  # the instance's own module (page 'v_toggle/<module>__<params>')
            inst.module = f.get("page", "").split("/", 1)[-1].split("__", 1)[0]
        if is_input(f.get("f", ""), f.get("l", "0")):
            continue
        inst._points += 1
        inst.toggles += int(m.group(2))
    if not out:
        raise CoverageError(f"{path}: no toggle points under '{top}'")
    for name, inst in out.items():
        inst.bits = inst._points // 2  # a 0->1 and a 1->0 point per bit
        if not inst.module:
            raise CoverageError(f"{path}: instance '{name}' has no points of its own module")
    return out


def window(
    before: dict[str, InstanceToggles], after: dict[str, InstanceToggles]
) -> dict[str, InstanceToggles]:
    """The toggles of the part of a run `after` that a run `before` (a prefix of it) lacks."""
    if set(before) != set(after):
        raise CoverageError(
            f"the two runs are of different designs: {sorted(set(before) ^ set(after))}"
        )
    out = {}
    for name, a in after.items():
        b = before[name]
        if a.bits != b.bits or a.module != b.module or a.toggles < b.toggles:
            raise CoverageError(f"instance '{name}': the earlier run is not a prefix of the later")
        out[name] = InstanceToggles(a.module, a.bits, a.toggles - b.toggles)
    return out


def by_module(toggles: dict[str, InstanceToggles]) -> dict[str, dict[str, int]]:
    """module -> {instances, bits, toggles}, summed over its top-level instances."""
    out: dict[str, dict[str, int]] = {}
    for inst in toggles.values():
        d = out.setdefault(inst.module, {"instances": 0, "bits": 0, "toggles": 0})
        d["instances"] += 1
        d["bits"] += inst.bits
        d["toggles"] += inst.toggles
    return out


def toggle_rate(toggles: int, bits: int, cycles: float) -> float:
    """UG440's toggle rate: transitions per bit per clock cycle (0 for an empty group)."""
    return toggles / (bits * cycles) if bits and cycles else 0.0


def _busy(accel_module, schedule: str, tokens: int, positions: list[int]) -> dict[str, float]:
    """RTL module -> busy cycles the cost model gives the programs of `schedule` (one per
    position) on the `sim` engine: the denominator of a unit's rate while busy."""
    from accllm.backend.perf.cost import run_schedule
    from accllm.backend.perf.estimate import machine_for
    from accllm.backend.perf.power import unit_busy
    from accllm.backend.perf.workload import workloads

    wl = next(w for w in workloads(accel_module) if w.name == schedule)
    m = machine_for(accel_module, wl, "sim")
    out: dict[str, float] = {}
    for pos in positions:
        for mod, c in unit_busy(run_schedule(wl.steps, m, tokens, pos), m).items():
            out[mod] = out.get(mod, 0.0) + c
    return out


def _window_entry(toggles, cycles: int, busy: dict[str, float], programs: list) -> dict:
    mods = by_module(toggles)
    for mod, d in mods.items():
        d["busy_cycles"] = round(busy.get(mod, cycles if mod in ("act_ram", "rom") else 0.0))
        d["rate_window"] = round(toggle_rate(d["toggles"], d["bits"], cycles), 6)
        d["rate_busy"] = round(toggle_rate(d["toggles"], d["bits"], d["busy_cycles"]), 6)
    return {"cycles": cycles, "programs": programs, "modules": dict(sorted(mods.items()))}


def measure_model(
    accel_module, hw_module, design_dir: Path, base_dir: Path, prompt, steps: int, work: Path
) -> dict:
    """Toggle rates of the emitted accelerator on `sim` by runs of the toggle-coverage build
    that share prefixes.  With a prompt of two chunks (the design's chunk height,
    `model_run.design_map`): the first chunk alone (A), both chunks (B), both chunks then
    `steps` decode steps (C); prefill = B - A (the second chunk), decode = C - B.  With a
    prompt of one chunk only A and C, and only the decode window.  The runs must agree on their
    shared programs' cycles."""
    import numpy as np

    from accllm.backend.sim.accelerator import design_sources
    from accllm.backend.sim.model_run import CHUNK, DECODE, design_map, simulate_model

    d = design_map(accel_module, hw_module)
    chunk = d.chunk
    prompt = np.asarray(prompt, dtype=np.int64)
    if len(prompt) not in (chunk, 2 * chunk):
        raise ValueError(
            f"the prompt must be one or two chunks ({chunk} or {2 * chunk} tokens), "
            f"got {len(prompt)}"
        )
    plan = [("A", prompt[:chunk], 0)]
    if len(prompt) == 2 * chunk:
        plan.append(("B", prompt, 0))
    plan.append(("C", prompt, steps))
    work.mkdir(parents=True, exist_ok=True)
    runs, cov = {}, {}
    for name, toks, n in plan:
        cov[name] = work / f"coverage_{name}.dat"
        runs[name] = simulate_model(
            accel_module,
            hw_module,
            design_dir,
            base_dir,
            toks,
            n,
            "sim",
            log_file=work / f"sim_{name}.log",
            coverage_file=cov[name],
        )
    names = [name for name, _, _ in plan]
    for before, after in zip(names, names[1:], strict=False):
        shared = runs[before].cycles
        if runs[after].cycles[: len(shared)] != shared:
            raise CoverageError(
                "the runs do not share their prefix: cycles "
                + ", ".join(str(runs[k].cycles) for k in names)
            )
    srcs = design_sources(Path(design_dir))
    tog = {k: read_toggles(cov[k], d.top, srcs) for k in names}
    prompt_programs = len(runs[names[-2]].cycles)
    c = runs["C"]
    positions = list(range(len(prompt), len(prompt) + steps))
    windows = {
        "decode": _window_entry(
            window(tog[names[-2]], tog["C"]),
            sum(c.cycles[prompt_programs:]),
            _busy(accel_module, DECODE, 1, positions),
            [[DECODE, 1, p] for p in positions],
        )
    }
    if "B" in runs:
        windows = {
            "prefill": _window_entry(
                window(tog["A"], tog["B"]),
                runs["B"].cycles[1],
                _busy(accel_module, CHUNK, chunk, [chunk]),
                [[CHUNK, chunk, chunk]],
            ),
            **windows,
        }
    return {
        "runs": {k: {"cycles": r.cycles, "tokens": r.tokens.tolist()} for k, r in runs.items()},
        "decode_tokens": c.tokens.tolist(),
        "windows": windows,
    }


def measure_compiled(out: Path, steps: int, work: Path) -> dict:
    """`measure_model` of a design `accllm compile --target sim` wrote to `out` (its
    model.accel.mlir, model.hw.mlir, verilog/ and the reference run's prompt), the decoded
    tokens checked against the integer golden model's (CoverageError if they differ)."""
    import numpy as np

    from accllm.interpreter.runner import load_module

    ref = np.load(out / "reference.npz")
    meas = measure_model(
        load_module(out / "model.accel.mlir"),
        load_module(out / "model.hw.mlir"),
        out / "verilog",
        out,
        ref["prompt"],
        steps,
        work,
    )
    golden = ref["tokens"][:steps].tolist()
    if meas["decode_tokens"] != golden:
        raise CoverageError(
            f"the coverage runs decoded {meas['decode_tokens']}, the golden model {golden}"
        )
    return meas
