"""Outputs that appear whole or not at all.

Every file a tool writes goes to a temporary name in the same directory and is renamed over the
target on success (`os.replace` is atomic within one file system), so a failing or interrupted
run never leaves an empty or half-written file that the next tool would misread.  Files written
beside an output (Verilog sources, memory images, testbenches) are written into a staging
directory and moved into place only when the whole emission succeeded.  Output paths are checked
before any work: a missing parent directory or an output that names a directory is a one-line
error, not a traceback after minutes of work.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path


class OutputPathError(Exception):
    """An output path that cannot be written (one line, names the path)."""


def check_output_file(path: str | Path, what: str = "output file") -> Path:
    """Refuse an output file whose parent directory is missing or that names a directory."""
    p = Path(path)
    if p.is_dir():
        raise OutputPathError(f"{p}: {what} names a directory")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise OutputPathError(f"{p}: the directory {parent} of the {what} does not exist")
    if not os.access(parent, os.W_OK):
        raise OutputPathError(f"{p}: the directory {parent} of the {what} is not writable")
    return p


def check_output_dir(path: str | Path, what: str = "output directory") -> Path:
    """Refuse an output directory that is an existing file or whose parent is missing."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise OutputPathError(f"{p}: {what} names an existing file, not a directory")
    parent = p.parent if str(p.parent) else Path(".")
    if not p.exists() and not parent.is_dir():
        raise OutputPathError(f"{p}: the parent directory {parent} of the {what} does not exist")
    return p


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`."""
    p = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent or ".")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 is for the temporary only
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class StagedDir:
    """A fresh directory beside `target` whose files move into `target` on `commit()`.

    Leaving the `with` block without committing (an error, a failed emission) removes the
    staging directory and everything in it; `target` is then left as it was (and is created
    only by a commit).  Only the plain files at the top of the staging directory are moved:
    emitters write flat directories.
    """

    def __init__(self, target: str | Path):
        self.target = Path(target)
        parent = self.target.parent if str(self.target.parent) else Path(".")
        self.path = Path(
            tempfile.mkdtemp(prefix=f".{self.target.name}.", suffix=".staging", dir=parent)
        )

    def commit(self) -> None:
        self.target.mkdir(exist_ok=True)
        for f in sorted(self.path.iterdir()):
            os.replace(f, self.target / f.name)
        self.discard()

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> StagedDir:
        return self

    def __exit__(self, *exc) -> None:
        self.discard()
