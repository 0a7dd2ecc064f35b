"""`accllm run IR --entry NAME --inputs a.npy ... -o OUTDIR`: execute a function of an IR file.

Inputs are .npy files (one array) or .npz archives (a per-token `!smla.qtensor` as values+exp,
a `!lattn.kv_cache` as written by a previous run). Outputs go to OUTDIR/out<i>.npy, or
out<i>.npz for per-token tensors and KV caches; one line per output gives its shape and dtype.
"""

from __future__ import annotations

import argparse
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

from accllm.interpreter.runner import load_module, run_function
from accllm.interpreter.values import InterpretError
from accllm.ir.io import ToolError, location_of
from accllm.tools.errors import CommandError


def register(subparsers) -> None:
    """Add the `run` subcommand to the driver."""
    p = subparsers.add_parser(
        "run",
        help="interpret a function of an IR file on .npy inputs",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("ir", help="IR file (.mlir)")
    p.add_argument("--entry", required=True, help="name of the func.func to run")
    p.add_argument("--inputs", nargs="*", default=[], help="one .npy/.npz per function argument")
    p.add_argument("-o", "--output-dir", required=True, help="directory for out<i>.npy files")
    p.set_defaults(func=run_command)


def _load_input(path: str, index: int):
    p = Path(path)
    if not p.is_file():
        raise CommandError(f"input {index}: file '{path}' not found")
    try:
        # allow_pickle=False: an input file must never execute code.
        data = np.load(p, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile) as err:
        raise CommandError(f"input {index}: cannot read '{path}' as .npy/.npz: {err}") from err
    if isinstance(data, np.lib.npyio.NpzFile):
        with data:
            return {k: data[k] for k in data.files}
    return data


def _save(out_dir: Path, index: int, value) -> str:
    if isinstance(value, dict):
        path = out_dir / f"out{index}.npz"
        np.savez(path, **value)
        desc = ", ".join(f"{k}: {_shape(v)} {v.dtype}" for k, v in value.items())
        return f"{path}: {{{desc}}}"
    path = out_dir / f"out{index}.npy"
    np.save(path, value)
    return f"{path}: {_shape(value)} {value.dtype}"


def _shape(a) -> str:
    return "x".join(str(d) for d in np.shape(a)) or "scalar"


def _located(err: InterpretError, ir: str) -> str:
    if err.op is None:
        return err.message
    file, line, col = location_of(err.op, ir)
    return f"{file}:{line}:{col}: '{err.op.name}' op {err.message}"


def run_command(args: argparse.Namespace) -> int:
    """Entry point of `accllm run`."""
    try:
        module = load_module(args.ir)
    except ToolError as err:
        raise CommandError(str(err)) from err
    inputs = [_load_input(p, i) for i, p in enumerate(args.inputs)]
    start = time.perf_counter()
    try:
        outputs = run_function(module, args.entry, inputs, base_dir=Path(args.ir).resolve().parent)
    except InterpretError as err:
        raise CommandError(_located(err, args.ir)) from err
    elapsed = time.perf_counter() - start
    out_dir = Path(args.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for i, value in enumerate(outputs):
        print(_save(out_dir, i, value))
    sys.stderr.write(f"accllm run: {args.entry} interpreted in {elapsed:.3f} s\n")
    return 0
