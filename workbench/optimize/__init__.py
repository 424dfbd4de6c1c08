"""Parameter sweeps and what to try next.

- :class:`ParameterGrid`: combinations of a strategy's parameters (its declared ranges by
  default), invalid ones set aside with the strategy's reason.
- :func:`sweep`: one backtest per combination, in this process or on a Dask cluster, ranked
  by an objective; :meth:`SweepResult.save` writes ``results/optimizations/...``.
- :func:`run_notebook_sweep`: the same as a batch of papermill runs of the backtest notebook
  (one executed notebook and results folder per combination), optionally on Dask.
- :class:`StrategyOptimizer`: sensitivity of the objective to each parameter, and the next
  combinations worth testing.
"""

from workbench.optimize.grid import ParameterGrid
from workbench.optimize.notebooks import run_notebook_sweep
from workbench.optimize.optimizer import StrategyOptimizer
from workbench.optimize.sweep import METRIC_COLUMNS, SweepResult, sweep

__all__ = [
    "METRIC_COLUMNS",
    "ParameterGrid",
    "StrategyOptimizer",
    "SweepResult",
    "run_notebook_sweep",
    "sweep",
]
