//! Stops and targets (`workbench.risk.StopLossManager`): the distance at entry, and whether a
//! bar hits them.

use super::codes::ExitReason;
use super::params::{Params, StopMode};
use crate::ticks::{ceil_eps, floor_eps};

/// `StopLossManager.distance_ticks`.
pub(crate) fn stop_distance(p: &Params, ref_ticks: i64, strategy_ticks: i64) -> i64 {
    match p.stop_mode {
        StopMode::None => 0,
        StopMode::FixedPct | StopMode::TrailingPct => {
            ceil_eps((ref_ticks.abs() as f64) * p.stop_pct).max(1)
        }
        StopMode::FixedUsd => floor_eps(p.stop_usd / p.tick_value).max(1),
        StopMode::Atr | StopMode::TrailingAtr => strategy_ticks.max(0),
    }
}

/// `StopLossManager.check`: `Some((price, reason))` when the bar hits the stop or target.
pub fn check_stop(
    side: i64,
    stop: Option<i64>,
    target: Option<i64>,
    open: i64,
    high: i64,
    low: i64,
) -> Option<(i64, ExitReason)> {
    if side > 0 {
        if let Some(s) = stop {
            if open <= s {
                return Some((open, ExitReason::Stop));
            }
        }
        if let Some(t) = target {
            if open >= t {
                return Some((open, ExitReason::Target));
            }
        }
        if let Some(s) = stop {
            if low <= s {
                return Some((s, ExitReason::Stop));
            }
        }
        if let Some(t) = target {
            if high >= t {
                return Some((t, ExitReason::Target));
            }
        }
    } else if side < 0 {
        if let Some(s) = stop {
            if open >= s {
                return Some((open, ExitReason::Stop));
            }
        }
        if let Some(t) = target {
            if open <= t {
                return Some((open, ExitReason::Target));
            }
        }
        if let Some(s) = stop {
            if high >= s {
                return Some((s, ExitReason::Stop));
            }
        }
        if let Some(t) = target {
            if low <= t {
                return Some((t, ExitReason::Target));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_beats_target_in_the_same_bar() {
        assert_eq!(
            check_stop(1, Some(90), Some(110), 100, 115, 85),
            Some((90, ExitReason::Stop))
        );
        assert_eq!(
            check_stop(1, Some(90), Some(110), 80, 115, 75),
            Some((80, ExitReason::Stop))
        );
        assert_eq!(
            check_stop(-1, Some(110), Some(90), 100, 105, 89),
            Some((90, ExitReason::Target))
        );
        assert_eq!(check_stop(-1, Some(110), None, 100, 105, 95), None);
    }
}
