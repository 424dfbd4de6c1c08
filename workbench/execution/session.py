"""``PaperSession``: a session in its own thread and event loop, startable from a notebook.

The notebook stays usable while bars are processed (no nest_asyncio: the session's asyncio
loop lives in its thread); :meth:`stop` ends it after the current bar, :meth:`kill` trips the
kill switch (flatten and stop). ``on_bar`` callbacks (a live plot) run in the session thread.

A session with a ``state_dir`` journals to ``state_dir/journal.sqlite`` (and the ``sim``
broker keeps its account in ``state_dir/sim_account.sqlite``): run it again with the same
folder and it replays what it had done from the journal, reconciles with the broker and
goes on, without sending any order twice.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.backtest.config import BacktestConfig
from workbench.backtest.result import BacktestResult
from workbench.execution.brokers.base import Broker
from workbench.execution.brokers.sim import SimBroker
from workbench.execution.config import ExecutionConfig
from workbench.execution.engine import ExecutionEngine
from workbench.execution.feeds import ReplayFeed
from workbench.execution.journal import Journal
from workbench.execution.orders import ReconcileDecision
from workbench.execution.record import session_result
from workbench.strategies.base import Strategy

BarCallback = Callable[[ExecutionEngine], None]


class PaperSession:
    """A strategy replayed (or live) against a broker, bar by bar.

    Parameters
    ----------
    bars : pandas.DataFrame
        The bars to replay (``load_bars``); the first ``bars`` of them with ``max_bars``.
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
        Prefix of the order references.
    """

    def __init__(
        self,
        bars: pd.DataFrame,
        strategy: Strategy,
        config: BacktestConfig | None = None,
        *,
        execution: ExecutionConfig | None = None,
        broker: Broker | None = None,
        speed: float = 0.0,
        state_dir: str | Path | None = None,
        max_bars: int | None = None,
        session_id: str = "wb",
    ) -> None:
        self.cfg = config or BacktestConfig()
        self.bars = bars.iloc[:max_bars] if max_bars else bars
        self.state_dir = None if state_dir is None else Path(state_dir)
        if self.state_dir is not None:
            self.state_dir.mkdir(parents=True, exist_ok=True)
        journal_path = ":memory:" if self.state_dir is None else self.state_dir / "journal.sqlite"
        self.journal = Journal(journal_path)
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
            execution=execution,
            journal=self.journal,
            session_id=session_id,
        )
        self.feed = ReplayFeed(self.bars, speed=speed)
        self.callbacks: list[BarCallback] = []
        self.reconciled: list[ReconcileDecision] = []
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._kill: str | None = None
        self.finished = threading.Event()

    @property
    def resumed_from(self) -> int:
        """Bars an earlier run had completed (replayed from the journal, nothing sent)."""
        return self.engine.om.replay_until

    def on_bar(self, callback: BarCallback) -> None:
        """Call ``callback(engine)`` after each live bar (in the session's thread)."""
        self.callbacks.append(callback)

    # -- running ---------------------------------------------------------------------------
    def run(self) -> BacktestResult:
        """Run to the end of the bars (or :meth:`stop`) in this thread; the record."""
        eng = self.engine
        self.broker.connect()
        self.journal.set_meta("strategy", eng.strategy.parameters())
        self.journal.commit()
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
            else:
                eng.finish()
            eng.checkpoint()
        finally:
            self.finished.set()
        return self.result()

    def result(self) -> BacktestResult:
        """The record so far, shaped like a backtest's."""
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
        """End after the current bar (the position is kept; the journal is committed)."""
        self._stop.set()
        self.feed.stop()

    def kill(self, reason: str = "kill switch") -> None:
        """Kill switch: cancel, flatten and stop, whatever the strategy says."""
        self._kill = reason

    def join(self, timeout: float | None = None) -> None:
        """Wait for a started session to end; re-raises its error."""
        if self._thread is not None:
            self._thread.join(timeout)
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        """Close the journal and the broker."""
        self.journal.close()
        self.broker.close()

    def status(self) -> dict[str, Any]:
        """Bars done, position, equity, orders sent, open alerts."""
        eng = self.engine
        return {
            "bars": len(eng.equity),
            "position": eng.position_qty,
            "equity": eng.equity[-1] if eng.equity else eng.cash,
            "orders_sent": eng.om.sent,
            "trades": len(eng.trades),
            "stopped": eng.stopped,
            "halted_reason": eng.halted_reason,
        }
