"""Power and energy per token of the emitted engine: an XPE-style model (docs/performance.md).

A pre-silicon estimate, no board measurement: every figure this module prints says so.

    P = P_static(device) + P_HBM,static
      + sum over units u of  f x [ a_u x (LUT_u k_LUT + FF_u k_FF + DSP_u k_DSP + BRAM_u k_BRAM)
                                  + FF_u k_clk ]
      + sum over on-chip buffers b of  f x accesses_b per cycle x blocks per access x k_mem
      + bytes per token x 8 x E_bit x tokens/s

* resources per unit: `resources.estimate` of the same engine (Yosys baselines scaled to the
  target), so the power follows whatever the engine becomes;
* a_u, the unit's toggle rate (UG440: transitions per bit per cycle), is measured on the `sim`
  target (`activity_sim.json`, `python -m accllm.bench.activity_sim`): the rate while the unit
  is busy there, times the fraction of the token's cycles it is busy on this target (the cost
  model's per-step cycles, `unit_busy`).  Per-bit activity while busy is taken as independent
  of the datapath's width (more lanes carry more of the same kind of data);
* k_*: `power_figures.json`, each with a low / high range and its source; the ones no public
  figure exists for are marked as assumptions.  `low` / `high` evaluate the whole model with
  every coefficient at its low / high end.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from accllm.backend.perf.cost import Machine, ScheduleResult, run_schedule
from accllm.backend.perf.workload import Workload

FIGURES_PATH = Path(__file__).with_name("power_figures.json")
ACTIVITY_PATH = Path(__file__).with_name("activity_sim.json")
LIMITS = "pre-silicon estimate, no board measurement"
CORNERS = ("value", "low", "high")

# Step kind -> the RTL module that runs it (accel-to-hw's instances).
KIND_MODULE = {
    "linear": "stream_linear_unit",
    "attention": "stream_attention_unit",
    "kv_append": "stream_attention_unit",
    "rmsnorm": "norm_unit",
    "rope": "rope_cmd_unit",
    "embedding": "embedding_unit",
    "requantize": "vector_unit",
    "add": "vector_unit",
    "silu": "vector_unit",
    "swiglu": "vector_unit",
    "mul": "vector_unit",
}
# resources.unit_use's groups -> the modules whose measured toggles price them.
UNIT_MODULES = {
    "stream_linear_unit": ("stream_linear_unit",),
    "stream_attention_unit": ("stream_attention_unit",),
    "stream_prefetcher + stream_demux": ("stream_prefetcher", "stream_demux"),
    "axi_write_master": ("axi_write_master",),
    "norm_unit": ("norm_unit",),
    "vector_unit": ("vector_unit",),
    "rope_cmd_unit": ("rope_cmd_unit",),
    "embedding_unit": ("embedding_unit",),
    "sequencer": ("sequencer",),
    "axi_read_master": ("axi_read_master",),
}
# Memory blocks' data width in the configuration a wide buffer uses (UG573: RAMB36 as 512 x 72
# in simple dual port; UG573: URAM288 4K x 72): blocks enabled by one access of `bits`.
BLOCK_BITS = {"BRAM36": 72, "URAM": 72}


class PowerError(ValueError):
    """No power figures for the target, or activity measured on another engine layout."""


@dataclass(frozen=True)
class Figure:
    """A coefficient: central value, low / high range, unit, source; `public` if a published
    figure (else an assumption, the range shown)."""

    value: float
    low: float
    high: float
    unit: str
    source: str
    public: bool

    def at(self, corner: str) -> float:
        return getattr(self, corner)


def _figure(name: str, d: dict) -> Figure:
    f = Figure(**d)
    if not f.low <= f.value <= f.high:
        raise PowerError(f"power figure {name}: value {f.value} outside [{f.low}, {f.high}]")
    return f


def load_figures(path: Path = FIGURES_PATH) -> dict:
    """{'fabric': {LUT, FF, FF_clock, DSP, BRAM36, URAM}, 'hbm_pj_per_bit', 'devices': {target:
    {static_w, hbm_static_w}}} as Figures."""
    raw = json.loads(path.read_text())
    return {
        "fabric": {k: _figure(k, v) for k, v in raw["fabric"].items()},
        "hbm_pj_per_bit": _figure("hbm_pj_per_bit", raw["hbm_pj_per_bit"]),
        "devices": {
            t: {k: _figure(f"{t}.{k}", v) for k, v in d.items()} for t, d in raw["devices"].items()
        },
    }


def load_activity(path: Path = ACTIVITY_PATH) -> dict:
    """The measured toggle counts of `bench/activity_sim.py` (windows prefill / decode)."""
    return json.loads(path.read_text())


def unit_busy(r: ScheduleResult, m: Machine) -> dict[str, float]:
    """RTL module -> cycles of the program it is busy (the cost model's per-step cycles; the
    prefetchers and demuxes: the busiest channel's beats at the channel's rate; the sequencer
    and the table port's read master: the whole program)."""
    busy: dict[str, float] = {}
    for kind, cycles in r.by_kind.items():
        mod = KIND_MODULE.get(kind)
        if mod is None:
            raise PowerError(f"no RTL module known for step kind '{kind}' (power.KIND_MODULE)")
        busy[mod] = busy.get(mod, 0.0) + cycles
    attn = busy.get("stream_attention_unit", 0.0)
    busy["axi_write_master"] = attn  # the KV write-back, inside the attention commands
    stream = max(r.stream_beats.values(), default=0.0) / m.beat_rate
    busy["stream_prefetcher"] = busy["stream_demux"] = min(stream, r.cycles)
    busy["sequencer"] = busy["axi_read_master"] = r.cycles
    return busy


def active_rates(activity: dict, phase: str) -> dict[str, float]:
    """module -> toggle rate while busy, measured on `sim` (toggles / (bits x busy cycles))."""
    win = activity["windows"][phase]
    out = {}
    for mod, d in win["modules"].items():
        busy = d["busy_cycles"]
        out[mod] = d["toggles"] / (d["bits"] * busy) if d["bits"] and busy else 0.0
    return out


def unit_rates(
    activity: dict, phase: str, busy: dict[str, float], cycles: float
) -> dict[str, float]:
    """resources group -> toggle rate on this engine over the program: the measured rate while
    busy x this engine's busy fraction, weighted by bits over the group's modules."""
    win = activity["windows"][phase]["modules"]
    active = active_rates(activity, phase)
    out = {}
    for group, mods in UNIT_MODULES.items():
        missing = [m for m in mods if m not in win]
        if missing:
            raise PowerError(f"activity: no measurement of {missing} ({phase})")
        bits = sum(win[m]["bits"] for m in mods)
        out[group] = (
            sum(win[m]["bits"] * active[m] * min(1.0, busy.get(m, 0.0) / cycles) for m in mods)
            / bits
            if bits and cycles
            else 0.0
        )
    return out


def buffer_accesses(m: Machine, busy: dict[str, float], cycles: float) -> dict[str, dict]:
    """On-chip buffer -> accesses per cycle and bits per access: the activation buffer one
    256-bit word per cycle while any unit computes (one command at a time), each prefetch FIFO
    a write and a read per beat it carries, each channel's activation store of the linear unit
    one word per cycle while the linear unit is busy."""
    eng = m.engine
    compute = sum(busy.get(mod, 0.0) for mod in set(KIND_MODULE.values()))
    stream = busy.get("stream_prefetcher", 0.0) / cycles
    return {
        "activations": {"per_cycle": min(1.0, compute / cycles), "bits": 256},
        "prefetch_fifos": {
            "per_cycle": 2 * eng.channels * stream * m.beat_rate,
            "bits": m.dw,
        },
        "linear_act_stores": {
            "per_cycle": eng.weight_channels * busy.get("stream_linear_unit", 0.0) / cycles,
            "bits": 256,
        },
    }


def program_power(
    wl: Workload,
    m: Machine,
    tokens: int,
    position: int,
    res: dict,
    phase: str,
    figures: dict | None = None,
    activity: dict | None = None,
) -> dict:
    """Power of one program of `tokens` tokens at `position` on engine `m` (its resources `res`,
    `resources.estimate`), with the `phase` ('decode' / 'prefill') activity: watts by part,
    tokens/s, tokens per joule, joules per token, each at the central value and the range."""
    figures = figures or load_figures()
    activity = activity or load_activity()
    dev = figures["devices"].get(m.target.name)
    if dev is None:
        raise PowerError(
            f"no device power figures for target '{m.target.name}' "
            f"(known: {', '.join(sorted(figures['devices']))})"
        )
    r = run_schedule(wl.steps, m, tokens, position)
    f_mhz = m.target.clock_mhz
    secs = r.cycles / (f_mhz * 1e6)
    tps = tokens / secs
    busy = unit_busy(r, m)
    rates = unit_rates(activity, phase, busy, r.cycles)
    fab = figures["fabric"]
    uram_share = _uram_share(res)
    acc = buffer_accesses(m, busy, r.cycles)
    bytes_per_token = (r.read + r.written) / tokens
    out = {}
    for corner in CORNERS:
        k = {c: fab[c].at(corner) for c in fab}
        units = {
            group: unit_watts(use, rates[group], busy_of(group, busy) / r.cycles, k, f_mhz)
            for group, use in res["units"].items()
        }
        mem = {
            name: memory_watts(a["per_cycle"], a["bits"], uram_share, k, f_mhz)
            for name, a in acc.items()
        }
        parts = {
            "device_static": dev["static_w"].at(corner),
            "hbm_static": dev["hbm_static_w"].at(corner),
            "hbm_dynamic": hbm_watts(bytes_per_token, tps, figures["hbm_pj_per_bit"].at(corner)),
            **{f"unit {g}": w for g, w in units.items()},
            **{f"memory {b}": w for b, w in mem.items()},
        }
        total = sum(parts.values())
        out[corner] = {
            "watts": round(total, 3),
            "tokens_per_joule": round(tps / total, 4),
            "joules_per_token": round(total / tps, 5),
            "parts_w": {p: round(w, 4) for p, w in parts.items()},
        }
    # Low coefficients give the least power, i.e. the most tokens per joule.
    return {
        "phase": phase,
        "tokens": tokens,
        "position": position,
        "tokens_per_s": round(tps, 3),
        "hbm_bytes_per_token": round(bytes_per_token),
        "watts": out["value"]["watts"],
        "watts_range": [out["low"]["watts"], out["high"]["watts"]],
        "tokens_per_joule": out["value"]["tokens_per_joule"],
        "tokens_per_joule_range": [out["high"]["tokens_per_joule"], out["low"]["tokens_per_joule"]],
        "breakdown_w": out["value"]["parts_w"],
        "corners": out,
        "toggle_rates": {g: round(a, 5) for g, a in rates.items()},
        "busy_fraction": {mod: round(min(1.0, c / r.cycles), 4) for mod, c in busy.items()},
        "activity_from": activity.get("command", ""),
        "limits": LIMITS,
    }


def unit_watts(use: dict, rate: float, busy: float, k: dict, f_mhz: float) -> float:
    """W of a unit: its LUT / FF / DSP switching at `rate` (UG440 toggle rate over the
    program), its BRAM36 enabled the `busy` fraction of cycles, its FFs' clock every cycle;
    `k` in uW/MHz (power_figures.json)."""
    data = rate * (use["LUT"] * k["LUT"] + use["FF"] * k["FF"] + use["DSP"] * k["DSP"])
    data += min(1.0, busy) * use["BRAM36"] * k["BRAM36"]
    return (data + use["FF"] * k["FF_clock"]) * f_mhz * 1e-6


def memory_watts(per_cycle: float, bits: int, uram_share: float, k: dict, f_mhz: float) -> float:
    """W of a buffer accessed `per_cycle` times a cycle, `bits` an access: each access enables
    the blocks one row of `bits` spans (72-bit rows), URAM for `uram_share` of the buffer's
    blocks and RAMB36 for the rest."""
    per_access = uram_share * k["URAM"] * math.ceil(bits / BLOCK_BITS["URAM"]) + (
        1 - uram_share
    ) * k["BRAM36"] * math.ceil(bits / BLOCK_BITS["BRAM36"])
    return per_cycle * per_access * f_mhz * 1e-6


def hbm_watts(bytes_per_token: float, tokens_per_s: float, pj_per_bit: float) -> float:
    """W of the HBM traffic: bits moved per second x energy per bit."""
    return bytes_per_token * 8 * tokens_per_s * pj_per_bit * 1e-12


def busy_of(group: str, busy: dict[str, float]) -> float:
    """Busy cycles of a resources group (its busiest module)."""
    return max(busy.get(mod, 0.0) for mod in UNIT_MODULES[group])


def _uram_share(res: dict) -> float:
    """The fraction of the on-chip buffers' blocks of capacity that are URAM (resources.py
    fills URAM first, then BRAM36); the buffers share it in proportion to their bytes."""
    from accllm.backend.target_desc import BRAM36_BYTES, URAM_BYTES

    uram_bytes = res["use"]["URAM"] * URAM_BYTES
    bram_in_units = sum(u["BRAM36"] for u in res["units"].values())
    bram_bytes = max(0.0, res["use"]["BRAM36"] - bram_in_units) * BRAM36_BYTES
    total = uram_bytes + bram_bytes
    return uram_bytes / total if total else 0.0


# Published U280 figures for Llama-2-7B decode (batch 1).  FlightLLM's watts are derived from
# AccLLM's stated 4.07x energy efficiency over it (4.96 / 4.07 = 1.22 tokens/J at 55 tokens/s:
# 45 W); FlightLLM's own table was not available here (docs/performance.md).
PUBLISHED = {
    "AccLLM (U280, reported)": {"tokens_per_s": 164.0, "watts": 33.0},
    "FlightLLM (U280; W derived)": {"tokens_per_s": 55.0, "watts": 45.1},
}


def published() -> dict[str, dict[str, float]]:
    """PUBLISHED with tokens per joule."""
    return {
        k: {**v, "tokens_per_joule": round(v["tokens_per_s"] / v["watts"], 2)}
        for k, v in PUBLISHED.items()
    }


def figures_table(figures: dict | None = None) -> dict[str, dict]:
    """Every coefficient (JSON-ready), for the report."""
    figures = figures or load_figures()
    out = {f"fabric {k}": f.__dict__ for k, f in figures["fabric"].items()}
    out["hbm_pj_per_bit"] = figures["hbm_pj_per_bit"].__dict__
    for t, d in figures["devices"].items():
        out.update({f"{t} {k}": f.__dict__ for k, f in d.items()})
    return out


def estimate(wl: Workload, m: Machine, res: dict, context: int, prefill_tokens: int) -> dict:
    """The report's power section: decode at `context`, one prefill program of
    `prefill_tokens` from position 0, the published figures beside; or why there is none."""
    try:
        dec = program_power(wl, m, 1, context - 1, res, "decode")
        pre = program_power(wl, m, prefill_tokens, 0, res, "prefill")
    except PowerError as err:
        return {"unavailable": str(err), "limits": LIMITS}
    return {
        "limits": LIMITS,
        "decode": dec,
        "prefill_program": pre,
        "published": published(),
        "figures": figures_table(),
    }


def published_line() -> str:
    """The published figures in one line (what the estimate is printed beside)."""
    return "published Llama-2-7B decode: " + "; ".join(
        f"{name} {v['tokens_per_s']:g} tokens/s, {v['watts']:g} W, {v['tokens_per_joule']:.2f} "
        "tokens/J"
        for name, v in published().items()
    )


def headline(p: dict) -> str:
    """One line: decode watts and tokens/J with their ranges, and the limits."""
    if "unavailable" in p:
        return f"power: not estimated ({p['unavailable']})"
    d = p["decode"]
    lo, hi = d["watts_range"]
    tlo, thi = d["tokens_per_joule_range"]
    return (
        f"decode {d['watts']:.1f} W ({lo:.1f}-{hi:.1f}), {d['tokens_per_joule']:.2f} tokens/J "
        f"({tlo:.2f}-{thi:.2f}) at {d['tokens_per_s']:.1f} tokens/s -- {LIMITS}"
    )
