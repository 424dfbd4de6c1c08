//! The compiled sweep: many combinations of one strategy through the backtest kernel at once.
//!
//! Combinations share work and memory:
//! - a group of combinations runs over a block of bars, one after the other, before the next
//!   block: the block's prices stay in cache for the whole group;
//! - EMA-crossover signals come from one EMA per distinct span of the group (not two per
//!   combination), advanced block by block into a block-sized buffer; a combination's signal
//!   is the sign of the difference of its two, exactly what
//!   [`crate::indicators::ema::ema_cross`] gives, computed for the block just before its run
//!   reads it (no per-bar array per combination, no whole EMA series);
//! - no equity curve is kept: each run writes the block into one window, and only the figures
//!   a sweep row needs are taken from it (the drawdown, by [`crate::analysis::Drawdown`], the
//!   same bits as `max_drawdown` of the whole curve; the equity at each trade date's last
//!   bar, for the daily P&L; the final equity);
//! - groups go to worker threads (`std::thread::scope`) as they free up.
//!
//! Each combination's trades, counters and figures are those [`super::simulate`] gives for its
//! inputs (a test holds them to it).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use thiserror::Error;

use super::params::Params;
use super::sim::{EquityWindow, Inputs, Run};
use crate::analysis::Drawdown;

/// Why a sweep cannot run.
#[derive(Debug, Error, PartialEq)]
pub enum SweepError {
    #[error("{0}")]
    Inputs(String),
    #[error("combination {combo}: {what}")]
    Combo { combo: usize, what: String },
    #[error(
        "the closes hold a NaN or an infinity (first at bar {0}): EMA signals need finite prices"
    )]
    NotFinite(usize),
}

/// Where a combination's signal comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Signal {
    /// One of [`SweepInputs::signals`], by index.
    Given(usize),
    /// The EMA crossover of the closes: `+1` while `EMA(fast) > EMA(slow)`, `-1` while below
    /// (`0` with `long_only`), `0` when equal and during the warm-up (the first
    /// `max(fast, slow) - 1` bars); then `0` where [`SweepInputs::signal_mask`] is false.
    EmaCross {
        fast: usize,
        slow: usize,
        long_only: bool,
    },
}

/// One combination: its signal and its stop distances (an index into
/// [`SweepInputs::stops`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Combo {
    pub signal: Signal,
    pub stop: usize,
}

/// The bars and what the combinations draw on (see [`Inputs`] for the per-bar fields).
pub struct SweepInputs<'a> {
    pub open: &'a [f64],
    pub high: &'a [f64],
    pub low: &'a [f64],
    pub close: &'a [f64],
    pub day_starts: &'a [i64],
    pub rolls: &'a [i64],
    pub entry_ok: Option<&'a [bool]>,
    pub force_flat: Option<&'a [bool]>,
    /// Precomputed signals ([`Signal::Given`]).
    pub signals: &'a [&'a [i8]],
    /// Stop distances in price units (NaN: none), shared by the combinations naming them.
    pub stops: &'a [&'a [f64]],
    /// For [`Signal::EmaCross`]: bars whose signal is forced flat where false (the strategy's
    /// time filter); `None`: none.
    pub signal_mask: Option<&'a [bool]>,
}

/// How the work is cut.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Worker threads (at least 1).
    pub threads: usize,
    /// Combinations run together over each block; 0: enough for two groups per thread (at
    /// most [`Plan::MAX_GROUP`]).
    pub group: usize,
    /// Bars per block.
    pub block: usize,
}

impl Plan {
    /// The largest group [`Plan::group_size`] picks by itself.
    pub const MAX_GROUP: usize = 64;

    /// Combinations per group for `combos` combinations.
    pub fn group_size(&self, combos: usize) -> usize {
        if self.group > 0 {
            return self.group;
        }
        combos
            .div_ceil(2 * self.threads.max(1))
            .clamp(1, Self::MAX_GROUP)
    }

    /// Worker threads for `combos` combinations: no more than there are groups.
    pub fn workers(&self, combos: usize) -> usize {
        self.threads
            .min(combos.div_ceil(self.group_size(combos)))
            .max(1)
    }
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            group: 0,
            block: 2048,
        }
    }
}

/// A combination's row: what a sweep ranks it by.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Equity after the last bar.
    pub final_equity: f64,
    /// `crate::analysis::max_drawdown` of the equity curve from the starting capital.
    pub max_drawdown: Option<(f64, Option<f64>)>,
    /// Equity at the last bar of each trade date (`day_starts.len() + 1` values).
    pub day_equity: Vec<f64>,
    /// Net P&L of each closed trade, in the order closed.
    pub net_pnl: Vec<f64>,
    pub trades_rejected: i64,
    pub circuit_breaker_triggered: i64,
}

/// An EMA advanced a block at a time: `y = alpha * x + (1 - alpha) * y`, seeded with the
/// first close (the recursion of `ema_cross`, the same operations).
struct BlockEma {
    span: usize,
    alpha: f64,
    keep: f64,
    y: f64,
    /// The values over the current block.
    buf: Vec<f64>,
}

impl BlockEma {
    fn new(span: usize, seed: f64) -> Self {
        let alpha = 2.0 / (span as f64 + 1.0);
        BlockEma {
            span,
            alpha,
            keep: 1.0 - alpha,
            y: seed,
            buf: Vec::new(),
        }
    }
}

/// Advance every EMA over the block `close`, eight at a time: the eight recursions are
/// independent chains, so they run side by side instead of waiting on each other (each is
/// a serial chain of a multiply and an add per bar); each is the same operations as alone.
fn advance_emas(emas: &mut [BlockEma], close: &[f64]) {
    const LANES: usize = 8;
    for set in emas.chunks_mut(LANES) {
        let (mut y, mut alpha, mut keep) = ([0.0f64; LANES], [0.0f64; LANES], [0.0f64; LANES]);
        for (j, e) in set.iter_mut().enumerate() {
            (y[j], alpha[j], keep[j]) = (e.y, e.alpha, e.keep);
            e.buf.clear();
            e.buf.resize(close.len(), 0.0);
        }
        for (i, &v) in close.iter().enumerate() {
            for j in 0..LANES {
                y[j] = alpha[j] * v + keep[j] * y[j];
            }
            for (j, e) in set.iter_mut().enumerate() {
                e.buf[i] = y[j];
            }
        }
        for (j, e) in set.iter_mut().enumerate() {
            e.y = y[j];
        }
    }
}

/// A combination's EMA-crossover signal over the current block and the two bars before it
/// (what a run reads: the signals at bars `i - 1` and `i - 2` for a bar `i` of the block).
struct CrossWindow {
    fast: usize, // index into the group's EMAs
    slow: usize,
    warm: usize,
    long_only: bool,
    /// Signals of bars `off..`.
    buf: Vec<i8>,
    off: usize,
}

impl CrossWindow {
    /// Move to the block `start..end` (EMAs advanced over it): keep the last two signals,
    /// compute the block's: the sign of fast - slow from bar `warm` on (0 before), -1 turned
    /// into 0 with `long_only`, 0 where `mask` is false.
    fn advance(&mut self, emas: &[BlockEma], start: usize, end: usize, mask: Option<&[bool]>) {
        let off = start.saturating_sub(2);
        if off > self.off {
            let from = off - self.off;
            self.buf.copy_within(from..from + (start - off), 0);
        }
        self.buf.truncate(start - off);
        self.off = off;
        let (f, s) = (&emas[self.fast].buf, &emas[self.slow].buf);
        let mid = self.warm.clamp(start, end);
        self.buf.resize(mid - off, 0);
        let lo = if self.long_only { 0 } else { -1 };
        self.buf.extend(
            f[mid - start..]
                .iter()
                .zip(&s[mid - start..])
                .map(|(&a, &b)| ((a > b) as i8 - (a < b) as i8).max(lo)),
        );
        if let Some(m) = mask {
            let block = &mut self.buf[start - off..];
            for (o, &ok) in block.iter_mut().zip(&m[start..end]) {
                *o &= -(ok as i8); // 0 where not ok
            }
        }
    }
}

fn check(x: &SweepInputs, combos: &[Combo], plan: &Plan) -> Result<(), SweepError> {
    let n = x.open.len();
    // The shared per-bar fields, checked as `simulate` checks them (each signal and stop
    // series is checked below).
    let zeros = vec![0i8; n];
    Inputs {
        tick: 1.0,
        inv_tick: 1.0,
        open: x.open,
        high: x.high,
        low: x.low,
        close: x.close,
        signal: &zeros,
        signal_off: 0,
        stop_distance: x.open,
        day_starts: x.day_starts,
        rolls: x.rolls,
        entry_ok: x.entry_ok,
        force_flat: x.force_flat,
    }
    .check()
    .map_err(SweepError::Inputs)?;
    if plan.threads == 0 || plan.block == 0 {
        return Err(SweepError::Inputs(format!(
            "threads and block must be >= 1, got {plan:?}"
        )));
    }
    if let Some(m) = x.signal_mask {
        if m.len() != n {
            return Err(SweepError::Inputs(format!(
                "signal_mask has {} values, open has {n}",
                m.len()
            )));
        }
    }
    for (k, s) in x.signals.iter().enumerate() {
        if s.len() != n {
            return Err(SweepError::Inputs(format!(
                "signal {k} has {} values, open has {n}",
                s.len()
            )));
        }
    }
    for (k, s) in x.stops.iter().enumerate() {
        if s.len() != n {
            return Err(SweepError::Inputs(format!(
                "stop distance {k} has {} values, open has {n}",
                s.len()
            )));
        }
    }
    for (combo, c) in combos.iter().enumerate() {
        let bad = |what: String| Err(SweepError::Combo { combo, what });
        if c.stop >= x.stops.len() {
            return bad(format!(
                "stop index {} but {} stop series",
                c.stop,
                x.stops.len()
            ));
        }
        match c.signal {
            Signal::Given(j) if j >= x.signals.len() => {
                return bad(format!("signal index {j} but {} signals", x.signals.len()));
            }
            Signal::EmaCross { fast, slow, .. } if fast == 0 || slow == 0 => {
                return bad(format!("EMA spans must be >= 1, got {fast} and {slow}"));
            }
            _ => {}
        }
    }
    if combos
        .iter()
        .any(|c| matches!(c.signal, Signal::EmaCross { .. }))
    {
        if let Some(k) = x.close.iter().position(|v| !v.is_finite()) {
            return Err(SweepError::NotFinite(k));
        }
    }
    Ok(())
}

/// Run every combination over all bars with parameters `p`; the summaries come in the
/// order of `combos`.
pub fn sweep(
    x: &SweepInputs,
    p: &Params,
    combos: &[Combo],
    plan: &Plan,
) -> Result<Vec<Summary>, SweepError> {
    check(x, combos, plan)?;
    let n = x.open.len();
    let threads = plan.workers(combos.len());
    // The last bar of each trade date.
    let day_ends: Vec<usize> = x
        .day_starts
        .iter()
        .map(|&b| b as usize - 1)
        .chain((n > 0).then_some(n - 1))
        .collect();
    // Combinations sharing EMAs side by side, so that a group needs few of them.
    let mut order: Vec<usize> = (0..combos.len()).collect();
    order.sort_by_key(|&k| match combos[k].signal {
        Signal::EmaCross { fast, slow, .. } => (0, fast, slow),
        Signal::Given(j) => (1, j, 0),
    });
    let groups: Vec<(&[usize], Vec<Combo>)> = order
        .chunks(plan.group_size(combos.len()))
        .map(|idx| (idx, idx.iter().map(|&k| combos[k]).collect()))
        .collect();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Summary>>> = Mutex::new(vec![None; combos.len()]);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut window: Vec<f64> = Vec::new();
                loop {
                    let g = next.fetch_add(1, Ordering::Relaxed);
                    let Some((idx, group)) = groups.get(g) else {
                        break;
                    };
                    let summaries = run_group(x, p, group, plan.block, &day_ends, &mut window);
                    let mut done = results.lock().expect("no worker panics");
                    for (&k, s) in idx.iter().zip(summaries) {
                        done[k] = Some(s);
                    }
                }
            });
        }
    });
    let done = results.into_inner().expect("no worker panics");
    Ok(done
        .into_iter()
        .map(|s| s.expect("every group ran"))
        .collect())
}

/// One group of combinations, block after block of bars: per block, the group's EMAs are
/// advanced, then each combination's signal computed, its run advanced over the block into
/// the one equity window and the window's figures taken, before the next combination.
fn run_group(
    x: &SweepInputs,
    p: &Params,
    group: &[Combo],
    block: usize,
    day_ends: &[usize],
    window: &mut Vec<f64>,
) -> Vec<Summary> {
    let n = x.open.len();
    let g = group.len();
    window.resize(block.min(n).max(1), 0.0);
    let seed = x.close.first().copied().unwrap_or(0.0);
    let mut emas: Vec<BlockEma> = Vec::new();
    let mut ema_index = |span: usize| -> usize {
        emas.iter().position(|e| e.span == span).unwrap_or_else(|| {
            emas.push(BlockEma::new(span, seed));
            emas.len() - 1
        })
    };
    let mut crosses: Vec<Option<CrossWindow>> = group
        .iter()
        .map(|c| match c.signal {
            Signal::EmaCross {
                fast,
                slow,
                long_only,
            } => Some(CrossWindow {
                fast: ema_index(fast),
                slow: ema_index(slow),
                warm: fast.max(slow) - 1,
                long_only,
                buf: Vec::with_capacity(block + 2),
                off: 0,
            }),
            Signal::Given(_) => None,
        })
        .collect();
    let mut runs: Vec<Option<Run>> = (0..g).map(|_| Some(Run::new(p))).collect();
    let mut dd = vec![Drawdown::new(p.initial_capital); g];
    let mut day_equity: Vec<Vec<f64>> = vec![Vec::with_capacity(day_ends.len()); g];
    let mut records = Vec::with_capacity(g);
    let mut start = 0usize;
    let mut next_end = 0usize; // index into day_ends
    loop {
        let end = (start + block).min(n);
        let ends_here = day_ends[next_end..].partition_point(|&b| b < end);
        advance_emas(&mut emas, &x.close[start..end]);
        for k in 0..g {
            let c = &group[k];
            let (signal, signal_off): (&[i8], usize) = match (&mut crosses[k], c.signal) {
                (Some(w), _) => {
                    w.advance(&emas, start, end, x.signal_mask);
                    (&w.buf, w.off)
                }
                (None, Signal::Given(j)) => (x.signals[j], 0),
                (None, Signal::EmaCross { .. }) => unreachable!("EMA combinations have a window"),
            };
            let inputs = Inputs {
                tick: p.tick_size,
                inv_tick: 1.0 / p.tick_size,
                open: x.open,
                high: x.high,
                low: x.low,
                close: x.close,
                signal,
                signal_off,
                stop_distance: x.stops[c.stop],
                day_starts: x.day_starts,
                rolls: x.rolls,
                entry_ok: x.entry_ok,
                force_flat: x.force_flat,
            };
            let mut w = EquityWindow {
                buf: &mut window[..end - start],
                off: start,
            };
            let run = runs[k].as_mut().expect("runs finish at the last block");
            run.advance(&inputs, end, &mut w);
            if end == n {
                let run = runs[k].take().expect("finished once");
                records.push(run.finish(&inputs, &mut w));
            }
            dd[k].extend(w.buf);
            for &b in &day_ends[next_end..next_end + ends_here] {
                day_equity[k].push(w.buf[b - start]);
            }
        }
        next_end += ends_here;
        start = end;
        if start >= n {
            break;
        }
    }
    records
        .into_iter()
        .zip(dd)
        .zip(day_equity)
        .map(|((r, d), day_equity)| Summary {
            final_equity: day_equity.last().copied().unwrap_or(p.initial_capital),
            max_drawdown: d.result(),
            day_equity,
            net_pnl: r.trades.iter().map(|t| t.net_pnl).collect(),
            trades_rejected: r.trades_rejected,
            circuit_breaker_triggered: r.circuit_breaker_triggered,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::max_drawdown;
    use crate::backtest::params::test_params;
    use crate::backtest::{simulate, ExitReason};
    use crate::indicators::ema::ema_cross;

    /// A random walk in whole cents with wide bars, a few trade dates and contract rolls, an
    /// ATR-like stop distance.
    struct Market {
        o: Vec<f64>,
        h: Vec<f64>,
        l: Vec<f64>,
        c: Vec<f64>,
        stop: Vec<f64>,
        day_starts: Vec<i64>,
        rolls: Vec<i64>,
        entry_ok: Vec<bool>,
    }

    fn market(n: usize, seed: u64) -> Market {
        let mut state = seed;
        let mut rnd = || {
            // xorshift64*: deterministic, no dependency.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut px = 70.0f64;
        let (mut o, mut h, mut l, mut c) = (vec![], vec![], vec![], vec![]);
        for _ in 0..n {
            let open = px;
            px = (px + (rnd() - 0.5) * 0.4).max(1.0);
            let close = (px * 100.0).round() / 100.0;
            o.push(open);
            c.push(close);
            h.push(open.max(close) + (rnd() * 10.0).round() / 100.0);
            l.push(open.min(close) - (rnd() * 10.0).round() / 100.0);
            px = close;
        }
        let stop = (0..n)
            .map(|i| if i < 5 { f64::NAN } else { 0.15 + rnd() * 0.3 })
            .collect();
        Market {
            o,
            h,
            l,
            c,
            stop,
            day_starts: (1..n as i64 / 60).map(|d| d * 60).collect(),
            rolls: vec![n as i64 / 3, 2 * n as i64 / 3],
            entry_ok: (0..n).map(|i| i % 97 > 5).collect(),
        }
    }

    fn inputs<'a>(m: &'a Market, signal: &'a [i8], stop: &'a [f64]) -> Inputs<'a> {
        Inputs {
            tick: 0.01,
            inv_tick: 100.0,
            open: &m.o,
            high: &m.h,
            low: &m.l,
            close: &m.c,
            signal,
            signal_off: 0,
            stop_distance: stop,
            day_starts: &m.day_starts,
            rolls: &m.rolls,
            entry_ok: Some(&m.entry_ok),
            force_flat: None,
        }
    }

    fn params(use_risk: bool) -> Params {
        let mut p = test_params(use_risk);
        p.tick_size = 0.01;
        p.max_drawdown_limit = 0.05;
        p.intraday_drawdown_limit = 0.02;
        p.initial_margin = 600.0;
        p.maintenance_margin = 500.0;
        p
    }

    /// Every summary equals what `simulate` gives for the same combination; its outputs.
    fn assert_same_as_simulate(
        m: &Market,
        p: &Params,
        combos: &[Combo],
        plan: &Plan,
    ) -> Vec<crate::backtest::Outputs> {
        let mut outputs = vec![];
        let given: Vec<Vec<i8>> = (0..3)
            .map(|k| {
                (0..m.c.len())
                    .map(|i| [1i8, -1, 0][(i / (7 + 5 * k)) % 3])
                    .collect()
            })
            .collect();
        let given_refs: Vec<&[i8]> = given.iter().map(|s| &s[..]).collect();
        let tight: Vec<f64> = m.stop.iter().map(|s| s * 0.5).collect();
        let stops: [&[f64]; 2] = [&m.stop, &tight];
        let x = SweepInputs {
            open: &m.o,
            high: &m.h,
            low: &m.l,
            close: &m.c,
            day_starts: &m.day_starts,
            rolls: &m.rolls,
            entry_ok: Some(&m.entry_ok),
            force_flat: None,
            signals: &given_refs,
            stops: &stops,
            signal_mask: None,
        };
        let rows = sweep(&x, p, combos, plan).unwrap();
        assert_eq!(rows.len(), combos.len());
        for (c, row) in combos.iter().zip(&rows) {
            let signal = match c.signal {
                Signal::Given(j) => given[j].clone(),
                Signal::EmaCross {
                    fast,
                    slow,
                    long_only,
                } => {
                    let mut s = ema_cross(&m.c, fast, slow).unwrap();
                    if long_only {
                        s.iter_mut().for_each(|v| *v = (*v).max(0));
                    }
                    s
                }
            };
            let out = simulate(&inputs(m, &signal, stops[c.stop]), p);
            let net: Vec<f64> = out.trades.iter().map(|t| t.net_pnl).collect();
            assert!(!net.is_empty(), "{c:?} trades");
            assert_eq!(row.net_pnl, net, "{c:?}");
            assert_eq!(row.trades_rejected, out.trades_rejected, "{c:?}");
            assert_eq!(
                row.circuit_breaker_triggered, out.circuit_breaker_triggered,
                "{c:?}"
            );
            assert_eq!(row.final_equity, *out.equity.last().unwrap());
            assert_eq!(
                row.max_drawdown,
                max_drawdown(&out.equity, p.initial_capital),
                "{c:?}"
            );
            let ends: Vec<f64> = m
                .day_starts
                .iter()
                .map(|&b| out.equity[b as usize - 1])
                .chain([*out.equity.last().unwrap()])
                .collect();
            assert_eq!(row.day_equity, ends, "{c:?}");
            outputs.push(out);
        }
        outputs
    }

    fn combos() -> Vec<Combo> {
        let mut out = vec![];
        for (fast, slow) in [(3, 8), (5, 20), (8, 3), (10, 40), (2, 5)] {
            for long_only in [false, true] {
                out.push(Combo {
                    signal: Signal::EmaCross {
                        fast,
                        slow,
                        long_only,
                    },
                    stop: usize::from(long_only),
                });
            }
        }
        out.extend((0..3).map(|j| Combo {
            signal: Signal::Given(j),
            stop: 0,
        }));
        out
    }

    #[test]
    fn each_row_is_what_simulate_gives_risk_on_and_off() {
        let m = market(3_000, 7);
        for use_risk in [true, false] {
            let p = params(use_risk);
            for plan in [
                Plan {
                    threads: 1,
                    group: 1,
                    block: 3_000,
                },
                Plan {
                    threads: 2,
                    group: 4,
                    block: 7,
                },
                Plan {
                    threads: 3,
                    group: 5,
                    block: 256,
                },
                Plan {
                    threads: 2,
                    group: 13,
                    block: 1,
                },
                Plan {
                    threads: 1,
                    group: 2,
                    block: 2,
                },
                Plan {
                    threads: 2,
                    group: 0,
                    block: 100,
                },
            ] {
                assert_same_as_simulate(&m, &p, &combos(), &plan);
            }
        }
    }

    #[test]
    fn margin_calls_and_breakers_inside_blocks() {
        // A tiny account: breakers trip and margin calls close accounts mid-block.
        let m = market(2_000, 3);
        let mut p = params(true);
        p.initial_capital = 800.0;
        p.risk_per_trade = 0.3;
        p.maintenance_margin = 780.0;
        let plan = Plan {
            threads: 2,
            group: 3,
            block: 50,
        };
        let outs = assert_same_as_simulate(&m, &p, &combos(), &plan);
        let called = |outs: &[crate::backtest::Outputs]| {
            outs.iter()
                .filter(|o| {
                    o.trades
                        .iter()
                        .any(|t| t.exit_reason == ExitReason::MarginCall as i64)
                })
                .count()
        };
        assert!(outs.iter().any(|o| o.circuit_breaker_triggered > 0));
        assert!(called(&outs) > 0);
        let mut p = params(false);
        p.initial_capital = 700.0;
        p.fixed_contracts = 1;
        p.maintenance_margin = 680.0;
        let outs = assert_same_as_simulate(&m, &p, &combos(), &plan);
        assert!(called(&outs) > 0);
    }

    #[test]
    fn time_mask_and_bad_inputs() {
        let m = market(500, 11);
        let mask: Vec<bool> = (0..500).map(|i| i % 50 < 40).collect();
        let stops: [&[f64]; 1] = [&m.stop];
        let mut x = SweepInputs {
            open: &m.o,
            high: &m.h,
            low: &m.l,
            close: &m.c,
            day_starts: &m.day_starts,
            rolls: &m.rolls,
            entry_ok: None,
            force_flat: None,
            signals: &[],
            stops: &stops,
            signal_mask: Some(&mask),
        };
        let combo = Combo {
            signal: Signal::EmaCross {
                fast: 3,
                slow: 9,
                long_only: false,
            },
            stop: 0,
        };
        let p = params(true);
        let row = &sweep(&x, &p, &[combo], &Plan::default()).unwrap()[0];
        let mut sig = ema_cross(&m.c, 3, 9).unwrap();
        sig.iter_mut().zip(&mask).for_each(|(s, &ok)| {
            if !ok {
                *s = 0
            }
        });
        let mut one = inputs(&m, &sig, &m.stop);
        one.entry_ok = None;
        let out = simulate(&one, &p);
        assert_eq!(row.final_equity, *out.equity.last().unwrap());
        assert_eq!(row.net_pnl.len(), out.trades.len());

        let bad = |x: &SweepInputs, c: Combo| sweep(x, &p, &[c], &Plan::default()).unwrap_err();
        let e = bad(&x, Combo { stop: 1, ..combo });
        assert!(matches!(e, SweepError::Combo { combo: 0, .. }), "{e}");
        let e = bad(
            &x,
            Combo {
                signal: Signal::Given(0),
                stop: 0,
            },
        );
        assert!(e.to_string().contains("signal index 0"), "{e}");
        let mut close = m.c.clone();
        close[42] = f64::NAN;
        x.close = &close;
        assert_eq!(bad(&x, combo), SweepError::NotFinite(42));
        x.close = &m.c[..10];
        assert!(matches!(bad(&x, combo), SweepError::Inputs(_)));
    }
}
