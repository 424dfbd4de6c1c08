//! The risk manager's state and rules (`workbench.risk.RiskManager`): limits checked before
//! an entry, losses counted after each trade, drawdown breakers at each close.

use super::codes::{Action, Reason};
use super::params::Params;
use super::records::RiskEvent;

/// `RiskManager`'s state.
pub(crate) struct Risk {
    pub(crate) day: i64,
    pub(crate) day_start_equity: f64,
    pub(crate) day_realized: f64,
    pub(crate) day_peak: f64,
    pub(crate) peak: f64,
    pub(crate) consecutive_losses: i64,
    pub(crate) halt_consecutive: bool,
    pub(crate) halt_intraday: bool,
    pub(crate) halt_until_day: i64,
    pub(crate) bar: i64,
    pub(crate) trades_rejected: i64,
    pub(crate) breakers: i64,
}

impl Risk {
    pub(crate) fn new() -> Self {
        Risk {
            day: -1,
            day_start_equity: 0.0,
            day_realized: 0.0,
            day_peak: 0.0,
            peak: 0.0,
            consecutive_losses: 0,
            halt_consecutive: false,
            halt_intraday: false,
            halt_until_day: -1,
            bar: 0,
            trades_rejected: 0,
            breakers: 0,
        }
    }

    pub(crate) fn start_bar(&mut self, bar: i64, day: i64, equity: f64) {
        self.bar = bar;
        if self.peak == 0.0 {
            self.peak = equity;
        }
        if day != self.day {
            self.day = day;
            self.day_start_equity = equity;
            self.day_realized = 0.0;
            self.day_peak = equity;
            self.halt_consecutive = false;
            self.halt_intraday = false;
            if self.halt_until_day >= 0 && day >= self.halt_until_day {
                self.halt_until_day = -1;
                self.peak = equity;
            }
        }
    }

    fn reject(&mut self, ev: &mut Vec<RiskEvent>, reason: Reason, requested: i64) -> i64 {
        self.trades_rejected += 1;
        ev.push(RiskEvent::new(
            self.bar,
            Action::Rejected,
            reason,
            requested,
            0,
        ));
        0
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn check_entry(
        &mut self,
        p: &Params,
        ev: &mut Vec<RiskEvent>,
        requested: i64,
        price_ticks: i64,
        equity: f64,
        in_hours: bool,
        margin_cap: i64,
    ) -> i64 {
        if self.halt_until_day >= 0 {
            return self.reject(ev, Reason::HaltMaxDrawdown, requested);
        }
        if self.halt_consecutive {
            return self.reject(ev, Reason::HaltConsecutiveLosses, requested);
        }
        if self.halt_intraday {
            return self.reject(ev, Reason::HaltIntradayDrawdown, requested);
        }
        if self.day_realized <= -p.daily_loss_limit * self.day_start_equity {
            return self.reject(ev, Reason::DailyLossLimit, requested);
        }
        if !in_hours {
            return self.reject(ev, Reason::OutsideTradingHours, requested);
        }
        if requested < 0 {
            return self.reject(ev, Reason::NoStopDistance, requested);
        }
        if requested < 1 {
            return self.reject(ev, Reason::SizeBelowOne, requested);
        }
        let mut approved = requested;
        let mut reason = Reason::Ok;
        if approved > p.max_position {
            approved = p.max_position;
            reason = Reason::MaxPosition;
        }
        let notional = (price_ticks.abs() as f64) * p.tick_size * p.multiplier;
        if notional > 0.0 {
            let cap = (p.max_exposure * equity.max(0.0) / notional + 1e-9) as i64;
            if approved > cap {
                if cap < 1 {
                    return self.reject(ev, Reason::MaxExposure, requested);
                }
                approved = cap;
                reason = Reason::MaxExposure;
            }
        }
        if approved > margin_cap {
            if margin_cap < 1 {
                return self.reject(ev, Reason::InitialMargin, requested);
            }
            approved = margin_cap;
            reason = Reason::InitialMargin;
        }
        let action = if approved == requested {
            Action::Accepted
        } else {
            Action::Resized
        };
        ev.push(RiskEvent::new(
            self.bar, action, reason, requested, approved,
        ));
        approved
    }

    /// Risk management off: only the initial margin can resize or reject an entry (recorded
    /// only when it does).
    pub(crate) fn check_margin(
        &mut self,
        ev: &mut Vec<RiskEvent>,
        bar: i64,
        requested: i64,
        margin_cap: i64,
    ) -> i64 {
        if requested <= margin_cap {
            return requested;
        }
        self.bar = bar;
        if margin_cap < 1 {
            return self.reject(ev, Reason::InitialMargin, requested);
        }
        ev.push(RiskEvent::new(
            bar,
            Action::Resized,
            Reason::InitialMargin,
            requested,
            margin_cap,
        ));
        margin_cap
    }

    pub(crate) fn on_trade_closed(&mut self, p: &Params, ev: &mut Vec<RiskEvent>, net: f64) {
        self.day_realized += net;
        if net < 0.0 {
            self.consecutive_losses += 1;
            if self.consecutive_losses >= p.max_consecutive_losses {
                self.consecutive_losses = 0;
                if !self.halt_consecutive {
                    self.halt_consecutive = true;
                    self.breaker(ev, Reason::HaltConsecutiveLosses);
                }
            }
        } else if net > 0.0 {
            self.consecutive_losses = 0;
        }
    }

    pub(crate) fn end_bar(&mut self, p: &Params, ev: &mut Vec<RiskEvent>, equity: f64) {
        self.day_peak = self.day_peak.max(equity);
        if !self.halt_intraday && equity < self.day_peak * (1.0 - p.intraday_drawdown_limit) {
            self.halt_intraday = true;
            self.breaker(ev, Reason::HaltIntradayDrawdown);
        }
        if self.halt_until_day < 0 {
            self.peak = self.peak.max(equity);
            if equity < self.peak * (1.0 - p.max_drawdown_limit) {
                self.halt_until_day = self.day + 1 + p.cooloff_days;
                self.breaker(ev, Reason::HaltMaxDrawdown);
            }
        }
    }

    fn breaker(&mut self, ev: &mut Vec<RiskEvent>, reason: Reason) {
        self.breakers += 1;
        ev.push(RiskEvent::new(
            self.bar,
            Action::CircuitBreaker,
            reason,
            0,
            0,
        ));
    }
}
