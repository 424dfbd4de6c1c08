//! Recursive filters for indicators (EMA, Wilder smoothing) over f64 series.

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
}
