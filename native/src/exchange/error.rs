//! Typed errors of the simulated exchange (configuration errors; order
//! problems are [`ExecReason`](super::ExecReason)s on rejection reports).

use thiserror::Error;

/// An exchange that cannot be built as configured.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ExchangeError {
    /// A `Latency::Recorded` with no sample.
    #[error("the {0} latency has an empty list of samples")]
    EmptyLatencySamples(&'static str),
    /// A session or halt interval that is empty, unsorted or overlapping.
    #[error("{0}[{1}] is empty, out of order or overlaps the previous interval")]
    InvalidSchedule(&'static str, usize),
    /// A probabilistic queue model whose parameter is not finite and positive.
    #[error("queue model parameter must be finite and > 0, got {0}")]
    InvalidQueueParameter(f64),
    /// A negative tick size.
    #[error("tick size must be >= 0, got {0}")]
    InvalidTick(i64),
}
