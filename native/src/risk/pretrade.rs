//! The pre-trade check: `workbench.risk.RiskManager`'s state machine plus the order rate and
//! the kill switch.

use std::fmt;

use super::limits::PreTradeLimits;
use super::order_rate::OrderRate;
use crate::backtest::{Action, Reason, RiskEvent};

/// The answer to one entry request (`workbench.risk.Decision`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub action: Action,
    pub reason: Reason,
    /// Contracts asked for (-1: no stop distance to size from).
    pub requested: i64,
    /// Contracts allowed (0 when rejected).
    pub approved: i64,
}

/// A call the check cannot take (the state is left unchanged).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RiskError {
    /// An order timestamp earlier than one already seen: the order-rate window runs on the
    /// feed's timestamps and they must not go back.
    TimeWentBack { ts_ns: i64, last_ns: i64 },
}

impl fmt::Display for RiskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RiskError::TimeWentBack { ts_ns, last_ns } => write!(
                f,
                "order timestamp {ts_ns} ns is before the last one seen ({last_ns} ns): pass \
                 the feed's event times in order"
            ),
        }
    }
}

impl std::error::Error for RiskError {}

/// The pre-trade risk check with its state, carried from bar to bar.
///
/// The rules and their order are `workbench.risk.RiskManager`'s (and the backtest kernel's),
/// with the same [`Action`] and [`Reason`] codes and the same logged events; call
/// [`start_bar`](Self::start_bar) at each bar (with the CME trade date, which resets the daily
/// limits), [`check_entry`](Self::check_entry) for each entry,
/// [`on_trade_closed`](Self::on_trade_closed) for each closed trade and
/// [`end_bar`](Self::end_bar) with the equity at the close. The futures margin model is the
/// backtest kernel's too: `check_entry`'s `margin_cap` (the contracts whose initial margin the
/// equity can post) resizes or rejects with [`Reason::InitialMargin`] after the exposure cap;
/// with risk management off, [`check_margin`](Self::check_margin) applies that cap alone; and
/// [`margin_call`](Self::margin_call) logs a margin call ([`Action::MarginCall`],
/// [`Reason::MaintenanceMargin`]). Two rules of its own, checked in this order around them:
///
/// - **kill switch**, first: after [`kill`](Self::kill) every entry is rejected with
///   [`Reason::KillSwitch`] until [`reset_kill`](Self::reset_kill); it survives trade dates
///   (a person turns it off). Tripping it logs a [`Action::CircuitBreaker`] event.
/// - **order rate**, last (only an entry that would otherwise go out is counted): with
///   `max_orders_per_minute = Some(n)`, an entry at `ts` is rejected with
///   [`Reason::OrderRate`] when `n` orders went out in `(ts - 60 s, ts]`. Approved entries
///   count, and so do the orders the caller reports with [`record_order`](Self::record_order)
///   (exits, cancels: never blocked, since reducing risk must always be possible).
///   Timestamps are the caller's i64 ns (the feed's event times), never the wall clock.
#[derive(Clone, Debug)]
pub struct PreTradeRisk {
    limits: PreTradeLimits,
    day: i64,
    day_start_equity: f64,
    day_realized: f64,
    day_peak: f64,
    peak: f64,
    consecutive_losses: i64,
    halt_consecutive: bool,
    halt_intraday: bool,
    halt_until_day: i64,
    bar: i64,
    killed: bool,
    rate: Option<OrderRate>,
    last_ns: i64,
    trades_rejected: i64,
    breakers: i64,
    events: Vec<RiskEvent>,
}

impl PreTradeRisk {
    /// A fresh check (no trade date seen yet).
    pub fn new(limits: PreTradeLimits) -> Self {
        PreTradeRisk {
            limits,
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
            killed: false,
            rate: limits.max_orders_per_minute.map(OrderRate::new),
            last_ns: i64::MIN,
            trades_rejected: 0,
            breakers: 0,
            events: Vec::new(),
        }
    }

    /// The limits.
    pub fn limits(&self) -> &PreTradeLimits {
        &self.limits
    }

    /// Begin bar `bar` of trade date `day` (any integer that changes with the CME trade date,
    /// e.g. its days since 1970-01-01); `equity` as of the last close. A new trade date resets
    /// the daily limits and ends the day's halts (and the max-drawdown cool-off when due).
    pub fn start_bar(&mut self, bar: i64, day: i64, equity: f64) {
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

    fn time(&mut self, ts_ns: i64) -> Result<(), RiskError> {
        if ts_ns < self.last_ns {
            return Err(RiskError::TimeWentBack {
                ts_ns,
                last_ns: self.last_ns,
            });
        }
        self.last_ns = ts_ns;
        Ok(())
    }

    fn reject(&mut self, reason: Reason, requested: i64) -> Decision {
        self.trades_rejected += 1;
        self.events.push(RiskEvent::new(
            self.bar,
            Action::Rejected,
            reason,
            requested,
            0,
        ));
        Decision {
            action: Action::Rejected,
            reason,
            requested,
            approved: 0,
        }
    }

    /// Validate an entry of `requested` contracts (the sizer's answer; -1 when it had no
    /// distance to size from) at about `price_ticks`, with `equity`, whether the entry window
    /// is open and `margin_cap` (the contracts whose initial margin the equity can post; None:
    /// no margin model), at feed time `ts_ns`. Resizes down where it can, rejects otherwise.
    #[inline]
    pub fn check_entry(
        &mut self,
        requested: i64,
        price_ticks: i64,
        equity: f64,
        in_trading_hours: bool,
        margin_cap: Option<i64>,
        ts_ns: i64,
    ) -> Result<Decision, RiskError> {
        self.time(ts_ns)?;
        let l = self.limits;
        if self.killed {
            return Ok(self.reject(Reason::KillSwitch, requested));
        }
        if self.halt_until_day >= 0 {
            return Ok(self.reject(Reason::HaltMaxDrawdown, requested));
        }
        if self.halt_consecutive {
            return Ok(self.reject(Reason::HaltConsecutiveLosses, requested));
        }
        if self.halt_intraday {
            return Ok(self.reject(Reason::HaltIntradayDrawdown, requested));
        }
        if self.day_realized <= -l.daily_loss_limit * self.day_start_equity {
            return Ok(self.reject(Reason::DailyLossLimit, requested));
        }
        if !in_trading_hours {
            return Ok(self.reject(Reason::OutsideTradingHours, requested));
        }
        if requested < 0 {
            return Ok(self.reject(Reason::NoStopDistance, requested));
        }
        if requested < 1 {
            return Ok(self.reject(Reason::SizeBelowOne, requested));
        }
        let (mut approved, mut reason) = (requested, Reason::Ok);
        if approved > l.max_position {
            (approved, reason) = (l.max_position, Reason::MaxPosition);
        }
        let notional = (price_ticks.unsigned_abs() as f64) * l.tick_size * l.multiplier;
        if notional > 0.0 {
            let cap = (l.max_exposure * equity.max(0.0) / notional + 1e-9) as i64;
            if approved > cap {
                if cap < 1 {
                    return Ok(self.reject(Reason::MaxExposure, requested));
                }
                (approved, reason) = (cap, Reason::MaxExposure);
            }
        }
        if let Some(cap) = margin_cap.filter(|&cap| approved > cap) {
            if cap < 1 {
                return Ok(self.reject(Reason::InitialMargin, requested));
            }
            (approved, reason) = (cap, Reason::InitialMargin);
        }
        if let Some(rate) = self.rate.as_mut() {
            if rate.full(ts_ns) {
                return Ok(self.reject(Reason::OrderRate, requested));
            }
            rate.record(ts_ns);
        }
        let action = if approved == requested {
            Action::Accepted
        } else {
            Action::Resized
        };
        self.events.push(RiskEvent::new(
            self.bar, action, reason, requested, approved,
        ));
        Ok(Decision {
            action,
            reason,
            requested,
            approved,
        })
    }

    /// Risk management off: only the initial margin resizes or rejects an entry of
    /// `requested` contracts at bar `bar` (logged only when it does; a rejection counts in
    /// [`trades_rejected`](Self::trades_rejected)). Returns the contracts allowed.
    pub fn check_margin(&mut self, bar: i64, requested: i64, margin_cap: i64) -> i64 {
        if requested <= margin_cap {
            return requested;
        }
        self.bar = bar;
        if margin_cap < 1 {
            return self.reject(Reason::InitialMargin, requested).approved;
        }
        self.events.push(RiskEvent::new(
            bar,
            Action::Resized,
            Reason::InitialMargin,
            requested,
            margin_cap,
        ));
        margin_cap
    }

    /// Log a margin call at bar `bar` on a position of `contracts` (the equity marked at the
    /// close fell below their maintenance margin; the caller flattens and stops trading).
    pub fn margin_call(&mut self, bar: i64, contracts: i64) {
        self.bar = bar;
        self.events.push(RiskEvent::new(
            bar,
            Action::MarginCall,
            Reason::MaintenanceMargin,
            contracts,
            0,
        ));
    }

    /// Count an order the check does not gate (an exit, a cancel) against the order rate.
    pub fn record_order(&mut self, ts_ns: i64) -> Result<(), RiskError> {
        self.time(ts_ns)?;
        if let Some(rate) = self.rate.as_mut() {
            rate.record(ts_ns);
        }
        Ok(())
    }

    /// Record a closed trade: the day's realised P&L and the losing streak.
    pub fn on_trade_closed(&mut self, net_pnl: f64) {
        self.day_realized += net_pnl;
        if net_pnl < 0.0 {
            self.consecutive_losses += 1;
            if self.consecutive_losses >= self.limits.max_consecutive_losses {
                self.consecutive_losses = 0;
                if !self.halt_consecutive {
                    self.halt_consecutive = true;
                    self.breaker(Reason::HaltConsecutiveLosses);
                }
            }
        } else if net_pnl > 0.0 {
            self.consecutive_losses = 0;
        }
    }

    /// Bar close: update the peaks and trip the drawdown breakers.
    pub fn end_bar(&mut self, equity: f64) {
        let l = self.limits;
        self.day_peak = self.day_peak.max(equity);
        if !self.halt_intraday && equity < self.day_peak * (1.0 - l.intraday_drawdown_limit) {
            self.halt_intraday = true;
            self.breaker(Reason::HaltIntradayDrawdown);
        }
        if self.halt_until_day < 0 {
            self.peak = self.peak.max(equity);
            if equity < self.peak * (1.0 - l.max_drawdown_limit) {
                self.halt_until_day = self.day + 1 + l.cooloff_days;
                self.breaker(Reason::HaltMaxDrawdown);
            }
        }
    }

    /// Turn the kill switch on: every entry is rejected until [`reset_kill`](Self::reset_kill).
    pub fn kill(&mut self) {
        if !self.killed {
            self.killed = true;
            self.breaker(Reason::KillSwitch);
        }
    }

    /// Turn the kill switch off.
    pub fn reset_kill(&mut self) {
        self.killed = false;
    }

    fn breaker(&mut self, reason: Reason) {
        self.breakers += 1;
        self.events.push(RiskEvent::new(
            self.bar,
            Action::CircuitBreaker,
            reason,
            0,
            0,
        ));
    }

    /// Whether the kill switch is on.
    pub fn killed(&self) -> bool {
        self.killed
    }

    /// Whether a circuit breaker blocks entries right now (`RiskManager.halted`; the kill
    /// switch is [`killed`](Self::killed)).
    pub fn halted(&self) -> bool {
        self.halt_consecutive || self.halt_intraday || self.halt_until_day >= 0
    }

    /// The current trade date (-1 before the first bar).
    pub fn day(&self) -> i64 {
        self.day
    }

    /// Entry requests rejected so far.
    pub fn trades_rejected(&self) -> i64 {
        self.trades_rejected
    }

    /// Circuit breakers tripped so far (the kill switch included).
    pub fn circuit_breaker_triggered(&self) -> i64 {
        self.breakers
    }

    /// The decisions and breaker events logged so far.
    pub fn events(&self) -> &[RiskEvent] {
        &self.events
    }

    /// Hand over the logged events and start a new log (a long session need not keep them).
    pub fn take_events(&mut self) -> Vec<RiskEvent> {
        std::mem::take(&mut self.events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backtest::risk::Risk;
    use crate::backtest::{Params, Sizing, StopMode};

    fn limits(rate: Option<u32>) -> PreTradeLimits {
        PreTradeLimits {
            daily_loss_limit: 0.05,
            max_position: 5,
            max_exposure: 20.0,
            max_consecutive_losses: 3,
            intraday_drawdown_limit: 0.04,
            max_drawdown_limit: 0.2,
            cooloff_days: 2,
            tick_size: 0.01,
            multiplier: 100.0,
            max_orders_per_minute: rate,
        }
    }

    fn params(l: &PreTradeLimits) -> Params {
        Params {
            initial_capital: 10_000.0,
            commission: 0.0,
            slippage_ticks: 0,
            tick_value: 1.0,
            tick_size: l.tick_size,
            multiplier: l.multiplier,
            use_risk: true,
            roll: false,
            fixed_contracts: 1,
            stop_mode: StopMode::Atr,
            stop_pct: 0.01,
            stop_usd: 50.0,
            target_r: None,
            sizing: Sizing::Fixed,
            sizing_contracts: 1,
            kelly_fraction: 0.5,
            kelly_cap: 0.25,
            kelly_min_trades: 30,
            risk_per_trade: 0.02,
            daily_loss_limit: l.daily_loss_limit,
            max_position: l.max_position,
            max_exposure: l.max_exposure,
            max_consecutive_losses: l.max_consecutive_losses,
            intraday_drawdown_limit: l.intraday_drawdown_limit,
            max_drawdown_limit: l.max_drawdown_limit,
            cooloff_days: l.cooloff_days,
            initial_margin: 0.0,
            maintenance_margin: 0.0,
        }
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> i64 {
            (self.next() % n) as i64
        }
    }

    #[test]
    fn same_decisions_and_events_as_the_backtest_kernels_rules() {
        let mut reasons = std::collections::HashSet::new();
        for seed in 1..40u64 {
            let l = limits(None);
            let p = params(&l);
            let (mut ours, mut kernel, mut ev) = (PreTradeRisk::new(l), Risk::new(), Vec::new());
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let (mut equity, mut day) = (10_000.0, 0);
            for bar in 0..400 {
                day += (rng.below(20) == 0) as i64;
                ours.start_bar(bar, day, equity);
                kernel.start_bar(bar, day, equity);
                for _ in 0..rng.below(3) {
                    let req = rng.below(12) - 1;
                    let px = 6_000 + rng.below(2_000);
                    let hours = rng.below(10) > 0;
                    let cap = (rng.below(4) == 0).then(|| rng.below(6));
                    if rng.below(2) == 0 {
                        let d = ours.check_entry(req, px, equity, hours, cap, bar).unwrap();
                        let k = kernel.check_entry(
                            &p,
                            &mut ev,
                            req,
                            px,
                            equity,
                            hours,
                            cap.unwrap_or(i64::MAX),
                        );
                        assert_eq!(d.approved, k, "seed {seed} bar {bar}");
                    } else if let Some(cap) = cap {
                        let d = ours.check_margin(bar, req.max(1), cap);
                        let k = kernel.check_margin(&mut ev, bar, req.max(1), cap);
                        assert_eq!(d, k, "seed {seed} bar {bar}");
                    }
                }
                if rng.below(3) == 0 {
                    let pnl = (rng.below(400) - 220) as f64;
                    equity += pnl;
                    if rng.below(20) == 0 {
                        let n = 1 + rng.below(3);
                        ours.margin_call(bar, n);
                        ev.push(RiskEvent::new(
                            bar,
                            Action::MarginCall,
                            Reason::MaintenanceMargin,
                            n,
                            0,
                        ));
                    }
                    ours.on_trade_closed(pnl);
                    kernel.on_trade_closed(&p, &mut ev, pnl);
                }
                equity += (rng.below(200) - 100) as f64;
                ours.end_bar(equity);
                kernel.end_bar(&p, &mut ev, equity);
            }
            assert_eq!(ours.events(), ev.as_slice(), "seed {seed}");
            reasons.extend(ev.iter().map(|e| (e.action, e.reason)));
            assert_eq!(ours.trades_rejected(), kernel.trades_rejected);
            assert_eq!(ours.circuit_breaker_triggered(), kernel.breakers);
        }
        // The sequences reach most outcomes (accepted, resized, each kind of rejection).
        assert!(reasons.len() >= 10, "{reasons:?}");
        for outcome in [
            (Action::Resized, Reason::InitialMargin),
            (Action::Rejected, Reason::InitialMargin),
            (Action::MarginCall, Reason::MaintenanceMargin),
        ] {
            let (a, r) = outcome;
            assert!(
                reasons.contains(&(a as i64, r as i64)),
                "{outcome:?} never reached"
            );
        }
    }

    #[test]
    fn the_order_rate_counts_approved_entries_and_recorded_orders() {
        let mut r = PreTradeRisk::new(limits(Some(2)));
        r.start_bar(0, 0, 100_000.0);
        let s = 1_000_000_000;
        assert_eq!(
            r.check_entry(1, 7_000, 100_000.0, true, None, 0)
                .unwrap()
                .approved,
            1
        );
        // a rejected request is not an order
        assert_eq!(
            r.check_entry(1, 7_000, 100_000.0, false, None, s)
                .unwrap()
                .reason,
            Reason::OutsideTradingHours
        );
        r.record_order(2 * s).unwrap();
        let d = r
            .check_entry(1, 7_000, 100_000.0, true, None, 59 * s)
            .unwrap();
        assert_eq!((d.action, d.reason), (Action::Rejected, Reason::OrderRate));
        // a minute after the first order, one slot is free again
        assert_eq!(
            r.check_entry(1, 7_000, 100_000.0, true, None, 60 * s)
                .unwrap()
                .approved,
            1
        );
        assert_eq!(
            r.record_order(59 * s),
            Err(RiskError::TimeWentBack {
                ts_ns: 59 * s,
                last_ns: 60 * s
            })
        );
    }

    #[test]
    fn the_kill_switch_rejects_everything_until_reset() {
        let mut r = PreTradeRisk::new(limits(None));
        r.start_bar(0, 0, 100_000.0);
        r.kill();
        r.kill(); // once
        assert_eq!(r.circuit_breaker_triggered(), 1);
        r.start_bar(1, 1, 100_000.0); // a new trade date does not clear it
        let d = r.check_entry(1, 7_000, 100_000.0, true, None, 0).unwrap();
        assert_eq!((d.action, d.reason), (Action::Rejected, Reason::KillSwitch));
        assert!(r.killed() && !r.halted());
        r.reset_kill();
        assert_eq!(
            r.check_entry(1, 7_000, 100_000.0, true, None, 0)
                .unwrap()
                .action,
            Action::Accepted
        );
        assert_eq!(r.take_events().len(), 3);
        assert!(r.events().is_empty());
    }
}
