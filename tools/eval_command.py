"""`accllm eval CKPT --text FILE`: perplexity at every level of the compression ladder.

Prints a table (perplexity, and bits per byte for byte-level vocabularies) per level and
method, the measured gap between the integer golden model and the fake-quant model, and writes
the same as JSON (``--json``). The evaluation is numerics/evaluate.py; docs/accuracy.md has the
tables it produced.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from accllm.tools.errors import CommandError

# The bound the golden model keeps to the fake-quant model (relative perplexity), measured on
# the reference model (docs/accuracy.md); `accllm eval` reports when a run exceeds it.
GOLDEN_FAKEQUANT_BOUND = 0.01


def register(subparsers) -> None:
    """Add the `eval` subcommand to the driver."""
    from accllm.numerics.evaluate import LEVELS, METHODS

    p = subparsers.add_parser(
        "eval",
        help="perplexity of a checkpoint at each compression level",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("checkpoint", help="checkpoint directory (config.json + *.safetensors)")
    p.add_argument("--text", required=True, help="evaluation text (bytes = ids, byte vocab)")
    p.add_argument(
        "--seq-len",
        type=int,
        default=None,
        help="tokens per window (default: the model's max_position_embeddings, at most 256)",
    )
    p.add_argument("--sink", type=int, default=4, help="Λ attention: sink tokens S (default 4)")
    p.add_argument("--window", type=int, default=60, help="Λ attention: window W (default 60)")
    p.add_argument(
        "--method",
        action="append",
        choices=METHODS,
        help="compression method (repeatable; default: all of " + ", ".join(METHODS) + ")",
    )
    p.add_argument(
        "--level",
        action="append",
        choices=LEVELS,
        help="level to evaluate (repeatable; default: all)",
    )
    p.add_argument(
        "--calibration",
        default=None,
        help="calibration text for wanda/sparsegpt (default: calibration.txt in the "
        "checkpoint directory)",
    )
    p.add_argument(
        "--calibration-windows", type=int, default=16, help="calibration windows (default 16)"
    )
    p.add_argument("--group", type=int, default=128, help="W2 group size (32, 64 or 128)")
    p.add_argument("--max-windows", type=int, default=None, help="evaluate only N windows")
    p.add_argument("--json", default=None, help="write the results here (default: stdout only)")
    p.set_defaults(func=eval_command)


def _read(path: str, what: str) -> bytes:
    p = Path(path)
    if not p.is_file():
        raise CommandError(f"{what} '{path}' not found")
    return p.read_bytes()


def eval_command(args) -> int:
    import torch
    from tqdm import tqdm
    from transformers.utils import logging as hf_logging

    from accllm.frontend.checkpoint import CheckpointError, load_checkpoint
    from accllm.numerics import evaluate as ev
    from accllm.numerics.contract import NUMERICS

    if args.sink < 0 or args.window < 1:
        raise CommandError("Λ attention needs --sink >= 0 and --window >= 1")
    if args.group not in NUMERICS.group_sizes:
        raise CommandError(f"--group {args.group} is not one of {NUMERICS.group_sizes}")
    hf_logging.disable_progress_bar()  # one progress bar: ours
    try:
        model = load_checkpoint(args.checkpoint)
    except (CheckpointError, OSError, ValueError) as err:
        raise CommandError(str(err)) from err
    if args.seq_len is None:
        args.seq_len = min(256, model.config.max_position_embeddings)
    if args.seq_len < 2:
        raise CommandError(f"--seq-len must be at least 2, got {args.seq_len}")
    methods = tuple(dict.fromkeys(args.method or ev.METHODS))
    levels = tuple(dict.fromkeys(args.level or ev.LEVELS))
    vocab = model.config.vocab_size
    try:
        ids = ev.text_ids(_read(args.text, "text file"), vocab)
        win = ev.windows(ids, args.seq_len, args.max_windows)
        calib = None
        if any(m != "magnitude" for m in methods) and any(x not in ev.METHOD_FREE for x in levels):
            cpath = args.calibration or str(Path(args.checkpoint) / "calibration.txt")
            cal_ids = ev.text_ids(_read(cpath, "calibration text"), vocab)
            calib = ev.windows(cal_ids, args.seq_len, args.calibration_windows)[:, :-1]
    except ev.EvalError as err:
        raise CommandError(str(err)) from err

    n_method_levels = sum(1 for lv in levels if lv not in ev.METHOD_FREE)
    free_levels = sum(1 for lv in levels if lv in ev.METHOD_FREE)
    total = len(win) * (free_levels + len(methods) * n_method_levels)
    t0 = time.time()
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    with tqdm(total=total, desc="eval", unit="window", disable=None) as bar:
        try:
            results = ev.evaluate(
                model,
                win,
                args.sink,
                args.window,
                methods=methods if n_method_levels else (),
                calib=calib,
                group=args.group,
                levels=levels,
                progress=bar.update,
            )
        except (ev.EvalError, ValueError) as err:
            raise CommandError(str(err)) from err
    byte_level = vocab == 256
    tokens = len(win) * args.seq_len
    print(
        f"{args.checkpoint}: {len(win)} windows x {args.seq_len} tokens ({tokens} predicted), "
        f"Λ S={args.sink} W={args.window}, W2 group {args.group}"
    )
    head = f"{'level':14s} {'method':10s} {'perplexity':>10s}"
    print(head + (f" {'bits/byte':>9s}" if byte_level else ""))
    for r in results:
        d = r.as_dict(byte_level)
        line = f"{r.level:14s} {r.method or '-':10s} {d['ppl']:10.4f}"
        print(line + (f" {d['bits_per_byte']:9.4f}" if byte_level else ""))
    gap = ev.golden_fakequant_gap(results)
    for method, g in gap.items():
        verdict = "within" if g <= GOLDEN_FAKEQUANT_BOUND else "EXCEEDS"
        print(
            f"golden vs fake-quant ({method}): {100 * g:.3f} % of perplexity, {verdict} the "
            f"{100 * GOLDEN_FAKEQUANT_BOUND:.0f} % bound"
        )
    if args.json:
        out = {
            "checkpoint": str(args.checkpoint),
            "text": str(args.text),
            "seq_len": args.seq_len,
            "windows": len(win),
            "sink": args.sink,
            "window": args.window,
            "group": args.group,
            "calibration_windows": 0 if calib is None else len(calib),
            "seconds": round(time.time() - t0, 1),
            "results": [r.as_dict(byte_level) for r in results],
            "golden_vs_fakequant": gap,
            "golden_vs_fakequant_bound": GOLDEN_FAKEQUANT_BOUND,
        }
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0
