"""``OrderBook``: the native L3 book of one instrument, fed one MBO record at a time.

Prices are DBN fixed point integers (1 unit = 1e-9 dollars; MCL's $0.01 tick is
10_000_000) in and out; :attr:`BookLevel.px` gives dollars. The semantics (actions, priority,
the mid-session policy) are those of ``native/src/book`` (see its module docs):

- ``A`` add joins the back of its level; ``C`` cancel reduces the order by its size and
  removes it at zero; ``M`` modify keeps the queue position only when the price is unchanged
  and the size does not increase; ``R`` clears the book; ``F``, ``T`` and ``N`` leave the
  book unchanged (every fill is followed by the resting order's ``M`` or ``C``).
- A modify of an unknown order id is an add (a feed that started mid-session); a cancel of
  an unknown id is refused (:class:`RecordRefusedError` with ``reason="unknown_order"``) and
  counted in :attr:`OrderBook.integrity`.
"""

from __future__ import annotations

from typing import Literal, NamedTuple, Protocol

from workbench import native
from workbench.book.errors import RecordRefusedError
from workbench.book.replay import PRICE_SCALE

SideName = Literal["B", "A"]


class SupportsBytes(Protocol):
    """A DBN record that gives its bytes (``databento_dbn.MBOMsg``)."""

    def __bytes__(self) -> bytes: ...


class BookLevel(NamedTuple):
    """One price level: its price (fixed point), total size and number of orders."""

    price: int
    size: int
    orders: int

    @property
    def px(self) -> float:
        """The price in dollars."""
        return self.price / PRICE_SCALE


class RestingOrder(NamedTuple):
    """One order resting at a level (in priority order: the first fills first)."""

    order_id: int
    size: int


class QueuePosition(NamedTuple):
    """Size and count of the orders ahead of (and behind) an order at its level."""

    size_ahead: int
    count_ahead: int
    size_behind: int
    count_behind: int


def _level(t: tuple[int, int, int] | None) -> BookLevel | None:
    return None if t is None else BookLevel(*t)


class OrderBook:
    """The L3 (market-by-order) book of one instrument, in Rust, driven from Python.

    Parameters
    ----------
    instrument_id : int, default 0
        The instrument (used by :meth:`apply_fields` when a record does not name one).

    Examples
    --------
    >>> book = OrderBook(instrument_id=7)
    >>> book.apply_fields(ts_event=1, order_id=1, price=64_830_000_000, size=2, side="B",
    ...                   action="A", flags=128)
    'added'
    >>> book.best_bid()
    BookLevel(price=64830000000, size=2, orders=1)
    """

    def __init__(self, instrument_id: int = 0) -> None:
        self._book = native.L3Book(instrument_id)

    @classmethod
    def from_native(cls, book: native.L3Book) -> OrderBook:
        """Wrap a native book (e.g. one a stream subscriber built), without copying it.

        Parameters
        ----------
        book : workbench_native.L3Book
            The book; this object then owns it.

        Returns
        -------
        OrderBook
        """
        self = cls.__new__(cls)
        self._book = book
        return self

    def apply(self, record: SupportsBytes | bytes) -> str:
        """Apply one MBO record (a ``databento_dbn.MBOMsg``, or its 56 DBN bytes).

        Parameters
        ----------
        record : databento_dbn.MBOMsg or bytes
            The record; anything whose ``bytes()`` are one DBN MBO record.

        Returns
        -------
        str
            What it did: ``added``, ``reduced`` (partial cancel), ``cancelled``,
            ``modified`` (queue position kept), ``modified_lost_priority``,
            ``modified_as_add`` (unknown id), ``cleared``, ``unchanged`` (F, T, N) or
            ``replaced_top`` (``F_TOB`` publishers).

        Raises
        ------
        RecordRefusedError
            The book refused the record (its orders are unchanged).
        ValueError
            The bytes are not one MBO record.
        """
        raw = record if isinstance(record, bytes | bytearray | memoryview) else bytes(record)
        try:
            return self._book.apply_bytes(bytes(raw))
        except native.BookRecordError as exc:
            raise RecordRefusedError(exc.args[1], reason=exc.args[0]) from None

    def apply_fields(
        self,
        *,
        ts_event: int,
        order_id: int,
        price: int,
        size: int,
        side: str,
        action: str,
        flags: int = 0,
        instrument_id: int | None = None,
        ts_recv: int | None = None,
        sequence: int = 0,
    ) -> str:
        """Apply one MBO record given by its fields.

        Parameters
        ----------
        ts_event : int
            Event time, ns since the UNIX epoch (UTC).
        order_id : int
            Venue order id.
        price : int
            Fixed point, 1 unit = 1e-9 dollars.
        size : int
            Contracts.
        side : str
            ``"B"`` bid, ``"A"`` ask or ``"N"`` none.
        action : str
            One of ``A C M R F T N``.
        flags : int, default 0
            DBN flags (``128`` = ``F_LAST``, ``32`` = ``F_SNAPSHOT``).
        instrument_id : int, optional
            Defaults to the book's.
        ts_recv : int, optional
            Defaults to ``ts_event``.
        sequence : int, default 0
            Venue sequence number.

        Returns
        -------
        str
            As for :meth:`apply`.

        Raises
        ------
        RecordRefusedError
            The book refused the record (its orders are unchanged).
        ValueError
            ``side`` or ``action`` is not one character, or a number is out of range.
        """
        try:
            return self._book.apply(
                ts_event,
                order_id,
                price,
                size,
                side,
                action,
                flags=flags,
                instrument_id=instrument_id,
                ts_recv=ts_recv,
                sequence=sequence,
            )
        except native.BookRecordError as exc:
            raise RecordRefusedError(exc.args[1], reason=exc.args[0]) from None
        except OverflowError as exc:
            raise ValueError(f"OrderBook.apply_fields: a field is out of range: {exc}") from None

    def best_bid(self) -> BookLevel | None:
        """The best (highest) bid level, or ``None`` when there is no bid."""
        return _level(self._book.best_bid())

    def best_ask(self) -> BookLevel | None:
        """The best (lowest) ask level, or ``None`` when there is no ask."""
        return _level(self._book.best_ask())

    def depth(self, n: int = 10) -> tuple[list[BookLevel], list[BookLevel]]:
        """The best ``n`` levels per side, best first.

        Parameters
        ----------
        n : int, default 10
            Levels per side.

        Returns
        -------
        tuple of (list of BookLevel, list of BookLevel)
            ``(bids, asks)``.
        """
        bids = [BookLevel(*t) for t in self._book.depth("B", n)]
        asks = [BookLevel(*t) for t in self._book.depth("A", n)]
        return bids, asks

    def spread(self) -> int | None:
        """Best ask minus best bid (fixed point); negative when crossed, ``None`` if a side is
        empty."""
        return self._book.spread()

    def mid(self) -> int | None:
        """The mid price (fixed point, rounded down on a half unit), ``None`` if a side is
        empty."""
        return self._book.mid()

    def imbalance(self, levels: int = 1) -> float | None:
        """``(bid size - ask size) / (bid size + ask size)`` over the best ``levels`` levels.

        Parameters
        ----------
        levels : int, default 1
            Levels per side summed.

        Returns
        -------
        float or None
            In [-1, 1]; ``None`` when both sides are empty.
        """
        return self._book.imbalance(levels)

    def orders_at(self, price: int, side: SideName | None = None) -> list[RestingOrder]:
        """The orders resting at ``price``, in priority order (the first fills first).

        Parameters
        ----------
        price : int
            Fixed point.
        side : {"B", "A"}, optional
            The side; by default the bid side if it has a level at ``price``, else the ask.

        Returns
        -------
        list of RestingOrder
            Empty when no order rests there.
        """
        sides: tuple[str, ...] = (side,) if side is not None else ("B", "A")
        for s in sides:
            orders = self._book.orders_at(s, price)
            if orders:
                return [RestingOrder(*o) for o in orders]
        return []

    def queue_position(self, order_id: int) -> QueuePosition | None:
        """Size and count ahead of (and behind) a resting order; ``None`` if it is not in the
        book."""
        q = self._book.queue_position(order_id)
        return None if q is None else QueuePosition(*q)

    def order(self, order_id: int) -> tuple[str, int, int] | None:
        """``(side, price, size)`` of a resting order, or ``None``."""
        return self._book.order(order_id)

    def level_count(self, side: SideName) -> int:
        """Number of price levels on ``side`` (``"B"`` or ``"A"``)."""
        return self._book.level_count(side)

    def validate(self) -> None:
        """Check the book's internal invariants.

        Raises
        ------
        RecordRefusedError
            With ``reason="invariant"`` when one is broken (a bug, never expected).
        """
        try:
            self._book.validate()
        except native.BookRecordError as exc:
            raise RecordRefusedError(exc.args[1], reason=exc.args[0]) from None

    def clear(self) -> None:
        """Remove every order."""
        self._book.clear()

    @property
    def instrument_id(self) -> int:
        """The instrument."""
        return self._book.instrument_id

    @property
    def ts_event(self) -> int:
        """``ts_event`` of the last record applied (ns, UTC)."""
        return self._book.ts_event

    @property
    def is_consistent(self) -> bool:
        """``True`` at an event boundary (the last record carried ``F_LAST``)."""
        return self._book.is_consistent

    @property
    def cross_state(self) -> str:
        """``"normal"``, ``"locked"`` (best bid = best ask) or ``"crossed"``."""
        return self._book.cross_state

    @property
    def integrity(self) -> dict[str, int]:
        """The integrity counters (unknown cancels, modifies treated as adds, refusals, ...)."""
        return self._book.integrity()

    def __len__(self) -> int:
        """Number of resting orders."""
        return len(self._book)

    def __repr__(self) -> str:
        return f"OrderBook({self._book!r})"
