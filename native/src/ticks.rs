//! Fixed-point price helpers shared by every kernel.
//!
//! Databento prices are `i64` with 1 unit = 1e-9; kernels work on integer ticks.

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
}
