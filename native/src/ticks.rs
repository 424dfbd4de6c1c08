//! Prices on the tick grid, shared by every kernel.
//!
//! Databento prices are `i64` with 1 unit = 1e-9; kernels work on integer ticks. Bars come
//! from Python as f64 prices and are turned into ticks as NumPy would (`rint(price / tick)`).

/// Databento fixed-point scale: 1 price unit = 1e-9.
pub const FIXED_PRICE_SCALE: i64 = 1_000_000_000;

/// Convert a Databento fixed-point price to whole ticks.
///
/// Returns `None` when the price is not on the tick grid, so that off-grid data
/// is reported instead of silently rounded.
pub fn fixed_to_ticks(price: i64, tick_fixed: i64) -> Option<i64> {
    if tick_fixed <= 0 || price % tick_fixed != 0 {
        return None;
    }
    Some(price / tick_fixed)
}

/// Convert whole ticks back to a Databento fixed-point price.
pub fn ticks_to_fixed(ticks: i64, tick_fixed: i64) -> i64 {
    ticks * tick_fixed
}

/// 1.5 x 2^52: adding and subtracting it rounds an f64 of magnitude < 2^51 to the nearest
/// integer, ties to even (the FPU's default mode): NumPy's `rint`, without a libm call.
const RINT_MAGIC: f64 = 6_755_399_441_055_744.0;

#[inline]
fn rint(x: f64) -> f64 {
    if x.abs() < 2_251_799_813_685_248.0 {
        (x + RINT_MAGIC) - RINT_MAGIC
    } else {
        x.round_ties_even()
    }
}

/// `rint(price / tick)` as whole ticks, with a multiplication by `inv = 1 / tick` instead of
/// the division where that cannot change the result.
///
/// `price * inv` is within a few ulps of `price / tick`; when it lies within a quarter tick of
/// an integer (every price on the tick grid), both round to that integer. Only a price far off
/// the grid (or huge, or NaN) takes the exact division. A division costs several times a
/// multiplication, and the kernel converts up to four prices per bar.
#[inline]
pub fn price_ticks(price: f64, tick: f64, inv: f64) -> i64 {
    let q = price * inv;
    if q.abs() < 1e15 {
        let r = (q + RINT_MAGIC) - RINT_MAGIC;
        if (q - r).abs() < 0.25 {
            return r as i64;
        }
    }
    rint(price / tick) as i64
}

/// Prices to whole ticks: `rint(price / tick)` (ties to even, as NumPy's `rint`).
pub fn prices_to_ticks(prices: &[f64], tick: f64) -> Vec<i64> {
    let inv = 1.0 / tick;
    prices.iter().map(|&p| price_ticks(p, tick, inv)).collect()
}

/// A stop distance (price units, NaN = none) in whole ticks, rounded up:
/// `ceil(max(d / tick, 0) - 1e-9)`, 0 for NaN.
#[inline]
pub fn distance_ticks(d: f64, tick: f64) -> i64 {
    let t = d / tick;
    if t.is_nan() {
        0
    } else {
        (t.max(0.0) - 1e-9).ceil() as i64
    }
}

/// [`distance_ticks`] over a slice.
pub fn distances_to_ticks(dist: &[f64], tick: f64) -> Vec<i64> {
    dist.iter().map(|&d| distance_ticks(d, tick)).collect()
}

/// `ceil(x - 1e-9)`: round a count up, forgiving float noise just above an integer.
#[inline]
pub fn ceil_eps(x: f64) -> i64 {
    (x - 1e-9).ceil() as i64
}

/// `floor(x + 1e-9)`: round a count down, forgiving float noise just below an integer.
#[inline]
pub fn floor_eps(x: f64) -> i64 {
    (x + 1e-9).floor() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    const MCL_TICK: i64 = 10_000_000; // $0.01

    #[test]
    fn round_trips_on_grid_prices() {
        let price = 71_230_000_000; // $71.23
        let ticks = fixed_to_ticks(price, MCL_TICK).unwrap();
        assert_eq!(ticks, 7_123);
        assert_eq!(ticks_to_fixed(ticks, MCL_TICK), price);
    }

    #[test]
    fn rejects_off_grid_prices_and_bad_ticks() {
        assert_eq!(fixed_to_ticks(71_235_000_000, MCL_TICK), None);
        assert_eq!(fixed_to_ticks(71_230_000_000, 0), None);
    }

    #[test]
    fn negative_prices_stay_exact() {
        // WTI settled at -$37.63 on 2020-04-20.
        let price = -37_630_000_000;
        assert_eq!(fixed_to_ticks(price, MCL_TICK), Some(-3_763));
    }

    #[test]
    fn converts_prices_and_distances_to_ticks() {
        assert_eq!(
            prices_to_ticks(&[71.23, 0.015, -37.63], 0.01),
            vec![7123, 2, -3763]
        );
        // ties to even, like numpy.rint
        assert_eq!(
            prices_to_ticks(&[0.5, 1.5, 2.5, -0.5, -1.5], 1.0),
            vec![0, 2, 2, 0, -2]
        );
        assert_eq!(
            distances_to_ticks(&[0.101, f64::NAN, -1.0, 0.1], 0.01),
            vec![11, 0, 0, 10]
        );
    }
}
