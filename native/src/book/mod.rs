//! Order books from Databento market data: an L3 (market-by-order) book from
//! MBO records, an L2 book from MBP-10 records, per-instrument containers and a
//! replay driver that decodes DBN with Databento's own `dbn` crate.
//!
//! # Units
//! Prices are DBN fixed point `i64` (1 unit = 1e-9; MCL's $0.01 tick is
//! 10_000_000), sizes are contracts (`u32` per order, `u64` per level),
//! timestamps are `u64` nanoseconds since the UNIX epoch taken from the
//! records. No float is ever a key and the system clock is never read.
//!
//! # MBO semantics ([`L3Book::apply`])
//! - `A` add: the order joins the back of its price level. With the `F_TOB`
//!   flag (top-of-book publishers, not CME) the side is replaced by that one level.
//! - `C` cancel: the order's size is reduced by the record's size, and the
//!   order leaves the book at zero (Databento's reference books do the same;
//!   CME cancels carry the full size).
//! - `M` modify: a price change, or a size increase, sends the order to the
//!   back of its (new) level; a size decrease keeps its queue position. A
//!   modify to size zero removes the order.
//! - `R` clear: the book is emptied.
//! - `F` fill and `T` trade leave the book unchanged: every fill is followed by
//!   an `M` (partial) or a `C` (full) of the resting order, so applying the fill
//!   as well would count it twice. `N` (none) does nothing.
//! - Records of one venue event share a timestamp and the last carries
//!   `F_LAST`; the book is consistent only there ([`L3Book::is_consistent`]),
//!   and the replay driver emits its snapshots there.
//! - `SNAPSHOT`: records of a snapshot restate the whole book. A snapshot run
//!   that is not preceded by `R` and finds a non-empty book clears it first
//!   (counted as `implicit_clears`); after `R` nothing extra happens. Snapshot
//!   records may lack `F_LAST` (the ESH4 file's 8,725 snapshot records have
//!   none): the first boundary is then the first `F_LAST` after the snapshot.
//!
//! # Integrity policy
//! Every anomaly is counted in [`IntegrityCounts`] ([`L3Book::integrity`]);
//! none panics. A record returning `Err` leaves the orders unchanged.
//! - Feed starting mid-session without a snapshot (the CLX5 file): a cancel of
//!   an unknown order id is skipped and counted (`unknown_cancels`, returned as
//!   [`BookError::UnknownOrder`]); a modify of an unknown order id is treated
//!   as an add (`modify_as_add`, [`Applied::ModifiedUnknownAsAdd`]), as
//!   Databento's reference books and nautilus_trader do. Such a book is
//!   incomplete until the orders that were resting before the feed began have
//!   all been cancelled or modified; it may show crossed levels meanwhile.
//! - A cancel for more than the order's remaining size removes the order whole
//!   (`cancel_excess`).
//! - Crossed books (best bid > best ask, e.g. around the pre-open before the
//!   auction uncrosses) are kept as they are, reported by
//!   [`L3Book::cross_state`] / [`L3Book::is_crossed`], and counted at event
//!   boundaries (`crossed_boundaries`). A negative [`L3Book::spread`] is possible.
//! - Auction fills and trades with side `N` are ignored like every `F`/`T`
//!   (counted as `side_none_trades`).
//! - Refused records ([`BookError`]): unknown action byte, `A`/`C`/`M` with a
//!   side other than `B`/`A`, add of an id already in the book, add of size
//!   zero, `UNDEF_PRICE` on an add or modify, a modify that changes the side.
//!   The replay driver counts and skips them, or stops at the first one in
//!   strict mode.
//!
//! # Data structure
//! A level holds its total size, its order count and the head and tail of a
//! doubly linked FIFO list threaded through a slab of order nodes; each node
//! holds the slot of its level, so cancel, size changes and requeues are O(1)
//! after the id lookup (a `HashMap<order_id, slot>` with a multiplicative
//! hasher, pre-sized from the input size by the replayer). A side is a sorted
//! vector of price keys whose end is the best price, each with its level's
//! slot in a level slab (see `level::Ladder`): activity is near the touch, so
//! inserts and removals there move little, and lookups scan the last few
//! levels, then gallop outward before a binary search; only a new or emptied
//! level needs a search. It measured faster than a `BTreeMap` on the ESH4
//! file (apply only: 2.84 ms vs 3.42 ms, 68,792 records). Each side keeps a
//! bit per depth of the best ten changed since the last snapshot, so the
//! replayer rewrites only those levels of its MBP-10 snapshot.
//!
//! # Decoding
//! Records are decoded by Databento's `dbn` crate (`DbnDecoder`, DBN 1-3 as
//! stored; MBO and MBP-10 records are identical across those versions) from
//! a file, bytes or any `Read` (a socket), plain or zstd
//! (detected from the magic number). Three guards stand in front of it, all
//! found by this module's tests: [`Framed`] refuses a record length that is
//! not a multiple of 8 bytes (on which `dbn` 0.73 builds a misaligned record
//! reference); [`with_whole_metadata`] reads the metadata block whole before
//! `dbn` sees it (its metadata decoder panics when a socket or pipe delivers
//! it in short reads); and the replayer uses `try_get` (`RecordRef::get`
//! panics on a record shorter than its type; such records are counted as
//! malformed).
//! With [`ReplayOptions::decompress_in_thread`] (the default), zstd input is
//! decompressed on a second thread while the first applies the records: a
//! file or bytes up to 1 GiB decompressed are decompressed into one buffer
//! (`ZSTD_d_stableOutBuffer`, no window copy) whose written length is
//! published through an atomic, and the records are applied in place right
//! behind it (module `inflate`); larger or undecodable input goes through a
//! chunked channel pipeline in constant memory.
//!
//! # Speed (ESH4 MBO, 68,792 records, this project's 2-core machine shared with other jobs)
//! `cargo run --release --example book_replay [FILE] [ROUNDS]` prints, for
//! ESH4 (best of 50): file -> decode -> book -> an MBP-10 snapshot at each of
//! the 47,022 event boundaries about 4.0-4.3 ms (16-17 M events/s) with the
//! decompression thread, 8.3 ms on one thread. The floor is zstd itself:
//! decompressing the 3.85 MB takes 3.3-3.5 ms here (about 20 M records/s;
//! 3.0 ms without its XXH64 checksum check, which we keep), and the consumer
//! (records in place -> book -> snapshots) 3.3-3.5 ms, of which the book's
//! apply is 2.5-2.8 ms; the two overlap when both cores are free. The
//! issue's 20 M events/s (3.44 ms) needs both stages under that with a free
//! second core. The plain (decompressed) ESH4 file, read whole and applied in
//! place: about 3.9-4.0 ms (17 M events/s). `cargo bench --bench book` runs
//! the ESH4 cases under criterion.

#![warn(missing_docs)]

mod error;
mod framing;
mod inflate;
mod l2;
mod l3;
mod level;
mod market;
mod replay;

pub use error::{BookError, ReplayError};
pub use framing::{with_whole_metadata, Framed};
pub use l2::L2Book;
pub use l3::{empty_pair, Applied, CrossState, IntegrityCounts, L3Book};
pub use level::{LevelView, Order, QueuePosition, Side};
pub use market::{Books, L2Market, Market, ORDER_HINT_BUDGET};
pub use replay::{
    decoder_from_bytes, decoder_from_file, decoder_from_reader, replay_bytes, replay_file,
    replay_file_columns, replay_file_rows, replay_reader, ActionCounts, BookDecoder, BookSnapshot,
    Every, ReplayOptions, ReplayStats, Replayer, SnapshotColumns,
};

#[cfg(test)]
mod tests;
