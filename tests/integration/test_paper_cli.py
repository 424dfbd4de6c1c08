"""``workbench paper`` on the sim broker as a new user meets it: resuming a journal, --bars,
the capital and risk options, the orders count of a resumed run."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from tests.integration.subprocesses import EXE, child_env
from workbench.data import load_bars
from workbench.errors import ConfigError
from workbench.execution import PaperSession
from workbench.strategies import MomentumStrategy


def paper(sample: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXE, "paper", "--data-dir", str(sample), *args],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def journal_state(state: Path) -> tuple[int, str, str]:
    """Orders, bars done and the stored session of the journal in ``state``."""
    with sqlite3.connect(state / "journal.sqlite") as db:
        orders = db.execute("SELECT count(*) FROM orders").fetchone()[0]
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    return orders, meta["bars_done"], meta["session"]


def test_resuming_a_journal_as_another_session_is_refused(small_sample: Path, tmp_path: Path):
    state = tmp_path / "s"
    first = paper(small_sample, "--bars", "300", "--state", str(state), "--no-save-results")
    assert first.returncode == 0, first.stderr
    before = journal_state(state)
    assert before[0] > 0
    others = {
        "parameters": ["--param", "fast_period=5", "--param", "slow_period=10"],
        "strategy": ["--strategy", "donchian_breakout"],
        "capital": ["--initial-capital", "20000"],
        "risk": ["--no-risk"],
    }
    for what, extra in others.items():
        done = paper(small_sample, "--bars", "300", "--state", str(state), *extra)
        assert done.returncode == 2, (what, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        # the journal's session named, what differs, and what to do
        assert "ema_crossover (time_filter=none, fast_period=20, slow_period=50" in done.stderr
        assert "new --state DIR" in done.stderr
        assert "orders sent" not in done.stdout
        assert journal_state(state) == before, what  # nothing sent, nothing overwritten
    assert (
        "fast_period 20 (now 5)"
        in paper(small_sample, "--state", str(state), *others["parameters"]).stderr
    )
    same = paper(small_sample, "--bars", "300", "--state", str(state), "--no-save-results")
    assert same.returncode == 0, same.stderr
    assert "resuming: 300 bars replayed" in same.stderr


@pytest.mark.parametrize("bars", ["-5", "0"])
def test_bars_below_one_is_refused(small_sample: Path, bars: str) -> None:
    done = paper(small_sample, "--bars", bars, "--no-save-results")
    assert done.returncode == 2
    assert f"Invalid value for '--bars': {bars} is not in the range x>=1" in done.stderr


def test_session_max_bars_below_one_is_refused(small_sample: Path) -> None:
    bars = load_bars("MCL_FUT", data_dir=small_sample).iloc[:50]
    with pytest.raises(ConfigError, match="max_bars must be at least 1"):
        PaperSession(bars, MomentumStrategy(), max_bars=0)


def test_resumed_run_counts_the_sessions_orders(small_sample: Path, tmp_path: Path) -> None:
    whole = paper(small_sample, "--bars", "2000", "--no-save-results")
    assert whole.returncode == 0, whole.stderr
    total = int(re.search(r"(\d+) orders sent", whole.stdout).group(1))  # type: ignore[union-attr]
    state = str(tmp_path / "s")
    part = paper(small_sample, "--bars", "1000", "--state", state, "--no-save-results")
    assert part.returncode == 0, part.stderr
    first = int(re.search(r"(\d+) orders sent", part.stdout).group(1))  # type: ignore[union-attr]
    rest = paper(small_sample, "--bars", "2000", "--state", state, "--no-save-results")
    assert rest.returncode == 0, rest.stderr
    assert 0 < first < total
    assert f"{total} orders sent ({total - first} since resume)" in rest.stdout


def test_capital_and_risk_options_as_the_backtests(small_sample: Path, tmp_path: Path) -> None:
    args = ["--bars", "2000", "--results-dir", str(tmp_path)]
    done = paper(small_sample, *args, "--initial-capital", "20000", "--max-contracts", "2")
    assert done.returncode == 0, done.stderr
    assert "capital 20,000.00 USD: --initial-capital" in done.stdout
    summary = json.loads(next(tmp_path.glob("*/summary.json")).read_text())
    cfg = summary["config"]
    assert cfg["initial_capital"] == 20000
    trades = pd.read_csv(next(tmp_path.glob("*/trades.csv")))
    assert len(trades) > 0
    assert trades["contracts"].max() <= 2  # --max-contracts applied
    assert cfg["risk"]["max_position_contracts"] == 2
    default = paper(small_sample, "--bars", "10", "--no-save-results")
    assert "capital 5,000.00 USD: the default (--initial-capital sets it)" in default.stdout
