"""Charts, downsampling, report files and the dashboard of workbench.visualization."""

from __future__ import annotations

import dataclasses
import html
import logging
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from workbench.backtest.result import BacktestResult
from workbench.model import TRADE_COLUMNS
from workbench.results import build_summary
from workbench.visualization import charts as C
from workbench.visualization import report as R
from workbench.visualization import viewer as V
from workbench.visualization.html_parts import fmt_num, usd

PLOTLY_JS_MARKER = "plotly.js v"  # the bundle's banner comment, once per copy
MB = 1_000_000


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def small_result(small_sample: Path) -> BacktestResult:
    from workbench.backtest import run_backtest
    from workbench.data import load_bars
    from workbench.strategies import strategy_class

    bars = load_bars(data_dir=str(small_sample))
    result = run_backtest(bars, strategy_class("bollinger_reversion")())
    assert len(result.trades) > 20
    assert result.provenance["synthetic"] is True
    return result


def fake_result(
    n_bars: int, n_trades: int, *, synthetic: bool = True, seed: int = 7
) -> BacktestResult:
    """A result with a random-walk equity curve of ``n_bars`` 1-minute bars (built fast)."""
    rng = np.random.default_rng(seed)
    capital = 5000.0
    start = pd.Timestamp("2024-01-02 23:00", tz="UTC")
    index = pd.DatetimeIndex(start + pd.to_timedelta(np.arange(1, n_bars + 1), unit="min"))
    equity = pd.Series(capital + np.cumsum(rng.normal(0, 2.0, n_bars)), index=index, name="equity")
    entry_pos = np.sort(rng.choice(n_bars - 10, n_trades, replace=False))
    net = rng.normal(-2, 40, n_trades).round(2)
    trades = pd.DataFrame(
        {
            "entry_time": index[entry_pos] - pd.Timedelta(minutes=1),
            "exit_time": index[entry_pos + 5],
            "side": np.where(rng.random(n_trades) > 0.5, "long", "short"),
            "contracts": rng.integers(1, 5, n_trades),
            "entry_price": rng.uniform(60, 90, n_trades).round(2),
            "exit_price": rng.uniform(60, 90, n_trades).round(2),
            "gross_pnl": net + 2.5,
            "commission": np.full(n_trades, 2.5),
            "slippage_cost": np.full(n_trades, 1.0),
            "net_pnl": net,
            "exit_reason": rng.choice(["signal", "stop", "roll"], n_trades),
            "bars_held": np.full(n_trades, 5),
            "symbol": np.full(n_trades, "MCLH4"),
        },
        columns=list(TRADE_COLUMNS),
    )
    days = index.tz_convert("America/New_York").normalize().tz_localize(None)
    eod = equity.groupby(days).last()
    daily = pd.Series(np.diff(np.r_[capital, eod.to_numpy()]), index=eod.index.rename("trade_date"))
    return BacktestResult(
        trades=trades,
        equity=equity,
        signals=pd.Series(np.zeros(n_bars, np.int8), index=index - pd.Timedelta(minutes=1)),
        position=pd.Series(np.zeros(n_bars), index=index),
        daily_pnl=daily,
        risk_events=pd.DataFrame(columns=["time", "action", "reason", "requested", "approved"]),
        parameters={
            "strategy": {
                "name": "Fake",
                "key": "fake",
                "class": "FakeStrategy",
                "parameters": {"x": 1},
            },
            "config": {"initial_capital": capital, "risk": {"risk_per_trade": 0.02}},
        },
        data_range={
            "start": str(index[0].date()),
            "end": str(index[-1].date()),
            "trading_days": len(daily),
            "total_bars": n_bars,
        },
        provenance={
            "product": "MCL_FUT",
            "schema": "ohlcv-1m",
            "synthetic": synthetic,
            "sources": ["synthetic" if synthetic else "databento"],
            "contracts": ["MCLH4"],
            "rolls": [],
        },
        initial_capital=capital,
    )


def real_copy(result: BacktestResult) -> BacktestResult:
    return dataclasses.replace(result, provenance={**result.provenance, "synthetic": False})


def _title(fig: go.Figure) -> str:
    return str(fig.layout.title.text or "")


# --------------------------------------------------------------------------- registry


def test_registry_holds_the_planned_charts() -> None:
    names = C.chart_names()
    for name in (
        "equity_curve",
        "drawdown",
        "monthly_returns",
        "trade_distribution",
        "rolling_sharpe",
        "streaks",
        "time_of_day",
        "day_of_week",
        "trade_table",
    ):
        assert name in names
    assert "trade_table" not in C.chart_names(report_only=True)


def test_register_chart_rejects_duplicates_and_bad_names() -> None:
    with pytest.raises(ValueError, match="already registered"):
        C.register_chart("equity_curve")(lambda result: go.Figure())
    with pytest.raises(ValueError, match="lowercase identifier"):
        C.register_chart("Bad Name")
    with pytest.raises(KeyError, match="no chart named"):
        C.build_chart("nope", None)  # type: ignore[arg-type]


def test_a_registered_chart_is_built_with_the_others(small_result: BacktestResult) -> None:
    @C.register_chart("test_extra_chart", in_report=False)
    def extra(result: BacktestResult) -> go.Figure:
        return go.Figure(go.Bar(x=[1], y=[len(result.trades)]))

    try:
        figs = C.build_charts(small_result, target_points=100)
        assert figs["test_extra_chart"].data[0].y[0] == len(small_result.trades)
        assert len(figs["equity_curve"].data[0].x) <= 100  # option reached the chart taking it
    finally:
        C._REGISTRY.pop("test_extra_chart")


@pytest.mark.parametrize("name", C.chart_names())
def test_each_chart_builds_with_data_and_the_synthetic_label(
    name: str, small_result: BacktestResult
) -> None:
    fig = C.build_chart(name, small_result)
    assert isinstance(fig, go.Figure)
    assert len(fig.data) >= 1
    assert all(len(t.x if t.type != "table" else t.cells.values) > 0 for t in fig.data)
    assert "SYNTHETIC DATA" in _title(fig)
    assert any(a.text == "SYNTHETIC DATA" for a in fig.layout.annotations)
    fig.to_json()  # serializable


@pytest.mark.parametrize("name", C.chart_names())
def test_real_data_charts_carry_no_synthetic_label(name: str, small_result: BacktestResult) -> None:
    fig = C.build_chart(name, real_copy(small_result))
    assert "SYNTHETIC" not in _title(fig)
    assert not any("SYNTHETIC" in str(a.text) for a in fig.layout.annotations)


def test_charts_of_a_result_without_trades(small_result: BacktestResult) -> None:
    empty = dataclasses.replace(small_result, trades=small_result.trades.iloc[:0])
    for name in C.chart_names():
        fig = C.build_chart(name, empty)
        assert "SYNTHETIC DATA" in _title(fig)


def test_charts_when_equity_goes_below_zero() -> None:
    broke = fake_result(100_000, 300)
    broke = dataclasses.replace(broke, equity=broke.equity - np.linspace(0, 20_000, 100_000))
    eod = broke.equity.groupby(broke.equity.index.tz_convert("America/New_York").date).last()
    daily = pd.Series(
        np.diff(np.r_[broke.initial_capital, eod.to_numpy()]), index=pd.to_datetime(eod.index)
    )
    broke = dataclasses.replace(broke, daily_pnl=daily)
    fig = C.build_chart("rolling_sharpe", broke)
    assert any("zero or below" in str(a.text) for a in fig.layout.annotations)
    table = C.monthly_returns(broke)
    assert np.isfinite(table.loc[2024, 1])
    assert table.loc[2024, [2, 3]].isna().all()  # after the equity ran out: no return
    for name in C.chart_names():
        C.build_chart(name, broke).to_json()


def test_rolling_sharpe_says_why_it_ends_when_trading_stops() -> None:
    """An account that stops trading has flat days: the chart says where and why the
    rolling Sharpe ends instead of just stopping."""
    result = fake_result(200_000, 300)
    daily = result.daily_pnl.copy()
    daily.iloc[-80:] = 0.0  # no P&L over the last 80 trade dates (more than a window)
    result = dataclasses.replace(result, daily_pnl=daily)
    fig = C.build_chart("rolling_sharpe", result, window=20)
    quiet = pd.Timestamp(daily.index[-81]).strftime("%Y-%m-%d")
    assert f"no P&L after {quiet} (no trades)" in html.unescape(_title(fig))
    assert any("no trades" in str(a.text) for a in fig.layout.annotations)
    assert fig.layout.shapes[-1].x0 == quiet


def test_rolling_sharpe_reaching_the_end_has_no_note() -> None:
    fig = C.build_chart("rolling_sharpe", fake_result(200_000, 300), window=20)
    assert "ends" not in _title(fig)


def test_price_chart_draws_each_trade_at_its_fill_prices(small_result: BacktestResult) -> None:
    fig = C.build_chart("price_trades", small_result)
    names = [t.name for t in fig.data]
    assert names[0] == "Close"
    entries = [t for t in fig.data if str(t.name).endswith("entry")]
    assert sum(len(t.x) for t in entries) == len(small_result.trades)
    drawn = np.sort(np.concatenate([np.asarray(t.y, dtype=float) for t in entries]))
    np.testing.assert_allclose(drawn, np.sort(small_result.trades["entry_price"].to_numpy()))
    exits = next(t for t in fig.data if t.name == "Exit")
    np.testing.assert_allclose(exits.y, small_result.trades["exit_price"].to_numpy())
    no_bars = dataclasses.replace(small_result, bars=None)
    assert any(
        "bars not kept" in str(a.text)
        for a in C.build_chart("price_trades", no_bars).layout.annotations
    )


def test_usd_ticks_put_the_sign_before_the_dollar() -> None:
    values, labels = C.usd_ticks(-104.3, 480.0)
    assert values[0] >= -104.3
    assert values[-1] <= 480.0
    assert labels[values.index(-100.0)] == "-$100"
    assert labels[values.index(0.0)] == "$0"
    assert all(not t.startswith("$-") for t in labels)
    assert C.usd_ticks(-0.3, 0.45)[1] == ["-$0.20", "$0.00", "$0.20", "$0.40"]


def test_trade_distribution_labels_dollars_with_the_sign_first(
    small_result: BacktestResult,
) -> None:
    axis = C.build_chart("trade_distribution", small_result).layout.xaxis
    assert axis.ticktext
    assert not any(t.startswith("$-") for t in axis.ticktext)
    assert axis.range[0] < small_result.trades["net_pnl"].min()


# --------------------------------------------------------------------------- downsampling


def test_downsample_keeps_endpoints_and_global_extremes() -> None:
    rng = np.random.default_rng(1)
    n = 740_000
    s = pd.Series(np.cumsum(rng.normal(size=n)), index=pd.RangeIndex(n))
    s.iloc[123_457] = s.max() + 50  # a one-bar spike
    s.iloc[600_001] = s.min() - 80  # a one-bar crash
    out = C.downsample_minmax(s, 5000)
    assert 1000 < len(out) <= 5000
    assert out.index[0] == 0
    assert out.index[-1] == n - 1
    assert out.max() == s.max()
    assert out.idxmax() == 123_457
    assert out.min() == s.min()
    assert out.idxmin() == 600_001
    assert out.index.is_monotonic_increasing
    assert out.index.is_unique
    assert (out == s.loc[out.index]).all()  # points selected, never averaged


def test_downsample_keeps_each_buckets_extremes() -> None:
    rng = np.random.default_rng(2)
    values = rng.normal(size=10_003)
    out = C.downsample_minmax(pd.Series(values), 400)
    size = math.ceil(len(values) / (400 // 4))
    for lo in range(0, len(values), size):
        chunk = values[lo : lo + size]
        kept = out.loc[lo : lo + size - 1].to_numpy()
        assert chunk.max() in kept
        assert chunk.min() in kept


def test_downsample_short_series_and_bad_target() -> None:
    s = pd.Series([1.0, 3.0, 2.0])
    assert C.downsample_minmax(s, 10) is s
    with pytest.raises(ValueError, match="at least 4"):
        C.downsample_minmax(s, 3)


def test_downsample_with_nan_keeps_finite_extremes() -> None:
    values = np.arange(1000, dtype=float)
    values[500:510] = np.nan
    values[700] = -5.0
    out = C.downsample_minmax(pd.Series(values), 40)
    assert out.min() == -5.0
    assert out.max() == 999.0


# --------------------------------------------------------------------------- chart content


def test_equity_chart_is_downsampled_and_marks_trades(small_result: BacktestResult) -> None:
    fig = C.build_chart("equity_curve", small_result, target_points=500)
    line = fig.data[0]
    assert len(line.x) <= 500 < len(small_result.equity)
    assert max(line.y) == small_result.equity.max()
    assert min(line.y) == small_result.equity.min()
    entries = [t for t in fig.data if t.name in ("Long entry", "Short entry")]
    exits = [t for t in fig.data if t.name == "Exit"]
    assert sum(len(t.x) for t in entries) == len(small_result.trades)
    assert len(exits[0].x) == len(small_result.trades)
    # x values are New York wall-clock strings (a FigureWidget would show datetimes as numbers)
    first = pd.Timestamp(line.x[0])
    assert first == small_result.equity.index[0].tz_convert("America/New_York").tz_localize(None)


def test_equity_markers_are_capped_to_the_largest_trades(small_result: BacktestResult) -> None:
    fig = C.build_chart("equity_curve", small_result, max_markers=10)
    exits = next(t for t in fig.data if t.name == "Exit")
    assert len(exits.x) == 10
    shown = sorted(abs(float(v)) for v in exits.customdata[:, 4])
    top = sorted(small_result.trades["net_pnl"].abs())[-10:]
    assert shown == pytest.approx(top)
    assert "10 largest" in _title(fig)


def test_time_axis_strings() -> None:
    utc = pd.DatetimeIndex(["2024-07-01 22:00", "2024-07-01 22:01"], tz="UTC")
    assert list(C.time_axis(utc)) == ["2024-07-01T18:00", "2024-07-01T18:01"]  # EDT
    assert list(C.time_axis(pd.DatetimeIndex(["2024-01-02 23:00:05"], tz="UTC"))) == [
        "2024-01-02T18:00:05"
    ]
    dates = pd.DatetimeIndex(["2024-01-02", "2024-01-03"])
    assert list(C.time_axis(dates, new_york=False)) == ["2024-01-02", "2024-01-03"]


def test_trade_distribution_bins_every_trade(small_result: BacktestResult) -> None:
    fig = C.build_chart("trade_distribution", small_result, nbins=40)
    net = small_result.trades["net_pnl"]
    winners, losers = fig.data
    assert len(winners.x) == 40
    assert sum(winners.y) == (net > 0).sum()
    assert sum(losers.y) == (net <= 0).sum()


def test_drawdown_chart_matches_the_max_drawdown_metric(small_result: BacktestResult) -> None:
    fig = C.build_chart("drawdown", small_result)
    deepest = -min(fig.data[0].y)
    assert deepest == pytest.approx(
        small_result.metrics["performance"]["max_drawdown_pct"], abs=1e-3
    )


def test_monthly_returns_compound_to_the_total_return(small_result: BacktestResult) -> None:
    table = C.monthly_returns(small_result)
    months = table.to_numpy().ravel()
    months = months[~np.isnan(months)]
    total = np.prod(1 + months / 100) - 1
    assert total * 100 == pytest.approx(
        small_result.metrics["performance"]["total_return_pct"], abs=1e-3
    )
    fig = C.build_chart("monthly_returns", small_result)
    assert np.nansum(np.asarray(fig.data[0].z, dtype=float)) == pytest.approx(np.nansum(months))


def test_time_of_day_and_weekday_bars_add_up_to_the_net_pnl(small_result: BacktestResult) -> None:
    net = small_result.trades["net_pnl"].sum()
    for name in ("time_of_day", "day_of_week", "exit_reasons"):
        bars = C.build_chart(name, small_result).data[0]
        assert sum(bars.y) == pytest.approx(net), name
    hours = C.build_chart("time_of_day", small_result).data[0]
    best = small_result.metrics["time_analysis"]["best_hour"]
    traded = np.asarray(hours.customdata[:, 0], dtype=float) > 0
    y = np.where(traded, np.asarray(hours.y, dtype=float), -np.inf)
    assert int(np.argmax(y)) == best  # same New York hour as the metrics


def test_streak_chart_matches_trade_streaks(small_result: BacktestResult) -> None:
    from workbench.analysis import trade_streaks

    fig = C.build_chart("streaks", small_result)
    wins, losses = fig.data[0], fig.data[1]
    longest = trade_streaks(small_result.trades)
    assert max(x for x, y in zip(wins.x, wins.y, strict=True) if y) == longest["max_win_streak"]
    assert (
        max(x for x, y in zip(losses.x, losses.y, strict=True) if y) == longest["max_loss_streak"]
    )
    wins_total = sum(x * y for x, y in zip(wins.x, wins.y, strict=True))
    assert wins_total == (small_result.trades["net_pnl"] > 0).sum()


def test_trade_table_caps_rows(small_result: BacktestResult) -> None:
    fig = C.build_chart("trade_table", small_result, max_rows=5)
    assert len(fig.data[0].cells.values[0]) == 5
    html = R.trade_table_html(small_result.trades, max_rows=7)
    assert html.count("<tr>") == 1 + 7  # the header row and 7 trades
    assert f"of {len(small_result.trades):,}" in html


# --------------------------------------------------------------------------- report files


def _summary(result: BacktestResult) -> dict:
    s = build_summary(result, "2024-01-01_000000_test_MCL_FUT")
    s["recommendations"] = ["Tighten the stops <now>", "Trade less on Fridays"]
    return s


def test_write_report_files(small_result: BacktestResult, tmp_path: Path) -> None:
    path = R.write_report(small_result, tmp_path / "run", _summary(small_result), pdf=False)
    assert path == tmp_path / "run" / "report.html"
    page = path.read_text(encoding="utf-8")
    # plotly.js once in the folder, beside report.html, loaded by a relative <script src>
    run = tmp_path / "run"
    assert sorted(p.relative_to(run).as_posix() for p in run.rglob("*.js")) == ["plotly.min.js"]
    assert PLOTLY_JS_MARKER in (run / "plotly.min.js").read_text(encoding="utf-8")
    assert PLOTLY_JS_MARKER not in page
    assert page.count('<script charset="utf-8" src="plotly.min.js"></script>') == 1
    assert 'src="http' not in page
    assert page.count('class="chart"') == len(C.chart_names(report_only=True))
    assert "SYNTHETIC DATA" in page
    assert 'id="synthetic-banner"' in page
    assert "Tighten the stops &lt;now&gt;" in page  # recommendations, escaped
    assert "2024-01-01_000000_test_MCL_FUT" in page
    for contract in small_result.provenance["contracts"]:
        assert contract in page
    charts = run / "charts"
    for name in C.chart_names():
        chart = (charts / f"{name}.html").read_text(encoding="utf-8")
        assert '<script charset="utf-8" src="../plotly.min.js"></script>' in chart
        assert PLOTLY_JS_MARKER not in chart
    assert not (tmp_path / "run" / "report.pdf").exists()


def test_real_data_report_says_real(small_result: BacktestResult, tmp_path: Path) -> None:
    real = real_copy(small_result)
    page = R.write_report(real, tmp_path, build_summary(real), pdf=False).read_text()
    assert "SYNTHETIC" not in page
    assert "Real market data" in page


def test_report_of_a_full_sample_curve_is_small_and_fast(tmp_path: Path) -> None:
    big = fake_result(740_000, 3_000)
    summary = build_summary(big)
    t0 = time.perf_counter()
    path = R.write_report(big, tmp_path, summary, pdf=False)
    elapsed = time.perf_counter() - t0
    size = path.stat().st_size
    print(f"report of 740k bars / 3,000 trades: {size / MB:.2f} MB in {elapsed:.2f} s")
    assert size < 1.5 * MB  # plotly.js is beside it, in plotly.min.js
    js = tmp_path / R.PLOTLY_JS_FILE
    assert js.stat().st_size == len(R.plotly_js().encode())
    assert elapsed < 15  # ~1 s on a laptop; generous for loaded CI machines
    for name in ("equity_curve", "drawdown"):
        assert (tmp_path / "charts" / f"{name}.html").stat().st_size < 400_000
    assert f"1,000 trades with the largest |net P&amp;L| of {len(big.trades):,}" in path.read_text()


def test_write_pdf_without_chromium_returns_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    page = tmp_path / "report.html"
    page.write_text("<html><body>x</body></html>")
    monkeypatch.setenv(R.CHROMIUM_ENV, str(tmp_path / "no-such-chromium"))
    with caplog.at_level(logging.WARNING, logger="workbench.visualization.report"):
        assert R.write_pdf(page) is None
    assert "no Chromium found" in caplog.text
    assert not (tmp_path / "report.pdf").exists()


def test_comparison_report(small_result: BacktestResult, tmp_path: Path) -> None:
    big = fake_result(200_000, 500, synthetic=False)
    s1 = build_summary(small_result, "run_a")
    s2 = build_summary(big, "run_b")
    path = R.write_comparison_report(
        [s1, s2], {"run_a": small_result.equity, "run_b": big.equity}, tmp_path
    )
    page = path.read_text(encoding="utf-8")
    assert path.name == "comparison_report.html"
    assert PLOTLY_JS_MARKER not in page  # loaded from the copy beside it, as report.html
    assert page.count('<script charset="utf-8" src="plotly.min.js"></script>') == 1
    assert PLOTLY_JS_MARKER in (tmp_path / "plotly.min.js").read_text(encoding="utf-8")
    assert "run_a" in page
    assert "run_b" in page
    assert "SYNTHETIC DATA" in page  # one of the runs is synthetic
    figs = R.comparison_figures([s1, s2], {"run_a": small_result.equity, "run_b": big.equity})
    assert [len(f.data) for f in figs.values()] == [2, 2, 2]
    # dollars and percent of the same drawdown point at the same moments
    pct_trace, usd_trace = figs["drawdown_overlay"].data[1], figs["drawdown_usd_overlay"].data[1]
    assert list(pct_trace.x) == list(usd_trace.x)
    assert min(usd_trace.y) < 0
    np.testing.assert_allclose(pct_trace.customdata, usd_trace.y)
    assert max(figs["equity_overlay"].data[1].y) == big.equity.max()
    # the better Sharpe is marked best
    sharpes = [s["performance"]["sharpe_ratio"] for s in (s1, s2)]
    table = R.comparison_table_html([s1, s2])
    best = fmt_num(max(sharpes), ".2f")
    assert f'<td class="best">{best}</td>' in table


# --------------------------------------------------------------------------- dashboard


def test_dashboard_tabs(small_result: BacktestResult) -> None:
    import ipywidgets as W

    dash = V.create_dashboard(small_result)
    assert isinstance(dash, W.Tab)
    assert tuple(dash.titles) == V.TAB_TITLES
    assert "SYNTHETIC DATA" in dash.children[0].value
    equity, price = dash.children[1].children
    assert isinstance(equity, go.FigureWidget)
    assert "SYNTHETIC DATA" in equity.layout.title.text
    assert "Price and trades" in price.layout.title.text
    statistics = dash.children[6].children[0].value
    assert "Ulcer index" in statistics
    assert "Buy &amp; hold" in statistics


def test_dashboard_without_figurewidget_uses_output_areas(small_result: BacktestResult) -> None:
    import ipywidgets as W

    dash = V.create_dashboard(small_result, use_figurewidget=False)
    assert all(isinstance(w, W.Output) for w in dash.children[1].children)


def test_dashboard_trade_table_sorts_all_trades(small_result: BacktestResult) -> None:
    box = V.trade_table_widget(small_result, page_rows=3)
    column, direction = box.children[0].children
    table = box.children[1]
    net = small_result.trades["net_pnl"]
    assert usd(net.max()) in table.value
    assert usd(net.min()) not in table.value
    direction.value = "ascending"
    assert usd(net.min()) in table.value
    assert usd(net.max()) not in table.value
    column.value = "Entry (NY)"
    first = C.ny_naive(small_result.trades["entry_time"]).min().strftime("%Y-%m-%d %H:%M")
    assert first in table.value


def test_viewer_outside_a_notebook_writes_and_opens_the_report(
    small_result: BacktestResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(V.webbrowser, "open", lambda url: opened.append(url))
    monkeypatch.setenv(V.NO_BROWSER_ENV, "1")
    path = V.BacktestViewer().show(small_result, run_dir=tmp_path / "a")
    assert path == tmp_path / "a" / "report.html"
    assert path.exists()
    assert opened == []  # WORKBENCH_NO_BROWSER=1
    monkeypatch.delenv(V.NO_BROWSER_ENV)
    path.write_text("existing")  # a saved run's report is opened, not rewritten
    again = V.BacktestViewer().show(small_result, run_dir=tmp_path / "a")
    assert again == path
    assert path.read_text() == "existing"
    assert opened == [path.resolve().as_uri()]
    monkeypatch.setattr(V.tempfile, "tempdir", str(tmp_path))
    temp = V.BacktestViewer(open_browser=False).show(small_result)
    assert temp is not None
    assert temp.exists()
    assert temp.parent != tmp_path / "a"
