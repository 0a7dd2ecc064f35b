"""accllm-translate: from accllm IR to files outside MLIR (Verilog, HLS C++, reports).

accllm-translate --emit-verilog in.mlir -o out_dir
"""

from __future__ import annotations

import argparse
import importlib
import sys

from xdsl.dialects.builtin import ModuleOp

from accllm import __version__
from accllm.backend.translate_targets import TARGETS
from accllm.tools.accllm_opt import add_input_arguments, process_chunks, write_output
from accllm.tools.ir_io import Chunk, run_guarded

NOT_IMPLEMENTED = 2


def build_arg_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="accllm-translate", description="Translate accllm IR into a target format."
    )
    add_input_arguments(parser)
    group = parser.add_mutually_exclusive_group(required=True)
    for flag, target in TARGETS.items():
        status = "" if target.entry else " [not implemented yet]"
        group.add_argument(
            f"--{flag}",
            dest="target",
            action="store_const",
            const=flag,
            help=target.description + status,
        )
    parser.add_argument(
        "--hls-testbench-dir",
        metavar="DIR",
        help="--emit-hls: also write the C testbench, weight image and Vitis tcl script in DIR",
    )
    parser.add_argument("--version", action="version", version=f"accllm-translate {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_arg_parser().parse_args(argv)
    target = TARGETS[args.target]
    if target.entry is None:
        sys.stderr.write(
            f"accllm-translate: error: --{target.flag} is not implemented yet ({target.issue})\n"
        )
        return NOT_IMPLEMENTED
    module_name, func_name = target.entry.split(":")
    emit = getattr(importlib.import_module(module_name), func_name)

    def transform(module: ModuleOp, chunk: Chunk) -> str:
        result: list[str] = []
        run_guarded(chunk, lambda: result.append(emit(module, args)))
        return result[0]

    code, outputs = process_chunks(args, transform)
    write_output(args.output, outputs, args.split_input_file)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
