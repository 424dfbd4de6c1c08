//! Bindings for `crate::backtest`: the typed parameters (`BacktestParams`), the enums, the
//! record dtypes of trades and risk events, and `simulate`.

use numpy::{
    Element, IntoPyArray, PyArray1, PyArrayDescr, PyReadonlyArray1, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

use crate::backtest::records::{Field, FieldKind};
use crate::backtest::{
    self, Action, ExitReason, Inputs, Params, Reason, RiskEvent, Sizing, StopMode, Trade,
};

#[pymethods]
impl Params {
    #[new]
    #[pyo3(signature = (
        *,
        initial_capital,
        commission,
        slippage_ticks,
        tick_value,
        tick_size,
        multiplier,
        use_risk,
        roll,
        fixed_contracts,
        stop_mode,
        stop_pct,
        stop_usd,
        target_r,
        sizing,
        sizing_contracts,
        kelly_fraction,
        kelly_cap,
        kelly_min_trades,
        risk_per_trade,
        daily_loss_limit,
        max_position,
        max_exposure,
        max_consecutive_losses,
        intraday_drawdown_limit,
        max_drawdown_limit,
        cooloff_days,
        initial_margin = 0.0,
        maintenance_margin = 0.0,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn py_new(
        initial_capital: f64,
        commission: f64,
        slippage_ticks: i64,
        tick_value: f64,
        tick_size: f64,
        multiplier: f64,
        use_risk: bool,
        roll: bool,
        fixed_contracts: i64,
        stop_mode: StopMode,
        stop_pct: f64,
        stop_usd: f64,
        target_r: Option<f64>,
        sizing: Sizing,
        sizing_contracts: i64,
        kelly_fraction: f64,
        kelly_cap: f64,
        kelly_min_trades: i64,
        risk_per_trade: f64,
        daily_loss_limit: f64,
        max_position: i64,
        max_exposure: f64,
        max_consecutive_losses: i64,
        intraday_drawdown_limit: f64,
        max_drawdown_limit: f64,
        cooloff_days: i64,
        initial_margin: f64,
        maintenance_margin: f64,
    ) -> PyResult<Self> {
        if !(tick_size.is_finite() && tick_size > 0.0) {
            return Err(PyValueError::new_err(format!(
                "BacktestParams: tick_size must be a positive number, got {tick_size}"
            )));
        }
        if !(initial_margin >= 0.0 && maintenance_margin >= 0.0) {
            return Err(PyValueError::new_err(format!(
                "BacktestParams: initial_margin and maintenance_margin must be >= 0, got \
                 {initial_margin} and {maintenance_margin}"
            )));
        }
        Ok(Params {
            initial_capital,
            commission,
            slippage_ticks,
            tick_value,
            tick_size,
            multiplier,
            use_risk,
            roll,
            fixed_contracts,
            stop_mode,
            stop_pct,
            stop_usd,
            target_r,
            sizing,
            sizing_contracts,
            kelly_fraction,
            kelly_cap,
            kelly_min_trades,
            risk_per_trade,
            daily_loss_limit,
            max_position,
            max_exposure,
            max_consecutive_losses,
            intraday_drawdown_limit,
            max_drawdown_limit,
            cooloff_days,
            initial_margin,
            maintenance_margin,
        })
    }

    fn __repr__(&self) -> String {
        let py_bool = |b: bool| if b { "True" } else { "False" };
        let target = self
            .target_r
            .map_or_else(|| "None".to_string(), |r| format!("{r:?}"));
        format!(
            "BacktestParams(initial_capital={:?}, commission={:?}, slippage_ticks={}, \
             tick_value={:?}, tick_size={:?}, multiplier={:?}, use_risk={}, roll={}, \
             fixed_contracts={}, stop_mode=StopMode.{}, stop_pct={:?}, stop_usd={:?}, \
             target_r={}, sizing=Sizing.{}, sizing_contracts={}, kelly_fraction={:?}, \
             kelly_cap={:?}, kelly_min_trades={}, risk_per_trade={:?}, daily_loss_limit={:?}, \
             max_position={}, max_exposure={:?}, max_consecutive_losses={}, \
             intraday_drawdown_limit={:?}, max_drawdown_limit={:?}, cooloff_days={}, \
             initial_margin={:?}, maintenance_margin={:?})",
            self.initial_capital,
            self.commission,
            self.slippage_ticks,
            self.tick_value,
            self.tick_size,
            self.multiplier,
            py_bool(self.use_risk),
            py_bool(self.roll),
            self.fixed_contracts,
            stop_mode_name(self.stop_mode),
            self.stop_pct,
            self.stop_usd,
            target,
            sizing_name(self.sizing),
            self.sizing_contracts,
            self.kelly_fraction,
            self.kelly_cap,
            self.kelly_min_trades,
            self.risk_per_trade,
            self.daily_loss_limit,
            self.max_position,
            self.max_exposure,
            self.max_consecutive_losses,
            self.intraday_drawdown_limit,
            self.max_drawdown_limit,
            self.cooloff_days,
            self.initial_margin,
            self.maintenance_margin,
        )
    }
}

/// The Python name of a stop mode (`StopMode.FIXED_PCT`, ...).
fn stop_mode_name(m: StopMode) -> &'static str {
    match m {
        StopMode::None => "NONE",
        StopMode::FixedPct => "FIXED_PCT",
        StopMode::FixedUsd => "FIXED_USD",
        StopMode::Atr => "ATR",
        StopMode::TrailingAtr => "TRAILING_ATR",
        StopMode::TrailingPct => "TRAILING_PCT",
    }
}

/// The Python name of a sizing method (`Sizing.KELLY`, ...).
fn sizing_name(s: Sizing) -> &'static str {
    match s {
        Sizing::Fixed => "FIXED",
        Sizing::FixedFractional => "FIXED_FRACTIONAL",
        Sizing::Volatility => "VOLATILITY",
        Sizing::Kelly => "KELLY",
    }
}

/// A NumPy structured dtype for `fields` (little-endian scalars at the structs' offsets).
fn record_dtype<'py>(
    py: Python<'py>,
    fields: &[Field],
    itemsize: usize,
) -> PyResult<Bound<'py, PyArrayDescr>> {
    let spec = PyDict::new(py);
    spec.set_item("names", fields.iter().map(|f| f.name).collect::<Vec<_>>())?;
    let formats: Vec<&str> = fields
        .iter()
        .map(|f| match f.kind {
            FieldKind::I64 => "<i8",
            FieldKind::F64 => "<f8",
        })
        .collect();
    spec.set_item("formats", formats)?;
    spec.set_item(
        "offsets",
        fields.iter().map(|f| f.offset).collect::<Vec<_>>(),
    )?;
    spec.set_item("itemsize", itemsize)?;
    PyArrayDescr::new(py, &spec)
}

static TRADE_DTYPE: PyOnceLock<Py<PyArrayDescr>> = PyOnceLock::new();
static RISK_EVENT_DTYPE: PyOnceLock<Py<PyArrayDescr>> = PyOnceLock::new();

// SAFETY: `Trade` is `#[repr(C)]`, made of i64 and f64 fields only (any bit pattern is a
// valid value), and its dtype lists every field at its offset with the struct's size (a
// cargo test holds `Trade::fields` to the layout).
unsafe impl Element for Trade {
    const IS_COPY: bool = true;

    fn get_dtype(py: Python<'_>) -> Bound<'_, PyArrayDescr> {
        TRADE_DTYPE
            .get_or_init(py, || {
                record_dtype(py, &Trade::fields(), std::mem::size_of::<Trade>())
                    .expect("the trade record dtype")
                    .unbind()
            })
            .bind(py)
            .clone()
    }

    fn clone_ref(&self, _py: Python<'_>) -> Self {
        *self
    }
}

// SAFETY: as for `Trade`: `#[repr(C)]`, i64 fields only, every field listed.
unsafe impl Element for RiskEvent {
    const IS_COPY: bool = true;

    fn get_dtype(py: Python<'_>) -> Bound<'_, PyArrayDescr> {
        RISK_EVENT_DTYPE
            .get_or_init(py, || {
                record_dtype(py, &RiskEvent::fields(), std::mem::size_of::<RiskEvent>())
                    .expect("the risk event record dtype")
                    .unbind()
            })
            .bind(py)
            .clone()
    }

    fn clone_ref(&self, _py: Python<'_>) -> Self {
        *self
    }
}

/// What `simulate` returns.
#[pyclass(
    frozen,
    get_all,
    name = "BacktestOutputs",
    module = "workbench_native._native"
)]
struct Outputs {
    /// Equity at each bar's close.
    equity: Py<PyArray1<f64>>,
    /// Closed trades (`TRADE_DTYPE`).
    trades: Py<PyArray1<Trade>>,
    /// Risk decisions and breakers (`RISK_EVENT_DTYPE`).
    events: Py<PyArray1<RiskEvent>>,
    trades_rejected: i64,
    circuit_breaker_triggered: i64,
}

#[pymethods]
impl Outputs {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "BacktestOutputs(bars={}, trades={}, events={}, trades_rejected={}, \
             circuit_breaker_triggered={})",
            PyUntypedArrayMethods::len(self.equity.bind(py)),
            PyUntypedArrayMethods::len(self.trades.bind(py)),
            PyUntypedArrayMethods::len(self.events.bind(py)),
            self.trades_rejected,
            self.circuit_breaker_triggered,
        )
    }
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
    params: &Bound<'py, Params>,
) -> PyResult<Outputs> {
    let p = params.get();
    let x = Inputs {
        tick: p.tick_size,
        inv_tick: 1.0 / p.tick_size,
        open: open.as_slice()?,
        high: high.as_slice()?,
        low: low.as_slice()?,
        close: close.as_slice()?,
        signal: signal.as_slice()?,
        signal_off: 0,
        stop_distance: stop_distance.as_slice()?,
        day_starts: day_starts.as_slice()?,
        rolls: rolls.as_slice()?,
        entry_ok: optional_slice(&entry_ok)?,
        force_flat: optional_slice(&force_flat)?,
    };
    x.check()
        .map_err(|e| PyValueError::new_err(format!("simulate: {e}")))?;
    let out = py.detach(|| backtest::simulate(&x, p));
    Ok(Outputs {
        equity: out.equity.into_pyarray(py).unbind(),
        trades: out.trades.into_pyarray(py).unbind(),
        events: out.events.into_pyarray(py).unbind(),
        trades_rejected: out.trades_rejected,
        circuit_breaker_triggered: out.circuit_breaker_triggered,
    })
}

/// Add this domain's names to the module.
pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<Params>()?;
    m.add_class::<StopMode>()?;
    m.add_class::<Sizing>()?;
    m.add_class::<Action>()?;
    m.add_class::<Reason>()?;
    m.add_class::<ExitReason>()?;
    m.add_class::<Outputs>()?;
    m.add("TRADE_DTYPE", Trade::get_dtype(py))?;
    m.add("RISK_EVENT_DTYPE", RiskEvent::get_dtype(py))?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    Ok(())
}
