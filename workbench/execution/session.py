"""``PaperSession``: a session in its own thread and event loop, startable from a notebook.

The notebook stays usable while bars are processed (no nest_asyncio: the session's asyncio
loop lives in its thread); :meth:`stop` ends it after the current bar, :meth:`kill` trips the
kill switch (flatten and stop). ``on_bar`` callbacks (a live plot) run in the session thread.

A session with a ``state_dir`` journals to ``state_dir/journal.sqlite`` (the ``sim``
broker keeps its account in ``state_dir/sim_account.sqlite``, the ``sim-l3`` broker its
exchange's inbound log in ``state_dir/exchange.log``): run it again with the same
folder and it replays what it had done from the journal, reconciles with the broker and
goes on, without sending any order twice.

With a :class:`~workbench.execution.feeds.LiveFeed` (``feed=``, e.g. IB's real-time bars
with the ``ib`` broker) the session runs on its loop: it opens the feed, warms the strategy
up on the history it returns, reconciles, then takes each bar at its end
(:meth:`ExecutionEngine.step_live`) and reconciles again after every reconnect. The record is
built from the bars received.

A :class:`~workbench.execution.feeds.RollingFeed` (IB) follows the futures roll: after each
bar the session asks it whether the next bar is on the next contract; if so the feed has moved
its subscription there, the roll is journaled with the bar (``rolls`` table; the journal's
``contract`` is the new one, which a resumed session opens on) and the engine closes the old
contract and re-enters on the new one (:meth:`ExecutionEngine.step_live`). The rolls are in
the record's provenance, as a backtest's.

A live feed on the ``sim`` broker (Databento Live bars, no account) keeps the sim's fill
model: each bar goes through :meth:`ExecutionEngine.step` as it arrives, so the orders a bar's
close decided fill at the next bar's open, as in a replay and in the backtest: the same bars
give the same trades whether they come from the catalog or from the live gateway.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.backtest.config import BacktestConfig
from workbench.backtest.result import BacktestResult
from workbench.data.continuous import Roll
from workbench.errors import ConfigError
from workbench.execution.brokers.base import AccountValue, Broker
from workbench.execution.brokers.sim import SimBroker
from workbench.execution.config import ExecutionConfig
from workbench.execution.engine import ExecutionEngine
from workbench.execution.events import Listener
from workbench.execution.feeds import Bar, FeedNotice, LiveFeed, ReplayFeed, RollingFeed
from workbench.execution.identity import IDENTITY_KEY, check_resume, session_identity
from workbench.execution.journal import Journal
from workbench.execution.orders import ReconcileDecision
from workbench.execution.record import session_result
from workbench.execution.state_lock import StateLock
from workbench.strategies.base import Strategy

BarCallback = Callable[[ExecutionEngine], None]


class SessionInterrupted(KeyboardInterrupt):
    """Ctrl-C (a notebook's interrupt) while :meth:`PaperSession.join` waited: the session
    was stopped after its current bar; the message says where and how to resume."""

    def _render_traceback_(self) -> list[str]:
        """What IPython shows instead of a traceback (the stack says nothing here)."""
        return [f"{type(self).__name__}: {self}"]


class PaperSession:
    """A strategy replayed (or live) against a broker, bar by bar.

    Parameters
    ----------
    bars : pandas.DataFrame or None
        The bars to replay (``load_bars``); the first ``bars`` of them with ``max_bars``.
        None with a live ``feed``.
    strategy : Strategy
        The strategy (same instance type as a backtest's).
    config : BacktestConfig, optional
        Capital, costs, sizing, stops, risk limits.
    execution : ExecutionConfig, optional
        Order size and rate limits, the mismatch policy.
    broker : Broker, optional
        Default: a ``SimBroker`` with the config's costs (its account in ``state_dir``).
    speed : float, default 0
        Replay speed (0: full speed).
    state_dir : str or Path, optional
        Where the journal lives (resumable); None: in memory.
    max_bars : int, optional
        Stop after this many bars.
    session_id : str, default "wb"
        Prefix of the order references (a resumed session keeps its journal's).
    feed : LiveFeed, optional
        Live bars instead of a replay of ``bars`` (the broker should be the feed's).
    listeners : list of callable, optional
        Called with each session :class:`~workbench.execution.events.Event` (alerts).
    settle_timeout : float, default 10
        Live sessions: seconds to wait for the last orders' answers at the end.
    interval : pandas.Timedelta, optional
        Bar length (default one minute): when a bar is known, for the strategy's time filter.
    capital_from_broker : bool, default False
        Start a new session on the account's value (``broker.account_value()``, the ib
        broker's NetLiquidation) instead of ``config.initial_capital``; a resumed session
        keeps the capital its journal started with. :attr:`capital_source` says which.
    identity_extra : dict, optional
        More of what a resumed session must share with its journal (JSON-ready), e.g. the
        ``sim-l3`` broker's book file and exchange settings.

    Raises
    ------
    ConfigError
        ``state_dir`` holds a session with another strategy, parameters, broker, symbol,
        bar size, capital or risk settings (:func:`~workbench.execution.identity.check_resume`):
        nothing is sent and the journal is left as it was.
    StateFolderInUse
        Another session holds ``state_dir`` (:mod:`.state_lock`): one running in another
        process or kernel, or one of this process not yet ended or closed. Nothing is read
        or written.
    """

    def __init__(
        self,
        bars: pd.DataFrame | None,
        strategy: Strategy,
        config: BacktestConfig | None = None,
        *,
        execution: ExecutionConfig | None = None,
        broker: Broker | None = None,
        speed: float = 0.0,
        state_dir: str | Path | None = None,
        max_bars: int | None = None,
        session_id: str = "wb",
        feed: LiveFeed | None = None,
        listeners: list[Listener] | None = None,
        settle_timeout: float = 10.0,
        interval: pd.Timedelta | None = None,
        capital_from_broker: bool = False,
        identity_extra: dict[str, Any] | None = None,
    ) -> None:
        self.cfg = config or BacktestConfig()
        self._identity_extra = dict(identity_extra or {})
        if bars is None and feed is None:
            raise ConfigError("a paper session needs bars to replay or a live feed")
        if max_bars is not None and max_bars < 1:
            raise ConfigError(
                f"max_bars must be at least 1, got {max_bars}",
                hint="None runs every bar of the replay (a live session: until stopped)",
            )
        if capital_from_broker and not isinstance(broker, AccountValue):
            raise ConfigError(
                "capital_from_broker needs a broker with an account (the ib broker)",
                hint="give the capital in the config (initial_capital)",
            )
        self.live_feed = feed
        self.max_bars = max_bars
        self.settle_timeout = settle_timeout
        self.live_bars: list[Bar] = []
        self.rolls: list[dict[str, Any]] = []  # contract rolls of a live session
        self.bars_done = 0  # live bars fully processed (orders sent)
        if bars is None:
            bars = _frame([])
        self.bars = bars.iloc[:max_bars] if max_bars else bars
        self.state_dir = None if state_dir is None else Path(state_dir)
        self._lock: StateLock | None = None
        if self.state_dir is not None:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            self._lock = StateLock(self.state_dir)
            self._lock.acquire()  # one session per folder: refused before the journal opens
        try:  # whatever fails here, the state folder is let go
            journal_path = (
                ":memory:" if self.state_dir is None else self.state_dir / "journal.sqlite"
            )
            self.journal = Journal(journal_path)
            stored = self.journal.meta(IDENTITY_KEY)
            #: where the capital came from (printed by ``workbench paper``)
            self.capital_source = "the config"
            self._capital_from_broker = capital_from_broker
            if capital_from_broker and stored:  # resumed: the capital the session started with
                capital = stored.get("config", {}).get("initial_capital", self.cfg.initial_capital)
                self.cfg = dataclasses.replace(self.cfg, initial_capital=capital)
                self._capital_from_broker = False
                self.capital_source = "the journal's: the account's NetLiquidation at its start"
            elif capital_from_broker and self.journal.bars_done():
                self._capital_from_broker = False  # a journal from before: it ran on the config's
                self.capital_source = "the config's, as the journal's earlier runs"
            legacy = self.journal.meta("strategy")
            self._interval = interval
            self._execution = execution or ExecutionConfig()
            self._broker_name = "sim" if broker is None else broker.name
            self._symbol = (
                str(getattr(feed, "expiry", None) or bars.attrs.get("product") or "MCL_FUT")
                if feed is not None
                else str(bars.attrs.get("contract") or bars.attrs.get("product") or "")
            )
            try:
                check_resume(
                    stored or ({"parameters": legacy} if legacy else None),
                    self.identity(strategy),
                    self.state_dir,
                )
            except ConfigError:
                self.journal.close()
                raise
            # a resumed session keeps its order references' prefix (its orders are found by them)
            session_id = str(self.journal.meta("session_id") or session_id)
            self.journal.set_meta("session_id", session_id)
            self.journal.commit()
            if broker is None:
                broker = SimBroker(
                    commission_per_contract=self.cfg.commission_per_contract,
                    slippage_ticks=self.cfg.slippage_ticks,
                    path=None if self.state_dir is None else self.state_dir / "sim_account.sqlite",
                )
            self.broker = broker
            self.engine = ExecutionEngine(
                broker,
                strategy,
                self.cfg,
                execution=self._execution,
                journal=self.journal,
                session_id=session_id,
                listeners=listeners,
                interval=interval,
            )
            self.feed = ReplayFeed(self.bars, speed=speed)
            self.callbacks: list[BarCallback] = []
            self.reconciled: list[ReconcileDecision] = []
            self.error: BaseException | None = None
            self._thread: threading.Thread | None = None
            self._stop = threading.Event()
            self._kill: str | None = None
            self.finished = threading.Event()
        except BaseException:
            self._release()
            raise

    def identity(self, strategy: Strategy | None = None) -> dict[str, Any]:
        """What a resumed session must share with this one (:mod:`.identity`)."""
        strategy = strategy or self.engine.strategy
        live = self.live_feed is not None
        if live:
            seconds = (self._interval or pd.Timedelta(minutes=1)).total_seconds()
            bar_size = f"{seconds:g}s"
        else:
            bar_size = str(self.bars.attrs.get("schema", ""))
        ident = session_identity(
            strategy.name,
            strategy.parameters(),
            broker=self._broker_name,
            symbol=self._symbol,
            bar_size=bar_size,
            config=self.cfg.to_dict(),
            execution=self._execution.to_dict(),
        )
        if not live and len(self.bars):
            ident["first_bar"] = str(self.bars.index[0])
        ident.update(self._identity_extra)
        return ident

    def _store_identity(self) -> None:
        self.journal.set_meta(IDENTITY_KEY, self.identity())
        self.journal.set_meta("strategy", self.engine.strategy.parameters())
        self.journal.commit()

    async def _take_capital_from_broker(self) -> None:
        """A new session on the account's capital: its NetLiquidation now."""
        if not self._capital_from_broker:
            return
        assert isinstance(self.broker, AccountValue)
        value = await self.broker.account_value()
        self.cfg = dataclasses.replace(self.cfg, initial_capital=value)
        self.engine.set_capital(value)
        self._capital_from_broker = False
        self.capital_source = "the account's NetLiquidation at the start"

    @property
    def resumed_from(self) -> int:
        """Bars an earlier run had completed (replayed from the journal, nothing sent)."""
        return self.engine.om.replay_until

    def on_bar(self, callback: BarCallback) -> None:
        """Call ``callback(engine)`` after each live bar (in the session's thread)."""
        self.callbacks.append(callback)

    # -- running ---------------------------------------------------------------------------
    @property
    def listeners(self) -> list[Listener]:
        """The engine's event listeners (append an ``AlertManager.on_event``)."""
        return self.engine.listeners

    def run(self) -> BacktestResult:
        """Run to the end of the bars (or :meth:`stop`) in this thread; the record.

        The state folder is let go when the run ends, however it ends (another session may
        then resume it); a second run of this object takes it again.

        Raises
        ------
        StateFolderInUse
            Another session took the state folder since this one's run ended.
        """
        if self._lock is not None:
            self._lock.acquire()
        try:
            if self.live_feed is not None:
                return self._run_live_sync()
            return self._run_replay()
        except Exception as exc:
            self.engine.emit("error", f"{type(exc).__name__}: {exc}", error=exc)
            raise
        finally:
            self._release()

    def _release(self) -> None:
        """Let the state folder go (another session may resume it)."""
        if self._lock is not None:
            self._lock.release()

    def _run_replay(self) -> BacktestResult:
        eng = self.engine
        self.broker.connect()
        self._store_identity()
        replay_until = eng.om.replay_until
        reconciled = replay_until == 0
        if reconciled:
            self.reconciled.append(eng.reconcile())
        try:
            for bar in self.feed:
                if not reconciled and bar.index >= replay_until:
                    reconciled = True
                    self.reconciled.append(eng.reconcile())
                if self._kill is not None:
                    eng.kill(self._kill)
                if self._stop.is_set() or eng.stopped:
                    break
                eng.step(bar)
                if bar.index >= replay_until:
                    for cb in self.callbacks:
                        cb(eng)
            else:  # the bars ran out, or stop() ended the feed first: not the end then
                if not self._stop.is_set():
                    eng.finish()
            eng.mark_end()  # a kill switch's flatten, filled: the record's last row
            eng.checkpoint()
        finally:
            self.finished.set()
        return self.result()

    def _run_live_sync(self) -> BacktestResult:
        try:
            loop = asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:
            loop = None
        if loop is None or loop.is_closed() or loop.is_running():
            return asyncio.run(self.run_live())
        return loop.run_until_complete(self.run_live())

    async def run_live(self) -> BacktestResult:
        """Run on a live feed in the running event loop (see the module docstring)."""
        eng, feed = self.engine, self.live_feed
        assert feed is not None
        try:
            try:
                rolling = feed if isinstance(feed, RollingFeed) else None
                contract = self.journal.meta("contract")
                if rolling is not None and contract:
                    rolling.continue_on(str(contract))  # the contract the session was on
                history = await feed.open()
                if rolling is not None:
                    self.journal.set_meta("contract", rolling.symbol)
                self.broker.connect()
                await self._take_capital_from_broker()
                simulated = isinstance(self.broker, SimBroker)  # fills on the bars themselves
                if not simulated:
                    self.journal.commit_every = 1  # bars come minutes apart: each journaled
                gap = self._resume(history) if eng.om.replay_until else self._warm(history)
                self._store_identity()
                self.reconciled.append(eng.reconcile())
                last = False
                for k, missed in enumerate(gap):  # bars missed while the session was down
                    last = await self._take(missed, simulated, k + 1 < len(gap) or feed.backlog())
                    if last:
                        break
                async for item in feed if not last else _nothing():
                    if self._kill is not None:
                        eng.kill(self._kill)
                    if self._stop.is_set() or eng.stopped:
                        break
                    if isinstance(item, FeedNotice):
                        self.reconciled.append(eng.reconcile())
                        continue
                    if self.live_bars and item.ts <= self.live_bars[-1].ts:
                        continue  # already taken (from the journal or the gap's history)
                    if await self._take(item, simulated, feed.backlog() > 0):
                        break
                if self._kill is not None and not eng.stopped:
                    eng.kill(self._kill)
                if not self._stop.is_set() and not eng.stopped:
                    eng.finish()
                await self._settle()
                eng.mark_end()  # the end (or kill) flatten filled: the record's last row
                eng.checkpoint()
            finally:
                feed.stop()
                await feed.aclose()
        finally:
            self.finished.set()
        return self.result()

    async def _take(self, item: Bar, simulated: bool, newer_waiting: bool | int) -> bool:
        """One live bar through the engine (journaled first); whether it was the last."""
        eng = self.engine
        bar = Bar(len(self.live_bars), *_bar_fields(item))
        self.live_bars.append(bar)
        last = bool(self.max_bars) and len(self.live_bars) >= (self.max_bars or 0)
        if simulated:
            self.journal.record_live_bar(bar, True)
            eng.step(bar)  # the sim's fill model: at this bar's open
        else:
            await self._settle()  # the last bar's orders answered
            # a bar with newer ones already waiting (a gap filled from history) is taken
            # into the signal, but orders are sent for the latest only
            act = not last and not newer_waiting
            feed = self.live_feed
            roll = await feed.roll_after(bar) if act and isinstance(feed, RollingFeed) else None
            self.journal.record_live_bar(bar, act)
            if roll is not None:  # in the bar's transaction, before the orders
                self.journal.record_roll(bar.index, roll.to_dict())
                self.rolls.append(roll.to_dict())
                self.journal.alert(bar.index, "roll", f"{roll.from_symbol} -> {roll.to_symbol}")
            eng.step_live(bar, act=act, roll=_next_contract(roll))
        self.bars_done += 1
        for cb in self.callbacks:
            cb(self.engine)
        return last

    def _warm(self, history: list[Bar]) -> list[Bar]:
        """A new session: the strategy warmed up on ``history`` (journaled); no gap."""
        self.engine.warm_up(history)
        for k, bar in enumerate(history):
            self.journal.record_live_bar(Bar(k - len(history), *_bar_fields(bar)), False)
        self.journal.set_meta("warm_up_bars", len(history))
        return []

    def _resume(self, history: list[Bar]) -> list[Bar]:
        """A restarted live session: the journaled warm-up and bars replayed through the
        engine (nothing sent: the orders are the journal's; the last bar's are adopted from
        the broker or, if it never got them, sent now); the history bars newer than the last
        journaled one are the gap, taken next."""
        eng, until = self.engine, self.engine.om.replay_until
        past = self.journal.live_bars()
        rolls = dict(self.journal.rolls())
        eng.warm_up(b for b, _ in past if b.index < 0)
        for bar, act in past:
            if 0 <= bar.index < until:
                self.live_bars.append(bar)
                roll = rolls.get(bar.index)
                if roll is not None:
                    self.rolls.append(roll)
                nxt = None if roll is None else (roll["to_symbol"], roll["to_close"])
                eng.step_live(bar, act=act, roll=nxt)
                self.bars_done += 1
        newest = self.live_bars[-1].ts if self.live_bars else -1
        return [b for b in history if b.ts > newest]

    async def _settle(self) -> None:
        """Wait (up to ``settle_timeout`` s) until no market order is working: the engine
        acts on a bar only once the orders of the last one are filled (a live broker
        answers asynchronously)."""
        om = self.engine.om
        if not any(mo.order.order_type.value == "market" for mo in om.working()):
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settle_timeout
        while loop.time() < deadline:
            await asyncio.sleep(0.001)
            if not any(mo.order.order_type.value == "market" for mo in om.working()):
                return

    def result(self) -> BacktestResult:
        """The record so far, shaped like a backtest's."""
        if self.live_feed is not None:
            frame = _frame(self.live_bars)
            frame.attrs.update(product=self.engine.spec.product, rolls=self.rolls)
            if self.rolls:
                frame.attrs.update(continuous=True, roll_rule="calendar", adjust="none")
            return session_result(self.engine, frame)
        return session_result(self.engine, self.bars)

    def start(self) -> None:
        """Run in a thread of its own (with its own asyncio loop); returns at once."""

        def main() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                self.run()
            except BaseException as exc:  # reported through .error, the thread ends
                self.error = exc
            finally:
                loop.close()

        self._thread = threading.Thread(target=main, name="paper-session", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End after the current bar (the position is kept; the journal is committed).

        A live session ends at once, without waiting for the feed's next bar.
        """
        self._stop.set()
        self.feed.stop()
        if self.live_feed is not None:
            self.live_feed.stop()

    def kill(self, reason: str = "kill switch") -> None:
        """Kill switch: cancel, flatten and stop, whatever the strategy says.

        A replay acts before its next bar; a live session at once, without waiting for the
        feed's next bar (its loop ends, then cancels and flattens).
        """
        self._kill = reason
        if self.live_feed is not None:
            self.live_feed.stop()

    def join(self, timeout: float | None = None) -> None:
        """Wait for a started session to end; re-raises its error.

        Raises
        ------
        SessionInterrupted
            Interrupted while waiting (Ctrl-C, a notebook's interrupt): the session was
            stopped after its current bar (:meth:`stop`) and waited for, so nothing runs on
            behind the notebook's back; with a ``state_dir`` the same session resumes there.
        """
        if self._thread is not None:
            try:
                self._thread.join(timeout)
            except KeyboardInterrupt:
                self.stop()
                self._thread.join()
                raise SessionInterrupted(self._interrupted()) from None
        if self.error is not None:
            raise self.error

    def _interrupted(self) -> str:
        """Where an interrupted session stopped, and how to go on."""
        st = self.status()
        where = (
            f"interrupted: the session stopped after bar {st['bars']:,} (position "
            f"{st['position']:+d}, {st['orders_sent']} orders sent)"
        )
        if self.state_dir is None:
            return (
                f"{where}; it kept no journal (state_dir=None): session.result() is the "
                "record so far, and a new session starts from the first bar"
            )
        return (
            f"{where}; its journal in {self.state_dir} is committed: run the same session "
            "again (same state_dir) to resume it, no order is sent twice"
        )

    def close(self) -> None:
        """Close the journal and the broker, and let the state folder go."""
        self.journal.close()
        self.broker.close()
        self._release()

    def status(self) -> dict[str, Any]:
        """Bars done, position, equity, orders sent (the session's, journaled by every run;
        ``orders_sent_now``: by this process, less after a resume), open alerts."""
        eng = self.engine
        return {
            "bars": len(eng.equity),
            "position": eng.position_qty,
            "equity": eng.equity[-1] if eng.equity else eng.cash,
            "orders_sent": len(self.journal.orders()),
            "orders_sent_now": eng.om.sent,
            "trades": len(eng.trades),
            "stopped": eng.stopped,
            "halted_reason": eng.halted_reason,
        }


def _next_contract(roll: Roll | None) -> tuple[str, float] | None:
    """The engine's ``roll`` argument: the new contract and its last price."""
    return None if roll is None else (roll.to_symbol, roll.to_close)


def _bar_fields(bar: Bar) -> tuple[int, int, float, float, float, float, float, str]:
    return (bar.ts, bar.end, bar.open, bar.high, bar.low, bar.close, bar.volume, bar.symbol)


def _frame(bars: list[Bar]) -> pd.DataFrame:
    """Received bars as a frame like ``load_bars``'s (UTC bar starts, OHLCV, symbol)."""
    index = pd.DatetimeIndex(
        pd.to_datetime([b.ts for b in bars], unit="ns", utc=True), name="ts_event"
    )
    return pd.DataFrame(
        {
            "open": [b.open for b in bars],
            "high": [b.high for b in bars],
            "low": [b.low for b in bars],
            "close": [b.close for b in bars],
            "volume": [b.volume for b in bars],
            "symbol": [b.symbol for b in bars],
        },
        index=index,
    )


async def _nothing() -> AsyncIterator[Bar | FeedNotice]:
    """An empty async iteration (the session ended within the gap)."""
    return
    yield
