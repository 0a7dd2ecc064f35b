"""Located errors raised by passes and conversions.

A pass that cannot handle an op raises `OpError(op, message)`; the tools print it as
`file:line:col: error: message` using the op's source location, which the parser records for every
op (see `accllm.ir.io`).  Nothing is skipped silently.
"""

from __future__ import annotations

from xdsl.ir import Operation
from xdsl.utils.exceptions import PassFailedException


class OpError(PassFailedException):
    """A diagnostic attached to one operation."""

    def __init__(self, op: Operation, message: str):
        super().__init__(message)
        self.op = op
        self.message = message


def error_at(op: Operation, message: str) -> OpError:
    """Build the error for `op` (use as `raise error_at(op, "...")`)."""
    return OpError(op, message)
