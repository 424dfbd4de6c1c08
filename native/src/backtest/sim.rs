//! The backtest state machine on integer ticks: the compiled twin of
//! `workbench/backtest/simulate.py::simulate_python` and the `workbench.risk` classes.
//!
//! Every rule here has a Python counterpart; a test runs both on the same inputs and holds
//! them to the same trades, equity and risk events.

use super::codes::{Action, ExitReason, Reason};
use super::params::Params;
use super::records::{RiskEvent, Trade};
use super::risk::Risk;
use super::sizing::{size, Stats};
use super::stops::{check_stop, stop_distance};
use crate::ticks::{ceil_eps, distance_ticks, floor_eps, price_ticks};

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
    /// The first bar `signal` holds (0: all of them; a sweep passes a stretch that starts
    /// two bars before the bars being simulated).
    pub signal_off: usize,
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
    /// The signal at the close of bar `i`.
    #[inline(always)]
    fn sig(&self, i: usize) -> i8 {
        self.signal[i - self.signal_off]
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
            ("signal", self.signal.len() + self.signal_off),
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
    pub trades: Vec<Trade>,
    pub events: Vec<RiskEvent>,
    pub trades_rejected: i64,
    pub circuit_breaker_triggered: i64,
}

/// The open position.
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

struct Sim<'p> {
    p: &'p Params,
    cash: f64,
    pos: Option<Position>,
    risk: Risk,
    stats: Stats,
    trades: Vec<Trade>,
    events: Vec<RiskEvent>,
}

impl<'p> Sim<'p> {
    fn close_trade(
        &mut self,
        px: i64,
        bar: i64,
        reason: ExitReason,
        at_close: bool,
        exit_slip: i64,
    ) {
        let pos = self.pos.take().expect("close_trade without a position");
        let p = self.p;
        let gross = ((pos.side * (px - pos.entry_px) * pos.qty) as f64) * p.tick_value;
        let cost = p.commission * pos.qty as f64;
        self.cash += gross;
        self.cash -= cost;
        let net = gross - 2.0 * cost;
        self.trades.push(Trade {
            entry_bar: pos.entry_bar,
            exit_bar: bar,
            side: pos.side,
            contracts: pos.qty,
            entry_px: pos.entry_px,
            exit_px: px,
            gross_pnl: gross,
            commission: 2.0 * cost,
            slippage_cost: ((pos.entry_slip + exit_slip) * pos.qty) as f64 * p.tick_value,
            net_pnl: net,
            exit_reason: reason as i64,
            exit_at_close: at_close as i64,
        });
        if p.use_risk {
            self.risk.on_trade_closed(p, &mut self.events, net);
            self.stats.record(net);
        }
    }

    /// Contracts whose initial margin `equity` can post (`i64::MAX`: no margin model).
    fn margin_cap(&self, equity: f64) -> i64 {
        let m = self.p.initial_margin;
        if m > 0.0 {
            floor_eps(equity.max(0.0) / m)
        } else {
            i64::MAX
        }
    }

    /// Whether equity `mtm` marked at a close is below the position's maintenance margin.
    fn below_maintenance(&self, mtm: f64, qty: i64) -> bool {
        let m = self.p.maintenance_margin;
        m > 0.0 && mtm < m * qty as f64
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

/// The first `t` with `s[t + 1] != 0 && s[t + 1] != s[t]` (a new non-zero signal), if any:
/// 32 pairs at a time with no early exit (the compiler vectorizes it), then one by one in
/// the 32 that hold it.
fn first_entry(s: &[i8]) -> Option<usize> {
    const STEP: usize = 32;
    if s.len() < 2 {
        return None;
    }
    let pairs = s.len() - 1;
    let (prev, next) = (&s[..pairs], &s[1..]);
    let mut t = 0;
    while t + STEP <= pairs {
        let (a, b) = (&prev[t..t + STEP], &next[t..t + STEP]);
        let any = a
            .iter()
            .zip(b)
            .fold(false, |acc, (&p, &n)| acc | ((n != 0) & (n != p)));
        if any {
            break;
        }
        t += STEP;
    }
    (t..pairs).find(|&k| next[k] != 0 && next[k] != prev[k])
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
        equity: &mut EquityWindow,
        eq_prev: &mut f64,
    ) -> usize {
        let p = self.p;
        let until = until.min(equity.end());
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
                // Flat: only a new signal (an entry) needs the full rules. Find the first bar
                // `j` whose previous signal is non-zero and differs from the one before it
                // (a scan of the signals alone), and mark the bars before it at the cash.
                if i >= 2 && i < until {
                    let pairs = &x.signal[i - 2 - x.signal_off..until - 1 - x.signal_off];
                    let j = first_entry(pairs).map_or(until, |t| i + t);
                    if j > i {
                        equity.fill(i, j, *cash);
                        *eq_prev = *cash;
                        i = j;
                    }
                }
            }
            Some(pos) => {
                let trailing = p.stop_mode.trailing() && pos.dist > 0;
                let levels = pos.stop.is_some() || pos.target.is_some();
                while i < until {
                    if x.sig(i - 1) as i64 != pos.side || x.force_flat(i) {
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
                    if p.maintenance_margin > 0.0 && mtm < p.maintenance_margin * pos.qty as f64 {
                        break; // a margin call: the full rules
                    }
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
                    equity.set(i, mtm);
                    *eq_prev = mtm;
                    i += 1;
                }
            }
        }
        i
    }
}

/// Where a run writes the equity of bars `off..off + buf.len()`: the whole series for
/// [`simulate`], a short stretch reused block after block for a sweep
/// (`crate::backtest::sweep`), which keeps only figures of the curve.
pub struct EquityWindow<'e> {
    pub buf: &'e mut [f64],
    pub off: usize,
}

impl EquityWindow<'_> {
    #[inline(always)]
    fn set(&mut self, i: usize, v: f64) {
        self.buf[i - self.off] = v;
    }
    /// Bars `from..to` at `v`.
    #[inline]
    fn fill(&mut self, from: usize, to: usize, v: f64) {
        self.buf[from - self.off..to - self.off].fill(v);
    }
    /// One past the last bar the window holds.
    #[inline(always)]
    fn end(&self) -> usize {
        self.off + self.buf.len()
    }
}

/// What a run leaves besides its equity curve.
#[derive(Debug, Clone)]
pub struct Record {
    pub trades: Vec<Trade>,
    pub events: Vec<RiskEvent>,
    pub trades_rejected: i64,
    pub circuit_breaker_triggered: i64,
}

/// A simulation advanced a stretch of bars at a time: [`simulate`] runs one over all bars at
/// once; a sweep runs several over the same stretch before the next (the bars stay in
/// cache). Stopping at any bar changes nothing: the next stretch starts with the full rules,
/// which give every bar what the quiet loop would.
pub struct Run<'p> {
    sim: Sim<'p>,
    eq_prev: f64,
    day: i64,
    next_day: usize,
    next_roll: usize,
    i: usize,
    /// After a margin call: the account is closed with this equity.
    closed: Option<f64>,
}

impl<'p> Run<'p> {
    /// A run at bar 0 with the starting capital.
    pub fn new(p: &'p Params) -> Self {
        Run {
            sim: Sim {
                p,
                cash: p.initial_capital,
                pos: None,
                risk: Risk::new(),
                stats: Stats::default(),
                trades: Vec::new(),
                events: Vec::new(),
            },
            eq_prev: p.initial_capital,
            day: 0,
            next_day: 0,
            next_roll: 0,
            i: 0,
            closed: None,
        }
    }

    /// The next bar to simulate.
    pub fn bar(&self) -> usize {
        self.i
    }

    /// Simulate bars up to `until` (exclusive, capped at the number of bars), writing their
    /// equity into `equity`, which must hold them.
    pub fn advance(&mut self, x: &Inputs, until: usize, equity: &mut EquityWindow) {
        let n = x.open.len();
        let until = until.min(n);
        debug_assert!(self.i >= equity.off && until <= equity.end());
        if let Some(v) = self.closed {
            // The account is closed: no more trading, equity stays at the cash left.
            for k in self.i..until {
                equity.set(k, v);
            }
            self.i = self.i.max(until);
            return;
        }
        let p = self.sim.p;
        let slip = p.slippage_ticks;
        let sim = &mut self.sim;
        let mut eq_prev = self.eq_prev;
        let (mut day, mut next_day) = (self.day, self.next_day);
        let mut next_roll = self.next_roll;
        let mut i = self.i;
        while i < until {
            let closed_before = sim.trades.len();
            // 1. roll
            if next_roll < x.rolls.len() && x.rolls[next_roll] as usize == i {
                next_roll += 1;
                if let Some(pos) = sim.pos.as_ref() {
                    let (side, qty, dist) = (pos.side, pos.qty, pos.dist);
                    sim.close_trade(
                        x.c(i - 1) - side * slip,
                        (i - 1) as i64,
                        ExitReason::Roll,
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
                let s1 = x.sig(i - 1) as i64;
                let s2 = if i > 1 { x.sig(i - 2) as i64 } else { 0 };
                if let Some(side) = sim.pos.as_ref().map(|q| q.side) {
                    let flat = x.force_flat(i);
                    if s1 != side || flat {
                        let reason = if flat && s1 == side {
                            ExitReason::Session
                        } else {
                            ExitReason::Signal
                        };
                        sim.close_trade(x.o(i) - side * slip, i as i64, reason, false, slip);
                    }
                }
                if sim.pos.is_none() && s1 != 0 && s1 != s2 {
                    if p.use_risk {
                        let d = stop_distance(p, x.c(i - 1), x.stop_ticks(i - 1));
                        let req = size(p, &sim.stats, eq_prev, d, x.stop_ticks(i - 1));
                        let in_hours = x.entry_ok(i) && !x.force_flat(i);
                        let cap = sim.margin_cap(eq_prev);
                        let approved = sim.risk.check_entry(
                            p,
                            &mut sim.events,
                            req,
                            x.c(i - 1),
                            eq_prev,
                            in_hours,
                            cap,
                        );
                        if approved > 0 {
                            sim.open_trade(s1, approved, i, x.o(i), d);
                        }
                    } else if !x.force_flat(i) {
                        let cap = sim.margin_cap(eq_prev);
                        let Sim { risk, events, .. } = sim;
                        let qty = risk.check_margin(events, i as i64, p.fixed_contracts, cap);
                        if qty > 0 {
                            sim.open_trade(s1, qty, i, x.o(i), 0);
                        }
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
                        if reason == ExitReason::Stop {
                            sim.close_trade(px - side * slip, i as i64, reason, false, slip);
                        } else {
                            sim.close_trade(px, i as i64, reason, false, 0);
                        }
                    }
                }
            }
            // 5. close (a margin call flattens at the close and closes the account)
            let mut mtm = sim.cash;
            let mut margin_call = false;
            if let Some((side, qty, entry_px)) =
                sim.pos.as_ref().map(|q| (q.side, q.qty, q.entry_px))
            {
                mtm += ((side * (x.c(i) - entry_px) * qty) as f64) * p.tick_value;
                if sim.below_maintenance(mtm, qty) {
                    margin_call = true;
                    sim.risk.bar = i as i64;
                    sim.events.push(RiskEvent::new(
                        i as i64,
                        Action::MarginCall,
                        Reason::MaintenanceMargin,
                        qty,
                        0,
                    ));
                    sim.close_trade(
                        x.c(i) - side * slip,
                        i as i64,
                        ExitReason::MarginCall,
                        true,
                        slip,
                    );
                    mtm = sim.cash;
                }
            }
            if let Some(pos) = sim.pos.as_mut() {
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
            let filled = sim.trades.len() != closed_before;
            if p.use_risk && (sim.pos.is_some() || filled || new_day) {
                sim.risk.end_bar(p, &mut sim.events, mtm);
            }
            equity.set(i, mtm);
            eq_prev = mtm;
            i += 1;
            if margin_call {
                // The account is closed: no more trading, equity stays at the cash left.
                self.closed = Some(mtm);
                for k in i..until {
                    equity.set(k, mtm);
                }
                i = until;
                break;
            }
            // Then the bars where only the mark to market changes, up to the next roll or date.
            let next_roll_bar = x.rolls.get(next_roll).map_or(n, |&b| b as usize);
            let next_day_bar = match x.day_starts.get(next_day) {
                Some(&b) if p.use_risk => b as usize,
                _ => n,
            };
            i = sim.quiet_run(
                x,
                i,
                next_roll_bar.min(next_day_bar).min(until),
                equity,
                &mut eq_prev,
            );
        }
        self.eq_prev = eq_prev;
        (self.day, self.next_day, self.next_roll, self.i) = (day, next_day, next_roll, i);
    }

    /// After the last bar (`advance` to the end first): an open position is closed at the
    /// last close, whose equity in `equity` (which must hold that bar) becomes the cash.
    pub fn finish(mut self, x: &Inputs, equity: &mut EquityWindow) -> Record {
        let n = x.open.len();
        debug_assert_eq!(self.i, n);
        let sim = &mut self.sim;
        // 6. end of data
        if n > 0 {
            if let Some(side) = sim.pos.as_ref().map(|q| q.side) {
                let slip = sim.p.slippage_ticks;
                sim.close_trade(
                    x.c(n - 1) - side * slip,
                    (n - 1) as i64,
                    ExitReason::End,
                    true,
                    slip,
                );
                equity.set(n - 1, sim.cash);
            }
        }
        Record {
            trades: std::mem::take(&mut sim.trades),
            events: std::mem::take(&mut sim.events),
            trades_rejected: sim.risk.trades_rejected,
            circuit_breaker_triggered: sim.risk.breakers,
        }
    }
}

/// Run the simulation over all bars.
pub fn simulate(x: &Inputs, p: &Params) -> Outputs {
    let n = x.open.len();
    let mut equity = vec![0.0f64; n];
    let mut window = EquityWindow {
        buf: &mut equity,
        off: 0,
    };
    let mut run = Run::new(p);
    run.advance(x, n, &mut window);
    let r = run.finish(x, &mut window);
    Outputs {
        equity,
        trades: r.trades,
        events: r.events,
        trades_rejected: r.trades_rejected,
        circuit_breaker_triggered: r.circuit_breaker_triggered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backtest::codes::{Action, ExitReason, Reason};
    use crate::backtest::params::test_params as params;
    use crate::backtest::risk::Risk;

    /// One field of every record.
    fn col<R, T>(records: &[R], get: impl Fn(&R) -> T) -> Vec<T> {
        records.iter().map(get).collect()
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
                signal_off: 0,
                stop_distance: &self.st,
                day_starts: &self.d,
                rolls: &self.k,
                entry_ok: None,
                force_flat: None,
            }
        }
    }

    #[test]
    fn first_entry_is_the_first_new_nonzero_signal() {
        let slow =
            |s: &[i8]| (0..s.len().saturating_sub(1)).find(|&t| s[t + 1] != 0 && s[t + 1] != s[t]);
        let mut s = vec![0i8; 200];
        for (at, v) in [
            (None, 0),
            (Some(0), 1),
            (Some(31), -1),
            (Some(32), 1),
            (Some(150), -1),
        ] {
            let mut t = s.clone();
            if let Some(k) = at {
                t[k + 1] = v;
            }
            assert_eq!(first_entry(&t), slow(&t), "{at:?}");
        }
        s[40..].fill(1); // one change at 39 -> 40, then constant: no later entry
        assert_eq!(first_entry(&s), Some(39));
        assert_eq!(first_entry(&s[41..]), None);
        assert_eq!(first_entry(&[]), None);
        assert_eq!(first_entry(&[1]), None);
    }

    #[test]
    fn fills_at_next_open_with_slippage_and_fees() {
        let data = Owned::new(&[7000, 7010, 7020, 7030, 7040], &[1, 1, 1, 0, 0]);
        let out = simulate(&data.inputs(), &params(false));
        assert_eq!(col(&out.trades, |t| t.entry_bar), vec![1]);
        assert_eq!(col(&out.trades, |t| t.entry_px), vec![7000 + 1]); // open of bar 1 = close of bar 0, +1 tick
        assert_eq!(col(&out.trades, |t| t.exit_bar), vec![4]);
        assert_eq!(col(&out.trades, |t| t.exit_px), vec![7030 - 1]); // open of bar 4, -1 tick
        assert_eq!(col(&out.trades, |t| t.net_pnl), vec![28.0 - 2.5]);
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
        assert_eq!(col(&out.trades, |t| t.entry_bar), vec![1, 4]);
        assert_eq!(col(&out.trades, |t| t.exit_bar), vec![3, 6]);
        assert_eq!(
            col(&out.trades, |t| t.exit_reason),
            vec![ExitReason::Roll as i64, ExitReason::End as i64]
        );
        assert_eq!(col(&out.trades, |t| t.contracts), vec![2, 2]);
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
    fn position_capped_and_daily_limit_blocks_entries() {
        let mut p = params(true);
        p.risk_per_trade = 0.5; // would ask for 125 contracts with a 20-tick stop
        let data = Owned::new(&[7000, 7010, 7020, 7030, 7040], &[1, 1, 1, 1, 1]);
        let out = simulate(&data.inputs(), &p);
        assert_eq!(col(&out.trades, |t| t.contracts), vec![5]);
        assert_eq!(col(&out.events, |e| e.action), vec![Action::Resized as i64]);
        let mut r = Risk::new();
        let mut ev = Vec::new();
        r.start_bar(0, 0, 1000.0);
        r.on_trade_closed(&p, &mut ev, -60.0);
        assert_eq!(
            r.check_entry(&p, &mut ev, 1, 7000, 940.0, true, i64::MAX),
            0
        );
        assert_eq!(
            ev.last().map(|e| e.reason),
            Some(Reason::DailyLossLimit as i64)
        );
        r.start_bar(1, 1, 940.0); // a new trade date resets the limit
        assert_eq!(
            r.check_entry(&p, &mut ev, 1, 7000, 940.0, true, i64::MAX),
            1
        );
    }

    #[test]
    fn margin_call_flattens_at_the_close_and_stops_trading() {
        // Long 1 from bar 1 (entry 7001); the price collapses: at bar 3's close equity is
        // 5000 - 1.25 + (2000 - 7001) = -2.25 < 700: flattened at 2000 - 1 tick, then nothing.
        let closes = [7000, 7000, 6000, 2000, 2100, 2200, 2300, 2400];
        let signals = [1, 1, 1, 1, -1, 1, -1, 1];
        for use_risk in [false, true] {
            let mut p = params(use_risk);
            p.initial_margin = 770.0;
            p.maintenance_margin = 700.0;
            p.stop_mode = crate::backtest::StopMode::None;
            p.sizing = crate::backtest::Sizing::Fixed;
            p.max_drawdown_limit = 10.0; // no breakers in the way
            p.intraday_drawdown_limit = 10.0;
            let data = Owned::new(&closes, &signals);
            let out = simulate(&data.inputs(), &p);
            assert_eq!(col(&out.trades, |t| t.exit_bar), vec![3]);
            assert_eq!(col(&out.trades, |t| t.exit_px), vec![2000 - 1]);
            assert_eq!(
                col(&out.trades, |t| t.exit_reason),
                vec![ExitReason::MarginCall as i64]
            );
            let wiped = 5_000.0 - 2.5 + (1999.0 - 7001.0);
            assert!(out.equity[3..].iter().all(|&e| (e - wiped).abs() < 1e-9));
            let calls: Vec<_> = out
                .events
                .iter()
                .filter(|e| e.action == Action::MarginCall as i64)
                .collect();
            assert_eq!(calls.len(), 1);
            assert_eq!((calls[0].bar, calls[0].requested), (3, 1));
            assert_eq!(calls[0].reason, Reason::MaintenanceMargin as i64);
        }
    }

    #[test]
    fn initial_margin_caps_or_rejects_entries() {
        let data = Owned::new(&[7000, 7010, 7020, 7030, 7040], &[1, 1, 1, 1, 1]);
        let mut p = params(false);
        p.fixed_contracts = 10;
        p.initial_margin = 1_000.0; // 5000 posts 5 contracts
        let out = simulate(&data.inputs(), &p);
        assert_eq!(col(&out.trades, |t| t.contracts), vec![5]);
        assert_eq!(
            col(&out.events, |e| e.reason),
            vec![Reason::InitialMargin as i64]
        );
        assert_eq!(col(&out.events, |e| e.action), vec![Action::Resized as i64]);
        p.initial_margin = 6_000.0;
        let out = simulate(&data.inputs(), &p);
        assert!(out.trades.is_empty());
        assert_eq!(out.trades_rejected, 1);
        let mut p = params(true);
        p.risk_per_trade = 0.5;
        p.initial_margin = 2_000.0; // 5000 posts 2 of the 5 allowed
        let out = simulate(&data.inputs(), &p);
        assert_eq!(col(&out.trades, |t| t.contracts), vec![2]);
        assert_eq!(
            col(&out.events, |e| e.reason),
            vec![Reason::InitialMargin as i64]
        );
    }
}
