"""Errors of the order books: a file that cannot be replayed, a record a book refuses."""

from __future__ import annotations

from workbench.errors import DataError, TruncatedDataError, UnreadableFileError


class BookFileError(UnreadableFileError):
    """A DBN file that cannot be replayed: missing, not DBN, or corrupt.

    Parameters
    ----------
    path : str
        The file.
    message, hint, exit_code
        As for :class:`workbench.errors.WorkbenchError`.
    """


class TruncatedBookFileError(BookFileError, TruncatedDataError):
    """A DBN file that ends in the middle of a record or of a zstd frame."""


class RecordRefusedError(DataError, ValueError):
    """A record the book refused; the book's orders are unchanged (its clock has advanced).

    Parameters
    ----------
    message : str
        What was refused and why.
    reason : str
        The refusal as a name: ``unknown_action``, ``invalid_side``, ``duplicate_order``,
        ``unknown_order`` (a cancel of an id the book never saw: a feed that started
        mid-session), ``side_changed``, ``zero_size``, ``undefined_price``, ``wrong_record``
        or ``invariant``.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
