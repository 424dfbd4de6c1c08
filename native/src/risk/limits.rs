//! The limits of the pre-trade check (`workbench.risk.RiskConfig` plus the contract and the
//! order rate).

/// The scalars of [`super::PreTradeRisk`]: the fields of `workbench.risk.RiskConfig` it uses
/// (same names and meaning), the contract's tick and multiplier (for exposure), and the
/// order-rate limit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PreTradeLimits {
    /// Fraction of the day's starting equity that may be lost (realised) before entries stop
    /// for the rest of the trade date.
    pub daily_loss_limit: f64,
    /// Most contracts an entry may get (larger requests are resized).
    pub max_position: i64,
    /// Most notional (contracts x price x multiplier) as a multiple of equity.
    pub max_exposure: f64,
    /// Losing trades in a row that halt entries for the rest of the trade date.
    pub max_consecutive_losses: i64,
    /// Drawdown from the day's peak that halts entries for the rest of the trade date.
    pub intraday_drawdown_limit: f64,
    /// Drawdown from the all-time peak that halts entries for `cooloff_days` trade dates.
    pub max_drawdown_limit: f64,
    /// Trade dates of the max-drawdown halt.
    pub cooloff_days: i64,
    /// Price of one tick (MCL: 0.01).
    pub tick_size: f64,
    /// Contract multiplier (MCL: 100).
    pub multiplier: f64,
    /// Most orders in any 60 s (entries approved plus orders recorded with
    /// [`super::PreTradeRisk::record_order`]); `None`: no limit.
    pub max_orders_per_minute: Option<u32>,
}
