//! PyO3 bindings: the private module `workbench_native._native`, one file per domain of the
//! crate. Each adds its names to the one flat module (the Python package re-exports them).

use pyo3::prelude::*;

mod analysis;
mod backtest;
mod book;
mod exchange;
mod feed;
#[cfg(feature = "fix")]
mod fix;
mod incremental;
mod indicators;
mod ingest;
mod risk;
mod series;
mod signals;
mod sweep;
mod ticks;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", crate::VERSION)?;
    analysis::register(m)?;
    backtest::register(m)?;
    book::register(m)?;
    exchange::register(m)?;
    feed::register(m)?;
    #[cfg(feature = "fix")]
    fix::register(m)?;
    incremental::register(m)?;
    indicators::register(m)?;
    ingest::register(m)?;
    risk::register(m)?;
    series::register(m)?;
    signals::register(m)?;
    sweep::register(m)?;
    ticks::register(m)?;
    Ok(())
}
