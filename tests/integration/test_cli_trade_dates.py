"""--start/--end are CME trade dates; the printed range, ``data_range`` (summary.json) and the
help say the same."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
import pandas as pd
import pytest

from workbench.cli.backtest import backtest
from workbench.cli.main import main
from workbench.data import load_bars
from workbench.data.trade_dates import trade_date_bounds


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    main(["backtest", *argv, "--no-save-results"])
    return capsys.readouterr().out


def test_a_trade_date_opens_the_evening_before() -> None:
    # Monday 2024-02-05 opens Sunday 18:00 New York (EST: 23:00 UTC); Friday closes 17:00.
    lo, hi = trade_date_bounds(dt.date(2024, 2, 5), dt.date(2024, 2, 9))
    assert lo == dt.datetime(2024, 2, 4, 23, tzinfo=dt.UTC)
    assert hi == dt.datetime(2024, 2, 9, 23, tzinfo=dt.UTC)
    # Summer (EDT): 22:00 UTC.
    assert trade_date_bounds(dt.date(2024, 7, 1), None)[0] == dt.datetime(
        2024, 6, 30, 22, tzinfo=dt.UTC
    )


@pytest.mark.parametrize("end", ["2024-02-09", "2024-02-10", "2024-02-11"])  # Fri, Sat, Sun
def test_range_ending_on_a_friday_or_the_weekend_reports_the_friday(
    small_sample: Path, capsys: pytest.CaptureFixture[str], end: str
) -> None:
    argv = ["--data-dir", str(small_sample), "--start", "2024-02-05", "--end", end]
    doc = json.loads(_run([*argv, "--json"], capsys))
    dr = doc["data_range"]
    assert (dr["start"], dr["end"], dr["trading_days"]) == ("2024-02-05", "2024-02-09", 5)
    header = _run(argv, capsys).splitlines()[0]
    assert "2024-02-05 to 2024-02-09" in header


def test_the_bounds_load_exactly_those_sessions(small_sample: Path) -> None:
    lo, hi = trade_date_bounds(dt.date(2024, 2, 5), dt.date(2024, 2, 11))
    assert lo is not None
    assert hi is not None
    bars = load_bars(start=lo.isoformat(), end=hi.isoformat(), data_dir=small_sample)
    assert bars.index[0] == pd.Timestamp("2024-02-04 23:00", tz="UTC")  # Sunday 18:00 NY
    assert bars.index[-1] == pd.Timestamp("2024-02-09 21:59", tz="UTC")  # Friday's last minute
    same = load_bars(start="2024-02-05", end="2024-02-11", data_dir=small_sample, dates="trade")
    assert same.index.equals(bars.index)


def test_no_data_error_repeats_the_dates_given(
    small_sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["backtest", "--data-dir", str(small_sample), "--start", "2030-01-01"])
    assert "from 2030-01-01:" in capsys.readouterr().err


def test_start_on_a_sunday_begins_with_mondays_session(
    small_sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--data-dir", str(small_sample), "--start", "2024-02-04", "--end", "2024-02-06"]
    dr = json.loads(_run([*argv, "--json"], capsys))["data_range"]
    assert (dr["start"], dr["end"]) == ("2024-02-05", "2024-02-06")


def test_help_says_trade_dates() -> None:
    text = " ".join(backtest.get_help(click.Context(backtest)).split())
    assert "First CME trade date" in text
    assert "Last CME trade date, inclusive" in text


def test_a_bad_date_is_a_usage_error(
    small_sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["backtest", "--data-dir", str(small_sample), "--start", "2024-13-01"])
    assert info.value.code == 2
    assert "'2024-13-01' is not a date" in capsys.readouterr().err
