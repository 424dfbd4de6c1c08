//! Bindings for `crate::indicators::incremental`: the indicators one bar at a time, each a
//! class with `update` (one value) and `run` (a whole array through `update`, for tests and
//! warm-ups).

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::indicators::incremental::{
    Donchian, Ema, IndicatorError, RollingMax, RollingMeanStd, RollingMin, WilderAtr,
};

type F64Array<'py> = Bound<'py, PyArray1<f64>>;

/// `IndicatorError` as a `ValueError` naming the class (and the index in `run`).
pub(super) fn refused(what: &str, at: Option<usize>, e: IndicatorError) -> PyErr {
    match at {
        Some(i) => PyValueError::new_err(format!("{what}: at index {i}, {e}")),
        None => PyValueError::new_err(format!("{what}: {e}")),
    }
}

/// A `ValueError` for a bad constructor argument.
pub(super) fn bad(what: &str, message: &str) -> PyErr {
    PyValueError::new_err(format!("{what}: {message}"))
}

/// The slices of equal-length arrays, or a `ValueError` naming `what`.
pub(super) fn same_length<'a, const N: usize>(
    what: &str,
    arrays: [&'a PyReadonlyArray1<'_, f64>; N],
) -> PyResult<[&'a [f64]; N]> {
    let mut slices: [&[f64]; N] = [&[]; N];
    for (s, a) in slices.iter_mut().zip(arrays) {
        *s = a.as_slice()?;
    }
    if slices.windows(2).any(|w| w[0].len() != w[1].len()) {
        let lengths = slices.map(|s| s.len());
        return Err(bad(what, &format!("arrays differ in length: {lengths:?}")));
    }
    Ok(slices)
}

/// `ema(x, span, min_periods=...)` one value at a time.
#[pyclass(module = "workbench_native._native", name = "IncrementalEma")]
struct PyEma(Ema);

#[pymethods]
impl PyEma {
    #[new]
    #[pyo3(signature = (span, *, min_periods=None))]
    fn new(span: usize, min_periods: Option<usize>) -> PyResult<Self> {
        Ema::new(span, min_periods.unwrap_or(span))
            .map(PyEma)
            .ok_or_else(|| bad("IncrementalEma", "span and min_periods must be >= 1"))
    }

    fn update(&mut self, x: f64) -> PyResult<f64> {
        self.0
            .update(x)
            .map_err(|e| refused("IncrementalEma", None, e))
    }

    #[getter]
    fn value(&self) -> f64 {
        self.0.value()
    }

    fn run<'py>(
        &mut self,
        py: Python<'py>,
        x: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<F64Array<'py>> {
        let xs = x.as_slice()?;
        let mut out = Vec::with_capacity(xs.len());
        for (i, &v) in xs.iter().enumerate() {
            out.push(
                self.0
                    .update(v)
                    .map_err(|e| refused("IncrementalEma", Some(i), e))?,
            );
        }
        Ok(out.into_pyarray(py))
    }
}

/// `atr(high, low, close, period, scale=...)` one bar at a time.
#[pyclass(module = "workbench_native._native", name = "IncrementalAtr")]
struct PyAtr(WilderAtr);

#[pymethods]
impl PyAtr {
    #[new]
    #[pyo3(signature = (period=14, *, scale=1.0))]
    fn new(period: usize, scale: f64) -> PyResult<Self> {
        WilderAtr::new(period, scale)
            .map(PyAtr)
            .ok_or_else(|| bad("IncrementalAtr", "period must be >= 1"))
    }

    fn update(&mut self, high: f64, low: f64, close: f64) -> PyResult<f64> {
        self.0
            .update(high, low, close)
            .map_err(|e| refused("IncrementalAtr", None, e))
    }

    #[getter]
    fn value(&self) -> f64 {
        self.0.value()
    }

    fn run<'py>(
        &mut self,
        py: Python<'py>,
        high: PyReadonlyArray1<'py, f64>,
        low: PyReadonlyArray1<'py, f64>,
        close: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<F64Array<'py>> {
        let [h, l, c] = same_length("IncrementalAtr.run", [&high, &low, &close])?;
        let mut out = Vec::with_capacity(h.len());
        for (i, ((&h, &l), &c)) in h.iter().zip(l).zip(c).enumerate() {
            let v = self.0.update(h, l, c);
            out.push(v.map_err(|e| refused("IncrementalAtr", Some(i), e))?);
        }
        Ok(out.into_pyarray(py))
    }
}

/// `rolling_mean_std(x, period, ddof=...)` (SMA and Bollinger deviation) one value at a time.
#[pyclass(module = "workbench_native._native", name = "IncrementalMeanStd")]
struct PyMeanStd(RollingMeanStd);

#[pymethods]
impl PyMeanStd {
    #[new]
    #[pyo3(signature = (period, *, ddof=0))]
    fn new(period: usize, ddof: usize) -> PyResult<Self> {
        RollingMeanStd::new(period, ddof)
            .map(PyMeanStd)
            .ok_or_else(|| {
                bad(
                    "IncrementalMeanStd",
                    "period must be >= 1 and ddof < period",
                )
            })
    }

    fn update(&mut self, x: f64) -> (f64, f64) {
        self.0.update(x)
    }

    #[getter]
    fn mean(&self) -> f64 {
        self.0.mean()
    }

    #[getter]
    fn std(&self) -> f64 {
        self.0.std()
    }

    fn run<'py>(
        &mut self,
        py: Python<'py>,
        x: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<(F64Array<'py>, F64Array<'py>)> {
        let xs = x.as_slice()?;
        let (mut mean, mut std) = (Vec::with_capacity(xs.len()), Vec::with_capacity(xs.len()));
        for &v in xs {
            let (m, s) = self.0.update(v);
            mean.push(m);
            std.push(s);
        }
        Ok((mean.into_pyarray(py), std.into_pyarray(py)))
    }
}

/// `rolling_max(x, period)` one value at a time.
#[pyclass(module = "workbench_native._native", name = "IncrementalMax")]
struct PyMax(RollingMax);

#[pymethods]
impl PyMax {
    #[new]
    fn new(period: usize) -> PyResult<Self> {
        RollingMax::new(period)
            .map(PyMax)
            .ok_or_else(|| bad("IncrementalMax", "period must be >= 1"))
    }

    fn update(&mut self, x: f64) -> f64 {
        self.0.update(x)
    }

    fn run<'py>(
        &mut self,
        py: Python<'py>,
        x: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<F64Array<'py>> {
        let out: Vec<f64> = x.as_slice()?.iter().map(|&v| self.0.update(v)).collect();
        Ok(out.into_pyarray(py))
    }
}

/// `rolling_min(x, period)` one value at a time.
#[pyclass(module = "workbench_native._native", name = "IncrementalMin")]
struct PyMin(RollingMin);

#[pymethods]
impl PyMin {
    #[new]
    fn new(period: usize) -> PyResult<Self> {
        RollingMin::new(period)
            .map(PyMin)
            .ok_or_else(|| bad("IncrementalMin", "period must be >= 1"))
    }

    fn update(&mut self, x: f64) -> f64 {
        self.0.update(x)
    }

    fn run<'py>(
        &mut self,
        py: Python<'py>,
        x: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<F64Array<'py>> {
        let out: Vec<f64> = x.as_slice()?.iter().map(|&v| self.0.update(v)).collect();
        Ok(out.into_pyarray(py))
    }
}

/// `donchian(high, low, period)` one bar at a time.
#[pyclass(module = "workbench_native._native", name = "IncrementalDonchian")]
struct PyDonchian(Donchian);

#[pymethods]
impl PyDonchian {
    #[new]
    fn new(period: usize) -> PyResult<Self> {
        Donchian::new(period)
            .map(PyDonchian)
            .ok_or_else(|| bad("IncrementalDonchian", "period must be >= 1"))
    }

    fn update(&mut self, high: f64, low: f64) -> (f64, f64) {
        self.0.update(high, low)
    }

    fn run<'py>(
        &mut self,
        py: Python<'py>,
        high: PyReadonlyArray1<'py, f64>,
        low: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<(F64Array<'py>, F64Array<'py>)> {
        let [h, l] = same_length("IncrementalDonchian.run", [&high, &low])?;
        let (upper, lower) = h.iter().zip(l).map(|(&h, &l)| self.0.update(h, l)).unzip();
        Ok((Vec::into_pyarray(upper, py), Vec::into_pyarray(lower, py)))
    }
}

/// Add this domain's names to the module.
pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyEma>()?;
    m.add_class::<PyAtr>()?;
    m.add_class::<PyMeanStd>()?;
    m.add_class::<PyMax>()?;
    m.add_class::<PyMin>()?;
    m.add_class::<PyDonchian>()?;
    Ok(())
}
