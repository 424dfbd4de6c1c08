"""The HTML document around a report page: skeleton, style, sort script, embedded figures."""

from __future__ import annotations

from pathlib import Path
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
#: The one copy of plotly.js in a run folder, loaded by report.html and charts/*.html.
PLOTLY_JS_FILE = "plotly.min.js"
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


def plotly_head(src: str | None = None) -> str:
    """``<head>`` scripts loading plotly.js once.

    Parameters
    ----------
    src : str, optional
        A relative URL of a plotly.js file beside the page (e.g. ``"plotly.min.js"``): the
        page loads it with ``<script src>`` and works offline, from ``file://``, and moved or
        zipped with its folder. Default: plotly.js inline (a page that stands alone, 4.8 MB).

    Returns
    -------
    str
    """
    config = "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>"
    if src is not None:
        return f'{config}<script charset="utf-8" src="{esc(src)}"></script>'
    return f'{config}<script charset="utf-8">{plotly_js()}</script>'


def write_plotly_js(folder: Path) -> Path:
    """``folder/plotly.min.js``: the bundled plotly.js, written unless already there.

    Parameters
    ----------
    folder : pathlib.Path
        The folder (created if missing).

    Returns
    -------
    pathlib.Path
        The file.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PLOTLY_JS_FILE
    bundle = plotly_js().encode("utf-8")
    if not path.is_file() or path.stat().st_size != len(bundle):
        path.write_bytes(bundle)
    return path


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
