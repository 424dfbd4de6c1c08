//! `bollinger_reversion` (`MeanReversionStrategy`) one bar at a time.

use super::{check_bar, Hold};
use crate::indicators::incremental::{IndicatorError, RollingMeanStd, WilderAtr};

/// `MeanReversionStrategy.compute_signals` one bar at a time.
///
/// With `mid`, `sd` the rolling mean and population deviation of the last `period` closes:
/// long entry `close < mid - num_std * sd`, long exit `close >= mid + exit_z * sd`, short entry
/// `close > mid + num_std * sd`, short exit `close <= mid - exit_z * sd` (all false in the
/// warm-up), held by [`Hold`].
#[derive(Clone, Debug)]
pub struct BollingerReversion {
    bands: RollingMeanStd,
    num_std: f64,
    exit_z: f64,
    allow_short: bool,
    hold: Hold,
    stop: WilderAtr,
}

impl BollingerReversion {
    /// The strategy's signal; `None` for a period below 2 or a zero ATR period.
    pub fn new(
        period: usize,
        num_std: f64,
        exit_z: f64,
        atr_period: usize,
        atr_stop_mult: f64,
        allow_short: bool,
    ) -> Option<Self> {
        if period < 2 {
            return None;
        }
        Some(BollingerReversion {
            bands: RollingMeanStd::new(period, 0)?,
            num_std,
            exit_z,
            allow_short,
            hold: Hold::new(),
            stop: WilderAtr::new(atr_period, atr_stop_mult)?,
        })
    }

    /// Take a bar; the position wanted after it.
    #[inline]
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Result<i8, IndicatorError> {
        check_bar(high, low, close)?;
        self.stop.update(high, low, close)?;
        let (mid, sd) = self.bands.update(close);
        let long_entry = close < mid - self.num_std * sd;
        let long_exit = close >= mid + self.exit_z * sd;
        if !self.allow_short {
            return Ok(self.hold.step_long(long_entry, long_exit));
        }
        let short_entry = close > mid + self.num_std * sd;
        let short_exit = close <= mid - self.exit_z * sd;
        Ok(self
            .hold
            .step(long_entry, long_exit, short_entry, short_exit))
    }

    /// The protective stop distance after the last bar (NaN during the ATR warm-up).
    pub fn stop_distance(&self) -> f64 {
        self.stop.value()
    }
}
