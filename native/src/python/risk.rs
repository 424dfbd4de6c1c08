//! Bindings for `crate::risk`: the pre-trade check (`PreTradeRisk`) and its decisions.

use numpy::{IntoPyArray, PyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::backtest::{Action, Reason, RiskEvent};
use crate::risk::{Decision, PreTradeLimits, PreTradeRisk, RiskError};

fn time_error(e: RiskError) -> PyErr {
    PyValueError::new_err(format!("PreTradeRisk: {e}"))
}

/// The answer to one entry request (`workbench.risk.Decision`).
#[pyclass(
    frozen,
    get_all,
    eq,
    module = "workbench_native._native",
    name = "PreTradeDecision"
)]
#[derive(PartialEq)]
struct PyDecision {
    action: Action,
    reason: Reason,
    requested: i64,
    approved: i64,
}

#[pymethods]
impl PyDecision {
    /// Whether at least one contract may be traded.
    #[getter]
    fn ok(&self) -> bool {
        self.approved > 0
    }

    fn __repr__(&self) -> String {
        format!(
            "PreTradeDecision(action=Action.{:?}, reason=Reason.{:?}, requested={}, approved={})",
            self.action, self.reason, self.requested, self.approved
        )
    }
}

impl From<Decision> for PyDecision {
    fn from(d: Decision) -> Self {
        PyDecision {
            action: d.action,
            reason: d.reason,
            requested: d.requested,
            approved: d.approved,
        }
    }
}

/// The pre-trade risk check with its state (see `workbench.risk.pretrade`).
#[pyclass(module = "workbench_native._native", name = "PreTradeRisk")]
struct PyPreTradeRisk(PreTradeRisk);

#[pymethods]
impl PyPreTradeRisk {
    #[new]
    #[pyo3(signature = (
        *,
        daily_loss_limit,
        max_position,
        max_exposure,
        max_consecutive_losses,
        intraday_drawdown_limit,
        max_drawdown_limit,
        cooloff_days,
        tick_size,
        multiplier,
        max_orders_per_minute=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        daily_loss_limit: f64,
        max_position: i64,
        max_exposure: f64,
        max_consecutive_losses: i64,
        intraday_drawdown_limit: f64,
        max_drawdown_limit: f64,
        cooloff_days: i64,
        tick_size: f64,
        multiplier: f64,
        max_orders_per_minute: Option<u32>,
    ) -> PyResult<Self> {
        if max_orders_per_minute == Some(0) {
            return Err(PyValueError::new_err(
                "PreTradeRisk: max_orders_per_minute must be >= 1 (None: no limit)",
            ));
        }
        if !(tick_size.is_finite() && tick_size > 0.0 && multiplier.is_finite() && multiplier > 0.0)
        {
            return Err(PyValueError::new_err(format!(
                "PreTradeRisk: tick_size and multiplier must be positive, got {tick_size} and \
                 {multiplier}"
            )));
        }
        Ok(PyPreTradeRisk(PreTradeRisk::new(PreTradeLimits {
            daily_loss_limit,
            max_position,
            max_exposure,
            max_consecutive_losses,
            intraday_drawdown_limit,
            max_drawdown_limit,
            cooloff_days,
            tick_size,
            multiplier,
            max_orders_per_minute,
        })))
    }

    fn start_bar(&mut self, bar: i64, day: i64, equity: f64) {
        self.0.start_bar(bar, day, equity);
    }

    #[pyo3(signature = (requested, price_ticks, equity, in_trading_hours, ts_ns, margin_cap=None))]
    #[allow(clippy::too_many_arguments)]
    fn check_entry(
        &mut self,
        requested: i64,
        price_ticks: i64,
        equity: f64,
        in_trading_hours: bool,
        ts_ns: i64,
        margin_cap: Option<i64>,
    ) -> PyResult<PyDecision> {
        self.0
            .check_entry(
                requested,
                price_ticks,
                equity,
                in_trading_hours,
                margin_cap,
                ts_ns,
            )
            .map(Into::into)
            .map_err(time_error)
    }

    fn check_margin(&mut self, bar: i64, requested: i64, margin_cap: i64) -> i64 {
        self.0.check_margin(bar, requested, margin_cap)
    }

    fn margin_call(&mut self, bar: i64, contracts: i64) {
        self.0.margin_call(bar, contracts);
    }

    fn record_order(&mut self, ts_ns: i64) -> PyResult<()> {
        self.0.record_order(ts_ns).map_err(time_error)
    }

    fn on_trade_closed(&mut self, net_pnl: f64) {
        self.0.on_trade_closed(net_pnl);
    }

    fn end_bar(&mut self, equity: f64) {
        self.0.end_bar(equity);
    }

    fn kill(&mut self) {
        self.0.kill();
    }

    fn reset_kill(&mut self) {
        self.0.reset_kill();
    }

    #[getter]
    fn killed(&self) -> bool {
        self.0.killed()
    }

    #[getter]
    fn halted(&self) -> bool {
        self.0.halted()
    }

    #[getter]
    fn day(&self) -> i64 {
        self.0.day()
    }

    #[getter]
    fn trades_rejected(&self) -> i64 {
        self.0.trades_rejected()
    }

    #[getter]
    fn circuit_breaker_triggered(&self) -> i64 {
        self.0.circuit_breaker_triggered()
    }

    #[getter]
    fn max_orders_per_minute(&self) -> Option<u32> {
        self.0.limits().max_orders_per_minute
    }

    fn events<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<RiskEvent>> {
        self.0.events().to_vec().into_pyarray(py)
    }

    fn take_events<'py>(&mut self, py: Python<'py>) -> Bound<'py, PyArray1<RiskEvent>> {
        self.0.take_events().into_pyarray(py)
    }
}

/// Add this domain's names to the module.
pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDecision>()?;
    m.add_class::<PyPreTradeRisk>()?;
    Ok(())
}
