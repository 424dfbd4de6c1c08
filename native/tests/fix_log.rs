//! The opt-in FIX message and event log (`fix::log`) over loopback: the FIX exchange and our
//! initiator each write QuickFIX-named files; every message in and out is one line, in
//! order, that our decoder reads back.
#![cfg(feature = "fix")]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use _native::fix::codec::parse_utc_timestamp;
use _native::fix::gateway::{Feed, Gateway, GatewayConfig, Pace};
use _native::fix::net;
use _native::fix::session::{Event, Role, SessionConfig};
use _native::fix::store::MemoryStore;
use _native::fix::tags::{self, msg_type as mt};
use _native::fix::{Decoder, Message};
use dbn::{flags, rtype, FlagSet, MboMsg, RecordHeader};

const WAIT: Duration = Duration::from_secs(10);
const INST: u32 = 7;
const PX: i64 = 10_000_000;
const T0: u64 = 1_700_000_000_000_000_000;

fn ask(id: u64, price: i64, size: u32) -> MboMsg {
    MboMsg {
        hd: RecordHeader::new::<MboMsg>(rtype::MBO, 1, INST, T0),
        order_id: id,
        price,
        size,
        flags: FlagSet::new(flags::LAST),
        channel_id: 0,
        action: b'A' as _,
        side: b'A' as _,
        ts_recv: T0,
        ts_in_delta: 0,
        sequence: 0,
    }
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wb-fixlog-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// (direction, MsgType, MsgSeqNum) of each line of a messages file, after checking that
/// each line is `timestamp : IN|OUT : frame`, timestamps in order, frames decodable.
fn read_messages(path: &Path) -> Vec<(String, String, u64)> {
    let text = std::fs::read(path).unwrap();
    let mut dec = Decoder::new();
    let mut last = 0i64;
    let mut out = Vec::new();
    for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let mut parts = line.splitn(3, |&b| b == b' ');
        let ts = parts.next().unwrap();
        assert_eq!(ts.len(), "20231114-22:13:20.123456".len(), "microseconds");
        let t = parse_utc_timestamp(ts).unwrap();
        assert!(t >= last, "timestamps in order");
        last = t;
        let rest = &line[ts.len()..];
        let (dir, frame) = if let Some(f) = rest.strip_prefix(b" : IN : ") {
            ("IN", f)
        } else {
            ("OUT", rest.strip_prefix(b" : OUT : ").expect("a direction"))
        };
        assert_eq!(frame.last(), Some(&1u8), "raw SOH kept");
        let v = dec.decode(frame).expect("a frame our codec reads back");
        let ty = String::from_utf8(v.msg_type().to_vec()).unwrap();
        let seq = v.to_message().seq_num().unwrap();
        out.push((dir.to_string(), ty, seq));
    }
    out
}

fn row(dir: &str, ty: &[u8], seq: u64) -> (String, String, u64) {
    (dir.into(), String::from_utf8(ty.to_vec()).unwrap(), seq)
}

#[test]
fn both_ends_log_every_message_in_order_and_the_session_events() {
    let dir = scratch("both");
    let feed = Feed::from_records(vec![ask(1, 10_025 * PX, 3)], INST, "MCLM4");
    let mut cfg = GatewayConfig::new("127.0.0.1:0".parse::<SocketAddr>().unwrap());
    cfg.pace = Pace::HoldAt(T0);
    cfg.log_dir = Some(dir.join("exchange"));
    let mut gw = Gateway::start(cfg, feed).unwrap();
    let addr = gw.local_addr();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut icfg = SessionConfig::new(Role::Initiator, "CLIENT", "EXCH");
        icfg.log_dir = Some(dir.join("client"));
        let mut h = net::initiate(addr, icfg, MemoryStore::new(net::now_ns()))
            .await
            .unwrap();
        assert!(h.wait_for(WAIT, |e| *e == Event::LoggedOn).await.is_some());
        let mut m = Message::of_type(mt::NEW_ORDER_SINGLE);
        m.push(tags::CL_ORD_ID, "b1")
            .push(tags::SYMBOL, "MCLM4")
            .push(tags::SIDE, "1")
            .set_timestamp(tags::TRANSACT_TIME, net::now_ns(), Default::default());
        m.push_int(tags::ORDER_QTY, 2)
            .push(tags::ORD_TYPE, "2")
            .push(tags::PRICE, "100.25");
        h.send(m).await.unwrap();
        let filled =
            |e: &Event| matches!(e, Event::App(r) if r.get(tags::ORD_STATUS) == Some(b"2"));
        assert!(h.wait_for(WAIT, filled).await.is_some());
        h.logout(Some("done"));
        h.join().await.unwrap();
    });
    gw.stop().unwrap();

    let client = read_messages(&dir.join("client/FIX.4.4-CLIENT-EXCH.messages.current.log"));
    let want = vec![
        row("OUT", mt::LOGON, 1),
        row("IN", mt::LOGON, 1),
        row("OUT", mt::NEW_ORDER_SINGLE, 2),
        row("IN", mt::EXECUTION_REPORT, 2),
        row("IN", mt::EXECUTION_REPORT, 3),
        row("OUT", mt::LOGOUT, 3),
        row("IN", mt::LOGOUT, 4),
    ];
    assert_eq!(client, want);
    let exchange = read_messages(&dir.join("exchange/FIX.4.4-EXCH-CLIENT.messages.current.log"));
    let mirrored: Vec<_> = want
        .iter()
        .map(|(d, t, s)| {
            (
                if d == "IN" { "OUT" } else { "IN" }.to_string(),
                t.clone(),
                *s,
            )
        })
        .collect();
    assert_eq!(exchange, mirrored);

    let events =
        std::fs::read_to_string(dir.join("client/FIX.4.4-CLIENT-EXCH.event.current.log")).unwrap();
    let texts: Vec<&str> = events
        .lines()
        .map(|l| l.split_once(" : ").unwrap().1)
        .collect();
    assert_eq!(
        texts,
        [
            "Connected",
            "Sent Logon (MsgSeqNum 1)",
            "Received Logon (MsgSeqNum 1)",
            "Logon complete",
            "Sent Logout (MsgSeqNum 3): done",
            "Received Logout (MsgSeqNum 4)",
            "Logout complete",
            "Disconnected: Logout",
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_log_is_appended_to_across_sessions_and_a_bad_folder_is_named() {
    let dir = scratch("append");
    let feed = Feed::from_records(vec![ask(1, 10_025 * PX, 3)], INST, "MCLM4");
    let mut cfg = GatewayConfig::new("127.0.0.1:0".parse::<SocketAddr>().unwrap());
    cfg.pace = Pace::HoldAt(T0);
    let mut gw = Gateway::start(cfg, feed).unwrap();
    let addr = gw.local_addr();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let path = dir.join("FIX.4.4-CLIENT-EXCH.messages.current.log");
    for round in 1..=2 {
        rt.block_on(async {
            let mut icfg = SessionConfig::new(Role::Initiator, "CLIENT", "EXCH");
            icfg.log_dir = Some(dir.clone());
            icfg.reset_on_logon = true;
            let mut h = net::initiate(addr, icfg, MemoryStore::new(net::now_ns()))
                .await
                .unwrap();
            assert!(h.wait_for(WAIT, |e| *e == Event::LoggedOn).await.is_some());
            h.logout(None);
            h.join().await.unwrap();
        });
        assert_eq!(read_messages(&path).len(), 4 * round);
    }
    gw.stop().unwrap();

    // a file where the folder should be
    let blocked = dir.join("FIX.4.4-CLIENT-EXCH.messages.current.log");
    let mut icfg = SessionConfig::new(Role::Initiator, "CLIENT", "EXCH");
    icfg.log_dir = Some(blocked.clone());
    let err = rt
        .block_on(net::initiate(addr, icfg, MemoryStore::new(0)))
        .unwrap_err();
    assert!(
        err.to_string().contains(&blocked.display().to_string()),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
