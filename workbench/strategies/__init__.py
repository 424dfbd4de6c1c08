"""Trading strategies: vectorized signals from bars, with declared parameter spaces.

>>> from workbench.strategies import MomentumStrategy, TimeFilter
>>> strat = MomentumStrategy(fast_period=10, slow_period=40, time_filter=TimeFilter())
>>> signals = strat.generate_signals(bars)  # int8 -1/0/+1, one per bar, known at bar end

Registered strategies (``registered()``, ``strategy_class(name)``): ``ema_crossover``
(:class:`MomentumStrategy`), ``bollinger_reversion`` (:class:`MeanReversionStrategy`) and
``donchian_breakout`` (:class:`BreakoutStrategy`). Indicators are in
:mod:`workbench.strategies.indicators`.
"""

from __future__ import annotations

from workbench.strategies.base import (
    ParamRange,
    Strategy,
    TimeFilter,
    bar_interval,
    register,
    registered,
    strategy_class,
)
from workbench.strategies.breakout import BreakoutStrategy
from workbench.strategies.mean_reversion import MeanReversionStrategy
from workbench.strategies.momentum import MomentumStrategy
from workbench.strategies.selection import strategies_from_parameters

__all__ = [
    "BreakoutStrategy",
    "MeanReversionStrategy",
    "MomentumStrategy",
    "ParamRange",
    "Strategy",
    "TimeFilter",
    "bar_interval",
    "register",
    "registered",
    "strategies_from_parameters",
    "strategy_class",
]
