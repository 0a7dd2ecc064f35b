"""The Llama-2-7B estimate of the emitted stream engine on u280 (docs/performance.md figures).

    python -m accllm.bench.perf_7b [--mlir l7b.mlir] [--png docs/img/roofline_llama2_7b_u280.png]
        [--power-png docs/img/power_llama2_7b_u280.png]

Imports test/Passes/estimate/Inputs/llama2_7b/config.json config-only (unless --mlir gives the
import) and estimates, for S = 4 and W in {1020, 2044}, the engine the compiler emits for u280
(docs/engine.md: per-channel prefetchers, stream_linear_unit, stream_attention_unit with the KV
rings in HBM): decode tokens/s at contexts up to 4096, prefill of 512 / 2048 tokens, HBM bytes
per token and the roofline, cycles by kind of step, resources and the fit verdict.  Printed
beside the previous engine's figure (3.39 decode tokens/s, linear_unit / attention_unit with the
KV cache on chip), AccLLM (164) and FlightLLM (55).  Breaks the decode bytes per token down by
component, draws the roofline plot and writes results/perf_7b.json.  These are estimates of the
RTL as generated (the cost rules of docs/performance.md), not of a full-width simulation.  The
decode power and tokens per joule (`backend/perf/power.py`, by unit and HBM, a stacked-bar plot)
are printed beside AccLLM's 33 W / 4.96 tokens/J and FlightLLM's: a pre-silicon estimate, no
board measurement.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from accllm.bench._common import LLAMA2_7B, REPO, write_results

PUBLISHED = {"AccLLM (U280, 33 W)": 164.0, "FlightLLM (U280)": 55.0}
# The previous engine (linear_unit, attention_unit with the KV cache on chip), as lowered, S = 4,
# W = 1020, context 4096 (docs/performance.md before the stream engine; issue 13).
BEFORE = {"decode_tokens_per_s": 3.39, "hbm_bytes_per_token": 1.881e9, "prefill512": 10.9}
ISSUE_TARGET = {"decode_tokens_per_s": 230.0, "prefill512_tokens_per_s": 200.0}


def load(mlir: str | None):
    from xdsl.context import Context
    from xdsl.parser import Parser

    from accllm.dialects.registry import register_all_dialects

    if mlir is None:
        from accllm.frontend.import_model import import_config

        mlir = str(Path(tempfile.mkdtemp()) / "llama2_7b.mlir")
        import_config(LLAMA2_7B.parent, mlir, seq_len=8)
    ctx = Context(allow_unregistered=True)
    register_all_dialects(ctx)
    return Parser(ctx, Path(mlir).read_text()).parse_module()


def bytes_by_component(module, window: int) -> dict[str, int]:
    """Decode bytes per token at a full Λ ring, by component (what the HBM moves)."""
    from accllm.backend.perf.cost import step_cost
    from accllm.backend.perf.estimate import machine_for, with_window
    from accllm.backend.perf.workload import workloads

    wl = with_window(workloads(module)[0], 4, window)
    m = machine_for(module, wl, "u280")
    parts: dict[str, float] = {}
    for s in wl.steps:
        c = step_cost(s, m, 1, 4095)
        if s.kind == "linear":
            key = "LM head (int8 stream)" if s.precision == "int8" else "W2 linears (stream)"
            parts[key] = parts.get(key, 0.0) + c.read
        elif s.kind == "attention":
            parts["KV read (rings)"] = parts.get("KV read (rings)", 0.0) + c.read
            parts["KV write (append)"] = parts.get("KV write (append)", 0.0) + c.written
        elif c.read or c.written:
            parts[f"{s.kind} tables"] = parts.get(f"{s.kind} tables", 0.0) + c.read + c.written
    return {k: round(v) for k, v in parts.items() if v}


def _rel(path: str) -> str:
    return str(Path(path).relative_to(REPO)) if path.startswith(str(REPO)) else path


def main() -> None:
    from accllm.backend.perf.estimate import estimate_module
    from accllm.backend.perf.power import LIMITS, headline, published
    from accllm.backend.perf.power_plot import draw_power
    from accllm.backend.perf.roofline_plot import draw_roofline

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mlir")
    ap.add_argument("--png", default=str(REPO / "docs" / "img" / "roofline_llama2_7b_u280.png"))
    ap.add_argument("--power-png", default=str(REPO / "docs" / "img" / "power_llama2_7b_u280.png"))
    args = ap.parse_args()
    module = load(args.mlir)
    contexts = (1, 64, 128, 256, 512, 1024, 2048, 4096)
    out: dict = {
        "what": "estimate of the emitted stream engine (RTL as generated), u280, S = 4",
        "published_tokens_per_s": PUBLISHED,
        "before_previous_engine_w1020": BEFORE,
        "issue_13_target": ISSUE_TARGET,
        "estimates": {},
    }
    reports = {}
    print(
        f"Llama-2-7B on u280, S = 4 (estimate of the emitted stream engine; previous engine "
        f"{BEFORE['decode_tokens_per_s']} tok/s; AccLLM 164, FlightLLM 55)"
    )
    for window in (1020, 2044):
        r = estimate_module(module, "u280", sink=4, window=window, contexts=contexts)
        reports[window] = r
        w = r["workloads"][0]
        full = w["decode"][-1]
        ctx1024 = next(d for d in w["decode"] if d["context"] == 1024)
        res = w["resources"]
        row = {
            "decode_tokens_per_s_context_4096": full["tokens_per_s"],
            "decode_tokens_per_s_context_1024": ctx1024["tokens_per_s"],
            "decode_latency_ms": full["latency_ms"],
            "decode_cycles": full["cycles"],
            "decode_cycles_by_kind": full["cycles_by_kind"],
            "stream_beats_per_channel": full["stream_beats_per_channel"],
            "hbm_bytes_per_token": full["hbm_bytes_per_token"],
            "hbm_utilisation": full["hbm_utilisation"],
            "roofline_tokens_per_s": w["roofline"]["tokens_per_s"],
            "decode_sweep": {d["context"]: d["tokens_per_s"] for d in w["decode"]},
            "prefill": {
                p["tokens"]: {
                    "tokens_per_s": p["tokens_per_s"],
                    "latency_s": round(p["latency_ms"] / 1e3, 3),
                    "program_tokens": p["tile_tokens"],
                }
                for p in w["prefill"]
            },
            "resources": res,
            "engine": r["engine"],
            "power": w["power"],
        }
        out["estimates"][f"S=4 W={window}"] = row
        print(
            f"W={window:4d}: decode {row['decode_tokens_per_s_context_4096']:7.2f} tok/s at "
            f"context 4096 ({row['decode_tokens_per_s_context_1024']:.2f} at 1024), "
            f"{row['hbm_bytes_per_token'] / 1e9:.3f} GB/token, HBM util "
            f"{row['hbm_utilisation']:.1%}, roofline {row['roofline_tokens_per_s']:.1f} tok/s; "
            f"prefill 512: {row['prefill'][512]['tokens_per_s']:.1f} tok/s, 2048: "
            f"{row['prefill'][2048]['tokens_per_s']:.1f} tok/s"
        )
        print(f"        decode cycles by kind: {row['decode_cycles_by_kind']}")
        util = res["utilisation"]
        print(f"        power: {headline(w['power'])}")
        print(
            f"        resources: fits {res['fits']}"
            + (
                f" (over the {res['limit']:.0%} limit: {', '.join(res['over'])})"
                if res["over"]
                else ""
            )
            + " -- "
            + ", ".join(f"{c} {u:.1%}" for c, u in util.items())
        )
    w1020 = out["estimates"]["S=4 W=1020"]
    now = w1020["decode_tokens_per_s_context_4096"]
    print(
        f"decode W=1020, context 4096: before {BEFORE['decode_tokens_per_s']} tok/s (previous "
        f"engine) -> after {now:.2f} tok/s (stream engine), "
        f"{now / BEFORE['decode_tokens_per_s']:.1f}x;"
        f" roofline {w1020['roofline_tokens_per_s']:.1f}; issue target "
        f"{ISSUE_TARGET['decode_tokens_per_s']:.0f}"
    )
    parts = bytes_by_component(module, 1020)
    out["decode_bytes_per_token_w1020"] = parts
    print(
        "decode bytes per token (W=1020):",
        ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in parts.items()),
        f"= {sum(parts.values()) / 1e9:.3f} GB",
    )
    pw = w1020["power"]
    if "decode" in pw:
        d = pw["decode"]
        print(f"decode energy, W=1020, context 4096 ({LIMITS}):")
        print(
            f"  accllm (estimate): {d['tokens_per_s']:.1f} tok/s, {d['watts']:.1f} W "
            f"({d['watts_range'][0]:.1f}-{d['watts_range'][1]:.1f}), "
            f"{d['tokens_per_joule']:.2f} tok/J ({d['tokens_per_joule_range'][0]:.2f}-"
            f"{d['tokens_per_joule_range'][1]:.2f})"
        )
        for name, p in published().items():
            print(
                f"  {name}: {p['tokens_per_s']:.0f} tok/s, {p['watts']:.1f} W, "
                f"{p['tokens_per_joule']:.2f} tok/J"
            )
        print(
            "  by part (W): "
            + ", ".join(f"{k} {v:.2f}" for k, v in d["breakdown_w"].items() if v >= 0.005)
        )
        Path(args.power_png).parent.mkdir(parents=True, exist_ok=True)
        draw_power(pw, Path(args.power_png), label="accllm (estimate)")
        print(f"wrote {args.power_png}")
        out["power_plot"] = _rel(args.power_png)
    Path(args.png).parent.mkdir(parents=True, exist_ok=True)
    draw_roofline(
        reports[1020], Path(args.png), extra=[("W=2044", reports[2044])], label="STREAM ENGINE"
    )
    print(f"wrote {args.png}")
    out["command"] = "python -m accllm.bench.perf_7b" + (
        f" --mlir {args.mlir}" if args.mlir else ""
    )
    out["plot"] = _rel(args.png)
    write_results("perf_7b", out)


if __name__ == "__main__":
    main()
