"""User-facing errors.

A :class:`WorkbenchError` is a mistake the user can fix (bad input, missing key, wrong
path). The CLI prints it as one clear message with a hint and exits non-zero, without a
traceback. Bugs stay ordinary exceptions.
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """A problem the user can fix: says what went wrong, where, and what to do.

    Parameters
    ----------
    message : str
        What went wrong and where (a path, a parameter, a date).
    hint : str, optional
        What to do about it.
    exit_code : int, default 2
        The CLI's exit status for this error.
    """

    def __init__(self, message: str, hint: str | None = None, exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"

    def _render_traceback_(self) -> list[str]:
        """What IPython (a notebook cell) shows instead of a traceback: the message and the
        hint, as the CLI prints them (``%debug`` still reaches the stack)."""
        return [f"{type(self).__name__}: {self}"]


class DataError(WorkbenchError):
    """Missing, corrupt or inconsistent market data."""


class TruncatedDataError(DataError):
    """A DBN file or stream that ends in the middle of a record (worth downloading again)."""


class ConfigError(WorkbenchError):
    """An invalid parameter or configuration value."""


class DownloadError(WorkbenchError):
    """A Databento request that cannot be completed (key, cost, server)."""


class UnreadableFileError(DataError):
    """A catalog file that cannot be read: corrupt, truncated, or not the schema its name says.

    Parameters
    ----------
    path : str
        The file.
    message, hint, exit_code
        As for :class:`WorkbenchError`.
    """

    def __init__(
        self, path: str, message: str, hint: str | None = None, exit_code: int = 2
    ) -> None:
        super().__init__(message, hint, exit_code)
        self.path = path


class DataWarning(UserWarning):
    """Data that was left out or is too thin for what was asked (the CLI prints it as a line)."""
