//! The backtest state machine on integer ticks: the compiled twin of
//! `workbench/backtest/simulate.py::simulate_python` and the `workbench.risk` classes.
//!
//! Every rule here has a Python counterpart; a test runs both on the same inputs and holds
//! them to the same trades, equity and risk events. Codes match `workbench/risk/decisions.py`.

// Decision actions.
pub const ACCEPTED: i64 = 0;
pub const RESIZED: i64 = 1;
pub const REJECTED: i64 = 2;
pub const CIRCUIT_BREAKER: i64 = 3;
// Decision reasons.
pub const OK: i64 = 0;
pub const MAX_POSITION: i64 = 1;
pub const MAX_EXPOSURE: i64 = 2;
pub const SIZE_BELOW_ONE: i64 = 3;
pub const DAILY_LOSS_LIMIT: i64 = 4;
pub const OUTSIDE_TRADING_HOURS: i64 = 5;
pub const HALT_CONSECUTIVE_LOSSES: i64 = 6;
pub const HALT_INTRADAY_DRAWDOWN: i64 = 7;
pub const HALT_MAX_DRAWDOWN: i64 = 8;
pub const NO_STOP_DISTANCE: i64 = 9;
// Exit reasons.
pub const EXIT_SIGNAL: i64 = 0;
pub const EXIT_STOP: i64 = 1;
pub const EXIT_TARGET: i64 = 2;
pub const EXIT_ROLL: i64 = 3;
pub const EXIT_SESSION: i64 = 4;
pub const EXIT_END: i64 = 5;

/// Stop modes (index into `workbench.risk.config.STOP_MODES`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopMode {
    None,
    FixedPct,
    FixedUsd,
    Atr,
    TrailingAtr,
    TrailingPct,
}

impl StopMode {
    pub fn from_index(i: i64) -> Option<StopMode> {
        Some(match i {
            0 => StopMode::None,
            1 => StopMode::FixedPct,
            2 => StopMode::FixedUsd,
            3 => StopMode::Atr,
            4 => StopMode::TrailingAtr,
            5 => StopMode::TrailingPct,
            _ => return None,
        })
    }
    fn trailing(self) -> bool {
        matches!(self, StopMode::TrailingAtr | StopMode::TrailingPct)
    }
}

/// Sizing methods (index into `workbench.risk.config.SIZING_METHODS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sizing {
    Fixed,
    FixedFractional,
    Volatility,
    Kelly,
}

impl Sizing {
    pub fn from_index(i: i64) -> Option<Sizing> {
        Some(match i {
            0 => Sizing::Fixed,
            1 => Sizing::FixedFractional,
            2 => Sizing::Volatility,
            3 => Sizing::Kelly,
            _ => return None,
        })
    }
}

/// Scalars of a simulation (see `SimParams` in Python).
#[derive(Clone, Debug)]
pub struct Params {
    pub initial_capital: f64,
    pub commission: f64,
    pub slippage_ticks: i64,
    pub tick_value: f64,
    pub tick_size: f64,
    pub multiplier: f64,
    pub use_risk: bool,
    pub roll: bool,
    pub fixed_contracts: i64,
    pub stop_mode: StopMode,
    pub stop_pct: f64,
    pub stop_usd: f64,
    pub target_r: Option<f64>,
    pub sizing: Sizing,
    pub sizing_contracts: i64,
    pub kelly_fraction: f64,
    pub kelly_cap: f64,
    pub kelly_min_trades: i64,
    pub risk_per_trade: f64,
    pub daily_loss_limit: f64,
    pub max_position: i64,
    pub max_exposure: f64,
    pub max_consecutive_losses: i64,
    pub intraday_drawdown_limit: f64,
    pub max_drawdown_limit: f64,
    pub cooloff_days: i64,
}

/// 1.5 x 2^52: adding and subtracting it rounds an f64 of magnitude < 2^51 to the nearest
/// integer, ties to even (the FPU's default mode): NumPy's `rint`, without a libm call.
const RINT_MAGIC: f64 = 6_755_399_441_055_744.0;

#[inline]
fn rint(x: f64) -> f64 {
    if x.abs() < 2_251_799_813_685_248.0 {
        (x + RINT_MAGIC) - RINT_MAGIC
    } else {
        x.round_ties_even()
    }
}

/// `rint(price / tick)` as whole ticks, with a multiplication by `inv = 1 / tick` instead of
/// the division where that cannot change the result.
///
/// `price * inv` is within a few ulps of `price / tick`; when it lies within a quarter tick of
/// an integer (every price on the tick grid), both round to that integer. Only a price far off
/// the grid (or huge, or NaN) takes the exact division. A division costs several times a
/// multiplication, and the kernel converts up to four prices per bar.
#[inline]
pub fn price_ticks(price: f64, tick: f64, inv: f64) -> i64 {
    let q = price * inv;
    if q.abs() < 1e15 {
        let r = (q + RINT_MAGIC) - RINT_MAGIC;
        if (q - r).abs() < 0.25 {
            return r as i64;
        }
    }
    rint(price / tick) as i64
}

/// Prices to whole ticks: `rint(price / tick)` (ties to even, as NumPy's `rint`).
pub fn prices_to_ticks(prices: &[f64], tick: f64) -> Vec<i64> {
    let inv = 1.0 / tick;
    prices.iter().map(|&p| price_ticks(p, tick, inv)).collect()
}

/// A stop distance (price units, NaN = none) in whole ticks, rounded up:
/// `ceil(max(d / tick, 0) - 1e-9)`, 0 for NaN.
#[inline]
pub fn distance_ticks(d: f64, tick: f64) -> i64 {
    let t = d / tick;
    if t.is_nan() {
        0
    } else {
        (t.max(0.0) - 1e-9).ceil() as i64
    }
}

/// [`distance_ticks`] over a slice.
pub fn distances_to_ticks(dist: &[f64], tick: f64) -> Vec<i64> {
    dist.iter().map(|&d| distance_ticks(d, tick)).collect()
}

/// Per-bar inputs, borrowed from NumPy arrays. Prices and stop distances stay in price
/// units and are turned into ticks bar by bar, and trade dates and contract rolls come as the
/// few bars where they change: no per-bar arrays are materialised (fresh multi-megabyte
/// buffers cost more in page faults than the whole simulation).
pub struct Inputs<'a> {
    pub tick: f64,
    /// `1 / tick`, for [`price_ticks`].
    pub inv_tick: f64,
    pub open: &'a [f64],
    pub high: &'a [f64],
    pub low: &'a [f64],
    pub close: &'a [f64],
    pub signal: &'a [i8],
    pub stop_distance: &'a [f64],
    /// First bar of each CME trade date after the first, ascending: the day index (0 at bar
    /// 0) steps up by one at each.
    pub day_starts: &'a [i64],
    /// Bars whose contract differs from the previous bar's, ascending.
    pub rolls: &'a [i64],
    /// Entries allowed at this bar's open (trading hours); `None`: always.
    pub entry_ok: Option<&'a [bool]>,
    /// Be flat at this bar's open (before the halt); `None`: never.
    pub force_flat: Option<&'a [bool]>,
}

#[derive(Default, Debug, Clone)]
pub struct Trades {
    pub entry_bar: Vec<i64>,
    pub exit_bar: Vec<i64>,
    pub side: Vec<i64>,
    pub contracts: Vec<i64>,
    pub entry_px: Vec<i64>,
    pub exit_px: Vec<i64>,
    pub gross_pnl: Vec<f64>,
    pub commission: Vec<f64>,
    pub slippage_cost: Vec<f64>,
    pub net_pnl: Vec<f64>,
    pub exit_reason: Vec<i64>,
    pub exit_at_close: Vec<i64>,
}

#[derive(Default, Debug, Clone)]
pub struct Events {
    pub bar: Vec<i64>,
    pub action: Vec<i64>,
    pub reason: Vec<i64>,
    pub requested: Vec<i64>,
    pub approved: Vec<i64>,
}

impl Inputs<'_> {
    #[inline]
    fn o(&self, i: usize) -> i64 {
        price_ticks(self.open[i], self.tick, self.inv_tick)
    }
    #[inline]
    fn h(&self, i: usize) -> i64 {
        price_ticks(self.high[i], self.tick, self.inv_tick)
    }
    #[inline]
    fn l(&self, i: usize) -> i64 {
        price_ticks(self.low[i], self.tick, self.inv_tick)
    }
    #[inline]
    fn c(&self, i: usize) -> i64 {
        price_ticks(self.close[i], self.tick, self.inv_tick)
    }
    #[inline]
    fn stop_ticks(&self, i: usize) -> i64 {
        distance_ticks(self.stop_distance[i], self.tick)
    }
    #[inline]
    fn entry_ok(&self, i: usize) -> bool {
        self.entry_ok.is_none_or(|a| a[i])
    }
    #[inline]
    fn force_flat(&self, i: usize) -> bool {
        self.force_flat.is_some_and(|a| a[i])
    }

    /// Why these inputs cannot be simulated, if they cannot (lengths, boundary lists).
    pub fn check(&self) -> Result<(), String> {
        let n = self.open.len();
        let lengths = [
            ("high", self.high.len()),
            ("low", self.low.len()),
            ("close", self.close.len()),
            ("signal", self.signal.len()),
            ("stop_distance", self.stop_distance.len()),
            ("entry_ok", self.entry_ok.map_or(n, <[bool]>::len)),
            ("force_flat", self.force_flat.map_or(n, <[bool]>::len)),
        ];
        for (name, len) in lengths {
            if len != n {
                return Err(format!("{name} has {len} values, open has {n}"));
            }
        }
        for (name, list) in [("day_starts", self.day_starts), ("rolls", self.rolls)] {
            let ok = list.windows(2).all(|w| w[0] < w[1])
                && list.iter().all(|&b| b > 0 && (b as usize) < n);
            if !ok {
                return Err(format!("{name} must be ascending bar indices in 1..{n}"));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct Outputs {
    /// Equity at each bar's close. (The position at each close follows from the trades:
    /// `workbench.backtest.simulate.positions_from_trades`; no second per-bar buffer.)
    pub equity: Vec<f64>,
    pub trades: Trades,
    pub events: Events,
    pub trades_rejected: i64,
    pub circuit_breaker_triggered: i64,
}

/// `RiskManager`'s state.
struct Risk {
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
    trades_rejected: i64,
    breakers: i64,
}

/// `TradeStats` for Kelly sizing.
#[derive(Default)]
struct Stats {
    wins: i64,
    losses: i64,
    sum_win: f64,
    sum_loss: f64,
}

struct Position {
    side: i64,
    qty: i64,
    entry_px: i64,
    entry_bar: i64,
    dist: i64,
    entry_slip: i64,
    stop: Option<i64>,
    target: Option<i64>,
}

fn ceil_eps(x: f64) -> i64 {
    (x - 1e-9).ceil() as i64
}

fn floor_eps(x: f64) -> i64 {
    (x + 1e-9).floor() as i64
}

impl Risk {
    fn new() -> Self {
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

    fn start_bar(&mut self, bar: i64, day: i64, equity: f64) {
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

    fn reject(&mut self, ev: &mut Events, reason: i64, requested: i64) -> i64 {
        self.trades_rejected += 1;
        push_event(ev, self.bar, REJECTED, reason, requested, 0);
        0
    }

    fn check_entry(
        &mut self,
        p: &Params,
        ev: &mut Events,
        requested: i64,
        price_ticks: i64,
        equity: f64,
        in_hours: bool,
    ) -> i64 {
        if self.halt_until_day >= 0 {
            return self.reject(ev, HALT_MAX_DRAWDOWN, requested);
        }
        if self.halt_consecutive {
            return self.reject(ev, HALT_CONSECUTIVE_LOSSES, requested);
        }
        if self.halt_intraday {
            return self.reject(ev, HALT_INTRADAY_DRAWDOWN, requested);
        }
        if self.day_realized <= -p.daily_loss_limit * self.day_start_equity {
            return self.reject(ev, DAILY_LOSS_LIMIT, requested);
        }
        if !in_hours {
            return self.reject(ev, OUTSIDE_TRADING_HOURS, requested);
        }
        if requested < 0 {
            return self.reject(ev, NO_STOP_DISTANCE, requested);
        }
        if requested < 1 {
            return self.reject(ev, SIZE_BELOW_ONE, requested);
        }
        let mut approved = requested;
        let mut reason = OK;
        if approved > p.max_position {
            approved = p.max_position;
            reason = MAX_POSITION;
        }
        let notional = (price_ticks.abs() as f64) * p.tick_size * p.multiplier;
        if notional > 0.0 {
            let cap = (p.max_exposure * equity.max(0.0) / notional + 1e-9) as i64;
            if approved > cap {
                if cap < 1 {
                    return self.reject(ev, MAX_EXPOSURE, requested);
                }
                approved = cap;
                reason = MAX_EXPOSURE;
            }
        }
        let action = if approved == requested {
            ACCEPTED
        } else {
            RESIZED
        };
        push_event(ev, self.bar, action, reason, requested, approved);
        approved
    }

    fn on_trade_closed(&mut self, p: &Params, ev: &mut Events, net: f64) {
        self.day_realized += net;
        if net < 0.0 {
            self.consecutive_losses += 1;
            if self.consecutive_losses >= p.max_consecutive_losses {
                self.consecutive_losses = 0;
                if !self.halt_consecutive {
                    self.halt_consecutive = true;
                    self.breaker(ev, HALT_CONSECUTIVE_LOSSES);
                }
            }
        } else if net > 0.0 {
            self.consecutive_losses = 0;
        }
    }

    fn end_bar(&mut self, p: &Params, ev: &mut Events, equity: f64) {
        self.day_peak = self.day_peak.max(equity);
        if !self.halt_intraday && equity < self.day_peak * (1.0 - p.intraday_drawdown_limit) {
            self.halt_intraday = true;
            self.breaker(ev, HALT_INTRADAY_DRAWDOWN);
        }
        if self.halt_until_day < 0 {
            self.peak = self.peak.max(equity);
            if equity < self.peak * (1.0 - p.max_drawdown_limit) {
                self.halt_until_day = self.day + 1 + p.cooloff_days;
                self.breaker(ev, HALT_MAX_DRAWDOWN);
            }
        }
    }

    fn breaker(&mut self, ev: &mut Events, reason: i64) {
        self.breakers += 1;
        push_event(ev, self.bar, CIRCUIT_BREAKER, reason, 0, 0);
    }
}

fn push_event(ev: &mut Events, bar: i64, action: i64, reason: i64, requested: i64, approved: i64) {
    ev.bar.push(bar);
    ev.action.push(action);
    ev.reason.push(reason);
    ev.requested.push(requested);
    ev.approved.push(approved);
}

impl Stats {
    fn record(&mut self, net: f64) {
        if net > 0.0 {
            self.wins += 1;
            self.sum_win += net;
        } else if net < 0.0 {
            self.losses += 1;
            self.sum_loss += -net;
        }
    }
}

/// `StopLossManager.distance_ticks`.
fn stop_distance(p: &Params, ref_ticks: i64, strategy_ticks: i64) -> i64 {
    match p.stop_mode {
        StopMode::None => 0,
        StopMode::FixedPct | StopMode::TrailingPct => {
            ceil_eps((ref_ticks.abs() as f64) * p.stop_pct).max(1)
        }
        StopMode::FixedUsd => floor_eps(p.stop_usd / p.tick_value).max(1),
        StopMode::Atr | StopMode::TrailingAtr => strategy_ticks.max(0),
    }
}

/// `PositionSizer.size`.
fn size(p: &Params, st: &Stats, equity: f64, stop_ticks: i64, atr_ticks: i64) -> i64 {
    if p.sizing == Sizing::Fixed {
        return p.sizing_contracts;
    }
    let mut risk = p.risk_per_trade;
    if p.sizing == Sizing::Kelly {
        let count = st.wins + st.losses;
        if count >= p.kelly_min_trades && st.wins > 0 && st.losses > 0 {
            let w = st.wins as f64 / count as f64;
            let r = (st.sum_win / st.wins as f64) / (st.sum_loss / st.losses as f64);
            let f = w - (1.0 - w) / r;
            risk = (p.kelly_fraction * f).max(0.0).min(p.kelly_cap);
        }
    }
    let per_contract = if p.sizing == Sizing::Volatility {
        atr_ticks as f64 * p.tick_value
    } else {
        stop_ticks as f64 * p.tick_value
    };
    if per_contract <= 0.0 {
        return -1;
    }
    floor_eps(equity * risk / per_contract).max(0)
}

/// `StopLossManager.check`: `Some((price, reason))` when the bar hits the stop or target.
pub fn check_stop(
    side: i64,
    stop: Option<i64>,
    target: Option<i64>,
    open: i64,
    high: i64,
    low: i64,
) -> Option<(i64, i64)> {
    if side > 0 {
        if let Some(s) = stop {
            if open <= s {
                return Some((open, EXIT_STOP));
            }
        }
        if let Some(t) = target {
            if open >= t {
                return Some((open, EXIT_TARGET));
            }
        }
        if let Some(s) = stop {
            if low <= s {
                return Some((s, EXIT_STOP));
            }
        }
        if let Some(t) = target {
            if high >= t {
                return Some((t, EXIT_TARGET));
            }
        }
    } else if side < 0 {
        if let Some(s) = stop {
            if open >= s {
                return Some((open, EXIT_STOP));
            }
        }
        if let Some(t) = target {
            if open <= t {
                return Some((open, EXIT_TARGET));
            }
        }
        if let Some(s) = stop {
            if high >= s {
                return Some((s, EXIT_STOP));
            }
        }
        if let Some(t) = target {
            if low <= t {
                return Some((t, EXIT_TARGET));
            }
        }
    }
    None
}

struct Sim<'p> {
    p: &'p Params,
    cash: f64,
    pos: Option<Position>,
    risk: Risk,
    stats: Stats,
    trades: Trades,
    events: Events,
}

impl<'p> Sim<'p> {
    fn close_trade(&mut self, px: i64, bar: i64, reason: i64, at_close: bool, exit_slip: i64) {
        let pos = self.pos.take().expect("close_trade without a position");
        let p = self.p;
        let gross = ((pos.side * (px - pos.entry_px) * pos.qty) as f64) * p.tick_value;
        let cost = p.commission * pos.qty as f64;
        self.cash += gross;
        self.cash -= cost;
        let net = gross - 2.0 * cost;
        let t = &mut self.trades;
        t.entry_bar.push(pos.entry_bar);
        t.exit_bar.push(bar);
        t.side.push(pos.side);
        t.contracts.push(pos.qty);
        t.entry_px.push(pos.entry_px);
        t.exit_px.push(px);
        t.gross_pnl.push(gross);
        t.commission.push(2.0 * cost);
        t.slippage_cost
            .push(((pos.entry_slip + exit_slip) * pos.qty) as f64 * p.tick_value);
        t.net_pnl.push(net);
        t.exit_reason.push(reason);
        t.exit_at_close.push(at_close as i64);
        if p.use_risk {
            self.risk.on_trade_closed(p, &mut self.events, net);
            self.stats.record(net);
        }
    }

    fn open_trade(&mut self, side: i64, qty: i64, bar: usize, open: i64, dist: i64) {
        let p = self.p;
        let entry_px = open + side * p.slippage_ticks;
        self.cash -= p.commission * qty as f64;
        let (mut stop, mut target) = (None, None);
        if p.use_risk && dist > 0 {
            stop = Some(entry_px - side * dist);
            if let Some(r) = p.target_r {
                target = Some(entry_px + side * ceil_eps(dist as f64 * r));
            }
        }
        self.pos = Some(Position {
            side,
            qty,
            entry_px,
            entry_bar: bar as i64,
            dist,
            entry_slip: p.slippage_ticks,
            stop,
            target,
        });
    }
}

/// How many bars ahead the quiet loop prefetches an entry bar's prices.
const PREFETCH_AHEAD: usize = 16;

#[inline(always)]
fn prefetch<T>(r: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint; it never faults, and `r` is a valid reference anyway.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>((r as *const T).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = r;
}

impl Sim<'_> {
    /// Bars `i..until` on which nothing can happen but the mark to market (no roll or new
    /// trade date before `until`; no change of signal, forced exit, stop or target), run in a
    /// tight loop. They get exactly what the full rules would give them; the first bar that
    /// needs more is returned for the general loop body.
    fn quiet_run(
        &mut self,
        x: &Inputs,
        mut i: usize,
        until: usize,
        equity: &mut [f64],
        eq_prev: &mut f64,
    ) -> usize {
        let p = self.p;
        let until = until.min(equity.len());
        let Sim {
            pos,
            risk,
            events,
            cash,
            ..
        } = self;
        // `start_bar` seeds the peak the first time: leave such a bar to the full rules.
        if p.use_risk && risk.peak == 0.0 {
            return i;
        }
        match pos.as_mut() {
            None => {
                // Flat: only a new signal (an entry) needs the full rules.
                let start = i;
                while i < until && i >= 2 {
                    let s1 = x.signal[i - 1];
                    if s1 != 0 && s1 != x.signal[i - 2] {
                        break;
                    }
                    // The bar where an entry will be considered reads prices scattered
                    // through memory: ask for them a little ahead.
                    let k = i + PREFETCH_AHEAD;
                    if k < until && x.signal[k - 1] != x.signal[k - 2] {
                        prefetch(&x.close[k - 1]);
                        prefetch(&x.stop_distance[k - 1]);
                        prefetch(&x.open[k]);
                    }
                    equity[i] = *cash;
                    i += 1;
                }
                if i > start {
                    *eq_prev = *cash;
                }
            }
            Some(pos) => {
                let trailing = p.stop_mode.trailing() && pos.dist > 0;
                let levels = pos.stop.is_some() || pos.target.is_some();
                while i < until {
                    if x.signal[i - 1] as i64 != pos.side || x.force_flat(i) {
                        break;
                    }
                    let (h, l) = if levels || trailing {
                        (x.h(i), x.l(i))
                    } else {
                        (0, 0)
                    };
                    if levels && check_stop(pos.side, pos.stop, pos.target, x.o(i), h, l).is_some()
                    {
                        break;
                    }
                    let mtm = *cash
                        + ((pos.side * (x.c(i) - pos.entry_px) * pos.qty) as f64) * p.tick_value;
                    if trailing {
                        if let Some(s) = pos.stop {
                            pos.stop = Some(if pos.side > 0 {
                                s.max(h - pos.dist)
                            } else {
                                s.min(l + pos.dist)
                            });
                        }
                    }
                    if p.use_risk {
                        risk.bar = i as i64;
                        risk.end_bar(p, events, mtm);
                    }
                    equity[i] = mtm;
                    *eq_prev = mtm;
                    i += 1;
                }
            }
        }
        i
    }
}

/// Run the simulation over all bars.
pub fn simulate(x: &Inputs, p: &Params) -> Outputs {
    let n = x.open.len();
    let slip = p.slippage_ticks;
    let mut sim = Sim {
        p,
        cash: p.initial_capital,
        pos: None,
        risk: Risk::new(),
        stats: Stats::default(),
        trades: Trades::default(),
        events: Events::default(),
    };
    let mut equity = vec![0.0f64; n];
    let mut eq_prev = p.initial_capital;
    let (mut day, mut next_day) = (0i64, 0usize);
    let mut next_roll = 0usize;
    let mut i = 0usize;
    while i < n {
        let closed_before = sim.trades.net_pnl.len();
        // 1. roll
        if next_roll < x.rolls.len() && x.rolls[next_roll] as usize == i {
            next_roll += 1;
            if let Some(pos) = sim.pos.as_ref() {
                let (side, qty, dist) = (pos.side, pos.qty, pos.dist);
                sim.close_trade(
                    x.c(i - 1) - side * slip,
                    (i - 1) as i64,
                    EXIT_ROLL,
                    true,
                    slip,
                );
                eq_prev = sim.cash;
                if p.roll {
                    sim.open_trade(side, qty, i, x.o(i), dist);
                }
            }
        }
        // 2. trade date
        let mut new_day = false;
        if p.use_risk {
            if next_day < x.day_starts.len() && x.day_starts[next_day] as usize == i {
                next_day += 1;
                day += 1;
            }
            new_day = day != sim.risk.day; // bar 0 starts the first date
            sim.risk.start_bar(i as i64, day, eq_prev);
        }
        // 3. act at the open on the previous bar's signal
        if i > 0 {
            let s1 = x.signal[i - 1] as i64;
            let s2 = if i > 1 { x.signal[i - 2] as i64 } else { 0 };
            if let Some(side) = sim.pos.as_ref().map(|q| q.side) {
                let flat = x.force_flat(i);
                if s1 != side || flat {
                    let reason = if flat && s1 == side {
                        EXIT_SESSION
                    } else {
                        EXIT_SIGNAL
                    };
                    sim.close_trade(x.o(i) - side * slip, i as i64, reason, false, slip);
                }
            }
            if sim.pos.is_none() && s1 != 0 && s1 != s2 {
                if p.use_risk {
                    let d = stop_distance(p, x.c(i - 1), x.stop_ticks(i - 1));
                    let req = size(p, &sim.stats, eq_prev, d, x.stop_ticks(i - 1));
                    let in_hours = x.entry_ok(i) && !x.force_flat(i);
                    let approved = sim.risk.check_entry(
                        p,
                        &mut sim.events,
                        req,
                        x.c(i - 1),
                        eq_prev,
                        in_hours,
                    );
                    if approved > 0 {
                        sim.open_trade(s1, approved, i, x.o(i), d);
                    }
                } else if !x.force_flat(i) {
                    sim.open_trade(s1, p.fixed_contracts, i, x.o(i), 0);
                }
            }
        }
        // 4. intrabar stop / target
        if let Some(pos) = sim.pos.as_ref() {
            if pos.stop.is_some() || pos.target.is_some() {
                let side = pos.side;
                if let Some((px, reason)) =
                    check_stop(side, pos.stop, pos.target, x.o(i), x.h(i), x.l(i))
                {
                    if reason == EXIT_STOP {
                        sim.close_trade(px - side * slip, i as i64, reason, false, slip);
                    } else {
                        sim.close_trade(px, i as i64, reason, false, 0);
                    }
                }
            }
        }
        // 5. close
        let mut mtm = sim.cash;
        if let Some(pos) = sim.pos.as_mut() {
            mtm += ((pos.side * (x.c(i) - pos.entry_px) * pos.qty) as f64) * p.tick_value;
            if p.stop_mode.trailing() && pos.dist > 0 {
                if let Some(s) = pos.stop {
                    pos.stop = Some(if pos.side > 0 {
                        s.max(x.h(i) - pos.dist)
                    } else {
                        s.min(x.l(i) + pos.dist)
                    });
                }
            }
        }
        // Flat all bar long with no fill (a roll exit counts as a fill) on a trade date already
        // started: `end_bar` saw this same cash with these same peaks last time, so it would
        // change nothing. A new date resets the peaks and halts: then it may (a negative
        // equity trips the breakers again). The Python reference calls it on every bar; a
        // test holds both to the same events.
        let filled = sim.trades.net_pnl.len() != closed_before;
        if p.use_risk && (sim.pos.is_some() || filled || new_day) {
            sim.risk.end_bar(p, &mut sim.events, mtm);
        }
        equity[i] = mtm;
        eq_prev = mtm;
        i += 1;
        // Then the bars where only the mark to market changes, up to the next roll or date.
        let next_roll_bar = x.rolls.get(next_roll).map_or(n, |&b| b as usize);
        let next_day_bar = match x.day_starts.get(next_day) {
            Some(&b) if p.use_risk => b as usize,
            _ => n,
        };
        i = sim.quiet_run(
            x,
            i,
            next_roll_bar.min(next_day_bar),
            &mut equity,
            &mut eq_prev,
        );
    }
    // 6. end of data
    if n > 0 {
        if let Some(side) = sim.pos.as_ref().map(|q| q.side) {
            sim.close_trade(
                x.c(n - 1) - side * slip,
                (n - 1) as i64,
                EXIT_END,
                true,
                slip,
            );
            equity[n - 1] = sim.cash;
        }
    }
    Outputs {
        equity,
        trades: sim.trades,
        events: sim.events,
        trades_rejected: sim.risk.trades_rejected,
        circuit_breaker_triggered: sim.risk.breakers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(use_risk: bool) -> Params {
        Params {
            initial_capital: 5_000.0,
            commission: 1.25,
            slippage_ticks: 1,
            tick_value: 1.0,
            tick_size: 0.01,
            multiplier: 100.0,
            use_risk,
            roll: true,
            fixed_contracts: 1,
            stop_mode: StopMode::Atr,
            stop_pct: 0.01,
            stop_usd: 50.0,
            target_r: None,
            sizing: Sizing::FixedFractional,
            sizing_contracts: 1,
            kelly_fraction: 0.5,
            kelly_cap: 0.25,
            kelly_min_trades: 30,
            risk_per_trade: 0.02,
            daily_loss_limit: 0.05,
            max_position: 5,
            max_exposure: 20.0,
            max_consecutive_losses: 5,
            intraday_drawdown_limit: 0.04,
            max_drawdown_limit: 0.2,
            cooloff_days: 5,
        }
    }

    struct Owned {
        o: Vec<f64>,
        h: Vec<f64>,
        l: Vec<f64>,
        c: Vec<f64>,
        s: Vec<i8>,
        st: Vec<f64>,
        d: Vec<i64>,
        k: Vec<i64>,
    }

    impl Owned {
        /// Bars in whole ticks (tick = 1.0), a 20-tick strategy stop distance.
        fn new(closes: &[i64], signals: &[i8]) -> Self {
            let n = closes.len();
            let o: Vec<i64> = (0..n)
                .map(|i| if i == 0 { closes[0] } else { closes[i - 1] })
                .collect();
            let f = |v: Vec<i64>| v.into_iter().map(|x| x as f64).collect::<Vec<f64>>();
            Owned {
                h: f((0..n).map(|i| o[i].max(closes[i]) + 1).collect()),
                l: f((0..n).map(|i| o[i].min(closes[i]) - 1).collect()),
                o: f(o),
                c: f(closes.to_vec()),
                s: signals.to_vec(),
                st: vec![20.0; n],
                d: vec![],
                k: vec![],
            }
        }
        fn inputs(&self) -> Inputs<'_> {
            Inputs {
                tick: 1.0,
                inv_tick: 1.0,
                open: &self.o,
                high: &self.h,
                low: &self.l,
                close: &self.c,
                signal: &self.s,
                stop_distance: &self.st,
                day_starts: &self.d,
                rolls: &self.k,
                entry_ok: None,
                force_flat: None,
            }
        }
    }

    #[test]
    fn fills_at_next_open_with_slippage_and_fees() {
        let data = Owned::new(&[7000, 7010, 7020, 7030, 7040], &[1, 1, 1, 0, 0]);
        let out = simulate(&data.inputs(), &params(false));
        assert_eq!(out.trades.entry_bar, vec![1]);
        assert_eq!(out.trades.entry_px, vec![7000 + 1]); // open of bar 1 = close of bar 0, +1 tick
        assert_eq!(out.trades.exit_bar, vec![4]);
        assert_eq!(out.trades.exit_px, vec![7030 - 1]); // open of bar 4, -1 tick
        assert_eq!(out.trades.net_pnl, vec![28.0 - 2.5]);
        assert!((out.equity[4] - (5_000.0 + 25.5)).abs() < 1e-9);
    }

    #[test]
    fn rolls_and_new_dates_come_as_boundary_lists() {
        let closes = [7000, 7010, 7020, 7030, 7040, 7050, 7060];
        let mut data = Owned::new(&closes, &[1, 1, 1, 1, 1, 1, 1]);
        data.k = vec![4]; // the contract changes between bars 3 and 4
        data.d = vec![2, 5]; // trade dates start at bars 0, 2 and 5
        let mut p = params(false);
        p.fixed_contracts = 2;
        let out = simulate(&data.inputs(), &p);
        // Entered at bar 1's open, closed at bar 3's close for the roll, re-entered at bar 4's
        // open, closed at the end.
        assert_eq!(out.trades.entry_bar, vec![1, 4]);
        assert_eq!(out.trades.exit_bar, vec![3, 6]);
        assert_eq!(out.trades.exit_reason, vec![EXIT_ROLL, EXIT_END]);
        assert_eq!(out.trades.contracts, vec![2, 2]);
        // Marked to market at every close in between (the quiet bars).
        assert_eq!(out.equity[2], 5_000.0 - 2.5 + (7020.0 - 7001.0) * 2.0);
        let bad = Inputs {
            rolls: &[0],
            ..data.inputs()
        };
        assert!(bad.check().is_err());
        let unsorted = Inputs {
            day_starts: &[5, 2],
            ..data.inputs()
        };
        assert!(unsorted.check().is_err());
    }

    #[test]
    fn converts_prices_and_distances_to_ticks() {
        assert_eq!(
            prices_to_ticks(&[71.23, 0.015, -37.63], 0.01),
            vec![7123, 2, -3763]
        );
        // ties to even, like numpy.rint
        assert_eq!(
            prices_to_ticks(&[0.5, 1.5, 2.5, -0.5, -1.5], 1.0),
            vec![0, 2, 2, 0, -2]
        );
        assert_eq!(
            distances_to_ticks(&[0.101, f64::NAN, -1.0, 0.1], 0.01),
            vec![11, 0, 0, 10]
        );
    }

    #[test]
    fn stop_beats_target_in_the_same_bar() {
        assert_eq!(
            check_stop(1, Some(90), Some(110), 100, 115, 85),
            Some((90, EXIT_STOP))
        );
        assert_eq!(
            check_stop(1, Some(90), Some(110), 80, 115, 75),
            Some((80, EXIT_STOP))
        );
        assert_eq!(
            check_stop(-1, Some(110), Some(90), 100, 105, 89),
            Some((90, EXIT_TARGET))
        );
        assert_eq!(check_stop(-1, Some(110), None, 100, 105, 95), None);
    }

    #[test]
    fn position_capped_and_daily_limit_blocks_entries() {
        let mut p = params(true);
        p.risk_per_trade = 0.5; // would ask for 125 contracts with a 20-tick stop
        let data = Owned::new(&[7000, 7010, 7020, 7030, 7040], &[1, 1, 1, 1, 1]);
        let out = simulate(&data.inputs(), &p);
        assert_eq!(out.trades.contracts, vec![5]);
        assert_eq!(out.events.action, vec![RESIZED]);
        let mut r = Risk::new();
        let mut ev = Events::default();
        r.start_bar(0, 0, 1000.0);
        r.on_trade_closed(&p, &mut ev, -60.0);
        assert_eq!(r.check_entry(&p, &mut ev, 1, 7000, 940.0, true), 0);
        assert_eq!(ev.reason.last(), Some(&DAILY_LOSS_LIMIT));
        r.start_bar(1, 1, 940.0); // a new trade date resets the limit
        assert_eq!(r.check_entry(&p, &mut ev, 1, 7000, 940.0, true), 1);
    }
}
