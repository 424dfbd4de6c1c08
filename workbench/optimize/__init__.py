"""Parameter sweeps and what to try next.

- :class:`ParameterGrid`: combinations of a strategy's parameters (its declared ranges by
  default), invalid ones set aside with the strategy's reason.
- :func:`sweep`: one backtest per combination, in this process or on a Dask cluster, ranked
  by an objective; :meth:`SweepResult.save` writes ``results/optimizations/...``. In this
  process it takes the compiled path (:mod:`workbench.optimize.compiled`: every combination
  through the native kernel at once, on every core, the same rows) when it can;
  :attr:`SweepResult.engine` says which ran.
- :func:`run_notebook_sweep`: the same as a batch of papermill runs of the backtest notebook
  (one executed notebook and results folder per combination), optionally on Dask.
- :meth:`SweepResult.diagnostics`: is the best row luck? The probabilistic Sharpe ratio of
  each row, the deflated Sharpe ratio of the best over every combination tried, and the
  probability of backtest overfitting by CSCV, with recommendations in plain words
  (:mod:`workbench.optimize.diagnostics`; the statistics are in
  :mod:`workbench.analysis.overfitting`).
- :func:`search`: random or Latin-hypercube samples of the declared ranges, or a Bayesian
  search through optuna, all seeded; the trial count feeds the deflated Sharpe ratio.
- :func:`walk_forward`: per window, sweep in sample, trade the best out of sample (after a
  purge gap), stitch the out-of-sample windows into one run with its report, and the
  walk-forward efficiency.
- :class:`StrategyOptimizer`: sensitivity of the objective to each parameter, the diagnostics,
  and the next combinations worth testing.
"""

from workbench.optimize.diagnostics import OverfittingReport
from workbench.optimize.grid import ParameterGrid
from workbench.optimize.notebooks import run_notebook_sweep
from workbench.optimize.optimizer import StrategyOptimizer
from workbench.optimize.search import sample_combinations, search
from workbench.optimize.sweep import METRIC_COLUMNS, PSR_COLUMN, SweepResult, sweep
from workbench.optimize.walkforward import (
    WalkForwardResult,
    Window,
    walk_forward,
    walk_forward_windows,
)

__all__ = [
    "METRIC_COLUMNS",
    "PSR_COLUMN",
    "OverfittingReport",
    "ParameterGrid",
    "StrategyOptimizer",
    "SweepResult",
    "WalkForwardResult",
    "Window",
    "run_notebook_sweep",
    "sample_combinations",
    "search",
    "sweep",
    "walk_forward",
    "walk_forward_windows",
]
