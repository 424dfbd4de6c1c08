//! Bindings for `crate::indicators`: EMA filter, EMA cross, Wilder ATR.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::indicators;

/// EMA recursion `y[t] = alpha * x[t] + (1 - alpha) * y[t-1]`, `y[-1] = seed`.
#[pyfunction]
fn ema_filter<'py>(
    py: Python<'py>,
    x: PyReadonlyArray1<'py, f64>,
    alpha: f64,
    seed: f64,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let xs = x.as_slice()?;
    let out = py.detach(|| indicators::ema_filter(xs, alpha, seed));
    Ok(out.into_pyarray(py))
}

/// `sign(EMA(x, fast) - EMA(x, slow))` per bar as int8, 0 during the warm-up; None on NaN.
#[pyfunction]
fn ema_cross<'py>(
    py: Python<'py>,
    x: PyReadonlyArray1<'py, f64>,
    fast: usize,
    slow: usize,
) -> PyResult<Option<Bound<'py, PyArray1<i8>>>> {
    let xs = x.as_slice()?;
    let out = py.detach(|| indicators::ema_cross(xs, fast, slow));
    Ok(out.map(|v| v.into_pyarray(py)))
}

/// `scale x` Wilder ATR of `period` bars, seeded with `seed`; None on NaN prices.
#[pyfunction]
fn atr_wilder<'py>(
    py: Python<'py>,
    high: PyReadonlyArray1<'py, f64>,
    low: PyReadonlyArray1<'py, f64>,
    close: PyReadonlyArray1<'py, f64>,
    period: usize,
    seed: f64,
    scale: f64,
) -> PyResult<Option<Bound<'py, PyArray1<f64>>>> {
    let (h, l, c) = (high.as_slice()?, low.as_slice()?, close.as_slice()?);
    let out = py.detach(|| indicators::atr_wilder(h, l, c, period, seed, scale));
    Ok(out.map(|v| v.into_pyarray(py)))
}

/// Add this domain's names to the module.
pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(ema_filter, m)?)?;
    m.add_function(wrap_pyfunction!(ema_cross, m)?)?;
    m.add_function(wrap_pyfunction!(atr_wilder, m)?)?;
    Ok(())
}
