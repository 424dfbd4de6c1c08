//! The rolling mean and standard deviation (SMA, Bollinger bands), one value at a time.

use super::window_sum::WindowSum;

/// `workbench.strategies.indicators.rolling_mean_std(x, period, ddof=ddof)` one value at a
/// time, bit for bit.
///
/// The same computation as the vectorized one: values centred on the first finite value
/// seen, pairwise window sums of `y` and `y^2` ([`WindowSum`]), `mean = s1 / p + centre`,
/// `var = s2 - s1^2 / p` set to 0 within the rounding bound `4 (log2 p + 2) eps s2`,
/// `std = sqrt(var / (p - ddof))`. NaN during the first `period - 1` values and for a window
/// holding a NaN.
#[derive(Clone, Debug)]
pub struct RollingMeanStd {
    period: f64,
    dof: f64,
    noise: f64,
    center: Option<f64>,
    s1: WindowSum,
    s2: WindowSum,
    mean: f64,
    std: f64,
}

impl RollingMeanStd {
    /// Moments over `period` (>= 1) values with `ddof < period`; `None` otherwise.
    pub fn new(period: usize, ddof: usize) -> Option<Self> {
        if ddof >= period {
            return None;
        }
        let p = period as f64;
        Some(RollingMeanStd {
            period: p,
            dof: (period - ddof) as f64,
            noise: 4.0 * (p.log2() + 2.0) * f64::EPSILON,
            center: None,
            s1: WindowSum::new(period)?,
            s2: WindowSum::new(period)?,
            mean: f64::NAN,
            std: f64::NAN,
        })
    }

    /// Take the next value; `(mean, std)` of the last `period` values (NaN while warming up).
    #[inline]
    pub fn update(&mut self, x: f64) -> (f64, f64) {
        if self.center.is_none() && x.is_finite() {
            self.center = Some(x);
        }
        // Before the first finite value x is NaN or infinite, and x - c is the same for any c.
        let center = self.center.unwrap_or(0.0);
        let y = x - center;
        let (Some(s1), Some(s2)) = (self.s1.update(y), self.s2.update(y * y)) else {
            return (self.mean, self.std);
        };
        self.mean = s1 / self.period + center;
        let mut var = s2 - s1 * s1 / self.period;
        if var <= self.noise * s2 {
            var = 0.0;
        }
        self.std = (var / self.dof).sqrt();
        (self.mean, self.std)
    }

    /// The current mean (NaN while warming up).
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The current standard deviation (NaN while warming up).
    pub fn std(&self) -> f64 {
        self.std
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_population_std_of_a_small_window() {
        let mut m = RollingMeanStd::new(4, 0).unwrap();
        let out: Vec<(f64, f64)> = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]
            .iter()
            .map(|&v| m.update(v))
            .collect();
        assert!(out[2].0.is_nan() && out[2].1.is_nan());
        assert_eq!(out[3].0, 3.5);
        assert!((out[3].1 - 0.75f64.sqrt()).abs() < 1e-15);
        assert_eq!(out[7].0, 6.5);
    }

    #[test]
    fn a_flat_window_has_zero_deviation() {
        let mut m = RollingMeanStd::new(20, 0).unwrap();
        let mut last = (0.0, 1.0);
        for _ in 0..30 {
            last = m.update(71.37);
        }
        assert_eq!(last.1, 0.0);
        assert!(RollingMeanStd::new(3, 3).is_none());
    }
}
