"""The HTML document around a report page: skeleton, style, sort script, embedded figures."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from workbench.visualization.assets import asset, fill, plotly_js
from workbench.visualization.html_parts import esc

#: Plotly config of every embedded figure.
PLOTLY_CONFIG: dict[str, Any] = {
    "responsive": True,
    "displaylogo": False,
    "modeBarButtonsToRemove": ["select2d", "lasso2d"],
}
#: Rows of the trade table in the printed report (report.pdf).
PRINT_TABLE_ROWS = 60


def figure_div(fig: go.Figure, div_id: str) -> str:
    """A figure as a ``<div>`` and the script drawing it (plotly.js not included).

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        The figure (its layout height, else 420 px).
    div_id : str
        The ``id`` of the div.

    Returns
    -------
    str
    """
    height = fig.layout.height or 420
    return str(
        pio.to_html(
            fig,
            full_html=False,
            include_plotlyjs=False,
            div_id=div_id,
            config=PLOTLY_CONFIG,
            default_width="100%",
            default_height=f"{height}px",
            validate=False,
        )
    )


def plotly_head() -> str:
    """``<head>`` scripts embedding plotly.js once, inline: the page works offline and from
    ``file://``."""
    return (
        "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>"
        f'<script charset="utf-8">{plotly_js()}</script>'
    )


def page(title: str, head_extra: str, body: str) -> str:
    """A complete page (``templates/page.html``) with the report style and sort script.

    Parameters
    ----------
    title : str
        The ``<title>`` (escaped here).
    head_extra : str
        HTML added to ``<head>`` (scripts, extra style).
    body : str
        The ``<body>`` content.

    Returns
    -------
    str
    """
    return fill(
        "page.html",
        title=esc(title),
        css=fill("report.css", print_row=PRINT_TABLE_ROWS + 1),
        head=head_extra,
        body=body,
        script=asset("sort_table.js"),
    )
