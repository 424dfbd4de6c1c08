"""Plotly charts of a :class:`~workbench.backtest.result.BacktestResult`, in a registry.

Each chart is a function ``(result, **options) -> plotly.graph_objects.Figure`` registered
under a name with :func:`register_chart`; :func:`build_chart` and :func:`build_charts` look
them up. The report (:mod:`workbench.visualization.report`) and the notebook dashboard
(:mod:`workbench.visualization.viewer`) draw from the same registry.

>>> figs = build_charts(result)  # doctest: +SKIP
>>> figs["equity_curve"].show()  # doctest: +SKIP

Conventions
-----------
Time
    Times are shown on the New York wall clock (the exchange's), as naive timestamps, so a
    chart reads like the CME session. The time-of-day and day-of-week charts group trades by
    the New York hour and weekday of their entry (as :mod:`workbench.analysis` does).
Long curves
    The equity curve of two years of 1-minute bars has ~740k points. Curves are downsampled
    for display only with :func:`downsample_minmax` (per bucket the first, last, lowest and
    highest point, about 5,000 points in all), which keeps the endpoints and every extreme
    a reader looks for (the global peak and trough, the deepest drawdown). Metrics are always
    computed on the full curve.
Synthetic data
    When ``result.provenance["synthetic"]`` is true every figure says ``SYNTHETIC DATA`` in
    its title and in a watermark.
Many trades
    Trade markers and the trade table are capped (1,500 markers, 1,000 rows by default); over
    the cap they keep the trades with the largest absolute net P&L and say so.
"""

from __future__ import annotations

import html
import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from workbench.analysis import DAY_NAMES, daily_returns, rolling_sharpe, trade_streaks
from workbench.market.calendar import EXCHANGE_TZ

if TYPE_CHECKING:
    from workbench.backtest.result import BacktestResult

#: What every figure of synthetic data says.
SYNTHETIC_LABEL = "SYNTHETIC DATA"
#: Points a downsampled curve aims at.
DEFAULT_TARGET_POINTS = 5_000
#: Trades drawn as markers on the equity curve at most.
DEFAULT_MAX_MARKERS = 1_500
#: Rows of the trade table at most.
DEFAULT_MAX_TABLE_ROWS = 1_000
#: Trade dates per rolling-Sharpe window (about a quarter).
ROLLING_SHARPE_WINDOW = 63

GREEN = "#1a9850"
RED = "#d73027"
BLUE = "#2c5aa0"
GREY = "#6b7280"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

ChartFunction = Callable[..., go.Figure]


@dataclass(frozen=True)
class ChartSpec:
    """One registered chart.

    Attributes
    ----------
    name : str
        Registry key, also the file name of ``charts/{name}.html``.
    title : str
        Human title (without the synthetic label).
    build : callable
        ``build(result, **options) -> go.Figure``.
    in_report : bool
        Drawn in report.html (the trade table is rendered there as a sortable HTML table
        instead).
    """

    name: str
    title: str
    build: ChartFunction
    in_report: bool = True


_REGISTRY: dict[str, ChartSpec] = {}


def register_chart(
    name: str, *, title: str | None = None, in_report: bool = True
) -> Callable[[ChartFunction], ChartFunction]:
    """Decorator registering a chart function under ``name``.

    Parameters
    ----------
    name : str
        Registry key (a file-name-safe word, e.g. ``"equity_curve"``).
    title : str, optional
        Human title; defaults to ``name`` with underscores as spaces, capitalized.
    in_report : bool, default True
        Whether report.html draws the chart.

    Returns
    -------
    callable
        The decorator; it returns the function unchanged.

    Raises
    ------
    ValueError
        If ``name`` is already registered or not a lowercase identifier.
    """
    if not name.isidentifier() or name.lower() != name:
        raise ValueError(f"chart name must be a lowercase identifier, got {name!r}")

    def decorator(fn: ChartFunction) -> ChartFunction:
        if name in _REGISTRY and _REGISTRY[name].build is not fn:
            raise ValueError(f"a chart named {name!r} is already registered")
        label = title or name.replace("_", " ").capitalize()
        _REGISTRY[name] = ChartSpec(name=name, title=label, build=fn, in_report=in_report)
        return fn

    return decorator


def registered_charts() -> dict[str, ChartSpec]:
    """The registered charts by name, in registration order."""
    return dict(_REGISTRY)


def chart_names(*, report_only: bool = False) -> list[str]:
    """Names of the registered charts (only those drawn in report.html with ``report_only``)."""
    return [n for n, s in _REGISTRY.items() if s.in_report or not report_only]


def build_chart(name: str, result: BacktestResult, **options: Any) -> go.Figure:
    """Build the chart registered as ``name`` for ``result``.

    Parameters
    ----------
    name : str
        A registered chart (see :func:`chart_names`).
    result : BacktestResult
        The backtest to draw.
    **options
        Passed to the chart function (e.g. ``target_points``).

    Returns
    -------
    plotly.graph_objects.Figure

    Raises
    ------
    KeyError
        If no chart is registered under ``name``.
    """
    try:
        spec = _REGISTRY[name]
    except KeyError:
        raise KeyError(f"no chart named {name!r}; registered: {', '.join(_REGISTRY)}") from None
    return spec.build(result, **options)


def build_charts(
    result: BacktestResult, names: list[str] | None = None, **options: Any
) -> dict[str, go.Figure]:
    """Build several charts (all registered ones by default), by name.

    Options a chart function does not take are not passed to it.
    """
    out: dict[str, go.Figure] = {}
    for name in names if names is not None else chart_names():
        fn = _REGISTRY[name].build
        accepted = inspect.signature(fn).parameters
        out[name] = fn(result, **{k: v for k, v in options.items() if k in accepted})
    return out


# --------------------------------------------------------------------------- helpers


def downsample_minmax(series: pd.Series, target: int = DEFAULT_TARGET_POINTS) -> pd.Series:
    """Fewer points of a long curve for display, keeping its endpoints and extremes.

    The points are cut into ``target // 4`` buckets of equal count; each bucket keeps its
    first, last, lowest and highest point (fewer when they coincide), in the original order.
    The global minimum and maximum, the first and the last point are therefore always kept,
    and no value outside the original range appears (points are selected, not averaged).

    Parameters
    ----------
    series : pandas.Series
        The curve (any index, in display order). NaN values are kept only as bucket
        endpoints.
    target : int, default 5000
        Roughly the number of points to return (at most ``target``); at least 4.

    Returns
    -------
    pandas.Series
        ``series`` itself when it has at most ``target`` points, else a subset of its rows.

    Raises
    ------
    ValueError
        If ``target`` < 4.
    """
    if target < 4:
        raise ValueError(f"target must be at least 4 points, got {target}")
    n = len(series)
    if n <= target:
        return series
    n_buckets = target // 4
    size = math.ceil(n / n_buckets)
    n_buckets = math.ceil(n / size)
    values = np.asarray(series, dtype=np.float64)
    padded = np.pad(values, (0, n_buckets * size - n), mode="edge").reshape(n_buckets, size)
    filled = np.where(np.isnan(padded), np.inf, padded)
    starts = np.arange(n_buckets) * size
    lows = starts + np.argmin(filled, axis=1)
    filled = np.where(np.isnan(padded), -np.inf, padded)
    highs = starts + np.argmax(filled, axis=1)
    lasts = np.minimum(starts + size - 1, n - 1)
    keep = np.unique(
        np.concatenate([starts, lasts, np.minimum(lows, n - 1), np.minimum(highs, n - 1)])
    )
    return series.iloc[keep]


def ny_naive(times: Any) -> pd.DatetimeIndex:
    """UTC (or naive UTC) times as naive New York wall-clock times, for display."""
    idx = pd.DatetimeIndex(times)
    if idx.tz is None:
        idx = idx.tz_localize("UTC")
    return idx.tz_convert(EXCHANGE_TZ).tz_localize(None)


def time_axis(times: Any, *, new_york: bool = True) -> np.ndarray:
    """Times as ISO strings for a Plotly date axis.

    Strings rather than datetimes: ``FigureWidget`` sends datetime arrays to the browser as
    integers (nanoseconds), which the axis would show as plain numbers. The resolution is
    the minute, the second when some time has seconds, the day when all are midnights.

    Parameters
    ----------
    times : array-like of datetimes
        UTC (or naive UTC) times, or dates.
    new_york : bool, default True
        Convert to the New York wall clock; otherwise keep the wall-clock values as given.

    Returns
    -------
    numpy.ndarray of str
    """
    idx = pd.DatetimeIndex(times)
    if new_york:
        idx = ny_naive(idx)
    elif idx.tz is not None:
        idx = idx.tz_localize(None)
    if len(idx) == 0:
        return np.empty(0, dtype=str)
    seconds = idx.as_unit("s").asi8
    unit: Literal["D", "m", "s"] = "m"
    if (seconds % 60 != 0).any():
        unit = "s"
    elif (seconds % 86_400 == 0).all():
        unit = "D"
    return np.datetime_as_string(idx.as_unit("s").to_numpy(), unit=unit)


def is_synthetic(result: BacktestResult) -> bool:
    """Whether the result's data is synthetic (``provenance["synthetic"]``)."""
    return bool((result.provenance or {}).get("synthetic"))


def chart_title(title: str, synthetic: bool) -> str:
    """``title``, with `` - SYNTHETIC DATA`` appended for synthetic data."""
    return f"{title} - {SYNTHETIC_LABEL}" if synthetic else title


def style_figure(
    fig: go.Figure,
    title: str,
    *,
    synthetic: bool,
    subtitle: str | None = None,
    height: int = 420,
) -> go.Figure:
    """Common layout: title (with the synthetic label), subtitle, size, watermark."""
    text = chart_title(title, synthetic)
    if subtitle:
        # In the title rather than layout.title.subtitle, which FigureWidget's plotly.js
        # places above the title.
        text += f"<br><span style='font-size:12px;color:{GREY}'>{html.escape(subtitle)}</span>"
    fig.update_layout(
        title={
            "text": text,
            "x": 0.01,
            "xanchor": "left",
        },
        template="plotly_white",
        height=height,
        margin={"l": 60, "r": 20, "t": 100 if subtitle else 70, "b": 50},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
        hovermode="closest",
        font={"family": "DejaVu Sans, Helvetica, Arial, sans-serif", "size": 12},
    )
    if synthetic:
        fig.add_annotation(
            text=SYNTHETIC_LABEL,
            xref="paper",
            yref="paper",
            x=0.5,
            y=0.5,
            showarrow=False,
            font={"size": 44, "color": "rgba(215, 48, 39, 0.10)"},
            textangle=-12,
        )
    return fig


def _empty(fig: go.Figure, message: str) -> go.Figure:
    fig.add_annotation(
        text=message,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.35,
        showarrow=False,
        font={"size": 14, "color": GREY},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def select_trades(trades: pd.DataFrame, limit: int) -> tuple[pd.DataFrame, bool]:
    """At most ``limit`` trades: all of them, or those with the largest ``|net_pnl|``.

    Returns the rows (in time order) and whether some were left out.
    """
    if len(trades) <= limit:
        return trades, False
    order = np.argsort(-np.abs(trades["net_pnl"].to_numpy(dtype=np.float64)), kind="stable")
    keep = np.sort(order[:limit])
    return trades.iloc[keep], True


def _value_at(curve: pd.Series, times: pd.Series) -> np.ndarray:
    """The curve's value at the first index >= each time (the bar holding the fill)."""
    index = pd.DatetimeIndex(curve.index)
    when = pd.DatetimeIndex(times)
    if index.tz is not None and when.tz is None:
        when = when.tz_localize("UTC")
    pos = np.searchsorted(index.asi8, when.as_unit(index.unit).asi8, side="left")
    return np.asarray(curve, dtype=np.float64)[np.clip(pos, 0, len(curve) - 1)]


def _add_entry_markers(
    fig: go.Figure,
    trades: pd.DataFrame,
    x: np.ndarray,
    y: np.ndarray,
    customdata: np.ndarray,
    hovertemplate: str,
) -> None:
    """Entry markers of ``trades`` at (``x``, ``y``): green up-triangles for longs, red
    down-triangles for shorts, one trace each; ``customdata`` rows feed ``hovertemplate``."""
    long = trades["side"].astype(str).to_numpy() == "long"
    for mask, label, symbol, color in (
        (long, "Long entry", "triangle-up", GREEN),
        (~long, "Short entry", "triangle-down", RED),
    ):
        if mask.any():
            fig.add_trace(
                go.Scatter(
                    x=x[mask],
                    y=y[mask],
                    mode="markers",
                    name=label,
                    marker={"symbol": symbol, "size": 8, "color": color},
                    customdata=customdata[mask],
                    hovertemplate=hovertemplate,
                )
            )


def drawdown_pct(equity: pd.Series, initial_capital: float | None = None) -> pd.Series:
    """Drawdown from the running peak in percent (<= 0), the peak starting at the capital."""
    values = np.asarray(equity, dtype=np.float64)
    peak = np.maximum.accumulate(values) if len(values) else values
    if initial_capital and len(values):
        peak = np.maximum(peak, initial_capital)
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = np.where(peak > 0, (values - peak) / peak * 100.0, np.nan)
    return pd.Series(dd, index=equity.index, name="drawdown_pct")


def monthly_returns(result: BacktestResult) -> pd.DataFrame:
    """Monthly returns in percent of the start-of-month equity, by CME trade-date month.

    Returns
    -------
    pandas.DataFrame
        Index: years; columns: 1..12; NaN for months without trade dates.
    """
    pnl = result.daily_pnl.astype(np.float64)
    if pnl.empty:
        return pd.DataFrame(columns=range(1, 13), dtype=np.float64)
    dates = pd.DatetimeIndex(pnl.index)
    by_month = pnl.groupby(dates.to_period("M")).sum().sort_index()
    start = result.initial_capital + by_month.cumsum().shift(1, fill_value=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = (by_month / start.where(start > 0)) * 100.0
    frame = pd.DataFrame(
        {"year": pct.index.year, "month": pct.index.month, "pct": pct.to_numpy()}
    ).pivot(index="year", columns="month", values="pct")
    return frame.reindex(columns=range(1, 13))


def yearly_returns(result: BacktestResult) -> pd.Series:
    """Calendar-year returns in percent of the start-of-year equity (by trade date)."""
    pnl = result.daily_pnl.astype(np.float64)
    if pnl.empty:
        return pd.Series(dtype=np.float64)
    by_year = pnl.groupby(pd.DatetimeIndex(pnl.index).year).sum().sort_index()
    start = result.initial_capital + by_year.cumsum().shift(1, fill_value=0.0)
    return by_year / start.where(start > 0) * 100.0


def _fmt_usd(v: float) -> str:
    return f"-${-v:,.2f}" if v < 0 else f"${v:,.2f}"


def usd_ticks(lo: float, hi: float, count: int = 6) -> tuple[list[float], list[str]]:
    """Round tick values over ``[lo, hi]`` and their labels with the sign before the dollar
    (``-$100``, not Plotly's ``$-100``).

    Parameters
    ----------
    lo, hi : float
        The axis range.
    count : int, default 6
        About how many ticks.

    Returns
    -------
    (list of float, list of str)
        Tick values (multiples of 1, 2, 2.5 or 5 times a power of ten) and labels.
    """
    span = hi - lo
    if not (math.isfinite(span) and span > 0):
        return [lo], [_fmt_usd(lo).removesuffix(".00")]
    raw = span / max(count, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    values = np.arange(math.ceil(lo / step), math.floor(hi / step) + 1) * step
    decimals = 0 if step >= 1 else max(0, -math.floor(math.log10(step)) + 1)

    def label(v: float) -> str:
        text = f"{abs(v):,.{decimals}f}"
        return ("-$" if v < 0 else "$") + text

    return [float(v) for v in values], [label(float(v)) for v in values]


# --------------------------------------------------------------------------- charts


@register_chart("equity_curve", title="Equity curve")
def equity_curve(
    result: BacktestResult,
    *,
    target_points: int = DEFAULT_TARGET_POINTS,
    max_markers: int = DEFAULT_MAX_MARKERS,
) -> go.Figure:
    """Account equity at each bar close with entry and exit markers.

    Parameters
    ----------
    result : BacktestResult
        The backtest.
    target_points : int, default 5000
        Display points of the (downsampled) curve.
    max_markers : int, default 1500
        Trades drawn as markers at most (the largest ``|net_pnl|`` over the cap).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    synthetic = is_synthetic(result)
    fig = go.Figure()
    equity = result.equity
    if equity.empty:
        return _empty(style_figure(fig, "Equity curve", synthetic=synthetic), "no bars")
    shown = downsample_minmax(equity, target_points)
    fig.add_trace(
        go.Scatter(
            x=time_axis(shown.index),
            y=shown.to_numpy(dtype=np.float64),
            mode="lines",
            name="Equity",
            line={"color": BLUE, "width": 1.5},
            hovertemplate="%{x|%Y-%m-%d %H:%M} NY<br>equity $%{y:,.2f}<extra></extra>",
        )
    )
    fig.add_hline(
        y=result.initial_capital,
        line={"color": GREY, "dash": "dot", "width": 1},
        annotation_text="initial capital",
        annotation_position="bottom right",
    )
    trades, capped = select_trades(result.trades, max_markers)
    if len(trades):
        entry_y = _value_at(equity, trades["entry_time"])
        exit_y = _value_at(equity, trades["exit_time"])
        net = trades["net_pnl"].to_numpy(dtype=np.float64)
        info = np.column_stack(
            [
                trades["side"].astype(str).to_numpy(),
                trades["contracts"].to_numpy(),
                trades["entry_price"].to_numpy(),
                trades["exit_price"].to_numpy(),
                net,
                trades["exit_reason"].astype(str).to_numpy(),
            ]
        )
        _add_entry_markers(
            fig,
            trades,
            time_axis(trades["entry_time"]),
            entry_y,
            info,
            "%{x|%Y-%m-%d %H:%M} NY<br>%{customdata[0]} %{customdata[1]} @ "
            "%{customdata[2]}<extra>entry</extra>",
        )
        fig.add_trace(
            go.Scatter(
                x=time_axis(trades["exit_time"]),
                y=exit_y,
                mode="markers",
                name="Exit",
                marker={
                    "symbol": "x-thin-open",
                    "size": 7,
                    "line": {"width": 1.5},
                    "color": np.where(net > 0, GREEN, RED),
                },
                customdata=info,
                hovertemplate=(
                    "%{x|%Y-%m-%d %H:%M} NY<br>exit @ %{customdata[3]} (%{customdata[5]})"
                    "<br>net P&L $%{customdata[4]:,.2f}<extra>exit</extra>"
                ),
            )
        )
    n = len(equity)
    parts = [
        f"{n:,} bars"
        + (f", drawn as {len(shown):,} points (min/max kept)" if len(shown) < n else "")
    ]
    if capped:
        parts.append(f"markers: the {len(trades):,} largest of {len(result.trades):,} trades")
    elif len(trades):
        parts.append(f"{len(trades):,} trades")
    style_figure(fig, "Equity curve", synthetic=synthetic, subtitle="; ".join(parts), height=460)
    fig.update_yaxes(title_text="USD", tickprefix="$", tickformat=",.0f")
    fig.update_xaxes(title_text="New York time")
    return fig


@register_chart("price_trades", title="Price and trades")
def price_trades(
    result: BacktestResult,
    *,
    target_points: int = DEFAULT_TARGET_POINTS,
    max_markers: int = DEFAULT_MAX_MARKERS,
) -> go.Figure:
    """The close of the bars traded (continuous front month) with each trade's entry and
    exit at its fill price, a line joining them (green: net winner, red: loser).

    Parameters
    ----------
    result : BacktestResult
        The backtest; without its bars (``result.bars`` None) the chart says so.
    target_points : int, default 5000
        Display points of the (downsampled) price.
    max_markers : int, default 1500
        Trades drawn at most (the largest ``|net_pnl|`` over the cap).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    synthetic = is_synthetic(result)
    title = "Price and trades"
    fig = go.Figure()
    bars = result.bars
    if bars is None or bars.empty:
        return _empty(style_figure(fig, title, synthetic=synthetic), "bars not kept")
    close = bars["close"]
    shown = downsample_minmax(close, target_points)
    fig.add_trace(
        go.Scatter(
            x=time_axis(shown.index),
            y=shown.to_numpy(dtype=np.float64),
            mode="lines",
            name="Close",
            line={"color": GREY, "width": 1},
            hovertemplate="%{x|%Y-%m-%d %H:%M} NY<br>close %{y:.2f}<extra></extra>",
        )
    )
    trades, capped = select_trades(result.trades, max_markers)
    if len(trades):
        net = trades["net_pnl"].to_numpy(dtype=np.float64)
        entry_x, exit_x = time_axis(trades["entry_time"]), time_axis(trades["exit_time"])
        entry_y = trades["entry_price"].to_numpy(dtype=np.float64)
        exit_y = trades["exit_price"].to_numpy(dtype=np.float64)
        for won, color, label in ((True, GREEN, "Winning trade"), (False, RED, "Losing trade")):
            mask = (net > 0) == won
            if not mask.any():
                continue
            # one trace of segments separated by None: entry -> exit of each trade
            k = int(mask.sum())
            xs = np.empty(3 * k, dtype=object)
            ys = np.empty(3 * k, dtype=object)
            xs[0::3], xs[1::3], xs[2::3] = entry_x[mask], exit_x[mask], None
            ys[0::3], ys[1::3], ys[2::3] = entry_y[mask], exit_y[mask], None
            fig.add_trace(
                go.Scatter(
                    x=xs.tolist(),
                    y=ys.tolist(),
                    mode="lines",
                    name=label,
                    line={"color": color, "width": 2},
                    hoverinfo="skip",
                )
            )
        _add_entry_markers(
            fig,
            trades,
            entry_x,
            entry_y,
            np.column_stack([trades["contracts"].to_numpy(), net]),
            "%{x|%Y-%m-%d %H:%M} NY<br>entry %{customdata[0]} @ %{y:.2f}"
            "<br>net $%{customdata[1]:,.2f}<extra></extra>",
        )
        fig.add_trace(
            go.Scatter(
                x=exit_x,
                y=exit_y,
                mode="markers",
                name="Exit",
                marker={"symbol": "x-thin-open", "size": 7, "line": {"width": 1.5}, "color": GREY},
                hovertemplate="%{x|%Y-%m-%d %H:%M} NY<br>exit @ %{y:.2f}<extra></extra>",
            )
        )
    parts = [
        f"close of {len(close):,} bars" + (" (min/max kept)" if len(shown) < len(close) else "")
    ]
    if capped:
        parts.append(f"the {len(trades):,} largest of {len(result.trades):,} trades")
    else:
        parts.append(f"{len(trades):,} trades at their fill prices")
    style_figure(fig, title, synthetic=synthetic, subtitle="; ".join(parts), height=460)
    fig.update_yaxes(title_text="USD per barrel", tickprefix="$")
    fig.update_xaxes(title_text="New York time")
    return fig


@register_chart("drawdown", title="Drawdown")
def drawdown(result: BacktestResult, *, target_points: int = DEFAULT_TARGET_POINTS) -> go.Figure:
    """Drawdown from the running equity peak, in percent, with the deepest point marked.

    Parameters
    ----------
    result : BacktestResult
        The backtest.
    target_points : int, default 5000
        Display points of the (downsampled) curve.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    synthetic = is_synthetic(result)
    fig = go.Figure()
    if result.equity.empty:
        return _empty(style_figure(fig, "Drawdown", synthetic=synthetic), "no bars")
    dd = drawdown_pct(result.equity, result.initial_capital or None)
    shown = downsample_minmax(dd, target_points)
    fig.add_trace(
        go.Scatter(
            x=time_axis(shown.index),
            y=shown.to_numpy(dtype=np.float64),
            mode="lines",
            name="Drawdown",
            fill="tozeroy",
            line={"color": RED, "width": 1},
            fillcolor="rgba(215, 48, 39, 0.25)",
            hovertemplate="%{x|%Y-%m-%d %H:%M} NY<br>%{y:.2f}%<extra></extra>",
        )
    )
    subtitle = None
    if dd.notna().any() and float(dd.min()) < 0:
        at = dd.idxmin()
        worst = float(dd.min())
        fig.add_trace(
            go.Scatter(
                x=time_axis([at]),
                y=[worst],
                mode="markers+text",
                name="Deepest",
                marker={"color": RED, "size": 9},
                text=[f"{worst:.2f}%"],
                textposition="middle right",
                hovertemplate="%{x|%Y-%m-%d %H:%M} NY<br>max drawdown %{y:.2f}%<extra></extra>",
                showlegend=False,
            )
        )
        subtitle = f"max drawdown {worst:.2f}% of the running peak"
    else:
        subtitle = "no drawdown"
    style_figure(fig, "Drawdown", synthetic=synthetic, subtitle=subtitle, height=320)
    fig.update_yaxes(title_text="% of peak", ticksuffix="%")
    fig.update_xaxes(title_text="New York time")
    return fig


@register_chart("monthly_returns", title="Monthly returns")
def monthly_returns_heatmap(result: BacktestResult) -> go.Figure:
    """Heatmap of monthly returns (% of start-of-month equity), month by year.

    Months follow the CME trade date of ``daily_pnl``; the y labels carry each year's return.
    """
    synthetic = is_synthetic(result)
    fig = go.Figure()
    table = monthly_returns(result)
    if table.empty:
        return _empty(style_figure(fig, "Monthly returns", synthetic=synthetic), "no trade dates")
    years = yearly_returns(result)
    labels = [
        f"{y} ({v:+.1f}%)" if math.isfinite(v := float(years.get(y, math.nan))) else f"{y} (n/a)"
        for y in table.index
    ]
    z = table.to_numpy(dtype=np.float64)
    text = np.where(np.isnan(z), "", np.char.mod("%+.1f%%", np.nan_to_num(z)))
    bound = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
    fig.add_trace(
        go.Heatmap(
            z=z,
            x=list(MONTHS),
            y=labels,
            text=text,
            texttemplate="%{text}",
            textfont={"size": 11},
            colorscale="RdYlGn",
            zmid=0,
            zmin=-bound,
            zmax=bound,
            colorbar={"title": {"text": "%"}, "ticksuffix": "%"},
            hovertemplate="%{y} %{x}: %{z:+.2f}%<extra></extra>",
            xgap=2,
            ygap=2,
        )
    )
    style_figure(
        fig,
        "Monthly returns",
        synthetic=synthetic,
        subtitle="% of equity at the start of the month, by CME trade date",
        height=max(320, 130 + 55 * len(table)),
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", side="top", title_text="")
    fig.update_layout(margin={"t": 130})
    return fig


@register_chart("trade_distribution", title="Trade P&L distribution")
def trade_distribution(result: BacktestResult, *, nbins: int = 50) -> go.Figure:
    """Histogram of net P&L per trade, winners and losers coloured, with the mean marked."""
    synthetic = is_synthetic(result)
    fig = go.Figure()
    net = result.trades["net_pnl"].to_numpy(dtype=np.float64)
    title = "Trade P&L distribution"
    if len(net) == 0:
        return _empty(style_figure(fig, title, synthetic=synthetic), "no trades")
    # Binned here rather than by plotly.js: the page carries ``nbins`` bars, not every trade.
    lo, hi = float(net.min()), float(net.max())
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, nbins + 1)
    centers = (edges[:-1] + edges[1:]) / 2
    width = float(edges[1] - edges[0])
    for mask, label, color in ((net > 0, "Winners", GREEN), (net <= 0, "Losers / flat", RED)):
        if mask.any():
            counts, _ = np.histogram(net[mask], bins=edges)
            fig.add_trace(
                go.Bar(
                    x=centers,
                    y=counts,
                    width=width,
                    name=f"{label} ({int(mask.sum()):,})",
                    marker={"color": color, "line": {"width": 0}},
                    opacity=0.85,
                    customdata=np.column_stack([edges[:-1], edges[1:]]),
                    hovertemplate=(
                        "$%{customdata[0]:,.2f} to $%{customdata[1]:,.2f}<br>%{y} trades"
                        "<extra></extra>"
                    ),
                )
            )
    mean = float(net.mean())
    fig.add_vline(x=mean, line={"color": "#111827", "dash": "dash", "width": 1})
    fig.add_annotation(
        x=mean,
        y=0.97,
        yref="paper",
        xanchor="left",
        showarrow=False,
        text=f" mean {_fmt_usd(mean)}",
        font={"size": 11},
    )
    style_figure(
        fig,
        title,
        synthetic=synthetic,
        subtitle=f"{len(net):,} trades, net of commissions and slippage",
        height=360,
    )
    fig.update_layout(barmode="stack", bargap=0)
    # Half a bin of room at each end, and labels written here: Plotly's tickprefix gives
    # "$-100", and a label at the very left edge runs into the y axis' "0".
    pad = width / 2 + (hi - lo) * 0.02
    ticks, labels = usd_ticks(lo - pad, hi + pad)
    fig.update_xaxes(
        title_text="net P&L per trade (USD)",
        range=[lo - pad, hi + pad],
        tickvals=ticks,
        ticktext=labels,
    )
    fig.update_yaxes(title_text="trades", ticklabelstandoff=6)
    return fig


@register_chart("rolling_sharpe", title="Rolling Sharpe ratio")
def rolling_sharpe_chart(
    result: BacktestResult, *, window: int = ROLLING_SHARPE_WINDOW
) -> go.Figure:
    """Annualized Sharpe ratio over a trailing window of daily returns (by trade date).

    With fewer trade dates than ``window`` the window shrinks to a third of them (at least 5)
    and the subtitle says so.
    """
    synthetic = is_synthetic(result)
    fig = go.Figure()
    title = "Rolling Sharpe ratio"
    n = len(result.daily_pnl)
    if n < 10 or not result.initial_capital:
        return _empty(style_figure(fig, title, synthetic=synthetic), f"too few trade dates ({n})")
    used = window if n >= window * 2 else max(5, n // 3)
    rets = daily_returns(result.daily_pnl, result.initial_capital)
    roll = rolling_sharpe(rets, used)
    if not roll.notna().any():
        why = "equity fell to zero or below" if rets.isna().any() else "returns too few or flat"
        return _empty(
            style_figure(fig, title, synthetic=synthetic, height=320),
            f"no {used}-day Sharpe ratio: {why}",
        )
    x = time_axis(pd.DatetimeIndex(roll.index), new_york=False)
    fig.add_trace(
        go.Scatter(
            x=x,
            y=roll.to_numpy(dtype=np.float64),
            mode="lines",
            name=f"{used}-day Sharpe",
            line={"color": BLUE, "width": 1.5},
            hovertemplate="%{x|%Y-%m-%d}<br>Sharpe %{y:.2f}<extra></extra>",
        )
    )
    fig.add_hline(y=0, line={"color": GREY, "width": 1})
    overall = result.metrics["performance"].get("sharpe_ratio")
    if overall is not None:
        fig.add_hline(
            y=overall,
            line={"color": "#111827", "dash": "dash", "width": 1},
            annotation_text=f"full period {overall:.2f}",
            annotation_position="top left",
        )
    note = f"{used} trade dates per window, annualized with 252"
    if rets.isna().any():
        note += "; undefined after equity fell to zero or below"
    else:
        tail, quiet = _flat_tail_note(roll, rets)
        note += tail
        if quiet is not None:
            fig.add_vrect(
                x0=quiet,
                x1=x[-1],
                fillcolor=GREY,
                opacity=0.12,
                line_width=0,
                annotation_text="no trades: Sharpe undefined",
                annotation_position="top left",
            )
    if used != window:
        note += f" (fewer than {2 * window} trade dates: window shortened from {window})"
    style_figure(fig, title, synthetic=synthetic, subtitle=note, height=320)
    fig.update_xaxes(title_text="CME trade date")
    fig.update_yaxes(title_text="Sharpe (annualized)")
    return fig


def _flat_tail_note(roll: pd.Series, rets: pd.Series) -> tuple[str, str | None]:
    """Why the rolling Sharpe ends before the last trade date, if it does: the windows
    there hold no P&L at all (no trade) or no variation, so the ratio is undefined.

    Returns the subtitle's note ("" when the ratio reaches the end) and the last trade date
    with P&L when the series ends on days without any (else None).
    """
    defined = roll.notna().to_numpy()
    if defined[-1]:
        return "", None
    last = int(np.flatnonzero(defined)[-1])
    moving = np.flatnonzero(rets.to_numpy(dtype=np.float64) != 0.0)
    ends = pd.Timestamp(roll.index[last]).strftime("%Y-%m-%d")
    if len(moving) and moving[-1] < len(rets) - 1:
        quiet = pd.Timestamp(rets.index[moving[-1]]).strftime("%Y-%m-%d")
        return (
            f"; ends {ends}: no P&L after {quiet} (no trades), so later windows have no "
            "volatility and no Sharpe ratio"
        ), quiet
    return f"; ends {ends}: later windows have no volatility, so no Sharpe ratio", None


def streak_lengths(trades: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Lengths of every run of consecutive winners and of losers, trades in exit order."""
    if len(trades) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    order = np.argsort(pd.DatetimeIndex(trades["exit_time"]).asi8, kind="stable")
    net = trades["net_pnl"].to_numpy(dtype=np.float64)[order]

    def runs(mask: np.ndarray) -> np.ndarray:
        edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
        return np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)

    return runs(net > 0), runs(net < 0)


@register_chart("streaks", title="Win/loss streaks")
def streaks(result: BacktestResult) -> go.Figure:
    """How often each length of consecutive winners and losers occurred."""
    synthetic = is_synthetic(result)
    fig = go.Figure()
    title = "Win/loss streaks"
    wins, losses = streak_lengths(result.trades)
    if len(wins) == 0 and len(losses) == 0:
        return _empty(style_figure(fig, title, synthetic=synthetic), "no trades")
    top = int(max(wins.max(initial=0), losses.max(initial=0)))
    lengths = np.arange(1, top + 1)
    for runs, label, color in ((wins, "Winning streaks", GREEN), (losses, "Losing streaks", RED)):
        counts = np.bincount(runs, minlength=top + 1)[1:]
        fig.add_trace(
            go.Bar(
                x=lengths,
                y=counts,
                name=label,
                marker={"color": color},
                hovertemplate="%{y} streaks of %{x}<extra>" + label + "</extra>",
            )
        )
    s = trade_streaks(result.trades)
    style_figure(
        fig,
        title,
        synthetic=synthetic,
        subtitle=f"longest: {s['max_win_streak']} winners, {s['max_loss_streak']} losers in a row",
        height=320,
    )
    fig.update_layout(barmode="group")
    fig.update_xaxes(title_text="consecutive trades", dtick=1 if top <= 20 else None)
    fig.update_yaxes(title_text="streaks")
    return fig


def _grouped_pnl(result: BacktestResult, by: str) -> pd.DataFrame:
    """Net P&L, trade count and win rate per New York entry hour or weekday."""
    trades = result.trades
    local = ny_naive(trades["entry_time"]) if len(trades) else pd.DatetimeIndex([])
    key = local.hour if by == "hour" else local.day_of_week
    net = trades["net_pnl"].to_numpy(dtype=np.float64) if len(trades) else np.empty(0)
    frame = pd.DataFrame({"key": np.asarray(key, dtype=np.int64), "net": net})
    size = 24 if by == "hour" else 7
    grouped = frame.groupby("key")["net"].agg(["sum", "count", lambda s: float((s > 0).mean())])
    grouped.columns = ["pnl", "trades", "win_rate"]
    return grouped.reindex(range(size)).fillna({"pnl": 0.0, "trades": 0})


def _pnl_bars(fig: go.Figure, labels: list[str], g: pd.DataFrame) -> None:
    pnl = g["pnl"].to_numpy(dtype=np.float64)
    win = g["win_rate"].to_numpy(dtype=np.float64)
    fig.add_trace(
        go.Bar(
            x=labels,
            y=pnl,
            marker={"color": np.where(pnl >= 0, GREEN, RED)},
            customdata=np.column_stack([g["trades"].to_numpy(), np.nan_to_num(win * 100.0)]),
            hovertemplate=(
                "%{x}<br>net $%{y:,.2f}<br>%{customdata[0]} trades, "
                "%{customdata[1]:.0f}% winners<extra></extra>"
            ),
            name="net P&L",
            showlegend=False,
        )
    )
    fig.update_yaxes(title_text="net P&L (USD)", tickprefix="$")


@register_chart("time_of_day", title="P&L by hour of entry")
def time_of_day(result: BacktestResult) -> go.Figure:
    """Net P&L summed by the New York hour of each trade's entry."""
    synthetic = is_synthetic(result)
    fig = go.Figure()
    title = "P&L by hour of entry (New York)"
    if len(result.trades) == 0:
        return _empty(style_figure(fig, title, synthetic=synthetic), "no trades")
    g = _grouped_pnl(result, "hour")
    _pnl_bars(fig, [f"{h:02d}" for h in range(24)], g)
    style_figure(
        fig, title, synthetic=synthetic, subtitle="sum of net P&L per entry hour", height=320
    )
    fig.update_xaxes(title_text="entry hour (New York, 00-23)", type="category", tickangle=0)
    return fig


@register_chart("day_of_week", title="P&L by day of week")
def day_of_week(result: BacktestResult) -> go.Figure:
    """Net P&L summed by the New York weekday of each trade's entry (days with trades)."""
    synthetic = is_synthetic(result)
    fig = go.Figure()
    title = "P&L by day of entry (New York)"
    if len(result.trades) == 0:
        return _empty(style_figure(fig, title, synthetic=synthetic), "no trades")
    g = _grouped_pnl(result, "day")
    g = g[g["trades"] > 0]
    _pnl_bars(fig, [DAY_NAMES[int(d)] for d in g.index], g)
    style_figure(
        fig,
        title,
        synthetic=synthetic,
        subtitle="Sunday: entries after the 18:00 open (they belong to Monday's trade date)",
        height=320,
    )
    fig.update_xaxes(title_text="entry weekday, New York", type="category")
    return fig


@register_chart("exit_reasons", title="P&L by exit reason")
def exit_reasons(result: BacktestResult) -> go.Figure:
    """Net P&L and trade count per exit reason (signal, stop, target, roll, end of data...)."""
    synthetic = is_synthetic(result)
    fig = go.Figure()
    title = "P&L by exit reason"
    trades = result.trades
    if len(trades) == 0:
        return _empty(style_figure(fig, title, synthetic=synthetic), "no trades")
    net = trades["net_pnl"].astype(np.float64)
    g = net.groupby(trades["exit_reason"].astype(str)).agg(
        pnl="sum", trades="count", win_rate=lambda s: float((s > 0).mean())
    )
    g = g.sort_values("pnl")
    _pnl_bars(fig, [str(i) for i in g.index], g)
    style_figure(
        fig, title, synthetic=synthetic, subtitle="sum of net P&L per exit reason", height=320
    )
    fig.update_xaxes(title_text="exit reason", type="category")
    return fig


#: Columns of the trade table: (trade column, header).
TABLE_COLUMNS = (
    ("entry_time", "Entry (NY)"),
    ("exit_time", "Exit (NY)"),
    ("side", "Side"),
    ("contracts", "Qty"),
    ("entry_price", "Entry px"),
    ("exit_price", "Exit px"),
    ("net_pnl", "Net P&L"),
    ("commission", "Commission"),
    ("exit_reason", "Exit reason"),
    ("bars_held", "Bars"),
    ("symbol", "Contract"),
)


def trade_rows(trades: pd.DataFrame) -> pd.DataFrame:
    """The trade table's rows for display: New York times as text, the table's columns."""
    out = pd.DataFrame(index=trades.index)
    for col, header in TABLE_COLUMNS:
        if col not in trades:
            continue
        if col.endswith("_time"):
            out[header] = ny_naive(trades[col]).strftime("%Y-%m-%d %H:%M")
        else:
            out[header] = trades[col].to_numpy()
    return out


@register_chart("trade_table", title="Trades", in_report=False)
def trade_table(result: BacktestResult, *, max_rows: int = DEFAULT_MAX_TABLE_ROWS) -> go.Figure:
    """The closed trades as a Plotly table (report.html has a sortable HTML table instead).

    Over ``max_rows`` trades it shows those with the largest ``|net_pnl|``, in time order.
    """
    synthetic = is_synthetic(result)
    trades, capped = select_trades(result.trades, max_rows)
    rows = trade_rows(trades)
    net = trades["net_pnl"].to_numpy(dtype=np.float64)
    fill = np.where(net > 0, "#e8f5e9", np.where(net < 0, "#fdecea", "white")).tolist()
    cells = []
    for header in rows.columns:
        col = rows[header]
        if header in ("Net P&L", "Commission"):
            cells.append([_fmt_usd(float(v)) for v in col])
        else:
            cells.append(col.astype(str).tolist())
    fig = go.Figure(
        go.Table(
            header={
                "values": [f"<b>{h}</b>" for h in rows.columns],
                "fill": {"color": "#1f2937"},
                "font": {"color": "white", "size": 12},
                "align": "left",
            },
            cells={
                "values": cells,
                "fill": {"color": [fill] * len(rows.columns)},
                "align": "left",
                "height": 24,
            },
        )
    )
    note = (
        f"the {len(trades):,} largest |P&L| of {len(result.trades):,} trades (all in trades.csv)"
        if capped
        else f"{len(trades):,} trades"
    )
    style_figure(fig, "Trades", synthetic=synthetic, subtitle=note, height=620)
    return fig
