"""`accllm import`: a Llama-family checkpoint (or its config alone) -> smla/lattn IR.

accllm import CHECKPOINT_DIR -o model.mlir [--weights auto|inline|external] [--seq-len 8]
accllm import config.json -o llama7b.mlir --config-only
accllm import CHECKPOINT_DIR -o model.torch.mlir --emit torch   (the pass's torch input)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from accllm.frontend.errors import FrontendError
from accllm.tools.errors import CommandError


def register(subparsers) -> None:
    """Add the `import` subcommand to the driver."""
    p = subparsers.add_parser(
        "import",
        help="import a Llama-family model into smla/lattn IR",
        description="Export a transformers Llama/Mistral/Qwen2 decoder with torch-mlir and "
        "convert it to smla/lattn (convert-torch-to-accllm).",
    )
    p.add_argument(
        "model",
        help="checkpoint directory (config.json + *.safetensors); with --config-only, a "
        "config.json or a directory holding one",
    )
    p.add_argument("-o", "--output", required=True, help="output .mlir file")
    p.add_argument(
        "--config-only",
        action="store_true",
        help="build the model from its config on the meta device (no weights are read or "
        "written; the IR names the weights)",
    )
    p.add_argument(
        "--weights",
        choices=["auto", "inline", "external"],
        default="auto",
        help="inline dense<...> weights, or a safetensors file beside the output "
        "(auto: inline up to 2^20 weights)",
    )
    p.add_argument("--seq-len", type=int, default=8, help="tokens of the imported prefill")
    p.add_argument(
        "--emit",
        choices=["accllm", "torch"],
        default="accllm",
        help="accllm: smla/lattn (default); torch: the torch dialect before conversion",
    )
    p.set_defaults(func=run_import)


def _check_seq_len(path: Path, seq_len: int) -> None:
    """--seq-len against the config's max_position_embeddings, before the model is built."""
    config = path if path.is_file() else path / "config.json"
    try:
        max_pos = json.loads(config.read_text()).get("max_position_embeddings")
    except (OSError, ValueError, AttributeError):
        return  # the checkpoint validation names what is wrong with the config
    if isinstance(max_pos, int) and seq_len > max_pos:
        raise CommandError(
            f"{config}: --seq-len {seq_len} exceeds the model's max_position_embeddings = {max_pos}"
        )


def run_import(args: argparse.Namespace) -> int:
    """Run the import; user errors become CommandError (no traceback)."""
    from accllm.frontend.import_model import import_config, import_model

    path = Path(args.model)
    if not path.exists():
        raise CommandError(f"{path}: no such file or directory")
    _check_seq_len(path, args.seq_len)
    try:
        if args.config_only:
            result = import_config(path, args.output, seq_len=args.seq_len, emit=args.emit)
        else:
            result = import_model(
                path, args.output, weights=args.weights, seq_len=args.seq_len, emit=args.emit
            )
    except FrontendError as err:
        raise CommandError(str(err)) from err
    steps = ", ".join(f"{k} {v:.2f}s" for k, v in result.seconds.items())
    where = {
        "inline": "weights inline",
        "external": f"weights in {result.params_file}",
        "none": "config only: weights named, not written",
    }[result.weights]
    sys.stdout.write(
        f"accllm: imported {result.num_layers} layers to {args.output} ({where}) in "
        f"{result.total_seconds:.2f}s ({steps})\n"
    )
    return 0
