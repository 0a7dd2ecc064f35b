"""Compile time of the Llama-2-7B structure per stage, for 1..32 decoder layers.

    python -m accllm.bench.compile_bench [--layers 1,2,4,8,16,32]

Stages: the config-only import (build on the meta device, torch-mlir export, conversion to
smla/lattn, write), parsing the IR back, and accllm-estimate on u280.  The whole design from
the config (shapes-only compression, lower, emit) is `bench/emit_7b.py`.  Prints a table and
writes results/compile_bench.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from accllm.bench._common import LLAMA2_7B, write_results


def compile_once(layers: int, workdir: Path) -> dict[str, float]:
    from xdsl.context import Context
    from xdsl.parser import Parser

    from accllm.backend.perf.estimate import estimate_module
    from accllm.dialects.registry import register_all_dialects
    from accllm.frontend.import_model import import_config

    cfg = json.loads(LLAMA2_7B.read_text()) | {"num_hidden_layers": layers}
    (workdir / "config.json").write_text(json.dumps(cfg))
    out = workdir / f"l{layers}.mlir"
    res = import_config(workdir, out, seq_len=8)
    seconds = {f"import.{k}": v for k, v in res.seconds.items()}
    ctx = Context(allow_unregistered=True)
    register_all_dialects(ctx)
    t0 = time.perf_counter()
    module = Parser(ctx, out.read_text()).parse_module()
    seconds["parse"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    estimate_module(module, "u280")
    seconds["estimate"] = time.perf_counter() - t0
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", default="1,2,4,8,16,32")
    args = ap.parse_args()
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.layers.split(",")):
            sec = compile_once(n, Path(tmp))
            rows[n] = {k: round(v, 3) for k, v in sec.items()} | {
                "total": round(sum(sec.values()), 3)
            }
            print(
                f"{n:3d} layers: " + "  ".join(f"{k} {v:.2f}s" for k, v in rows[n].items()),
                flush=True,
            )
    write_results(
        "compile_bench",
        {
            "command": f"python -m accllm.bench.compile_bench --layers {args.layers}",
            "seconds_by_layers": rows,
        },
    )


if __name__ == "__main__":
    main()
