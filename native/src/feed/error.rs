//! Typed errors of the market-data streams.

use thiserror::Error;

use crate::book::ReplayError;

/// Why a publisher or a subscriber stopped.
#[derive(Debug, Error)]
pub enum FeedError {
    /// A socket or file operation failed (including timeouts: kind
    /// `TimedOut` or `WouldBlock`).
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The source is not a DBN stream, or its records are badly framed.
    #[error("bad DBN source: {0}")]
    BadSource(String),
    /// The DBN metadata does not fit in one datagram of the configured size.
    #[error("DBN metadata of {len} bytes does not fit in a {max}-byte datagram")]
    MetadataTooLarge {
        /// Length of the prelude plus metadata.
        len: usize,
        /// Largest datagram payload allowed.
        max: usize,
    },
    /// A record longer than a datagram can carry.
    #[error("record of {len} bytes does not fit in a {max}-byte datagram")]
    RecordTooLarge {
        /// Record length.
        len: usize,
        /// Largest datagram payload allowed.
        max: usize,
    },
    /// Decoding or applying records failed (a TCP stream's DBN, or a book
    /// refusal in strict mode).
    #[error(transparent)]
    Replay(#[from] ReplayError),
}

impl FeedError {
    pub(crate) fn io(context: &'static str) -> impl FnOnce(std::io::Error) -> FeedError {
        move |source| FeedError::Io { context, source }
    }
}
