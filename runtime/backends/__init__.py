"""The runtime's backends: one module per backend, each a class with the `Backend` interface.

A backend runs token ids at given positions through the model and returns the integer logits
of every token it ran (the numerics contract's integers, identical on every backend); it holds
the Λ KV cache between calls.  Sampling, positions, limits and timing are the session's
(`accllm.runtime.session`), shared by all backends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

BACKENDS = ("sim", "golden", "device")


@dataclass
class StepResult:
    logits: np.ndarray  # [tokens, vocab] int64, value = logit * 2^-logit_frac
    cycles: list[int] | None = None  # accelerator cycles per program run (sim), else None
    programs: list[str] | None = None  # the schedule of each program run (sim)


class Backend(Protocol):
    name: str
    vocab: int
    max_positions: int  # positions 0 .. max_positions-1 can be run
    clock_mhz: float | None  # the target's clock for cycles -> seconds (None: no cycles)

    def run(self, ids: np.ndarray, start: int) -> StepResult:
        """Run `ids` at positions start, start+1, ... continuing the KV cache."""
        ...

    def reset(self) -> None:
        """Forget the KV cache: the next run starts a new sequence at position 0."""
        ...

    def close(self) -> None: ...


def open_backend(name: str, build, log_file=None) -> Backend:
    """The backend `name` over the build directory `build` (a BuildDir)."""
    from accllm.runtime.errors import SessionError

    if name == "golden":
        from accllm.runtime.backends.golden import GoldenBackend

        return GoldenBackend(build)
    if name == "sim":
        from accllm.runtime.backends.sim import SimBackend

        return SimBackend(build, log_file=log_file)
    if name == "device":
        from accllm.runtime.backends.device import DeviceBackend

        return DeviceBackend(build)
    raise SessionError(f"unknown backend '{name}' (choose one of: {', '.join(BACKENDS)})")
