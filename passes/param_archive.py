"""Parameters of the compression passes: where `#smla.param` files are, and writing new ones.

Relative `#smla.param` file names are relative to the IR file's directory (dialect rule).  A
pass only sees the module, so the directory is taken from the ops' source locations, which
accllm's parser records (`ir/io.LocatingParser`; `interpreter.params.ir_base_dir`, shared with
the simulator's HBM images); IR without a file location (standard input, IR built in Python)
resolves against the working directory.

Weights are read one tensor at a time (`accllm.interpreter.params.ParamStore`, safetensors'
lazy `safe_open`) and results are streamed out by `ArchiveWriter`, so a pass holds one layer's
weights in memory, never the model.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation

from accllm.dialects.quant_types import ParamAttr
from accllm.interpreter.params import ParamStore, ir_base_dir
from accllm.interpreter.values import InterpretError
from accllm.ir.diagnostics import error_at

# numpy dtype -> safetensors dtype name
_ST_DTYPES = {
    np.dtype(np.float64): "F64",
    np.dtype(np.float32): "F32",
    np.dtype(np.float16): "F16",
    np.dtype(np.int64): "I64",
    np.dtype(np.int32): "I32",
    np.dtype(np.int16): "I16",
    np.dtype(np.int8): "I8",
    np.dtype(np.uint8): "U8",
    np.dtype(np.uint16): "U16",
    np.dtype(np.uint32): "U32",
}


class ParamReader:
    """Reads the float tensors that `smla.weight` ops refer to, one at a time."""

    def __init__(self, module: ModuleOp):
        self.base_dir = ir_base_dir(module)
        self._store = ParamStore(self.base_dir)

    def path_of(self, ref: ParamAttr) -> Path:
        return self._store.path_of(ref.file.data)

    def get(self, op: Operation, ref: ParamAttr) -> np.ndarray:
        """Tensor `ref.key` of `ref.file`; a located error at `op` if it cannot be read."""
        try:
            return self._store.get(ref.file.data, ref.key.data)
        except InterpretError as err:
            raise error_at(op, err.message) from err


class ArchiveWriter:
    """Writes a safetensors file tensor by tensor without holding them in memory.

    The data section is streamed to a temporary file beside the target while tensors arrive;
    `close()` writes the header (which needs every tensor's offset) and appends the data.
    """

    # Every archive closed in this process: a tool whose pipeline fails later removes the ones
    # it wrote (no `*.pruned.safetensors` left behind by a failed run).
    written: list[Path] = []

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name, suffix=".data", dir=self.path.parent)
        self._tmp = Path(tmp)
        self._data = os.fdopen(fd, "wb")
        self._header: dict[str, dict] = {}
        self._offset = 0

    def add(self, name: str, array: np.ndarray) -> None:
        if name in self._header:
            raise ValueError(f"tensor '{name}' written twice to {self.path}")
        a = np.ascontiguousarray(array)
        dtype = _ST_DTYPES.get(a.dtype.newbyteorder("<") if a.dtype.byteorder == ">" else a.dtype)
        if dtype is None:
            raise ValueError(f"tensor '{name}': dtype {a.dtype} has no safetensors name")
        raw = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        self._data.write(raw)
        self._header[name] = {
            "dtype": dtype,
            "shape": list(a.shape),
            "data_offsets": [self._offset, self._offset + len(raw)],
        }
        self._offset += len(raw)

    def has(self, name: str) -> bool:
        return name in self._header

    def close(self) -> None:
        """Write the file (header + data) and remove the temporary data file."""
        self._data.close()
        header = json.dumps(self._header, separators=(",", ":")).encode()
        header += b" " * (-len(header) % 8)  # safetensors aligns the data section to 8 bytes
        try:
            with open(self.path, "wb") as out, open(self._tmp, "rb") as data:
                out.write(len(header).to_bytes(8, "little"))
                out.write(header)
                shutil.copyfileobj(data, out, 1 << 24)
            ArchiveWriter.written.append(self.path)
        finally:
            self._tmp.unlink(missing_ok=True)

    def abort(self) -> None:
        """Drop everything written (the pass failed)."""
        self._data.close()
        self._tmp.unlink(missing_ok=True)


def default_archive(source_file: str, suffix: str) -> str:
    """Name of the archive a pass writes next to its first source file: `<stem>.<suffix>`."""
    src = Path(source_file)
    return str(src.with_name(f"{src.name.removesuffix('.safetensors')}.{suffix}.safetensors"))
