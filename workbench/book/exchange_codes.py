"""Codes of the simulated exchange's reports, and the order enums it shares with the model.

The execution reports carry small integers (``native/src/exchange/types.rs``): what happened
(:class:`ExecType`) and why (:class:`ExecReason`). Their values are defined once, by the Rust
enums: each member below takes its value from the compiled module, and at import the members
are checked to be exactly the compiled enum's, as :mod:`workbench.model.codes` does.

The order enums are the model's (:class:`workbench.model.Side`, ``OrderType``,
``TimeInForce``, ``OrderStatus``, ``Liquidity``); the tables here translate them to and from
the compiled ones by name, and are checked at import to cover both sides (``Side`` by value:
both say ``BUY = 1``, ``SELL = -1``).
"""

from __future__ import annotations

from enum import Enum, IntEnum
from typing import Any

from workbench import native
from workbench.model import Liquidity, OrderStatus, OrderType, Side, TimeInForce


class ExecType(IntEnum):
    """What an execution report says happened."""

    NEW = int(native.ExecType.NEW)
    PARTIAL_FILL = int(native.ExecType.PARTIAL_FILL)
    FILL = int(native.ExecType.FILL)
    CANCELLED = int(native.ExecType.CANCELLED)
    REPLACED = int(native.ExecType.REPLACED)
    REJECTED = int(native.ExecType.REJECTED)
    EXPIRED = int(native.ExecType.EXPIRED)
    TRIGGERED = int(native.ExecType.TRIGGERED)

    @property
    def label(self) -> str:
        """The word written in report tables."""
        return self.name.lower()


class ExecReason(IntEnum):
    """Why a report was sent: a rejection, or a cancel the exchange made."""

    NONE = int(native.ExecReason.NONE)
    INVALID_QUANTITY = int(native.ExecReason.INVALID_QUANTITY)
    INVALID_PRICE = int(native.ExecReason.INVALID_PRICE)
    OFF_TICK = int(native.ExecReason.OFF_TICK)
    DUPLICATE_CLIENT_ID = int(native.ExecReason.DUPLICATE_CLIENT_ID)
    MARKET_CLOSED = int(native.ExecReason.MARKET_CLOSED)
    HALTED = int(native.ExecReason.HALTED)
    UNKNOWN_ORDER = int(native.ExecReason.UNKNOWN_ORDER)
    NO_LIQUIDITY = int(native.ExecReason.NO_LIQUIDITY)
    IMMEDIATE_OR_CANCEL = int(native.ExecReason.IMMEDIATE_OR_CANCEL)
    SESSION_END = int(native.ExecReason.SESSION_END)
    REPLACE_NOT_ALLOWED = int(native.ExecReason.REPLACE_NOT_ALLOWED)

    @property
    def label(self) -> str:
        """The word written in report tables (``""`` for :attr:`NONE`)."""
        return "" if self is ExecReason.NONE else self.name.lower()


def _check_same(ours: type[IntEnum], theirs: Any) -> None:
    """Refuse to import when ``ours`` is not exactly the compiled enum (names and values)."""
    mine = {m.name: int(m) for m in ours}
    compiled = {k: int(v) for k, v in native.native_members(theirs).items()}
    if mine != compiled:
        raise native.NativeModuleError(
            f"workbench.book.exchange_codes.{ours.__name__} {mine} differs from the compiled "
            f"{theirs.__name__} {compiled}",
            hint="name every variant of native/src/exchange/types.rs here, and rebuild the "
            "native module (make setup)",
        )


def _by_name(
    ours: type[Enum], theirs: Any, *, extra: frozenset[str] = frozenset()
) -> dict[Any, Any]:
    """``{model member: compiled member}`` by name; refuse to import when they differ."""
    compiled = native.native_members(theirs)
    names = {m.name for m in ours}
    if names | extra != set(compiled):
        raise native.NativeModuleError(
            f"workbench.model.{ours.__name__} {sorted(names)} does not match the compiled "
            f"{theirs.__name__} {sorted(compiled)}",
            hint="keep workbench/model/records.py and native/src/exchange/types.rs in step, and "
            "rebuild the native module (make setup)",
        )
    return {m: compiled[m.name] for m in ours}


_check_same(ExecType, native.ExecType)
_check_same(ExecReason, native.ExecReason)
_SIDE_VALUES = {k: int(v) for k, v in native.native_members(native.OrderSide).items()}
if {m.name: int(m) for m in Side} != _SIDE_VALUES:  # pragma: no cover - a build out of step
    raise native.NativeModuleError(
        f"workbench.model.Side differs from the compiled OrderSide {_SIDE_VALUES}",
        hint="rebuild the native module (make setup)",
    )

#: Model enums to the compiled ones (the exchange's arguments).
SIDES: dict[Side, Any] = _by_name(Side, native.OrderSide)
ORDER_TYPES: dict[OrderType, Any] = _by_name(OrderType, native.OrderType)
TIMES_IN_FORCE: dict[TimeInForce, Any] = _by_name(TimeInForce, native.TimeInForce)
_STATUSES = _by_name(OrderStatus, native.OrderStatus)
_LIQUIDITIES = _by_name(Liquidity, native.Liquidity, extra=frozenset({"NONE"}))

#: Report codes (``EXEC_REPORT_DTYPE`` integers) to the model's values.
STATUS_OF_CODE: dict[int, OrderStatus] = {int(v): k for k, v in _STATUSES.items()}
LIQUIDITY_OF_CODE: dict[int, Liquidity | None] = {int(v): k for k, v in _LIQUIDITIES.items()}
LIQUIDITY_OF_CODE[int(native.Liquidity.NONE)] = None
ORDER_TYPE_OF_NATIVE: dict[Any, OrderType] = {v: k for k, v in ORDER_TYPES.items()}
TIME_IN_FORCE_OF_NATIVE: dict[Any, TimeInForce] = {v: k for k, v in TIMES_IN_FORCE.items()}
STATUS_OF_NATIVE: dict[Any, OrderStatus] = {v: k for k, v in _STATUSES.items()}
