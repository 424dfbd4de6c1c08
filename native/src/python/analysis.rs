//! Bindings for `crate::analysis`: statistics of equity series.

use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

use crate::analysis;

/// `(max drawdown in USD, as a fraction of the peak or None)` below the running peak that
/// starts at `floor`; None for an empty series or one with NaN.
#[pyfunction]
fn max_drawdown(
    values: PyReadonlyArray1<'_, f64>,
    floor: f64,
) -> PyResult<Option<(f64, Option<f64>)>> {
    Ok(analysis::max_drawdown(values.as_slice()?, floor))
}

/// Add this domain's names to the module.
pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(max_drawdown, m)?)?;
    Ok(())
}
