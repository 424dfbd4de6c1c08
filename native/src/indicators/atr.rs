//! Wilder's average true range, fused: true range, smoothing and scale in one pass.
//!
//! The same operations in the same order as `workbench.strategies.indicators.atr` (so the same
//! bits: a test holds them to it). `None` when a price is NaN or infinite, for the caller's
//! general path to handle.

/// `scale x ATR(period)`: Wilder's smoothing of the true range, NaN for the first
/// `period - 1` bars, `seed` (the mean of the first `period` true ranges, computed by the
/// caller) at `period - 1`, then `y[t] = a * TR[t] + (1 - a) * y[t-1]` with `a = 1 / period`.
///
/// `TR[0] = high[0] - low[0]`, `TR[t] = max(high[t], close[t-1]) - min(low[t], close[t-1])`.
/// `None` when a price is NaN or infinite, `period` is 0 or the lengths differ.
pub fn atr_wilder(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period: usize,
    seed: f64,
    scale: f64,
) -> Option<Vec<f64>> {
    let n = high.len();
    if period == 0 || low.len() != n || close.len() != n {
        return None;
    }
    // A NaN or infinite high, low or close makes this sum non-finite (checked once, at the
    // end): the caller's general path then decides (and raises where it does).
    let mut nan = false;
    for i in 0..period.min(n) {
        nan |= !(high[i] + low[i] + close[i]).is_finite();
    }
    let mut out = Vec::with_capacity(n);
    out.resize(period.min(n).saturating_sub(1), f64::NAN);
    if n >= period {
        let alpha = 1.0 / period as f64;
        let keep = 1.0 - alpha;
        out.push(scale * seed);
        let mut y = seed;
        for t in period..n {
            let (h, l, prev) = (high[t], low[t], close[t - 1]);
            nan |= !(h + l + close[t]).is_finite();
            let tr = h.max(prev) - l.min(prev);
            y = alpha * tr + keep * y;
            out.push(scale * y);
        }
    } else {
        out.push(f64::NAN);
        out.truncate(n);
    }
    (!nan).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atr_follows_wilder() {
        let h = [10.0, 11.0, 12.0, 11.5];
        let l = [9.0, 10.0, 10.5, 10.0];
        let c = [9.5, 10.5, 11.0, 10.2];
        // TR: 1.0, 1.5 (11 - 9.5), 1.5, 1.5 (11.5 - 10.0)
        let seed = (1.0 + 1.5) / 2.0;
        let out = atr_wilder(&h, &l, &c, 2, seed, 2.0).unwrap();
        assert!(out[0].is_nan());
        assert_eq!(out[1], 2.0 * seed);
        let y2 = 0.5 * 1.5 + 0.5 * seed;
        assert_eq!(out[2], 2.0 * y2);
        assert_eq!(out[3], 2.0 * (0.5 * 1.5 + 0.5 * y2));
        assert_eq!(
            atr_wilder(&h, &l, &[9.5, f64::NAN, 11.0, 10.2], 2, seed, 1.0),
            None
        );
        assert!(atr_wilder(&h, &l, &c, 5, 0.0, 1.0)
            .unwrap()
            .iter()
            .all(|v| v.is_nan()));
    }
}
