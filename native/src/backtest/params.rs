//! The scalars of a simulation: account, contract, stops, sizing and risk limits.

/// How the stop distance is set (`workbench.risk.config.STOP_MODES`).
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
pub enum StopMode {
    None,
    FixedPct,
    FixedUsd,
    Atr,
    TrailingAtr,
    TrailingPct,
}

impl StopMode {
    /// Whether the stop follows the price.
    pub fn trailing(self) -> bool {
        matches!(self, StopMode::TrailingAtr | StopMode::TrailingPct)
    }
}

/// How a position is sized (`workbench.risk.config.SIZING_METHODS`).
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
pub enum Sizing {
    Fixed,
    FixedFractional,
    Volatility,
    Kelly,
}

/// Scalars of a simulation (`workbench.backtest.simulate.SimParams`, flattened). In Python:
/// `workbench_native.BacktestParams`, built with keyword arguments.
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(
        frozen,
        get_all,
        name = "BacktestParams",
        module = "workbench_native._native"
    )
)]
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// Starting equity.
    pub initial_capital: f64,
    /// Per contract per side.
    pub commission: f64,
    /// Ticks paid per side on market fills (entries, signal exits, stops).
    pub slippage_ticks: i64,
    /// Money per tick per contract.
    pub tick_value: f64,
    /// Price units per tick (positive).
    pub tick_size: f64,
    /// Contract multiplier (exposure = price x multiplier x contracts).
    pub multiplier: f64,
    /// Sizing, stops, limits and breakers on; off: `fixed_contracts`, no stops.
    pub use_risk: bool,
    /// Re-open a position at a contract roll (else only close it).
    pub roll: bool,
    /// Contracts per entry with risk management off.
    pub fixed_contracts: i64,
    /// How the stop distance is set.
    pub stop_mode: StopMode,
    /// Stop distance as a fraction of the price (`FIXED_PCT`, `TRAILING_PCT`).
    pub stop_pct: f64,
    /// Stop distance in money per contract (`FIXED_USD`).
    pub stop_usd: f64,
    /// Profit target at this multiple of the stop distance; `None`: no target.
    pub target_r: Option<f64>,
    /// How entries are sized.
    pub sizing: Sizing,
    /// Contracts per entry with `Sizing::Fixed`.
    pub sizing_contracts: i64,
    /// Fraction of the Kelly bet (`Sizing::Kelly`).
    pub kelly_fraction: f64,
    /// Largest fraction of equity risked under Kelly.
    pub kelly_cap: f64,
    /// Closed trades needed before Kelly replaces `risk_per_trade`.
    pub kelly_min_trades: i64,
    /// Fraction of equity risked per entry.
    pub risk_per_trade: f64,
    /// No entries once the day's realized loss reaches this fraction of its starting equity.
    pub daily_loss_limit: f64,
    /// Largest position, in contracts.
    pub max_position: i64,
    /// Largest notional as a multiple of equity.
    pub max_exposure: f64,
    /// Losing trades in a row that halt entries for the day.
    pub max_consecutive_losses: i64,
    /// Drawdown from the day's peak equity that halts entries for the day.
    pub intraday_drawdown_limit: f64,
    /// Drawdown from the peak equity that halts entries for a cool-off.
    pub max_drawdown_limit: f64,
    /// Trade dates without entries after the max-drawdown breaker (then the peak resets).
    pub cooloff_days: i64,
    /// Equity needed per contract to enter (any mode); `0`: no margin model.
    pub initial_margin: f64,
    /// Equity per contract held below which, at a bar's close, the position is flattened at
    /// that close and the account closed (any mode); `0`: no margin calls.
    pub maintenance_margin: f64,
}

/// Parameters for the tests: MCL economics, ATR stops, fixed-fractional sizing.
#[cfg(test)]
pub(crate) fn test_params(use_risk: bool) -> Params {
    Params {
        initial_capital: 5_000.0,
        commission: 1.25,
        slippage_ticks: 1,
        tick_value: 1.0,
        tick_size: 0.01,
        multiplier: 100.0,
        use_risk,
        roll: true,
        fixed_contracts: 1,
        stop_mode: StopMode::Atr,
        stop_pct: 0.01,
        stop_usd: 50.0,
        target_r: None,
        sizing: Sizing::FixedFractional,
        sizing_contracts: 1,
        kelly_fraction: 0.5,
        kelly_cap: 0.25,
        kelly_min_trades: 30,
        risk_per_trade: 0.02,
        daily_loss_limit: 0.05,
        max_position: 5,
        max_exposure: 20.0,
        max_consecutive_losses: 5,
        intraday_drawdown_limit: 0.04,
        max_drawdown_limit: 0.2,
        cooloff_days: 5,
        initial_margin: 0.0,
        maintenance_margin: 0.0,
    }
}
