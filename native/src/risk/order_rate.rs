//! A sliding one-minute window of order timestamps (i64 ns, never the wall clock).

use std::collections::VecDeque;

/// Nanoseconds in the window.
pub const MINUTE_NS: i64 = 60_000_000_000;

/// Counts orders in the last minute: an order at `ts` is full when `max` orders were sent in
/// `(ts - 60 s, ts]` (one exactly 60 s older no longer counts). Keeps only the last `max`
/// timestamps, so a check is O(1) and the memory is bounded.
#[derive(Clone, Debug)]
pub struct OrderRate {
    max: usize,
    sent: VecDeque<i64>,
}

impl OrderRate {
    /// A limit of `max` orders per minute (`max >= 1`; 0 is treated as 1).
    pub fn new(max: u32) -> Self {
        let max = max.max(1) as usize;
        OrderRate {
            max,
            sent: VecDeque::with_capacity(max),
        }
    }

    /// Whether one more order at `ts` would exceed the limit.
    #[inline]
    pub fn full(&self, ts: i64) -> bool {
        // The oldest kept is the max-th most recent order: the window is full when it is
        // still inside it.
        self.sent.len() >= self.max && self.sent.front().is_some_and(|&t| t > ts - MINUTE_NS)
    }

    /// Count an order sent at `ts` (timestamps non-decreasing: the caller checks).
    #[inline]
    pub fn record(&mut self, ts: i64) {
        if self.sent.len() == self.max {
            self.sent.pop_front();
        }
        self.sent.push_back(ts);
    }

    /// Orders counted in `(ts - 60 s, ts]` (at most the limit).
    pub fn in_window(&self, ts: i64) -> usize {
        self.sent.iter().filter(|&&t| t > ts - MINUTE_NS).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_slides_on_the_timestamps() {
        let mut r = OrderRate::new(2);
        assert!(!r.full(0));
        r.record(0);
        r.record(10);
        assert!(r.full(MINUTE_NS - 1));
        assert!(!r.full(MINUTE_NS)); // the order at 0 is exactly a minute old
        r.record(MINUTE_NS);
        assert!(r.full(MINUTE_NS + 9));
        assert!(!r.full(MINUTE_NS + 10));
        assert_eq!(r.in_window(MINUTE_NS + 9), 2);
    }
}
