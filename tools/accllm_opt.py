"""accllm-opt: the optimizer driver (mlir-opt / xdsl-opt style) with every accllm dialect and pass.

accllm-opt --pass-pipeline='builtin.module(pass-a{opt=1},pass-b)' in.mlir -o out.mlir
accllm-opt -p pass-a,pass-b in.mlir
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import traceback
from io import StringIO

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass, PassPipeline
from xdsl.printer import Printer
from xdsl.utils.exceptions import ArgSpecParseError

from accllm import __version__
from accllm.dialects.registry import register_all_dialects
from accllm.ir.io import (
    Chunk,
    Diagnostic,
    ToolError,
    check_expected,
    iter_chunks,
    parse_chunk,
    run_guarded,
    verify_module,
)
from accllm.passes.param_archive import ArchiveWriter
from accllm.passes.registry import NAMED_PIPELINES, PROJECT_PASSES, all_passes
from accllm.tools.atomic_io import OutputPathError, atomic_write_text, check_output_file
from accllm.tools.pipeline_syntax import PipelineSyntaxError, expand_xdsl, mlir_to_xdsl


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """Input handling shared by accllm-opt and accllm-translate."""
    parser.add_argument(
        "input_file", nargs="?", help="input .mlir file (standard input if omitted)"
    )
    parser.add_argument(
        "-o", "--output", default="-", help="output file (default: standard output)"
    )
    parser.add_argument(
        "--split-input-file",
        action="store_true",
        help="process each '// -----' separated chunk of the input on its own",
    )
    parser.add_argument(
        "--verify-diagnostics",
        action="store_true",
        help="check the diagnostics against '// expected-error {{...}}' annotations",
    )
    parser.add_argument(
        "--allow-unregistered-dialect",
        action="store_true",
        help="accept ops of dialects accllm does not know (kept opaque)",
    )
    parser.add_argument(
        "--print-op-generic", action="store_true", help="print ops in the generic form"
    )
    parser.add_argument(
        "--mlir-print-debuginfo", action="store_true", help="print op locations (loc(...))"
    )


def pass_options(cls: type[ModulePass]) -> list[str]:
    """`name: type = default` for each option (dataclass field) of a pass."""
    out = []
    for f in dataclasses.fields(cls):
        default = ""
        if f.default is not dataclasses.MISSING:
            default = f" = {f.default!r}"
        typ = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        out.append(f"{f.name}: {typ}{default}")
    return out


def pass_catalogue() -> str:
    """The help text listing passes (project passes with options first) and named pipelines."""
    lines = ["accllm passes:"]
    passes = all_passes()
    for name in sorted(PROJECT_PASSES):
        cls = passes[name]()
        doc = (cls.__doc__ or "").strip().split("\n")[0]
        lines.append(f"  {name}    {doc}")
        for opt in pass_options(cls):
            lines.append(f"      {{{opt}}}")
    if not PROJECT_PASSES:
        lines.append("  (none registered yet)")
    lines.append("named pipelines:")
    for name, (desc, spec) in sorted(NAMED_PIPELINES.items()):
        lines.append(f"  {name}    {desc}\n      = {spec}")
    if not NAMED_PIPELINES:
        lines.append("  (none registered yet)")
    lines.append("upstream xDSL passes (options: see xDSL's documentation):")
    upstream = sorted(n for n in passes if n not in PROJECT_PASSES)
    row = "  "
    for n in upstream:
        if len(row) + len(n) > 98:
            lines.append(row.rstrip())
            row = "  "
        row += n + " "
    lines.append(row.rstrip())
    return "\n".join(lines)


class _HelpWithPasses(argparse.Action):
    def __init__(
        self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None
    ):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        parser.print_help()
        print()
        print(pass_catalogue())
        parser.exit()


def build_arg_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="accllm-opt",
        description="accllm optimizer driver: parse, verify, run passes, print.",
        add_help=False,
    )
    parser.add_argument(
        "-h", "--help", action=_HelpWithPasses, help="show this help and the passes"
    )
    add_input_arguments(parser)
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--pass-pipeline",
        metavar="PIPELINE",
        help="MLIR pipeline syntax, e.g. 'builtin.module(canonicalize,cse)'",
    )
    group.add_argument(
        "-p", "--passes", metavar="PASSES", help="xDSL syntax, e.g. 'canonicalize,cse'"
    )
    parser.add_argument(
        "--mlir-print-ir-after-all",
        action="store_true",
        help="print the IR after every pass to standard error",
    )
    parser.add_argument("--version", action="version", version=f"accllm-opt {__version__}")
    return parser


def build_pipeline(args: argparse.Namespace, stderr) -> tuple[PassPipeline | None, list]:
    """Turn --pass-pipeline / -p into an xDSL PassPipeline; raise ToolError on a bad spec."""
    try:
        if args.pass_pipeline is not None:
            spec = mlir_to_xdsl(args.pass_pipeline)
        else:
            spec = expand_xdsl(args.passes or "")
    except PipelineSyntaxError as err:
        raise ToolError([Diagnostic("<pass-pipeline>", 1, err.column, str(err))]) from err
    dumps: list = []

    def callback(prev: ModulePass | None, module: ModuleOp, _next: ModulePass | None) -> None:
        if prev is None:
            return
        verify_module(module, dumps[0])  # a pass must leave valid IR
        if args.mlir_print_ir_after_all:
            stderr.write(f"// -----// IR Dump After {prev.name} //----- //\n")
            Printer(stream=stderr, print_generic_format=args.print_op_generic).print_op(module)
            stderr.write("\n\n")

    try:
        pipeline = PassPipeline.parse_spec(all_passes(), spec, callback)
    except (ValueError, ArgSpecParseError, TypeError) as err:
        msg = str(err).strip().replace("\n", " ")
        raise ToolError([Diagnostic("<pass-pipeline>", 1, 1, f"invalid pipeline: {msg}")]) from err
    return pipeline, dumps


def print_module(module: ModuleOp, args: argparse.Namespace) -> str:
    out = StringIO()
    printer = Printer(
        stream=out,
        print_generic_format=args.print_op_generic,
        print_debuginfo=args.mlir_print_debuginfo,
    )
    printer.print_op(module)
    out.write("\n")
    return out.getvalue()


def process_chunks(args: argparse.Namespace, transform, stderr=None) -> tuple[int, list[str]]:
    """Parse/verify each chunk, apply `transform(module, chunk) -> str`, collect outputs.

    Returns (exit code, outputs).  With --verify-diagnostics, errors are matched against the
    chunk's annotations instead of being printed.
    """
    stderr = stderr or sys.stderr  # looked up per call, so pytest's capture sees it
    ctx = Context(allow_unregistered=args.allow_unregistered_dialect)
    register_all_dialects(ctx)
    failed = False
    outputs: list[str] = []
    for chunk in iter_chunks(args.input_file, args.split_input_file):
        produced: list[Diagnostic] = []
        try:
            module = parse_chunk(ctx, chunk)
            verify_module(module, chunk)
            outputs.append(transform(module, chunk))
        except ToolError as err:
            produced = err.diagnostics
        except Exception as err:  # a bug: report it as an error, never a traceback
            if os.environ.get("ACCLLM_DEBUG"):
                traceback.print_exc()
            produced = [
                Diagnostic(
                    chunk.name,
                    1 + chunk.line_offset,
                    1,
                    f"internal error: {type(err).__name__}: {' '.join(str(err).split())}",
                )
            ]
        if args.verify_diagnostics:
            problems = check_expected(chunk, produced)
            for p in problems:
                stderr.write(p + "\n")
            failed |= bool(problems)
        elif produced:
            for d in produced:
                stderr.write(str(d) + "\n")
            failed = True
    return (1 if failed else 0), outputs


def write_output(path: str, outputs: list[str], split: bool) -> None:
    """Standard output, or the file written whole (temporary name, renamed: no partial file)."""
    text = "// -----\n".join(outputs) if split else "".join(outputs)
    if path == "-":
        sys.stdout.write(text)
    else:
        atomic_write_text(path, text)


def check_output_option(prog: str, path: str) -> bool:
    """Check `-o` before any work; print a one-line error and return False if unusable."""
    if path == "-":
        return True
    try:
        check_output_file(path)
    except OutputPathError as err:
        sys.stderr.write(f"{prog}: error: {err}\n")
        return False
    return True


def report(diagnostics: list[Diagnostic]) -> int:
    for d in diagnostics:
        sys.stderr.write(str(d) + "\n")
    return 1


def main(argv: list[str] | None = None) -> int:
    args = build_arg_parser().parse_args(argv)
    if not check_output_option("accllm-opt", args.output):
        return 1
    try:
        pipeline, holder = build_pipeline(args, sys.stderr)
    except ToolError as err:
        return report(err.diagnostics)

    def transform(module: ModuleOp, chunk: Chunk) -> str:
        holder[:] = [chunk]
        ctx = Context(allow_unregistered=args.allow_unregistered_dialect)
        register_all_dialects(ctx)
        run_guarded(chunk, lambda: pipeline.apply(ctx, module))
        return print_module(module, args)

    archives = len(ArchiveWriter.written)
    try:
        code, outputs = process_chunks(args, transform)
    except ToolError as err:  # the input could not be read
        return report(err.diagnostics)
    if code != 0:
        # A failed pipeline leaves nothing behind: no output file, no archive a pass wrote.
        for path in ArchiveWriter.written[archives:]:
            path.unlink(missing_ok=True)
        if args.output == "-":
            write_output(args.output, outputs, args.split_input_file)
        return code
    write_output(args.output, outputs, args.split_input_file)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
