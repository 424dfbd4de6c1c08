"""The one entry point to the compiled kernels (the ``workbench-native`` package).

Every workbench module that calls Rust imports it from here, so that a missing or stale
build is reported once, with what to run, instead of as a bare ``ModuleNotFoundError``
deep inside a backtest.
"""

from __future__ import annotations

from typing import TypeVar

from workbench.errors import WorkbenchError

E = TypeVar("E")

_HOW_TO_BUILD = (
    "build and install it: `make setup` in the project (or `maturin build --release "
    "-m native/Cargo.toml -o native/target/wheels` then `pip install "
    "native/target/wheels/workbench_native-*.whl`)"
)


class NativeModuleError(WorkbenchError, ImportError):
    """The compiled kernels are missing or do not match this workbench."""


try:
    from workbench_native import (
        BOOK_SNAPSHOT_DTYPE,
        EXEC_REPORT_DTYPE,
        FIXED_PRICE_SCALE,
        RISK_EVENT_DTYPE,
        TRADE_DTYPE,
        UNDEF_PRICE,
        Action,
        BacktestOutputs,
        BacktestParams,
        BollingerReversionSignal,
        BookRecordError,
        DbnMixedError,
        DbnTruncatedError,
        DonchianBreakoutSignal,
        EmaCrossoverSignal,
        Exchange,
        ExchangeConfig,
        ExchangeOrder,
        ExecReason,
        ExecType,
        ExitReason,
        FeedPublisher,
        FeedSubscriber,
        FixExchange,
        FixInitiator,
        FixReport,
        IncrementalAtr,
        IncrementalDonchian,
        IncrementalEma,
        IncrementalMax,
        IncrementalMeanStd,
        IncrementalMin,
        L3Book,
        Liquidity,
        OffHours,
        OrderSide,
        OrderStatus,
        OrderType,
        PreTradeDecision,
        PreTradeRisk,
        QueueFunction,
        QueueModel,
        Reason,
        Sizing,
        StopMode,
        SweepOutputs,
        TimeInForce,
        __version__,
        atr_wilder,
        dbn_bar_columns,
        dbn_symbol_codes,
        ema_cross,
        ema_filter,
        first_not_finite,
        first_not_increasing,
        fix_decode,
        fix_write_dictionary,
        fixed_to_ticks,
        max_drawdown,
        read_dbn,
        replay_book,
        run_starts,
        simulate,
        sweep_simulate,
        ticks_to_fixed,
    )
except ImportError as exc:  # missing, or built from older sources (a name is missing)
    raise NativeModuleError(
        f"the workbench's compiled kernels (workbench_native) cannot be imported: {exc}",
        hint=_HOW_TO_BUILD,
    ) from exc


def native_members(native_enum: type[E]) -> dict[str, E]:
    """The members of a compiled enum, by name (its variants are class attributes).

    >>> native_members(StopMode)["FIXED_PCT"]
    StopMode.FIXED_PCT
    """
    return {k: v for k, v in vars(native_enum).items() if isinstance(v, native_enum)}


__all__ = [
    "BOOK_SNAPSHOT_DTYPE",
    "EXEC_REPORT_DTYPE",
    "FIXED_PRICE_SCALE",
    "RISK_EVENT_DTYPE",
    "TRADE_DTYPE",
    "UNDEF_PRICE",
    "Action",
    "BacktestOutputs",
    "BacktestParams",
    "BollingerReversionSignal",
    "BookRecordError",
    "DbnMixedError",
    "DbnTruncatedError",
    "DonchianBreakoutSignal",
    "EmaCrossoverSignal",
    "Exchange",
    "ExchangeConfig",
    "ExchangeOrder",
    "ExecReason",
    "ExecType",
    "ExitReason",
    "FeedPublisher",
    "FeedSubscriber",
    "FixExchange",
    "FixInitiator",
    "FixReport",
    "IncrementalAtr",
    "IncrementalDonchian",
    "IncrementalEma",
    "IncrementalMax",
    "IncrementalMeanStd",
    "IncrementalMin",
    "L3Book",
    "Liquidity",
    "NativeModuleError",
    "OffHours",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "PreTradeDecision",
    "PreTradeRisk",
    "QueueFunction",
    "QueueModel",
    "Reason",
    "Sizing",
    "StopMode",
    "SweepOutputs",
    "TimeInForce",
    "__version__",
    "atr_wilder",
    "dbn_bar_columns",
    "dbn_symbol_codes",
    "ema_cross",
    "ema_filter",
    "first_not_finite",
    "first_not_increasing",
    "fix_decode",
    "fix_write_dictionary",
    "fixed_to_ticks",
    "max_drawdown",
    "native_members",
    "read_dbn",
    "replay_book",
    "run_starts",
    "simulate",
    "sweep_simulate",
    "ticks_to_fixed",
]
