"""Where accllm keeps build caches and logs: never inside the source tree.

`cache_dir()` is `$ACCLLM_CACHE_DIR`, else `$XDG_CACHE_HOME/accllm`, else `~/.cache/accllm`.
Verilator builds (`rtl_lib/sim.py`, content-hashed, so one build serves every checkout and
session with the same sources) and lit's test outputs (`test/lit.cfg.py`) live under it.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """The user cache directory of accllm (not created here)."""
    env = os.environ.get("ACCLLM_CACHE_DIR")
    if env:
        return Path(env).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return (base / "accllm").resolve()
