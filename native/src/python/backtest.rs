//! Bindings for `crate::backtest`: the simulation kernel.

use numpy::{IntoPyArray, PyReadonlyArray1};
use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::backtest::{self, Inputs, Params, Sizing, StopMode};

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

/// Add this domain's names to the module.
pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    Ok(())
}
