//! Bindings for `crate::series`: whole-series scans over bar arrays.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::series;

/// Index of the first timestamp not greater than the one before it, or None.
#[pyfunction]
fn first_not_increasing(ts: PyReadonlyArray1<'_, i64>) -> PyResult<Option<usize>> {
    Ok(series::first_not_increasing(ts.as_slice()?))
}

/// Index of the first NaN or infinity, or None.
#[pyfunction]
fn first_not_finite(x: PyReadonlyArray1<'_, f64>) -> PyResult<Option<usize>> {
    Ok(series::first_not_finite(x.as_slice()?))
}

/// Start index of each run of timestamps in the same `bucket_ns` bucket.
#[pyfunction]
fn run_starts<'py>(
    py: Python<'py>,
    ts: PyReadonlyArray1<'py, i64>,
    bucket_ns: i64,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    if bucket_ns <= 0 {
        return Err(PyValueError::new_err(
            "run_starts: bucket_ns must be positive",
        ));
    }
    Ok(series::run_starts(ts.as_slice()?, bucket_ns).into_pyarray(py))
}

/// Add this domain's names to the module.
pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(first_not_increasing, m)?)?;
    m.add_function(wrap_pyfunction!(first_not_finite, m)?)?;
    m.add_function(wrap_pyfunction!(run_starts, m)?)?;
    Ok(())
}
