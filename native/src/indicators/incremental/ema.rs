//! The exponential moving average, one value at a time.

use super::error::IndicatorError;

/// `workbench.strategies.indicators.ema(x, span, min_periods=warm)`, one value at a time.
///
/// `alpha = 2 / (span + 1)`; the first non-NaN value `x0` starts the average (as the
/// vectorized `ema` seeds its filter with it, the first output is
/// `alpha * x0 + (1 - alpha) * x0`), then `y = alpha * x + (1 - alpha) * y`. The output is
/// NaN until `warm` values (default `span`) have been seen. Leading NaNs are skipped (NaN
/// out); a NaN after the start is refused ([`IndicatorError`]), where the vectorized
/// function raises.
#[derive(Clone, Debug)]
pub struct Ema {
    alpha: f64,
    keep: f64,
    warm: u64,
    seen: u64,
    y: f64,
}

impl Ema {
    /// An EMA of `span` (>= 1) defined after `warm` (>= 1) values; `None` if either is 0.
    pub fn new(span: usize, warm: usize) -> Option<Self> {
        if span == 0 || warm == 0 {
            return None;
        }
        let alpha = 2.0 / (span as f64 + 1.0);
        Some(Ema {
            alpha,
            keep: 1.0 - alpha,
            warm: warm as u64,
            seen: 0,
            y: f64::NAN,
        })
    }

    /// Take the next value; the average after it (NaN during the warm-up).
    #[inline]
    pub fn update(&mut self, x: f64) -> Result<f64, IndicatorError> {
        if x.is_nan() {
            if self.seen == 0 {
                return Ok(f64::NAN);
            }
            return Err(IndicatorError::NotFinite {
                field: "x",
                value: x,
            });
        }
        let prev = if self.seen == 0 { x } else { self.y };
        self.y = self.alpha * x + self.keep * prev;
        self.seen += 1;
        Ok(self.value())
    }

    /// The current average (NaN during the warm-up).
    #[inline]
    pub fn value(&self) -> f64 {
        if self.seen >= self.warm {
            self.y
        } else {
            f64::NAN
        }
    }

    /// Values taken since the first non-NaN one.
    pub fn count(&self) -> u64 {
        self.seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::ema_filter;

    #[test]
    fn equals_the_filter_seeded_with_the_first_value() {
        let x: Vec<f64> = (0..300).map(|i| 70.0 + (i as f64 * 0.21).sin()).collect();
        let want = ema_filter(&x, 2.0 / 11.0, x[0]);
        let mut e = Ema::new(10, 10).unwrap();
        for (t, &v) in x.iter().enumerate() {
            let got = e.update(v).unwrap();
            if t < 9 {
                assert!(got.is_nan());
            } else {
                assert_eq!(got.to_bits(), want[t].to_bits(), "bar {t}");
            }
        }
    }

    #[test]
    fn leading_nans_are_skipped_and_later_ones_refused() {
        let mut e = Ema::new(2, 1).unwrap();
        assert!(e.update(f64::NAN).unwrap().is_nan());
        assert_eq!(e.update(3.0).unwrap(), 3.0);
        assert!(e.update(f64::NAN).is_err());
        assert_eq!(e.value(), 3.0); // unchanged
        assert!(Ema::new(0, 1).is_none());
    }
}
