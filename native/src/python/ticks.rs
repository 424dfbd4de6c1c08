//! Bindings for `crate::ticks`: fixed-point prices and whole ticks.

use pyo3::prelude::*;

use crate::ticks;

/// Convert a Databento fixed-point price (1e-9) to whole ticks; None when off the grid.
#[pyfunction]
fn fixed_to_ticks(price: i64, tick_fixed: i64) -> Option<i64> {
    ticks::fixed_to_ticks(price, tick_fixed)
}

/// Convert whole ticks to a Databento fixed-point price (1e-9).
#[pyfunction]
fn ticks_to_fixed(ticks: i64, tick_fixed: i64) -> i64 {
    ticks::ticks_to_fixed(ticks, tick_fixed)
}

/// Add this domain's names to the module.
pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("FIXED_PRICE_SCALE", ticks::FIXED_PRICE_SCALE)?;
    m.add_function(wrap_pyfunction!(fixed_to_ticks, m)?)?;
    m.add_function(wrap_pyfunction!(ticks_to_fixed, m)?)?;
    Ok(())
}
