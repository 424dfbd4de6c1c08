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
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.backtest.config import BacktestConfig
from workbench.backtest.result import TRADE_COLUMNS, BacktestResult
from workbench.backtest.simulate import (
    SimInputs,
    SimOutputs,
    SimParams,
    simulate_native,
    simulate_python,
)
from workbench.errors import ConfigError, DataError
from workbench.market.contracts import ContractSpec, contract_spec
from workbench.risk import decisions as D

if TYPE_CHECKING:
    import pandas as pd

    from workbench.strategies.base import Strategy

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
    import pandas as pd

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
    ts = data.index.as_unit("ns").asi8
    steps = np.diff(ts)
    if (steps <= 0).any():
        k = int(np.flatnonzero(steps <= 0)[0]) + 1
        if steps[k - 1] < 0:
            raise DataError(
                f"data index is not sorted by time (at row {k}: {data.index[k]})",
                hint="sort it: data.sort_index()",
            )
        raise DataError(
            f"data has duplicate timestamps (first: {data.index[k]})",
            hint="one bar per timestamp: load a continuous series or one contract",
        )
    for col in ("open", "high", "low", "close"):
        values = data[col].to_numpy(np.float64)
        if np.isnan(values).any():
            bad = data.index[int(np.flatnonzero(np.isnan(values))[0])]
            raise DataError(
                f"data has NaN prices (first at {bad}, column {col})",
                hint="drop or fill those bars before backtesting",
            )
    return data


def _interval_ns(data: pd.DataFrame) -> int:
    from workbench.data.schemas import SCHEMAS

    schema = data.attrs.get("schema")
    if schema in SCHEMAS and SCHEMAS[schema].interval_ns:
        return SCHEMAS[schema].interval_ns
    diffs = np.diff(data.index.as_unit("ns").asi8[:1000])
    return int(np.median(diffs)) if len(diffs) else 60_000_000_000


def _trade_days(ts_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the unique CME trade dates as datetime64[D], index into them of each bar).

    Time zones change on the hour, so the trade date is computed once per distinct hour.
    """
    from workbench.market.calendar import trade_dates

    hours = ts_ns // _NS_PER_HOUR
    starts = np.r_[0, np.flatnonzero(hours[1:] != hours[:-1]) + 1]
    per_hour = trade_dates(hours[starts] * _NS_PER_HOUR)
    new_day = np.r_[True, per_hour[1:] != per_hour[:-1]]
    day_of_hour = np.cumsum(new_day) - 1
    day = np.repeat(day_of_hour, np.diff(np.r_[starts, len(hours)]))
    return per_hour[new_day], day


def _window_mask(ts_ns: np.ndarray, window: str) -> np.ndarray:
    import pandas as pd

    from workbench.strategies.base import TimeFilter

    try:
        start, end = (s.strip() for s in window.split("-"))
    except ValueError:
        raise ConfigError(f"entry_window {window!r} must look like 09:00-14:30") from None
    return TimeFilter(start, end).mask(pd.DatetimeIndex(ts_ns, tz="UTC"))


def _before_halt(
    ts_ns: np.ndarray, dates: np.ndarray, day: np.ndarray, minutes: int, spec: ContractSpec
) -> np.ndarray:
    """Bars starting within ``minutes`` of their session's close (daily halt, early closes)."""
    import pandas as pd

    from workbench.market.calendar import session_schedule

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
    per_bar = closes[day]
    return (per_bar > 0) & (per_bar - ts_ns <= minutes * 60_000_000_000)


def _symbol_codes(data: pd.DataFrame) -> tuple[list[str] | None, np.ndarray]:
    """Contract names and each bar's code (None, zeros without a symbol column)."""
    import pandas as pd

    if "symbol" not in data:
        return None, np.zeros(len(data), dtype=np.int64)
    sym = data["symbol"]
    cat = sym.array if isinstance(sym.dtype, pd.CategoricalDtype) else pd.Categorical(sym)
    return [str(c) for c in cat.categories], np.asarray(cat.codes, dtype=np.int64)


def prepare_inputs(
    data: pd.DataFrame, strategy: Strategy, cfg: BacktestConfig, spec: ContractSpec
) -> tuple[SimInputs, np.ndarray, np.ndarray]:
    """Per-bar kernel inputs, the unique trade dates (``x.day`` indexes them) and the signals."""
    ts = data.index.as_unit("ns").asi8
    signals = strategy.generate_signals(data)
    if len(signals) != len(data):
        raise ConfigError(f"{strategy.name} returned {len(signals)} signals for {len(data)} bars")
    dist = strategy.stop_distance(data)
    stop_distance = (
        np.full(len(data), np.nan) if dist is None else np.asarray(dist, dtype=np.float64)
    )
    dates, day = _trade_days(ts)
    _, codes = _symbol_codes(data)
    contract = codes if codes is not None else np.zeros(len(data), dtype=np.int64)
    n = len(data)
    entry_ok = _window_mask(ts, cfg.entry_window) if cfg.entry_window else np.ones(n, dtype=bool)
    force_flat = (
        _before_halt(ts, dates, day, cfg.flat_before_halt_minutes, spec)
        if cfg.flat_before_halt_minutes > 0
        else np.zeros(n, dtype=bool)
    )
    x = SimInputs(
        open=data["open"].to_numpy(np.float64),
        high=data["high"].to_numpy(np.float64),
        low=data["low"].to_numpy(np.float64),
        close=data["close"].to_numpy(np.float64),
        signal=signals.astype(np.int8),
        stop_distance=stop_distance,
        day=day.astype(np.int64),
        contract=contract,
        entry_ok=np.asarray(entry_ok, dtype=bool),
        force_flat=force_flat,
    )
    return x, dates, signals


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
    import pandas as pd

    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"data must be a DataFrame of bars, got {type(data).__name__}",
            hint="load it with workbench.data.load_bars",
        )
    source_attrs = dict(data.attrs)
    # pandas deep-copies ``attrs`` (with the roll list) into every object derived from the
    # frame, even a column: work on a view (no data copied) that carries only what is needed.
    data = pd.DataFrame(data, copy=False)
    data.attrs = {k: source_attrs[k] for k in ("schema", "product") if k in source_attrs}
    data = _check_bars(data)
    product = source_attrs.get("product") or "MCL_FUT"
    try:
        spec = contract_spec(product)
    except KeyError as exc:
        raise ConfigError(exc.args[0]) from None
    x, dates, signals = prepare_inputs(data, strategy, cfg, spec)
    params = SimParams(
        initial_capital=cfg.initial_capital,
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
    out = simulate_native(x, params) if cfg.engine == "native" else simulate_python(x, params)
    return build_result(data, strategy, cfg, spec, out, x.day, dates, signals, source_attrs)


def _names(table: dict[int, str], codes: np.ndarray) -> pd.Categorical:
    """Codes to their names as a categorical (no string per row: 14k events stay cheap)."""
    import pandas as pd

    names = [table.get(i, "?") for i in range(max(table) + 1)]
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64), categories=names)


def build_result(
    data: pd.DataFrame,
    strategy: Strategy,
    cfg: BacktestConfig,
    spec: ContractSpec,
    out: SimOutputs,
    day: np.ndarray,
    dates: np.ndarray,
    signals: np.ndarray,
    attrs: dict[str, Any],
) -> BacktestResult:
    """Turn kernel outputs into a :class:`BacktestResult` (``attrs``: the data's attrs)."""
    import pandas as pd

    start_idx = data.index
    iv_ns = _interval_ns(data)
    ts_ns = start_idx.as_unit("ns").asi8
    end_idx = pd.DatetimeIndex(ts_ns + iv_ns, tz="UTC")
    t = out.trades
    entry_bar = t["entry_bar"].astype(np.int64)
    exit_bar = t["exit_bar"].astype(np.int64)
    at_close = t["exit_at_close"].astype(bool)
    cats, codes = _symbol_codes(data)
    if cats is not None:
        symbols = pd.Categorical.from_codes(codes[entry_bar], categories=cats)
    else:
        symbols = np.full(len(entry_bar), data.attrs.get("contract") or spec.product, dtype=object)
    exit_time = np.where(at_close, ts_ns[exit_bar] + iv_ns, ts_ns[exit_bar])
    trades = pd.DataFrame(
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
        columns=TRADE_COLUMNS,
    )
    equity = pd.Series(out.equity, index=end_idx.rename("ts"), name="equity")
    position = pd.Series(out.position, index=end_idx.rename("ts"), name="position")
    sig = pd.Series(signals.astype(np.int8), index=start_idx, name="signal")
    # Daily P&L by CME trade date: change of the close-of-day equity.
    last_of_day = np.r_[np.flatnonzero(day[1:] != day[:-1]), len(day) - 1]
    eod = out.equity[last_of_day]
    daily = pd.Series(
        np.diff(np.r_[cfg.initial_capital, eod]),
        index=pd.Index(dates, name="trade_date"),
        name="net_pnl",
    )
    ev = out.events
    ev_bars = ev["bar"].astype(np.int64)
    risk_events = pd.DataFrame(
        {
            "time": pd.DatetimeIndex(ts_ns[ev_bars], tz="UTC"),
            "action": _names(D.ACTIONS, ev["action"]),
            "reason": _names(D.REASONS, ev["reason"]),
            "requested": ev["requested"].astype(np.int64),
            "approved": ev["approved"].astype(np.int64),
        }
    )
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
        "contracts": (
            sorted(str(cats[k]) for k in np.flatnonzero(np.bincount(codes, minlength=len(cats))))
            if cats is not None
            else []
        ),
    }
    first, last = start_idx[0], end_idx[-1]
    data_range = {
        "start": first.date().isoformat(),
        "end": last.date().isoformat(),
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
        "config": cfg.to_dict(),
        "contract": {
            "product": spec.product,
            "tick_size": spec.tick_size,
            "tick_value": spec.tick_value,
            "multiplier": spec.multiplier,
        },
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    return BacktestResult(
        trades=trades,
        equity=equity,
        signals=sig,
        position=position,
        daily_pnl=daily,
        risk_events=risk_events,
        parameters=parameters,
        data_range=data_range,
        provenance=provenance,
        trades_rejected=out.trades_rejected,
        circuit_breaker_triggered=out.circuit_breaker_triggered,
        initial_capital=cfg.initial_capital,
    )
