"""Databento Live as a paper session's feed: a :class:`~workbench.execution.feeds.LiveFeed`.

:class:`DatabentoPaperFeed` runs a :class:`~workbench.adapters.databento.live.DatabentoLiveFeed`
(the ``databento.Live`` client on its own thread, records folded into the strategy's bar
size there) and hands each finished bar to the session's event loop. One contract per
session: the bars of other instruments a subscription brings are dropped.

No warm-up history: the live gateway's intraday replay (``start``) is the way to begin with
warm indicators; those bars then go through the session like live ones.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading

from workbench.adapters.databento.live import Bar as LiveBar
from workbench.adapters.databento.live import DatabentoLiveFeed, LiveFeedError
from workbench.execution.feeds import Bar, FeedNotice
from workbench.market.contracts import MONTH_CODES, contract_spec

__all__ = ["DatabentoPaperFeed", "front_contract"]


class DatabentoPaperFeed:
    """Finished Databento Live bars of one contract, for :class:`~workbench.execution.PaperSession`.

    Parameters
    ----------
    symbol : str
        The contract (raw symbol, e.g. ``"MCLZ5"``).
    bar_seconds : int, default 60
        The strategy's bar size (minute bars are folded together; trades are aggregated).
    schema : {"ohlcv-1m", "trades"}, default "ohlcv-1m"
    start : int, optional
        UTC ns to replay from (the gateway's intraday replay).
    key : str, optional
        API key; default ``DATABENTO_API_KEY`` or ``.env`` (never logged).
    gateway, port : str, int, optional
        Gateway override (a loopback gateway in tests and rehearsals).
    bar_timeout : float, optional
        Seconds without a bar before the session ends with an error (None: wait for ever).
    """

    def __init__(
        self,
        symbol: str,
        *,
        bar_seconds: int = 60,
        schema: str = "ohlcv-1m",
        start: int | None = None,
        key: str | None = None,
        gateway: str | None = None,
        port: int | None = None,
        bar_timeout: float | None = None,
    ) -> None:
        extra = {} if port is None else {"port": port}
        self.symbol = symbol
        self.live = DatabentoLiveFeed(
            [symbol],
            schema=schema,
            bar_seconds=bar_seconds,
            start=start,
            key=key,
            gateway=gateway,
            **extra,  # type: ignore[arg-type]  # port: int
        )
        self.bar_timeout = bar_timeout
        self.error: BaseException | None = None
        self._queue: asyncio.Queue[Bar | FeedNotice | None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pump: threading.Thread | None = None
        self._stopped = False

    def __repr__(self) -> str:
        return f"DatabentoPaperFeed({self.live!r})"

    @property
    def bar_seconds(self) -> int:
        """Bar length in seconds."""
        return self.live.bar_seconds

    async def open(self) -> list[Bar]:
        """Connect, authenticate and subscribe; no history (see the module docstring).

        Raises
        ------
        LiveFeedError
            When the gateway cannot be reached or refuses the key or the subscription.
        """
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._stopped = False
        await self._loop.run_in_executor(None, self.live.start)
        self._pump = threading.Thread(target=self._forward, name="databento-paper", daemon=True)
        self._pump.start()
        return []

    def _forward(self) -> None:
        """The client's bars (its thread) -> the session's queue (its loop)."""
        try:
            for bar in self.live.bars(timeout=self.bar_timeout):
                if self._stopped:
                    break
                if bar.symbol == self.symbol:
                    self._put(_to_bar(bar))
        except LiveFeedError as exc:
            self.error = exc
        finally:
            self._put(None)

    def _put(self, item: Bar | FeedNotice | None) -> None:
        loop, queue = self._loop, self._queue
        if loop is not None and queue is not None and not loop.is_closed():
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def __aiter__(self) -> DatabentoPaperFeed:
        """Each bar at its end, until the session ends or :meth:`stop`."""
        if self._queue is None:
            raise LiveFeedError("the Databento feed is not open: await feed.open() first")
        return self

    async def __anext__(self) -> Bar | FeedNotice:
        """The next bar (``StopAsyncIteration`` at the end; the session's error re-raised)."""
        assert self._queue is not None
        item = None if self._stopped else await self._queue.get()
        if item is None:
            if self.error is not None and not self._stopped:
                raise self.error
            raise StopAsyncIteration
        return item

    def backlog(self) -> int:
        """Bars received and not yet taken."""
        return 0 if self._queue is None else self._queue.qsize()

    def stop(self) -> None:
        """End the iteration (from any thread)."""
        self._stopped = True
        self._put(None)

    async def aclose(self) -> None:
        """End the Databento session."""
        self._stopped = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.live.stop)


def _to_bar(bar: LiveBar) -> Bar:
    return Bar(
        -1, bar.ts, bar.end, bar.open, bar.high, bar.low, bar.close, float(bar.volume), bar.symbol
    )


def front_contract(product: str = "MCL_FUT", today: dt.date | None = None) -> str:
    """The raw symbol of the nearest contract still trading on ``today`` (``MCLZ5``).

    The front month as :func:`workbench.adapters.ib.contracts.front_month` picks it for IB:
    the first listed month whose last trade date (``workbench.market``'s rule) is ``today``
    or later.
    """
    spec = contract_spec(product)
    day = today if today is not None else dt.datetime.now(dt.UTC).date()
    year, month = day.year, day.month
    while True:
        if MONTH_CODES[month - 1] in spec.months and spec.last_trade_date(year, month) >= day:
            return spec.symbol(year, month)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
