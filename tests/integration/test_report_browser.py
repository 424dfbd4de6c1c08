"""report.html and comparison_report.html in a real headless Chromium, networking off.

Chromium is driven over the DevTools protocol through ``--remote-debugging-pipe`` (JSON
messages ending in NUL on file descriptors 3 and 4), so no websocket package or port is
needed. Everything but ``file://`` goes to a dead proxy (``--proxy-server=127.0.0.1:9``,
loopback included), so a page that needs a CDN fails here. Checked: no console error, no
uncaught exception, no failed request; every chart drawn (a ``.main-svg`` in each plot
container, with its traces); the trade table sorts on click; the SYNTHETIC banner shows.
A full-page screenshot is kept under the test's tmp dir and copied to
``.pytest_cache/artifacts/``. Skipped only when no Chromium binary is found.
"""

from __future__ import annotations

import base64
import fcntl
import itertools
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from workbench.backtest.result import BacktestResult
from workbench.results import build_summary
from workbench.visualization import charts as C
from workbench.visualization import report as R

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".pytest_cache" / "artifacts"

CHROMIUM = R.find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium binary (install Debian's `chromium` or set WORKBENCH_CHROMIUM)",
)


def _above_4(fd: int) -> int:
    """``fd`` moved to a number above 4 (closing the original)."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


class DevTools:
    """A minimal Chrome DevTools Protocol client over ``--remote-debugging-pipe``."""

    def __init__(self, binary: str, width: int = 1400, height: int = 1000) -> None:
        self.profile = tempfile.mkdtemp(prefix="workbench-cdp-")
        cmd_r, cmd_w = os.pipe()  # we write commands; Chromium reads them on fd 3
        ev_r, ev_w = os.pipe()  # Chromium writes replies and events on fd 4
        # The child's ends go onto 3 and 4: they must not be 3 or 4 already.
        cmd_r, ev_w = _above_4(cmd_r), _above_4(ev_w)
        args = R.chromium_command(
            binary, self.profile, "--remote-debugging-pipe", f"--window-size={width},{height}"
        )
        # A tiny Python trampoline puts the child's ends on fds 3 and 4, then execs Chromium.
        trampoline = (
            "import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
            "os.execv(sys.argv[3], sys.argv[3:])"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", trampoline, str(cmd_r), str(ev_w), *args],
            pass_fds=(cmd_r, ev_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(cmd_r)
        os.close(ev_w)
        self._out = os.fdopen(cmd_w, "wb", buffering=0)
        self._in = os.fdopen(ev_r, "rb", buffering=0)
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.events: list[dict[str, Any]] = []
        self._next = 0
        threading.Thread(target=self._read, daemon=True).start()
        self.session: str | None = None

    def _read(self) -> None:
        buf = b""
        while chunk := self._in.read(1 << 16):
            buf += chunk
            while b"\0" in buf:
                msg, buf = buf.split(b"\0", 1)
                self._queue.put(json.loads(msg))
        self._queue.put(None)

    def _get(self, deadline: float) -> dict[str, Any]:
        try:
            msg = self._queue.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            raise TimeoutError("no answer from Chromium") from None
        if msg is None:
            raise RuntimeError("Chromium closed the DevTools pipe")
        return msg

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float = 60) -> Any:
        self._next += 1
        msg: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if self.session and not method.startswith(("Target.", "Browser.")):
            msg["sessionId"] = self.session
        self._out.write(json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._get(deadline)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 60) -> dict[str, Any]:
        for i, e in enumerate(self.events):
            if e.get("method") == method:
                return self.events.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            msg = self._get(deadline)
            if msg.get("method") == method:
                return msg
            self.events.append(msg)

    def open_page(self, width: int = 1400, height: int = 1000) -> None:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    def evaluate(self, expression: str) -> Any:
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def poll(self, expression: str, timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value or time.monotonic() > deadline:
                return value
            time.sleep(0.1)

    def problems(self) -> list[str]:
        """Console errors, uncaught exceptions and failed requests seen so far."""
        while True:
            try:
                msg = self._queue.get_nowait()
            except queue.Empty:
                break
            if msg is not None:
                self.events.append(msg)
        out = []
        for e in self.events:
            method, p = e.get("method"), e.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = p["exceptionDetails"]
                out.append(
                    f"exception: {details.get('exception', {}).get('description') or details}"
                )
            elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console.error: " + " ".join(str(a.get("value")) for a in p["args"]))
            elif method == "Log.entryAdded" and p["entry"]["level"] == "error":
                out.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")
            elif method == "Network.loadingFailed":
                out.append(f"request failed: {p.get('errorText')} ({p.get('type')})")
        return out

    def screenshot(self, path: Path, width: int = 1400) -> Path:
        height = int(self.evaluate("document.documentElement.scrollHeight"))
        data = self.send(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
            },
        )["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
            self.proc.wait(timeout=10)
        except (RuntimeError, TimeoutError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait(timeout=10)
        finally:
            self._out.close()
            shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture
def browser() -> Iterator[DevTools]:
    assert CHROMIUM is not None
    tools = DevTools(CHROMIUM)
    try:
        tools.open_page()
        yield tools
    finally:
        tools.close()


@pytest.fixture(scope="module")
def result(small_sample: Path) -> BacktestResult:
    from workbench.backtest import run_backtest
    from workbench.data import load_bars
    from workbench.strategies import strategy_class

    bars = load_bars(data_dir=str(small_sample))
    return run_backtest(bars, strategy_class("ema_crossover")())


def _load(browser: DevTools, page: Path) -> float:
    t0 = time.perf_counter()
    browser.send("Page.navigate", {"url": page.resolve().as_uri()})
    browser.wait_for("Page.loadEventFired")
    return time.perf_counter() - t0


# Plot containers that hold an SVG plot with at least one drawn trace.
DRAWN = """Array.from(document.querySelectorAll('.js-plotly-plot')).filter(gd =>
  gd.querySelector('.main-svg') && gd._fullData && gd._fullData.length > 0 &&
  gd.querySelectorAll('.trace, .hm, .heatmaplayer image, g.point').length > 0).length"""


def _keep(path: Path) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    kept = ARTIFACTS / path.name
    shutil.copyfile(path, kept)
    print(f"screenshot: {path} (copy: {kept})")
    return kept


def test_report_in_headless_chromium(
    browser: DevTools, result: BacktestResult, tmp_path: Path
) -> None:
    summary = build_summary(result, "browser_test_run")
    summary["recommendations"] = ["Consider a time filter: entries after 14:00 lose money"]
    page = R.write_report(result, tmp_path / "run", summary, pdf=False)
    expected = len(C.chart_names(report_only=True))

    seconds = _load(browser, page)
    drawn = browser.poll(f"({DRAWN}) >= {expected}")
    print(f"report.html ({page.stat().st_size / 1e6:.1f} MB) loaded in {seconds:.2f} s")
    n_plots = browser.evaluate("document.querySelectorAll('.js-plotly-plot').length")
    n_drawn = browser.evaluate(DRAWN)
    with_svg = browser.evaluate(
        "Array.from(document.querySelectorAll('.js-plotly-plot'))"
        ".filter(gd => gd.querySelector('.main-svg')).length"
    )
    assert drawn, f"{n_drawn} of {n_plots} charts drawn"
    assert n_plots == with_svg == n_drawn == expected
    banner = browser.evaluate("document.getElementById('synthetic-banner').innerText")
    assert banner.startswith("SYNTHETIC DATA")
    titles = browser.evaluate(
        "Array.from(document.querySelectorAll('.js-plotly-plot .gtitle')).map(t => t.textContent)"
    )
    assert len(titles) == expected
    assert all("SYNTHETIC DATA" in t for t in titles)
    cards = browser.evaluate("document.querySelectorAll('#metric-cards .card').length")
    assert cards == 10

    # the trade table sorts by net P&L on a click, numerically
    sorted_pnl = browser.evaluate(
        """(() => {
        const table = document.getElementById('trade-table');
        const th = Array.from(table.tHead.rows[0].cells).find(c => c.textContent === 'Net P&L');
        th.click();
        const col = th.cellIndex;
        return Array.from(table.tBodies[0].rows).map(r => parseFloat(r.cells[col].dataset.v));
        })()"""
    )
    assert sorted_pnl == sorted(sorted_pnl)
    assert len(sorted_pnl) == len(result.trades)

    _check_layout(browser, result)
    stats = browser.evaluate(
        "Array.from(document.querySelectorAll('#statistics-table tr')).map(r => r.innerText)"
    )
    assert any(r.startswith("Ulcer index") for r in stats)
    bench = browser.evaluate(
        "Array.from(document.querySelectorAll('#benchmark-table tbody tr')).length"
    )
    assert bench == 5
    shot = browser.screenshot(tmp_path / "report.png")
    assert shot.stat().st_size > 50_000
    _keep(shot)
    assert browser.problems() == []


def test_moved_and_unzipped_run_folder_draws_offline(
    browser: DevTools, result: BacktestResult, tmp_path: Path
) -> None:
    """A run folder zipped, unpacked elsewhere and the original deleted: report.html and the
    chart pages still find the folder's one plotly.min.js and draw every chart."""
    run = tmp_path / "run"
    R.write_report(result, run, build_summary(result), pdf=False)
    archive = shutil.make_archive(str(tmp_path / "run"), "zip", run)
    shutil.rmtree(run)
    moved = tmp_path / "elsewhere" / "unzipped"
    shutil.unpack_archive(archive, moved)

    _load(browser, moved / "report.html")
    expected = len(C.chart_names(report_only=True))
    assert browser.poll(f"({DRAWN}) >= {expected}"), browser.evaluate(DRAWN)
    for name in ("equity_curve", "trade_distribution"):
        _load(browser, moved / "charts" / f"{name}.html")
        assert browser.poll(f"({DRAWN}) == 1"), name
        svg = "document.querySelectorAll('.js-plotly-plot svg.main-svg').length"
        assert browser.evaluate(svg) >= 1, name
    assert browser.problems() == []


def _boxes_overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["right"] <= b["left"]
        or b["right"] <= a["left"]
        or a["bottom"] <= b["top"]
        or b["bottom"] <= a["top"]
    )


def _check_layout(browser: DevTools, result: BacktestResult) -> None:
    """Rolls table filled in, contracts traded named, no stretched empty panels, and the
    P&L histogram's tick labels clear of each other."""
    rolls = browser.evaluate(
        "Array.from(document.querySelectorAll('#rolls-table tbody td')).map(td => td.innerText)"
    )
    assert rolls, "no rolls table"
    assert "n/a" not in rolls
    heads = browser.evaluate(
        "Array.from(document.querySelectorAll('#rolls-table th')).map(th => th.innerText)"
    )
    assert "From close" in heads

    traded = browser.evaluate("document.getElementById('contracts-traded').innerText")
    names = traded.split(":", 1)[1].strip().split(", ")
    assert sorted(names) == sorted(set(result.trades["symbol"]))

    # Panels side by side keep their own height: none is a large empty card.
    empty_space = browser.evaluate(
        """Array.from(document.querySelectorAll('.cols3 > .panel')).map(p => {
        const last = p.lastElementChild.getBoundingClientRect().bottom;
        return p.getBoundingClientRect().bottom - last; })"""
    )
    assert len(empty_space) == 3
    assert max(empty_space) < 30, empty_space

    labels = browser.evaluate(
        """(() => {
        const gd = document.getElementById('chart-trade_distribution-plot');
        const box = el => { const r = el.getBoundingClientRect();
          return {left: r.left, right: r.right, top: r.top, bottom: r.bottom,
                  text: el.textContent}; };
        return {x: Array.from(gd.querySelectorAll('.xtick text')).map(box),
                y: Array.from(gd.querySelectorAll('.ytick text')).map(box)}; })()"""
    )
    assert labels["x"]
    assert labels["y"]
    assert not any(x["text"].startswith("$-") for x in labels["x"]), labels["x"]
    clashes = [
        (x["text"], y["text"]) for x in labels["x"] for y in labels["y"] if _boxes_overlap(x, y)
    ]
    assert clashes == []


def test_comparison_report_in_headless_chromium(
    browser: DevTools, result: BacktestResult, tmp_path: Path
) -> None:
    import dataclasses

    other = dataclasses.replace(result, equity=result.equity * 0.9 + 500)
    s1 = build_summary(result, "run_one")
    s2 = build_summary(other, "run_two")
    s2["strategy"]["parameters"]["fast_period"] = 7
    s2["config"]["commission_per_contract"] = 2.5
    page = R.write_comparison_report(
        [s1, s2], {"run_one": result.equity, "run_two": other.equity}, tmp_path / "cmp"
    )
    # plotly.js is loaded from the folder's one stored copy, as report.html's, not inlined
    assert page.stat().st_size < 500_000
    assert sorted(page.parent.rglob("plotly.min.js")) == [page.parent / "plotly.min.js"]
    moved = tmp_path / "moved"
    page.parent.rename(moved)  # the folder moved elsewhere still draws offline
    page = moved / page.name
    seconds = _load(browser, page)
    assert browser.poll(f"({DRAWN}) >= 3"), browser.evaluate(DRAWN)
    print(f"comparison_report.html loaded in {seconds:.2f} s")
    assert browser.evaluate(DRAWN) == 3
    traces = browser.evaluate(
        "Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => gd._fullData.length)"
    )
    assert traces == [2, 2, 2]  # equity, drawdown %, drawdown $
    text = browser.evaluate("document.getElementById('comparison-table').innerText")
    assert "run_one" in text
    assert "run_two" in text
    drawdown_row = next(r for r in text.splitlines() if r.startswith("Max drawdown"))
    assert "%" in drawdown_row
    assert "$" in drawdown_row  # dollars next to percent
    diffs = browser.evaluate(
        "Array.from(document.querySelectorAll('#config-differences tbody tr'))"
        ".map(r => r.innerText.split('\\t'))"
    )
    assert ["parameters.fast_period", "20", "7"] in diffs
    assert ["config.commission_per_contract", "1.25", "2.5"] in diffs
    corr = browser.evaluate(
        "Array.from(document.querySelectorAll('#return-correlation tbody td'))"
        ".map(td => td.innerText)"
    )
    assert corr[0] == corr[3] == "+1.00"
    assert "SYNTHETIC" in browser.evaluate("document.getElementById('synthetic-banner').innerText")
    _keep(browser.screenshot(tmp_path / "comparison_report.png"))
    assert browser.problems() == []


def test_a_page_needing_the_network_is_caught(browser: DevTools, tmp_path: Path) -> None:
    """The offline check itself works: a CDN script fails and is reported."""
    page = tmp_path / "cdn.html"
    page.write_text(
        '<html><head><script src="https://cdn.plot.ly/plotly-2.35.2.min.js"></script></head>'
        "<body><script>Plotly.newPlot('x', [])</script></body></html>"
    )
    _load(browser, page)
    problems = browser.problems()
    assert any("request failed" in p for p in problems), problems
    assert any("Plotly is not defined" in p for p in problems), problems


def test_pdf_of_the_report(result: BacktestResult, tmp_path: Path) -> None:
    summary = build_summary(result)
    page = R.write_report(result, tmp_path, summary, pdf=False)
    t0 = time.perf_counter()
    pdf = R.write_pdf(page)
    print(f"report.pdf printed in {time.perf_counter() - t0:.2f} s")
    assert pdf == tmp_path / "report.pdf"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert data.count(b"/Type /Page") >= 3  # /Type /Pages counts too: several pages
    assert len(data) > 100_000  # charts are in it, not an empty page


def test_dashboard_heatmap_labels_do_not_run_together(
    browser: DevTools, result: BacktestResult, tmp_path: Path
) -> None:
    """The monthly heatmap as the dashboard's tab draws it: each cell's label inside its
    cell, none touching another, at the width the dashboard gives the chart."""
    from workbench.visualization.report.document import figure_div, page, plotly_head
    from workbench.visualization.viewer import MONTHLY_HEATMAP_WIDTH, dashboard_figures

    fig = dashboard_figures(result)["monthly_returns"]
    assert fig.layout.width == MONTHLY_HEATMAP_WIDTH
    path = tmp_path / "heatmap.html"
    path.write_text(page("heatmap", plotly_head(), figure_div(fig, "hm")), encoding="utf-8")
    _load(browser, path)
    assert browser.poll("document.querySelector('#hm .main-svg') !== null")
    labels = browser.evaluate(
        """Array.from(document.querySelectorAll('#hm .heatmap-label')).map(t => {
        const r = t.getBoundingClientRect();
        return {left: r.left, right: r.right, top: r.top, bottom: r.bottom,
                text: t.textContent}; })"""
    )
    columns = browser.evaluate(
        "Array.from(document.querySelectorAll('#hm .xtick text')).map(t => "
        "t.getBoundingClientRect().left + t.getBoundingClientRect().width / 2)"
    )
    assert len(columns) == 12
    pitch = min(b - a for a, b in itertools.pairwise(columns))
    assert labels
    assert all(lab["right"] - lab["left"] < pitch - 4 for lab in labels), (pitch, labels)
    clashes = [
        (a["text"], b["text"])
        for i, a in enumerate(labels)
        for b in labels[i + 1 :]
        if _boxes_overlap(a, b)
    ]
    assert clashes == []
    assert browser.problems() == []


def test_walkforward_and_overfitting_pages_share_one_stored_plotly_offline(
    browser: DevTools, small_sample: Path, tmp_path: Path
) -> None:
    """walkforward.html and overfitting.html load plotly.js from a file of their folder, as
    report.html does (not 4.8 MB inline each), and still draw offline."""
    from workbench.data import load_bars
    from workbench.optimize import ParameterGrid, sweep, walk_forward
    from workbench.strategies import MomentumStrategy

    bars = load_bars(data_dir=str(small_sample))
    grid = ParameterGrid(MomentumStrategy, {"fast_period": [5, 10], "slow_period": [30, 60]})
    wf = walk_forward(bars, grid, in_sample=15_000, out_of_sample=8_000).save(tmp_path / "wf")
    swept = tmp_path / "sweep"
    swept.mkdir()
    sweep(bars, grid, blocks=4, folder=swept)
    [overfitting] = list(swept.rglob("overfitting.html"))
    for page, scripts, charts in (
        (wf / "walkforward.html", [wf / "stitched_oos" / "plotly.min.js"], 2),
        (overfitting, [overfitting.parent / "plotly.min.js"], 2),
    ):
        assert page.stat().st_size < 500_000, page  # plotly.js is not inlined
        assert sorted(page.parent.rglob("plotly.min.js")) == scripts, page
        _load(browser, page)
        assert browser.poll(f"({DRAWN}) >= {charts}"), (page, browser.evaluate(DRAWN))
        assert browser.evaluate(DRAWN) == charts, page
        assert browser.problems() == [], page
    _keep(browser.screenshot(tmp_path / "overfitting.png"))
