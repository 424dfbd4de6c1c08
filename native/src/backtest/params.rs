//! The scalars of a simulation: account, contract, stops, sizing and risk limits.

/// How the stop distance is set (`workbench.risk.config.STOP_MODES`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopMode {
    None,
    FixedPct,
    FixedUsd,
    Atr,
    TrailingAtr,
    TrailingPct,
}

impl StopMode {
    pub fn from_index(i: i64) -> Option<StopMode> {
        Some(match i {
            0 => StopMode::None,
            1 => StopMode::FixedPct,
            2 => StopMode::FixedUsd,
            3 => StopMode::Atr,
            4 => StopMode::TrailingAtr,
            5 => StopMode::TrailingPct,
            _ => return None,
        })
    }
    /// Whether the stop follows the price.
    pub fn trailing(self) -> bool {
        matches!(self, StopMode::TrailingAtr | StopMode::TrailingPct)
    }
}

/// How a position is sized (`workbench.risk.config.SIZING_METHODS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sizing {
    Fixed,
    FixedFractional,
    Volatility,
    Kelly,
}

impl Sizing {
    pub fn from_index(i: i64) -> Option<Sizing> {
        Some(match i {
            0 => Sizing::Fixed,
            1 => Sizing::FixedFractional,
            2 => Sizing::Volatility,
            3 => Sizing::Kelly,
            _ => return None,
        })
    }
}

/// Scalars of a simulation (see `SimParams` in Python).
#[derive(Clone, Debug)]
pub struct Params {
    pub initial_capital: f64,
    pub commission: f64,
    pub slippage_ticks: i64,
    pub tick_value: f64,
    pub tick_size: f64,
    pub multiplier: f64,
    pub use_risk: bool,
    pub roll: bool,
    pub fixed_contracts: i64,
    pub stop_mode: StopMode,
    pub stop_pct: f64,
    pub stop_usd: f64,
    pub target_r: Option<f64>,
    pub sizing: Sizing,
    pub sizing_contracts: i64,
    pub kelly_fraction: f64,
    pub kelly_cap: f64,
    pub kelly_min_trades: i64,
    pub risk_per_trade: f64,
    pub daily_loss_limit: f64,
    pub max_position: i64,
    pub max_exposure: f64,
    pub max_consecutive_losses: i64,
    pub intraday_drawdown_limit: f64,
    pub max_drawdown_limit: f64,
    pub cooloff_days: i64,
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
    }
}
