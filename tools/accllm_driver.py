"""accllm: the driver that compiles a model end to end.

    accllm compile [MODEL] -o DIR [--target sim|u280] [--simulate] [--stop-after STAGE]
    accllm compile CONFIG --config-only -o DIR     # hardware from shapes alone
    accllm pack-weights CHECKPOINT --layout DIR/hbm_layout.json -o DIR/hbm/

MODEL is a checkpoint directory (config.json + safetensors) or omitted for the built-in default
model.  The flow is a fixed list of stages (`accllm.tools.compile_flow.STAGES`); a stage whose
implementation has not landed yet stops the flow with a clear error (exit 2) unless
`--stop-after` ends the flow before it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback

from accllm import __version__
from accllm.tools.cli_types import int_at_least, output_directory
from accllm.tools.compile_flow import STAGES, run_flow
from accllm.tools.errors import CommandError

NOT_IMPLEMENTED = 2

# Modules that add a subcommand: each has `register(subparsers)`, which adds its parser and sets
# `func=<callable(args) -> int>` as the parser default.
SUBCOMMAND_MODULES: list[str] = [
    "accllm.tools.import_command",
    "accllm.tools.run_command",
    "accllm.tools.eval_command",
    "accllm.tools.generate_command",
    "accllm.tools.pack_weights_command",
]


def build_arg_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="accllm", description="accllm compiler driver")
    parser.add_argument("--version", action="version", version=f"accllm {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    comp = sub.add_parser(
        "compile",
        help="compile a model into an accelerator",
        description="Run the compile flow: " + " -> ".join(s.name for s in STAGES),
    )
    comp.add_argument(
        "model",
        nargs="?",
        default=None,
        help="checkpoint directory (config.json + *.safetensors), or with --config-only a "
        "config.json (or its directory); default: built-in tiny Llama",
    )
    comp.add_argument(
        "--config-only",
        action="store_true",
        help="build the hardware from the config's shapes alone (no weights read; the HBM "
        "layout goes to DIR/hbm_layout.json, `accllm pack-weights` fills it)",
    )
    comp.add_argument(
        "-o",
        "--output-dir",
        required=True,
        type=output_directory,
        help="directory for all artefacts (replaced whole on success, removed on failure)",
    )
    comp.add_argument("--target", choices=["sim", "u280"], default="sim")
    comp.add_argument("--simulate", action="store_true", help="simulate the emitted accelerator")
    comp.add_argument(
        "--stop-after",
        choices=[s.name for s in STAGES],
        default=None,
        help="end the flow after this stage",
    )
    comp.add_argument(
        "--prompt-len",
        type=int_at_least(2, "RoPE's theta is read off 2 positions"),
        default=8,
        help="prompt tokens of the check run (the default demo prompt; the design prefills any "
        "length in --chunk chunks)",
    )
    comp.add_argument(
        "--chunk",
        type=_chunk_tokens,
        default=8,
        help="tokens per prefill chunk program (>= 2): the design prefills a prompt of any "
        "length as chunks, then single-token steps",
    )
    comp.add_argument(
        "--decode-steps", type=int_at_least(0), default=24, help="decoded tokens for the check"
    )
    comp.add_argument(
        "--sink",
        type=int_at_least(0),
        default=None,
        help="Λ attention: sink tokens S (default 4; 0 for a model with a sliding_window)",
    )
    comp.add_argument(
        "--window",
        type=int_at_least(1, "the window holds at least the current token"),
        default=None,
        help="Λ attention: recent window W (default: the model's sliding_window, else 1020)",
    )
    comp.set_defaults(func=run_flow)
    for module in SUBCOMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return parser


def _chunk_tokens(text: str) -> int:
    """--chunk: an integer >= 2 (a one-token chunk is the decode program)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 2:
        raise argparse.ArgumentTypeError(f"must be >= 2, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = build_arg_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 1
    try:
        return args.func(args)
    except CommandError as err:
        sys.stderr.write(f"accllm: error: {err}\n")
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # a bug; never show a bare traceback to users
        if os.environ.get("ACCLLM_DEBUG"):
            traceback.print_exc()
        sys.stderr.write(f"accllm: internal error: {type(err).__name__}: {err}\n")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
