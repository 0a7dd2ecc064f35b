"""The errors of the runtime a user can cause or fix (printed by `accllm generate` as one line)."""


class SessionError(Exception):
    """Bad input or an unusable build directory / backend: the message says what and how to fix
    it.  `exit_code` is 1 for bad input, 2 for something not implemented yet."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code
