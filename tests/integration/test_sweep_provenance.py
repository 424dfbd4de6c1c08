"""A sweep's and a walk-forward's folders say which bars they ran on, and say SYNTHETIC DATA
when those are the generated sample, as a backtest's report does: a deflated Sharpe ratio or
a walk-forward efficiency on synthetic bars must not pass for a result on market data."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from workbench.cli.main import main
from workbench.data import load_bars
from workbench.optimize import ParameterGrid, sweep, walk_forward
from workbench.strategies.momentum import MomentumStrategy

GRID = {"fast_period": [5, 10], "slow_period": [20, 40]}


@pytest.fixture(scope="module")
def bars(small_sample: Path) -> pd.DataFrame:
    return load_bars("MCL_FUT", "ohlcv-1h", data_dir=small_sample)


def test_sweep_folder_names_its_bars_and_says_synthetic(bars: pd.DataFrame, tmp_path: Path) -> None:
    assert bars.attrs["synthetic"] is True
    folder = sweep(bars, ParameterGrid(MomentumStrategy, GRID), blocks=4).save(tmp_path)
    data = json.loads((folder / "best_params.json").read_text())["data"]
    assert data["synthetic"] is True
    assert (data["product"], data["schema"], data["bars"]) == ("MCL_FUT", "ohlcv-1h", len(bars))
    assert data["start"] == str(bars.index[0])
    assert data["end"] == str(bars.index[-1])
    page = (folder / "overfitting.html").read_text()
    assert "SYNTHETIC DATA" in page
    assert f"MCL_FUT ohlcv-1h: {len(bars):,} bars" in page


def test_market_data_gets_no_synthetic_banner(bars: pd.DataFrame, tmp_path: Path) -> None:
    market = bars.copy()
    market.attrs = {**bars.attrs, "synthetic": False}
    folder = sweep(market, ParameterGrid(MomentumStrategy, GRID), blocks=4).save(tmp_path)
    assert json.loads((folder / "best_params.json").read_text())["data"]["synthetic"] is False
    assert "SYNTHETIC DATA" not in (folder / "overfitting.html").read_text()


def test_walkforward_folder_says_synthetic(bars: pd.DataFrame, tmp_path: Path) -> None:
    result = walk_forward(
        bars,
        ParameterGrid(MomentumStrategy, GRID),
        in_sample=600,
        out_of_sample=300,
        objective="total_return_pct",
    )
    folder = result.save(tmp_path)
    settings = json.loads((folder / "walkforward.json").read_text())["settings"]
    assert settings["data"]["synthetic"] is True
    assert settings["data"]["bars"] == len(bars)
    assert "SYNTHETIC DATA" in (folder / "walkforward.html").read_text()


def test_cli_sweep_says_synthetic(small_sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(
        [
            *("sweep", "--data-dir", str(small_sample), "--schema", "ohlcv-1h"),
            *("--grid", "fast_period=5,10", "--no-save", "--no-progress"),
        ]
    )
    out = capsys.readouterr()
    assert "ohlcv-1h bars) [SYNTHETIC DATA]" in out.out
    assert "[SYNTHETIC DATA]" in out.err  # the plan printed before running
