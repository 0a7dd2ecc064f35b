"""The passes and named pipelines accllm-opt knows.

Project passes are listed in `PROJECT_PASSES` (pass name -> module path and class name), imported
lazily.  Named pipelines (`NAMED_PIPELINES`) expand to a pass list, so that
`--pass-pipeline='builtin.module(accllm-compress)'` works the way a registered MLIR pipeline does.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from xdsl.passes import ModulePass
from xdsl.universe import Universe

# pass name -> (module, class)
PROJECT_PASSES: dict[str, tuple[str, str]] = {}

# pipeline name -> (description, pipeline in xDSL `-p` syntax)
NAMED_PIPELINES: dict[str, tuple[str, str]] = {}


def _loader(module: str, cls: str) -> Callable[[], type[ModulePass]]:
    return lambda: getattr(importlib.import_module(module), cls)


def all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Upstream xDSL passes plus the project's (the project's win on a name clash)."""
    passes = dict(Universe.get_multiverse().all_passes)
    for name, (module, cls) in PROJECT_PASSES.items():
        passes[name] = _loader(module, cls)
    return passes


def is_project_pass(name: str) -> bool:
    return name in PROJECT_PASSES
