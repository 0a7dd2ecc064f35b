"""argparse types that check option values when they are parsed (one-line usage error, exit 2),
so that a bad option never surfaces after the model has loaded."""

from __future__ import annotations

import argparse
from pathlib import Path


def int_at_least(minimum: int, why: str = ""):
    """An int type accepting values >= `minimum`; the message says why when given."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not an integer") from None
        if value < minimum:
            reason = f" ({why})" if why else ""
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}{reason}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


def output_directory(text: str) -> str:
    """A directory to create or reuse: not an existing file."""
    if Path(text).exists() and not Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"'{text}' is an existing file, not a directory")
    return text
