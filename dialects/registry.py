"""The dialects every accllm tool knows: xDSL's upstream dialects plus the project's own.

A project dialect module adds itself to `PROJECT_DIALECTS` here (name -> the module path and the
attribute holding its `Dialect`), so that accllm-opt, accllm-translate and the driver register the
same set.  Modules are imported lazily: a tool only pays for what it parses.
"""

from __future__ import annotations

import importlib

from xdsl.context import Context
from xdsl.universe import Universe

# dialect name -> (module, attribute)
PROJECT_DIALECTS: dict[str, tuple[str, str]] = {
    "smla": ("accllm.dialects.smla", "SMLA"),
    "lattn": ("accllm.dialects.lattn", "LATTN"),
    "torch": ("accllm.dialects.torch", "Torch"),
    "accel": ("accllm.dialects.accel", "ACCEL"),
    "hls": ("accllm.dialects.hls", "HLS"),
}


def _loader(module: str, attr: str):
    return lambda: getattr(importlib.import_module(module), attr)


def register_all_dialects(ctx: Context) -> None:
    """Register upstream xDSL dialects and the project's dialects into `ctx`."""
    for name, factory in Universe.get_multiverse().all_dialects.items():
        if name not in PROJECT_DIALECTS:
            ctx.register_dialect(name, factory)
    for name, (module, attr) in PROJECT_DIALECTS.items():
        ctx.register_dialect(name, _loader(module, attr))
