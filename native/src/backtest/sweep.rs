//! The compiled sweep: many combinations of one strategy through the backtest kernel at once.
//!
//! Combinations share work and memory:
//! - EMA-crossover signals come from one EMA per distinct span (not two per combination),
//!   each computed once, in parallel; a combination's signal is the sign of the difference
//!   of its two, exactly what [`crate::indicators::ema::ema_cross`] gives;
//! - a group of combinations runs over a block of bars, one after the other, before the next
//!   block: the block's prices stay in cache for the whole group;
//! - no equity curve is kept: each run writes a block-sized window, and only the figures a
//!   sweep row needs are taken from it (the drawdown, by [`crate::analysis::Drawdown`], the
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
use crate::indicators::ema::ema_filter;

/// Why a sweep cannot run.
#[derive(Debug, Error, PartialEq)]
pub enum SweepError {
    #[error("{0}")]
    Inputs(String),
    #[error("combination {combo}: {what}")]
    Combo { combo: usize, what: String },
    #[error("the closes hold a NaN or an infinity (first at bar {0}): EMA signals need finite prices")]
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
    /// Combinations run together over each block.
    pub group: usize,
    /// Bars per block.
    pub block: usize,
}

impl Plan {
    /// Worker threads for `combos` combinations: no more than there are groups.
    pub fn workers(&self, combos: usize) -> usize {
        self.threads.min(combos.div_ceil(self.group.max(1))).max(1)
    }
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            group: 8,
            block: 4096,
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

/// The sign of `f - s` from `warm` on, 0 before; `long_only` turns -1 into 0; 0 where
/// `mask` is false.
fn cross_signal(
    f: &[f64],
    s: &[f64],
    warm: usize,
    long_only: bool,
    mask: Option<&[bool]>,
    out: &mut [i8],
) {
    let warm = warm.min(out.len());
    out[..warm].fill(0);
    let lo = if long_only { 0 } else { -1 };
    for ((o, &a), &b) in out[warm..].iter_mut().zip(&f[warm..]).zip(&s[warm..]) {
        *o = ((a > b) as i8 - (a < b) as i8).max(lo);
    }
    if let Some(m) = mask {
        for (o, &ok) in out.iter_mut().zip(m) {
            if !ok {
                *o = 0;
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
        stop_distance: x.open,
        day_starts: x.day_starts,
        rolls: x.rolls,
        entry_ok: x.entry_ok,
        force_flat: x.force_flat,
    }
    .check()
    .map_err(SweepError::Inputs)?;
    if plan.threads == 0 || plan.group == 0 || plan.block == 0 {
        return Err(SweepError::Inputs(format!(
            "threads, group and block must be >= 1, got {plan:?}"
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
                return bad(format!(
                    "signal index {j} but {} signals",
                    x.signals.len()
                ));
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

/// One EMA per distinct span of the combinations, computed on `threads` threads:
/// `(span, values)` sorted by span.
fn shared_emas(close: &[f64], combos: &[Combo], threads: usize) -> Vec<(usize, Vec<f64>)> {
    let mut spans: Vec<usize> = combos
        .iter()
        .flat_map(|c| match c.signal {
            Signal::EmaCross { fast, slow, .. } => vec![fast, slow],
            Signal::Given(_) => vec![],
        })
        .collect();
    spans.sort_unstable();
    spans.dedup();
    let Some(&first) = close.first() else {
        return spans.into_iter().map(|s| (s, Vec::new())).collect();
    };
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<(usize, Vec<f64>)>> = Mutex::new(Vec::with_capacity(spans.len()));
    std::thread::scope(|scope| {
        for _ in 0..threads.min(spans.len()).max(1) {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(&span) = spans.get(k) else { break };
                // The recursion of `ema_cross`: alpha = 2 / (span + 1), seeded with x[0].
                let values = ema_filter(close, 2.0 / (span as f64 + 1.0), first);
                out.lock().expect("no worker panics").push((span, values));
            });
        }
    });
    let mut emas = out.into_inner().expect("no worker panics");
    emas.sort_unstable_by_key(|e| e.0);
    emas
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
    let emas = shared_emas(x.close, combos, plan.threads);
    let ema = |span: usize| -> &[f64] {
        let k = emas
            .binary_search_by_key(&span, |e| e.0)
            .expect("every span was computed");
        &emas[k].1
    };
    // The last bar of each trade date.
    let day_ends: Vec<usize> = x
        .day_starts
        .iter()
        .map(|&b| b as usize - 1)
        .chain((n > 0).then_some(n - 1))
        .collect();
    let groups: Vec<&[Combo]> = combos.chunks(plan.group).collect();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Vec<Summary>)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut signal_bufs: Vec<Vec<i8>> = Vec::new();
                let mut windows: Vec<Vec<f64>> = Vec::new();
                loop {
                    let g = next.fetch_add(1, Ordering::Relaxed);
                    let Some(group) = groups.get(g) else { break };
                    let summaries = run_group(
                        x,
                        p,
                        group,
                        plan.block,
                        &ema,
                        &day_ends,
                        &mut signal_bufs,
                        &mut windows,
                    );
                    results
                        .lock()
                        .expect("no worker panics")
                        .push((g, summaries));
                }
            });
        }
    });
    let mut done = results.into_inner().expect("no worker panics");
    done.sort_unstable_by_key(|r| r.0);
    Ok(done.into_iter().flat_map(|r| r.1).collect())
}

/// One group of combinations, block after block of bars.
#[allow(clippy::too_many_arguments)]
fn run_group<'e>(
    x: &SweepInputs,
    p: &Params,
    group: &[Combo],
    block: usize,
    ema: &impl Fn(usize) -> &'e [f64],
    day_ends: &[usize],
    signal_bufs: &mut Vec<Vec<i8>>,
    windows: &mut Vec<Vec<f64>>,
) -> Vec<Summary> {
    let n = x.open.len();
    let g = group.len();
    signal_bufs.resize_with(g, Vec::new);
    windows.resize_with(g, Vec::new);
    for (c, buf) in group.iter().zip(signal_bufs.iter_mut()) {
        if let Signal::EmaCross {
            fast,
            slow,
            long_only,
        } = c.signal
        {
            buf.resize(n, 0);
            let warm = fast.max(slow) - 1;
            cross_signal(ema(fast), ema(slow), warm, long_only, x.signal_mask, buf);
        }
    }
    for w in windows.iter_mut() {
        w.resize(block.min(n).max(1), 0.0);
    }
    let inputs: Vec<Inputs> = group
        .iter()
        .zip(signal_bufs.iter())
        .map(|(c, buf)| Inputs {
            tick: p.tick_size,
            inv_tick: 1.0 / p.tick_size,
            open: x.open,
            high: x.high,
            low: x.low,
            close: x.close,
            signal: match c.signal {
                Signal::Given(j) => x.signals[j],
                Signal::EmaCross { .. } => &buf[..],
            },
            stop_distance: x.stops[c.stop],
            day_starts: x.day_starts,
            rolls: x.rolls,
            entry_ok: x.entry_ok,
            force_flat: x.force_flat,
        })
        .collect();
    let mut runs: Vec<Option<Run>> = (0..g).map(|_| Some(Run::new(p))).collect();
    let mut dd = vec![Drawdown::new(p.initial_capital); g];
    let mut day_equity: Vec<Vec<f64>> = vec![Vec::with_capacity(day_ends.len()); g];
    let mut records = Vec::with_capacity(g);
    let mut start = 0usize;
    let mut next_end = 0usize; // index into day_ends
    while start < n {
        let end = (start + block).min(n);
        let ends_here = day_ends[next_end..].partition_point(|&b| b < end);
        for k in 0..g {
            let buf = &mut windows[k][..end - start];
            let mut window = EquityWindow { buf, off: start };
            let run = runs[k].as_mut().expect("runs finish at the last block");
            run.advance(&inputs[k], end, &mut window);
            if end == n {
                let run = runs[k].take().expect("finished once");
                records.push(run.finish(&inputs[k], &mut window));
            }
            dd[k].extend(window.buf);
            for &b in &day_ends[next_end..next_end + ends_here] {
                day_equity[k].push(window.buf[b - start]);
            }
        }
        next_end += ends_here;
        start = end;
    }
    if n == 0 {
        for (k, run) in runs.iter_mut().enumerate() {
            let run = run.take().expect("finished once");
            let mut window = EquityWindow {
                buf: &mut windows[k][..0],
                off: 0,
            };
            records.push(run.finish(&inputs[k], &mut window));
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
