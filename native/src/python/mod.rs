//! PyO3 bindings: the private module `workbench_native._native`, one file per domain of the
//! crate. Each adds its names to the one flat module (the Python package re-exports them).

use pyo3::prelude::*;

mod analysis;
mod backtest;
mod indicators;
mod series;
mod ticks;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", crate::VERSION)?;
    analysis::register(m)?;
    backtest::register(m)?;
    indicators::register(m)?;
    series::register(m)?;
    ticks::register(m)?;
    Ok(())
}
