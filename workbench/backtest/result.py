"""What a backtest returns: trades, equity, signals, daily P&L, risk decisions, metrics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from workbench.analysis import (
    compute_metrics,
    compute_statistics,
    drawdown_periods,
    reliability_notes,
    trade_excursions,
)

if TYPE_CHECKING:
    import pandas as pd

T = TypeVar("T")

BLOCKED_SHARE = 0.5
"""Above this share of entry requests rejected, the run says the risk layer blocked most."""
IDLE_SHARE = 0.2
"""No entry in this last share of the period, with entries rejected: 'could no longer trade'."""


class Deferred(Generic[T]):
    """A value built on first read: pass ``Deferred(build)`` for a :class:`BacktestResult`
    table and ``build()`` runs the first time the attribute is read (then never again)."""

    __slots__ = ("build",)

    def __init__(self, build: Callable[[], T]) -> None:
        self.build = build


class _Table(Generic[T]):
    """A dataclass field holding a value or a :class:`Deferred` one, built when first read.

    A backtest in a sweep is often only asked for its metrics: the pandas objects of the
    per-bar series (indexes of ~750k timestamps) are built when a caller reads them.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = "_" + name

    @overload
    def __get__(self, obj: None, objtype: type | None = None) -> _Table[T]: ...
    @overload
    def __get__(self, obj: object, objtype: type | None = None) -> T: ...
    def __get__(self, obj: object | None, objtype: type | None = None) -> T | _Table[T]:
        if obj is None:
            # No class-level default: the dataclass field stays required.
            raise AttributeError(self.slot[1:])
        value = obj.__dict__[self.slot]
        if isinstance(value, Deferred):
            value = obj.__dict__[self.slot] = value.build()
        return value

    def __set__(self, obj: object, value: T | Deferred[T]) -> None:
        obj.__dict__[self.slot] = value


@dataclass
class BacktestResult:
    """The complete record of one backtest.

    The six tables may be given as :class:`Deferred` builders; each is built the first time it
    is read.

    Attributes
    ----------
    trades : pandas.DataFrame
        One row per closed trade (:data:`TRADE_COLUMNS`). Prices are fill prices in dollars
        (slippage included); ``gross_pnl`` is at those prices, ``net_pnl`` after commissions;
        ``slippage_cost`` is the part of gross P&L lost to slippage. Times: fills at a bar's
        open (and intrabar stops/targets) carry the bar's start time; closes at a bar's close
        (end of data, rolls) carry the bar's end time.
    equity : pandas.Series
        Account equity (USD) marked to market at each bar's close, indexed by bar end time.
    signals : pandas.Series
        The strategy's signal (-1/0/+1) at each bar, indexed by bar start (known at bar end).
    position : pandas.Series
        Signed contracts held at each bar's close.
    daily_pnl : pandas.Series
        Net P&L per CME trade date.
    risk_events : pandas.DataFrame
        Every risk decision (accepted, resized, rejected with reason) and circuit-breaker event.
    parameters : dict
        Strategy (name, class, parameters) and backtest configuration.
    data_range : dict
        start, end (the first and last CME trade date run on, as ``--start``/``--end`` take
        them), trading_days, total_bars, start_time, end_time (the first bar's start and the
        last bar's end, UTC).
    provenance : dict
        Product, schema, synthetic or real, sources, contracts and roll dates of the data.
    bars : pandas.DataFrame or None
        The bars the backtest ran on (the engine's view of them: no copy), for the
        buy-and-hold benchmark, each trade's MAE/MFE and the price chart. Not pickled (a
        worker sending a result back does not send the bars again): figures needing them
        are None for an unpickled result unless :attr:`statistics` was read before.
    """

    parameters: dict[str, Any]
    data_range: dict[str, Any]
    provenance: dict[str, Any]
    # Required too (the descriptor has no class default); after the plain fields so that type
    # checkers, which take a descriptor for a default, accept the order.
    trades: _Table[pd.DataFrame] = _Table()
    equity: _Table[pd.Series] = _Table()
    signals: _Table[pd.Series] = _Table()
    position: _Table[pd.Series] = _Table()
    daily_pnl: _Table[pd.Series] = _Table()
    risk_events: _Table[pd.DataFrame] = _Table()
    trades_rejected: int = 0
    circuit_breaker_triggered: int = 0
    initial_capital: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    bars: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        """For pickling (process pools, caches): the tables not read yet are built first (their
        builders are closures over the kernel's outputs); the bars are left out."""
        for f in fields(self):
            getattr(self, f.name)
        state = dict(self.__dict__)
        state["bars"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    @property
    def final_equity(self) -> float:
        """Equity after the last bar."""
        return float(self.equity.iloc[-1]) if len(self.equity) else self.initial_capital

    @cached_property
    def metrics(self) -> dict[str, Any]:
        """Performance, risk and time analysis (computed on first use)."""
        m = compute_metrics(self.equity, self.trades, self.daily_pnl, self.initial_capital)
        risk = self.parameters.get("config", {}).get("risk", {})
        m["risk_metrics"] = {
            "risk_per_trade": risk.get("risk_per_trade"),
            "daily_loss_limit": risk.get("daily_loss_limit"),
            "trades_rejected": self.trades_rejected,
            "circuit_breaker_triggered": self.circuit_breaker_triggered,
        }
        return m

    @cached_property
    def statistics(self) -> dict[str, Any]:
        """summary.json's ``statistics`` and ``benchmark`` blocks (computed on first use; a
        sweep reading only :attr:`metrics` does not pay for them). Without :attr:`bars`
        the benchmark is None and MAE/MFE are None.

        Returns
        -------
        dict
            ``{"statistics": {...}, "benchmark": {...} or None}``; see
            :func:`workbench.analysis.compute_statistics`.
        """
        perf = self.metrics["performance"]
        return compute_statistics(
            self.trades,
            self.daily_pnl,
            self.initial_capital,
            final_equity=self.final_equity,
            max_drawdown_usd=float(perf.get("max_drawdown_usd") or 0.0),
            position=self.position,
            bars=self.bars,
            multiplier=self.parameters.get("contract", {}).get("multiplier"),
        )

    @cached_property
    def excursions(self) -> pd.DataFrame:
        """MAE and MFE in dollars of each trade (NaN without the bars); see
        :mod:`workbench.analysis.excursions`."""
        multiplier = self.parameters.get("contract", {}).get("multiplier") or 0.0
        bars = self.bars if self.bars is not None else self.equity.iloc[:0].to_frame()
        return trade_excursions(self.trades, bars, float(multiplier))

    @property
    def reliability(self) -> list[dict[str, Any]]:
        """Notes when the run is too short for its statistics, each naming the figures it makes
        unreliable (:func:`workbench.analysis.reliability_notes`); empty otherwise."""
        return reliability_notes(self.metrics["performance"], self.data_range)

    @cached_property
    def account(self) -> dict[str, Any]:
        """What the account could do: a margin call ("wiped out"), the share of entry
        requests the risk layer rejected, and whether it could still open positions at the
        end. ``notes`` holds one sentence per finding (for the CLI, summary.json and the
        report): a margin call; more than :data:`BLOCKED_SHARE` of the entry requests
        rejected (risk management on); no entry accepted in the last
        :data:`IDLE_SHARE` of the period while requests were rejected."""
        trades, events = self.trades, self.risk_events
        contract = self.parameters.get("contract") or {}
        cfg = self.parameters.get("config") or {}
        notes: list[str] = []
        out: dict[str, Any] = {
            "wiped_out": False,
            "wiped_out_on": None,
            "entry_requests": None,
            "entries_rejected": int(self.trades_rejected),
            "rejected_share": None,
            "last_entry": None,
            "notes": notes,
        }
        calls = trades[trades["exit_reason"].astype(str) == "margin_call"]
        if len(calls):
            t = calls.iloc[0]
            when = t["exit_time"]
            eq = float(self.final_equity)
            out.update(wiped_out=True, wiped_out_on=when.date().isoformat())
            notes.append(
                f"Account wiped out on {when.date().isoformat()}: a margin call (equity below "
                f"the maintenance margin of ${float(contract.get('maintenance_margin') or 0):,.0f}"
                f" x {int(t['contracts'])} contract(s)) at {when:%Y-%m-%d %H:%M} UTC flattened "
                f"the position; no trading after that (equity left: ${eq:,.2f})."
            )
        action = events["action"].astype(str)
        decided = action.isin(("accepted", "resized", "rejected"))
        rejected = action == "rejected"
        risk_on = bool(cfg.get("use_risk_manager", True))
        rej = int(rejected.sum())
        # Risk management off, only the margin check's refusals and resizes are recorded:
        # every trade had one entry request granted, every rejection one refused.
        req = int(decided.sum()) if risk_on else len(trades) + rej
        if req:
            share = rej / req
            out.update(entry_requests=req, rejected_share=share)
            if risk_on and share > BLOCKED_SHARE:
                top = events.loc[rejected, "reason"].astype(str).value_counts().head(2)
                why = ", ".join(f"{k} {v:,}" for k, v in top.items())
                notes.append(
                    f"The risk layer blocked most entries: {rej:,} of {req:,} entry requests "
                    f"rejected ({share:.0%}; {why}). The results describe the risk limits "
                    "more than the strategy: give it more capital, a smaller stop or risk "
                    "budget in contracts (longer bars), or looser limits."
                )
        if len(trades):
            out["last_entry"] = trades["entry_time"].max().date().isoformat()
        if not out["wiped_out"] and int(rejected.sum()) and len(self.equity):
            start, end = self.equity.index[0], self.equity.index[-1]
            last = trades["entry_time"].max() if len(trades) else start
            late = int((rejected & (events["time"] > last)).sum())
            if late and (end - last) > IDLE_SHARE * (end - start):
                top = events.loc[rejected & (events["time"] > last), "reason"].astype(str)
                notes.append(
                    f"The account could no longer trade: no entry after "
                    f"{last.date().isoformat() if len(trades) else 'the start'} "
                    f"({late:,} entry requests rejected since, mostly "
                    f"{top.value_counts().index[0]}); the equity curve is flat from there."
                )
        return out

    @cached_property
    def drawdowns(self) -> pd.DataFrame:
        """Drawdown periods of the equity curve, deepest first."""
        return drawdown_periods(self.equity, initial_capital=self.initial_capital)

    def summary(self) -> str:
        """A few lines for the terminal."""
        p = self.metrics["performance"]
        synthetic = " [SYNTHETIC DATA]" if self.provenance.get("synthetic") else ""

        def fmt(v: Any, spec: str) -> str:
            return "n/a" if v is None else format(v, spec)

        def usd(v: Any) -> str:
            return "n/a" if v is None else f"{'-' if v < 0 else ''}${abs(v):,.2f}"

        prov = self.provenance
        contracts = prov.get("contracts") or []
        # The symbol run on: one contract (--symbol MCLZ5), or the product's continuous series.
        symbol = contracts[0] if prov.get("continuous") is False and len(contracts) == 1 else None
        return "\n".join(
            [
                f"{self.parameters['strategy']['name']} on {symbol or prov.get('product')} "
                f"{self.data_range['start']} to {self.data_range['end']} "
                f"({self.data_range['total_bars']:,} bars){synthetic}",
                f"  return {fmt(p['total_return_pct'], '.2f')}%"
                f" ({usd(p['total_return_usd'])})"
                f"  sharpe {fmt(p['sharpe_ratio'], '.2f')}"
                f"  max dd {fmt(p['max_drawdown_pct'], '.2f')}%"
                f" ({usd(p['max_drawdown_usd'])})",
                f"  trades {p['total_trades']}  win rate {fmt(p['win_rate'], '.1%')}"
                f"  profit factor {fmt(p['profit_factor'], '.2f')}"
                f"  avg trade {usd(p['avg_trade_pnl'])}",
                f"  risk: {self.trades_rejected} entries rejected, "
                f"{self.circuit_breaker_triggered} circuit breakers",
                *(f"  ! {note}" for note in self.account["notes"]),
            ]
        )

    def to_vectorbt(self, **kwargs: Any) -> Any:
        """The same fills as a ``vectorbt.Portfolio``, for vectorbt's stats, plots and accessors.

        Built on every bar (indexed like :attr:`equity`, marked at each bar's close) with our
        fills as orders in the bars they happened in: fill prices, sizes times the contract
        multiplier, commissions; ``init_cash`` is :attr:`initial_capital`. Its trades and
        final value equal ours, its value is :attr:`equity`, so ``stats()`` gives our
        maximum drawdown and total return and a ``Period`` of the run's bars. Without
        :attr:`bars` (unpickled) it is built on the fills alone, one row per fill (drawdown
        and period then of the fill prices); see :mod:`workbench.backtest.vectorbt`.

        Parameters
        ----------
        **kwargs
            ``freq`` (the bar interval, e.g. ``"1min"``, for vectorbt's annualised statistics
            and its ``Period``) or ``column`` (its column name).

        Returns
        -------
        vectorbt.Portfolio
        """
        # imported on call: the vectorbt bridge is for notebooks, off the CLI's start-up path
        from workbench.backtest.vectorbt import result_to_portfolio

        return result_to_portfolio(self, **kwargs)
