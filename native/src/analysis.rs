//! Statistics of whole equity series in one pass (no intermediate arrays), for
//! `workbench.analysis`.

/// The largest drawdown of `values` below their running peak, the peak starting at `floor`:
/// `(max(peak - v), max((peak - v) / peak) over bars with peak > 0)`, the second `None` when
/// no peak is positive. `None` for an empty series or one holding a NaN.
///
/// The same operations as `np.maximum.accumulate` floored at `floor`, `peak - values` and
/// `dd / peak`, so the same values bit for bit.
pub fn max_drawdown(values: &[f64], floor: f64) -> Option<(f64, Option<f64>)> {
    if values.is_empty() {
        return None;
    }
    let mut peak = floor;
    let (mut worst, mut worst_frac) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    let mut any_positive = false;
    let mut nan = false;
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
    if nan {
        return None;
    }
    Some((worst, any_positive.then_some(worst_frac)))
}

/// [`max_drawdown`] fed a stretch of the series at a time (a sweep keeps no whole curve),
/// with the same result bit for bit.
///
/// It keeps the lowest value since the running peak last rose instead of dividing at every
/// value: for a fixed peak, `peak - v` and `(peak - v) / peak` only grow as `v` falls
/// (IEEE subtraction and division by a positive number are monotonic), so the lowest value of
/// each stretch under one peak gives that stretch's largest of both, the same bits.
#[derive(Clone, Copy, Debug)]
pub struct Drawdown {
    peak: f64,
    /// Lowest value under the current peak (`+inf`: none yet).
    low: f64,
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
            low: f64::INFINITY,
            worst: f64::NEG_INFINITY,
            worst_frac: f64::NEG_INFINITY,
            any_positive: false,
            nan: false,
            seen: false,
        }
    }

    /// Fold the stretch under the current peak into the worst figures.
    #[inline]
    fn close_stretch(&mut self) {
        if self.low != f64::INFINITY {
            let dd = self.peak - self.low;
            self.worst = self.worst.max(dd);
            if self.peak > 0.0 {
                self.any_positive = true;
                self.worst_frac = self.worst_frac.max(dd / self.peak);
            }
        }
    }

    /// The next values of the series.
    pub fn extend(&mut self, values: &[f64]) {
        // A stretch of 32 values without a new peak only lowers `low`: its minimum and
        // maximum come from a loop the compiler vectorizes; a stretch that sets a peak takes
        // the value-by-value path.
        const LANES: usize = 4;
        let mut chunks = values.chunks_exact(32);
        for chunk in &mut chunks {
            // Four independent running extremes (lanes), then combined: exact either way.
            let (mut hi, mut lo) = ([f64::NEG_INFINITY; LANES], [f64::INFINITY; LANES]);
            let mut nan = false;
            for quad in chunk.chunks_exact(LANES) {
                for k in 0..LANES {
                    let v = quad[k];
                    hi[k] = if v > hi[k] { v } else { hi[k] };
                    lo[k] = if v < lo[k] { v } else { lo[k] };
                    nan |= v.is_nan();
                }
            }
            let hi = hi
                .iter()
                .fold(f64::NEG_INFINITY, |m, &v| if v > m { v } else { m });
            let lo = lo
                .iter()
                .fold(f64::INFINITY, |m, &v| if v < m { v } else { m });
            if hi > self.peak {
                self.extend_each(chunk);
            } else {
                self.low = self.low.min(lo);
                self.nan |= nan;
            }
        }
        self.extend_each(chunks.remainder());
        self.seen |= !values.is_empty();
    }

    /// [`Drawdown::extend`] one value at a time.
    #[inline]
    fn extend_each(&mut self, values: &[f64]) {
        for &v in values {
            self.nan |= v.is_nan();
            if v > self.peak {
                self.close_stretch();
                self.peak = v;
                self.low = v;
            } else {
                // `min` ignores a NaN, as `max` does in `max_drawdown`.
                self.low = self.low.min(v);
            }
        }
    }

    /// What [`max_drawdown`] returns for the values seen.
    pub fn result(&self) -> Option<(f64, Option<f64>)> {
        if !self.seen || self.nan {
            return None;
        }
        let mut last = *self;
        last.close_stretch();
        Some((last.worst, last.any_positive.then_some(last.worst_frac)))
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
    fn in_stretches_the_same_bits_as_at_once() {
        let v = [100.0, 120.0, 90.0, 130.0, 117.0, 60.0, 140.0, 140.0, 3.0];
        for floor in [100.0, 500.0, -10.0] {
            for cut in 0..=v.len() {
                let mut acc = Drawdown::new(floor);
                acc.extend(&v[..cut]);
                acc.extend(&v[cut..]);
                assert_eq!(acc.result(), max_drawdown(&v, floor));
            }
        }
        // A pseudo-random walk through 0, with awkward fractions.
        let mut x = 1.0f64;
        let walk: Vec<f64> = (0..5_000)
            .map(|i| {
                x += ((i * 7919 % 113) as f64 - 56.3) / 9.7;
                x
            })
            .collect();
        let mut acc = Drawdown::new(0.3);
        for chunk in walk.chunks(37) {
            acc.extend(chunk);
        }
        assert_eq!(acc.result(), max_drawdown(&walk, 0.3));
        let mut acc = Drawdown::new(0.0);
        acc.extend(&[1.0, f64::NAN]);
        assert_eq!(acc.result(), None);
        assert_eq!(Drawdown::new(0.0).result(), None);
    }
}
