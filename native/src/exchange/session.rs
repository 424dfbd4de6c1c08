//! Trading sessions and halts, given as ns intervals by the caller (the Python
//! side builds them from `workbench.market`).

use super::error::ExchangeError;

/// A half-open time interval `[start, end)` in ns since the UNIX epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(C)]
pub struct Interval {
    /// First ns inside.
    pub start: u64,
    /// First ns after.
    pub end: u64,
}

impl Interval {
    /// `[start, end)`.
    pub fn new(start: u64, end: u64) -> Self {
        Interval { start, end }
    }
}

/// When the market trades: sessions (open..close) minus halts.
///
/// An empty `sessions` list means always open (halts still apply). Intervals
/// must be non-empty, sorted and non-overlapping ([`SessionSchedule::validate`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionSchedule {
    /// Trading sessions; a DAY order expires at the end of the session it was accepted in.
    pub sessions: Vec<Interval>,
    /// Halts (no order accepted or matched; resting orders stay; DAY orders do not expire).
    pub halts: Vec<Interval>,
}

/// Whether the market trades at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarketState {
    /// Inside a session and outside every halt.
    Open,
    /// Outside every session.
    Closed,
    /// Inside a halt.
    Halted,
}

fn find(list: &[Interval], t: u64) -> Option<usize> {
    // Index of the last interval starting at or before t.
    let i = list.partition_point(|iv| iv.start <= t);
    if i > 0 && t < list[i - 1].end {
        Some(i - 1)
    } else {
        None
    }
}

impl SessionSchedule {
    /// Always open.
    pub fn always_open() -> Self {
        Self::default()
    }

    /// Checks that every interval is non-empty and each list sorted without overlaps.
    pub fn validate(&self) -> Result<(), ExchangeError> {
        for (name, list) in [("sessions", &self.sessions), ("halts", &self.halts)] {
            for (i, iv) in list.iter().enumerate() {
                if iv.end <= iv.start {
                    return Err(ExchangeError::InvalidSchedule(name, i));
                }
                if i > 0 && list[i - 1].end > iv.start {
                    return Err(ExchangeError::InvalidSchedule(name, i));
                }
            }
        }
        Ok(())
    }

    /// The market state at `t`.
    pub fn state(&self, t: u64) -> MarketState {
        if find(&self.halts, t).is_some() {
            MarketState::Halted
        } else if self.sessions.is_empty() || find(&self.sessions, t).is_some() {
            MarketState::Open
        } else {
            MarketState::Closed
        }
    }

    /// `true` when the market trades at `t`.
    pub fn is_open(&self, t: u64) -> bool {
        self.state(t) == MarketState::Open
    }

    /// The first time `>= t` at which the market is open, if any.
    pub fn next_open(&self, t: u64) -> Option<u64> {
        let mut t = t;
        // Each step moves past one halt or to one session start: bounded by the list sizes.
        for _ in 0..=(self.sessions.len() + self.halts.len() + 1) {
            match self.state(t) {
                MarketState::Open => return Some(t),
                MarketState::Halted => t = self.halts[find(&self.halts, t)?].end,
                MarketState::Closed => {
                    let i = self.sessions.partition_point(|iv| iv.start <= t);
                    t = self.sessions.get(i)?.start;
                }
            }
        }
        None
    }

    /// The close of the session containing `t` (`u64::MAX` when always open or
    /// `t` is in no session): the expiry time of a DAY order accepted at `t`.
    pub fn session_end(&self, t: u64) -> u64 {
        match find(&self.sessions, t) {
            Some(i) => self.sessions[i].end,
            None => u64::MAX,
        }
    }
}
