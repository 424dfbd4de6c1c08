//! Rust kernels for the workbench, one module per domain.
//!
//! The core is plain Rust (tested with `cargo test`, no Python needed); the `python` feature
//! adds the PyO3 module `workbench_native._native`, its wrappers in `python/` (one module per
//! domain).

pub mod analysis;
pub mod backtest;
pub mod book;
pub mod exchange;
pub mod feed;
pub mod fix;
pub mod indicators;
pub mod ingest;
pub mod risk;
pub mod series;
pub mod signals;
pub mod ticks;

#[cfg(feature = "python")]
mod python;

/// Crate version, as compiled.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
