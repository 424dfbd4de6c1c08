"""``run_backtest``: vectorized signals, a compiled path-dependent kernel, a full record.

>>> from workbench.data import load_bars
>>> from workbench.strategies import MomentumStrategy
>>> bars = load_bars("MCL_FUT", start="2024-03-01", end="2024-06-30")
>>> result = run_backtest(bars, MomentumStrategy(fast_period=20, slow_period=50))
>>> print(result.summary())
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from workbench.backtest.config import BacktestConfig
from workbench.backtest.result import BacktestResult, Deferred
from workbench.backtest.simulate import (
    SimInputs,
    SimOutputs,
    SimParams,
    positions_from_trades,
    simulate_native,
    simulate_python,
)
from workbench.concurrency import worker
from workbench.data.schemas import SCHEMAS
from workbench.errors import ConfigError, DataError
from workbench.market.calendar import session_schedule, trade_dates
from workbench.market.contracts import MARGIN_SOURCE, ContractSpec, contract_spec
from workbench.model import codes as D
from workbench.model.records import TRADE_COLUMNS
from workbench.native import first_not_finite, first_not_increasing, run_starts
from workbench.strategies.base import Strategy, TimeFilter

_NS_PER_HOUR = 3_600_000_000_000
_RISK_SHORTCUTS = ("risk_per_trade", "daily_loss_limit", "max_position_contracts")


def build_config(config: BacktestConfig | None = None, **overrides: Any) -> BacktestConfig:
    """A :class:`BacktestConfig` with keyword overrides: its own fields, plus the plan's
    shortcuts ``risk_per_trade``, ``daily_loss_limit`` and ``max_position_contracts`` (risk
    limits) and ``stop``/``sizing``/``risk`` given as dicts."""
    cfg = config or BacktestConfig()
    fields = {f.name for f in dataclasses.fields(BacktestConfig)}
    risk_changes = {k: overrides.pop(k) for k in _RISK_SHORTCUTS if overrides.get(k) is not None}
    for k in _RISK_SHORTCUTS:
        overrides.pop(k, None)
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ConfigError(
            f"run_backtest: unknown option(s) {', '.join(unknown)}",
            hint=f"options: {', '.join(sorted(fields | set(_RISK_SHORTCUTS)))}",
        )
    changes = {k: v for k, v in overrides.items() if v is not None}
    for name in ("risk", "sizing", "stop"):
        if isinstance(changes.get(name), dict):
            changes[name] = type(getattr(cfg, name)).from_dict(
                {**getattr(cfg, name).to_dict(), **changes[name]}
            )
    if risk_changes:
        changes["risk"] = dataclasses.replace(changes.get("risk", cfg.risk), **risk_changes)
    return dataclasses.replace(cfg, **changes) if changes else cfg


def _check_bars(data: Any) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"data must be a DataFrame of bars, got {type(data).__name__}",
            hint="load it with workbench.data.load_bars",
        )
    missing = [c for c in ("open", "high", "low", "close", "volume") if c not in data]
    if missing:
        raise DataError(
            f"data is missing column(s) {', '.join(missing)}",
            hint="bars need open, high, low, close and volume",
        )
    if data.empty:
        raise DataError("data has no bars", hint="check the symbol and the date range")
    if not isinstance(data.index, pd.DatetimeIndex) or data.index.tz is None:
        raise DataError("data must be indexed by a tz-aware DatetimeIndex (UTC bar start)")
    ts = _ts_ns(data.index)
    k = first_not_increasing(ts)
    if k is not None:
        if ts[k] < ts[k - 1]:
            raise DataError(
                f"data index is not sorted by time (at row {k}: {data.index[k]})",
                hint="sort it: data.sort_index()",
            )
        raise DataError(
            f"data has duplicate timestamps (first: {data.index[k]})",
            hint="one bar per timestamp: load a continuous series or one contract",
        )
    for col in ("open", "high", "low", "close"):
        values = np.ascontiguousarray(data[col].to_numpy(np.float64))
        bad = first_not_finite(values)
        if bad is not None:
            kind = "NaN" if np.isnan(values[bad]) else "infinite"
            raise DataError(
                f"data has {kind} prices (first at {data.index[bad]}, column {col})",
                hint="drop or fill those bars before backtesting",
            )
    return data


def _ts_ns(index: pd.DatetimeIndex) -> np.ndarray:
    """Bar start times as int64 nanoseconds (a view when the index is already in ns)."""
    idx = index if index.unit == "ns" else index.as_unit("ns")
    return np.ascontiguousarray(idx.asi8)


def _interval_ns(data: pd.DataFrame) -> int:
    schema = data.attrs.get("schema")
    if schema in SCHEMAS and SCHEMAS[schema].interval_ns:
        return SCHEMAS[schema].interval_ns
    diffs = np.diff(_ts_ns(data.index[:1000]))
    return int(np.median(diffs)) if len(diffs) else 60_000_000_000


def _trade_days(ts_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the unique CME trade dates as datetime64[D], the first bar of each date after the
    first).

    Time zones change on the hour, so the trade date is computed once per distinct hour.
    """
    starts = run_starts(ts_ns, _NS_PER_HOUR)
    per_hour = trade_dates(ts_ns[starts] // _NS_PER_HOUR * _NS_PER_HOUR)
    new_day = np.r_[False, per_hour[1:] != per_hour[:-1]]
    dates = per_hour[np.r_[True, new_day[1:]]] if len(per_hour) else per_hour
    return dates, starts[new_day]


def _window_mask(ts_ns: np.ndarray, window: str) -> np.ndarray:
    try:
        start, end = (s.strip() for s in window.split("-"))
    except ValueError:
        raise ConfigError(f"entry_window {window!r} must look like 09:00-14:30") from None
    return TimeFilter(start, end).mask(pd.DatetimeIndex(ts_ns, tz="UTC"))


def _before_halt(
    ts_ns: np.ndarray, dates: np.ndarray, day_starts: np.ndarray, minutes: int, spec: ContractSpec
) -> np.ndarray:
    """Bars starting within ``minutes`` of their session's close (daily halt, early closes)."""
    sched = session_schedule(dates[0].item(), dates[-1].item(), spec.calendar)
    close_by_date = dict(
        zip(
            sched.index.to_numpy().astype("datetime64[D]"),
            pd.DatetimeIndex(sched["market_close"]).as_unit("ns").asi8,
            strict=True,
        )
    )
    # A trade date the calendar does not list (rare) gets no forced exit.
    closes = np.array([close_by_date.get(d, 0) for d in dates], dtype=np.int64)
    per_bar = np.repeat(closes, np.diff(np.r_[0, day_starts, len(ts_ns)]))
    return (per_bar > 0) & (per_bar - ts_ns <= minutes * 60_000_000_000)


def _symbol_codes(data: pd.DataFrame) -> tuple[list[str] | None, np.ndarray]:
    """Contract names and each bar's code (None, zeros without a symbol column)."""
    if "symbol" not in data:
        return None, np.zeros(len(data), dtype=np.int8)
    sym = data["symbol"]
    cat = sym.array if isinstance(sym.dtype, pd.CategoricalDtype) else pd.Categorical(sym)
    codes = np.asarray(cat.codes)
    if len(codes) and codes.min() < 0:
        bad = data.index[int(np.argmin(codes))]
        raise DataError(
            f"data has bars without a symbol (first at {bad})",
            hint="fill the symbol column (each bar's contract), or drop it for a single contract",
        )
    return [str(c) for c in cat.categories], codes


@dataclasses.dataclass(frozen=True)
class Prepared:
    """What a backtest computes from the bars before the kernel runs."""

    x: SimInputs
    dates: np.ndarray  # unique CME trade dates (datetime64[D]); x.day_starts separates them
    signals: np.ndarray  # int8 strategy signals
    symbols: list[str] | None  # contract names (None without a symbol column)
    codes: np.ndarray  # each bar's index into ``symbols``


@dataclasses.dataclass(frozen=True)
class MarketInputs:
    """What a backtest computes from the bars whatever the strategy (a sweep's combinations
    share it): prices, trade dates, rolls, entry window and forced exits."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    dates: np.ndarray  # unique CME trade dates (datetime64[D])
    day_starts: np.ndarray  # int64: first bar of each trade date after the first
    rolls: np.ndarray  # int64: bars whose contract differs from the previous bar's
    entry_ok: np.ndarray | None  # bool: entries allowed at this bar's open (None: all)
    force_flat: np.ndarray | None  # bool: be flat at this bar's open (None: never)
    symbols: list[str] | None  # contract names (None without a symbol column)
    codes: np.ndarray  # each bar's index into ``symbols``


def prepare_market(data: pd.DataFrame, cfg: BacktestConfig, spec: ContractSpec) -> MarketInputs:
    """Prices, trade dates, rolls, entry window and forced exits of checked bars."""
    ts = _ts_ns(data.index)
    dates, day_starts = _trade_days(ts)
    symbols, codes = _symbol_codes(data)
    return MarketInputs(
        open=data["open"].to_numpy(np.float64),
        high=data["high"].to_numpy(np.float64),
        low=data["low"].to_numpy(np.float64),
        close=data["close"].to_numpy(np.float64),
        dates=dates,
        day_starts=day_starts,
        rolls=np.flatnonzero(codes[1:] != codes[:-1]) + 1,
        entry_ok=_window_mask(ts, cfg.entry_window) if cfg.entry_window else None,
        force_flat=(
            _before_halt(ts, dates, day_starts, cfg.flat_before_halt_minutes, spec)
            if cfg.flat_before_halt_minutes > 0
            else None
        ),
        symbols=symbols,
        codes=codes,
    )


def stop_distances(strategy: Strategy, data: pd.DataFrame) -> np.ndarray:
    """The strategy's stop distance per bar as float64 (NaN everywhere when it has none)."""
    dist = strategy.stop_distance(data)
    return np.full(len(data), np.nan) if dist is None else np.asarray(dist, dtype=np.float64)


def checked_signals(strategy: Strategy, data: pd.DataFrame) -> np.ndarray:
    """The strategy's int8 signals, one per bar (ConfigError otherwise)."""
    signals = strategy.generate_signals(data)
    if len(signals) != len(data):
        raise ConfigError(f"{strategy.name} returned {len(signals)} signals for {len(data)} bars")
    return signals.astype(np.int8, copy=False)


def prepare_inputs(
    data: pd.DataFrame, strategy: Strategy, cfg: BacktestConfig, spec: ContractSpec
) -> Prepared:
    """Signals, stop distances, trade dates and rolls: the kernel's inputs."""
    # The stop distances (an ATR, say: a serial recursion) on a second core while this one
    # computes the signals and the trade dates. Both are pure functions of the bars.
    big = len(data) >= 100_000
    stops = worker("prepare").submit(stop_distances, strategy, data) if big else None
    signals = checked_signals(strategy, data)
    m = prepare_market(data, cfg, spec)
    x = SimInputs(
        open=m.open,
        high=m.high,
        low=m.low,
        close=m.close,
        signal=signals,
        stop_distance=stop_distances(strategy, data) if stops is None else stops.result(),
        day_starts=m.day_starts,
        rolls=m.rolls,
        entry_ok=m.entry_ok,
        force_flat=m.force_flat,
    )
    return Prepared(x=x, dates=m.dates, signals=signals, symbols=m.symbols, codes=m.codes)


def checked_bars(data: Any) -> tuple[pd.DataFrame, dict[str, Any], ContractSpec]:
    """(a checked view of ``data`` carrying only the attrs a backtest reads, the source's
    attrs, its contract); DataError or ConfigError when they cannot be backtested."""
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"data must be a DataFrame of bars, got {type(data).__name__}",
            hint="load it with workbench.data.load_bars",
        )
    source_attrs = dict(data.attrs)
    # pandas deep-copies ``attrs`` (with the roll list) into every object derived from the
    # frame, even a column: work on a view (no data copied) that carries only what is needed.
    view = pd.DataFrame(data, copy=False)
    view.attrs = {k: source_attrs[k] for k in ("schema", "product") if k in source_attrs}
    view = _check_bars(view)
    product = source_attrs.get("product") or "MCL_FUT"
    try:
        spec = contract_spec(product)
    except KeyError as exc:
        raise ConfigError(exc.args[0]) from None
    return view, source_attrs, spec


def sim_params(cfg: BacktestConfig, spec: ContractSpec) -> SimParams:
    """The kernel's scalars for ``cfg`` on contract ``spec``."""
    initial_margin, maintenance_margin = margins(cfg, spec)
    return SimParams(
        initial_capital=cfg.initial_capital,
        initial_margin=initial_margin,
        maintenance_margin=maintenance_margin,
        commission=cfg.commission_per_contract,
        slippage_ticks=cfg.slippage_ticks,
        tick_value=spec.tick_value,
        tick_size=spec.tick_size,
        multiplier=spec.multiplier,
        use_risk=cfg.use_risk_manager,
        roll=cfg.roll_mode == "roll",
        fixed_contracts=cfg.sizing.contracts,
        risk=cfg.risk,
        sizing=cfg.sizing,
        stop=cfg.stop,
    )


def run_backtest(
    data: pd.DataFrame,
    strategy: Strategy,
    *,
    config: BacktestConfig | None = None,
    use_risk_manager: bool | None = None,
    risk_per_trade: float | None = None,
    daily_loss_limit: float | None = None,
    max_position_contracts: int | None = None,
    initial_capital: float | None = None,
    commission_per_contract: float | None = None,
    slippage_ticks: int | None = None,
    **options: Any,
) -> BacktestResult:
    """Backtest ``strategy`` on ``data`` with futures economics and risk management.

    Parameters
    ----------
    data : pandas.DataFrame
        Bars from :func:`workbench.data.load_bars` (a continuous series or one contract).
    strategy : Strategy
        A strategy instance (e.g. ``MomentumStrategy(fast_period=20, slow_period=50)``).
    config : BacktestConfig, optional
        All settings at once; the keywords below override it.
    use_risk_manager : bool, default True
        Sizing, stops, limits and circuit breakers on.
    risk_per_trade : float, default 0.02
        Fraction of equity risked per trade.
    daily_loss_limit : float, default 0.05
        Fraction of the day's starting equity after which no entries are taken that day.
    max_position_contracts : int, default 5
        Position cap.
    initial_capital : float, default 5000
        Starting equity, USD.
    commission_per_contract : float, default 1.25
        USD per contract per side (IBKR fixed-rate $0.85 plus exchange and regulatory fees).
    slippage_ticks : int, default 1
        Ticks per side on market fills.
    **options
        Any other :class:`BacktestConfig` field: ``stop`` and ``sizing`` (config objects or
        dicts), ``roll_mode``, ``flat_before_halt_minutes``, ``entry_window``, ``engine``.

    Returns
    -------
    BacktestResult
    """
    cfg = build_config(
        config,
        use_risk_manager=use_risk_manager,
        risk_per_trade=risk_per_trade,
        daily_loss_limit=daily_loss_limit,
        max_position_contracts=max_position_contracts,
        initial_capital=initial_capital,
        commission_per_contract=commission_per_contract,
        slippage_ticks=slippage_ticks,
        **options,
    )
    data, source_attrs, spec = checked_bars(data)
    prep = prepare_inputs(data, strategy, cfg, spec)
    params = sim_params(cfg, spec)
    simulate = simulate_native if cfg.engine == "native" else simulate_python
    out = simulate(prep.x, params)
    return build_result(data, strategy, cfg, spec, out, prep, source_attrs)


def margins(cfg: BacktestConfig, spec: ContractSpec) -> tuple[float, float]:
    """(initial, maintenance) margin per contract: the config's, else the contract's."""
    initial = spec.initial_margin if cfg.initial_margin is None else cfg.initial_margin
    maint = spec.maintenance_margin if cfg.maintenance_margin is None else cfg.maintenance_margin
    return float(initial), float(maint)


def _names(table: dict[int, str], codes: np.ndarray) -> pd.Categorical:
    """Codes to their names as a categorical (no string per row: 14k events stay cheap)."""
    names = [table.get(i, "?") for i in range(max(table) + 1)]
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64), categories=names)


def build_result(
    data: pd.DataFrame,
    strategy: Strategy,
    cfg: BacktestConfig,
    spec: ContractSpec,
    out: SimOutputs,
    prep: Prepared,
    attrs: dict[str, Any],
) -> BacktestResult:
    """Turn kernel outputs into a :class:`BacktestResult` (``attrs``: the data's attrs).

    The tables are :class:`~workbench.backtest.result.Deferred`: pandas objects over every bar
    are built when first read, not for a sweep that only wants the metrics.
    """
    start_idx = data.index
    iv_ns = _interval_ns(data)
    ts_ns = _ts_ns(start_idx)
    dates, day_starts, cats, codes = prep.dates, prep.x.day_starts, prep.symbols, prep.codes
    last_of_day = np.r_[np.asarray(day_starts, dtype=np.int64) - 1, len(ts_ns) - 1]

    def end_index() -> pd.DatetimeIndex:
        return pd.DatetimeIndex(ts_ns + iv_ns, tz="UTC", name="ts")

    def trades() -> pd.DataFrame:
        t = out.trades
        entry_bar = t["entry_bar"].astype(np.int64)
        exit_bar = t["exit_bar"].astype(np.int64)
        at_close = t["exit_at_close"].astype(bool)
        if cats is not None:
            symbols: Any = pd.Categorical.from_codes(codes[entry_bar], categories=cats)
        else:
            symbols = np.full(
                len(entry_bar), data.attrs.get("contract") or spec.product, dtype=object
            )
        exit_time = np.where(at_close, ts_ns[exit_bar] + iv_ns, ts_ns[exit_bar])
        return pd.DataFrame(
            {
                "entry_time": pd.DatetimeIndex(ts_ns[entry_bar], tz="UTC"),
                "exit_time": pd.DatetimeIndex(np.asarray(exit_time, dtype=np.int64), tz="UTC"),
                "side": pd.Categorical.from_codes(
                    (np.asarray(t["side"]) > 0).astype(np.int8), categories=["short", "long"]
                ),
                "contracts": t["contracts"].astype(np.int64),
                "entry_price": np.round(t["entry_px"] * spec.tick_size, 10),
                "exit_price": np.round(t["exit_px"] * spec.tick_size, 10),
                "gross_pnl": t["gross_pnl"],
                "commission": t["commission"],
                "slippage_cost": t["slippage_cost"],
                "net_pnl": t["net_pnl"],
                "exit_reason": _names(D.EXIT_REASONS, t["exit_reason"]),
                "bars_held": exit_bar - entry_bar,
                "symbol": symbols,
            },
            columns=list(TRADE_COLUMNS),
        )

    def equity() -> pd.Series:
        return pd.Series(out.equity, index=end_index(), name="equity")

    def position() -> pd.Series:
        held = out.position
        if held is None:
            held = positions_from_trades(len(ts_ns), out.trades)
        return pd.Series(np.asarray(held, dtype=np.int64), index=end_index(), name="position")

    def signals() -> pd.Series:
        return pd.Series(prep.signals.astype(np.int8, copy=False), index=start_idx, name="signal")

    def daily_pnl() -> pd.Series:
        # Daily P&L by CME trade date: change of the close-of-day equity.
        eod = out.equity[last_of_day]
        return pd.Series(
            np.diff(np.r_[cfg.initial_capital, eod]),
            index=pd.Index(dates, name="trade_date"),
            name="net_pnl",
        )

    def risk_events() -> pd.DataFrame:
        ev = out.events
        ev_bars = ev["bar"].astype(np.int64)
        return pd.DataFrame(
            {
                "time": pd.DatetimeIndex(ts_ns[ev_bars], tz="UTC"),
                "action": _names(D.ACTIONS, ev["action"]),
                "reason": _names(D.REASONS, ev["reason"]),
                "requested": ev["requested"].astype(np.int64),
                "approved": ev["approved"].astype(np.int64),
            }
        )

    # The contracts traded through: the first bar's and each roll's (no pass over the bars).
    held = codes[np.r_[0, prep.x.rolls]] if len(codes) else codes
    provenance = {
        "product": attrs.get("product", spec.product),
        "schema": attrs.get("schema"),
        "synthetic": bool(attrs.get("synthetic", False)),
        "sources": attrs.get("sources", []),
        "dataset": attrs.get("dataset"),
        "continuous": attrs.get("continuous"),
        "roll_rule": attrs.get("roll_rule"),
        "adjust": attrs.get("adjust"),
        "rolls": attrs.get("rolls", []),
        "contracts": sorted({str(cats[k]) for k in held}) if cats is not None else [],
    }
    first = pd.Timestamp(int(ts_ns[0]), tz="UTC")
    last = pd.Timestamp(int(ts_ns[-1]) + iv_ns, tz="UTC")
    data_range = {  # start/end: CME trade dates (--start/--end); *_time: exact UTC
        "start": str(dates[0]),
        "end": str(dates[-1]),
        "trading_days": len(last_of_day),
        "total_bars": len(data),
        "start_time": first.isoformat(),
        "end_time": last.isoformat(),
    }
    parameters = {
        "strategy": {
            "name": strategy.display_name or strategy.name,
            "key": strategy.name,
            "class": type(strategy).__name__,
            "parameters": strategy.parameters(),
        },
        "config": cfg.applied(),
        "contract": {
            "product": spec.product,
            "tick_size": spec.tick_size,
            "tick_value": spec.tick_value,
            "multiplier": spec.multiplier,
            "initial_margin": margins(cfg, spec)[0],
            "maintenance_margin": margins(cfg, spec)[1],
            "margin_source": (
                MARGIN_SOURCE
                if cfg.initial_margin is None and cfg.maintenance_margin is None
                else "BacktestConfig"
            ),
        },
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    return BacktestResult(
        trades=Deferred(trades),
        equity=Deferred(equity),
        signals=Deferred(signals),
        position=Deferred(position),
        daily_pnl=Deferred(daily_pnl),
        risk_events=Deferred(risk_events),
        parameters=parameters,
        data_range=data_range,
        provenance=provenance,
        trades_rejected=out.trades_rejected,
        circuit_breaker_triggered=out.circuit_breaker_triggered,
        initial_capital=cfg.initial_capital,
        bars=data,  # the view run on (no copy): benchmark, MAE/MFE, price chart
    )
