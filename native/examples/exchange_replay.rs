//! Throughput of the simulated exchange: replays an MBO file (default: the
//! real ESH4 file) through an [`Exchange`] with N own orders working — half
//! resting limit orders re-placed at the touch as they fill, half aggressive
//! (IOC market orders sent at a steady pace) — and prints events per second.
//!
//! `cargo run --release --example exchange_replay [FILE] [N] [ROUNDS]`

use std::path::PathBuf;
use std::time::Instant;

use _native::book::decoder_from_reader;
use _native::exchange::{
    Exchange, ExchangeConfig, LatencyModel, OrderRequest, OrderSide, ProbFunc, QueueModel,
    TimeInForce,
};
use dbn::decode::DecodeRecordRef;
use dbn::{flags, MboMsg};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/data/real/nautilus/esh4-glbx-mdp3-20231225.mbo.dbn.zst")
    });
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100);
    let rounds: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(5);
    if !path.exists() {
        println!("SKIPPED: {} is absent", path.display());
        return;
    }
    let f = std::fs::File::open(&path).unwrap();
    let mut dec = decoder_from_reader(f).unwrap();
    let mut recs: Vec<MboMsg> = Vec::new();
    while let Some(r) = dec.decode_record_ref().unwrap() {
        if let Some(m) = r.get::<MboMsg>() {
            recs.push(*m);
        }
    }
    let inst = recs.last().map_or(0, |m| m.hd.instrument_id);
    println!(
        "{}: {} records, {n} own orders working",
        path.display(),
        recs.len()
    );
    for (name, queue) in [
        ("conservative", QueueModel::Conservative),
        ("l3_known", QueueModel::L3Known),
        (
            "prob_power2",
            QueueModel::Probabilistic(ProbFunc::Power(2.0)),
        ),
    ] {
        for own in [0, n] {
            let mut best = f64::INFINITY;
            let mut reports = 0usize;
            for _ in 0..rounds {
                let cfg = ExchangeConfig {
                    queue,
                    latency: LatencyModel::constant(50_000, 50_000),
                    seed: 1,
                    ..Default::default()
                };
                let mut x = Exchange::new(inst, cfg).unwrap();
                let mut next = 0u64;
                let mut boundaries = 0u64;
                let t0 = Instant::now();
                for m in &recs {
                    let _ = x.on_mbo(m);
                    if own == 0 || m.flags.raw() & flags::LAST == 0 || x.book().in_snapshot() {
                        continue;
                    }
                    boundaries += 1;
                    // Keep `own / 2` resting orders at the touch.
                    if x.open_orders() < own / 2 {
                        let side = if next.is_multiple_of(2) {
                            OrderSide::Buy
                        } else {
                            OrderSide::Sell
                        };
                        let lv = match side {
                            OrderSide::Buy => x.book().best_bid(),
                            OrderSide::Sell => x.book().best_ask(),
                        };
                        if let Some(lv) = lv {
                            x.submit(
                                m.ts_recv,
                                OrderRequest::limit(next, side, 1, lv.price, TimeInForce::Gtc),
                            );
                            next += 1;
                        }
                    }
                    // And an aggressive order every 100 boundaries, `own / 2` in all.
                    if boundaries.is_multiple_of(100) && (next as usize) < own * 50 {
                        let side = if boundaries.is_multiple_of(200) {
                            OrderSide::Buy
                        } else {
                            OrderSide::Sell
                        };
                        x.submit(
                            m.ts_recv,
                            OrderRequest::market(next, side, 1, TimeInForce::Ioc),
                        );
                        next += 1;
                    }
                    reports += x.drain_reports().len();
                }
                let dt = t0.elapsed().as_secs_f64();
                best = best.min(dt);
            }
            println!(
                "{name:>13}, {own:4} own orders: best of {rounds} {:7.2} ms, {:6.2} M events/s ({} reports per round)",
                best * 1e3,
                recs.len() as f64 / best / 1e6,
                reports / rounds
            );
        }
    }
}
