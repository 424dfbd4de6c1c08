//! Wilder's average true range, one bar at a time.

use super::error::{finite, IndicatorError};

/// `workbench.strategies.indicators.atr(high, low, close, period, scale=scale)` one bar at a
/// time, bit for bit.
///
/// True range `TR = max(high, prev close) - min(low, prev close)` (`high - low` on the first
/// bar); the first `period` true ranges are kept and their mean, summed in NumPy's pairwise
/// order ([`numpy_sum`]), seeds the average at bar `period - 1`; after it
/// `y = TR / p + (1 - 1 / p) * y`. The output is `scale * y`, NaN before bar `period - 1`.
/// Prices must be finite (a bar with a NaN is refused, state unchanged).
#[derive(Clone, Debug)]
pub struct WilderAtr {
    period: usize,
    alpha: f64,
    keep: f64,
    scale: f64,
    prev_close: f64,
    seed: Vec<f64>,
    y: f64,
    bars: u64,
}

impl WilderAtr {
    /// `scale x ATR(period)`; `None` for a period of 0.
    pub fn new(period: usize, scale: f64) -> Option<Self> {
        if period == 0 {
            return None;
        }
        let alpha = 1.0 / period as f64;
        Some(WilderAtr {
            period,
            alpha,
            keep: 1.0 - alpha,
            scale,
            prev_close: f64::NAN,
            seed: Vec::with_capacity(period),
            y: f64::NAN,
            bars: 0,
        })
    }

    /// Take the next bar; `scale x ATR` after it (NaN during the warm-up).
    #[inline]
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Result<f64, IndicatorError> {
        finite("high", high)?;
        finite("low", low)?;
        finite("close", close)?;
        let tr = if self.bars == 0 {
            high - low
        } else {
            high.max(self.prev_close) - low.min(self.prev_close)
        };
        self.prev_close = close;
        self.bars += 1;
        if self.seed.len() < self.period {
            self.seed.push(tr);
            if self.seed.len() == self.period {
                self.y = numpy_sum(&self.seed) / self.period as f64;
            }
        } else {
            self.y = self.alpha * tr + self.keep * self.y;
        }
        Ok(self.value())
    }

    /// The current `scale x ATR` (NaN during the warm-up).
    #[inline]
    pub fn value(&self) -> f64 {
        self.scale * self.y
    }
}

/// The sum of `a` in NumPy's order for a contiguous float64 array (`np.add.reduce`, hence
/// `mean`): a plain loop under 8 values, 8 interleaved accumulators up to 128, halves above.
pub fn numpy_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        return a.iter().fold(-0.0, |s, &v| s + v);
    }
    if n <= 128 {
        let mut r = [0.0; 8];
        r.copy_from_slice(&a[..8]);
        let whole = n - n % 8;
        for chunk in a[8..whole].chunks_exact(8) {
            for (acc, &v) in r.iter_mut().zip(chunk) {
                *acc += v;
            }
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &a[whole..] {
            res += v;
        }
        return res;
    }
    let mut half = n / 2;
    half -= half % 8;
    numpy_sum(&a[..half]) + numpy_sum(&a[half..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::atr_wilder;

    #[test]
    fn equals_the_fused_vectorized_atr() {
        let n = 500;
        let c: Vec<f64> = (0..n)
            .map(|i| 70.0 + (i as f64 * 0.13).sin() * 2.0)
            .collect();
        let h: Vec<f64> = c
            .iter()
            .enumerate()
            .map(|(i, v)| v + 0.05 + (i % 7) as f64 * 0.01)
            .collect();
        let l: Vec<f64> = c
            .iter()
            .enumerate()
            .map(|(i, v)| v - 0.04 - (i % 5) as f64 * 0.01)
            .collect();
        for period in [1, 3, 14, 20] {
            let mut tr = vec![h[0] - l[0]];
            tr.extend((1..period).map(|t| h[t].max(c[t - 1]) - l[t].min(c[t - 1])));
            let seed = numpy_sum(&tr) / period as f64;
            let want = atr_wilder(&h, &l, &c, period, seed, 2.5).unwrap();
            let mut a = WilderAtr::new(period, 2.5).unwrap();
            for t in 0..n {
                let got = a.update(h[t], l[t], c[t]).unwrap();
                assert_eq!(got.to_bits(), want[t].to_bits(), "period {period} bar {t}");
            }
        }
    }

    #[test]
    fn refuses_a_nan_bar_and_keeps_its_state() {
        let mut a = WilderAtr::new(1, 1.0).unwrap();
        assert_eq!(a.update(2.0, 1.0, 1.5).unwrap(), 1.0);
        assert!(a.update(f64::NAN, 1.0, 1.5).is_err());
        assert_eq!(a.value(), 1.0);
        assert!(WilderAtr::new(0, 1.0).is_none());
    }

    #[test]
    fn numpy_sum_of_short_and_long_arrays() {
        assert_eq!(numpy_sum(&[]), -0.0);
        assert_eq!(numpy_sum(&[1.0, 2.0, 3.0]), 6.0);
        let a: Vec<f64> = (0..300).map(|i| i as f64).collect();
        assert_eq!(numpy_sum(&a), 299.0 * 300.0 / 2.0);
    }
}
