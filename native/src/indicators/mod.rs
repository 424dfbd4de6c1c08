//! Indicators over f64 bar series, fused into single passes (the vectorized Python values,
//! bit for bit), and their one-bar-at-a-time versions for the live path ([`incremental`]).

pub mod atr;
pub mod ema;
pub mod incremental;

pub use atr::atr_wilder;
pub use ema::{ema_cross, ema_filter};
