//! Statistics of whole equity series in one pass (no intermediate arrays), for
//! `workbench.analysis`.

/// The largest drawdown of `values` below their running peak, the peak starting at `floor`:
/// `(max(peak - v), max((peak - v) / peak) over bars with peak > 0)`, the second `None` when
/// no peak is positive. `None` for an empty series or one holding a NaN.
///
/// The same operations as `np.maximum.accumulate` floored at `floor`, `peak - values` and
/// `dd / peak`, so the same values bit for bit.
pub fn max_drawdown(values: &[f64], floor: f64) -> Option<(f64, Option<f64>)> {
    let mut acc = Drawdown::new(floor);
    acc.extend(values);
    acc.result()
}

/// [`max_drawdown`] fed a stretch of the series at a time (a sweep keeps no whole curve):
/// the same operations in the same order, so the same bits.
#[derive(Clone, Copy, Debug)]
pub struct Drawdown {
    peak: f64,
    worst: f64,
    worst_frac: f64,
    any_positive: bool,
    nan: bool,
    seen: bool,
}

impl Drawdown {
    /// Nothing seen yet; the peak starts at `floor`.
    pub fn new(floor: f64) -> Self {
        Drawdown {
            peak: floor,
            worst: f64::NEG_INFINITY,
            worst_frac: f64::NEG_INFINITY,
            any_positive: false,
            nan: false,
            seen: false,
        }
    }

    /// The next values of the series.
    #[inline]
    pub fn extend(&mut self, values: &[f64]) {
        let (mut peak, mut worst, mut worst_frac) = (self.peak, self.worst, self.worst_frac);
        let (mut any_positive, mut nan) = (self.any_positive, self.nan);
        for &v in values {
            nan |= v.is_nan();
            peak = peak.max(v);
            let dd = peak - v;
            worst = worst.max(dd);
            if peak > 0.0 {
                any_positive = true;
                worst_frac = worst_frac.max(dd / peak);
            }
        }
        (self.peak, self.worst, self.worst_frac) = (peak, worst, worst_frac);
        (self.any_positive, self.nan) = (any_positive, nan);
        self.seen |= !values.is_empty();
    }

    /// What [`max_drawdown`] returns for the values seen.
    pub fn result(&self) -> Option<(f64, Option<f64>)> {
        if !self.seen || self.nan {
            return None;
        }
        Some((self.worst, self.any_positive.then_some(self.worst_frac)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawdown_from_the_running_peak() {
        let (usd, frac) = max_drawdown(&[100.0, 120.0, 90.0, 130.0, 117.0], 100.0).unwrap();
        assert_eq!(usd, 30.0);
        assert_eq!(frac, Some(30.0 / 120.0));
        // The floor is the first peak: a start below it is already a drawdown.
        assert_eq!(max_drawdown(&[80.0, 90.0], 100.0).unwrap().0, 20.0);
        assert_eq!(max_drawdown(&[-5.0, -1.0], -10.0).unwrap(), (0.0, None));
        assert_eq!(max_drawdown(&[1.0, f64::NAN], 0.0), None);
        assert_eq!(max_drawdown(&[], 0.0), None);
    }

    #[test]
    fn in_stretches_the_same_as_at_once() {
        let v = [100.0, 120.0, 90.0, 130.0, 117.0, 60.0, 140.0];
        for cut in 0..=v.len() {
            let mut acc = Drawdown::new(100.0);
            acc.extend(&v[..cut]);
            acc.extend(&v[cut..]);
            assert_eq!(acc.result(), max_drawdown(&v, 100.0));
        }
    }
}
