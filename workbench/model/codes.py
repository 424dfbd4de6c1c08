"""Codes for risk decisions, circuit breakers and trade exits.

The Rust backtest kernel reports what happened as small integers; these enums give them names
and words. Every layer that records a decision or an exit (backtest, risk, execution, results)
reads them from here.

The values are defined once, by the Rust enums (``native/src/backtest/codes.rs``): each member
below takes its value from the compiled module, and at import the members are checked to be
exactly the compiled enum's (same names, same values), so a variant added on one side only
fails at once.
"""

from __future__ import annotations

from enum import IntEnum

from workbench import native


class Action(IntEnum):
    """What happened to an entry request."""

    ACCEPTED = int(native.Action.ACCEPTED)
    RESIZED = int(native.Action.RESIZED)
    REJECTED = int(native.Action.REJECTED)
    CIRCUIT_BREAKER = int(native.Action.CIRCUIT_BREAKER)
    MARGIN_CALL = int(native.Action.MARGIN_CALL)

    @property
    def label(self) -> str:
        """The word written in risk-event tables."""
        return self.name.lower()


class Reason(IntEnum):
    """Why a risk decision was taken."""

    OK = int(native.Reason.OK)
    MAX_POSITION = int(native.Reason.MAX_POSITION)
    MAX_EXPOSURE = int(native.Reason.MAX_EXPOSURE)
    SIZE_BELOW_ONE = int(native.Reason.SIZE_BELOW_ONE)
    DAILY_LOSS_LIMIT = int(native.Reason.DAILY_LOSS_LIMIT)
    OUTSIDE_TRADING_HOURS = int(native.Reason.OUTSIDE_TRADING_HOURS)
    HALT_CONSECUTIVE_LOSSES = int(native.Reason.HALT_CONSECUTIVE_LOSSES)
    HALT_INTRADAY_DRAWDOWN = int(native.Reason.HALT_INTRADAY_DRAWDOWN)
    HALT_MAX_DRAWDOWN = int(native.Reason.HALT_MAX_DRAWDOWN)
    NO_STOP_DISTANCE = int(native.Reason.NO_STOP_DISTANCE)
    ORDER_RATE = int(native.Reason.ORDER_RATE)
    KILL_SWITCH = int(native.Reason.KILL_SWITCH)
    INITIAL_MARGIN = int(native.Reason.INITIAL_MARGIN)
    MAINTENANCE_MARGIN = int(native.Reason.MAINTENANCE_MARGIN)

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
    Reason.ORDER_RATE: "order rate limit",
    Reason.KILL_SWITCH: "kill switch",
    Reason.INITIAL_MARGIN: "insufficient initial margin",
    Reason.MAINTENANCE_MARGIN: "equity below maintenance margin: account closed",
}


class ExitReason(IntEnum):
    """Why a trade was closed."""

    SIGNAL = int(native.ExitReason.SIGNAL)
    STOP = int(native.ExitReason.STOP)
    TARGET = int(native.ExitReason.TARGET)
    ROLL = int(native.ExitReason.ROLL)
    SESSION = int(native.ExitReason.SESSION)
    END = int(native.ExitReason.END)
    MARGIN_CALL = int(native.ExitReason.MARGIN_CALL)

    @property
    def label(self) -> str:
        """The word written in trade tables."""
        return "end_of_data" if self is ExitReason.END else self.name.lower()


def _check_same(
    ours: type[IntEnum], native_enum: type[native.Action | native.Reason | native.ExitReason]
) -> None:
    """Refuse to import when ``ours`` is not exactly the compiled enum (names and values)."""
    mine = {m.name: int(m) for m in ours}
    theirs = {k: int(v) for k, v in native.native_members(native_enum).items()}
    if mine != theirs:
        raise native.NativeModuleError(
            f"workbench.model.codes.{ours.__name__} {mine} differs from the compiled "
            f"{native_enum.__name__} {theirs}",
            hint="name every variant of native/src/backtest/codes.rs here, and rebuild the "
            "native module (make setup)",
        )


for _ours, _theirs in (
    (Action, native.Action),
    (Reason, native.Reason),
    (ExitReason, native.ExitReason),
):
    _check_same(_ours, _theirs)

# Flat names, for the kernels' integer arrays and the tables that turn them into words.
ACCEPTED, RESIZED, REJECTED, CIRCUIT_BREAKER, MARGIN_CALL = (int(a) for a in Action)
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
ORDER_RATE = int(Reason.ORDER_RATE)
KILL_SWITCH = int(Reason.KILL_SWITCH)
INITIAL_MARGIN = int(Reason.INITIAL_MARGIN)
MAINTENANCE_MARGIN = int(Reason.MAINTENANCE_MARGIN)
REASONS = {int(r): r.label for r in Reason}
EXIT_SIGNAL, EXIT_STOP, EXIT_TARGET, EXIT_ROLL, EXIT_SESSION, EXIT_END, EXIT_MARGIN_CALL = (
    int(e) for e in ExitReason
)
EXIT_REASONS = {int(e): e.label for e in ExitReason}
