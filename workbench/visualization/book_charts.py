"""Figures and tables of an order book replay and of simulated-exchange reports.

They take the frames of :mod:`workbench.book` as they come: a book frame in Databento's
MBP-10 layout (:func:`workbench.book.replay`: ``bid_px_00, ask_px_00, bid_sz_00, ...``
indexed by UTC ``ts_event``, prices in dollars, NaN where a side has no such level) and
report frames of :meth:`workbench.book.SimExchange.reports`.

>>> book = replay("CLX5_mbo.dbn")  # doctest: +SKIP
>>> spread_mid_figure(book)  # doctest: +SKIP
>>> depth_ladder_figure(book, book.index[0] + pd.Timedelta("30min"))  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from workbench.errors import ConfigError
from workbench.visualization.charts import DEFAULT_TARGET_POINTS, downsample_minmax

_FILLS = ("fill", "partial_fill")
_BID, _ASK = "#2ca02c", "#d62728"


def _levels(frame: pd.DataFrame, levels: int | None = None) -> int:
    """How many levels per side ``frame`` holds (at most ``levels``), at least one."""
    n = 0
    while f"bid_px_{n:02d}" in frame.columns and f"ask_px_{n:02d}" in frame.columns:
        n += 1
    if n == 0:
        raise ConfigError(
            "the book frame has no level columns (bid_px_00, ask_px_00, ...)",
            hint="pass a frame of workbench.book.replay",
        )
    if levels is not None and levels < 1:
        raise ConfigError(f"levels must be at least 1, got {levels}")
    return n if levels is None else min(n, levels)


def book_at(frame: pd.DataFrame, at: pd.Timestamp | dt.datetime | str) -> pd.Series:
    """The book as it stood at ``at``: the last row at or before it.

    Parameters
    ----------
    frame : pandas.DataFrame
        A book frame (:func:`workbench.book.replay`), sorted by its ``ts_event`` index.
    at : pandas.Timestamp, datetime or str
        A UTC time (a naive one is read as UTC).

    Returns
    -------
    pandas.Series
        The row, named by its ``ts_event``.

    Raises
    ------
    ConfigError
        If ``at`` is before the first row.
    """
    ts = pd.Timestamp(at)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    i = int(frame.index.searchsorted(ts, side="right")) - 1
    if i < 0:
        first = frame.index[0] if len(frame) else "no row"
        raise ConfigError(
            f"no book at {ts}: the frame starts at {first}",
            hint="pick a time within the replay",
        )
    return frame.iloc[i]


def book_imbalance(frame: pd.DataFrame, levels: int = 1) -> pd.Series:
    """``(bid size - ask size) / (bid size + ask size)`` over the best ``levels`` levels, per row.

    The same quantity as :meth:`workbench.book.OrderBook.imbalance`, for every row of a book
    frame.

    Parameters
    ----------
    frame : pandas.DataFrame
        A book frame (:func:`workbench.book.replay`).
    levels : int, default 1
        Levels per side summed (at most those the frame holds).

    Returns
    -------
    pandas.Series
        In [-1, 1], NaN where both sides are empty; named ``imbalance``.
    """
    n = _levels(frame, levels)
    bid = frame[[f"bid_sz_{i:02d}" for i in range(n)]].to_numpy(np.float64).sum(axis=1)
    ask = frame[[f"ask_sz_{i:02d}" for i in range(n)]].to_numpy(np.float64).sum(axis=1)
    total = bid + ask
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(total > 0, (bid - ask) / total, np.nan)
    return pd.Series(out, index=frame.index, name="imbalance")


def spread_mid_figure(
    frame: pd.DataFrame, *, title: str | None = None, target: int = DEFAULT_TARGET_POINTS
) -> go.Figure:
    """The mid price and the bid-ask spread over time, one above the other.

    Parameters
    ----------
    frame : pandas.DataFrame
        A book frame (:func:`workbench.book.replay`).
    title : str, optional
        The figure title.
    target : int, default 5000
        Points per curve at most (:func:`workbench.visualization.charts.downsample_minmax`
        keeps the extremes).

    Returns
    -------
    plotly.graph_objects.Figure
        Top: mid in dollars; bottom: spread in dollars (gaps where a side is empty).
    """
    _levels(frame)
    bid, ask = frame["bid_px_00"], frame["ask_px_00"]
    mid = downsample_minmax(((bid + ask) / 2).rename("mid"), target)
    spread = downsample_minmax((ask - bid).rename("spread"), target)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3])
    fig.add_trace(go.Scattergl(x=mid.index, y=mid.to_numpy(), name="mid", mode="lines"), 1, 1)
    fig.add_trace(
        go.Scattergl(x=spread.index, y=spread.to_numpy(), name="spread", mode="lines"), 2, 1
    )
    fig.update_yaxes(title_text="mid (USD)", row=1, col=1)
    fig.update_yaxes(title_text="spread (USD)", row=2, col=1)
    fig.update_layout(title=title or "Mid price and spread", height=480, showlegend=False)
    return fig


def depth_ladder_figure(
    frame: pd.DataFrame,
    at: pd.Timestamp | dt.datetime | str,
    *,
    levels: int | None = None,
    title: str | None = None,
) -> go.Figure:
    """The depth ladder at ``at``: size at each price level, bids left and asks right.

    Parameters
    ----------
    frame : pandas.DataFrame
        A book frame (:func:`workbench.book.replay`).
    at : pandas.Timestamp, datetime or str
        The time; the book is the last row at or before it (:func:`book_at`).
    levels : int, optional
        Levels per side shown (default: all the frame holds).
    title : str, optional
        The figure title; by default the row's time.

    Returns
    -------
    plotly.graph_objects.Figure
        Horizontal bars, one per non-empty level, prices (dollars) on the vertical axis;
        bid sizes drawn negative, the hover text gives the size and the order count.

    Raises
    ------
    ConfigError
        If ``at`` is before the first row.
    """
    n = _levels(frame, levels)
    row = book_at(frame, at)
    fig = go.Figure()
    for side, sign, color in (("bid", -1, _BID), ("ask", 1, _ASK)):
        px = np.array([row[f"{side}_px_{i:02d}"] for i in range(n)], dtype=np.float64)
        sz = np.array([row[f"{side}_sz_{i:02d}"] for i in range(n)], dtype=np.int64)
        ct = np.array([row[f"{side}_ct_{i:02d}"] for i in range(n)], dtype=np.int64)
        keep = ~np.isnan(px) & (sz > 0)
        fig.add_trace(
            go.Bar(
                x=sign * sz[keep],
                y=[f"{p:.2f}" for p in px[keep]],
                orientation="h",
                name=side,
                marker_color=color,
                customdata=np.stack([sz[keep], ct[keep]], axis=1),
                hovertemplate="%{y}: %{customdata[0]} contracts, %{customdata[1]} orders",
            )
        )
    fig.update_yaxes(type="category", categoryorder="category ascending", title_text="price")
    fig.update_xaxes(title_text="contracts (bids < 0 < asks)")
    fig.update_layout(
        title=title or f"Depth at {row.name}", barmode="overlay", height=420, bargap=0.15
    )
    return fig


def imbalance_figure(
    frame: pd.DataFrame,
    levels: int = 1,
    *,
    title: str | None = None,
    target: int = DEFAULT_TARGET_POINTS,
) -> go.Figure:
    """The book imbalance over time (:func:`book_imbalance`).

    Parameters
    ----------
    frame : pandas.DataFrame
        A book frame (:func:`workbench.book.replay`).
    levels : int, default 1
        Levels per side summed.
    title : str, optional
        The figure title.
    target : int, default 5000
        Points at most (extremes kept).

    Returns
    -------
    plotly.graph_objects.Figure
        Imbalance in [-1, 1]: above zero, more size bid than offered.
    """
    imb = downsample_minmax(book_imbalance(frame, levels), target)
    fig = go.Figure(go.Scattergl(x=imb.index, y=imb.to_numpy(), mode="lines", name="imbalance"))
    fig.add_hline(y=0, line_width=1, line_color="grey")
    fig.update_yaxes(range=[-1.05, 1.05], title_text="imbalance")
    fig.update_layout(title=title or f"Book imbalance, best {levels} level(s)", height=320)
    return fig


def fill_times(reports: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """When each order first filled under each of several runs (e.g. queue models), side by side.

    Parameters
    ----------
    reports : mapping of str to pandas.DataFrame
        Run name to its report frame (:meth:`workbench.book.SimExchange.reports`); the runs
        should send the same orders, named by ``order_ref``.

    Returns
    -------
    pandas.DataFrame
        One row per ``order_ref`` (in order of first appearance), columns ``(run, field)``
        with fields ``first_fill`` (UTC time, NaT when it never filled), ``wait`` (from
        the order's first report, its arrival, to its first fill), ``filled`` (contracts)
        and ``liquidity`` of the first fill.

    Raises
    ------
    ConfigError
        If a frame lacks a report column.
    """
    parts = {}
    for name, frame in reports.items():
        missing = {"ts_exchange", "order_ref", "exec_type", "last_qty", "liquidity"} - set(
            frame.columns
        )
        if missing:
            raise ConfigError(
                f"fill_times: the reports of {name!r} lack {sorted(missing)}",
                hint="pass frames of SimExchange.reports()",
            )
        by_order = frame.groupby("order_ref", sort=False)
        fills = frame[frame["exec_type"].isin(_FILLS)].groupby("order_ref", sort=False)
        first = fills["ts_exchange"].first()
        table = pd.DataFrame(index=pd.Index(by_order.size().index, name="order_ref"))
        table["first_fill"] = first.reindex(table.index)
        table["wait"] = table["first_fill"] - by_order["ts_exchange"].first()
        table["filled"] = fills["last_qty"].sum().reindex(table.index).fillna(0).astype(np.int64)
        table["liquidity"] = fills["liquidity"].first().reindex(table.index)
        parts[name] = table
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, axis=1, sort=False)


__all__ = [
    "book_at",
    "book_imbalance",
    "depth_ladder_figure",
    "fill_times",
    "imbalance_figure",
    "spread_mid_figure",
]
