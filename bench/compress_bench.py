"""Benchmark of the compression passes on a real-weight model of >= 10 M parameters.

    .venv/bin/python bench/compress_bench.py [--layers 12] [--hidden 256] [--ffn 768]

Builds a seeded Llama (default: 12 layers, hidden 256, FFN 768, vocab 4096: 12.3 M parameters,
10.2 M of them in linear layers), imports it with the frontend (weights in safetensors beside
the IR), then times accllm-prune-2-4 (magnitude, Wanda, SparseGPT) and accllm-quantize (rtn,
gptq) as they stream the parameters, and prints weights/s (the data-aware methods include
their interpreter calibration runs).  With --check, the compressed IR is run by the interpreter
and compared bit for bit with the golden model.  Results: results/compress_bench.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.printer import Printer

from accllm.dialects.registry import register_all_dialects
from accllm.frontend.import_model import import_model
from accllm.interpreter.runner import load_module
from accllm.models.default import build_model, default_config
from accllm.passes.fold_quantize_pairs import FoldQuantizePairs
from accllm.passes.lambda_attention import LambdaAttention
from accllm.passes.prune_2_4 import Prune24
from accllm.passes.quantize import QuantizeW2A8KV4

ROOT = Path(__file__).resolve().parent.parent


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def timed(pass_, module: ModuleOp) -> float:
    ctx = Context()
    register_all_dialects(ctx)
    t0 = time.perf_counter()
    pass_.apply(ctx, module)
    return time.perf_counter() - t0


def save(module: ModuleOp, path: Path) -> None:
    with open(path, "w") as f:
        Printer(stream=f).print_op(module)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--ffn", type=int, default=768)
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--check", action="store_true", help="compare with the golden model")
    ap.add_argument("--out", default=str(ROOT / "results" / "compress_bench.json"))
    args = ap.parse_args()

    cfg = default_config()
    cfg.num_hidden_layers, cfg.hidden_size, cfg.intermediate_size = (
        args.layers,
        args.hidden,
        args.ffn,
    )
    cfg.vocab_size, cfg.num_attention_heads, cfg.num_key_value_heads = args.vocab, 8, 8
    cfg.head_dim = args.hidden // 8
    model = build_model(cfg, seed=0)
    n_params = sum(p.numel() for p in model.parameters())
    n_linear = sum(
        p.numel() for n, p in model.named_parameters() if n.split(".")[-2].endswith("proj")
    )
    print(
        f"model: {args.layers} layers, hidden {args.hidden}, FFN {args.ffn}, vocab "
        f"{args.vocab}: {n_params / 1e6:.2f} M parameters ({n_linear / 1e6:.2f} M in linears)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        t0 = time.perf_counter()
        import_model(model, d / "m.mlir", weights="external", seq_len=8)
        t_import = time.perf_counter() - t0
        results = {}
        for method in ("magnitude", "wanda", "sparsegpt"):
            m = load_module(d / "m.mlir")
            secs = timed(Prune24(method=method, archive=f"p-{method}.safetensors"), m)
            results[f"prune_{method}"] = {"seconds": secs, "weights_per_s": n_linear / secs}
            save(m, d / f"p-{method}.mlir")
        quantized = n_params - sum(p.numel() for n, p in model.named_parameters() if "norm" in n)
        # gptq quantizes what sparsegpt pruned (the joint second-order recipe); rtn the
        # magnitude-pruned IR, which --check compares with the golden model.
        for method, pruned in (("gptq", "sparsegpt"), ("rtn", "magnitude")):
            m = load_module(d / f"p-{pruned}.mlir")
            timed(LambdaAttention(sink=4, window=1020), m)
            secs = timed(QuantizeW2A8KV4(method=method, archive=f"q-{method}.safetensors"), m)
            key = "quantize" if method == "rtn" else f"quantize_{method}"
            results[key] = {"seconds": secs, "weights_per_s": quantized / secs}
        timed(FoldQuantizePairs(), m)
        save(m, d / "c.mlir")
        for name, r in results.items():
            print(
                f"  {name:16s} {r['seconds']:7.3f} s  {r['weights_per_s'] / 1e6:7.2f} M weights/s"
            )
        if args.check:
            from accllm.interpreter.runner import run_file
            from accllm.numerics.compress import compress_model
            from accllm.numerics.golden import GoldenModel

            ids = np.arange(8, dtype=np.int64)[None] * 37 % args.vocab
            (out,) = run_file(d / "c.mlir", "forward", [ids])
            ref, _ = GoldenModel(compress_model(model), 4, 1020).prefill(ids[0])
            results["bit_exact_with_golden"] = bool(np.array_equal(out[0], ref))
            print(f"  compressed IR == golden model: {results['bit_exact_with_golden']}")
    report = {
        "model": {
            "layers": args.layers,
            "hidden": args.hidden,
            "ffn": args.ffn,
            "vocab": args.vocab,
            "parameters": n_params,
            "linear_weights": n_linear,
        },
        "import_seconds": t_import,
        "passes": results,
        "machine": {
            "cpu": cpu_name(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
        },
        "note": "weights/s counts linear weights for pruning and every non-norm weight for "
        "quantization; times are pass application only (parse/print excluded)",
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
