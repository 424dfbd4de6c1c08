//! Latency models and the seeded random number generator of the exchange.
//!
//! Time is never read from the wall clock: a request sent at the client's
//! time `t` (normally the feed's `ts_recv` of the record it reacted to)
//! arrives at the exchange at `t + entry latency`; a report produced at the
//! exchange at `T` (a feed `ts_event` or an arrival time) reaches the client
//! at `T + response latency` ([`ExecReport::ts_local`](super::ExecReport)).

use super::error::ExchangeError;

/// A small, fast, seeded generator (PCG-XSH-RR 64/32 stepped twice per u64):
/// deterministic for a given seed on every platform.
#[derive(Debug, Clone)]
pub struct Pcg {
    state: u64,
    inc: u64,
}

impl Pcg {
    const MUL: u64 = 6364136223846793005;

    /// A generator for `seed` on stream `stream` (streams are independent sequences).
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut g = Pcg {
            state: 0,
            inc: (stream << 1) | 1,
        };
        g.next_u32();
        g.state = g.state.wrapping_add(seed);
        g.next_u32();
        g
    }

    /// The next 32 random bits.
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        let old = self.state;
        self.state = old.wrapping_mul(Self::MUL).wrapping_add(self.inc);
        let xorshifted = (((old >> 18) ^ old) >> 27) as u32;
        let rot = (old >> 59) as u32;
        xorshifted.rotate_right(rot)
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        (u64::from(self.next_u32()) << 32) | u64::from(self.next_u32())
    }

    /// A uniform float in `[0, 1)` (53 random bits).
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform integer in `0..n` (`n > 0`; Lemire's multiply-shift, negligible bias).
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

/// One latency: constant, or drawn uniformly from recorded samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Latency {
    /// The same number of nanoseconds every time.
    Constant(u64),
    /// One of these samples (ns), drawn uniformly with the exchange's seeded generator
    /// (an empirical distribution, e.g. measured round trips). Must not be empty.
    Recorded(Vec<u64>),
}

impl Default for Latency {
    fn default() -> Self {
        Latency::Constant(0)
    }
}

impl Latency {
    /// Draws one latency (ns).
    #[inline]
    pub fn draw(&self, rng: &mut Pcg) -> u64 {
        match self {
            Latency::Constant(ns) => *ns,
            Latency::Recorded(s) => match s.len() {
                0 => 0,
                1 => s[0],
                n => s[rng.below(n as u64) as usize],
            },
        }
    }

    fn check(&self, which: &'static str) -> Result<(), ExchangeError> {
        match self {
            Latency::Recorded(s) if s.is_empty() => Err(ExchangeError::EmptyLatencySamples(which)),
            _ => Ok(()),
        }
    }
}

/// Order-entry and response latencies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LatencyModel {
    /// From the client's send time to the order's arrival at the matching engine.
    pub entry: Latency,
    /// From an event at the exchange to the client seeing its report.
    pub response: Latency,
}

impl LatencyModel {
    /// Both latencies constant.
    pub fn constant(entry_ns: u64, response_ns: u64) -> Self {
        LatencyModel {
            entry: Latency::Constant(entry_ns),
            response: Latency::Constant(response_ns),
        }
    }

    pub(crate) fn check(&self) -> Result<(), ExchangeError> {
        self.entry.check("entry")?;
        self.response.check("response")
    }
}
