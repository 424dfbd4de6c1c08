"""Bars from Databento Live: ``databento.Live`` records turned into the engine's bars.

Two sources, one result:

- ``schema="ohlcv-1m"``: Databento's own one-minute bars. A live OHLCV record is published
  when its minute is over (``ts_event`` is the minute's start, as in the catalog), so each
  record is a finished bar; with ``bar_seconds`` above 60 the minutes are folded together.
- ``schema="trades"``: trades folded into ``bar_seconds`` bars on ``ts_event``, as Databento
  builds its OHLCV (open, high, low, close of the trade prices, volume the sum of sizes).

Either way a bar is emitted only at its end: when a record (a later bar or trade, or a
gateway heartbeat) shows that its interval is over, never from an unfinished interval. A bar
whose interval began before the feed saw it (a trade subscription joined mid-minute) comes
out with ``complete=False``. Prices are the DBN fixed-point integers divided by 1e9, as the
catalog stores bars, so a live bar equals the catalog's bar for the same records.

The API key is read as the historical download reads it (argument, ``DATABENTO_API_KEY``,
``.env``) and never logged or shown: errors and ``repr`` name the gateway, not the key.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import databento
import databento_dbn as dbn
from databento.common.error import BentoError
from databento.live.session import DEFAULT_REMOTE_PORT

from workbench.data.downloader import find_api_key
from workbench.data.schemas import NS_PER_SECOND, PRICE_SCALE
from workbench.errors import ConfigError, WorkbenchError
from workbench.market.contracts import is_spread

__all__ = ["Bar", "BarBuilder", "DatabentoLiveFeed", "LiveFeedError"]

logger = logging.getLogger(__name__)

SCHEMAS = ("ohlcv-1m", "trades")
_MINUTE_NS = 60 * NS_PER_SECOND
_END = object()  # end of the session, on the bar queue


class LiveFeedError(WorkbenchError):
    """The live session could not start or ended with an error (key refused, gateway down)."""


@dataclass(frozen=True)
class Bar:
    """One bar of one instrument: UTC start ``ts`` (ns), ``seconds`` long, prices in dollars."""

    ts: int
    seconds: int
    symbol: str
    instrument_id: int
    open: float
    high: float
    low: float
    close: float
    volume: int
    complete: bool = True  # False: the interval began before the feed saw it

    @property
    def end(self) -> int:
        """UTC end of the bar, ns: when it became known."""
        return self.ts + self.seconds * NS_PER_SECOND


@dataclass
class _Open:
    start: int
    open: int
    high: int
    low: int
    close: int
    volume: int
    complete: bool


class BarBuilder:
    """Folds OHLCV pieces (minute bars, or trades as zero-length pieces) into bars.

    Prices are kept in DBN fixed point until a bar is emitted, so no rounding creeps in.

    Parameters
    ----------
    seconds : int
        Bar length; bars are aligned to the epoch (UTC), as Databento's are.
    replay_start : int, optional
        UTC ns the session replays from: a first interval starting at or after it is whole.
    """

    def __init__(self, seconds: int, replay_start: int | None = None) -> None:
        if seconds <= 0:
            raise ValueError(f"bar length must be positive, got {seconds} s")
        self.seconds = seconds
        self._ns = seconds * NS_PER_SECOND
        self._replay_start = replay_start
        self._open: dict[int, _Open] = {}
        self._seen: set[int] = set()
        self.symbols: dict[int, str] = {}

    def add(
        self,
        instrument_id: int,
        start: int,
        length: int,
        prices: tuple[int, int, int, int],
        volume: int,
    ) -> list[Bar]:
        """Add a piece ``[start, start + length)``; the bars this finishes, oldest first."""
        out = self.advance(start)  # every bar that ended before this piece began
        bucket = start - start % self._ns
        cur = self._open.get(instrument_id)
        o, h, low, c = prices
        if cur is None:
            first = instrument_id not in self._seen
            self._seen.add(instrument_id)
            whole = not first or (start == bucket and length > 0)
            whole = whole or (self._replay_start is not None and self._replay_start <= bucket)
            self._open[instrument_id] = _Open(bucket, o, h, low, c, volume, whole)
        else:
            cur.high, cur.low = max(cur.high, h), min(cur.low, low)
            cur.close = c
            cur.volume += volume
        if start + length >= bucket + self._ns:  # this piece ends the interval
            out.append(self._emit(instrument_id))
        return out

    def advance(self, now: int) -> list[Bar]:
        """The bars of every instrument whose interval ended at or before ``now`` (UTC ns)."""
        done = [i for i, cur in self._open.items() if cur.start + self._ns <= now]
        return sorted((self._emit(i) for i in done), key=lambda b: (b.ts, b.symbol))

    def _emit(self, instrument_id: int) -> Bar:
        cur = self._open.pop(instrument_id)
        return Bar(
            ts=cur.start,
            seconds=self.seconds,
            symbol=self.symbols.get(instrument_id, str(instrument_id)),
            instrument_id=instrument_id,
            open=cur.open / PRICE_SCALE,
            high=cur.high / PRICE_SCALE,
            low=cur.low / PRICE_SCALE,
            close=cur.close / PRICE_SCALE,
            volume=cur.volume,
            complete=cur.complete,
        )


class DatabentoLiveFeed:
    """Bars from a Databento Live session (``databento.Live``), for the execution engine.

    Parameters
    ----------
    symbols : sequence of str
        Contracts (``["MCLZ5"]``, ``stype_in="raw_symbol"``) or a parent (``["MCL.FUT"]``,
        ``stype_in="parent"``).
    schema : {"ohlcv-1m", "trades"}
        Databento's minute bars, or trades aggregated here.
    bar_seconds : int, default 60
        Bar length (a multiple of 60 for ``ohlcv-1m``).
    dataset : str, default "GLBX.MDP3"
    stype_in : str, default "raw_symbol"
    start : int, optional
        UTC ns to replay from (the gateway replays up to 24 hours).
    key : str, optional
        API key; default ``DATABENTO_API_KEY`` or ``.env``.
    gateway, port : str, int, optional
        Gateway override (default: Databento's gateway for the dataset, port 13000).
    keep_spreads : bool, default False
        Keep calendar spreads (``MCLZ5-MCLF6``) a parent subscription brings.
    on_bar : callable, optional
        Called with each bar on the client's thread (keep it short); bars also go to
        :meth:`bars`.
    """

    def __init__(
        self,
        symbols: Sequence[str],
        *,
        schema: str = "ohlcv-1m",
        bar_seconds: int = 60,
        dataset: str = "GLBX.MDP3",
        stype_in: str = "raw_symbol",
        start: int | None = None,
        key: str | None = None,
        gateway: str | None = None,
        port: int = DEFAULT_REMOTE_PORT,
        keep_spreads: bool = False,
        on_bar: Callable[[Bar], None] | None = None,
    ) -> None:
        if schema not in SCHEMAS:
            raise ConfigError(
                f"live bars come from {' or '.join(SCHEMAS)}, not {schema!r}",
                hint="schema='ohlcv-1m' (Databento's minute bars) or 'trades' (aggregated here)",
            )
        if bar_seconds <= 0 or (schema == "ohlcv-1m" and bar_seconds % 60):
            raise ConfigError(
                f"bar_seconds={bar_seconds} does not fit schema {schema!r}",
                hint="a multiple of 60 for ohlcv-1m; any positive number of seconds for trades",
            )
        if not symbols:
            raise ConfigError("no symbols to subscribe to", hint="e.g. symbols=['MCLZ5']")
        self.symbols = list(symbols)
        self.schema = schema
        self.dataset = dataset
        self.stype_in = stype_in
        self.start_ns = start
        self.gateway = gateway
        self.port = port
        self.keep_spreads = keep_spreads
        self._on_bar = on_bar
        self._key = find_api_key(key)
        self._builder = BarBuilder(bar_seconds, replay_start=start)
        self._bars: queue.Queue[Any] = queue.Queue()
        self._client: databento.Live | None = None
        self._watcher: threading.Thread | None = None
        self._error: BaseException | None = None
        self._stopped = threading.Event()
        self.records = 0  # data records seen
        self.session_id: str | None = None

    @property
    def bar_seconds(self) -> int:
        """Bar length in seconds."""
        return self._builder.seconds

    def __repr__(self) -> str:
        where = f"{self.gateway or 'databento'}:{self.port}"
        return (
            f"DatabentoLiveFeed({self.dataset} {self.schema} {','.join(self.symbols)} "
            f"-> {self.bar_seconds}s bars via {where})"
        )

    def _where(self) -> str:
        return f"Databento Live ({self.gateway or self.dataset + ' gateway'}:{self.port})"

    def start(self) -> Self:
        """Connect, authenticate, subscribe and start streaming.

        Raises
        ------
        LiveFeedError
            When the gateway cannot be reached or refuses the key or the subscription.
        """
        if self._client is not None:
            raise LiveFeedError("this live feed has already been started")
        client = databento.Live(key=self._key, gateway=self.gateway, port=self.port)
        client.add_callback(self._on_record, self._on_callback_error)
        try:
            client.subscribe(
                dataset=self.dataset,
                schema=self.schema,
                symbols=self.symbols,
                stype_in=self.stype_in,
                start=self.start_ns,
            )
        except BentoError as exc:
            client.terminate()
            raise self._refusal(exc) from None
        except ValueError as exc:  # the client's own validation (dataset, symbols, stype)
            client.terminate()
            raise LiveFeedError(f"{self._where()}: {exc}") from None
        self._client = client
        self.session_id = client.session_id
        logger.info("%s: session %s started", self._where(), self.session_id)
        client.start()
        self._watcher = threading.Thread(target=self._watch, name="databento-live", daemon=True)
        self._watcher.start()
        return self

    def _refusal(self, exc: BentoError) -> LiveFeedError:
        text = str(exc).replace(self._key, "***")
        if "auth" in text.lower():
            return LiveFeedError(
                f"{self._where()} refused the API key: {text}",
                hint="check DATABENTO_API_KEY (or .env) against https://databento.com/portal/keys;"
                " a key needs live data access for this dataset",
            )
        return LiveFeedError(
            f"{self._where()}: {text}",
            hint="check the gateway address and that the live service is reachable",
        )

    def _watch(self) -> None:
        """Wait for the session to end, then close the bar stream."""
        assert self._client is not None
        try:
            self._client.block_for_close()
        except BentoError as exc:
            if not self._stopped.is_set():
                self._error = exc
                logger.warning("%s: session ended: %s", self._where(), exc)
        finally:
            self._bars.put(_END)

    def _on_callback_error(self, exc: Exception) -> None:
        self._error = exc
        logger.error("%s: failed to turn a record into bars: %r", self._where(), exc)

    def _on_record(self, record: Any) -> None:
        """The client's callback (on its event-loop thread): records in, bars out."""
        builder = self._builder
        if isinstance(record, dbn.SymbolMappingMsg):
            builder.symbols[record.instrument_id] = record.stype_out_symbol
            return
        if isinstance(record, dbn.OHLCVMsg):
            if not self._wanted(record.instrument_id):
                return
            self.records += 1
            prices = (record.open, record.high, record.low, record.close)
            bars = builder.add(
                record.instrument_id, record.ts_event, _MINUTE_NS, prices, record.volume
            )
        elif isinstance(record, dbn.TradeMsg):
            if not self._wanted(record.instrument_id):
                return
            self.records += 1
            px = record.price
            bars = builder.add(
                record.instrument_id, record.ts_event, 0, (px, px, px, px), record.size
            )
        elif isinstance(record, dbn.SystemMsg):  # heartbeats carry the gateway's clock
            bars = builder.advance(record.ts_event)
        else:
            return
        for bar in bars:
            self._bars.put(bar)
            if self._on_bar is not None:
                self._on_bar(bar)

    def _wanted(self, instrument_id: int) -> bool:
        symbol = self._builder.symbols.get(instrument_id, "")
        return self.keep_spreads or not is_spread(symbol)

    def bars(self, timeout: float | None = None) -> Iterator[Bar]:
        """Bars as they end, until the session ends or :meth:`stop`.

        Parameters
        ----------
        timeout : float, optional
            Seconds to wait for the next bar before giving up (None: wait for ever).

        Raises
        ------
        LiveFeedError
            When the session ended with an error, or no bar came within ``timeout``.
        """
        while True:
            try:
                item = self._bars.get(timeout=timeout)
            except queue.Empty:
                raise LiveFeedError(
                    f"{self._where()}: no bar within {timeout} s",
                    hint="the market may be closed; a heartbeat keeps the session alive",
                ) from None
            if item is _END:
                self._bars.put(_END)  # later calls end too
                if self._error is not None:
                    raise LiveFeedError(f"{self._where()}: session ended: {self._error}")
                return
            yield item

    def stop(self) -> None:
        """End the session (bars already built stay readable from :meth:`bars`)."""
        self._stopped.set()
        if self._client is not None:
            self._client.stop()
            if self._watcher is not None:
                self._watcher.join(10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
