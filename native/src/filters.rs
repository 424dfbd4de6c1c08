//! Recursive filters for indicators (EMA, Wilder smoothing) over f64 series.
//!
//! The fused kernels ([`ema_cross`], [`atr_wilder`]) compute exactly what the NumPy
//! compositions in `workbench.strategies.indicators` compute (the same operations in the same
//! order, so the same bits: a test holds them to it) in one pass without intermediate arrays.
//! They return `None` when the input holds a NaN or an infinity, for the caller's general path
//! to handle.

/// `y[t] = alpha * x[t] + (1 - alpha) * y[t-1]`, with `y[-1] = seed`.
///
/// The same recursion as pandas' `ewm(adjust=False)`; a NaN input propagates.
pub fn ema_filter(x: &[f64], alpha: f64, seed: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(x.len());
    let keep = 1.0 - alpha;
    let mut y = seed;
    for &v in x {
        y = alpha * v + keep * y;
        out.push(y);
    }
    out
}

/// The sign of `EMA(x, fast) - EMA(x, slow)` per bar (`+1`, `-1`, `0` when equal), `0` until
/// both averages are defined (the first `max(fast, slow) - 1` bars).
///
/// Each EMA is `alpha = 2 / (span + 1)` seeded with `x[0]`, as [`ema_filter`] with
/// `seed = x[0]`. `None` when `x` holds a NaN or an infinity, or a span is 0.
pub fn ema_cross(x: &[f64], fast: usize, slow: usize) -> Option<Vec<i8>> {
    if fast == 0 || slow == 0 {
        return None;
    }
    let n = x.len();
    let mut out = vec![0i8; n];
    let Some(&first) = x.first() else {
        return Some(out);
    };
    let (af, asl) = (2.0 / (fast as f64 + 1.0), 2.0 / (slow as f64 + 1.0));
    let (kf, ks) = (1.0 - af, 1.0 - asl);
    let (mut yf, mut ys) = (first, first);
    let warm = (fast.max(slow) - 1).min(n);
    let mut nan = false;
    for &v in &x[..warm] {
        nan |= !v.is_finite();
        yf = af * v + kf * yf;
        ys = asl * v + ks * ys;
    }
    for (o, &v) in out[warm..].iter_mut().zip(&x[warm..]) {
        nan |= !v.is_finite();
        yf = af * v + kf * yf;
        ys = asl * v + ks * ys;
        *o = (yf > ys) as i8 - (yf < ys) as i8;
    }
    (!nan).then_some(out)
}

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
    fn matches_the_recursion_by_hand() {
        let y = ema_filter(&[1.0, 2.0, 3.0], 0.5, 1.0);
        assert_eq!(y, vec![1.0, 1.5, 2.25]);
    }

    #[test]
    fn alpha_one_is_identity() {
        assert_eq!(ema_filter(&[4.0, -2.0], 1.0, 0.0), vec![4.0, -2.0]);
    }

    #[test]
    fn ema_cross_is_the_sign_of_the_two_filters() {
        let x: Vec<f64> = (0..200)
            .map(|i| ((i as f64) * 0.37).sin() * 5.0 + 70.0)
            .collect();
        let sig = ema_cross(&x, 3, 8).unwrap();
        let f = ema_filter(&x, 2.0 / 4.0, x[0]);
        let s = ema_filter(&x, 2.0 / 9.0, x[0]);
        for t in 0..x.len() {
            let want = if t < 7 {
                0
            } else {
                (f[t] > s[t]) as i8 - (f[t] < s[t]) as i8
            };
            assert_eq!(sig[t], want, "bar {t}");
        }
        assert!(sig.contains(&1) && sig.contains(&-1));
    }

    #[test]
    fn ema_cross_refuses_nan_and_handles_short_series() {
        assert_eq!(ema_cross(&[1.0, f64::NAN, 2.0], 1, 2), None);
        assert_eq!(ema_cross(&[1.0, f64::INFINITY, 2.0], 1, 2), None);
        assert_eq!(ema_cross(&[1.0, 2.0], 3, 5), Some(vec![0, 0]));
        assert_eq!(ema_cross(&[], 3, 5), Some(vec![]));
    }

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
