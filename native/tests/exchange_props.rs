//! Property tests of the simulated exchange: random order flows against
//! random books never panic, and every order conserves its quantity
//! (`qty = filled + cancelled + leaves`, fills in the reports add up).

use std::collections::HashMap;

use _native::exchange::{
    Exchange, ExchangeConfig, ExecType, Interval, Latency, LatencyModel, OffHours, OrderRequest,
    OrderSide, OrderType, ProbFunc, QueueModel, SessionSchedule, TimeInForce, NO_PRICE,
};
use dbn::{flags, rtype, FlagSet, MboMsg, RecordHeader};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Step {
    Add {
        bid: bool,
        px: i64,
        size: u32,
    },
    Cancel {
        pick: usize,
        size: u32,
    },
    Modify {
        pick: usize,
        px: i64,
        size: u32,
    },
    Trade {
        pick: usize,
        size: u32,
    },
    Clear,
    Submit {
        side: bool,
        kind: u8,
        tif: u8,
        qty: u32,
        px: i64,
        stop: i64,
    },
    CancelOwn {
        pick: u64,
    },
    ReplaceOwn {
        pick: u64,
        qty: u32,
        px: i64,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (any::<bool>(), 90i64..110, 1u32..20).prop_map(|(bid, px, size)| Step::Add { bid, px, size }),
        2 => (any::<usize>(), 1u32..25).prop_map(|(pick, size)| Step::Cancel { pick, size }),
        2 => (any::<usize>(), 90i64..110, 0u32..20).prop_map(|(pick, px, size)| Step::Modify { pick, px, size }),
        3 => (any::<usize>(), 1u32..10).prop_map(|(pick, size)| Step::Trade { pick, size }),
        1 => Just(Step::Clear),
        3 => (any::<bool>(), 0u8..5, 0u8..3, 0u32..8, 88i64..112, 88i64..112)
            .prop_map(|(side, kind, tif, qty, px, stop)| Step::Submit { side, kind, tif, qty, px, stop }),
        1 => (0u64..40).prop_map(|pick| Step::CancelOwn { pick }),
        1 => (0u64..40, 0u32..8, 88i64..112).prop_map(|(pick, qty, px)| Step::ReplaceOwn { pick, qty, px }),
    ]
}

fn rec(ts: u64, action: u8, side: u8, id: u64, price: i64, size: u32, last: bool) -> MboMsg {
    MboMsg {
        hd: RecordHeader::new::<MboMsg>(rtype::MBO, 1, 3, ts),
        order_id: id,
        price,
        size,
        flags: FlagSet::new(if last { flags::LAST } else { 0 }),
        channel_id: 0,
        action: action as _,
        side: side as _,
        ts_recv: ts + 3,
        ts_in_delta: 0,
        sequence: 0,
    }
}

fn config(model: u8, seed: u64) -> ExchangeConfig {
    ExchangeConfig {
        queue: match model {
            0 => QueueModel::Conservative,
            1 => QueueModel::L3Known,
            2 => QueueModel::Probabilistic(ProbFunc::Power(3.0)),
            _ => QueueModel::Probabilistic(ProbFunc::Log),
        },
        latency: LatencyModel {
            entry: Latency::Recorded(vec![0, 5, 17, 40]),
            response: Latency::Constant(2),
        },
        schedule: SessionSchedule {
            sessions: vec![Interval::new(0, 600), Interval::new(700, 2000)],
            halts: vec![Interval::new(300, 350)],
        },
        off_hours: if seed.is_multiple_of(2) {
            OffHours::Hold
        } else {
            OffHours::Reject
        },
        seed,
        ..Default::default()
    }
}

/// Runs the steps; returns every report.
fn run(
    steps: &[Step],
    model: u8,
    seed: u64,
) -> (Exchange, Vec<_native::exchange::ExecReport>, u64) {
    let mut x = Exchange::new(3, config(model, seed)).unwrap();
    // The simulated real book: id -> (side, price, size).
    let mut live: Vec<(u64, u8, i64, u32)> = Vec::new();
    let mut next_id = 1u64;
    let mut own = 0u64;
    let mut ts = 1u64;
    let mut out = Vec::new();
    for s in steps {
        ts += 4;
        match *s {
            Step::Add { bid, px, size } => {
                let side = if bid { b'B' } else { b'A' };
                let _ = x.on_mbo(&rec(ts, b'A', side, next_id, px, size, true));
                live.push((next_id, side, px, size));
                next_id += 1;
            }
            Step::Cancel { pick, size } if !live.is_empty() => {
                let k = pick % live.len();
                let (id, side, px, sz) = live[k];
                let _ = x.on_mbo(&rec(ts, b'C', side, id, px, size, true));
                if size >= sz {
                    live.swap_remove(k);
                } else {
                    live[k].3 -= size;
                }
            }
            Step::Modify { pick, px, size } if !live.is_empty() => {
                let k = pick % live.len();
                let (id, side, _, _) = live[k];
                let _ = x.on_mbo(&rec(ts, b'M', side, id, px, size, true));
                if size == 0 {
                    live.swap_remove(k);
                } else {
                    live[k].2 = px;
                    live[k].3 = size;
                }
            }
            Step::Trade { pick, size } if !live.is_empty() => {
                let k = pick % live.len();
                let (id, side, px, sz) = live[k];
                let q = size.min(sz);
                let agg = if side == b'B' { b'A' } else { b'B' };
                let _ = x.on_mbo(&rec(ts, b'T', agg, 0, px, q, false));
                let _ = x.on_mbo(&rec(ts, b'F', side, id, px, q, false));
                if q == sz {
                    let _ = x.on_mbo(&rec(ts, b'C', side, id, px, q, true));
                    live.swap_remove(k);
                } else {
                    let _ = x.on_mbo(&rec(ts, b'M', side, id, px, sz - q, true));
                    live[k].3 -= q;
                }
            }
            Step::Clear => {
                let _ = x.on_mbo(&rec(ts, b'R', b'N', 0, NO_PRICE, 0, true));
                live.clear();
            }
            Step::Submit {
                side,
                kind,
                tif,
                qty,
                px,
                stop,
            } => {
                let side = if side {
                    OrderSide::Buy
                } else {
                    OrderSide::Sell
                };
                let tif = [TimeInForce::Day, TimeInForce::Gtc, TimeInForce::Ioc][tif as usize];
                let req = match kind {
                    0 => OrderRequest::market(own, side, qty, tif),
                    1 => OrderRequest::limit(own, side, qty, px, tif),
                    2 => OrderRequest::stop(own, side, qty, stop, tif),
                    3 => OrderRequest::stop_limit(own, side, qty, stop, px, tif),
                    // An invalid one: a market order with a limit price.
                    _ => OrderRequest {
                        order_type: OrderType::Market,
                        ..OrderRequest::limit(own, side, qty, px, tif)
                    },
                };
                x.submit(ts, req);
                own += 1;
            }
            Step::CancelOwn { pick } => x.cancel(ts, pick),
            Step::ReplaceOwn { pick, qty, px } => x.replace(ts, pick, qty, px, NO_PRICE),
            _ => {}
        }
        out.extend(x.drain_reports());
    }
    x.advance_to(ts + 10_000);
    out.extend(x.drain_reports());
    (x, out, own)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_flows_conserve_quantity(steps in prop::collection::vec(step(), 0..250), model in 0u8..4, seed in 0u64..1000) {
        let (x, reports, n) = run(&steps, model, seed);
        x.book().validate().unwrap();
        let mut filled: HashMap<u64, u64> = HashMap::new();
        for r in &reports {
            prop_assert!(r.ts_local >= r.ts_exchange);
            prop_assert!(r.cum_qty + r.leaves_qty <= r.order_qty);
            if matches!(r.exec_type, ExecType::Fill | ExecType::PartialFill) {
                prop_assert!(r.last_qty > 0);
                *filled.entry(r.client_id).or_default() += u64::from(r.last_qty);
                prop_assert_eq!(u64::from(r.cum_qty), filled[&r.client_id]);
            }
        }
        for id in 0..n {
            // Duplicate ids cannot occur here (ids are fresh), so every order is known
            // unless its only report was a rejection at arrival.
            if let Some(v) = x.order(id) {
                prop_assert_eq!(v.qty, v.filled + v.cancelled + v.leaves);
                prop_assert_eq!(u64::from(v.filled), filled.get(&id).copied().unwrap_or(0));
                if v.status.is_done() {
                    prop_assert_eq!(v.leaves, 0);
                }
            }
        }
        // Deterministic: the same steps and seed, the same reports.
        let (_, again, _) = run(&steps, model, seed);
        prop_assert_eq!(again, reports);
    }
}
