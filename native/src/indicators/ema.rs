//! Exponential moving averages: the recursive filter and the fused EMA-cross signal.
//!
//! [`ema_cross`] computes exactly what the NumPy composition in
//! `workbench.strategies.indicators` computes (the same operations in the same order, so the
//! same bits: a test holds them to it) in one pass without intermediate arrays. It returns
//! `None` when the input holds a NaN or an infinity, for the caller's general path to handle.

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
}
