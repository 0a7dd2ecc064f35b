"""accllm-estimate: the performance and resource estimate of a module on a target.

Works on the hardware level (accel schedules, as lowered) and on the model / compressed levels
(smla/lattn; float weights are costed as the AccLLM compression makes them: 2:4 W2 with group
`group`, A8, KV4, Λ `sink` + `window`).  The IR is not changed except for one summary attribute
on the module, `accllm.estimate` (decode tokens/s at the full Λ window, prefill tokens/s, HBM
bytes per token and utilisation, roofline tokens/s, resource fit, decode watts and tokens per
joule where the target has power figures); `report=PATH` writes the whole
estimate as JSON and `plot=PATH` draws the roofline (PNG).  The estimate is of the engine the
compiler emits for the target (the stream engine, docs/engine.md); there are no what-if
options.  The power figure is a pre-silicon estimate (no board measurement); the pass says so
on stderr with the figure.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from xdsl.context import Context
from xdsl.dialects.builtin import (
    DictionaryAttr,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    f64,
    i64,
)
from xdsl.passes import ModulePass

from accllm.backend.perf.estimate import EstimateError, estimate_module
from accllm.backend.perf.workload import Assumed, WorkloadError
from accllm.backend.target_desc import TargetError
from accllm.ir.diagnostics import error_at


def summary(report: dict) -> dict[str, float | int | str]:
    """The headline figures of the first workload (what the module attribute carries)."""
    w = report["workloads"][0]
    full = w["decode"][-1]
    res = w["resources"]
    out: dict[str, float | int | str] = {
        "target": report["target"],
        "decode_tokens_per_s": full["tokens_per_s"],
        "decode_context": full["context"],
        "hbm_bytes_per_token": full["hbm_bytes_per_token"],
        "hbm_utilisation": full["hbm_utilisation"],
        "roofline_tokens_per_s": w["roofline"]["tokens_per_s"],
        "fits": "yes" if res["fits"] else "no",
    }
    for p in w["prefill"]:
        out[f"prefill{p['tokens']}_tokens_per_s"] = p["tokens_per_s"]
    for cat, u in res["utilisation"].items():
        out[f"util_{cat.lower()}"] = u
    pw = w["power"]
    if "decode" in pw:
        d = pw["decode"]
        out["decode_watts"] = d["watts"]
        out["decode_tokens_per_joule"] = d["tokens_per_joule"]
        out["power_note"] = pw["limits"]
    return out


def _attr(v):
    if isinstance(v, str):
        return StringAttr(v)
    if isinstance(v, int):
        return IntegerAttr(v, i64)
    return FloatAttr(float(v), f64)


@dataclass(frozen=True)
class Estimate(ModulePass):
    """Estimate latency, tokens/s, HBM traffic and resources (docs/performance.md)."""

    name = "accllm-estimate"

    target: str = "u280"
    group: int = 128
    sink: int = 4
    window: int = 0  # 0: the IR's Λ window (float IR: 1020, the accllm-compress default)
    contexts: str = "1,128,256,512,1024,2048,4096"
    prompts: str = "512,2048"
    report: str = ""
    plot: str = ""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        try:
            contexts = tuple(int(c) for c in self.contexts.split(","))
            prompts = tuple(int(p) for p in self.prompts.split(","))
            assumed = Assumed(self.group, self.sink, self.window or Assumed.window)
            report = estimate_module(
                op, self.target, assumed, self.sink, self.window, contexts, prompts
            )
        except (EstimateError, WorkloadError, TargetError, ValueError) as err:
            raise error_at(op, f"accllm-estimate: {err}") from err
        head = summary(report)
        # Said wherever the figure appears: the watts are modelled, not measured.
        from accllm.backend.perf.power import headline, published_line

        power = report["workloads"][0]["power"]
        sys.stderr.write(f"accllm-estimate: {headline(power)}\n")
        if "decode" in power:
            sys.stderr.write(f"accllm-estimate: {published_line()}\n")
        op.attributes["accllm.estimate"] = DictionaryAttr({k: _attr(v) for k, v in head.items()})
        if self.report:
            Path(self.report).write_text(json.dumps(report, indent=2) + "\n")
        if self.plot:
            from accllm.backend.perf.roofline_plot import draw_roofline

            draw_roofline(report, Path(self.plot))
