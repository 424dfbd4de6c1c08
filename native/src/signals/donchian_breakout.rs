//! `donchian_breakout` (`BreakoutStrategy`) one bar at a time.

use super::{check_bar, Hold};
use crate::indicators::incremental::{Donchian, IndicatorError, WilderAtr};

/// `BreakoutStrategy.compute_signals` one bar at a time.
///
/// With the channels of the bars before the current one: long entry `close > entry upper`,
/// long exit `close < exit lower`, short entry `close < entry lower`, short exit
/// `close > exit upper` (all false in the warm-up), held by [`Hold`].
#[derive(Clone, Debug)]
pub struct DonchianBreakout {
    entry: Donchian,
    exit: Donchian,
    allow_short: bool,
    hold: Hold,
    stop: WilderAtr,
}

impl DonchianBreakout {
    /// The strategy's signal; `None` for a zero period.
    pub fn new(
        entry_period: usize,
        exit_period: usize,
        atr_period: usize,
        atr_stop_mult: f64,
        allow_short: bool,
    ) -> Option<Self> {
        Some(DonchianBreakout {
            entry: Donchian::new(entry_period)?,
            exit: Donchian::new(exit_period)?,
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
        let (entry_hi, entry_lo) = self.entry.update(high, low);
        let (exit_hi, exit_lo) = self.exit.update(high, low);
        let long_entry = close > entry_hi;
        let long_exit = close < exit_lo;
        if !self.allow_short {
            return Ok(self.hold.step_long(long_entry, long_exit));
        }
        let short_entry = close < entry_lo;
        let short_exit = close > exit_hi;
        Ok(self
            .hold
            .step(long_entry, long_exit, short_entry, short_exit))
    }

    /// The protective stop distance after the last bar (NaN during the ATR warm-up).
    pub fn stop_distance(&self) -> f64 {
        self.stop.value()
    }
}
