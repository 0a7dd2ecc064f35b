"""Progress bars of long steps (simulation of many programs, HBM image packing, generation).

A thin layer over tqdm (pinned in pyproject's `frontend` extra): bars go to standard error and
only when it is a terminal (`disable=None`), so logs, pipes and tests see none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def progress_bar(total: int, desc: str, unit: str = "it") -> Iterator[Callable[[int], None]]:
    """A bar of `total` steps; yields `set_done(n)`, safe to call from another thread."""
    from tqdm import tqdm

    with tqdm(total=total, desc=desc, unit=unit, disable=None, leave=False) as bar:

        def set_done(n: int) -> None:
            bar.update(max(0, min(n, total) - bar.n))

        yield set_done
