"""Charts of a parameter sweep, drawn from its table (one row per combination).

The charts take the table and the names of its columns, not the sweep object, so that any
table of the same shape (``SweepResult.table``, a ``parameter_sweep.csv`` read back, a
papermill batch) draws the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd
import plotly.graph_objects as go

from workbench.errors import ConfigError


def sweep_heatmap(
    table: pd.DataFrame,
    objective: str,
    x: str,
    y: str | None = None,
    *,
    minimize: bool = False,
    values: Mapping[str, Iterable[object]] | None = None,
    title: str | None = None,
) -> go.Figure:
    """The objective over one or two swept parameters (mean over any others), as a heatmap.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per combination: the parameters' columns and the ``objective`` column
        (e.g. ``SweepResult.table`` or ``parameter_sweep.csv``).
    objective : str
        The column coloured.
    x, y : str
        The parameters on the horizontal and vertical axes; without ``y`` the heatmap has
        one row.
    minimize : bool, default False
        Smaller objective values are better (e.g. ``max_drawdown_pct``): green stays good.
    values : mapping of str to iterable, optional
        Every value swept per parameter (``SweepResult.grid.ranges``): the axes then show
        them all, and combinations missing from the table (refused by the strategy) are
        empty cells. By default the axes show the values present in the table.
    title : str, optional
        The figure title; by default ``{objective} by {x} and {y}``.

    Returns
    -------
    plotly.graph_objects.Figure

    Raises
    ------
    ConfigError
        If ``x``, ``y`` or ``objective`` is not a column of ``table``.
    """
    for name in (x, y, objective):
        if name is not None and name not in table.columns:
            raise ConfigError(
                f"{name!r} is not a column of the sweep table",
                hint=f"columns: {', '.join(map(str, table.columns))}",
            )
    values = values or {}
    if y is None:
        grid = table.groupby(x, sort=True)[objective].mean().to_frame().T
        if x in values:
            grid = grid.reindex(columns=sorted(values[x]))  # type: ignore[type-var]
        y_labels = [objective]
    else:
        grid = table.pivot_table(index=y, columns=x, values=objective, aggfunc="mean")
        if x in values or y in values:
            grid = grid.reindex(
                index=sorted(values[y]) if y in values else grid.index,  # type: ignore[type-var]
                columns=sorted(values[x]) if x in values else grid.columns,  # type: ignore[type-var]
            )
        y_labels = [str(v) for v in grid.index]
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=[str(v) for v in grid.columns],
            y=y_labels,
            # green is good: reversed for the figures where smaller is better
            colorscale="RdYlGn_r" if minimize else "RdYlGn",
            colorbar={"title": objective},
            hovertemplate=f"{x}=%{{x}}<br>{y or ''}=%{{y}}<br>{objective}=%{{z}}<extra></extra>",
        )
    )
    fig.update_layout(
        title=title or f"{objective} by {x}" + (f" and {y}" if y else ""),
        xaxis_title=x,
        yaxis_title=y or "",
        height=420,
    )
    return fig
