"""``PaperMonitor``: live plots and controls of a running :class:`PaperSession` in Jupyter.

Price with the fills, equity and position (a plotly ``FigureWidget``), an order blotter, a
status line and Stop / Kill buttons (ipywidgets). The session runs in its own thread; the
monitor redraws from it at most every ``refresh`` seconds (a redraw sends only the last
``window`` bars), so the trading loop is not slowed and the notebook stays usable.
"""

from __future__ import annotations

import html
import time
from typing import Any

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from workbench.execution import ExecutionEngine, PaperSession

_BLOTTER_COLUMNS = ("bar", "order_ref", "purpose", "side", "quantity", "price", "commission")


class PaperMonitor:
    """Widgets that follow a paper session (display :attr:`widget`).

    Parameters
    ----------
    session : PaperSession
        The session (started before or after the monitor is made).
    refresh : float, default 0.25
        Least seconds between two redraws.
    window : int, default 600
        Bars shown (the most recent).
    blotter_rows : int, default 12
        Fills listed (the most recent).
    """

    def __init__(
        self,
        session: PaperSession,
        *,
        refresh: float = 0.25,
        window: int = 600,
        blotter_rows: int = 12,
    ) -> None:
        self.session = session
        self.refresh = refresh
        self.window = window
        self.blotter_rows = blotter_rows
        self.redraws = 0
        self._last = 0.0
        base = make_subplots(
            rows=3,
            cols=1,
            shared_xaxes=True,
            row_heights=[0.5, 0.25, 0.25],
            vertical_spacing=0.04,
            subplot_titles=("price and fills", "equity", "position"),
        )
        self.fig = go.FigureWidget(base)
        self.fig.add_scatter(name="close", mode="lines", row=1, col=1)
        self.fig.add_scatter(
            name="buy", mode="markers", marker={"symbol": "triangle-up", "size": 9}, row=1, col=1
        )
        self.fig.add_scatter(
            name="sell", mode="markers", marker={"symbol": "triangle-down", "size": 9}, row=1, col=1
        )
        self.fig.add_scatter(name="equity", mode="lines", row=2, col=1)
        self.fig.add_scatter(name="position", mode="lines", line={"shape": "hv"}, row=3, col=1)
        self.fig.update_layout(height=620, margin={"l": 40, "r": 10, "t": 30, "b": 30})
        self.fig.update_xaxes(title_text="bar", row=3, col=1)
        self.status = widgets.HTML()
        self.blotter = widgets.HTML()
        self.stop_button = widgets.Button(description="Stop", button_style="warning")
        self.kill_button = widgets.Button(description="Kill (flatten)", button_style="danger")
        self.stop_button.on_click(lambda _: session.stop())
        self.kill_button.on_click(lambda _: session.kill("kill button (notebook)"))
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.stop_button, self.kill_button, self.status]),
                self.fig,
                self.blotter,
            ]
        )
        session.on_bar(self._on_bar)
        self.update()

    def _on_bar(self, engine: ExecutionEngine) -> None:
        now = time.monotonic()
        if now - self._last >= self.refresh:
            self._last = now
            self.update()

    def _closes(self, lo: int, hi: int) -> np.ndarray:
        s = self.session
        if s.live_feed is not None:
            return np.array([b.close for b in s.live_bars[lo:hi]], dtype=float)
        return s.bars["close"].to_numpy()[lo:hi]

    def update(self) -> None:
        """Redraw from the session's record now (also after it ended)."""
        eng = self.session.engine
        n = len(eng.equity)
        lo = max(0, n - self.window)
        x = np.arange(lo, n)
        fills = [f for f in eng.blotter[-500:] if f["bar"] >= lo]
        buys = [f for f in fills if f["side"] > 0]
        sells = [f for f in fills if f["side"] < 0]
        with self.fig.batch_update():
            close, buy, sell, equity, position = self.fig.data
            close.x, close.y = x, self._closes(lo, n)
            buy.x, buy.y = [f["bar"] for f in buys], [f["price"] for f in buys]
            sell.x, sell.y = [f["bar"] for f in sells], [f["price"] for f in sells]
            equity.x, equity.y = x, eng.equity[lo:n]
            position.x, position.y = x, eng.position[lo:n]
        st = self.session.status()
        state = "finished" if self.session.finished.is_set() else "running"
        if st["halted_reason"]:
            state = f"halted: {html.escape(st['halted_reason'])}"
        self.status.value = (
            f"<b>{state}</b> &nbsp; bars {st['bars']:,} &nbsp; position {st['position']:+d}"
            f" &nbsp; equity {st['equity']:,.2f} &nbsp; trades {st['trades']}"
            f" &nbsp; orders sent {st['orders_sent']}"
        )
        self.blotter.value = blotter_html(eng.blotter[-self.blotter_rows :])
        self.redraws += 1


def blotter_html(rows: list[dict[str, Any]]) -> str:
    """The fills as a small HTML table (most recent last)."""
    head = "".join(f"<th>{c}</th>" for c in _BLOTTER_COLUMNS)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(str(r.get(c, '')))}</td>" for c in _BLOTTER_COLUMNS)
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
