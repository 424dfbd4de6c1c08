//! Bindings for `crate::backtest::sweep`: many combinations through the kernel at once.

use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::backtest::sweep::{self, Combo, Plan, Signal, SweepInputs};
use crate::backtest::Params;

/// What `sweep_simulate` returns: one value (or row) per combination, in the order given.
#[pyclass(
    frozen,
    get_all,
    name = "SweepOutputs",
    module = "workbench_native._native"
)]
struct SweepOutputs {
    /// Equity after the last bar.
    final_equity: Py<PyArray1<f64>>,
    /// Largest drawdown in money below the running peak (from the starting capital).
    max_drawdown_usd: Py<PyArray1<f64>>,
    /// Largest drawdown as a fraction of the peak (NaN when no peak was positive).
    max_drawdown_frac: Py<PyArray1<f64>>,
    /// Equity at the last bar of each trade date: (combinations, trade dates).
    day_equity: Py<PyArray2<f64>>,
    /// Closed trades of each combination.
    trade_counts: Py<PyArray1<i64>>,
    /// Net P&L of every closed trade, combination after combination (`trade_counts` each).
    net_pnl: Py<PyArray1<f64>>,
    trades_rejected: Py<PyArray1<i64>>,
    circuit_breaker_triggered: Py<PyArray1<i64>>,
    /// Worker threads used.
    threads: usize,
}

#[pymethods]
impl SweepOutputs {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "SweepOutputs(combinations={}, trade_dates={}, threads={})",
            self.day_equity.bind(py).dims()[0],
            self.day_equity.bind(py).dims()[1],
            self.threads
        )
    }
}

fn optional<'a, T: numpy::Element>(
    a: &'a Option<PyReadonlyArray1<'_, T>>,
) -> PyResult<Option<&'a [T]>> {
    a.as_ref()
        .map(|v| v.as_slice())
        .transpose()
        .map_err(Into::into)
}

fn index(name: &str, combo: usize, v: i64) -> PyResult<usize> {
    usize::try_from(v).map_err(|_| {
        PyValueError::new_err(format!(
            "sweep_simulate: {name}[{combo}] must be >= 0, got {v}"
        ))
    })
}

/// The combinations from the per-combination arrays (`signal_index` -1: EMA crossover).
fn combos(
    n: usize,
    stop_index: &[i64],
    signal_index: Option<&[i64]>,
    ema_fast: Option<&[i64]>,
    ema_slow: Option<&[i64]>,
    long_only: Option<&[bool]>,
) -> PyResult<Vec<Combo>> {
    let lengths = [
        ("signal_index", signal_index.map(<[i64]>::len)),
        ("ema_fast", ema_fast.map(<[i64]>::len)),
        ("ema_slow", ema_slow.map(<[i64]>::len)),
        ("long_only", long_only.map(<[bool]>::len)),
    ];
    for (name, len) in lengths {
        if let Some(len) = len.filter(|&l| l != n) {
            return Err(PyValueError::new_err(format!(
                "sweep_simulate: {name} has {len} values, stop_index has {n}"
            )));
        }
    }
    (0..n)
        .map(|k| {
            let given = signal_index.map_or(-1, |s| s[k]);
            let signal = if given >= 0 {
                Signal::Given(given as usize)
            } else {
                let (Some(f), Some(s)) = (ema_fast, ema_slow) else {
                    return Err(PyValueError::new_err(format!(
                        "sweep_simulate: combination {k} has no given signal \
                         (signal_index -1 or none): pass ema_fast and ema_slow"
                    )));
                };
                Signal::EmaCross {
                    fast: index("ema_fast", k, f[k])?,
                    slow: index("ema_slow", k, s[k])?,
                    long_only: long_only.is_some_and(|l| l[k]),
                }
            };
            Ok(Combo {
                signal,
                stop: index("stop_index", k, stop_index[k])?,
            })
        })
        .collect()
}

/// Run many combinations of one strategy through the backtest kernel (see
/// `workbench.optimize.compiled`).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (
    open, high, low, close, day_starts, rolls, entry_ok, force_flat, params, *,
    stops, stop_index, signals = Vec::new(), signal_index = None, ema_fast = None,
    ema_slow = None, long_only = None, signal_mask = None, threads = 0, group = 0,
    block = 2048,
))]
fn sweep_simulate<'py>(
    py: Python<'py>,
    open: PyReadonlyArray1<'py, f64>,
    high: PyReadonlyArray1<'py, f64>,
    low: PyReadonlyArray1<'py, f64>,
    close: PyReadonlyArray1<'py, f64>,
    day_starts: PyReadonlyArray1<'py, i64>,
    rolls: PyReadonlyArray1<'py, i64>,
    entry_ok: Option<PyReadonlyArray1<'py, bool>>,
    force_flat: Option<PyReadonlyArray1<'py, bool>>,
    params: &Bound<'py, Params>,
    stops: Vec<PyReadonlyArray1<'py, f64>>,
    stop_index: PyReadonlyArray1<'py, i64>,
    signals: Vec<PyReadonlyArray1<'py, i8>>,
    signal_index: Option<PyReadonlyArray1<'py, i64>>,
    ema_fast: Option<PyReadonlyArray1<'py, i64>>,
    ema_slow: Option<PyReadonlyArray1<'py, i64>>,
    long_only: Option<PyReadonlyArray1<'py, bool>>,
    signal_mask: Option<PyReadonlyArray1<'py, bool>>,
    threads: usize,
    group: usize,
    block: usize,
) -> PyResult<SweepOutputs> {
    let p = params.get();
    let stop_slices = stops
        .iter()
        .map(|a| a.as_slice())
        .collect::<Result<Vec<_>, _>>()?;
    let signal_slices = signals
        .iter()
        .map(|a| a.as_slice())
        .collect::<Result<Vec<_>, _>>()?;
    let stop_index = stop_index.as_slice()?;
    let combos = combos(
        stop_index.len(),
        stop_index,
        optional(&signal_index)?,
        optional(&ema_fast)?,
        optional(&ema_slow)?,
        optional(&long_only)?,
    )?;
    let x = SweepInputs {
        open: open.as_slice()?,
        high: high.as_slice()?,
        low: low.as_slice()?,
        close: close.as_slice()?,
        day_starts: day_starts.as_slice()?,
        rolls: rolls.as_slice()?,
        entry_ok: optional(&entry_ok)?,
        force_flat: optional(&force_flat)?,
        signals: &signal_slices,
        stops: &stop_slices,
        signal_mask: optional(&signal_mask)?,
    };
    let mut plan = Plan {
        group,
        block,
        ..Plan::default()
    };
    if threads > 0 {
        plan.threads = threads;
    }
    let rows = py
        .detach(|| sweep::sweep(&x, p, &combos, &plan))
        .map_err(|e| PyValueError::new_err(format!("sweep_simulate: {e}")))?;
    let days = x.day_starts.len() + usize::from(!x.open.is_empty());
    let mut day_equity = Vec::with_capacity(rows.len() * days);
    let mut net = Vec::new();
    let nan_none = |v: Option<f64>| v.unwrap_or(f64::NAN);
    for r in &rows {
        day_equity.extend_from_slice(&r.day_equity);
        net.extend_from_slice(&r.net_pnl);
    }
    let col_f = |f: &dyn Fn(&sweep::Summary) -> f64| -> Vec<f64> { rows.iter().map(f).collect() };
    let col_i = |f: &dyn Fn(&sweep::Summary) -> i64| -> Vec<i64> { rows.iter().map(f).collect() };
    let day_equity = numpy::ndarray::Array2::from_shape_vec((rows.len(), days), day_equity)
        .map_err(|e| PyValueError::new_err(format!("sweep_simulate: {e}")))?;
    Ok(SweepOutputs {
        final_equity: col_f(&|r| r.final_equity).into_pyarray(py).unbind(),
        max_drawdown_usd: col_f(&|r| nan_none(r.max_drawdown.map(|d| d.0)))
            .into_pyarray(py)
            .unbind(),
        max_drawdown_frac: col_f(&|r| nan_none(r.max_drawdown.and_then(|d| d.1)))
            .into_pyarray(py)
            .unbind(),
        day_equity: day_equity.into_pyarray(py).unbind(),
        trade_counts: col_i(&|r| r.net_pnl.len() as i64).into_pyarray(py).unbind(),
        net_pnl: net.into_pyarray(py).unbind(),
        trades_rejected: col_i(&|r| r.trades_rejected).into_pyarray(py).unbind(),
        circuit_breaker_triggered: col_i(&|r| r.circuit_breaker_triggered)
            .into_pyarray(py)
            .unbind(),
        threads: plan.workers(rows.len()),
    })
}

/// Add this domain's names to the module.
pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<SweepOutputs>()?;
    m.add_function(wrap_pyfunction!(sweep_simulate, m)?)?;
    Ok(())
}
