"""The compiled sweep: every combination of a grid through the native kernel in one call.

:func:`workbench.optimize.sweep` takes this path when it can (:func:`compiled_reason` says
why not otherwise), and the rows are those of one :func:`workbench.backtest.run_backtest`
per combination (the tests hold them to it), without a backtest result, a DataFrame or a
per-bar equity curve per combination:

- the bars are checked, and their trade dates, rolls, entry window and forced exits computed,
  once for all combinations;
- EMA-crossover combinations (:class:`~workbench.strategies.MomentumStrategy`) get their
  signals in the kernel from one EMA per distinct span, and their stop distances once per
  distinct ``(atr_period, atr_stop_mult)``; any other strategy's signals and stop distances
  are computed here per combination, a chunk of combinations at a time (bounded memory);
- the kernel (``workbench_native.sweep_simulate``) runs groups of combinations over
  cache-sized blocks of bars on every core, and returns per combination only the figures a
  row needs: final equity, maximum drawdown, equity at each trade date's close, each trade's
  net P&L and the risk counters;
- the row's metrics come from those arrays through
  :func:`workbench.analysis.metrics.performance_figures`, the function behind
  :func:`~workbench.analysis.compute_metrics`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.analysis.metrics import performance_figures
from workbench.analysis.returns import daily_return_values
from workbench.backtest.engine import (
    MarketInputs,
    build_config,
    checked_bars,
    checked_signals,
    prepare_market,
    sim_params,
    stop_distances,
)
from workbench.backtest.simulate import native_params
from workbench.native import SweepOutputs, sweep_simulate
from workbench.optimize.runner import METRIC_COLUMNS, Outcome, failed
from workbench.strategies.base import Strategy, bar_interval
from workbench.strategies.momentum import MomentumStrategy

#: The name of each path, as :attr:`workbench.optimize.SweepResult.engine` reports it.
COMPILED = "compiled"
PER_COMBINATION = "per-combination"

#: Combinations of a strategy without a compiled signal whose signals and stop distances are
#: held at once (each ~9 bytes per bar).
CHUNK = 16


def compiled_reason(
    strategy_cls: type[Strategy], options: dict[str, Any], client: Any = None
) -> str | None:
    """Why the compiled path cannot run a sweep of ``strategy_cls`` with ``options``
    (None: it can)."""
    if client is not None:
        return "a Dask client was given: one backtest per combination on the cluster"
    cfg = build_config(options.get("config"), **_plain_options(options))
    if cfg.engine != "native":
        return f"engine={cfg.engine!r} asks for the reference simulation"
    return None


def _is_ema_cross(strategy: Strategy) -> bool:
    """Whether ``strategy``'s signals and stops are MomentumStrategy's own (not overridden)."""
    cls = type(strategy)
    return (
        isinstance(strategy, MomentumStrategy)
        and cls.compute_signals is MomentumStrategy.compute_signals
        and cls.generate_signals is MomentumStrategy.generate_signals
        and cls.stop_distance is MomentumStrategy.stop_distance
    )


@dataclass
class _Batch:
    """Kernel arguments for some combinations."""

    stops: list[np.ndarray]
    stop_index: np.ndarray
    signals: list[np.ndarray]
    signal_index: np.ndarray | None = None
    ema_fast: np.ndarray | None = None
    ema_slow: np.ndarray | None = None
    long_only: np.ndarray | None = None
    signal_mask: np.ndarray | None = None


def _ema_batch(data: pd.DataFrame, strategies: list[MomentumStrategy]) -> _Batch:
    """EMA-crossover combinations: spans for the kernel, stop distances once per ATR setting."""
    stop_keys: dict[tuple[int, float], int] = {}
    stops: list[np.ndarray] = []
    for s in strategies:
        key = (s.atr_period, float(s.atr_stop_mult))
        if key not in stop_keys:
            stop_keys[key] = len(stops)
            stops.append(stop_distances(s, data))
    filt = strategies[0].time_filter
    mask = None if filt is None else filt.mask(data.index + bar_interval(data))
    return _Batch(
        stops=stops,
        stop_index=np.array(
            [stop_keys[(s.atr_period, float(s.atr_stop_mult))] for s in strategies], np.int64
        ),
        signals=[],
        ema_fast=np.array([s.fast_period for s in strategies], np.int64),
        ema_slow=np.array([s.slow_period for s in strategies], np.int64),
        long_only=np.array([not s.allow_short for s in strategies], np.bool_),
        signal_mask=None if mask is None else np.ascontiguousarray(mask, dtype=np.bool_),
    )


def _given_batch(
    data: pd.DataFrame, strategies: list[Strategy], idx: list[int], errors: dict[int, BaseException]
) -> tuple[list[int], _Batch, BaseException | None]:
    """Any strategy: its own signals and stop distances, computed here. A strategy that
    raises is left out, its error kept in ``errors``; an interrupt (Ctrl-C) stops the batch
    there and is returned, for the combinations prepared before it to run first."""
    kept: list[int] = []
    signals, stops = [], []
    interrupt: BaseException | None = None
    for i in idx:
        try:
            sig = np.ascontiguousarray(checked_signals(strategies[i], data))
            stop = np.ascontiguousarray(stop_distances(strategies[i], data))
        except Exception as exc:  # a failing combination must not stop the sweep
            errors[i] = exc
            continue
        except BaseException as exc:  # Ctrl-C: keep what is prepared, then stop
            interrupt = exc
            break
        kept.append(i)
        signals.append(sig)
        stops.append(stop)
    index = np.arange(len(kept), dtype=np.int64)
    batch = _Batch(stops=stops, stop_index=index, signals=signals, signal_index=index)
    return kept, batch, interrupt


def _batches(
    data: pd.DataFrame, strategies: list[Strategy], errors: dict[int, BaseException]
) -> Iterator[tuple[list[int], _Batch, BaseException | None]]:
    """(positions in ``strategies``, kernel arguments, an interrupt to raise once they ran)
    for all of them, in few batches."""
    ema = [i for i, s in enumerate(strategies) if _is_ema_cross(s)]
    # One time filter per batch: the EMA combinations are split by it (usually one group).
    by_filter: dict[Any, list[int]] = {}
    for i in ema:
        by_filter.setdefault(strategies[i].time_filter, []).append(i)
    for idx in by_filter.values():
        yield idx, _ema_batch(data, [strategies[i] for i in idx]), None  # type: ignore[misc]
    taken = set(ema)
    rest = [i for i in range(len(strategies)) if i not in taken]
    for k in range(0, len(rest), CHUNK):
        kept, batch, interrupt = _given_batch(data, strategies, rest[k : k + CHUNK], errors)
        if kept or interrupt is not None:
            yield kept, batch, interrupt


def _run_kernel(m: MarketInputs, params: Any, b: _Batch, threads: int) -> SweepOutputs:
    return sweep_simulate(
        np.ascontiguousarray(m.open),
        np.ascontiguousarray(m.high),
        np.ascontiguousarray(m.low),
        np.ascontiguousarray(m.close),
        np.ascontiguousarray(m.day_starts, dtype=np.int64),
        np.ascontiguousarray(m.rolls, dtype=np.int64),
        None if m.entry_ok is None else np.ascontiguousarray(m.entry_ok, dtype=np.bool_),
        None if m.force_flat is None else np.ascontiguousarray(m.force_flat, dtype=np.bool_),
        params,
        stops=b.stops,
        stop_index=b.stop_index,
        signals=b.signals,
        signal_index=b.signal_index,
        ema_fast=b.ema_fast,
        ema_slow=b.ema_slow,
        long_only=b.long_only,
        signal_mask=b.signal_mask,
        threads=threads,
    )


def _outcomes(
    out: SweepOutputs,
    combos: list[dict[str, Any]],
    capital: float,
    dates: pd.Index,
) -> list[Outcome]:
    """One :class:`Outcome` per combination of a kernel call, as ``runner.evaluate`` makes."""
    ends = np.cumsum(out.trade_counts)
    starts = ends - out.trade_counts
    result = []
    for k, params in enumerate(combos):
        day_eq = out.day_equity[k]
        pnl = np.diff(np.r_[capital, day_eq])
        frac = float(out.max_drawdown_frac[k])
        drawdown = (float(out.max_drawdown_usd[k]), 0.0 if np.isnan(frac) else frac * 100.0)
        net = out.net_pnl[starts[k] : ends[k]]
        perf = performance_figures(float(out.final_equity[k]), drawdown, pnl, net, capital)
        row = dict(params)
        for col in METRIC_COLUMNS:
            row[col] = perf.get(col)
        row["trades_rejected"] = int(out.trades_rejected[k])
        row["circuit_breaker_triggered"] = int(out.circuit_breaker_triggered[k])
        returns = pd.Series(daily_return_values(pnl, capital), index=dates, name="daily_return")
        result.append(Outcome(params, row=row, returns=returns))
    return result


def run_compiled(
    bars: pd.DataFrame,
    strategy_cls: type[Strategy],
    combos: list[dict[str, Any]],
    options: dict[str, Any],
    *,
    threads: int | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Every combination's outcome through the compiled kernel, in the order of ``combos``.

    Parameters
    ----------
    bars : pandas.DataFrame
        Bars from :func:`workbench.data.load_bars`.
    strategy_cls : type
        The strategy; each combination is ``strategy_cls.from_parameters(params)``.
    combos : list of dict
        Valid combinations of its parameters.
    options : dict
        :func:`workbench.backtest.run_backtest` options, the same for every combination.
    threads : int, optional
        Worker threads of the kernel (default: every core, or ``WORKBENCH_SWEEP_THREADS``).
    on_outcome : callable, optional
        Called with each outcome once known.

    Returns
    -------
    list of Outcome
        The same rows and daily returns as ``runner.evaluate`` gives one combination at a time.
    """
    report = on_outcome or (lambda o: None)
    done: dict[int, Outcome] = {}
    try:
        cfg = build_config(options.get("config"), **_plain_options(options))
        data, _, spec = checked_bars(bars)
        market = prepare_market(data, cfg, spec)
        params = native_params(sim_params(cfg, spec))
        strategies = [strategy_cls.from_parameters(p) for p in combos]
    except Exception as exc:  # bad data fails every combination, as run_backtest would
        outcomes = [failed(p, exc) for p in combos]
        for o in outcomes:
            report(o)
        return outcomes
    dates = pd.Index(market.dates, name="trade_date")
    if threads is None:
        threads = int(os.environ.get("WORKBENCH_SWEEP_THREADS", "0") or 0)
    errors: dict[int, BaseException] = {}
    for idx, batch, interrupt in _batches(data, strategies, errors):
        if idx:
            out = _run_kernel(market, params, batch, threads)
            chosen = [combos[i] for i in idx]
            for i, o in zip(idx, _outcomes(out, chosen, cfg.initial_capital, dates), strict=True):
                done[i] = o
                report(o)
        for i in sorted(set(errors) - set(done)):
            done[i] = failed(combos[i], errors[i])
            report(done[i])
        if interrupt is not None:
            raise interrupt
    return [done[i] for i in range(len(combos))]


def _plain_options(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` without ``config`` (given to :func:`build_config` apart)."""
    return {k: v for k, v in options.items() if k != "config"}
