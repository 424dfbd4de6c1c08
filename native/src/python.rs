//! PyO3 bindings: the private module `workbench_native._native`.

use pyo3::prelude::*;

/// Convert a Databento fixed-point price (1e-9) to whole ticks; None when off the grid.
#[pyfunction]
fn fixed_to_ticks(price: i64, tick_fixed: i64) -> Option<i64> {
    crate::ticks::fixed_to_ticks(price, tick_fixed)
}

/// Convert whole ticks to a Databento fixed-point price (1e-9).
#[pyfunction]
fn ticks_to_fixed(ticks: i64, tick_fixed: i64) -> i64 {
    crate::ticks::ticks_to_fixed(ticks, tick_fixed)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", crate::VERSION)?;
    m.add("FIXED_PRICE_SCALE", crate::ticks::FIXED_PRICE_SCALE)?;
    m.add_function(wrap_pyfunction!(fixed_to_ticks, m)?)?;
    m.add_function(wrap_pyfunction!(ticks_to_fixed, m)?)?;
    Ok(())
}
