//! The backtest kernel: a bar-by-bar state machine on integer ticks with the risk rules of
//! `workbench.risk` (sizing, stops, limits, circuit breakers).
//!
//! - [`params`]: the scalars of a run; [`codes`]: what it reports; [`records`]: trades and
//!   risk events;
//! - [`risk`], [`sizing`], [`stops`]: the rules, one module each;
//! - [`sim`]: the simulation loop that applies them;
//! - [`sweep`]: many combinations of a strategy through that loop at once, on all cores.

pub mod codes;
pub mod params;
pub mod records;
pub mod risk;
pub mod sim;
pub mod sizing;
pub mod stops;
pub mod sweep;

pub use codes::{Action, ExitReason, Reason};
pub use params::{Params, Sizing, StopMode};
pub use records::{RiskEvent, Trade};
pub use sim::{simulate, Inputs, Outputs};
