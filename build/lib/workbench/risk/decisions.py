"""Codes shared by the Python risk classes and the Rust backtest kernel.

The kernel reports risk decisions and circuit-breaker events as small integers; these tables
turn them back into words. Keep them in step with ``native/src/backtest.rs``.
"""

from __future__ import annotations

# What happened to an entry request.
ACCEPTED, RESIZED, REJECTED, CIRCUIT_BREAKER = 0, 1, 2, 3
ACTIONS = {
    ACCEPTED: "accepted",
    RESIZED: "resized",
    REJECTED: "rejected",
    CIRCUIT_BREAKER: "circuit_breaker",
}

# Why.
OK = 0
MAX_POSITION = 1
MAX_EXPOSURE = 2
SIZE_BELOW_ONE = 3
DAILY_LOSS_LIMIT = 4
OUTSIDE_TRADING_HOURS = 5
HALT_CONSECUTIVE_LOSSES = 6
HALT_INTRADAY_DRAWDOWN = 7
HALT_MAX_DRAWDOWN = 8
NO_STOP_DISTANCE = 9
REASONS = {
    OK: "ok",
    MAX_POSITION: "resized to max_position_contracts",
    MAX_EXPOSURE: "max exposure",
    SIZE_BELOW_ONE: "size below one contract",
    DAILY_LOSS_LIMIT: "daily loss limit reached",
    OUTSIDE_TRADING_HOURS: "outside trading hours",
    HALT_CONSECUTIVE_LOSSES: "halted: consecutive losses",
    HALT_INTRADAY_DRAWDOWN: "halted: intraday drawdown",
    HALT_MAX_DRAWDOWN: "halted: max drawdown cool-off",
    NO_STOP_DISTANCE: "no stop distance to size from",
}

# Exit reasons of trades.
EXIT_SIGNAL, EXIT_STOP, EXIT_TARGET, EXIT_ROLL, EXIT_SESSION, EXIT_END = 0, 1, 2, 3, 4, 5
EXIT_REASONS = {
    EXIT_SIGNAL: "signal",
    EXIT_STOP: "stop",
    EXIT_TARGET: "target",
    EXIT_ROLL: "roll",
    EXIT_SESSION: "session",
    EXIT_END: "end_of_data",
}
