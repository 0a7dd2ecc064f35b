"""Resolution of `#smla.param<file, key>` references: tensors read from safetensors files.

Paths are relative to the IR file's directory unless absolute. Files are opened lazily and only
the named tensors are read (safetensors never executes code, unlike pickles). A float weight is
the tensor `key`; a quantized weight or tensor is one tensor per component, `key.<component>`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from xdsl.dialects.builtin import FileLineColLoc, ModuleOp

from accllm.interpreter.values import InterpretError


def ir_base_dir(module: ModuleOp) -> Path:
    """Directory of the IR file the module was parsed from (working directory if unknown)."""
    for op in module.walk():
        loc = op.location
        if isinstance(loc, FileLineColLoc):
            name = loc.filename.data
            if name and not name.startswith("<"):
                return Path(name).resolve().parent
    return Path.cwd()


class ParamStore:
    """Reads tensors of the safetensors files an IR refers to (one open handle per file)."""

    def __init__(self, base_dir: str | Path):
        self.base_dir = Path(base_dir)
        self._files: dict[Path, object] = {}

    def path_of(self, file: str) -> Path:
        p = Path(file)
        return p if p.is_absolute() else self.base_dir / p

    def _open(self, file: str):
        from safetensors import SafetensorError, safe_open

        path = self.path_of(file)
        if path not in self._files:
            if not path.is_file():
                raise InterpretError(f"parameter file '{path}' not found")
            try:
                self._files[path] = safe_open(str(path), framework="np")
            except (SafetensorError, OSError) as err:
                raise InterpretError(f"cannot read parameter file '{path}': {err}") from err
        return self._files[path]

    def has(self, file: str, key: str) -> bool:
        return key in self._open(file).keys()

    def get(self, file: str, key: str) -> np.ndarray:
        """Tensor `key` of `file`; a clear error naming both if it is absent."""
        handle = self._open(file)
        if key not in handle.keys():
            raise InterpretError(f"parameter '{key}' not found in '{self.path_of(file)}'")
        return handle.get_tensor(key)
