//! What the kernel reports, as small integers: what happened to an entry request
//! ([`Action`]), why ([`Reason`]), and why a trade was closed ([`ExitReason`]).
//!
//! These enums are the one definition of the codes: the compiled module exports them (in
//! Python the variants are upper case: `Action.CIRCUIT_BREAKER`) and `workbench.model.codes`
//! reads their values from it.

/// What happened to an entry request (or a circuit breaker tripping).
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(
        eq,
        eq_int,
        hash,
        frozen,
        module = "workbench_native._native",
        rename_all = "SCREAMING_SNAKE_CASE"
    )
)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i64)]
pub enum Action {
    Accepted = 0,
    Resized = 1,
    Rejected = 2,
    CircuitBreaker = 3,
    /// Equity fell below the position's maintenance margin: the position was flattened and
    /// the account closed (no more entries for the rest of the run).
    MarginCall = 4,
}

/// Why a risk decision was taken.
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(
        eq,
        eq_int,
        hash,
        frozen,
        module = "workbench_native._native",
        rename_all = "SCREAMING_SNAKE_CASE"
    )
)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i64)]
pub enum Reason {
    Ok = 0,
    MaxPosition = 1,
    MaxExposure = 2,
    SizeBelowOne = 3,
    DailyLossLimit = 4,
    OutsideTradingHours = 5,
    HaltConsecutiveLosses = 6,
    HaltIntradayDrawdown = 7,
    HaltMaxDrawdown = 8,
    NoStopDistance = 9,
    /// The pre-trade check only (`crate::risk`): too many orders in the last minute.
    OrderRate = 10,
    /// The pre-trade check only (`crate::risk`): the kill switch is on.
    KillSwitch = 11,
    /// The account's equity cannot post the initial margin of the contracts asked for.
    InitialMargin = 12,
    /// Equity marked to market fell below the position's maintenance margin.
    MaintenanceMargin = 13,
}

/// Why a trade was closed.
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(
        eq,
        eq_int,
        hash,
        frozen,
        module = "workbench_native._native",
        rename_all = "SCREAMING_SNAKE_CASE"
    )
)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i64)]
pub enum ExitReason {
    /// The signal no longer wants the position.
    Signal = 0,
    /// The stop was hit (or gapped through).
    Stop = 1,
    /// The profit target was reached.
    Target = 2,
    /// The continuous series changed contract.
    Roll = 3,
    /// Flat before the daily halt.
    Session = 4,
    /// The data ended.
    End = 5,
    /// Equity fell below the maintenance margin: flattened at the bar's close, account closed.
    MarginCall = 6,
}
