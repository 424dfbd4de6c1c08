"""The typed boundary to the compiled kernels: parameters, enums, record arrays, the one
import (``workbench.native``) and its error when the module is missing."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from enum import IntEnum
from typing import Any

import numpy as np
import pytest

from workbench import native
from workbench.backtest.simulate import (
    EVENT_FIELDS,
    TRADE_FIELDS,
    SimInputs,
    SimParams,
    native_params,
    simulate_native,
)
from workbench.model import codes
from workbench.risk.config import SIZING_METHODS, STOP_MODES, SizingConfig, StopConfig


def _params(**changes: object) -> native.BacktestParams:
    base = SimParams(
        initial_capital=5_000.0,
        commission=1.25,
        slippage_ticks=1,
        tick_value=1.0,
        tick_size=0.01,
        multiplier=100.0,
        use_risk=False,
        roll=True,
        fixed_contracts=2,
    )
    return native_params(dataclasses.replace(base, **changes))  # type: ignore[arg-type]


def test_params_are_typed_keyword_only_and_frozen() -> None:
    p = _params(stop=StopConfig(mode="trailing_pct", target_r=1.5))
    assert p.stop_mode == native.StopMode.TRAILING_PCT
    assert p.target_r == 1.5
    assert p.sizing == native.Sizing.FIXED_FRACTIONAL
    assert p.fixed_contracts == 2
    text = repr(p)
    assert text.startswith("BacktestParams(initial_capital=5000.0, ")
    assert "stop_mode=StopMode.TRAILING_PCT" in text
    assert "use_risk=False" in text
    with pytest.raises(AttributeError):
        p.tick_size = 0.02  # type: ignore[misc]
    with pytest.raises(TypeError):
        native.BacktestParams(5_000.0)  # type: ignore[call-arg]
    fields = {
        k: getattr(p, k) for k in dir(p) if not k.startswith("_") and not callable(getattr(p, k))
    }
    assert len(fields) == 28  # the 26 risk and cost scalars, then the two margins
    with pytest.raises(ValueError, match="margin"):
        native.BacktestParams(**{**fields, "maintenance_margin": -1.0})
    with pytest.raises(TypeError, match="stop_mode"):
        native.BacktestParams(**{**fields, "stop_mode": "atr"})
    with pytest.raises(ValueError, match="tick_size"):
        native.BacktestParams(**{**fields, "tick_size": 0.0})


def test_every_config_name_has_a_kernel_enum() -> None:
    stop_modes = native.native_members(native.StopMode)
    sizings = native.native_members(native.Sizing)
    assert sorted(m.upper() for m in STOP_MODES) == sorted(stop_modes)
    assert sorted(m.upper() for m in SIZING_METHODS) == sorted(sizings)
    assert _params(sizing=SizingConfig(method="kelly")).sizing == native.Sizing.KELLY


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (codes.Action, native.Action),
        (codes.Reason, native.Reason),
        (codes.ExitReason, native.ExitReason),
    ],
)
def test_codes_are_the_compiled_enums(ours: type[IntEnum], theirs: Any) -> None:
    compiled = {k: int(v) for k, v in native.native_members(theirs).items()}
    assert compiled == {m.name: int(m) for m in ours}
    assert len(compiled) >= 4
    for m in ours:
        assert getattr(theirs, m.name) == int(m)
    assert int(native.ExitReason.STOP) == codes.EXIT_STOP
    assert codes.REASONS[int(native.Reason.MAX_EXPOSURE)] == "max exposure"


def test_trades_and_events_come_back_as_records() -> None:
    assert native.TRADE_DTYPE.names == TRADE_FIELDS
    assert native.RISK_EVENT_DTYPE.names == EVENT_FIELDS
    assert native.TRADE_DTYPE.itemsize == 8 * len(TRADE_FIELDS)
    assert native.RISK_EVENT_DTYPE["action"] == np.dtype(np.int64)
    assert native.TRADE_DTYPE["net_pnl"] == np.dtype(np.float64)
    n = 6
    px = np.array([70.00, 70.10, 70.20, 70.30, 70.40, 70.50])
    x = SimInputs(
        px,
        px + 0.01,
        px - 0.01,
        px,
        np.array([1, 1, 1, 0, 0, 0], dtype=np.int8),
        np.full(n, np.nan),
        day_starts=np.array([], dtype=np.int64),
        rolls=np.array([], dtype=np.int64),
    )
    p = SimParams(
        initial_capital=5_000.0,
        commission=1.25,
        slippage_ticks=1,
        tick_value=1.0,
        tick_size=0.01,
        multiplier=100.0,
        use_risk=False,
        roll=True,
        fixed_contracts=2,
    )
    out = simulate_native(x, p)
    assert out.trades.dtype == native.TRADE_DTYPE
    assert out.events.dtype == native.RISK_EVENT_DTYPE
    assert len(out.events) == 0
    (t,) = out.trades
    assert (t["entry_bar"], t["exit_bar"], t["contracts"]) == (1, 4, 2)
    # Bar 1 opens at 70.10, bar 4 at 70.40; one tick of slippage each way.
    assert (t["entry_px"], t["exit_px"]) == (7011, 7039)
    assert t["exit_reason"] == codes.EXIT_SIGNAL
    assert t["net_pnl"] == pytest.approx(28 * 2 - 4 * 1.25)


def test_simulate_refuses_arrays_of_different_lengths() -> None:
    a = np.zeros(3)
    with pytest.raises(ValueError, match="high has 2 values, open has 3"):
        native.simulate(
            a,
            a[:2],
            a,
            a,
            np.zeros(3, dtype=np.int8),
            a,
            np.array([], dtype=np.int64),
            np.array([], dtype=np.int64),
            None,
            None,
            _params(),
        )


def test_a_missing_native_module_says_what_to_run() -> None:
    code = (
        "import sys; sys.modules['workbench_native'] = None\n"
        "try:\n"
        "    import workbench.native\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith("NativeModuleError ")
    assert "make setup" in out
    assert "workbench_native" in out
