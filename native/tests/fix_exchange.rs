//! The FIX exchange (`fix::gateway`) over loopback: our initiator sends orders, cancels and
//! replaces; the simulated exchange answers from the book of a replayed MBO feed. A
//! synthetic DBN file made here with the dbn encoder, and the real ESH4 file when present.
#![cfg(feature = "fix")]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use _native::book::{decoder_from_file, L3Book};
use _native::fix::gateway::{Feed, Gateway, GatewayConfig, Pace, StoreChoice};
use _native::fix::net::{self, SessionHandle};
use _native::fix::session::{Event, Role, SessionConfig};
use _native::fix::store::MemoryStore;
use _native::fix::tags::{self, msg_type as mt};
use _native::fix::Message;
use dbn::decode::DecodeRecordRef;
use dbn::encode::{DbnEncoder, EncodeRecord};
use dbn::{flags, rtype, FlagSet, MboMsg, RecordHeader};

const WAIT: Duration = Duration::from_secs(10);
const INST: u32 = 42;
const PX: i64 = 10_000_000; // 0.01 in 1e-9 fixed point
const T0: u64 = 1_700_000_000_000_000_000;

fn mbo(ts: u64, action: u8, side: u8, id: u64, price: i64, size: u32, last: bool) -> MboMsg {
    MboMsg {
        hd: RecordHeader::new::<MboMsg>(rtype::MBO, 1, INST, ts),
        order_id: id,
        price,
        size,
        flags: FlagSet::new(if last { flags::LAST } else { 0 }),
        channel_id: 0,
        action: action as _,
        side: side as _,
        ts_recv: ts + 5,
        ts_in_delta: 0,
        sequence: 0,
    }
}

/// Bids 100.00 x5 (id 1), 99.75 x10 (id 2); asks 100.25 x3 (id 3), 100.50 x10 (id 4), all at
/// T0. At T0 + `gap`: order 1 cancelled, then an ask of 4 at 100.00 (id 5): a buy resting at
/// 100.00 behind order 1 is reached by the market and fills.
fn records(gap: u64) -> Vec<MboMsg> {
    vec![
        mbo(T0, b'A', b'B', 1, 10_000 * PX, 5, false),
        mbo(T0, b'A', b'B', 2, 9_975 * PX, 10, false),
        mbo(T0, b'A', b'A', 3, 10_025 * PX, 3, false),
        mbo(T0, b'A', b'A', 4, 10_050 * PX, 10, true),
        mbo(T0 + gap, b'C', b'B', 1, 10_000 * PX, 5, true),
        mbo(T0 + gap + 1, b'A', b'A', 5, 10_000 * PX, 4, true),
    ]
}

fn write_dbn(path: &Path, recs: &[MboMsg]) {
    let meta = dbn::Metadata::builder()
        .dataset("GLBX.MDP3")
        .schema(Some(dbn::Schema::Mbo))
        .start(T0)
        .stype_in(Some(dbn::SType::RawSymbol))
        .stype_out(dbn::SType::InstrumentId)
        .symbols(vec!["MCLM4".to_string()])
        .build();
    let f = std::fs::File::create(path).unwrap();
    let mut enc = DbnEncoder::with_zstd(f, &meta).unwrap();
    for r in recs {
        enc.encode_record(r).unwrap();
    }
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wb-fixex-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

struct Client {
    h: SessionHandle<MemoryStore>,
    symbol: String,
}

impl Client {
    async fn connect(addr: SocketAddr, symbol: &str) -> Self {
        let cfg = SessionConfig::new(Role::Initiator, "CLIENT", "EXCH");
        Self::connect_with(addr, symbol, cfg).await
    }

    async fn connect_with(addr: SocketAddr, symbol: &str, cfg: SessionConfig) -> Self {
        let mut h = net::initiate(addr, cfg, MemoryStore::new(net::now_ns()))
            .await
            .unwrap();
        assert!(
            h.wait_for(WAIT, |e| *e == Event::LoggedOn).await.is_some(),
            "no logon"
        );
        Self {
            h,
            symbol: symbol.to_string(),
        }
    }

    fn order(&self, id: &str, side: &str, qty: u32, ord_type: &str, px: Option<&str>) -> Message {
        let mut m = Message::of_type(mt::NEW_ORDER_SINGLE);
        m.push(tags::CL_ORD_ID, id)
            .push(tags::SYMBOL, &self.symbol)
            .push(tags::SIDE, side)
            .set_timestamp(tags::TRANSACT_TIME, net::now_ns(), Default::default());
        m.push_int(tags::ORDER_QTY, qty as i64)
            .push(tags::ORD_TYPE, ord_type);
        if let Some(p) = px {
            m.push(tags::PRICE, p);
        }
        m
    }

    async fn send(&self, m: Message) {
        self.h.send(m).await.unwrap();
    }

    async fn cancel(&self, id: &str, orig: &str, side: &str) {
        let mut m = Message::of_type(mt::ORDER_CANCEL_REQUEST);
        m.push(tags::ORIG_CL_ORD_ID, orig)
            .push(tags::CL_ORD_ID, id)
            .push(tags::SYMBOL, &self.symbol)
            .push(tags::SIDE, side)
            .set_timestamp(tags::TRANSACT_TIME, net::now_ns(), Default::default());
        self.send(m).await;
    }

    async fn replace(&self, id: &str, orig: &str, side: &str, qty: u32, px: &str) {
        let mut m = self.order(id, side, qty, "2", Some(px));
        m.set(tags::MSG_TYPE, mt::ORDER_CANCEL_REPLACE_REQUEST);
        m.push(tags::ORIG_CL_ORD_ID, orig);
        self.send(m).await;
    }

    /// The next application message.
    async fn next(&mut self) -> Message {
        match self.h.wait_for(WAIT, |e| matches!(e, Event::App(_))).await {
            Some(Event::App(m)) => m,
            other => panic!("no application message: {other:?}"),
        }
    }

    async fn logout(mut self) {
        self.h.logout(None);
        let _ = self
            .h
            .wait_for(WAIT, |e| matches!(e, Event::LoggedOut(_)))
            .await;
    }
}

fn s(m: &Message, tag: u32) -> &str {
    m.get_str(tag)
        .unwrap_or_else(|| panic!("tag {tag} missing in {m:?}"))
}

/// (MsgType, ExecType, OrdStatus, ClOrdID) of a report.
fn kind(m: &Message) -> (String, String, String, String) {
    let g = |t| m.get_str(t).unwrap_or("").to_string();
    (
        g(tags::MSG_TYPE),
        g(tags::EXEC_TYPE),
        g(tags::ORD_STATUS),
        g(tags::CL_ORD_ID),
    )
}

fn k(a: &str, b: &str, c: &str, d: &str) -> (String, String, String, String) {
    (a.into(), b.into(), c.into(), d.into())
}

#[test]
fn orders_cancels_and_replaces_against_a_synthetic_book_held_still() {
    let dir = scratch("held");
    let file = dir.join("synthetic.mbo.dbn.zst");
    write_dbn(&file, &records(1_000_000_000));
    let feed = Feed::from_file(&file, None, None).unwrap();
    assert_eq!((feed.instrument_id, feed.symbol.as_str()), (INST, "MCLM4"));
    let mut cfg = GatewayConfig::new(loopback());
    cfg.pace = Pace::HoldAt(T0);
    cfg.tick = 25 * PX / 10; // 0.025
    let mut gw = Gateway::start(cfg, feed).unwrap();
    let addr = gw.local_addr();
    rt().block_on(async {
        let mut c = Client::connect(addr, "MCLM4").await;
        // Marketable: 3 @ 100.25 then 2 @ 100.50.
        c.send(c.order("b1", "1", 5, "2", Some("100.5"))).await;
        assert_eq!(kind(&c.next().await), k("8", "0", "0", "b1"));
        let p1 = c.next().await;
        assert_eq!(kind(&p1), k("8", "F", "1", "b1"));
        assert_eq!(
            (s(&p1, tags::LAST_QTY), s(&p1, tags::LAST_PX)),
            ("3", "100.25")
        );
        let f1 = c.next().await;
        assert_eq!(kind(&f1), k("8", "F", "2", "b1"));
        assert_eq!(
            (s(&f1, tags::LAST_QTY), s(&f1, tags::LAST_PX)),
            ("2", "100.5")
        );
        assert_eq!(
            (s(&f1, tags::CUM_QTY), s(&f1, tags::LEAVES_QTY)),
            ("5", "0")
        );
        assert_eq!(s(&f1, tags::AVG_PX), "100.35");
        assert_eq!(s(&f1, tags::ORDER_ID), s(&p1, tags::ORDER_ID));
        assert_ne!(s(&f1, tags::EXEC_ID), s(&p1, tags::EXEC_ID));
        assert!(s(&f1, tags::TRANSACT_TIME).starts_with("20231114-22:13:20"));

        // Resting, replaced (new ClOrdID, larger and repriced), then cancelled.
        c.send(c.order("r1", "1", 2, "2", Some("99.5"))).await;
        assert_eq!(kind(&c.next().await), k("8", "0", "0", "r1"));
        c.replace("r2", "r1", "1", 4, "99.75").await;
        let rep = c.next().await;
        assert_eq!(kind(&rep), k("8", "5", "0", "r2"));
        assert_eq!(
            (
                s(&rep, tags::ORIG_CL_ORD_ID),
                s(&rep, tags::ORDER_QTY),
                s(&rep, tags::PRICE)
            ),
            ("r1", "4", "99.75")
        );
        c.cancel("r3", "r2", "1").await;
        let cx = c.next().await;
        assert_eq!(kind(&cx), k("8", "4", "4", "r3"));
        assert_eq!(
            (s(&cx, tags::ORIG_CL_ORD_ID), s(&cx, tags::LEAVES_QTY)),
            ("r2", "0")
        );

        // Cancel of a finished order, of an unknown one; a replace reusing a ClOrdID.
        c.cancel("x1", "b1", "1").await;
        let rj = c.next().await;
        assert_eq!(kind(&rj), k("9", "", "2", "x1"));
        assert_eq!(
            (
                s(&rj, tags::CXL_REJ_REASON),
                s(&rj, tags::CXL_REJ_RESPONSE_TO)
            ),
            ("0", "1")
        );
        c.cancel("x2", "nope", "1").await;
        let rj = c.next().await;
        assert_eq!(
            (s(&rj, tags::MSG_TYPE), s(&rj, tags::CXL_REJ_REASON)),
            ("9", "1")
        );
        assert_eq!(s(&rj, tags::ORDER_ID), "NONE");
        c.send(c.order("q1", "2", 1, "2", Some("101"))).await;
        assert_eq!(kind(&c.next().await), k("8", "0", "0", "q1"));
        c.replace("b1", "q1", "2", 2, "101").await;
        let rj = c.next().await;
        assert_eq!(
            (s(&rj, tags::MSG_TYPE), s(&rj, tags::CXL_REJ_REASON)),
            ("9", "6")
        );
        assert_eq!(s(&rj, tags::CXL_REJ_RESPONSE_TO), "2");

        // Rejections: duplicate ClOrdID, unknown symbol, off tick, fractional quantity,
        // market order with no liquidity left at that price? (market sells hit the bids).
        c.send(c.order("b1", "1", 1, "1", None)).await;
        let r = c.next().await;
        assert_eq!(kind(&r), k("8", "8", "8", "b1"));
        assert_eq!(s(&r, tags::ORD_REJ_REASON), "6");
        let mut other = c.order("z1", "1", 1, "1", None);
        other.set(tags::SYMBOL, "ESZ3");
        c.send(other).await;
        let r = c.next().await;
        assert_eq!(
            (s(&r, tags::EXEC_TYPE), s(&r, tags::ORD_REJ_REASON)),
            ("8", "1")
        );
        assert!(s(&r, tags::TEXT).contains("MCLM4"), "{r:?}");
        c.send(c.order("z2", "1", 1, "2", Some("100.01"))).await;
        let r = c.next().await;
        assert_eq!(
            (s(&r, tags::EXEC_TYPE), s(&r, tags::ORD_STATUS)),
            ("8", "8")
        );
        assert_eq!(s(&r, tags::TEXT), "price off the tick grid");
        let mut frac = c.order("z3", "1", 1, "2", Some("100"));
        frac.set(tags::ORDER_QTY, "1.5");
        c.send(frac).await;
        let r = c.next().await;
        assert_eq!(
            (s(&r, tags::EXEC_TYPE), s(&r, tags::ORD_REJ_REASON)),
            ("8", "13")
        );
        // A market sell for 20: 5 @ 100.00, 10 @ 99.75, the rest cancelled (no liquidity).
        c.send(c.order("m1", "2", 20, "1", None)).await;
        let got: Vec<_> = [
            c.next().await,
            c.next().await,
            c.next().await,
            c.next().await,
        ]
        .to_vec();
        let kinds: Vec<_> = got.iter().map(kind).collect();
        assert_eq!(
            kinds,
            [
                k("8", "0", "0", "m1"),
                k("8", "F", "1", "m1"),
                k("8", "F", "1", "m1"),
                k("8", "4", "4", "m1"),
            ]
        );
        assert_eq!(s(&got[3], tags::TEXT), "no liquidity");
        assert_eq!(s(&got[3], tags::CUM_QTY), "15");

        // OrderStatusRequest: an ExecutionReport with ExecType I (order status) for q1.
        let mut status = Message::of_type(b"H");
        status
            .push(tags::CL_ORD_ID, "q1")
            .push(tags::SYMBOL, "MCLM4")
            .push(tags::SIDE, "2");
        c.send(status).await;
        let r = c.next().await;
        assert_eq!(
            (
                s(&r, tags::MSG_TYPE),
                s(&r, tags::EXEC_TYPE),
                s(&r, tags::CL_ORD_ID)
            ),
            ("8", "I", "q1")
        );

        // A FIX 4.4 message type the exchange does not speak (OrderMassStatusRequest):
        // BusinessMessageReject, reason 3.
        let mut mass = Message::of_type(b"AF");
        mass.push(584, "m1").push(585, "7");
        c.send(mass).await;
        let r = c.next().await;
        assert_eq!(
            (s(&r, tags::MSG_TYPE), s(&r, tags::BUSINESS_REJECT_REASON)),
            ("j", "3")
        );
        c.logout().await;
    });
    gw.stop().unwrap();
    let st = gw.stats();
    assert_eq!((st.app.orders, st.app.cancels, st.app.replaces), (8, 3, 2));
    assert_eq!(st.app.fills, 4);
    assert_eq!(st.records_replayed, 4);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The reports of a short scenario (a marketable order, a resting one, a cancel), with
/// both ends busy-polling their sockets or not.
fn scenario_reports(busy_poll: Option<Duration>) -> Vec<(String, String, String, String)> {
    let dir = scratch(if busy_poll.is_some() { "poll" } else { "park" });
    let file = dir.join("synthetic.mbo.dbn.zst");
    write_dbn(&file, &records(1_000_000_000));
    let mut cfg = GatewayConfig::new(loopback());
    cfg.pace = Pace::HoldAt(T0);
    cfg.busy_poll = busy_poll;
    let mut gw = Gateway::start(cfg, Feed::from_file(&file, None, None).unwrap()).unwrap();
    let addr = gw.local_addr();
    let got = rt().block_on(async {
        let mut icfg = SessionConfig::new(Role::Initiator, "CLIENT", "EXCH");
        icfg.busy_poll = busy_poll;
        let mut c = Client::connect_with(addr, "MCLM4", icfg).await;
        let mut got = Vec::new();
        c.send(c.order("b1", "1", 5, "2", Some("100.5"))).await;
        for _ in 0..3 {
            got.push(kind(&c.next().await));
        }
        c.send(c.order("r1", "1", 2, "2", Some("99"))).await;
        got.push(kind(&c.next().await));
        c.cancel("r1c", "r1", "1").await;
        got.push(kind(&c.next().await));
        c.logout().await;
        got
    });
    gw.stop().unwrap();
    got
}

#[test]
fn busy_polling_ends_answer_as_parking_ones() {
    let parked = scenario_reports(None);
    let polled = scenario_reports(Some(Duration::from_micros(200)));
    assert_eq!(parked.len(), 5);
    assert_eq!(parked[0], k("8", "0", "0", "b1"));
    assert_eq!(parked[4], k("8", "4", "4", "r1c"));
    assert_eq!(polled, parked);
}

#[test]
fn a_resting_order_fills_as_the_paced_feed_reaches_it_and_the_file_store_resumes() {
    let dir = scratch("paced");
    let file = dir.join("synthetic.mbo.dbn");
    write_dbn(&file, &records(1_500_000_000));
    let feed = Feed::from_file(&file, Some(INST), Some("CL-TEST")).unwrap();
    let mut cfg = GatewayConfig::new(loopback());
    cfg.pace = Pace::Speed(1.0);
    cfg.store = StoreChoice::File(dir.join("store"));
    let mut gw = Gateway::start(cfg.clone(), feed.clone()).unwrap();
    let addr = gw.local_addr();
    rt().block_on(async {
        let mut c = Client::connect(addr, "CL-TEST").await;
        c.send(c.order("rest", "1", 2, "2", Some("100"))).await;
        assert_eq!(kind(&c.next().await), k("8", "0", "0", "rest"));
        // 1.5 s later on the feed, order 1 leaves and an ask arrives at our price.
        let f = c.next().await;
        assert_eq!(kind(&f), k("8", "F", "2", "rest"));
        assert_eq!((s(&f, tags::LAST_QTY), s(&f, tags::LAST_PX)), ("2", "100"));
        c.logout().await;
    });
    gw.stop().unwrap(); // the counters are final once stopped
    let st = gw.stats();
    // Logon, 2 reports, Logout sent; Logon, order, Logout received.
    assert_eq!((st.next_sender_seq, st.next_target_seq), (5, 4));
    // A new gateway on the same store resumes the sequence.
    let mut cfg2 = cfg;
    cfg2.pace = Pace::HoldAt(T0);
    let mut gw = Gateway::start(cfg2, feed).unwrap();
    let addr = gw.local_addr();
    rt().block_on(async {
        let cfg = SessionConfig::new(Role::Initiator, "CLIENT", "EXCH");
        let mut store = MemoryStore::new(net::now_ns());
        use _native::fix::store::MessageStore;
        store.set_next_sender_seq(4).unwrap();
        store.set_next_target_seq(5).unwrap();
        let mut h = net::initiate(addr, cfg, store).await.unwrap();
        assert!(h.wait_for(WAIT, |e| *e == Event::LoggedOn).await.is_some());
        h.logout(None);
        let _ = h.wait_for(WAIT, |e| matches!(e, Event::LoggedOut(_))).await;
    });
    gw.stop().unwrap();
    let st = gw.stats();
    assert_eq!((st.next_sender_seq, st.next_target_seq), (7, 6));
    let _ = std::fs::remove_dir_all(&dir);
}

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

#[test]
fn esh4_market_and_resting_orders_over_fix() {
    let Some(path) = real("nautilus/esh4-glbx-mdp3-20231225.mbo.dbn.zst") else {
        return;
    };
    let feed = Feed::from_file(&path, None, None).unwrap();
    // Hold at the middle of the file; the book there, from our own replay.
    let mid = feed.records[feed.records.len() / 2].hd.ts_event;
    let mut book = L3Book::new(feed.instrument_id);
    let mut dec = decoder_from_file(&path).unwrap();
    while let Some(r) = dec.decode_record_ref().unwrap() {
        let m = r.get::<MboMsg>().unwrap();
        if m.hd.ts_event > mid {
            break;
        }
        let _ = book.apply(m);
    }
    let ask = book.best_ask().unwrap();
    let bid = book.best_bid().unwrap();
    let mut cfg = GatewayConfig::new(loopback());
    cfg.pace = Pace::HoldAt(mid);
    let symbol = feed.symbol.clone();
    let mut gw = Gateway::start(cfg, feed).unwrap();
    let addr = gw.local_addr();
    let fmt = |p: i64| {
        let mut b = [0u8; 32];
        String::from_utf8(_native::fix::exchange_app::fmt_price(p, &mut b).to_vec()).unwrap()
    };
    rt().block_on(async {
        let mut c = Client::connect(addr, &symbol).await;
        c.send(c.order("mkt", "1", 1, "1", None)).await;
        assert_eq!(kind(&c.next().await), k("8", "0", "0", "mkt"));
        let f = c.next().await;
        assert_eq!(kind(&f), k("8", "F", "2", "mkt"));
        assert_eq!(s(&f, tags::LAST_PX), fmt(ask.price));
        let far = fmt(bid.price - 100 * 250_000_000);
        c.send(c.order("far", "1", 3, "2", Some(&far))).await;
        assert_eq!(kind(&c.next().await), k("8", "0", "0", "far"));
        c.cancel("far-x", "far", "1").await;
        let cx = c.next().await;
        assert_eq!(kind(&cx), k("8", "4", "4", "far-x"));
        c.logout().await;
    });
    gw.stop().unwrap();
}
