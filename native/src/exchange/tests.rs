//! Unit tests of the simulated exchange on small hand-made books.

use dbn::{flags, rtype, FlagSet, MboMsg, RecordHeader};

use super::*;

const L: u8 = flags::LAST;

fn mbo(ts: u64, action: u8, side: u8, id: u64, price: i64, size: u32) -> MboMsg {
    MboMsg {
        hd: RecordHeader::new::<MboMsg>(rtype::MBO, 1, 7, ts),
        order_id: id,
        price,
        size,
        flags: FlagSet::new(L),
        channel_id: 0,
        action: action as _,
        side: side as _,
        ts_recv: ts + 5,
        ts_in_delta: 0,
        sequence: ts as u32,
    }
}

/// Asks 101: ids 1 (5), 2 (5); 102: id 3 (10). Bids 99: ids 4 (5), 5 (3); 98: id 6 (10).
fn setup(cfg: ExchangeConfig) -> Exchange {
    let mut x = Exchange::new(7, cfg).unwrap();
    for (id, side, px, sz) in [
        (1, b'A', 101, 5),
        (2, b'A', 101, 5),
        (3, b'A', 102, 10),
        (4, b'B', 99, 5),
        (5, b'B', 99, 3),
        (6, b'B', 98, 10),
    ] {
        x.on_mbo(&mbo(10, b'A', side, id, px, sz)).unwrap();
    }
    x
}

fn feed(x: &mut Exchange, recs: &[MboMsg]) {
    for r in recs {
        let _ = x.on_mbo(r);
    }
}

/// The same record without `F_LAST` (not the last of its event).
fn mid(mut m: MboMsg) -> MboMsg {
    m.flags = FlagSet::new(0);
    m
}

fn kinds(r: &[ExecReport]) -> Vec<ExecType> {
    r.iter().map(|r| r.exec_type).collect()
}

fn conserve(x: &Exchange, id: u64) {
    let v = x.order(id).unwrap();
    assert_eq!(v.qty, v.filled + v.cancelled + v.leaves);
}

#[test]
fn market_order_walks_the_book_as_taker_with_fees() {
    let cfg = ExchangeConfig {
        fees: Fees::from_usd(-0.1, 0.35),
        ..Default::default()
    };
    let mut x = setup(cfg);
    x.submit(
        20,
        OrderRequest::market(1, OrderSide::Buy, 12, TimeInForce::Ioc),
    );
    x.advance_to(20);
    let r = x.drain_reports();
    assert_eq!(
        kinds(&r),
        [ExecType::New, ExecType::PartialFill, ExecType::Fill]
    );
    assert_eq!((r[1].last_px, r[1].last_qty), (101, 10));
    assert_eq!((r[2].last_px, r[2].last_qty, r[2].cum_qty), (102, 2, 12));
    assert_eq!(r[1].liquidity, Liquidity::Taker);
    assert_eq!(r[1].fee_per_contract, 350_000_000);
    assert_eq!(r[1].fee, 3_500_000_000);
    assert_eq!(r[2].status, OrderStatus::Filled);
    // The real book is unchanged; the taken liquidity is not offered twice.
    assert_eq!(x.book().best_ask().unwrap().size, 10);
    x.submit(
        21,
        OrderRequest::market(2, OrderSide::Buy, 20, TimeInForce::Ioc),
    );
    x.advance_to(21);
    let r = x.drain_reports();
    assert_eq!(
        kinds(&r),
        [ExecType::New, ExecType::PartialFill, ExecType::Cancelled]
    );
    assert_eq!((r[1].last_px, r[1].last_qty), (102, 8));
    assert_eq!(r[2].reason, ExecReason::NoLiquidity);
    assert_eq!(r[2].last_qty, 12);
    conserve(&x, 2);
    // The feed touching the level makes its liquidity available again.
    feed(&mut x, &[mbo(30, b'M', b'A', 3, 102, 9)]);
    x.submit(
        31,
        OrderRequest::market(3, OrderSide::Buy, 1, TimeInForce::Ioc),
    );
    x.advance_to(31);
    let r = x.drain_reports();
    assert_eq!((r[1].last_px, r[1].last_qty), (102, 1));
}

#[test]
fn limit_ioc_takes_up_to_its_price_then_cancels() {
    let mut x = setup(ExchangeConfig::default());
    x.submit(
        20,
        OrderRequest::limit(1, OrderSide::Sell, 12, 99, TimeInForce::Ioc),
    );
    x.advance_to(20);
    let r = x.drain_reports();
    assert_eq!(
        kinds(&r),
        [ExecType::New, ExecType::PartialFill, ExecType::Cancelled]
    );
    assert_eq!((r[1].last_px, r[1].last_qty), (99, 8));
    assert_eq!(r[2].reason, ExecReason::ImmediateOrCancel);
    assert_eq!(r[2].last_qty, 4);
    conserve(&x, 1);
}

#[test]
fn marketable_gtc_limit_takes_then_rests_and_fills_as_maker() {
    let mut x = setup(ExchangeConfig::default());
    x.submit(
        20,
        OrderRequest::limit(1, OrderSide::Buy, 12, 101, TimeInForce::Gtc),
    );
    x.advance_to(20);
    let r = x.drain_reports();
    assert_eq!(kinds(&r), [ExecType::New, ExecType::PartialFill]);
    let v = x.order(1).unwrap();
    assert!(v.resting);
    assert_eq!((v.leaves, v.queue_ahead), (2, 0));
    // The real asks at 101 trade away (a buyer hits them) and leave: the real
    // book's best ask moves to 102, our bid at 101 waits. A real seller then
    // hits the bids at 99 below our price: it traded through us.
    feed(
        &mut x,
        &[
            mid(mbo(30, b'C', b'A', 1, 101, 5)),
            mbo(30, b'C', b'A', 2, 101, 5),
            mbo(40, b'F', b'B', 4, 99, 3),
            mbo(40, b'M', b'B', 4, 99, 2),
        ],
    );
    let r = x.drain_reports();
    assert_eq!(kinds(&r), [ExecType::Fill]);
    assert_eq!(
        (r[0].last_px, r[0].last_qty, r[0].liquidity),
        (101, 2, Liquidity::Maker)
    );
    assert_eq!(r[0].ts_exchange, 40);
}

/// Our buy at 99 behind 8 (ids 4, 5); then id 7 (10) joins behind us.
fn behind_eight(model: QueueModel, seed: u64) -> Exchange {
    let mut x = setup(ExchangeConfig {
        queue: model,
        seed,
        fees: Fees {
            maker: -5,
            taker: 7,
        },
        ..Default::default()
    });
    x.submit(
        20,
        OrderRequest::limit(9, OrderSide::Buy, 3, 99, TimeInForce::Gtc),
    );
    x.advance_to(20);
    assert_eq!(x.order(9).unwrap().queue_ahead, 8);
    feed(&mut x, &[mbo(21, b'A', b'B', 7, 99, 10)]);
    x.drain_reports();
    x
}

#[test]
fn fills_advance_the_queue_and_the_excess_fills_us() {
    let mut x = behind_eight(QueueModel::Conservative, 0);
    // id 4 trades 5 (F then C in the same event): ahead 3, no double count.
    feed(
        &mut x,
        &[mbo(30, b'F', b'B', 4, 99, 5), mbo(30, b'C', b'B', 4, 99, 5)],
    );
    assert_eq!(x.order(9).unwrap().queue_ahead, 3);
    assert!(x.drain_reports().is_empty());
    // id 5 (3) and 2 of id 7 trade: 2 pass us.
    feed(
        &mut x,
        &[
            mbo(40, b'F', b'B', 5, 99, 3),
            mbo(40, b'F', b'B', 7, 99, 2),
            mbo(40, b'C', b'B', 5, 99, 3),
            mbo(40, b'M', b'B', 7, 99, 8),
        ],
    );
    let r = x.drain_reports();
    assert_eq!(kinds(&r), [ExecType::PartialFill]);
    assert_eq!(
        (r[0].last_qty, r[0].queue_ahead, r[0].liquidity),
        (2, 8, Liquidity::Maker)
    );
    assert_eq!((r[0].fee_per_contract, r[0].fee), (-5, -10));
    feed(
        &mut x,
        &[mbo(50, b'F', b'B', 7, 99, 4), mbo(50, b'M', b'B', 7, 99, 4)],
    );
    let r = x.drain_reports();
    assert_eq!(kinds(&r), [ExecType::Fill]);
    assert_eq!(r[0].last_qty, 1);
    conserve(&x, 9);
}

#[test]
fn cancels_ahead_advance_only_the_l3_and_probabilistic_models() {
    let cancel_ahead = [mbo(30, b'C', b'B', 4, 99, 5)];
    let mut c = behind_eight(QueueModel::Conservative, 0);
    feed(&mut c, &cancel_ahead);
    assert_eq!(c.order(9).unwrap().queue_ahead, 8);
    let mut k = behind_eight(QueueModel::L3Known, 0);
    feed(&mut k, &cancel_ahead);
    assert_eq!(k.order(9).unwrap().queue_ahead, 3);
    // A cancel of an order known to be behind does not move the L3 model.
    feed(&mut k, &[mbo(31, b'C', b'B', 7, 99, 4)]);
    assert_eq!(k.order(9).unwrap().queue_ahead, 3);
    // A size decrease ahead (keeps priority) advances by the decrease, an
    // increase loses priority: the order leaves our front whole.
    feed(&mut k, &[mbo(32, b'M', b'B', 5, 99, 4)]);
    assert_eq!(k.order(9).unwrap().queue_ahead, 0);
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..64 {
        let mut p = behind_eight(QueueModel::Probabilistic(ProbFunc::Power(2.0)), seed);
        feed(&mut p, &cancel_ahead);
        let a = p.order(9).unwrap().queue_ahead;
        assert!(a == 3 || a == 8, "{a}");
        seen.insert(a);
        // Same seed, same draw.
        let mut q = behind_eight(QueueModel::Probabilistic(ProbFunc::Power(2.0)), seed);
        feed(&mut q, &cancel_ahead);
        assert_eq!(q.order(9).unwrap().queue_ahead, a);
    }
    assert_eq!(seen.len(), 2, "both outcomes drawn over 64 seeds");
    // The cap: a level smaller than the estimate brings it down in every model.
    feed(&mut c, &[mbo(33, b'C', b'B', 7, 99, 10)]);
    assert_eq!(c.order(9).unwrap().queue_ahead, 3);
}

#[test]
fn replace_priority_rules() {
    let mut x = behind_eight(QueueModel::Conservative, 0);
    // Size decrease keeps priority.
    x.replace(30, 9, 2, NO_PRICE, NO_PRICE);
    x.advance_to(30);
    let r = x.drain_reports();
    assert_eq!(kinds(&r), [ExecType::Replaced]);
    assert_eq!(x.order(9).unwrap().queue_ahead, 8);
    assert_eq!(x.order(9).unwrap().qty, 2);
    // Size increase goes to the back: 18 ahead now (id 7 included).
    x.replace(31, 9, 4, NO_PRICE, NO_PRICE);
    x.advance_to(31);
    assert_eq!(x.order(9).unwrap().queue_ahead, 18);
    // Price change: back of the new level.
    x.replace(32, 9, 4, 98, NO_PRICE);
    x.advance_to(32);
    let v = x.order(9).unwrap();
    assert_eq!((v.limit_price, v.queue_ahead), (98, 10));
    // A price change that crosses trades at once as taker.
    x.replace(33, 9, 4, 101, NO_PRICE);
    x.advance_to(33);
    let r = x.drain_reports();
    assert_eq!(
        kinds(&r),
        [
            ExecType::Replaced,
            ExecType::Replaced,
            ExecType::Replaced,
            ExecType::Fill
        ]
    );
    assert_eq!(r[3].liquidity, Liquidity::Taker);
    // Replace of a finished order, and invalid replaces, are rejected.
    x.replace(34, 9, 5, NO_PRICE, NO_PRICE);
    x.submit(
        34,
        OrderRequest::limit(10, OrderSide::Buy, 3, 97, TimeInForce::Gtc),
    );
    x.replace(35, 10, 3, NO_PRICE, 90);
    x.replace(35, 10, 0, NO_PRICE, NO_PRICE);
    x.advance_to(35);
    let r = x.drain_reports();
    let rej: Vec<_> = r
        .iter()
        .filter(|r| r.exec_type == ExecType::Rejected)
        .map(|r| r.reason)
        .collect();
    assert_eq!(
        rej,
        [
            ExecReason::UnknownOrder,
            ExecReason::ReplaceNotAllowed,
            ExecReason::InvalidQuantity
        ]
    );
}

#[test]
fn cancel_and_cancel_reject() {
    let mut x = behind_eight(QueueModel::Conservative, 0);
    x.cancel(30, 9);
    x.cancel(31, 9);
    x.cancel(31, 12345);
    x.advance_to(31);
    let r = x.drain_reports();
    assert_eq!(
        kinds(&r),
        [ExecType::Cancelled, ExecType::Rejected, ExecType::Rejected]
    );
    assert_eq!(
        (r[0].last_qty, r[0].leaves_qty, r[0].status),
        (3, 0, OrderStatus::Cancelled)
    );
    assert_eq!(r[1].reason, ExecReason::UnknownOrder);
    assert_eq!(r[2].client_id, 12345);
    conserve(&x, 9);
    assert_eq!(x.open_orders(), 0);
}

#[test]
fn validation_rejects_with_typed_reasons() {
    let mut x = setup(ExchangeConfig {
        tick: 1,
        ..Default::default()
    });
    let mut bad_tick = setup(ExchangeConfig {
        tick: 2,
        ..Default::default()
    });
    bad_tick.submit(
        20,
        OrderRequest::limit(1, OrderSide::Buy, 1, 99, TimeInForce::Gtc),
    );
    bad_tick.advance_to(20);
    assert_eq!(bad_tick.drain_reports()[0].reason, ExecReason::OffTick);
    let mut no_limit = OrderRequest::limit(3, OrderSide::Buy, 1, 99, TimeInForce::Gtc);
    no_limit.limit_price = NO_PRICE;
    let mut stray_stop = OrderRequest::market(4, OrderSide::Buy, 1, TimeInForce::Gtc);
    stray_stop.stop_price = 5;
    for req in [
        OrderRequest::limit(2, OrderSide::Buy, 0, 99, TimeInForce::Gtc),
        no_limit,
        stray_stop,
        OrderRequest::limit(5, OrderSide::Buy, 1, 97, TimeInForce::Gtc),
        OrderRequest::limit(5, OrderSide::Buy, 1, 97, TimeInForce::Gtc),
        OrderRequest::limit(6, OrderSide::Buy, 1, -3, TimeInForce::Gtc),
    ] {
        x.submit(20, req);
    }
    x.advance_to(20);
    let rej: Vec<_> = x
        .drain_reports()
        .iter()
        .filter(|r| r.exec_type == ExecType::Rejected)
        .map(|r| r.reason)
        .collect();
    assert_eq!(
        rej,
        [
            ExecReason::InvalidQuantity,
            ExecReason::InvalidPrice,
            ExecReason::InvalidPrice,
            ExecReason::DuplicateClientId,
            ExecReason::OffTick
        ]
    );
    assert!(Exchange::new(
        1,
        ExchangeConfig {
            latency: LatencyModel {
                entry: Latency::Recorded(vec![]),
                response: Latency::Constant(0)
            },
            ..Default::default()
        }
    )
    .is_err());
}

#[test]
fn stop_and_stop_limit_trigger_on_trades() {
    let mut x = setup(ExchangeConfig::default());
    x.submit(
        20,
        OrderRequest::stop(1, OrderSide::Buy, 3, 102, TimeInForce::Gtc),
    );
    x.submit(
        20,
        OrderRequest::stop_limit(2, OrderSide::Sell, 2, 98, 98, TimeInForce::Gtc),
    );
    x.advance_to(20);
    assert_eq!(kinds(&x.drain_reports()), [ExecType::New, ExecType::New]);
    // A trade at 101 does not reach the buy stop at 102.
    feed(
        &mut x,
        &[
            mbo(30, b'T', b'B', 0, 101, 1),
            mbo(30, b'F', b'A', 1, 101, 1),
            mbo(30, b'M', b'A', 1, 101, 4),
        ],
    );
    assert!(x.drain_reports().is_empty());
    // A trade at 102 triggers it: it buys as a market order.
    feed(
        &mut x,
        &[
            mbo(40, b'T', b'B', 0, 102, 1),
            mbo(40, b'F', b'A', 3, 102, 1),
            mbo(40, b'M', b'A', 3, 102, 9),
        ],
    );
    let r = x.drain_reports();
    assert_eq!(kinds(&r), [ExecType::Triggered, ExecType::Fill]);
    assert_eq!((r[1].last_qty, r[1].last_px), (3, 101));
    // Sell stop-limit: a trade at 98 triggers; the limit 98 takes 8 at 99 and... rests the rest? 2 only.
    feed(
        &mut x,
        &[
            mbo(50, b'T', b'A', 0, 98, 1),
            mbo(50, b'F', b'B', 6, 98, 1),
            mbo(50, b'M', b'B', 6, 98, 9),
        ],
    );
    let r = x.drain_reports();
    assert_eq!(kinds(&r), [ExecType::Triggered, ExecType::Fill]);
    assert_eq!(
        (r[1].last_qty, r[1].last_px, r[1].liquidity),
        (2, 99, Liquidity::Taker)
    );
}

fn sched() -> SessionSchedule {
    SessionSchedule {
        sessions: vec![Interval::new(0, 100), Interval::new(200, 300)],
        halts: vec![Interval::new(50, 60)],
    }
}

#[test]
fn closed_and_halted_markets_reject_or_hold() {
    let mut x = setup(ExchangeConfig {
        schedule: sched(),
        ..Default::default()
    });
    x.submit(
        55,
        OrderRequest::limit(1, OrderSide::Buy, 1, 97, TimeInForce::Gtc),
    );
    x.submit(
        150,
        OrderRequest::limit(2, OrderSide::Buy, 1, 97, TimeInForce::Gtc),
    );
    x.advance_to(150);
    let r = x.drain_reports();
    assert_eq!(
        r.iter().map(|r| r.reason).collect::<Vec<_>>(),
        [ExecReason::Halted, ExecReason::MarketClosed]
    );
    let mut h = setup(ExchangeConfig {
        schedule: sched(),
        off_hours: OffHours::Hold,
        ..Default::default()
    });
    h.submit(
        55,
        OrderRequest::market(1, OrderSide::Buy, 1, TimeInForce::Ioc),
    );
    h.submit(
        150,
        OrderRequest::limit(2, OrderSide::Buy, 1, 97, TimeInForce::Day),
    );
    h.advance_to(56);
    assert!(h.drain_reports().is_empty());
    assert_eq!(h.order(1).unwrap().status, OrderStatus::Pending);
    h.advance_to(60);
    let r = h.drain_reports();
    assert_eq!(kinds(&r), [ExecType::New, ExecType::Fill]);
    assert_eq!(r[0].ts_exchange, 60);
    h.advance_to(250);
    let r = h.drain_reports();
    assert_eq!(kinds(&r), [ExecType::New]);
    assert_eq!(r[0].ts_exchange, 200);
    // The held DAY order expires at the close of the session it entered.
    h.advance_to(299);
    assert!(h.drain_reports().is_empty());
    h.advance_to(400);
    let r = h.drain_reports();
    assert_eq!(kinds(&r), [ExecType::Expired]);
    assert_eq!(
        (r[0].ts_exchange, r[0].reason, r[0].status),
        (300, ExecReason::SessionEnd, OrderStatus::Cancelled)
    );
}

#[test]
fn day_orders_expire_at_session_end_gtc_stays() {
    let mut x = setup(ExchangeConfig {
        schedule: sched(),
        ..Default::default()
    });
    x.submit(
        20,
        OrderRequest::limit(1, OrderSide::Buy, 2, 97, TimeInForce::Day),
    );
    x.submit(
        20,
        OrderRequest::limit(2, OrderSide::Buy, 2, 97, TimeInForce::Gtc),
    );
    x.submit(
        20,
        OrderRequest::stop(3, OrderSide::Buy, 2, 150, TimeInForce::Day),
    );
    x.advance_to(20);
    x.drain_reports();
    // A feed record after the close triggers the expiry before it applies.
    feed(&mut x, &[mbo(120, b'A', b'B', 70, 90, 1)]);
    let r = x.drain_reports();
    assert_eq!(kinds(&r), [ExecType::Expired, ExecType::Expired]);
    assert_eq!(r.iter().map(|r| r.client_id).collect::<Vec<_>>(), [1, 3]);
    assert!(x.order(2).unwrap().resting);
    conserve(&x, 1);
}

#[test]
fn halted_market_does_not_match_resting_orders() {
    let mut x = setup(ExchangeConfig {
        schedule: sched(),
        ..Default::default()
    });
    x.submit(
        20,
        OrderRequest::limit(1, OrderSide::Buy, 2, 100, TimeInForce::Gtc),
    );
    x.advance_to(20);
    x.drain_reports();
    // During the halt a trade through our price does nothing.
    feed(
        &mut x,
        &[mbo(55, b'F', b'B', 4, 99, 1), mbo(55, b'M', b'B', 4, 99, 4)],
    );
    assert!(x.drain_reports().is_empty());
    feed(
        &mut x,
        &[mbo(65, b'F', b'B', 4, 99, 1), mbo(65, b'M', b'B', 4, 99, 3)],
    );
    assert_eq!(kinds(&x.drain_reports()), [ExecType::PartialFill]);
}

#[test]
fn latency_delays_arrival_and_reports() {
    let mut x = setup(ExchangeConfig {
        latency: LatencyModel::constant(15, 4),
        ..Default::default()
    });
    x.submit(
        20,
        OrderRequest::market(1, OrderSide::Buy, 1, TimeInForce::Ioc),
    );
    // A feed event at 30 (before the arrival at 35) changes the book first.
    feed(
        &mut x,
        &[
            mbo(30, b'C', b'A', 1, 101, 5),
            mbo(30, b'C', b'A', 2, 101, 5),
        ],
    );
    assert!(x.reports().is_empty());
    feed(&mut x, &[mbo(40, b'A', b'B', 80, 90, 1)]);
    let r = x.drain_reports();
    assert_eq!(kinds(&r), [ExecType::New, ExecType::Fill]);
    assert_eq!(
        (r[1].ts_exchange, r[1].ts_local, r[1].last_px),
        (35, 39, 102)
    );
    // Recorded samples: deterministic per seed.
    let run = |seed| {
        let mut x = setup(ExchangeConfig {
            latency: LatencyModel {
                entry: Latency::Recorded(vec![1, 2, 3, 50]),
                response: Latency::Recorded(vec![7, 9]),
            },
            seed,
            ..Default::default()
        });
        for k in 0..20 {
            x.submit(
                20 + k,
                OrderRequest::limit(k, OrderSide::Buy, 1, 90, TimeInForce::Gtc),
            );
        }
        x.advance_to(1000);
        x.drain_reports()
    };
    assert_eq!(run(3), run(3));
    let a = run(3);
    assert!(a
        .iter()
        .all(|r| r.ts_local == r.ts_exchange + 7 || r.ts_local == r.ts_exchange + 9));
}

#[test]
fn pcg_is_deterministic_and_uniform_enough() {
    let mut a = Pcg::new(42, 1);
    let mut b = Pcg::new(42, 1);
    let xs: Vec<u64> = (0..100).map(|_| a.next_u64()).collect();
    let ys: Vec<u64> = (0..100).map(|_| b.next_u64()).collect();
    assert_eq!(xs, ys);
    let mut c = Pcg::new(7, 2);
    let mean: f64 = (0..10_000).map(|_| c.next_f64()).sum::<f64>() / 10_000.0;
    assert!((mean - 0.5).abs() < 0.02);
    assert!((0..1000).all(|_| c.below(5) < 5));
}

#[test]
fn schedule_queries() {
    let s = sched();
    assert!(s.validate().is_ok());
    assert_eq!(s.state(10), MarketState::Open);
    assert_eq!(s.state(55), MarketState::Halted);
    assert_eq!(s.state(100), MarketState::Closed);
    assert_eq!(s.next_open(55), Some(60));
    assert_eq!(s.next_open(150), Some(200));
    assert_eq!(s.next_open(300), None);
    assert_eq!(s.session_end(250), 300);
    let bad = SessionSchedule {
        sessions: vec![Interval::new(0, 100), Interval::new(50, 300)],
        halts: vec![],
    };
    assert!(bad.validate().is_err());
}
