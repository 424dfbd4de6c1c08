//! Options, pacing and counters shared by the TCP and UDP publishers.

use std::time::{Duration, Instant};

/// How a publisher replays its source.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PublishOptions {
    /// Replay speed as a multiple of real time, by `ts_event` deltas: 1.0 is
    /// real time, 10.0 ten times faster. `0.0`, a negative value or
    /// infinity means as fast as possible.
    pub speed: f64,
    /// Records per second at most (`0.0` = no cap), checked per write or
    /// datagram; useful to keep a UDP receiver's buffer from overrunning.
    pub max_rate: f64,
    /// Times the source is sent back to back (at least 1). `ts_event` pacing
    /// continues across repeats as if each copy followed the last.
    pub repeat: u32,
    /// TCP: bytes handed to the kernel per write. UDP: largest datagram
    /// (header + records; at most 65,507, the UDP limit; 1,472 fits an
    /// Ethernet MTU).
    pub chunk: usize,
    /// TCP: how long a single blocked write may wait, and how long the
    /// server waits for a client, before giving up with a `TimedOut` error.
    pub timeout: Duration,
}

impl Default for PublishOptions {
    fn default() -> Self {
        PublishOptions {
            speed: 0.0,
            max_rate: 0.0,
            repeat: 1,
            chunk: 64 * 1024,
            timeout: Duration::from_secs(10),
        }
    }
}

impl PublishOptions {
    /// `true` when `speed` asks for pacing by `ts_event`.
    pub fn paced(&self) -> bool {
        self.speed.is_finite() && self.speed > 0.0
    }
}

/// What a publisher did. Every figure is counted, so backpressure and loss
/// are never silent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PublisherStats {
    /// Records sent (for UDP: put in a datagram, including deliberately dropped ones).
    pub records: u64,
    /// Bytes handed to the kernel (TCP: DBN stream bytes; UDP: datagram bytes, headers included).
    pub bytes: u64,
    /// TCP writes or UDP datagrams sent.
    pub sends: u64,
    /// TCP: times the kernel's send buffer was full (the subscriber was slower).
    pub stalls: u64,
    /// TCP: total time spent blocked on a full send buffer, ns.
    pub blocked_ns: u64,
    /// TCP: longest single block, ns.
    pub max_stall_ns: u64,
    /// TCP: most bytes held by the publisher, not yet accepted by the kernel, when a stall began.
    pub max_pending_bytes: u64,
    /// TCP: the kernel's send buffer size (`SO_SNDBUF`), bytes.
    pub send_buffer_bytes: u64,
    /// UDP: record datagrams withheld by the test drop plan (their sequence
    /// numbers are consumed, so subscribers see gaps).
    pub dropped_by_plan: u64,
    /// UDP: datagrams the kernel refused to send (e.g. `ENOBUFS`); their
    /// sequence numbers are consumed too.
    pub send_errors: u64,
    /// Largest delay of a send behind its schedule (pacing by `ts_event` or
    /// `max_rate`), ns; 0 when unpaced.
    pub max_lag_ns: u64,
    /// Time from the first send to the last, ns.
    pub elapsed_ns: u64,
}

/// Schedules sends by `ts_event` (scaled by `speed`) and by a record rate.
pub(crate) struct Pacer {
    start: Instant,
    inv_speed: Option<f64>,
    ns_per_record: Option<f64>,
    first_ts: Option<u64>,
    /// Span of one copy of the source, for repeats.
    span: u64,
    /// Last scheduled offset (kept monotonic), ns of stream time.
    last_rel: u64,
    pub max_lag_ns: u64,
}

impl Pacer {
    pub fn new(opts: &PublishOptions, span: u64) -> Self {
        Pacer {
            start: Instant::now(),
            inv_speed: opts.paced().then(|| 1.0 / opts.speed),
            ns_per_record: (opts.max_rate.is_finite() && opts.max_rate > 0.0)
                .then(|| 1e9 / opts.max_rate),
            first_ts: None,
            span: span.saturating_add(1),
            last_rel: 0,
            max_lag_ns: 0,
        }
    }

    pub fn by_ts(&self) -> bool {
        self.inv_speed.is_some()
    }

    pub fn start(&self) -> Instant {
        self.start
    }

    /// Due time of a record of copy `round` with `ts_event` `ts`.
    pub fn due_ts(&mut self, round: u32, ts: u64) -> Option<Instant> {
        let inv = self.inv_speed?;
        let first = *self.first_ts.get_or_insert(ts);
        let rel = ts
            .saturating_sub(first)
            .saturating_add(self.span.saturating_mul(u64::from(round)))
            .max(self.last_rel);
        self.last_rel = rel;
        Some(self.start + Duration::from_nanos((rel as f64 * inv) as u64))
    }

    /// Due time of the send that completes `records` records, under `max_rate`.
    pub fn due_rate(&self, records: u64) -> Option<Instant> {
        let ns = self.ns_per_record?;
        Some(self.start + Duration::from_nanos((records as f64 * ns) as u64))
    }

    /// `true` if `due` is in the future (the caller should flush, then [`Pacer::wait`]).
    pub fn early(&self, due: Instant) -> bool {
        Instant::now() < due
    }

    /// Sleeps until `due`, or records how late we are.
    pub fn wait(&mut self, due: Instant) {
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        } else {
            let lag = (now - due).as_nanos() as u64;
            self.max_lag_ns = self.max_lag_ns.max(lag);
        }
    }
}
