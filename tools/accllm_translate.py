"""accllm-translate: from accllm IR to files outside MLIR (Verilog, HLS C++, reports).

accllm-translate --emit-verilog in.mlir -o out_dir
"""

from __future__ import annotations

import argparse
import importlib
import sys
from contextlib import ExitStack
from pathlib import Path

from xdsl.dialects.builtin import ModuleOp

from accllm import __version__
from accllm.backend.translate_targets import TARGETS
from accllm.ir.io import Chunk, ToolError, run_guarded
from accllm.tools.accllm_opt import (
    add_input_arguments,
    process_chunks,
    report,
    write_output,
)
from accllm.tools.atomic_io import OutputPathError, StagedDir, check_output_dir

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


def check_output_paths(args: argparse.Namespace) -> None:
    """Before any work: `-o FILE` is not a directory and its directory exists or can be made
    (emitters write beside it: `-o DIR/top.sv` creates DIR); a testbench directory likewise."""
    if args.output != "-":
        out = Path(args.output)
        if out.is_dir():
            raise OutputPathError(f"{out}: output file names a directory")
        check_output_dir(out.parent, "directory of the output file")
    if args.hls_testbench_dir is not None:
        check_output_dir(args.hls_testbench_dir, "--hls-testbench-dir")


def main(argv: list[str] | None = None) -> int:
    args = build_arg_parser().parse_args(argv)
    target = TARGETS[args.target]
    if target.entry is None:
        sys.stderr.write(
            f"accllm-translate: error: --{target.flag} is not implemented yet ({target.issue})\n"
        )
        return NOT_IMPLEMENTED
    try:
        check_output_paths(args)
    except OutputPathError as err:
        sys.stderr.write(f"accllm-translate: error: {err}\n")
        return 1
    module_name, func_name = target.entry.split(":")
    emit = getattr(importlib.import_module(module_name), func_name)

    with ExitStack() as stack:
        # Emitters write files beside their output (Verilog sources, images, testbenches): they
        # write into staging directories that move into place only if every chunk succeeded.
        emit_args = argparse.Namespace(**vars(args))
        out_stage = tb_stage = None
        if args.output != "-":
            out = Path(args.output)
            out_stage = stack.enter_context(StagedDir(out.parent if str(out.parent) else "."))
            emit_args.output = str(out_stage.path / out.name)
        if args.hls_testbench_dir is not None:
            tb_stage = stack.enter_context(StagedDir(args.hls_testbench_dir))
            emit_args.hls_testbench_dir = str(tb_stage.path)

        def transform(module: ModuleOp, chunk: Chunk) -> str:
            result: list[str] = []
            run_guarded(chunk, lambda: result.append(emit(module, emit_args)))
            return result[0]

        try:
            code, outputs = process_chunks(args, transform)
        except ToolError as err:  # the input could not be read
            return report(err.diagnostics)
        if code != 0:
            if out_stage is None:
                write_output("-", outputs, args.split_input_file)
            return code
        write_output(emit_args.output, outputs, args.split_input_file)
        for stage in (out_stage, tb_stage):
            if stage is not None:
                stage.commit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
