//! Order round trip over loopback TCP through the FIX exchange: our initiator sends a
//! NewOrderSingle, the acceptor (`fix::gateway`, its own thread) routes it into the
//! simulated exchange, and the ExecutionReport (New: the order rests) comes back. One order
//! in flight at a time; the next goes out when the report is in. Memory stores on both
//! ends, no message log (unless LOG_DIR is given: both ends then log there, `fix::log`),
//! validation against the FIX 4.4 dictionary on both ends.
//!
//! `cargo run --release --features fix --example fix_roundtrip [ORDERS] [WARMUP] [LOG_DIR]`
//!
//! With `FIX_BUSY_POLL_US=N` in the environment both ends busy-poll their socket for up to N
//! microseconds before parking (`SessionConfig::busy_poll`, `GatewayConfig::busy_poll`).
//!
//! Prints p50/p90/p99/p99.9/max in microseconds (an HDR histogram), then a `RESULT {json}`
//! line for `bench/bench_fix.py`.

use std::time::{Duration, Instant};

use _native::fix::gateway::{Feed, Gateway, GatewayConfig, Pace};
use _native::fix::net;
use _native::fix::session::{Event, Role, SessionConfig};
use _native::fix::store::MemoryStore;
use _native::fix::tags::{self, msg_type as mt};
use _native::fix::Message;
use dbn::{flags, rtype, FlagSet, MboMsg, RecordHeader};
use hdrhistogram::Histogram;

const T0: u64 = 1_700_000_000_000_000_000;
const PX: i64 = 10_000_000;

fn mbo(id: u64, side: u8, cents: i64) -> MboMsg {
    MboMsg {
        hd: RecordHeader::new::<MboMsg>(rtype::MBO, 1, 42, T0),
        order_id: id,
        price: cents * PX,
        size: 10,
        flags: FlagSet::new(flags::LAST),
        channel_id: 0,
        action: b'A' as _,
        side: side as _,
        ts_recv: T0,
        ts_in_delta: 0,
        sequence: 0,
    }
}

fn order(i: u64) -> Message {
    let mut m = Message::of_type(mt::NEW_ORDER_SINGLE);
    m.push(tags::CL_ORD_ID, format!("o{i}"))
        .push(tags::SYMBOL, "MCLM4")
        .push(tags::SIDE, if i.is_multiple_of(2) { "1" } else { "2" })
        .set_timestamp(tags::TRANSACT_TIME, net::now_ns(), Default::default());
    m.push(tags::ORDER_QTY, "1")
        .push(tags::ORD_TYPE, "2")
        .push(
            tags::PRICE,
            if i.is_multiple_of(2) {
                "60.25"
            } else {
                "80.75"
            },
        )
        .push(tags::TIME_IN_FORCE, "1");
    m
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let warmup: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2_000);
    let log_dir = args
        .get(3)
        .map(std::path::PathBuf::from)
        .filter(|p| !p.as_os_str().is_empty());
    let busy_poll = std::env::var("FIX_BUSY_POLL_US")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_micros);
    let feed = Feed::from_records(vec![mbo(1, b'B', 7000), mbo(2, b'A', 7001)], 42, "MCLM4");
    let mut cfg = GatewayConfig::new("127.0.0.1:0".parse().unwrap());
    cfg.pace = Pace::HoldAt(T0);
    cfg.log_dir = log_dir.clone();
    cfg.busy_poll = busy_poll;
    let mut gw = Gateway::start(cfg, feed).expect("gateway");
    let addr = gw.local_addr();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut hist = Histogram::<u64>::new_with_bounds(100, 10_000_000_000, 3).unwrap();
    let elapsed = rt.block_on(async {
        let mut icfg = SessionConfig::new(Role::Initiator, "CLIENT", "EXCH");
        icfg.log_dir = log_dir;
        icfg.busy_poll = busy_poll;
        let mut h = net::initiate(addr, icfg, MemoryStore::new(net::now_ns()))
            .await
            .expect("connect");
        h.wait_for(Duration::from_secs(10), |e| *e == Event::LoggedOn)
            .await
            .expect("logon");
        let start = Instant::now();
        for i in 0..warmup + n {
            let m = order(i);
            let t = Instant::now();
            h.send(m).await.expect("send");
            match h.next_event().await {
                Some(Event::App(er)) => {
                    debug_assert_eq!(er.msg_type(), mt::EXECUTION_REPORT);
                }
                other => panic!("expected an ExecutionReport, got {other:?}"),
            }
            if i >= warmup {
                hist.record(t.elapsed().as_nanos() as u64).unwrap();
            }
        }
        let el = start.elapsed();
        h.logout(None);
        let _ = h.next_event().await;
        el
    });
    gw.stop().expect("stop");
    let us = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "fix_roundtrip (ours: our initiator -> our acceptor -> simulated exchange): {n} orders \
         after {warmup} warm-up, {:.0} orders/s",
        (warmup + n) as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  p50 {:.1} us  p90 {:.1} us  p99 {:.1} us  p99.9 {:.1} us  max {:.1} us",
        us(0.5),
        us(0.9),
        us(0.99),
        us(0.999),
        hist.max() as f64 / 1000.0
    );
    println!(
        "RESULT {{\"engine\": \"workbench\", \"orders\": {n}, \"p50_us\": {:.2}, \"p90_us\": {:.2}, \
         \"p99_us\": {:.2}, \"p999_us\": {:.2}, \"max_us\": {:.2}}}",
        us(0.5),
        us(0.9),
        us(0.99),
        us(0.999),
        hist.max() as f64 / 1000.0
    );
}
