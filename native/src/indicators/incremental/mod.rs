//! Indicators one bar at a time: the live path's versions of the vectorized indicators in
//! `workbench.strategies.indicators`, with the same values on the same bars.
//!
//! Each type holds only the state the next bar needs and updates in O(1) (the rolling
//! moments in O(log period): see [`window_sum`]). Values during the warm-up are NaN, as in
//! the vectorized arrays.
//!
//! | type | vectorized | equality |
//! |---|---|---|
//! | [`Ema`] | `ema(x, span, min_periods=...)` | bit for bit (the same recursion) |
//! | [`WilderAtr`] | `atr(high, low, close, period, scale=...)` | bit for bit (seed summed as NumPy sums it) |
//! | [`RollingMeanStd`] | `rolling_mean_std(x, period, ddof=...)`, `sma`, `bollinger` | bit for bit (the same pairwise window sums) |
//! | [`RollingMax`], [`RollingMin`] | `rolling_max`, `rolling_min` | exact (a max is exact) |
//! | [`Donchian`] | `donchian(high, low, period)` | exact |

pub mod atr;
pub mod ema;
pub mod error;
pub mod extreme;
pub mod moments;
pub mod window_sum;

pub use atr::WilderAtr;
pub use ema::Ema;
pub use error::IndicatorError;
pub use extreme::{Donchian, RollingMax, RollingMin};
pub use moments::RollingMeanStd;
pub use window_sum::WindowSum;
