"""`accllm-translate --emit-verilog`: the printed Verilog plus what it needs beside it.

The tool writes the returned text (every `hw.module` printed from the IR) to `-o FILE` or
standard output.  With `-o DIR/top.sv`, this also writes into `DIR`:

- the rtl_lib sources of every `hw.module.extern` that names a registered primitive
  (`accllm.rtl_lib.primitives`: the extern's `verilogName`, else its symbol, is the primitive's
  top module), copied unchanged;
- memory images: a top-level `accel.mem_images` dictionary attribute of the IR module maps file
  names to `$readmemh` text (written by `accel-to-hw`);
- `filelist.f`: the rtl_lib sources in dependency order, then the printed file, one per line
  (relative to DIR), as `verilator -f` and `yosys read_verilog -sv` take them.

An extern that is not a registered primitive is an error naming it: its Verilog would be missing.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from xdsl.dialects import hw
from xdsl.dialects.builtin import DictionaryAttr, ModuleOp, StringAttr

from accllm.backend.verilog.printer import print_verilog
from accllm.ir.diagnostics import error_at
from accllm.rtl_lib.primitives import PRIMITIVES, Primitive

MEM_IMAGES_ATTR = "accel.mem_images"
FILELIST = "filelist.f"


def extern_primitives(module: ModuleOp) -> list[Primitive]:
    """The rtl_lib primitives the netlist instantiates through its hw.module.extern ops."""
    by_top = {p.top: p for p in PRIMITIVES.values()}
    out: list[Primitive] = []
    for op in module.ops:
        if not isinstance(op, hw.HWModuleExternOp):
            continue
        name = op.verilog_name.data if op.verilog_name is not None else op.sym_name.data
        if name not in by_top:
            raise error_at(
                op,
                f"external module '{name}' is not an rtl_lib primitive (known: "
                f"{', '.join(sorted(by_top))}); its Verilog source would be missing",
            )
        out.append(by_top[name])
    return out


def memory_images(module: ModuleOp) -> dict[str, str]:
    """File name -> $readmemh text from the module's `accel.mem_images` attribute."""
    attr = module.attributes.get(MEM_IMAGES_ATTR)
    if attr is None:
        return {}
    if not isinstance(attr, DictionaryAttr) or not all(
        isinstance(v, StringAttr) for v in attr.data.values()
    ):
        raise error_at(module, f"'{MEM_IMAGES_ATTR}' must map file names to strings")
    return {k: v.data for k, v in attr.data.items()}


def write_beside(module: ModuleOp, out_file: Path) -> list[str]:
    """Copy the rtl_lib sources, write the memory images and the file list next to `out_file`.

    Returns the file list (paths relative to the output directory).
    """
    out_dir = out_file.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    files: list[str] = []
    for prim in extern_primitives(module):
        for src in prim.source_paths():
            if src.name not in files:
                shutil.copyfile(src, out_dir / src.name)
                files.append(src.name)
    for name, text in memory_images(module).items():
        if Path(name).name != name:
            raise error_at(module, f"memory image name '{name}' must be a plain file name")
        (out_dir / name).write_text(text)
    files.append(out_file.name)
    (out_dir / FILELIST).write_text("".join(f"{f}\n" for f in files))
    return files


def emit_verilog(module: ModuleOp, options: argparse.Namespace) -> str:
    """Entry point of the `emit-verilog` target (see `accllm.backend.translate_targets`)."""
    text = print_verilog(module)
    extern_primitives(module)  # an unknown extern is an error even when printing to stdout
    output = getattr(options, "output", "-")
    if output not in (None, "-"):
        write_beside(module, Path(output))
    return text
