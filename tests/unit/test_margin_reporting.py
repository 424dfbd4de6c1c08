"""Margin calls and the account's notes as reported: CLI summary, summary.json, the report's
banner, the comparison (never "best" when wiped out), and a --no-risk run's configuration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from workbench.backtest import BacktestConfig, run_backtest
from workbench.results.summary import build_summary, validate_summary
from workbench.strategies.base import Strategy
from workbench.visualization.html_parts import account_banner
from workbench.visualization.report.comparison import comparison_table_html


@dataclass(frozen=True)
class LongThenFlip(Strategy):
    """Long from the first bar, then alternating: entry requests after a wipe-out."""

    name: ClassVar[str] = "long_then_flip_test"

    def compute_signals(self, bars: pd.DataFrame) -> np.ndarray:
        sig = np.ones(len(bars), dtype=np.int8)
        sig[len(bars) // 2 :: 3] = -1
        return sig


def _bars(close: list[float]) -> pd.DataFrame:
    c = np.asarray(close)
    o = np.r_[c[0], c[:-1]]
    idx = pd.date_range("2024-03-04 14:00", periods=len(c), freq="1h", tz="UTC")
    df = pd.DataFrame(
        {"open": o, "high": np.maximum(o, c) + 0.01, "low": np.minimum(o, c) - 0.01, "close": c},
        index=idx,
    )
    df["volume"] = 100
    df.attrs.update(product="MCL_FUT", schema="ohlcv-1h")
    return df


CRASH = [70.0, 70.0, 69.0, 55.0, 56.0, 57.0, 58.0, 59.0, 60.0, 61.0, 62.0, 63.0]


def _wiped(engine: str = "native", use_risk: bool = False):
    return run_backtest(
        _bars(CRASH),
        LongThenFlip(),
        use_risk_manager=use_risk,
        initial_capital=2_000.0,
        engine=engine,
        stop={"mode": "none"},
        sizing={"method": "fixed", "contracts": 1},
    )


def test_a_crash_wipes_the_account_out_in_both_engines_and_every_mode() -> None:
    for use_risk in (False, True):
        runs = [_wiped(e, use_risk) for e in ("native", "python")]
        for r in runs:
            # long 1 at $70.00: the close at $55.00 leaves 2000 - 1.25 - 1500 < $700
            assert r.trades["exit_reason"].astype(str).tolist() == ["margin_call"]
            assert r.trades["exit_price"].tolist() == [55.0 - 0.01]  # that close, slipped
            assert r.account["wiped_out"]
            assert r.account["wiped_out_on"] == "2024-03-04"
            assert len(set(np.round(r.equity.to_numpy()[3:], 6))) == 1  # nothing after
            assert "margin_call" in r.risk_events["action"].astype(str).tolist()
        np.testing.assert_array_equal(runs[0].equity.to_numpy(), runs[1].equity.to_numpy())


def test_the_summary_and_report_say_wiped_out() -> None:
    r = _wiped()
    assert "account wiped out on 2024-03-04" in r.summary().lower()
    s = build_summary(r, timestamp="2024-03-05T00:00:00Z")
    validate_summary(s)
    assert s["account"]["wiped_out_on"] == "2024-03-04"
    html = account_banner(s)
    assert 'id="account-banner"' in html
    assert "Account wiped out on 2024-03-04" in html


def test_the_report_says_when_the_risk_layer_blocked_most_entries() -> None:
    s = {"account": {"wiped_out": False, "notes": ["The risk layer blocked most entries: x"]}}
    assert "The risk layer blocked most entries" in account_banner(s)
    assert account_banner({"account": {"wiped_out": False, "notes": []}}) == ""
    # a run whose stop asks for more than the capital can risk: every entry is refused
    r = run_backtest(
        _bars([70.0 + 0.1 * np.sin(i) for i in range(40)]),
        LongThenFlip(),
        initial_capital=1_000.0,
        stop={"mode": "fixed_usd", "usd": 5_000.0},
    )
    assert r.account["rejected_share"] == 1.0
    assert any("blocked most entries" in n for n in r.account["notes"])


def test_a_no_risk_run_shows_no_risk_limits() -> None:
    applied = BacktestConfig(use_risk_manager=False).applied()
    assert applied["risk"] == {"applied": False, "note": "not applied: use_risk_manager is false"}
    assert applied["stop"]["applied"] is False
    assert applied["sizing"] == {"method": "fixed", "contracts": 1}
    r = _wiped()
    assert "risk_per_trade" not in str(r.parameters["config"])
    assert r.parameters["contract"]["maintenance_margin"] == 700.0
    assert "risk_per_trade" in str(BacktestConfig().applied())


def test_compare_never_marks_a_wiped_out_run_best() -> None:
    good = {"run_id": "a", "performance": {"total_return_pct": -5.0, "sharpe_ratio": -0.1}}
    wiped = {
        "run_id": "b",
        "performance": {"total_return_pct": 10.0, "sharpe_ratio": 2.0},
        "account": {"wiped_out": True, "wiped_out_on": "2024-03-04"},
    }
    worse = {"run_id": "c", "performance": {"total_return_pct": -8.0, "sharpe_ratio": -0.3}}
    html = comparison_table_html([good, wiped, worse])
    assert "account wiped out on 2024-03-04" in html
    cells = html.split('<th class="l">Total return</th>')[1].split("</tr>")[0]
    first, second, third = cells.split("</td>")[:3]
    assert 'class="best"' in first
    assert 'class="best"' not in second
    assert 'class="best"' not in third
