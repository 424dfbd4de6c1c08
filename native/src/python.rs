//! PyO3 bindings: the private module `workbench_native._native`.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::backtest::{self, Inputs, Params, Sizing, StopMode};

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

fn get<'py, T: FromPyObject<'py>>(d: &Bound<'py, PyDict>, key: &str) -> PyResult<T> {
    match d.get_item(key)? {
        Some(v) => v.extract::<T>(),
        None => Err(PyKeyError::new_err(format!(
            "simulate: missing parameter {key:?}"
        ))),
    }
}

fn params_from(d: &Bound<'_, PyDict>) -> PyResult<Params> {
    let stop_mode = StopMode::from_index(get(d, "stop_mode")?)
        .ok_or_else(|| PyValueError::new_err("simulate: bad stop_mode"))?;
    let sizing = Sizing::from_index(get(d, "sizing")?)
        .ok_or_else(|| PyValueError::new_err("simulate: bad sizing"))?;
    Ok(Params {
        initial_capital: get(d, "initial_capital")?,
        commission: get(d, "commission")?,
        slippage_ticks: get(d, "slippage_ticks")?,
        tick_value: get(d, "tick_value")?,
        tick_size: get(d, "tick_size")?,
        multiplier: get(d, "multiplier")?,
        use_risk: get(d, "use_risk")?,
        roll: get(d, "roll")?,
        fixed_contracts: get(d, "fixed_contracts")?,
        stop_mode,
        stop_pct: get(d, "stop_pct")?,
        stop_usd: get(d, "stop_usd")?,
        target_r: get(d, "target_r")?,
        sizing,
        sizing_contracts: get(d, "sizing_contracts")?,
        kelly_fraction: get(d, "kelly_fraction")?,
        kelly_cap: get(d, "kelly_cap")?,
        kelly_min_trades: get(d, "kelly_min_trades")?,
        risk_per_trade: get(d, "risk_per_trade")?,
        daily_loss_limit: get(d, "daily_loss_limit")?,
        max_position: get(d, "max_position")?,
        max_exposure: get(d, "max_exposure")?,
        max_consecutive_losses: get(d, "max_consecutive_losses")?,
        intraday_drawdown_limit: get(d, "intraday_drawdown_limit")?,
        max_drawdown_limit: get(d, "max_drawdown_limit")?,
        cooloff_days: get(d, "cooloff_days")?,
    })
}

/// EMA recursion `y[t] = alpha * x[t] + (1 - alpha) * y[t-1]`, `y[-1] = seed`.
#[pyfunction]
fn ema_filter<'py>(
    py: Python<'py>,
    x: PyReadonlyArray1<'py, f64>,
    alpha: f64,
    seed: f64,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let xs = x.as_slice()?;
    let out = py.detach(|| crate::filters::ema_filter(xs, alpha, seed));
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
    let out = py.detach(|| crate::filters::ema_cross(xs, fast, slow));
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
    let out = py.detach(|| crate::filters::atr_wilder(h, l, c, period, seed, scale));
    Ok(out.map(|v| v.into_pyarray(py)))
}

/// Index of the first timestamp not greater than the one before it, or None.
#[pyfunction]
fn first_not_increasing(ts: PyReadonlyArray1<'_, i64>) -> PyResult<Option<usize>> {
    Ok(crate::bars::first_not_increasing(ts.as_slice()?))
}

/// Index of the first NaN or infinity, or None.
#[pyfunction]
fn first_not_finite(x: PyReadonlyArray1<'_, f64>) -> PyResult<Option<usize>> {
    Ok(crate::bars::first_not_finite(x.as_slice()?))
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
    Ok(crate::bars::run_starts(ts.as_slice()?, bucket_ns).into_pyarray(py))
}

/// `(max drawdown in USD, as a fraction of the peak or None)` below the running peak that
/// starts at `floor`; None for an empty series or one with NaN.
#[pyfunction]
fn max_drawdown(
    values: PyReadonlyArray1<'_, f64>,
    floor: f64,
) -> PyResult<Option<(f64, Option<f64>)>> {
    Ok(crate::stats::max_drawdown(values.as_slice()?, floor))
}

fn optional_slice<'a>(a: &'a Option<PyReadonlyArray1<'_, bool>>) -> PyResult<Option<&'a [bool]>> {
    a.as_ref()
        .map(|v| v.as_slice())
        .transpose()
        .map_err(Into::into)
}

/// Run the backtest state machine over per-bar arrays (see `workbench.backtest.simulate`).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (open, high, low, close, signal, stop_distance, day_starts, rolls, entry_ok, force_flat, params))]
fn simulate<'py>(
    py: Python<'py>,
    open: PyReadonlyArray1<'py, f64>,
    high: PyReadonlyArray1<'py, f64>,
    low: PyReadonlyArray1<'py, f64>,
    close: PyReadonlyArray1<'py, f64>,
    signal: PyReadonlyArray1<'py, i8>,
    stop_distance: PyReadonlyArray1<'py, f64>,
    day_starts: PyReadonlyArray1<'py, i64>,
    rolls: PyReadonlyArray1<'py, i64>,
    entry_ok: Option<PyReadonlyArray1<'py, bool>>,
    force_flat: Option<PyReadonlyArray1<'py, bool>>,
    params: &Bound<'py, PyDict>,
) -> PyResult<Bound<'py, PyDict>> {
    let p = params_from(params)?;
    let x = Inputs {
        tick: p.tick_size,
        inv_tick: 1.0 / p.tick_size,
        open: open.as_slice()?,
        high: high.as_slice()?,
        low: low.as_slice()?,
        close: close.as_slice()?,
        signal: signal.as_slice()?,
        stop_distance: stop_distance.as_slice()?,
        day_starts: day_starts.as_slice()?,
        rolls: rolls.as_slice()?,
        entry_ok: optional_slice(&entry_ok)?,
        force_flat: optional_slice(&force_flat)?,
    };
    x.check()
        .map_err(|e| PyValueError::new_err(format!("simulate: {e}")))?;
    let out = py.detach(|| backtest::simulate(&x, &p));
    let d = PyDict::new(py);
    d.set_item("equity", out.equity.into_pyarray(py))?;
    let t = PyDict::new(py);
    let tr = out.trades;
    t.set_item("entry_bar", tr.entry_bar.into_pyarray(py))?;
    t.set_item("exit_bar", tr.exit_bar.into_pyarray(py))?;
    t.set_item("side", tr.side.into_pyarray(py))?;
    t.set_item("contracts", tr.contracts.into_pyarray(py))?;
    t.set_item("entry_px", tr.entry_px.into_pyarray(py))?;
    t.set_item("exit_px", tr.exit_px.into_pyarray(py))?;
    t.set_item("gross_pnl", tr.gross_pnl.into_pyarray(py))?;
    t.set_item("commission", tr.commission.into_pyarray(py))?;
    t.set_item("slippage_cost", tr.slippage_cost.into_pyarray(py))?;
    t.set_item("net_pnl", tr.net_pnl.into_pyarray(py))?;
    t.set_item("exit_reason", tr.exit_reason.into_pyarray(py))?;
    t.set_item("exit_at_close", tr.exit_at_close.into_pyarray(py))?;
    d.set_item("trades", t)?;
    let e = PyDict::new(py);
    let ev = out.events;
    e.set_item("bar", ev.bar.into_pyarray(py))?;
    e.set_item("action", ev.action.into_pyarray(py))?;
    e.set_item("reason", ev.reason.into_pyarray(py))?;
    e.set_item("requested", ev.requested.into_pyarray(py))?;
    e.set_item("approved", ev.approved.into_pyarray(py))?;
    d.set_item("events", e)?;
    d.set_item("trades_rejected", out.trades_rejected)?;
    d.set_item("circuit_breaker_triggered", out.circuit_breaker_triggered)?;
    Ok(d)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", crate::VERSION)?;
    m.add("FIXED_PRICE_SCALE", crate::ticks::FIXED_PRICE_SCALE)?;
    m.add_function(wrap_pyfunction!(fixed_to_ticks, m)?)?;
    m.add_function(wrap_pyfunction!(ticks_to_fixed, m)?)?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    m.add_function(wrap_pyfunction!(ema_filter, m)?)?;
    m.add_function(wrap_pyfunction!(ema_cross, m)?)?;
    m.add_function(wrap_pyfunction!(atr_wilder, m)?)?;
    m.add_function(wrap_pyfunction!(first_not_increasing, m)?)?;
    m.add_function(wrap_pyfunction!(first_not_finite, m)?)?;
    m.add_function(wrap_pyfunction!(run_starts, m)?)?;
    m.add_function(wrap_pyfunction!(max_drawdown, m)?)?;
    Ok(())
}
