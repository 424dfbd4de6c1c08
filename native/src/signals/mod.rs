//! The strategies' signals one bar at a time: the live path's versions of
//! `Strategy.compute_signals` in `workbench.strategies`, from the incremental indicators.
//!
//! Each signal takes a bar (`high`, `low`, `close`) and returns the position wanted once it has
//! closed (+1 long, -1 short, 0 flat), equal bar by bar to the vectorized signal, and keeps
//! the strategy's protective stop distance (`atr_stop_mult x ATR(atr_period)`) beside it. The
//! time filter (`TimeFilter`) is applied by the Python face, as `generate_signals` applies it
//! after the raw signal.

pub mod bollinger_reversion;
pub mod donchian_breakout;
pub mod ema_crossover;
pub mod hold;

pub use bollinger_reversion::BollingerReversion;
pub use donchian_breakout::DonchianBreakout;
pub use ema_crossover::EmaCrossover;
pub use hold::Hold;

use crate::indicators::incremental::error::finite;
use crate::indicators::incremental::IndicatorError;

/// A bar's prices, refused unless all finite (so no indicator is half updated).
#[inline]
pub(crate) fn check_bar(high: f64, low: f64, close: f64) -> Result<(), IndicatorError> {
    finite("high", high)?;
    finite("low", low)?;
    finite("close", close)
}
