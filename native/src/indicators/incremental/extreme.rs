//! Rolling maximum and minimum (monotonic deque) and the Donchian channel.

use std::collections::VecDeque;

/// Keeps the candidates for the extreme of the window: indices with values strictly
/// "better" than every later one, so the front is the extreme (amortized O(1) per value).
#[derive(Clone, Debug)]
struct MonotonicWindow {
    period: u64,
    t: u64,
    deque: VecDeque<(u64, f64)>,
    /// Index + 1 of the latest NaN (0: none): a window holding it is NaN, as NumPy's
    /// `maximum` propagates it.
    last_nan: u64,
}

impl MonotonicWindow {
    fn new(period: usize) -> Option<Self> {
        (period > 0).then(|| MonotonicWindow {
            period: period as u64,
            t: 0,
            deque: VecDeque::with_capacity(period + 1),
            last_nan: 0,
        })
    }

    /// `dominates(a, b)`: `a` newer than `b` makes `b` useless (a >= b for a max).
    #[inline(always)]
    fn update(&mut self, x: f64, dominates: impl Fn(f64, f64) -> bool) -> f64 {
        let t = self.t;
        self.t += 1;
        if x.is_nan() {
            self.last_nan = t + 1;
        } else {
            while self.deque.back().is_some_and(|&(_, v)| dominates(x, v)) {
                self.deque.pop_back();
            }
            self.deque.push_back((t, x));
        }
        while self
            .deque
            .front()
            .is_some_and(|&(i, _)| i + self.period <= t)
        {
            self.deque.pop_front();
        }
        if self.t < self.period || self.last_nan + self.period > self.t {
            return f64::NAN;
        }
        self.deque.front().map_or(f64::NAN, |&(_, v)| v)
    }
}

/// `workbench.strategies.indicators.rolling_max(x, period)` one value at a time: the maximum
/// of the last `period` values, NaN for the first `period - 1` and for a window holding a NaN.
#[derive(Clone, Debug)]
pub struct RollingMax(MonotonicWindow);

impl RollingMax {
    /// A window of `period` (>= 1) values; `None` for 0.
    pub fn new(period: usize) -> Option<Self> {
        MonotonicWindow::new(period).map(RollingMax)
    }

    /// Take the next value; the maximum of the window.
    #[inline]
    pub fn update(&mut self, x: f64) -> f64 {
        self.0.update(x, |new, old| new >= old)
    }
}

/// `workbench.strategies.indicators.rolling_min(x, period)` one value at a time; see
/// [`RollingMax`].
#[derive(Clone, Debug)]
pub struct RollingMin(MonotonicWindow);

impl RollingMin {
    /// A window of `period` (>= 1) values; `None` for 0.
    pub fn new(period: usize) -> Option<Self> {
        MonotonicWindow::new(period).map(RollingMin)
    }

    /// Take the next value; the minimum of the window.
    #[inline]
    pub fn update(&mut self, x: f64) -> f64 {
        self.0.update(x, |new, old| new <= old)
    }
}

/// `workbench.strategies.indicators.donchian(high, low, period)` one bar at a time: the
/// highest high and lowest low of the `period` bars BEFORE the current one (NaN for the first
/// `period` bars), so that `close > upper` is a breakout.
#[derive(Clone, Debug)]
pub struct Donchian {
    high: RollingMax,
    low: RollingMin,
    upper: f64,
    lower: f64,
}

impl Donchian {
    /// A channel of `period` (>= 1) bars; `None` for 0.
    pub fn new(period: usize) -> Option<Self> {
        Some(Donchian {
            high: RollingMax::new(period)?,
            low: RollingMin::new(period)?,
            upper: f64::NAN,
            lower: f64::NAN,
        })
    }

    /// Take bar `t`; `(upper, lower)` of bars `t - period .. t - 1`.
    #[inline]
    pub fn update(&mut self, high: f64, low: f64) -> (f64, f64) {
        let channel = (self.upper, self.lower);
        self.upper = self.high.update(high);
        self.lower = self.low.update(low);
        channel
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_and_min_equal_a_scan_of_the_window() {
        let x: Vec<f64> = (0..400)
            .map(|i| ((i * 7919) % 101) as f64 + ((i as f64) * 0.05).sin())
            .collect();
        for p in [1, 2, 3, 10, 55] {
            let (mut mx, mut mn) = (RollingMax::new(p).unwrap(), RollingMin::new(p).unwrap());
            for t in 0..x.len() {
                let (a, b) = (mx.update(x[t]), mn.update(x[t]));
                if t + 1 < p {
                    assert!(a.is_nan() && b.is_nan());
                    continue;
                }
                let w = &x[t + 1 - p..=t];
                assert_eq!(a, w.iter().cloned().fold(f64::MIN, f64::max));
                assert_eq!(b, w.iter().cloned().fold(f64::MAX, f64::min));
            }
        }
        assert!(RollingMax::new(0).is_none());
    }

    #[test]
    fn a_nan_spoils_its_windows_only() {
        let mut mx = RollingMax::new(2).unwrap();
        let out: Vec<f64> = [1.0, f64::NAN, 3.0, 2.0, 1.0]
            .iter()
            .map(|&v| mx.update(v))
            .collect();
        assert!(out[0].is_nan() && out[1].is_nan() && out[2].is_nan());
        assert_eq!(&out[3..], &[3.0, 2.0]);
    }

    #[test]
    fn donchian_excludes_the_current_bar() {
        let mut d = Donchian::new(2).unwrap();
        let h = [10.0, 12.0, 11.0, 15.0];
        let l = [9.0, 8.0, 10.0, 14.0];
        let out: Vec<(f64, f64)> = h.iter().zip(&l).map(|(&a, &b)| d.update(a, b)).collect();
        assert!(out[0].0.is_nan() && out[1].0.is_nan());
        assert_eq!(out[2], (12.0, 8.0));
        assert_eq!(out[3], (12.0, 8.0));
    }
}
