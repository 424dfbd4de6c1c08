//! `ema_crossover` (`MomentumStrategy`) one bar at a time.

use super::check_bar;
use crate::indicators::incremental::{Ema, IndicatorError, WilderAtr};

/// `MomentumStrategy.compute_signals` one bar at a time: `sign(EMA(fast) - EMA(slow))` of the
/// closes (0 until both are defined, and on equality), floored at 0 without shorts.
#[derive(Clone, Debug)]
pub struct EmaCrossover {
    fast: Ema,
    slow: Ema,
    allow_short: bool,
    stop: WilderAtr,
}

impl EmaCrossover {
    /// The strategy's signal; `None` for a zero span or ATR period.
    pub fn new(
        fast_period: usize,
        slow_period: usize,
        atr_period: usize,
        atr_stop_mult: f64,
        allow_short: bool,
    ) -> Option<Self> {
        Some(EmaCrossover {
            fast: Ema::new(fast_period, fast_period)?,
            slow: Ema::new(slow_period, slow_period)?,
            allow_short,
            stop: WilderAtr::new(atr_period, atr_stop_mult)?,
        })
    }

    /// Take a bar; the position wanted after it.
    #[inline]
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Result<i8, IndicatorError> {
        check_bar(high, low, close)?;
        let f = self.fast.update(close)?;
        let s = self.slow.update(close)?;
        self.stop.update(high, low, close)?;
        let sig = (f > s) as i8 - (f < s) as i8;
        Ok(if self.allow_short { sig } else { sig.max(0) })
    }

    /// The protective stop distance after the last bar (NaN during the ATR warm-up).
    pub fn stop_distance(&self) -> f64 {
        self.stop.value()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::ema_cross;

    #[test]
    fn equals_the_fused_vectorized_cross() {
        let c: Vec<f64> = (0..600)
            .map(|i| 70.0 + (i as f64 * 0.05).sin() * 3.0 + (i as f64 * 0.7).cos() * 0.2)
            .collect();
        for (fast, slow) in [(3, 8), (5, 20), (20, 50)] {
            let want = ema_cross(&c, fast, slow).unwrap();
            let mut s = EmaCrossover::new(fast, slow, 14, 2.0, true).unwrap();
            let mut long_only = EmaCrossover::new(fast, slow, 14, 2.0, false).unwrap();
            for t in 0..c.len() {
                let (h, l) = (c[t] + 0.1, c[t] - 0.1);
                assert_eq!(s.update(h, l, c[t]).unwrap(), want[t], "bar {t}");
                assert_eq!(long_only.update(h, l, c[t]).unwrap(), want[t].max(0));
            }
            assert!(want.contains(&1) && want.contains(&-1));
        }
    }
}
