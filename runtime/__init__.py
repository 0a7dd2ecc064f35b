"""accllm's host runtime: run a compiled model from its build directory.

    import accllm.runtime as rt
    with rt.open("build/default", backend="golden") as s:
        tokens = s.generate(prompt_ids, 32, rt.Sampling(temperature=0.7, top_p=0.9, seed=1))

Backends (`accllm.runtime.backends`): `sim` (the emitted accelerator under Verilator), `golden`
(the integer golden model: the same integers, so the same tokens for the same seed) and `device`
(XRT; not runnable here).  docs/tools.md ("The runtime") describes the decisions.
"""

from __future__ import annotations

from pathlib import Path

from accllm.runtime.build_dir import BuildDir
from accllm.runtime.errors import SessionError
from accllm.runtime.sampling import Sampling
from accllm.runtime.session import Session, Stats

__all__ = ["BuildDir", "Sampling", "Session", "SessionError", "Stats", "open"]


def open(  # noqa: A001 - the runtime's entry point, as in `accllm.runtime.open(...)`
    build_dir: str | Path,
    backend: str = "golden",
    sampling: Sampling | None = None,
    log_file: str | Path | None = None,
) -> Session:
    """A session over the build directory of `accllm compile -o BUILD_DIR` on `backend`
    ('sim', 'golden' or 'device'); `log_file` takes the simulator's output (sim; default
    BUILD_DIR/runtime-sim.log)."""
    from accllm.runtime.backends import BACKENDS, open_backend

    if backend not in BACKENDS:
        raise SessionError(f"unknown backend '{backend}' (choose one of: {', '.join(BACKENDS)})")
    build = BuildDir.open(build_dir)
    return Session(build, open_backend(backend, build, log_file=log_file), sampling)
