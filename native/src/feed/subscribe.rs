//! Options and counters shared by the TCP and UDP subscribers.

use std::time::Duration;

use crate::book::{ReplayOptions, Replayer};

/// How a subscriber reads a stream into the books.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscribeOptions {
    /// What the books emit (snapshot frequency, instrument filter, depth, strict mode).
    pub replay: ReplayOptions,
    /// TCP: connect and read timeout. UDP: idle timeout (no datagram for
    /// this long ends the run with `timed_out` set).
    pub timeout: Duration,
    /// UDP: stop at the first gap (the book is no longer exact) instead of
    /// carrying on; the report then has `stopped_on_gap` set.
    pub stop_on_gap: bool,
}

impl Default for SubscribeOptions {
    fn default() -> Self {
        SubscribeOptions {
            replay: ReplayOptions {
                // A socket is read on this thread; nothing to decompress in parallel.
                decompress_in_thread: false,
                ..ReplayOptions::default()
            },
            timeout: Duration::from_secs(5),
            stop_on_gap: false,
        }
    }
}

/// Gap ranges kept in [`SubscriberStats::gap_ranges`] (the counts go on past it).
pub const MAX_GAP_RANGES: usize = 64;

/// What a subscriber received. Loss is never silent: every missing datagram
/// is counted, and the first ranges are listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscriberStats {
    /// Records applied (or filtered) by the books.
    pub records: u64,
    /// Bytes received (TCP: stream bytes; UDP: datagram bytes, headers included).
    pub bytes: u64,
    /// UDP: datagrams accepted (any kind).
    pub datagrams: u64,
    /// UDP: gaps in the sequence (runs of consecutive missing datagrams).
    pub gaps: u64,
    /// UDP: datagrams missing in all.
    pub missing_datagrams: u64,
    /// UDP: the first sequence number found missing.
    pub first_missing_seq: Option<u64>,
    /// UDP: the first [`MAX_GAP_RANGES`] gaps as inclusive `(first, last)` sequence ranges.
    pub gap_ranges: Vec<(u64, u64)>,
    /// UDP: datagrams whose sequence number was below the next expected one
    /// (duplicates or reordered after a gap was declared); skipped.
    pub late_datagrams: u64,
    /// UDP: datagrams that failed the header or record-framing check; skipped
    /// (their sequence number, if readable, is not counted as received).
    pub malformed_datagrams: u64,
    /// UDP: next expected sequence number (= datagrams the stream has had so far).
    pub next_seq: u64,
    /// UDP: records the publisher reported sending (from the end datagram).
    pub records_published: Option<u64>,
    /// UDP: largest wall-clock delay from the publisher's send to this
    /// receive, ns (both ends on the same host clock).
    pub max_lag_ns: u64,
    /// UDP: the end datagram arrived.
    pub end_seen: bool,
    /// UDP: the idle timeout expired before the end datagram.
    pub timed_out: bool,
    /// UDP: stopped at the first gap (`SubscribeOptions::stop_on_gap`).
    pub stopped_on_gap: bool,
    /// Time from the first byte or datagram to the end, ns.
    pub elapsed_ns: u64,
}

impl SubscriberStats {
    /// `true` when the whole stream arrived: for UDP the end datagram was
    /// seen, no datagram is missing and the record count matches the
    /// publisher's; for TCP (`datagrams == 0`), always.
    pub fn complete(&self) -> bool {
        if self.datagrams == 0 && !self.end_seen {
            return !self.timed_out;
        }
        self.end_seen
            && self.missing_datagrams == 0
            && self.malformed_datagrams == 0
            && self.records_published == Some(self.records)
    }

    pub(crate) fn on_seq(&mut self, seq: u64) -> SeqCheck {
        if seq < self.next_seq {
            self.late_datagrams += 1;
            return SeqCheck::Late;
        }
        let gap = seq > self.next_seq;
        if gap {
            let first = self.next_seq;
            self.gaps += 1;
            self.missing_datagrams += seq - first;
            self.first_missing_seq.get_or_insert(first);
            if self.gap_ranges.len() < MAX_GAP_RANGES {
                self.gap_ranges.push((first, seq - 1));
            }
        }
        self.next_seq = seq + 1;
        if gap {
            SeqCheck::AfterGap
        } else {
            SeqCheck::InOrder
        }
    }
}

/// Outcome of a sequence check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SeqCheck {
    InOrder,
    AfterGap,
    Late,
}

/// The end state of a subscription: the books and the counts.
#[derive(Debug, Clone)]
pub struct FeedReport {
    /// The books as left by the stream, with their replay counts.
    pub replayer: Replayer,
    /// Transport counts.
    pub stats: SubscriberStats,
    /// The stream's DBN metadata, when received.
    pub metadata: Option<dbn::Metadata>,
}
