"""The Llama-2-7B estimate on u280 from a config-only import (docs/performance.md figures).

    python -m accllm.bench.perf_7b [--mlir l7b.mlir] [--png docs/img/roofline_llama2_7b_u280.png]

Imports test/Passes/estimate/Inputs/llama2_7b/config.json config-only (unless --mlir gives the
import), runs the estimate for S=4 and W in {1020, 2044} with the design as lowered today and
with every roofline option, prints decode / prefill tokens/s, bytes per token, HBM utilisation
and resource fit next to AccLLM (164 tokens/s) and FlightLLM (55), breaks the decode bytes per
token down by component against docs/DESIGN's 1.68 GB estimate, draws the roofline plot, and
writes results/perf_7b.json.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import asdict
from pathlib import Path

from accllm.bench._common import LLAMA2_7B, REPO, write_results

PUBLISHED = {"AccLLM (U280, 33 W)": 164.0, "FlightLLM (U280)": 55.0}


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


def main() -> None:
    from accllm.backend.perf.cost import ROOFLINE_OPTIONS, PerfOptions, step_cost
    from accllm.backend.perf.estimate import estimate_module, machine_for, with_window
    from accllm.backend.perf.roofline_plot import draw_roofline
    from accllm.backend.perf.workload import workloads

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mlir")
    ap.add_argument("--png", default=str(REPO / "docs" / "img" / "roofline_llama2_7b_u280.png"))
    args = ap.parse_args()
    module = load(args.mlir)
    contexts = (1, 64, 128, 256, 512, 1024, 2048, 4096)
    designs = {"as lowered": PerfOptions(), "all roofline options": ROOFLINE_OPTIONS}
    out: dict = {"published_tokens_per_s": PUBLISHED, "estimates": {}}
    reports = {}
    for window in (1020, 2044):
        for name, opts in designs.items():
            r = estimate_module(module, "u280", opts, sink=4, window=window, contexts=contexts)
            reports[(window, name)] = r
            w = r["workloads"][0]
            full = w["decode"][-1]
            row = {
                "options": asdict(opts),
                "decode_tokens_per_s_full_window": full["tokens_per_s"],
                "decode_latency_ms": full["latency_ms"],
                "decode_cycles_by_kind": full["cycles_by_kind"],
                "hbm_bytes_per_token": full["hbm_bytes_per_token"],
                "hbm_utilisation": full["hbm_utilisation"],
                "roofline_tokens_per_s": w["roofline"]["tokens_per_s"],
                "decode_sweep": {d["context"]: d["tokens_per_s"] for d in w["decode"]},
                "prefill": {
                    p["tokens"]: {
                        "tokens_per_s": p["tokens_per_s"],
                        "latency_s": round(p["latency_ms"] / 1e3, 2),
                        "tile_tokens": p["tile_tokens"],
                    }
                    for p in w["prefill"]
                },
                "resources": w["resources"],
            }
            out["estimates"][f"S=4 W={window}, {name}"] = row
            print(
                f"S=4 W={window:4d} {name:22s}: decode "
                f"{row['decode_tokens_per_s_full_window']:7.2f}"
                f" tok/s, {row['hbm_bytes_per_token'] / 1e9:.3f} GB/token, HBM util "
                f"{row['hbm_utilisation']:.1%}, roofline {row['roofline_tokens_per_s']:.1f}; "
                f"prefill 512: {row['prefill'][512]['tokens_per_s']:.1f} tok/s, 2048: "
                f"{row['prefill'][2048]['tokens_per_s']:.1f} tok/s; fits "
                f"{row['resources']['fits']} (LUT {row['resources']['utilisation']['LUT']:.1%},"
                f" DSP {row['resources']['utilisation']['DSP']:.1%}, URAM "
                f"{row['resources']['utilisation']['URAM']:.1%})"
            )
    # Item by item from the design as lowered toward every roofline option (W = 1020, full
    # window), plus the metadata encoding and spilling activations as single changes.
    ladder = [
        ("as lowered", {}),
        ("+ double_buffer", {"double_buffer": True}),
        ("+ striping", {"striping": True}),
        ("+ write_lanes=8", {"write_lanes": 8}),
        ("+ attn_lanes=512", {"attn_lanes": 512}),
        ("+ softmax_units=16", {"softmax_units": 16}),
        ("+ vector_lanes=16", {"vector_lanes": 16}),
        ("all, encoding=index2", {"encoding": "index2"}),
        ("all, act_onchip=false", {"encoding": "pattern3", "act_onchip": False}),
    ]
    opts: dict = {}
    out["options_ladder_w1020"] = {}
    for name, change in ladder:
        opts |= change
        r = estimate_module(
            module,
            "u280",
            PerfOptions(**opts),
            sink=4,
            window=1020,
            contexts=(1024,),
            prompts=(512,),
        )
        w = r["workloads"][0]
        d, res = w["decode"][0], w["resources"]
        out["options_ladder_w1020"][name] = {
            "decode_tokens_per_s": d["tokens_per_s"],
            "hbm_bytes_per_token": d["hbm_bytes_per_token"],
            "hbm_utilisation": d["hbm_utilisation"],
            "roofline": w["roofline"]["tokens_per_s"],
            "prefill512_tokens_per_s": w["prefill"][0]["tokens_per_s"],
            "fits": res["fits"],
            "LUT": res["utilisation"]["LUT"],
            "DSP": res["utilisation"]["DSP"],
        }
        print(
            f"{name:24s} decode {d['tokens_per_s']:7.2f} tok/s, "
            f"{d['hbm_bytes_per_token'] / 1e9:.3f} GB/token, util {d['hbm_utilisation']:.1%}, "
            f"roofline {w['roofline']['tokens_per_s']:.1f},"
            f" prefill512 {w['prefill'][0]['tokens_per_s']:.1f}, fits {res['fits']}"
        )
    # Each option removed from the all-options design: what it is worth on its own.
    out["all_but_one_w1020"] = {}
    for field in (
        "double_buffer",
        "striping",
        "write_lanes",
        "attn_lanes",
        "softmax_units",
        "vector_lanes",
    ):
        base = PerfOptions().__getattribute__(field)
        opts = asdict(ROOFLINE_OPTIONS) | {field: base}
        r = estimate_module(
            module,
            "u280",
            PerfOptions(**opts),
            sink=4,
            window=1020,
            contexts=(1024,),
            prompts=(512,),
        )
        d = r["workloads"][0]["decode"][0]
        out["all_but_one_w1020"][f"{field}={base}"] = d["tokens_per_s"]
        print(f"all but {field}={base}: decode {d['tokens_per_s']:.2f} tok/s")
    # Decode bytes per token at W = 1020 by component (as lowered: same bytes for any options).
    wl = with_window(workloads(module)[0], 4, 1020)
    m = machine_for(module, wl, "u280", PerfOptions())
    parts: dict[str, float] = {}
    for s in wl.steps:
        c = step_cost(s, m, 1, 4095)
        key = {
            "linear": "lm_head" if s.precision == "int8" else "linear weights + metadata",
            "attention": "KV read",
            "kv_append": "KV write",
        }.get(s.kind, f"{s.kind} tables")
        parts[key] = parts.get(key, 0.0) + c.read + c.written
    parts = {k: v for k, v in parts.items() if v}
    out["decode_bytes_per_token_w1020"] = {k: round(v) for k, v in parts.items()}
    print(
        "decode bytes per token (W=1020):",
        ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in parts.items()),
    )
    Path(args.png).parent.mkdir(parents=True, exist_ok=True)
    draw_roofline(
        reports[(1020, "as lowered")],
        Path(args.png),
        extra=[
            ("all roofline options, W = 1020", reports[(1020, "all roofline options")]),
            ("all roofline options, W = 2044", reports[(2044, "all roofline options")]),
        ],
        label="as lowered, W = 1020",
    )
    print(f"wrote {args.png}")
    out["command"] = "python -m accllm.bench.perf_7b" + (
        f" --mlir {args.mlir}" if args.mlir else ""
    )
    out["plot"] = (
        str(Path(args.png).relative_to(REPO)) if args.png.startswith(str(REPO)) else args.png
    )
    write_results("perf_7b", out)


if __name__ == "__main__":
    main()
