//! Queue-position check of the simulated exchange on the real ESH4 MBO file
//! (`../../shared/data/real/nautilus/`, relative to the crate; skipped with a
//! printed reason when absent).
//!
//! Own buy and sell limit orders are placed at the back of the best three
//! levels of each side at regular event boundaries through the hour. For each
//! one, the test follows the real orders that were ahead of it at placement
//! (by L3 order id, from its own reading of the records) and finds the time
//! at which all of them had traded, been cancelled or lost priority. The
//! conservative and L3-known models must never fill an order before that
//! time; the probabilistic models may, and how much earlier or later they
//! fill is printed.

use std::collections::HashMap;
use std::path::PathBuf;

use _native::book::decoder_from_reader;
use _native::exchange::{
    Exchange, ExchangeConfig, ExecReport, ExecType, OrderRequest, OrderSide, ProbFunc, QueueModel,
    TimeInForce,
};
use dbn::decode::DecodeRecordRef;
use dbn::{flags, MboMsg};

fn real(rel: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/real")
        .join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("SKIPPED: real data file {} is absent", p.display());
        None
    }
}

fn read_mbo(path: &PathBuf) -> Vec<MboMsg> {
    let f = std::fs::File::open(path).unwrap();
    let mut dec = decoder_from_reader(f).unwrap();
    let mut out = Vec::new();
    while let Some(rec) = dec.decode_record_ref().unwrap() {
        out.push(*rec.get::<MboMsg>().expect("MBO record"));
    }
    out
}

/// One placed order and the real orders ahead of it.
struct Sample {
    client_id: u64,
    placed: u64,
    ahead: HashMap<u64, u32>,
    cleared: Option<u64>,
}

const EVERY: usize = 120;
const LIFETIME_NS: u64 = 600_000_000_000;

fn models() -> Vec<(&'static str, QueueModel)> {
    vec![
        ("conservative", QueueModel::Conservative),
        ("l3_known", QueueModel::L3Known),
        (
            "prob_power2",
            QueueModel::Probabilistic(ProbFunc::Power(2.0)),
        ),
        ("prob_log", QueueModel::Probabilistic(ProbFunc::Log)),
    ]
}

/// Replays the file into one exchange per model, placing the samples; returns
/// the samples (with their cleared times) and each model's reports.
fn run(recs: &[MboMsg], inst: u32, seed: u64) -> (Vec<Sample>, Vec<Vec<ExecReport>>) {
    let mut xs: Vec<Exchange> = models()
        .into_iter()
        .map(|(_, queue)| {
            Exchange::new(
                inst,
                ExchangeConfig {
                    queue,
                    seed,
                    ..Default::default()
                },
            )
            .unwrap()
        })
        .collect();
    let mut samples: Vec<Sample> = Vec::new();
    // real order id -> samples it is ahead of
    let mut watch: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut boundaries = 0usize;
    let mut next_id = 1u64;
    let mut live: Vec<(u64, u64)> = Vec::new(); // (expiry, client id)
    for m in recs.iter().filter(|m| m.hd.instrument_id == inst) {
        let t = m.hd.ts_event;
        // The truth, from the records: the volume of each real order ahead at
        // placement is consumed by its fills (`F`) and size reductions, and is
        // gone whole when the order leaves or loses priority (price change,
        // size increase, clear). An iceberg's refill after a fill (`F` then an
        // `M` back up) is new volume at the back, not volume ahead.
        let action = m.action as u8;
        if matches!(action, b'F' | b'C' | b'M' | b'R') {
            let ids: Vec<u64> = if action == b'R' {
                watch.keys().copied().collect()
            } else {
                vec![m.order_id]
            };
            for id in ids {
                let Some(list) = watch.get(&id).cloned() else {
                    continue;
                };
                let old = xs[0].book().order(id);
                let cap = |v: u32| -> u32 {
                    match (action, old) {
                        (b'F', _) => v.saturating_sub(m.size),
                        (b'C', Some(o)) => v.min(o.size.saturating_sub(m.size)),
                        (b'M', Some(o)) if m.price == o.price && m.size <= o.size => v.min(m.size),
                        _ => 0,
                    }
                };
                let mut left_any = false;
                for &si in &list {
                    let smp = &mut samples[si];
                    let Some(&v) = smp.ahead.get(&id) else {
                        continue;
                    };
                    let v = cap(v);
                    if v > 0 {
                        smp.ahead.insert(id, v);
                        left_any = true;
                    } else {
                        smp.ahead.remove(&id);
                        if smp.ahead.is_empty() && smp.cleared.is_none() {
                            smp.cleared = Some(t);
                        }
                    }
                }
                if !left_any {
                    watch.remove(&id);
                }
            }
        }
        for x in xs.iter_mut() {
            let _ = x.on_mbo(m);
        }
        let last = m.flags.raw() & flags::LAST != 0;
        let snap = m.flags.raw() & flags::SNAPSHOT != 0;
        if !last || snap {
            continue;
        }
        boundaries += 1;
        // Cancel samples past their lifetime (keeps the number resting bounded).
        live.retain(|&(exp, id)| {
            if exp <= t {
                for x in xs.iter_mut() {
                    x.cancel(t, id);
                }
                false
            } else {
                true
            }
        });
        if boundaries.is_multiple_of(EVERY) && !xs[0].book().is_crossed() {
            for side in [OrderSide::Buy, OrderSide::Sell] {
                let bs = side.book_side();
                let levels = xs[0].book().depth(bs, 3);
                for lv in levels {
                    let ahead: HashMap<u64, u32> = xs[0]
                        .book()
                        .orders_at(bs, lv.price)
                        .iter()
                        .map(|o| (o.order_id, o.size))
                        .collect();
                    let s = samples.len();
                    for &id in ahead.keys() {
                        watch.entry(id).or_default().push(s);
                    }
                    samples.push(Sample {
                        client_id: next_id,
                        placed: t,
                        cleared: if ahead.is_empty() { Some(t) } else { None },
                        ahead,
                    });
                    for x in xs.iter_mut() {
                        x.submit(
                            t,
                            OrderRequest::limit(next_id, side, 1, lv.price, TimeInForce::Gtc),
                        );
                    }
                    live.push((t + LIFETIME_NS, next_id));
                    next_id += 1;
                }
            }
            for x in xs.iter_mut() {
                x.advance_to(t);
            }
        }
    }
    let reports = xs.iter_mut().map(|x| x.drain_reports()).collect();
    (samples, reports)
}

fn first_fills(reports: &[ExecReport]) -> HashMap<u64, u64> {
    let mut out = HashMap::new();
    for r in reports {
        if matches!(r.exec_type, ExecType::Fill | ExecType::PartialFill) {
            out.entry(r.client_id).or_insert(r.ts_exchange);
        }
    }
    out
}

#[test]
fn esh4_fills_never_precede_the_queue_ahead_clearing() {
    let Some(path) = real("nautilus/esh4-glbx-mdp3-20231225.mbo.dbn.zst") else {
        return;
    };
    let recs = read_mbo(&path);
    let mut counts: HashMap<u32, usize> = HashMap::new();
    for r in &recs {
        *counts.entry(r.hd.instrument_id).or_default() += 1;
    }
    let inst = counts
        .iter()
        .max_by_key(|(id, n)| (**n, **id))
        .map(|(id, _)| *id)
        .unwrap();
    let (samples, reports) = run(&recs, inst, 7);
    let names: Vec<&str> = models().iter().map(|m| m.0).collect();
    assert!(samples.len() >= 500, "{} samples", samples.len());
    let cleared = samples.iter().filter(|s| s.cleared.is_some()).count();
    println!(
        "samples {} (placed at the back of the best 3 levels per side every {EVERY} boundaries); queue ahead cleared for {cleared}",
        samples.len()
    );
    let exact = first_fills(&reports[1]);
    for (k, name) in names.iter().enumerate() {
        let fills = first_fills(&reports[k]);
        let mut early = 0usize;
        let mut diffs: Vec<f64> = Vec::new();
        let mut vs_exact: Vec<f64> = Vec::new();
        for s in &samples {
            let Some(&f) = fills.get(&s.client_id) else {
                continue;
            };
            assert!(f >= s.placed);
            match s.cleared {
                Some(c) => {
                    diffs.push((f as f64 - c as f64) / 1e6);
                    if f < c {
                        early += 1;
                    }
                }
                None => early += 1,
            }
            if let Some(&e) = exact.get(&s.client_id) {
                vs_exact.push((f as f64 - e as f64) / 1e6);
            }
            if k < 2 {
                assert!(
                    s.cleared.is_some_and(|c| f >= c),
                    "{name}: order {} filled at {f}, queue ahead cleared at {:?}",
                    s.client_id,
                    s.cleared
                );
            }
        }
        let mean = |v: &[f64]| {
            if v.is_empty() {
                f64::NAN
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            }
        };
        println!(
            "{name:>13}: filled {:4}, before the queue cleared {early:4}, fill - cleared mean {:9.1} ms, fill - l3_known fill mean {:9.1} ms (n {})",
            fills.len(),
            mean(&diffs),
            mean(&vs_exact),
            vs_exact.len()
        );
    }
    // Deterministic: the same input and seed give the same reports, every one.
    let (_, again) = run(&recs, inst, 7);
    assert_eq!(again, reports);
}
