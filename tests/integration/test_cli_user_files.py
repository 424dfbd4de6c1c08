"""A --config file a user writes: one clear error naming the file, exit status 2, no traceback.

(The only user-written file the CLI reads is backtest --config; sweep and walkforward take
their grids as --grid options, see test_sweep_grid_spec.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.backtest import BacktestConfig
from workbench.cli.main import main
from workbench.errors import ConfigError


def _fail(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run the CLI in this process; it must exit 2 with a message on stderr."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("{not json", ["not valid JSON", "line 1, column 2", "hint: fix the file"]),
        ('{\n  "initial_capital": 1000,\n}', ["not valid JSON", "line 3, column 1"]),
        ("[1, 2]", ["expected an object of fields, got list"]),
        ('"text"', ["expected an object of fields, got str"]),
        ('{"initial_capital": "abc"}', ["initial_capital: expected float, got str"]),
        ('{"stop": [1]}', ["stop: expected an object, got list"]),
        ('{"stop": {"mode": 3}}', ["mode: expected str, got int"]),
        ('{"use_risk_manager": "yes"}', ["use_risk_manager: expected bool"]),
        ('{"bogus": 1}', ["unknown field(s) bogus"]),
    ],
)
def test_backtest_config_file_errors_name_the_file(
    small_sample: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    needles: list[str],
) -> None:
    path = tmp_path / "c.json"
    path.write_text(text)
    argv = ["backtest", "--data-dir", str(small_sample), "--config", str(path)]
    err = _fail([*argv, "--no-save-results"], capsys)
    assert f"error: {path}: " in err
    for needle in needles:
        assert needle in err


def test_backtest_config_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_bytes(b"\xff\xfe{")
    with pytest.raises(ConfigError, match="cannot read the BacktestConfig file"):
        BacktestConfig.from_file(path)


def test_a_valid_config_file_is_applied(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('{"initial_capital": 10000, "stop": {"mode": "fixed_pct", "pct": 0.02}}')
    cfg = BacktestConfig.from_file(path)
    assert cfg.initial_capital == 10000
    assert (cfg.stop.mode, cfg.stop.pct) == ("fixed_pct", 0.02)
