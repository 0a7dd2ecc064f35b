"""The error the frontend raises for user-facing failures (bad model, unsupported construct)."""


class FrontendError(Exception):
    """An import failure, reported to users without a traceback."""
