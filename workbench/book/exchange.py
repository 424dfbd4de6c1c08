"""``SimExchange``: place orders from Python against the real book of a replayed MBO feed.

The matching, queue-position, latency, session and fee models are those of the native
simulated exchange (``native/src/exchange``, see its module docs):

- Own orders are virtual: the replayed book is never altered. Aggressive orders (market,
  marketable limit, triggered stops) take the real opposite side level by level as *taker*;
  resting orders join the back of the real queue at their price (``queue_ahead`` = the
  level's size) and fill as *maker* when the feed's trades pass their estimated position.
- Time is the feed's: a request sent at ``at`` (ns, default the exchange clock) arrives
  after the entry latency and is processed at the first event boundary at or after it;
  each report carries ``ts_exchange`` and ``ts_local`` (+ the response latency).
- Deterministic for the same records, requests and seed.

Prices are dollars in this face (the exchange works in DBN 1e-9 fixed point); timestamps
are ns since the UNIX epoch (UTC) in, and UTC timestamps in the report frames.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Iterable
from typing import Any, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from workbench import native
from workbench.book.errors import BookFileError
from workbench.book.exchange_codes import (
    LIQUIDITY_OF_CODE,
    ORDER_TYPE_OF_NATIVE,
    ORDER_TYPES,
    SIDES,
    STATUS_OF_CODE,
    STATUS_OF_NATIVE,
    TIME_IN_FORCE_OF_NATIVE,
    TIMES_IN_FORCE,
    ExecReason,
    ExecType,
)
from workbench.book.order_book import BookLevel
from workbench.book.replay import PRICE_SCALE
from workbench.errors import ConfigError
from workbench.market.calendar import session_schedule
from workbench.model import Liquidity, Order, OrderStatus, OrderType, Side, TimeInForce

ExchangeConfig = native.ExchangeConfig
QueueModel = native.QueueModel
QueueFunction = native.QueueFunction
OffHours = native.OffHours

#: Columns of :meth:`SimExchange.reports`, in order.
REPORT_COLUMNS = (
    "ts_exchange",
    "ts_local",
    "client_id",
    "order_ref",
    "seq",
    "exec_type",
    "status",
    "side",
    "liquidity",
    "reason",
    "order_qty",
    "last_qty",
    "cum_qty",
    "leaves_qty",
    "order_price",
    "last_px",
    "queue_ahead",
    "fee_per_contract",
    "fee",
)

_UNDEF = native.UNDEF_PRICE
_UTC_NS = pd.DatetimeTZDtype("ns", "UTC")


class SupportsBytes(Protocol):
    """A DBN record that gives its bytes (``databento_dbn.MBOMsg``)."""

    def __bytes__(self) -> bytes: ...


class OrderState(NamedTuple):
    """The state of one own order (prices in dollars, ``None`` when the type has none)."""

    client_id: int
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    status: OrderStatus
    quantity: int
    filled: int
    cancelled: int
    leaves: int
    limit_price: float | None
    stop_price: float | None
    resting: bool
    queue_ahead: int


def fixed(dollars: float) -> int:
    """Dollars as DBN fixed point (1 unit = 1e-9), rounded to the nearest unit.

    >>> fixed(64.83)
    64830000000
    """
    return round(dollars * PRICE_SCALE)


def _ns(at: int | pd.Timestamp | dt.datetime) -> int:
    if isinstance(at, int | np.integer):
        return int(at)
    ts = pd.Timestamp(at)
    if ts.tzinfo is None:
        raise ConfigError(f"SimExchange: a timestamp needs a time zone (UTC), got {at!r}")
    return int(ts.value)


def cme_sessions(start: int | pd.Timestamp, end: int | pd.Timestamp) -> list[tuple[int, int]]:
    """The Globex sessions (open, close) in ns overlapping ``[start, end]``, for
    ``ExchangeConfig(sessions=...)``, from the calendar of :mod:`workbench.market`.

    Parameters
    ----------
    start, end : int or pandas.Timestamp
        ns since the UNIX epoch, or UTC timestamps.

    Returns
    -------
    list of tuple of (int, int)
        Sorted, non-overlapping ``(open_ns, close_ns)`` intervals.
    """
    lo, hi = pd.Timestamp(_ns(start), tz="UTC"), pd.Timestamp(_ns(end), tz="UTC")
    days = session_schedule((lo - pd.Timedelta(days=2)).date(), (hi + pd.Timedelta(days=2)).date())
    out = []
    for row in days.itertuples():
        o, c = int(row.market_open.value), int(row.market_close.value)
        if c > _ns(start) and o <= _ns(end):
            out.append((o, c))
    return out


class SimExchange:
    """The simulated exchange over an MBO feed, driven from Python.

    Parameters
    ----------
    source : str, os.PathLike, bytes, iterable of databento_dbn.MBOMsg, or None
        A DBN file (``.dbn`` or ``.dbn.zst``) of schema ``mbo``, its bytes (metadata
        first), or records (anything whose ``bytes()`` is one MBO record, e.g.
        ``databento_dbn.MBOMsg``; those of the first record's instrument unless
        ``instrument_id`` is given), loaded up front and replayed by :meth:`step`/:meth:`run`;
        ``None`` for an empty feed fed record by record with :meth:`apply` (then
        ``instrument_id`` is required).
    config : ExchangeConfig, optional
        Queue model, latencies, seed, fees (1e-9 USD per contract, see :func:`fixed`), tick
        (fixed point), sessions and halts (ns), off-hours policy. Default: conservative
        queue, no latency, no fee, no tick check, always open.
    instrument_id : int, optional
        The instrument to trade when the feed holds several.

    Raises
    ------
    BookFileError
        The file is missing or not a readable DBN file.
    workbench.errors.ConfigError
        The configuration is invalid, or the feed holds no MBO record of the instrument.

    Examples
    --------
    >>> x = SimExchange("CLX5_mbo.dbn", ExchangeConfig(tick=10_000_000))  # doctest: +SKIP
    >>> x.step(100)  # doctest: +SKIP
    >>> cid = x.submit(Side.BUY, 2, OrderType.LIMIT, limit_price=64.80)  # doctest: +SKIP
    >>> x.run_until(x.now + 60_000_000_000)  # doctest: +SKIP
    >>> x.reports()  # doctest: +SKIP
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | bytes | Iterable[SupportsBytes] | None,
        config: Any = None,
        *,
        instrument_id: int | None = None,
    ) -> None:
        cfg = config if config is not None else native.ExchangeConfig()
        self.config = cfg
        self._refs: dict[int, str] = {}
        self._ids: dict[str, int] = {}
        self._next_id = itertools.count(1)
        try:
            self._x = self._open(source, cfg, instrument_id)
        except ValueError as exc:
            if isinstance(source, str | os.PathLike) and exc.args and exc.args[0] == "decode":
                name = os.fspath(source)
                raise BookFileError(
                    name,
                    f"{name} is not a readable DBN file: {exc.args[1]}",
                    hint="pass a Databento DBN file (.dbn or .dbn.zst) of schema mbo",
                ) from None
            msg = exc.args[1] if len(exc.args) == 2 else str(exc)
            raise ConfigError(f"SimExchange: {msg}") from None

    @staticmethod
    def _open(source: Any, cfg: Any, instrument_id: int | None) -> Any:
        if source is None:
            if instrument_id is None:
                raise ConfigError("SimExchange(None, ...): pass instrument_id= for a live feed")
            return native.Exchange(instrument_id, cfg)
        if isinstance(source, str | os.PathLike):
            name = os.fspath(source)
            if not os.path.isfile(name):
                raise BookFileError(
                    name, f"no DBN file at {name}", hint="check the path (an MBO .dbn(.zst))"
                )
            try:
                return native.Exchange.from_file(name, cfg, instrument_id=instrument_id)
            except OSError as exc:
                raise BookFileError(name, f"cannot read {name}: {exc}") from exc
        if isinstance(source, bytes | bytearray | memoryview):
            return native.Exchange.from_bytes(bytes(source), cfg, instrument_id=instrument_id)
        records = [bytes(r) for r in source]
        if not records:
            raise ConfigError("SimExchange: no record given")
        inst = (
            instrument_id
            if instrument_id is not None
            else int.from_bytes(records[0][4:8], "little")
        )
        x = native.Exchange(inst, cfg)
        x.extend_feed(b"".join(records))
        return x

    # -------------------------------------------------------------- the feed

    def run_until(self, ts: int | pd.Timestamp) -> int:
        """Apply the loaded records with ``ts_event <= ts``, then process the requests due by
        ``ts``; returns how many records were applied."""
        t = _ns(ts)
        n = self._x.run_until(t)
        self._x.advance_to(t)
        return int(n)

    def step(self, events: int = 1) -> int:
        """Apply the loaded records up to and including the next ``events`` event boundaries
        (``F_LAST``); returns how many records."""
        return int(self._x.step(events))

    def run(self) -> int:
        """Apply every remaining loaded record; returns how many."""
        return int(self._x.run())

    def advance_to(self, ts: int | pd.Timestamp) -> None:
        """Process request arrivals, held orders and DAY expiries due by ``ts`` with no record
        (after the feed's end, or between records of a quiet feed)."""
        self._x.advance_to(_ns(ts))

    def apply(self, record: SupportsBytes | bytes) -> bool:
        """Apply one MBO record (a ``databento_dbn.MBOMsg`` or its 56 bytes).

        Returns
        -------
        bool
            ``False`` when the book refused it (counted in :attr:`stats` and skipped).
        """
        raw = record if isinstance(record, bytes | bytearray | memoryview) else bytes(record)
        return bool(self._x.apply_bytes(bytes(raw)))

    # -------------------------------------------------------------- requests

    def _id(self, client_id: int | None, order_ref: str | None) -> int:
        if client_id is None:
            client_id = next(self._next_id)
            while client_id in self._refs:
                client_id = next(self._next_id)
        if order_ref:
            self._refs[client_id] = order_ref
            self._ids[order_ref] = client_id
        else:
            self._refs.setdefault(client_id, "")
        return client_id

    def _at(self, at: int | pd.Timestamp | None) -> int:
        return self.now if at is None else _ns(at)

    def submit(
        self,
        side: Side,
        quantity: int,
        order_type: OrderType = OrderType.MARKET,
        *,
        limit_price: float | None = None,
        stop_price: float | None = None,
        time_in_force: TimeInForce = TimeInForce.DAY,
        client_id: int | None = None,
        order_ref: str | None = None,
        at: int | pd.Timestamp | None = None,
    ) -> int:
        """Send a new order; invalid ones are rejected at arrival with a report.

        Parameters
        ----------
        side : Side
            Buy or sell.
        quantity : int
            Contracts.
        order_type : OrderType, default MARKET
            Market, limit, stop or stop-limit.
        limit_price, stop_price : float, optional
            Dollars; required by the order types that use them (else a rejection with
            reason ``invalid_price``), on the configured tick (else ``off_tick``).
        time_in_force : TimeInForce, default DAY
            DAY expires at the close of its session; IOC cancels what does not fill at once.
        client_id : int, optional
            The order's id (default: the next free one); a reused id is rejected.
        order_ref : str, optional
            A reference shown in the report frame's ``order_ref`` column.
        at : int or pandas.Timestamp, optional
            The client's send time (default: the exchange clock, :attr:`now`).

        Returns
        -------
        int
            The client id.
        """
        if int(quantity) != quantity or quantity < 0:
            raise ConfigError(
                f"SimExchange.submit: quantity must be a whole number >= 0, got {quantity}"
            )
        cid = self._id(client_id, order_ref)
        self._x.submit(
            self._at(at),
            cid,
            SIDES[Side(side)],
            ORDER_TYPES[OrderType(order_type)],
            int(quantity),
            limit_price=None if limit_price is None else fixed(limit_price),
            stop_price=None if stop_price is None else fixed(stop_price),
            tif=TIMES_IN_FORCE[TimeInForce(time_in_force)],
        )
        return cid

    def submit_order(self, order: Order, at: int | pd.Timestamp | None = None) -> int:
        """Send a :class:`workbench.model.Order`; its ``order_ref`` names the reports.

        Returns
        -------
        int
            The client id given to it.
        """
        return self.submit(
            order.side,
            order.quantity,
            order.order_type,
            limit_price=order.limit_price,
            stop_price=order.stop_price,
            time_in_force=order.time_in_force,
            order_ref=order.order_ref,
            at=at,
        )

    def client_id(self, order_ref: str) -> int | None:
        """The client id of an order sent with ``order_ref``, or ``None``."""
        return self._ids.get(order_ref)

    def cancel(self, client_id: int, at: int | pd.Timestamp | None = None) -> None:
        """Send a cancel (a finished or unknown order gets a rejection, ``unknown_order``)."""
        self._x.cancel(self._at(at), int(client_id))

    def replace(
        self,
        client_id: int,
        quantity: int,
        *,
        limit_price: float | None = None,
        stop_price: float | None = None,
        at: int | pd.Timestamp | None = None,
    ) -> None:
        """Send a replace: ``quantity`` is the new total (filled included); a price left
        ``None`` is kept. A new price or a larger quantity loses queue priority."""
        self._x.replace(
            self._at(at),
            int(client_id),
            int(quantity),
            limit_price=None if limit_price is None else fixed(limit_price),
            stop_price=None if stop_price is None else fixed(stop_price),
        )

    # -------------------------------------------------------------- queries

    def order(self, client_id: int) -> OrderState | None:
        """The state of an order, or ``None`` for an id never accepted."""
        v = self._x.order(int(client_id))
        if v is None:
            return None
        return OrderState(
            client_id=v.client_id,
            side=Side(int(v.side)),
            order_type=ORDER_TYPE_OF_NATIVE[v.order_type],
            time_in_force=TIME_IN_FORCE_OF_NATIVE[v.tif],
            status=STATUS_OF_NATIVE[v.status],
            quantity=v.qty,
            filled=v.filled,
            cancelled=v.cancelled,
            leaves=v.leaves,
            limit_price=None if v.limit_price is None else v.limit_price / PRICE_SCALE,
            stop_price=None if v.stop_price is None else v.stop_price / PRICE_SCALE,
            resting=v.resting,
            queue_ahead=v.queue_ahead,
        )

    def report_records(self) -> npt.NDArray[np.void]:
        """Take the reports produced so far as the native record array
        (``workbench_native.EXEC_REPORT_DTYPE``: fixed-point prices and fees, ns times)."""
        return self._x.drain_reports()

    def reports(self) -> pd.DataFrame:
        """Take the reports produced so far as a frame (see :func:`reports_frame`)."""
        return reports_frame(self.report_records(), self._refs)

    def trade_bars(self, interval: str | pd.Timedelta = "1min", symbol: str = "") -> pd.DataFrame:
        """OHLCV bars of the loaded feed's trades (``T`` records), like ``load_bars``'s.

        Parameters
        ----------
        interval : str or pandas.Timedelta, default "1min"
            Bar length; bars start on multiples of it since the UNIX epoch (UTC).
        symbol : str, optional
            Written in a ``symbol`` column when given.

        Returns
        -------
        pandas.DataFrame
            Indexed by the bar start (``ts_event``, UTC); ``open``, ``high``, ``low``,
            ``close`` in dollars, ``volume`` in contracts. Intervals without a trade have no
            bar (as Databento's OHLCV schemas).
        """
        step = int(pd.Timedelta(interval).value)
        if step <= 0:
            raise ConfigError(f"SimExchange.trade_bars: interval must be > 0, got {interval!r}")
        ts, price, size = self._x.trades()
        start = ts.astype(np.int64) // step * step
        frame = pd.DataFrame({"start": start, "px": price / PRICE_SCALE, "size": size})
        g = frame.groupby("start", sort=True)
        bars = pd.DataFrame(
            {
                "open": g["px"].first(),
                "high": g["px"].max(),
                "low": g["px"].min(),
                "close": g["px"].last(),
                "volume": g["size"].sum().astype(np.float64),
            }
        )
        bars.index = pd.DatetimeIndex(
            bars.index.to_numpy().view("datetime64[ns]"), name="ts_event"
        ).tz_localize("UTC")
        if symbol:
            bars["symbol"] = symbol
        return bars

    def best_bid(self) -> BookLevel | None:
        """The best bid level of the real book."""
        b = self._x.best_bid()
        return None if b is None else BookLevel(*b)

    def best_ask(self) -> BookLevel | None:
        """The best ask level of the real book."""
        a = self._x.best_ask()
        return None if a is None else BookLevel(*a)

    def depth(self, n: int = 10) -> tuple[list[BookLevel], list[BookLevel]]:
        """The best ``n`` levels per side of the real book, ``(bids, asks)``."""
        bids = [BookLevel(*t) for t in self._x.depth("B", n)]
        asks = [BookLevel(*t) for t in self._x.depth("A", n)]
        return bids, asks

    @property
    def stats(self) -> dict[str, int]:
        """Counters: records applied, refused, requests, fills, maker/taker contracts,
        reports."""
        return dict(self._x.stats())

    @property
    def pending_reports(self) -> int:
        """Reports produced and not yet taken."""
        return int(self._x.pending_reports)

    @property
    def now(self) -> int:
        """The exchange clock: the latest ``ts_event`` or arrival processed (ns)."""
        return int(self._x.now)

    @property
    def next_ts(self) -> int | None:
        """``ts_event`` of the next loaded record, ``None`` at the end of the feed."""
        return self._x.next_ts

    @property
    def remaining(self) -> int:
        """Loaded records not yet applied."""
        return int(self._x.remaining)

    @property
    def last_trade(self) -> float | None:
        """The last trade price seen on the feed, in dollars."""
        p = self._x.last_trade
        return None if p is None else p / PRICE_SCALE

    @property
    def instrument_id(self) -> int:
        """The instrument traded."""
        return int(self._x.instrument_id)

    @property
    def open_orders(self) -> int:
        """Orders not yet finished (in flight, held, stops, resting)."""
        return int(self._x.open_orders)

    def __repr__(self) -> str:
        return f"SimExchange({self._x!r})"


def _dollars(a: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    out = a / PRICE_SCALE
    out[a == _UNDEF] = np.nan
    return out


def _utc(a: npt.NDArray[np.uint64]) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(a.astype(np.int64).view("datetime64[ns]")).tz_localize("UTC")


def reports_frame(
    rows: npt.NDArray[np.void], order_refs: dict[int, str] | None = None
) -> pd.DataFrame:
    """Execution reports as a frame, one row per report in the order they were produced.

    Parameters
    ----------
    rows : numpy.ndarray
        Records of ``workbench_native.EXEC_REPORT_DTYPE``.
    order_refs : dict of int to str, optional
        ``order_ref`` of each client id (empty string when unknown).

    Returns
    -------
    pandas.DataFrame
        :data:`REPORT_COLUMNS`: ``ts_exchange``/``ts_local`` as UTC timestamps; ``exec_type``
        and ``reason`` as words (:class:`ExecType`, :class:`ExecReason` labels; ``reason``
        empty when there is none); ``status`` (:class:`workbench.model.OrderStatus`),
        ``side`` (+1/-1), ``liquidity`` (``maker``/``taker``, ``None`` on non-fills);
        quantities as int; ``order_price``, ``last_px`` in dollars (NaN when none);
        ``queue_ahead`` (contracts resting ahead when the order joined its queue);
        ``fee_per_contract`` and ``fee`` in dollars.
    """
    refs = order_refs or {}
    exec_labels = {int(e): e.label for e in ExecType}
    reason_labels = {int(r): r.label for r in ExecReason}
    frame = pd.DataFrame(
        {
            "ts_exchange": _utc(rows["ts_exchange"]),
            "ts_local": _utc(rows["ts_local"]),
            "client_id": rows["client_id"].astype(np.int64),
            "order_ref": [refs.get(int(c), "") for c in rows["client_id"]],
            "seq": rows["seq"].astype(np.int64),
            "exec_type": [exec_labels[int(c)] for c in rows["exec_type"]],
            "status": [STATUS_OF_CODE[int(c)] for c in rows["status"]],
            "side": rows["side"].astype(np.int8),
            "liquidity": [LIQUIDITY_OF_CODE[int(c)] for c in rows["liquidity"]],
            "reason": [reason_labels[int(c)] for c in rows["reason"]],
            "order_qty": rows["order_qty"].astype(np.int64),
            "last_qty": rows["last_qty"].astype(np.int64),
            "cum_qty": rows["cum_qty"].astype(np.int64),
            "leaves_qty": rows["leaves_qty"].astype(np.int64),
            "order_price": _dollars(rows["order_price"]),
            "last_px": _dollars(rows["last_px"]),
            "queue_ahead": rows["queue_ahead"].astype(np.int64),
            "fee_per_contract": rows["fee_per_contract"] / PRICE_SCALE,
            "fee": rows["fee"] / PRICE_SCALE,
        },
        columns=list(REPORT_COLUMNS),
    )
    return frame


__all__ = [
    "REPORT_COLUMNS",
    "ExchangeConfig",
    "ExecReason",
    "ExecType",
    "Liquidity",
    "OffHours",
    "OrderState",
    "QueueFunction",
    "QueueModel",
    "SimExchange",
    "cme_sessions",
    "fixed",
    "reports_frame",
]
