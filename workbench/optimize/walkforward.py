"""Walk-forward analysis: optimise in sample, trade the choice out of sample, window by window.

>>> from workbench.optimize import ParameterGrid, walk_forward
>>> grid = ParameterGrid(MomentumStrategy, {"fast_period": [10, 20], "slow_period": [50, 100]})
>>> wf = walk_forward(bars, grid, in_sample=20_000, out_of_sample=5_000, gap=60)
>>> wf.windows                   # per window: bars, dates, chosen parameters, IS and OOS figures
>>> wf.stitched.summary()        # the out-of-sample windows traded one after another
>>> wf.save()                    # results/walkforward/{time}_{strategy}/

Windows are counted in bars of ``bars``. Window ``k`` (rolling) has its in-sample part at bars
``[k * step, k * step + in_sample)``; anchored windows all start at bar 0 and grow. The
out-of-sample part starts ``gap`` bars (the purge/embargo gap) after the in-sample end and is
``out_of_sample`` bars long (the last one may be shorter). Nothing of a window's out-of-sample
part, or of anything after it, is seen when its parameters are chosen: the in-sample sweep runs
on a slice that ends before it.

Out of sample, the chosen parameters' signals are computed on the bars from the window's
in-sample start up to the end of its out-of-sample part (the in-sample bars only warm up the
indicators; signals depend on past bars only), then kept for the out-of-sample bars.
**Positions are flattened at every window edge**: the signal of a window's last bar is flat,
so an open position closes at the next bar's open, and each window starts flat. The stitched
run is one backtest over the out-of-sample span with these signals (flat between windows when
``step`` exceeds ``out_of_sample``), so its equity carries from one window to the next.

Each window's out-of-sample figures (``oos_*`` in ``windows``) are a slice of that one run,
not a separate backtest: its trades are the stitched trades entered in the window (the exit
at the next window's first open included), its P&L the stitched equity's change from the
close of its first bar to the close of the bar after its last one. So the windows' trades and
``oos_pnl_usd`` add up to the stitched run's, and the risk layer's state (equity, consecutive
losses, halts) carries across windows as it would in one account. ``oos_unreliable`` names the
figures resting on too few trade dates or trades, by the backtest's rules
(:mod:`workbench.analysis.reliability`).

Walk-forward efficiency (Pardo): the annualised out-of-sample return over the annualised
in-sample return of the chosen parameters, each annualised as ``total return x 252 / trade
dates`` (no compounding). Per window and overall (the stitched run's return over the mean of
the windows' in-sample ones). Undefined (None) when the in-sample return is not positive.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from workbench.analysis import (
    PERIODS_PER_YEAR,
    compute_metrics,
    reliability_notes,
    unreliable_metrics,
)
from workbench.backtest import run_backtest
from workbench.backtest.engine import build_config
from workbench.errors import ConfigError
from workbench.market.calendar import trade_dates
from workbench.optimize.grid import ParameterGrid
from workbench.optimize.progress import progress_bar
from workbench.optimize.sweep import (
    MINIMIZE,
    SweepResult,
    _plain,
    check_objective,
    describe_bars,
    sweep,
)
from workbench.optimize.walkforward_page import walkforward_page
from workbench.results.folders import atomic_folder, prepare_parent
from workbench.results.saver import utc_now
from workbench.strategies.base import Strategy
from workbench.visualization import save_with_report
from workbench.visualization.report.document import write_plotly_js

if TYPE_CHECKING:
    from workbench.backtest.result import BacktestResult

#: What the stitched run does at window edges (written into walkforward.json).
EDGE_POLICY = (
    "flattened: the signal of each out-of-sample window's last bar is flat, so a position "
    "closes at the next bar's open and every window starts flat"
)
#: What each window's out-of-sample figures are (written into walkforward.json).
WINDOW_FIGURES = (
    "slices of the stitched run (one account): a window's trades are those entered in it, its "
    "P&L the stitched equity's change over it (up to the close of its last position), so the "
    "windows' trades and P&L add up to the stitched run's"
)
#: How walk-forward efficiency is computed (written into walkforward.json).
WFE_DEFINITION = (
    "annualised out-of-sample return / annualised in-sample return of the chosen parameters; "
    "annualised = total_return_pct * 252 / trade dates (no compounding); overall: the stitched "
    "run's annualised return / the mean of the windows' in-sample ones; undefined when the "
    "in-sample return is not positive"
)


#: The stitched out-of-sample run's folder inside a walk-forward folder (its report.html and
#: the one plotly.min.js that walkforward.html loads too).
STITCHED_DIR = "stitched_oos"


@dataclass(frozen=True)
class Window:
    """One walk-forward window, in bar positions (ends exclusive).

    Attributes
    ----------
    index : int
        Window number, from 0.
    is_start, is_end : int
        In-sample bars ``[is_start, is_end)``.
    oos_start, oos_end : int
        Out-of-sample bars ``[oos_start, oos_end)``; ``oos_start = is_end + gap``.
    """

    index: int
    is_start: int
    is_end: int
    oos_start: int
    oos_end: int


def walk_forward_windows(
    n_bars: int,
    in_sample: int,
    out_of_sample: int,
    *,
    step: int | None = None,
    gap: int = 0,
    anchored: bool = False,
) -> list[Window]:
    """The windows of a walk-forward over ``n_bars`` bars.

    Parameters
    ----------
    n_bars : int
        Bars available.
    in_sample : int
        In-sample bars of the first window (of every window when rolling).
    out_of_sample : int
        Out-of-sample bars per window (the last window may have fewer).
    step : int, optional
        Bars between consecutive windows' starts. Default: ``out_of_sample`` (the
        out-of-sample parts follow each other without overlap or hole).
    gap : int, default 0
        Purge/embargo bars between each in-sample end and its out-of-sample start, used by
        neither.
    anchored : bool, default False
        Every in-sample part starts at bar 0 (and grows by ``step``).

    Returns
    -------
    list of Window
    """
    step = out_of_sample if step is None else step
    for name, value, low in (
        ("in_sample", in_sample, 1),
        ("out_of_sample", out_of_sample, 1),
        ("step", step, 1),
        ("gap", gap, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ConfigError(
                f"walk-forward: {name} must be an integer >= {low} bars, got {value!r}"
            )
    out = []
    k = 0
    while True:
        start = 0 if anchored else k * step
        is_end = (k * step if anchored else start) + in_sample
        oos_start = is_end + gap
        if oos_start >= n_bars:
            break
        out.append(Window(k, start, is_end, oos_start, min(oos_start + out_of_sample, n_bars)))
        k += 1
    if not out:
        raise ConfigError(
            f"walk-forward: no window fits in {n_bars:,} bars (in-sample {in_sample:,} + gap "
            f"{gap:,} leaves no out-of-sample bar)",
            hint="shorten --in-sample or --gap, or load a longer period",
        )
    return out


@dataclass(frozen=True)
class PrecomputedSignals(Strategy):
    """Signals and stop distances computed beforehand, looked up by bar start time.

    Bars not in ``signals`` are flat (0), without a stop distance. This is how the
    out-of-sample windows are traded: each window's signals come from its own chosen
    parameters.

    Parameters
    ----------
    signals : pandas.Series
        int8 -1/0/+1 by bar start time.
    stops : pandas.Series
        Stop distance (price units, NaN = none) by bar start time.
    label : str
        The display name.
    windows : tuple of dict
        Per window, its out-of-sample span and parameters (what :meth:`parameters` reports).
    """

    name: ClassVar[str] = "walk_forward"
    display_name: ClassVar[str] = "Walk-forward"

    signals: Any = None
    stops: Any = None
    label: str = ""
    windows: tuple[dict[str, Any], ...] = ()

    def compute_signals(self, bars: pd.DataFrame) -> np.ndarray:
        """The stored signals on ``bars``' times, 0 elsewhere."""
        got = pd.Series(self.signals).reindex(bars.index)
        return got.fillna(0).to_numpy(dtype=np.int8)

    def stop_distance(self, bars: pd.DataFrame) -> np.ndarray | None:
        """The stored stop distances on ``bars``' times, NaN elsewhere."""
        if self.stops is None:
            return None
        return pd.Series(self.stops).reindex(bars.index).to_numpy(dtype=np.float64)

    def parameters(self) -> dict[str, Any]:
        """The walk-forward's label and windows (JSON-ready)."""
        return json.loads(json.dumps({"label": self.label, "windows": list(self.windows)}))


def _window_signals(
    bars: pd.DataFrame, strategy: Strategy, w: Window
) -> tuple[pd.Series, pd.Series]:
    """The chosen strategy's signals and stop distances on window ``w``'s out-of-sample
    bars, computed from bars ``[w.is_start, w.oos_end)`` only; the last bar's signal flat."""
    seen = bars.iloc[w.is_start : w.oos_end]
    sig = np.asarray(strategy.generate_signals(seen), dtype=np.int8)
    dist = strategy.stop_distance(seen)
    cut = w.oos_start - w.is_start
    index = seen.index[cut:]
    signals = pd.Series(sig[cut:].copy(), index=index, dtype=np.int8)
    signals.iloc[-1] = 0  # flat at the window's edge
    stops = pd.Series(
        np.full(len(index), np.nan) if dist is None else np.asarray(dist, np.float64)[cut:],
        index=index,
    )
    return signals, stops


def _annualised(total_return_pct: float | None, days: int) -> float | None:
    if total_return_pct is None or days <= 0 or not math.isfinite(total_return_pct):
        return None
    return total_return_pct * PERIODS_PER_YEAR / days


def _efficiency(oos: float | None, is_: float | None) -> float | None:
    """OOS / IS annualised return; None unless the in-sample return is positive (a ratio to
    a loss or to nothing says nothing about how much of the in-sample edge survived)."""
    if oos is None or is_ is None or not (math.isfinite(oos) and math.isfinite(is_)) or is_ <= 0:
        return None
    return oos / is_


def _figure(result: BacktestResult, key: str) -> Any:
    perf = result.metrics["performance"]
    if key == "trades_rejected":
        return result.trades_rejected
    if key == "circuit_breaker_triggered":
        return result.circuit_breaker_triggered
    return _plain(perf.get(key))


@dataclass
class WalkForwardResult:
    """A finished walk-forward.

    Attributes
    ----------
    windows : pandas.DataFrame
        One row per window: bar positions and times, the chosen parameters (``param.*``),
        the in-sample and out-of-sample objective, return (total and annualised), Sharpe
        ratio and trades, and the window's walk-forward efficiency. The out-of-sample
        figures are slices of :attr:`stitched` (``oos_pnl_usd`` and ``oos_total_trades`` sum
        to its P&L and trades); ``oos_unreliable`` names those too short to trust.
    stitched : BacktestResult
        The out-of-sample windows traded one after another (one account).
    grid : ParameterGrid
        What each in-sample sweep searched.
    objective : str
        The figure the in-sample sweeps maximise (minimise for drawdown and risk counters).
    settings : dict
        Window sizes, gap, anchoring, edge policy and backtest options.
    sweeps : list of SweepResult
        Each window's in-sample sweep.
    """

    windows: pd.DataFrame
    stitched: BacktestResult
    grid: ParameterGrid
    objective: str
    settings: dict[str, Any]
    sweeps: list[SweepResult] = field(default_factory=list, repr=False)

    def summary(self) -> dict[str, Any]:
        """JSON-ready: settings, the stitched run's figures and the walk-forward efficiency."""
        w = self.windows
        perf = self.stitched.metrics["performance"]
        days = len(self.stitched.daily_pnl)
        oos_annual = _annualised(_plain(perf.get("total_return_pct")), days)
        is_annual = [v for v in w["is_annual_return_pct"].tolist() if v is not None and v == v]
        is_mean = float(np.mean(is_annual)) if is_annual else None
        return json.loads(
            json.dumps(
                {
                    "strategy": self.grid.strategy.name,
                    "objective": self.objective,
                    "grid": self.grid.to_dict(),
                    "settings": self.settings,
                    "windows": len(w),
                    "windows_traded": int(w["traded"].sum()),
                    "edges": EDGE_POLICY,
                    "window_figures": WINDOW_FIGURES,
                    "walk_forward_efficiency": _efficiency(oos_annual, is_mean),
                    "wfe_definition": WFE_DEFINITION,
                    "out_of_sample": {
                        "start": str(w["oos_start_time"].iloc[0]),
                        "end": str(w["oos_end_time"].iloc[-1]),
                        "trade_dates": days,
                        "annual_return_pct": oos_annual,
                        **{
                            k: _figure(self.stitched, k)
                            for k in (
                                "total_return_pct",
                                "sharpe_ratio",
                                "max_drawdown_pct",
                                "total_trades",
                            )
                        },
                    },
                    "in_sample_mean_annual_return_pct": is_mean,
                    "objective_is_mean": _plain(w["is_objective"].mean()),
                    "objective_oos_mean": _plain(w["oos_objective"].mean()),
                },
                default=_plain,
                allow_nan=False,
            )
        )

    def save(self, results_dir: str | Path = "results/walkforward", *, pdf: bool = False) -> Path:
        """Write the walk-forward folder (complete or not at all).

        ``{UTC time}_{strategy}/``: ``walkforward.json`` (:meth:`summary`), ``windows.csv``,
        ``walkforward.html`` (the page) and ``stitched_oos/`` (the stitched run's normal
        results folder and report, with its equity curve).
        """
        parent = prepare_parent(results_dir)
        base = f"{utc_now():%Y-%m-%d_%H%M%S}_{self.grid.strategy.name}"
        with atomic_folder(parent, base) as (name, tmp):
            summary = self.summary()
            text = json.dumps(summary, indent=2, allow_nan=False)
            (tmp / "walkforward.json").write_text(text + "\n", encoding="utf-8")
            self.windows.to_csv(tmp / "windows.csv", index=False)
            # the page loads the stitched run's one stored plotly.js (as its report.html does)
            stitched = save_with_report(self.stitched, tmp, run_id=STITCHED_DIR, pdf=pdf)
            js = write_plotly_js(Path(stitched))  # already there: written with its report
            page = walkforward_page(
                summary,
                self.windows,
                self.stitched.equity,
                plotly_src=f"{STITCHED_DIR}/{js.name}",
            )
            (tmp / "walkforward.html").write_text(page, encoding="utf-8")
        return parent / name


def _oos_figures(
    stitched: BacktestResult, w: Window, offset: int, objective: str
) -> dict[str, Any]:
    """Window ``w``'s out-of-sample figures as a slice of the stitched run (one account).

    The slice's equity starts at the close of the window's first bar (flat then: the previous
    window's position closed at that bar's open, and this window's first entry fills at the
    next bar's open at the earliest) and ends at the close of the bar after its last one,
    where its last position closed (or at the last bar). So consecutive windows share their
    edge equity, their P&L adds up to the stitched run's, and its trades are those entered
    in the window.
    """
    equity = stitched.equity
    n = len(equity)
    first = w.oos_start - offset
    last = min(w.oos_end - offset, n - 1)
    part = equity.iloc[first : last + 1]
    capital = float(part.iloc[0])
    starts = stitched.signals.index  # bar start times (the equity is at bar ends)
    trades = stitched.trades
    t0, t1 = starts[first], starts[w.oos_end - offset - 1]
    mine = trades[(trades["entry_time"] >= t0) & (trades["entry_time"] <= t1)]
    dates = trade_dates(starts[first : last + 1].as_unit("ns").asi8)
    eod = part.groupby(dates).last()
    daily = pd.Series(np.diff(np.r_[capital, eod.to_numpy()]), index=eod.index)
    perf = compute_metrics(part, mine, daily, capital)["performance"]
    events = stitched.risk_events
    inside = (events["time"] >= t0) & (events["time"] <= t1)
    action = events.loc[inside, "action"].astype(str)
    counters = {
        "trades_rejected": int((action == "rejected").sum()),
        "circuit_breaker_triggered": int((action == "circuit_breaker").sum()),
    }
    span = {
        "start": str(t0.date()),
        "end": str(t1.date()),
        "trading_days": len(eod),
    }
    unreliable = unreliable_metrics(reliability_notes(perf, span))
    return {
        "oos_objective": counters[objective] if objective in counters else _plain(perf[objective]),
        "oos_total_return_pct": _plain(perf["total_return_pct"]),
        "oos_pnl_usd": _plain(perf["total_return_usd"]),
        "oos_sharpe_ratio": _plain(perf["sharpe_ratio"]),
        "oos_total_trades": _plain(perf["total_trades"]),
        "oos_trade_dates": len(eod),
        "oos_unreliable": ", ".join(unreliable),
    }


def _window(
    bars: pd.DataFrame,
    grid: ParameterGrid,
    w: Window,
    objective: str,
    optimise: Callable[[pd.DataFrame, ParameterGrid, str], SweepResult],
    options: dict[str, Any],
    sweeps: list[SweepResult],
    signal_parts: list[pd.Series],
    stop_parts: list[pd.Series],
    described: list[dict[str, Any]],
) -> dict[str, Any]:
    """One window: the in-sample sweep, the chosen parameters' out-of-sample signals, its row
    (the out-of-sample figures are added from the stitched run)."""
    index = bars.index
    in_bars = bars.iloc[w.is_start : w.is_end]  # nothing at or after w.is_end
    result = optimise(in_bars, grid, objective)
    sweeps.append(result)
    best = result.best
    defined = result.table[result.table[objective].notna()]
    top = defined.iloc[0] if len(defined) else None
    is_days = 0 if result.returns is None else len(result.returns)
    row: dict[str, Any] = {
        "window": w.index,
        "is_start": w.is_start,
        "is_end": w.is_end,
        "oos_start": w.oos_start,
        "oos_end": w.oos_end,
        "is_start_time": index[w.is_start],
        "is_end_time": index[w.is_end - 1],
        "oos_start_time": index[w.oos_start],
        "oos_end_time": index[w.oos_end - 1],
        "traded": bool(best),
        "params": json.dumps(best, default=str),
        "is_objective": _plain(top[objective]) if top is not None else None,
        "is_total_return_pct": _plain(top["total_return_pct"]) if top is not None else None,
        "is_sharpe_ratio": _plain(top["sharpe_ratio"]) if top is not None else None,
        "is_total_trades": _plain(top["total_trades"]) if top is not None else None,
        "is_trade_dates": is_days,
    }
    row["is_annual_return_pct"] = _annualised(row["is_total_return_pct"], is_days)
    if best:
        strategy = grid.strategy.from_parameters(best)
        sig, stops = _window_signals(bars, strategy, w)
        signal_parts.append(sig)
        stop_parts.append(stops)
    described.append(
        {
            "window": w.index,
            "oos_start": str(index[w.oos_start]),
            "oos_end": str(index[w.oos_end - 1]),
            "params": best,
        }
    )
    return row


def walk_forward(
    bars: pd.DataFrame,
    grid: ParameterGrid,
    *,
    in_sample: int,
    out_of_sample: int,
    step: int | None = None,
    gap: int = 0,
    anchored: bool = False,
    objective: str = "sharpe_ratio",
    client: Any = None,
    optimise: Callable[[pd.DataFrame, ParameterGrid, str], SweepResult] | None = None,
    progress: bool = False,
    **options: Any,
) -> WalkForwardResult:
    """Walk-forward: per window, sweep ``grid`` in sample, trade the best out of sample.

    Parameters
    ----------
    bars : pandas.DataFrame
        Bars from :func:`workbench.data.load_bars`.
    grid : ParameterGrid
        The parameters each in-sample sweep searches.
    in_sample, out_of_sample : int
        Bars per in-sample part (the first one when anchored) and per out-of-sample part.
    step : int, optional
        Bars between windows (default ``out_of_sample``).
    gap : int, default 0
        Purge/embargo bars between in-sample end and out-of-sample start.
    anchored : bool, default False
        In-sample parts all start at the first bar (expanding); default rolling.
    objective : str, default "sharpe_ratio"
        The sweep objective (:data:`~workbench.optimize.METRIC_COLUMNS`).
    client : dask.distributed.Client, optional
        Run each in-sample sweep on this cluster.
    optimise : callable, optional
        ``optimise(in_sample_bars, grid, objective) -> SweepResult`` instead of the full grid
        sweep (e.g. a random or optuna search); it sees only the in-sample bars.
    progress : bool, default False
        A progress bar over the windows (stderr; a widget in Jupyter).
    **options
        Backtest options (:func:`workbench.backtest.run_backtest`), the same in and out of
        sample.

    Returns
    -------
    WalkForwardResult
    """
    check_objective(objective)
    build_config(options.get("config"), **{k: v for k, v in options.items() if k != "config"})
    if not grid.valid():
        raise grid.no_valid_combination()
    windows = walk_forward_windows(
        len(bars), in_sample, out_of_sample, step=step, gap=gap, anchored=anchored
    )
    if optimise is None:

        def optimise(b: pd.DataFrame, g: ParameterGrid, obj: str) -> SweepResult:
            return sweep(b, g, objective=obj, client=client, **options)

    rows: list[dict[str, Any]] = []
    sweeps: list[SweepResult] = []
    signal_parts: list[pd.Series] = []
    stop_parts: list[pd.Series] = []
    described: list[dict[str, Any]] = []
    index = bars.index
    with progress_bar(len(windows), "windows", enabled=progress) as bar:
        for w in windows:
            rows.append(
                _window(
                    bars,
                    grid,
                    w,
                    objective,
                    optimise,
                    options,
                    sweeps,
                    signal_parts,
                    stop_parts,
                    described,
                )
            )
            bar.update(1)
    span = bars.iloc[windows[0].oos_start : windows[-1].oos_end]
    strategy = PrecomputedSignals(
        signals=pd.concat(signal_parts) if signal_parts else pd.Series(dtype=np.int8),
        stops=pd.concat(stop_parts) if stop_parts else pd.Series(dtype=np.float64),
        label=f"Walk-forward {grid.strategy.display_name or grid.strategy.name}",
        windows=tuple(described),
    )
    stitched = run_backtest(span, strategy, **options)
    for row, w in zip(rows, windows, strict=True):
        row.update(_oos_figures(stitched, w, windows[0].oos_start, objective))
        row["oos_annual_return_pct"] = _annualised(
            row["oos_total_return_pct"], row["oos_trade_dates"]
        )
        row["wfe"] = _efficiency(row["oos_annual_return_pct"], row["is_annual_return_pct"])
    table = pd.DataFrame(rows)
    for p in grid.ranges:
        table[f"param.{p}"] = [json.loads(s).get(p) for s in table["params"]]
    settings = {
        "in_sample_bars": in_sample,
        "out_of_sample_bars": out_of_sample,
        "step_bars": out_of_sample if step is None else step,
        "gap_bars": gap,
        "anchored": anchored,
        "minimize": objective in MINIMIZE,
        "options": json.loads(json.dumps(options, default=str)),
        "bars": len(bars),
        "data_start": str(index[0]),
        "data_end": str(index[-1]),
        "data": describe_bars(bars),
    }
    return WalkForwardResult(table, stitched, grid, objective, settings, sweeps)


__all__ = [
    "EDGE_POLICY",
    "WINDOW_FIGURES",
    "PrecomputedSignals",
    "WalkForwardResult",
    "Window",
    "walk_forward",
    "walk_forward_windows",
]
