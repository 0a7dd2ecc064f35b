"""`accllm pack-weights` throughput and peak memory on a TinyLlama-1.1B-shaped checkpoint.

    python -m accllm.bench.pack_bench [--cache DIR] [--layers 22]

A synthetic checkpoint of TinyLlama-1.1B's shape (hidden 2048, 22 layers, 32 heads / 4 KV,
FFN 5632, vocab 32000; seeded random weights, `models.default.init_parameters`) is written
once with save_pretrained in bf16, sharded, into the cache directory (default
~/.cache/accllm/bench/tinyllama-1.1b-synthetic, never the source tree); its design is emitted
from the config (`accllm compile --config-only --target u280`), then `accllm pack-weights`
runs as a child process.  Prints weights/s, where the time goes (read / compress / encode /
write) and its peak resident memory (getrusage in the child) against issue #14's targets
(>= 50 M weights/s, <= 2 GB + the largest tensor); writes results/pack_bench.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from accllm.bench._common import write_results

TARGET_RATE = 50e6  # weights/s
TINYLLAMA = {
    "hidden_size": 2048,
    "num_hidden_layers": 22,
    "num_attention_heads": 32,
    "num_key_value_heads": 4,
    "intermediate_size": 5632,
    "vocab_size": 32000,
    "max_position_embeddings": 2048,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "tie_word_embeddings": False,
}


def synthetic_checkpoint(directory: Path, layers: int) -> Path:
    """Write (once) the seeded bf16 sharded checkpoint; the model is built on the meta device
    and materialised in bf16, so the fp32 model (4.4 GB) never exists."""
    if (directory / "model.safetensors.index.json").is_file():
        return directory
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from accllm.models.default import init_parameters

    config = LlamaConfig(**(TINYLLAMA | {"num_hidden_layers": layers}))
    with torch.device("meta"):
        model = LlamaForCausalLM(config).to(torch.bfloat16)
    model = init_parameters(model.to_empty(device="cpu"), seed=0)
    model.config.torch_dtype = torch.bfloat16
    model.save_pretrained(directory, safe_serialization=True, max_shard_size="500MB")
    return directory


def accllm(*args: str) -> tuple[subprocess.CompletedProcess, float]:
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "accllm.tools.accllm_driver", *args]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode:
        sys.exit(f"{' '.join(args[:1])} failed ({run.returncode}):\n{run.stdout}\n{run.stderr}")
    return run, time.perf_counter() - t0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--cache", default=str(Path.home() / ".cache/accllm/bench/tinyllama-1.1b-synthetic")
    )
    ap.add_argument("--layers", type=int, default=22)
    args = ap.parse_args()
    cache = Path(args.cache)
    if args.layers != 22:
        cache = cache.with_name(f"{cache.name}-{args.layers}l")
    t0 = time.perf_counter()
    ckpt = synthetic_checkpoint(cache, args.layers)
    print(f"checkpoint {ckpt} ({time.perf_counter() - t0:.1f} s)")
    from safetensors import safe_open

    largest = 0
    for shard in ckpt.glob("*.safetensors"):
        with safe_open(str(shard), framework="pt") as f:
            for key in f.keys():
                shape = f.get_slice(key).get_shape()
                largest = max(largest, 4 * math.prod(shape))  # as fp32
    with tempfile.TemporaryDirectory(prefix="accllm-pack-") as tmp:
        design = Path(tmp) / "design"
        _, emit_s = accllm(
            "compile", str(ckpt / "config.json"), "--config-only", "--target", "u280",
            "--stop-after", "emit", "-o", str(design),
        )  # fmt: skip
        cpu0 = _children_cpu()
        run, wall = accllm(
            "pack-weights", str(ckpt), "--layout", str(design / "hbm_layout.json"),
            "-o", str(design / "hbm"),
        )  # fmt: skip
        cpu = _children_cpu() - cpu0
        stats = json.loads((design / "hbm" / "pack_summary.json").read_text())
        image_bytes = sum(p.stat().st_size for p in (design / "hbm").glob("hbm_c*.bin"))
    peak_gb = stats["peak_rss_mib"] / 2**10  # pack-weights' own getrusage peak
    rate = stats["weights"] / sum(stats["seconds"].values())
    limit_gb = 2 + largest / 2**30
    print(run.stdout.strip())
    print(
        f"{stats['weights'] / 1e6:.0f} M weights in {sum(stats['seconds'].values()):.1f} s of "
        f"packing ({wall:.1f} s wall with start-up, {cpu:.1f} s CPU, load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores): {rate / 1e6:.1f} M weights/s "
        f"({stats['weights'] / cpu / 1e6:.1f} per CPU second; target >= "
        f"{TARGET_RATE / 1e6:.0f}); peak memory {peak_gb:.2f} GB (target <= 2 GB + the largest "
        f"tensor {largest / 2**30:.2f} GB as fp32 = {limit_gb:.2f} GB); emit {emit_s:.1f} s"
    )
    write_results(
        "pack_bench",
        {
            "command": f"python -m accllm.bench.pack_bench --layers {args.layers}",
            "model": TINYLLAMA | {"num_hidden_layers": args.layers, "dtype": "bfloat16"},
            "weights": stats["weights"],
            "tensors": stats["tensors"],
            "seconds": stats["seconds"],
            "wall_seconds": round(wall, 2),
            "weights_per_second": round(rate),
            "cpu_seconds": round(cpu, 2),
            "weights_per_cpu_second": round(stats["weights"] / cpu),
            "load_average": round(os.getloadavg()[0], 2),
            "peak_rss_gb": round(peak_gb, 3),
            "largest_tensor_fp32_gb": round(largest / 2**30, 3),
            "image_bytes": image_bytes,
            "emit_seconds": round(emit_s, 2),
            "targets": {"weights_per_second": TARGET_RATE, "peak_gb": limit_gb},
            "meets_targets": rate >= TARGET_RATE and peak_gb <= limit_gb,
        },
    )


if __name__ == "__main__":
    main()
