//! A FIX 4.4 engine: codec, data dictionary, message store and session layer.
//!
//! - [`codec`]: framing, zero-copy decoding ([`Decoder`] → [`MessageView`]), encoding into a
//!   reusable buffer ([`Encoder`]), owned [`Message`]s, UTCTimestamp values.
//! - [`dictionary`]: FIX 4.4 validation of the messages the engine speaks; a failure names
//!   the session-level Reject (35=3) or BusinessMessageReject (35=j) to send.
//! - [`store`]: sequence numbers and sent messages, in memory or in files, so a restart
//!   resumes the sequence and resend requests can be answered.
//! - [`data_dictionary`]: a data dictionary held at run time (the built-in one, or one read
//!   from QuickFIX's XML format by `dictionary_xml`, cargo feature `fix`).
//! - [`log`]: the opt-in message and event log, QuickFIX's `FileLog` files.
//! - [`session`]: the session layer as a pure state machine: bytes and a caller-supplied
//!   clock in, frames to send and events out. No socket, no clock: deterministic tests.
//! - [`exchange_app`]: the simulated exchange as a FIX application (orders in, reports out).
//! - `gateway` (cargo feature `fix`): the FIX exchange: an acceptor over TCP in front of
//!   [`exchange_app`] and a paced MBO replay, in its own thread.
//! - `client` (cargo feature `fix`): a blocking initiator (its session in its own thread).
//! - `net` (cargo feature `fix`): initiator and acceptor over TCP with tokio; it only moves
//!   bytes and ticks the clock.
//!
//! Tested against QuickFIX 1.15 (C++, Debian's `libquickfix-dev`) on loopback in both
//! directions (`tests/fix_net.rs`: orders and fills, cancel/replace, forced sequence gaps,
//! restarts on file stores, too-low sequence numbers, daily resets, logout), and fuzzed
//! (`tests/fix_props.rs`: arbitrary and mutated bytes into the decoder and the session). Speed: `cargo run --release --example fix_codec_timing`
//! and `cargo bench --bench fix` (encode and decode of a NewOrderSingle or an
//! ExecutionReport: about 160-250 ns each).
//!
//! Order round trip over loopback (`cargo run --release --features fix --example
//! fix_roundtrip`, or `python bench/bench_fix.py` beside QuickFIX 1.15 in the same run;
//! NewOrderSingle -> `gateway` -> simulated exchange -> ExecutionReport, memory stores, no
//! log), on 2 cores shared with a load average of 8: p50 23.5 us, p90 31 us (QuickFIX 30 us,
//! 42 us); p99 1.6 ms (QuickFIX 2.5 ms): the tail is the scheduler's under that load.
//! With the message log on at both ends (`fix_roundtrip ORDERS WARMUP LOG_DIR`, `bench_fix.py
//! --log`; four lines per round trip, one `write` per file per session-loop turn): p50 about
//! 4-5 us (20 %) higher, e.g. 27.1 us against 23.0 us in one run, 29.4 against 23.9 in another.

pub mod codec;
pub mod data_dictionary;
pub mod dictionary;
pub mod exchange_app;
pub mod log;
pub mod session;
pub mod store;
pub mod tags;

#[cfg(feature = "fix")]
pub mod client;
#[cfg(feature = "fix")]
pub mod dictionary_xml;
#[cfg(feature = "fix")]
pub mod gateway;
#[cfg(feature = "fix")]
pub mod net;

pub use codec::{
    next_frame, DecodeError, Decoder, Encoder, Frame, Message, MessageView, TimePrecision,
};

#[cfg(test)]
mod codec_tests;
#[cfg(test)]
mod session_tests;
