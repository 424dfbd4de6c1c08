"""Codes for risk decisions, circuit breakers and trade exits.

The Rust backtest kernel reports what happened as small integers; these enums give them names
and words. Every layer that records a decision or an exit (backtest, risk, execution, results)
reads them from here.
"""

from __future__ import annotations

from enum import IntEnum


class Action(IntEnum):
    """What happened to an entry request."""

    ACCEPTED = 0
    RESIZED = 1
    REJECTED = 2
    CIRCUIT_BREAKER = 3

    @property
    def label(self) -> str:
        """The word written in risk-event tables."""
        return self.name.lower()


class Reason(IntEnum):
    """Why a risk decision was taken."""

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

    @property
    def label(self) -> str:
        """The words written in risk-event tables."""
        return _REASON_LABELS[self]


_REASON_LABELS = {
    Reason.OK: "ok",
    Reason.MAX_POSITION: "resized to max_position_contracts",
    Reason.MAX_EXPOSURE: "max exposure",
    Reason.SIZE_BELOW_ONE: "size below one contract",
    Reason.DAILY_LOSS_LIMIT: "daily loss limit reached",
    Reason.OUTSIDE_TRADING_HOURS: "outside trading hours",
    Reason.HALT_CONSECUTIVE_LOSSES: "halted: consecutive losses",
    Reason.HALT_INTRADAY_DRAWDOWN: "halted: intraday drawdown",
    Reason.HALT_MAX_DRAWDOWN: "halted: max drawdown cool-off",
    Reason.NO_STOP_DISTANCE: "no stop distance to size from",
}


class ExitReason(IntEnum):
    """Why a trade was closed."""

    SIGNAL = 0
    STOP = 1
    TARGET = 2
    ROLL = 3
    SESSION = 4
    END = 5

    @property
    def label(self) -> str:
        """The word written in trade tables."""
        return "end_of_data" if self is ExitReason.END else self.name.lower()


# Flat names, for the kernels' integer arrays and the tables that turn them into words.
ACCEPTED, RESIZED, REJECTED, CIRCUIT_BREAKER = (int(a) for a in Action)
ACTIONS = {int(a): a.label for a in Action}
OK = int(Reason.OK)
MAX_POSITION = int(Reason.MAX_POSITION)
MAX_EXPOSURE = int(Reason.MAX_EXPOSURE)
SIZE_BELOW_ONE = int(Reason.SIZE_BELOW_ONE)
DAILY_LOSS_LIMIT = int(Reason.DAILY_LOSS_LIMIT)
OUTSIDE_TRADING_HOURS = int(Reason.OUTSIDE_TRADING_HOURS)
HALT_CONSECUTIVE_LOSSES = int(Reason.HALT_CONSECUTIVE_LOSSES)
HALT_INTRADAY_DRAWDOWN = int(Reason.HALT_INTRADAY_DRAWDOWN)
HALT_MAX_DRAWDOWN = int(Reason.HALT_MAX_DRAWDOWN)
NO_STOP_DISTANCE = int(Reason.NO_STOP_DISTANCE)
REASONS = {int(r): r.label for r in Reason}
EXIT_SIGNAL, EXIT_STOP, EXIT_TARGET, EXIT_ROLL, EXIT_SESSION, EXIT_END = (
    int(e) for e in ExitReason
)
EXIT_REASONS = {int(e): e.label for e in ExitReason}
