//! Rust kernels for the workbench.
//!
//! The core is plain Rust (tested with `cargo test`, no Python needed); the
//! `python` feature adds the PyO3 module `workbench_native._native`.

pub mod backtest;
pub mod bars;
pub mod book;
pub mod filters;
pub mod stats;
pub mod ticks;

/// Crate version, as compiled.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(feature = "python")]
mod python;
