"""C simulation of emitted HLS C++ with g++ and the Xilinx ap_types headers of the hls4ml wheel.

The headers are found with importlib (no import of hls4ml). They are passed with `-isystem` so
that `-Wall -Wextra -Werror` judges our code, not Xilinx's headers.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

# DESIGN.md §6 flags plus the warnings we promise to be free of. GCC 12 at -O2 reports
# (-Wmaybe-)uninitialized inside ap_private's default constructor, which calls
# clearUnusedBits() on its own not-yet-set VAL (Xilinx's header, ap_private.h:2109, whatever
# the caller does; -isystem does not hide warnings found after inlining): those two are
# switched off. Loop labels name loops for Vitis (pragmas, reports) and are never jumped to, so
# -Wunused-label is off too. Every other -Wall -Wextra warning is an error.
CXX_FLAGS = (
    "-std=c++17",
    "-O2",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wno-unknown-pragmas",
    "-Wno-maybe-uninitialized",
    "-Wno-uninitialized",
    "-Wno-unused-label",
)


class CSimError(RuntimeError):
    """g++ or the simulated program failed."""


def ap_types_dir() -> Path:
    """`<hls4ml>/templates/vivado/ap_types`, located without importing hls4ml."""
    spec = importlib.util.find_spec("hls4ml")
    if spec is None or not spec.submodule_search_locations:
        raise CSimError("the hls4ml wheel (for its ap_types headers) is not installed")
    for root in spec.submodule_search_locations:
        d = Path(root) / "templates" / "vivado" / "ap_types"
        if (d / "ap_int.h").is_file():
            return d
    raise CSimError("hls4ml is installed but ships no templates/vivado/ap_types/ap_int.h")


def compiler() -> str:
    cxx = shutil.which("g++")
    if cxx is None:
        raise CSimError("g++ not found on PATH")
    return cxx


def compile_cpp(sources: list[Path], exe: Path, include_dirs: list[Path] = ()) -> str:
    """Compile `sources` into `exe`; returns g++'s diagnostics (empty when warning-free).
    Raises CSimError with the diagnostics on failure."""
    cmd = [compiler(), *CXX_FLAGS, "-isystem", str(ap_types_dir())]
    cmd += [f"-I{d}" for d in include_dirs]
    cmd += [str(s) for s in sources] + ["-o", str(exe)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise CSimError(f"g++ failed:\n{' '.join(cmd)}\n{res.stderr}")
    return res.stderr


def run(
    exe: Path, stdin: str = "", cwd: Path | None = None, args: tuple = (), timeout: float = 600
) -> str:
    """Run a compiled simulation; returns its stdout, raises CSimError on a non-zero exit."""
    res = subprocess.run(
        [str(Path(exe).resolve()), *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )
    if res.returncode != 0:
        raise CSimError(f"{exe.name} exited with {res.returncode}:\n{res.stderr}")
    return res.stdout
