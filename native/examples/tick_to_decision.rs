//! Tick to decision in process, timed one record at a time:
//! `cargo run --release --example tick_to_decision [PATH] [ROUNDS]`
//! (default PATH: the real ESH4 MBO file under ../../shared/data/real; ROUNDS 5).
//!
//! Each record of the file, decoded beforehand as a feed handler would hand it over, goes:
//! record in -> L3 book (`book::Market`) -> at each event boundary (`F_LAST`) of the traded
//! instrument, the mid price into a fast and a slow incremental EMA
//! (`indicators::incremental::Ema`) and a crossover test -> on a crossover, the pre-trade
//! risk check (`risk::PreTradeRisk`) -> an approved order pushed to a `Vec` (order out).
//! Every record is timed with `std::time::Instant` (the clock read itself included) into an
//! HDR histogram; boundaries and decisions get histograms of their own. The first round warms
//! caches and the allocator and is not counted. Targets (issue 10): p50 < 1 us, p99 < 10 us.
use std::hint::black_box;
use std::time::Instant;

use _native::book::{decoder_from_bytes, Market};
use _native::indicators::incremental::Ema;
use _native::risk::{PreTradeLimits, PreTradeRisk};
use dbn::decode::DecodeRecordRef;
use dbn::{flags, MboMsg};
use hdrhistogram::Histogram;

const NS_PER_DAY: u64 = 86_400_000_000_000;
/// ES tick: $0.25 in DBN fixed point.
const TICK: i64 = 250_000_000;

/// What leaves the process: one order per approved decision.
#[derive(Debug, Clone, Copy)]
#[allow(dead_code)] // read only through Debug and black_box: it stands for the wire message
struct Order {
    ts_event: u64,
    instrument_id: u32,
    buy: bool,
    quantity: i64,
    price: i64,
}

fn limits() -> PreTradeLimits {
    PreTradeLimits {
        daily_loss_limit: 0.05,
        max_position: 5,
        max_exposure: 20.0,
        max_consecutive_losses: 5,
        intraday_drawdown_limit: 0.04,
        max_drawdown_limit: 0.2,
        cooloff_days: 5,
        tick_size: 0.25,
        multiplier: 50.0,
        max_orders_per_minute: Some(30),
    }
}

/// The strategy state: book, signal, risk, orders out.
struct Engine {
    market: Market,
    instrument_id: u32,
    fast: Ema,
    slow: Ema,
    side: i8,
    risk: PreTradeRisk,
    day: u64,
    orders: Vec<Order>,
    refused: u64,
}

/// What one record led to.
#[derive(PartialEq, Eq)]
enum Step {
    Applied,
    Boundary,
    Decision,
}

impl Engine {
    fn new(instrument_id: u32) -> Self {
        Engine {
            market: Market::new(),
            instrument_id,
            fast: Ema::new(20, 20).expect("span > 0"),
            slow: Ema::new(100, 100).expect("span > 0"),
            side: 0,
            risk: PreTradeRisk::new(limits()),
            day: u64::MAX,
            orders: Vec::with_capacity(1 << 16),
            refused: 0,
        }
    }

    #[inline]
    fn on_record(&mut self, rec: &MboMsg) -> Step {
        if self.market.apply(rec).is_err() {
            self.refused += 1; // counted, never a panic (see the book's integrity policy)
        }
        if rec.hd.instrument_id != self.instrument_id || rec.flags.raw() & flags::LAST == 0 {
            return Step::Applied;
        }
        let Some(mid) = self.market.get(self.instrument_id).and_then(|b| {
            if b.is_crossed() {
                None
            } else {
                b.mid()
            }
        }) else {
            return Step::Boundary;
        };
        let x = mid as f64 * 1e-9;
        let (Ok(f), Ok(s)) = (self.fast.update(x), self.slow.update(x)) else {
            return Step::Boundary;
        };
        let side = if f > s {
            1
        } else if f < s {
            -1
        } else {
            self.side
        };
        if f.is_nan() || s.is_nan() || side == self.side {
            return Step::Boundary;
        }
        self.side = side;
        let ts = rec.hd.ts_event;
        let day = ts / NS_PER_DAY;
        if day != self.day {
            self.day = day;
            self.risk.start_bar(day as i64, day as i64, 100_000.0);
        }
        let Ok(d) = self
            .risk
            .check_entry(1, mid / TICK, 100_000.0, true, None, ts as i64)
        else {
            return Step::Decision;
        };
        if d.approved > 0 {
            self.orders.push(Order {
                ts_event: ts,
                instrument_id: self.instrument_id,
                buy: side > 0,
                quantity: d.approved,
                price: mid,
            });
        }
        Step::Decision
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds")
}

fn print(name: &str, h: &Histogram<u64>) {
    println!(
        "{name:<34} n={:>9}  p50 {:>6} ns  p90 {:>6} ns  p99 {:>6} ns  p99.9 {:>7} ns  max {:>9} ns",
        h.len(),
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.9),
        h.value_at_quantile(0.99),
        h.value_at_quantile(0.999),
        h.max()
    );
}

fn main() {
    let default = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/real/nautilus/esh4-glbx-mdp3-20231225.mbo.dbn.zst"
    );
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).cloned().unwrap_or_else(|| default.to_string());
    let rounds: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5).max(2);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("tick_to_decision: cannot read {path}: {e}");
            std::process::exit(2);
        }
    };
    let mut records: Vec<MboMsg> = Vec::new();
    let mut dec = decoder_from_bytes(&bytes).expect("a DBN file");
    while let Some(r) = dec.decode_record_ref().expect("whole DBN records") {
        if let Some(m) = r.get::<MboMsg>() {
            records.push(*m);
        }
    }
    // Trade the instrument with the most records.
    let mut counts = std::collections::HashMap::<u32, usize>::new();
    for r in &records {
        *counts.entry(r.hd.instrument_id).or_default() += 1;
    }
    let (iid, n_iid) = counts
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(i, n)| (*i, *n))
        .unwrap();
    println!(
        "{path}\n{} MBO records, instrument {iid} ({n_iid} records); {} timed rounds after one warm-up",
        records.len(),
        rounds - 1
    );

    let (mut all, mut boundary, mut decision) = (histogram(), histogram(), histogram());
    let mut orders = 0;
    for round in 0..rounds {
        let mut e = Engine::new(iid);
        for rec in &records {
            let t = Instant::now();
            let step = e.on_record(black_box(rec));
            let ns = t.elapsed().as_nanos() as u64;
            if round == 0 {
                continue;
            }
            all.saturating_record(ns.max(1));
            if step != Step::Applied {
                boundary.saturating_record(ns.max(1));
            }
            if step == Step::Decision {
                decision.saturating_record(ns.max(1));
            }
        }
        orders = black_box(&e.orders).len();
        if round == rounds - 1 {
            println!(
                "per round: {} decisions reached the risk check, {orders} orders out, {} records refused by the book",
                decision.len() / (rounds as u64 - 1),
                e.refused
            );
        }
    }
    let clock = {
        let t = Instant::now();
        let mut last = t;
        for _ in 0..100_000 {
            last = black_box(Instant::now());
        }
        (last - t).as_nanos() as f64 / 100_000.0
    };
    println!("record in -> order out, per record (clock read ~{clock:.0} ns included):");
    print("every record", &all);
    print("event boundaries of the instrument", &boundary);
    print("decisions (signal flip + risk)", &decision);
    println!(
        "targets: p50 < 1000 ns, p99 < 10000 ns (every record): {}",
        if all.value_at_quantile(0.5) < 1000 && all.value_at_quantile(0.99) < 10_000 {
            "met"
        } else {
            "NOT met"
        }
    );
    black_box(orders);
}
