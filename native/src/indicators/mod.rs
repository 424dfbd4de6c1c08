//! Indicators over f64 bar series, fused into single passes (the vectorized Python values,
//! bit for bit).

pub mod atr;
pub mod ema;

pub use atr::atr_wilder;
pub use ema::{ema_cross, ema_filter};
