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
}
