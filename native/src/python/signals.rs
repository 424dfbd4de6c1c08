//! Bindings for `crate::signals`: the three strategies' signals one bar at a time, each a
//! class with `update(high, low, close) -> int`, `stop_distance`, and `run` (arrays through
//! `update`: the signals and stop distances per bar).

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use super::incremental::{bad, refused, same_length};
use crate::indicators::incremental::IndicatorError;
use crate::signals::{BollingerReversion, DonchianBreakout, EmaCrossover};

type RunOutput<'py> = (Bound<'py, PyArray1<i8>>, Bound<'py, PyArray1<f64>>);

/// Feed `high`, `low`, `close` through `update`, collecting signals and stop distances.
fn run_bars<'py>(
    py: Python<'py>,
    what: &str,
    arrays: [&PyReadonlyArray1<'py, f64>; 3],
    mut update: impl FnMut(f64, f64, f64) -> Result<(i8, f64), IndicatorError>,
) -> PyResult<RunOutput<'py>> {
    let [h, l, c] = same_length(what, arrays)?;
    let (mut sig, mut stop) = (Vec::with_capacity(h.len()), Vec::with_capacity(h.len()));
    for (i, ((&h, &l), &c)) in h.iter().zip(l).zip(c).enumerate() {
        let (a, d) = update(h, l, c).map_err(|e| refused(what, Some(i), e))?;
        sig.push(a);
        stop.push(d);
    }
    Ok((sig.into_pyarray(py), stop.into_pyarray(py)))
}

/// `MomentumStrategy` (`ema_crossover`) one bar at a time.
#[pyclass(module = "workbench_native._native", name = "EmaCrossoverSignal")]
struct PyEmaCrossover(EmaCrossover);

#[pymethods]
impl PyEmaCrossover {
    #[new]
    #[pyo3(signature = (*, fast_period, slow_period, atr_period, atr_stop_mult, allow_short))]
    fn new(
        fast_period: usize,
        slow_period: usize,
        atr_period: usize,
        atr_stop_mult: f64,
        allow_short: bool,
    ) -> PyResult<Self> {
        EmaCrossover::new(
            fast_period,
            slow_period,
            atr_period,
            atr_stop_mult,
            allow_short,
        )
        .map(PyEmaCrossover)
        .ok_or_else(|| bad("EmaCrossoverSignal", "periods must be >= 1"))
    }

    fn update(&mut self, high: f64, low: f64, close: f64) -> PyResult<i8> {
        self.0
            .update(high, low, close)
            .map_err(|e| refused("EmaCrossoverSignal", None, e))
    }

    #[getter]
    fn stop_distance(&self) -> f64 {
        self.0.stop_distance()
    }

    fn run<'py>(
        &mut self,
        py: Python<'py>,
        high: PyReadonlyArray1<'py, f64>,
        low: PyReadonlyArray1<'py, f64>,
        close: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<RunOutput<'py>> {
        let s = &mut self.0;
        run_bars(
            py,
            "EmaCrossoverSignal.run",
            [&high, &low, &close],
            |h, l, c| Ok((s.update(h, l, c)?, s.stop_distance())),
        )
    }
}

/// `MeanReversionStrategy` (`bollinger_reversion`) one bar at a time.
#[pyclass(module = "workbench_native._native", name = "BollingerReversionSignal")]
struct PyBollingerReversion(BollingerReversion);

#[pymethods]
impl PyBollingerReversion {
    #[new]
    #[pyo3(signature = (*, period, num_std, exit_z, atr_period, atr_stop_mult, allow_short))]
    fn new(
        period: usize,
        num_std: f64,
        exit_z: f64,
        atr_period: usize,
        atr_stop_mult: f64,
        allow_short: bool,
    ) -> PyResult<Self> {
        BollingerReversion::new(
            period,
            num_std,
            exit_z,
            atr_period,
            atr_stop_mult,
            allow_short,
        )
        .map(PyBollingerReversion)
        .ok_or_else(|| {
            bad(
                "BollingerReversionSignal",
                "period must be >= 2, atr_period >= 1",
            )
        })
    }

    fn update(&mut self, high: f64, low: f64, close: f64) -> PyResult<i8> {
        self.0
            .update(high, low, close)
            .map_err(|e| refused("BollingerReversionSignal", None, e))
    }

    #[getter]
    fn stop_distance(&self) -> f64 {
        self.0.stop_distance()
    }

    fn run<'py>(
        &mut self,
        py: Python<'py>,
        high: PyReadonlyArray1<'py, f64>,
        low: PyReadonlyArray1<'py, f64>,
        close: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<RunOutput<'py>> {
        let s = &mut self.0;
        run_bars(
            py,
            "BollingerReversionSignal.run",
            [&high, &low, &close],
            |h, l, c| Ok((s.update(h, l, c)?, s.stop_distance())),
        )
    }
}

/// `BreakoutStrategy` (`donchian_breakout`) one bar at a time.
#[pyclass(module = "workbench_native._native", name = "DonchianBreakoutSignal")]
struct PyDonchianBreakout(DonchianBreakout);

#[pymethods]
impl PyDonchianBreakout {
    #[new]
    #[pyo3(signature = (*, entry_period, exit_period, atr_period, atr_stop_mult, allow_short))]
    fn new(
        entry_period: usize,
        exit_period: usize,
        atr_period: usize,
        atr_stop_mult: f64,
        allow_short: bool,
    ) -> PyResult<Self> {
        DonchianBreakout::new(
            entry_period,
            exit_period,
            atr_period,
            atr_stop_mult,
            allow_short,
        )
        .map(PyDonchianBreakout)
        .ok_or_else(|| bad("DonchianBreakoutSignal", "periods must be >= 1"))
    }

    fn update(&mut self, high: f64, low: f64, close: f64) -> PyResult<i8> {
        self.0
            .update(high, low, close)
            .map_err(|e| refused("DonchianBreakoutSignal", None, e))
    }

    #[getter]
    fn stop_distance(&self) -> f64 {
        self.0.stop_distance()
    }

    fn run<'py>(
        &mut self,
        py: Python<'py>,
        high: PyReadonlyArray1<'py, f64>,
        low: PyReadonlyArray1<'py, f64>,
        close: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<RunOutput<'py>> {
        let s = &mut self.0;
        run_bars(
            py,
            "DonchianBreakoutSignal.run",
            [&high, &low, &close],
            |h, l, c| Ok((s.update(h, l, c)?, s.stop_distance())),
        )
    }
}

/// Add this domain's names to the module.
pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyEmaCrossover>()?;
    m.add_class::<PyBollingerReversion>()?;
    m.add_class::<PyDonchianBreakout>()?;
    Ok(())
}
