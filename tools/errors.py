"""The error a driver subcommand raises for a user-facing failure (printed without a traceback)."""


class CommandError(Exception):
    """`accllm: error: <message>` and the given exit code (1: bad input, 2: not implemented)."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code
