"""A session's record as a :class:`~workbench.backtest.BacktestResult`.

The same tables, built by the backtest's own :func:`~workbench.backtest.engine.build_result`
from the engine's equity, positions, trades and risk events: a paper session saves to a
results folder with the same summary.json and report as a backtest, and ``workbench
compare`` puts them side by side.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from workbench.backtest.engine import build_result, prepare_inputs
from workbench.backtest.result import BacktestResult
from workbench.backtest.simulate import SimOutputs
from workbench.execution.engine import ExecutionEngine


def session_result(engine: ExecutionEngine, bars: pd.DataFrame) -> BacktestResult:
    """The record of the bars ``engine`` processed (the first ``len(engine.equity)``).

    Parameters
    ----------
    engine : ExecutionEngine
        A finished (or stopped) engine.
    bars : pandas.DataFrame
        The bars it was fed, from the first.

    Returns
    -------
    BacktestResult
        ``parameters["mode"]`` is ``"paper"`` and ``parameters["broker"]`` the broker's name.
    """
    n = len(engine.equity)
    attrs = dict(bars.attrs)
    data = pd.DataFrame(bars.iloc[:n], copy=False)
    data.attrs = {k: attrs[k] for k in ("schema", "product") if k in attrs}
    prep = prepare_inputs(data, engine.strategy, engine.cfg, engine.spec)
    prep = dataclasses.replace(prep, signals=np.asarray(engine.signals, dtype=np.int8))
    out = SimOutputs(
        equity=np.asarray(engine.equity, dtype=np.float64),
        position=np.asarray(engine.position, dtype=np.int64),
        trades=engine.trade_records(),
        events=engine.event_records(),
        trades_rejected=int(engine.risk.trades_rejected),
        circuit_breaker_triggered=int(engine.risk.circuit_breaker_triggered),
    )
    result = build_result(data, engine.strategy, engine.cfg, engine.spec, out, prep, attrs)
    result.parameters["mode"] = "paper"
    result.parameters["broker"] = engine.broker.name
    result.parameters["execution"] = engine.exe.to_dict()
    return result
