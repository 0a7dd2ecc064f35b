"""`accllm pack-weights`: a float checkpoint -> the HBM images of a design emitted from shapes.

    accllm compile CONFIG --config-only --target u280 --stop-after emit -o DIR
    accllm pack-weights CHECKPOINT --layout DIR/hbm_layout.json -o DIR/hbm/

The checkpoint is streamed one tensor at a time through the default compression (magnitude
2:4 + RTN W2, `backend/weight_packer.py`) into `hbm_c<channel>.bin` per HBM channel, plus
`norm_desc.hex` (the design's norm descriptor ROM with the checkpoint's gain shifts).
"""

from __future__ import annotations

import argparse
import json
import resource
from pathlib import Path

from accllm.tools.cli_types import output_directory
from accllm.tools.errors import CommandError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "pack-weights",
        help="pack a checkpoint's weights into a design's HBM images",
        description="Stream a Hugging Face safetensors checkpoint (single or sharded; fp32, "
        "fp16, bf16) through the default compression into the per-channel HBM images of the "
        "design whose hbm_layout.json is given.",
    )
    p.add_argument("checkpoint", help="checkpoint directory (config.json + *.safetensors)")
    p.add_argument(
        "--layout", required=True, help="the design's hbm_layout.json (accllm compile writes it)"
    )
    p.add_argument(
        "-o", "--output-dir", required=True, type=output_directory, help="directory of the images"
    )
    p.set_defaults(func=run_pack)


def run_pack(args: argparse.Namespace) -> int:
    from accllm.backend.hbm_layout import LayoutError
    from accllm.backend.weight_packer import PackError, pack_weights, read_layout
    from accllm.tools.progress import progress_bar

    layout = Path(args.layout)
    try:
        doc = read_layout(layout)
        tensors = len({(r["format"], r["tensor"]) for r in doc["regions"] if "tensor" in r})
        with progress_bar(tensors, "  pack", unit="tensor") as progress:
            res = pack_weights(Path(args.checkpoint), layout, Path(args.output_dir), progress)
    except (PackError, LayoutError) as err:
        raise CommandError(str(err)) from err
    except (KeyError, TypeError) as err:
        raise CommandError(f"{layout}: malformed layout ({type(err).__name__}: {err})") from err
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    rate = res.weights / res.total_seconds / 1e6 if res.total_seconds else 0.0
    times = ", ".join(f"{k} {v:.1f} s" for k, v in res.seconds.items())
    print(
        f"accllm: packed {res.tensors} tensors ({res.weights / 1e6:.1f} M weights) into "
        f"{len(res.images)} HBM images in {args.output_dir} in {res.total_seconds:.1f} s "
        f"({rate:.1f} M weights/s: {times}); peak memory {peak:.0f} MiB"
    )
    if res.norm_rom is not None:
        print(f"  wrote {res.norm_rom}: the norm descriptors with the checkpoint's gain shifts")
    summary = {
        "weights": res.weights,
        "tensors": res.tensors,
        "seconds": res.seconds,
        "peak_rss_mib": round(peak),
    }
    (Path(args.output_dir) / "pack_summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return 0
