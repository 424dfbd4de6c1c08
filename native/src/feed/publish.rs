//! Options, pacing and counters shared by the TCP and UDP publishers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest single sleep of a paced publisher, so that a [`StopFlag`] is
/// seen promptly even across a long pause in `ts_event` (e.g. overnight).
const STOP_POLL: Duration = Duration::from_millis(20);

/// Asks a running publisher to stop (from another thread). A stopped
/// publisher ends its stream cleanly (TCP: closes it; UDP: sends the end
/// datagram with the records sent so far) and sets
/// [`PublisherStats::stopped`]. The default flag is never set.
#[derive(Debug, Clone, Default)]
pub struct StopFlag(Option<Arc<AtomicBool>>);

impl StopFlag {
    /// A flag that [`StopFlag::stop`] can set.
    pub fn new() -> Self {
        StopFlag(Some(Arc::new(AtomicBool::new(false))))
    }

    /// Sets the flag (a no-op on the default flag).
    pub fn stop(&self) {
        if let Some(f) = &self.0 {
            f.store(true, Ordering::Relaxed);
        }
    }

    /// `true` once [`StopFlag::stop`] was called on this flag or a clone.
    pub fn is_set(&self) -> bool {
        self.0.as_ref().is_some_and(|f| f.load(Ordering::Relaxed))
    }
}

impl PartialEq for StopFlag {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// How a publisher replays its source.
#[derive(Debug, Clone, PartialEq)]
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
    /// Stops the publisher early when set from another thread (also while
    /// the TCP server waits for its client).
    pub stop: StopFlag,
}

impl Default for PublishOptions {
    fn default() -> Self {
        PublishOptions {
            speed: 0.0,
            max_rate: 0.0,
            repeat: 1,
            chunk: 64 * 1024,
            timeout: Duration::from_secs(10),
            stop: StopFlag::default(),
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
    /// The publisher was stopped by its [`StopFlag`] before the end of the source.
    pub stopped: bool,
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
    stop: StopFlag,
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
            stop: opts.stop.clone(),
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

    /// `true` once the publisher was asked to stop.
    pub fn stopped(&self) -> bool {
        self.stop.is_set()
    }

    /// Sleeps until `due` (or until a stop is asked), or records how late we are.
    pub fn wait(&mut self, due: Instant) {
        let mut now = Instant::now();
        if due <= now {
            let lag = (now - due).as_nanos() as u64;
            self.max_lag_ns = self.max_lag_ns.max(lag);
            return;
        }
        while due > now && !self.stop.is_set() {
            std::thread::sleep((due - now).min(STOP_POLL));
            now = Instant::now();
        }
    }
}
