//! The pre-trade risk check of the live path: `workbench.risk.RiskManager`'s rules (max
//! contracts, max exposure, the daily loss limit by CME trade date, trading hours, circuit
//! breakers) with the same decisions and codes, plus two rules of its own: an order-rate limit
//! on i64 nanosecond timestamps and a kill switch.
//!
//! - [`limits`]: the scalars; [`order_rate`]: the sliding one-minute window;
//! - [`pretrade`]: the check and its state.

pub mod limits;
pub mod order_rate;
pub mod pretrade;

pub use limits::PreTradeLimits;
pub use order_rate::OrderRate;
pub use pretrade::{Decision, PreTradeRisk, RiskError};
