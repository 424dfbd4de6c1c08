"""Charts of a parameter sweep (:class:`~workbench.optimize.SweepResult`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.errors import ConfigError
from workbench.optimize.sweep import MINIMIZE

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from workbench.optimize import SweepResult


def sweep_heatmap(result: SweepResult, x: str | None = None, y: str | None = None) -> go.Figure:
    """The objective over two swept parameters (mean over any others), as a heatmap.

    Parameters
    ----------
    result : SweepResult
        A finished sweep.
    x, y : str, optional
        The two parameters; default the first two swept. Combinations the strategy refused
        (or with an undefined objective) are empty cells.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    import plotly.graph_objects as go

    params = result.params
    x = x or params[0]
    y = y or (params[1] if len(params) > 1 else None)
    for name in (x, y):
        if name is not None and name not in params:
            raise ConfigError(f"{name!r} was not swept", hint=f"swept: {', '.join(params)}")
    table = result.table
    if y is None:
        series = table.groupby(x, sort=True)[result.objective].mean()
        grid = series.to_frame().T
        y_labels = [result.objective]
    else:
        grid = table.pivot_table(index=y, columns=x, values=result.objective, aggfunc="mean")
        grid = grid.reindex(
            index=sorted(result.grid.ranges[y]), columns=sorted(result.grid.ranges[x])
        )
        y_labels = [str(v) for v in grid.index]
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=[str(v) for v in grid.columns],
            y=y_labels,
            # green is good: reversed for the figures where smaller is better
            colorscale="RdYlGn_r" if result.objective in MINIMIZE else "RdYlGn",
            colorbar={"title": result.objective},
            hovertemplate=(
                f"{x}=%{{x}}<br>{y or ''}=%{{y}}<br>{result.objective}=%{{z}}<extra></extra>"
            ),
        )
    )
    fig.update_layout(
        title=f"{result.grid.strategy.name}: {result.objective} by {x}"
        + (f" and {y}" if y else ""),
        xaxis_title=x,
        yaxis_title=y or "",
        height=420,
    )
    return fig
