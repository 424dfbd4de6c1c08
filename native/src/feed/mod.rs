//! Market-data streams: DBN over TCP and over UDP multicast into the books,
//! with a publisher that replays a file at N x speed for tests and rehearsals.
//!
//! # Publisher
//! A [`FeedSource`] holds a DBN file or buffer in memory (zstd undone, record
//! framing checked). [`PublishOptions`] set the pace: `speed` N replays by
//! `ts_event` deltas at N x real time (`0` or infinity: as fast as
//! possible), `max_rate` caps records per second, `repeat` sends the source
//! K times back to back. Both publishers return [`PublisherStats`].
//!
//! # TCP
//! [`TcpPublisher`] accepts a client and writes plain DBN: the prelude and
//! metadata block exactly as in the file, then the records, so `dbn`'s own
//! decoder, [`crate::book::replay_reader`] or [`subscribe_tcp`] can read it.
//! Backpressure is measured, not hidden: the socket is written
//! non-blocking, and each time the kernel's send buffer is full the stall is
//! counted and timed (`stalls`, `blocked_ns`, `max_stall_ns`, the bytes then
//! waiting in `max_pending_bytes`, beside `send_buffer_bytes`). A
//! subscriber that stops reading makes the publisher fail with `TimedOut`
//! after `PublishOptions::timeout`, never hang.
//!
//! # UDP multicast wire format
//! Every datagram is a 24-byte header, little-endian, then a payload:
//!
//! | bytes | field |
//! |---|---|
//! | 0..2 | magic `b"WF"` |
//! | 2 | wire version, 1 |
//! | 3 | kind: 0 records, 1 metadata, 2 end |
//! | 4..6 | `u16` record count (records datagrams; else 0) |
//! | 6 | DBN version of the records |
//! | 7 | reserved, 0 |
//! | 8..16 | `u64` sequence number |
//! | 16..24 | `u64` publisher wall clock at send, ns since the UNIX epoch (lag only) |
//!
//! One sequence runs over every datagram of a stream: 0 is the metadata
//! datagram (payload: the DBN prelude and metadata block, which must fit in
//! one datagram), 1.. are records datagrams (payload: `count` whole DBN
//! records back to back, as stored; a record is never split; the
//! datagram's size is at most `PublishOptions::chunk`, up to 65,507 bytes),
//! and the last, end datagram (payload: `u64` records published, `u64`
//! records datagrams published) is sent three times with the same number.
//! The records need no metadata to be decoded (the header carries the DBN
//! version), so a subscriber that missed the metadata still builds its book.
//!
//! [`UdpSubscriber`] checks each datagram's header and record framing
//! (failures: `malformed_datagrams`), then its sequence number: a number
//! above the next expected one is a gap (`gaps`, `missing_datagrams`,
//! `first_missing_seq`, the first [`MAX_GAP_RANGES`] ranges), one below it is
//! late or duplicate and skipped. Datagrams lost to a receive-buffer overrun
//! show up as gaps like any other loss, and a lost tail as a missing end
//! datagram (`timed_out`) or a record count below `records_published`.
//! The books carry on after a gap unless `stop_on_gap` is set;
//! [`SubscriberStats::complete`] says whether the stream arrived whole.
//! [`DropPlan`] withholds chosen records datagrams at the publisher (every
//! n-th, or a list of sequence numbers) to test all this.
//!
//! The subscriber takes up to `MulticastConfig::recv_batch` datagrams per
//! system call (`recvmmsg` with `MSG_WAITFORONE` on Linux) and reads their
//! records in place (8-byte aligned buffers, no copy into a decoder). Draining
//! a full receive buffer of ESH4 x 5 (`FEED_DRAIN=1 FEED_RECV_BATCH=1|16
//! cargo run --release --example feed_speed -- FILE 5`, medians of 7, loaded
//! 2-core machine): 1,472-byte datagrams 4.4 -> 5.8 M records/s, 8 KiB 7.1 ->
//! 7.8 M, 64 KiB 7.8 -> 8.5 M.
//!
//! On Linux loopback the publisher sets `IP_MULTICAST_IF` to `127.0.0.1`,
//! `IP_MULTICAST_LOOP` on and TTL 0, and the subscriber binds `group:port`
//! and joins the group on `127.0.0.1`: no multicast route is needed (checked
//! in this project's container; [`probe_multicast`] tells, and the tests try
//! `ip route add 239.0.0.0/8 dev lo` before skipping).
//!
//! # Speed (ESH4 x 20 = 1,375,840 records, release, loopback, 2 shared cores)
//! `cargo run --release --example feed_speed [FILE] [K]`: TCP into the books
//! 9.8 M records/s (5.7 M with an MBP-10 snapshot at every event boundary) on
//! a quiet machine, 4.3 M under a load average of 6.7. Multicast, 64 KiB
//! datagrams, no gaps with a 512 MiB receive buffer (`SO_RCVBUFFORCE`):
//! 3.9 M records/s uncapped (the unpaced publisher competes for the two
//! cores), 6.0 M with `max_rate` 6 M/s; 1,472-byte datagrams 1.6 M. With an
//! 8 MiB buffer (`rmem_max` here, without `SO_RCVBUFFORCE`) an uncapped run
//! overruns, and the gaps are reported (e.g. 5 gaps, 900 datagrams, first 128).

#![warn(missing_docs)]

mod error;
mod publish;
mod source;
mod subscribe;
mod tcp;
mod udp;
pub mod wire;

pub use error::FeedError;
pub use publish::{PublishOptions, PublisherStats, StopFlag};
pub use source::FeedSource;
pub use subscribe::{FeedReport, SubscribeOptions, SubscriberStats, MAX_GAP_RANGES};
pub use tcp::{publish_tcp, read_tcp, subscribe_tcp, TcpPublisher};
pub use udp::{
    probe_multicast, DropPlan, MulticastConfig, UdpPublisher, UdpSubscriber, MAX_DATAGRAM,
};

#[cfg(test)]
mod tests;
