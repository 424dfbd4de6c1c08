//! The FIX engine over loopback TCP: our initiator against our acceptor, and interoperability
//! with QuickFIX 1.15 (Debian's libquickfix-dev, a small C++ peer built once by
//! `tests/quickfix/build.sh` into `target/quickfix-peer`) in both directions.
//!
//! The QuickFIX tests skip, saying why, when the library is not installed.
#![cfg(feature = "fix")]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use _native::fix::net::{self, SessionHandle};
use _native::fix::session::{Event, Role, SessionConfig};
use _native::fix::store::MemoryStore;
use _native::fix::tags::{self, msg_type as mt};
use _native::fix::Message;
use tokio::net::TcpListener;

const WAIT: Duration = Duration::from_secs(10);

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn new_order(id: &str) -> Message {
    let mut m = Message::of_type(mt::NEW_ORDER_SINGLE);
    m.push(tags::CL_ORD_ID, id)
        .push(tags::SYMBOL, "MCLZ5")
        .push(tags::SIDE, "1")
        .set_timestamp(tags::TRANSACT_TIME, net::now_ns(), Default::default());
    m.push(tags::ORDER_QTY, "2")
        .push(tags::ORD_TYPE, "2")
        .push(tags::PRICE, "71.25");
    m
}

fn fill_for(order: &Message) -> Message {
    let mut er = Message::of_type(mt::EXECUTION_REPORT);
    let id = order.get_str(tags::CL_ORD_ID).unwrap();
    er.push(tags::ORDER_ID, format!("WB-{id}"))
        .push(tags::CL_ORD_ID, id)
        .push(tags::EXEC_ID, "E1")
        .push(tags::EXEC_TYPE, "F")
        .push(tags::ORD_STATUS, "2")
        .push(tags::SYMBOL, order.get(tags::SYMBOL).unwrap())
        .push(tags::SIDE, order.get(tags::SIDE).unwrap())
        .push(tags::ORDER_QTY, order.get(tags::ORDER_QTY).unwrap())
        .push(tags::LAST_QTY, order.get(tags::ORDER_QTY).unwrap())
        .push(tags::LAST_PX, order.get(tags::PRICE).unwrap())
        .push(tags::LEAVES_QTY, "0")
        .push(tags::CUM_QTY, order.get(tags::ORDER_QTY).unwrap())
        .push(tags::AVG_PX, order.get(tags::PRICE).unwrap());
    er
}

fn is_app(ty: &'static [u8]) -> impl Fn(&Event) -> bool {
    move |e| matches!(e, Event::App(m) if m.msg_type() == ty)
}

async fn expect_app(h: &mut SessionHandle<MemoryStore>, ty: &'static [u8]) -> Message {
    match h.wait_for(WAIT, is_app(ty)).await {
        Some(Event::App(m)) => m,
        other => panic!("no {} message: {other:?}", String::from_utf8_lossy(ty)),
    }
}

async fn expect_logon(h: &mut SessionHandle<MemoryStore>) {
    assert!(
        h.wait_for(WAIT, |e| *e == Event::LoggedOn).await.is_some(),
        "no logon"
    );
}

async fn expect_logout(h: &mut SessionHandle<MemoryStore>) {
    assert!(
        h.wait_for(WAIT, |e| matches!(e, Event::LoggedOut(_)))
            .await
            .is_some(),
        "no logout"
    );
}

#[test]
fn our_initiator_to_our_acceptor() {
    rt().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acc_cfg = SessionConfig::new(Role::Acceptor, "EXCH", "CLIENT");
        let ini_cfg = SessionConfig::new(Role::Initiator, "CLIENT", "EXCH");
        let now = net::now_ns();
        let (acc, ini) = tokio::join!(
            net::accept(&listener, acc_cfg, MemoryStore::new(now)),
            net::initiate(addr, ini_cfg, MemoryStore::new(now))
        );
        let (mut acc, mut ini) = (acc.unwrap(), ini.unwrap());
        expect_logon(&mut ini).await;
        expect_logon(&mut acc).await;
        assert_eq!(ini.send(new_order("o1")).await.unwrap(), 2);
        let order = expect_app(&mut acc, mt::NEW_ORDER_SINGLE).await;
        acc.send(fill_for(&order)).await.unwrap();
        let er = expect_app(&mut ini, mt::EXECUTION_REPORT).await;
        assert_eq!(er.get_str(tags::CL_ORD_ID), Some("o1"));
        ini.logout(Some("bye"));
        expect_logout(&mut acc).await;
        expect_logout(&mut ini).await;
        let store = ini.join().await.unwrap();
        use _native::fix::store::MessageStore;
        assert_eq!((store.next_sender_seq(), store.next_target_seq()), (4, 4));
    });
}

/// The QuickFIX peer's binary, built (once) by the helper script; `None` to skip.
///
/// The tests run in parallel threads: the build runs once per process (the script's own
/// temporary file is per process too, for concurrent `cargo test` runs).
fn quickfix_peer() -> Option<PathBuf> {
    static PEER: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    PEER.get_or_init(build_quickfix_peer).clone()
}

fn build_quickfix_peer() -> Option<PathBuf> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/quickfix/build.sh");
    let out = Command::new("sh").arg(&script).output().ok()?;
    match out.status.code() {
        Some(0) => Some(PathBuf::from(String::from_utf8(out.stdout).ok()?.trim())),
        Some(77) => {
            eprintln!(
                "SKIPPED: libquickfix-dev is not installed (apt-get install libquickfix-dev)"
            );
            None
        }
        _ => panic!(
            "building the QuickFIX peer failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wb-fix-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn our_initiator_to_a_quickfix_acceptor() {
    let Some(peer) = quickfix_peer() else { return };
    let dir = scratch("qf-acceptor");
    let port = free_port();
    let mut child = Command::new(&peer)
        .args(["acceptor", &port.to_string(), dir.to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "LISTENING");
    rt().block_on(async {
        let cfg = SessionConfig::new(Role::Initiator, "WB", "QF");
        let mut h = net::initiate(("127.0.0.1", port), cfg, MemoryStore::new(net::now_ns()))
            .await
            .unwrap();
        expect_logon(&mut h).await;
        h.send(new_order("wb-1")).await.unwrap();
        let er = expect_app(&mut h, mt::EXECUTION_REPORT).await;
        assert_eq!(er.get_str(tags::CL_ORD_ID), Some("wb-1"));
        assert_eq!(er.get_str(tags::EXEC_TYPE), Some("F"));
        assert_eq!(er.get_str(tags::LAST_PX), Some("71.25"));
        h.logout(None);
        expect_logout(&mut h).await;
    });
    let status = child.wait().unwrap();
    let out: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(status.success(), "peer: {out:?}");
    assert_eq!(out, ["LOGON", "ORDER wb-1", "LOGOUT"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_quickfix_initiator_to_our_acceptor() {
    let Some(peer) = quickfix_peer() else { return };
    let dir = scratch("qf-initiator");
    rt().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let child = spawn_peer_initiator(&peer, port, &dir);
        let cfg = SessionConfig::new(Role::Acceptor, "WB", "QF");
        let mut h = net::accept(&listener, cfg, MemoryStore::new(net::now_ns()))
            .await
            .unwrap();
        expect_logon(&mut h).await;
        let order = expect_app(&mut h, mt::NEW_ORDER_SINGLE).await;
        assert_eq!(order.get_str(tags::CL_ORD_ID), Some("qf-1"));
        h.send(fill_for(&order)).await.unwrap();
        expect_logout(&mut h).await;
        let out = child.join().unwrap();
        assert_eq!(out, ["LOGON", "EXEC qf-1 F 2", "LOGOUT"]);
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs the QuickFIX peer as an initiator in a thread; returns its stdout lines.
fn spawn_peer_initiator(
    peer: &std::path::Path,
    port: u16,
    dir: &std::path::Path,
) -> std::thread::JoinHandle<Vec<String>> {
    let (peer, dir) = (peer.to_path_buf(), dir.to_path_buf());
    std::thread::spawn(move || {
        let out = Command::new(peer)
            .args(["initiator", &port.to_string(), dir.to_str().unwrap()])
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        assert!(out.status.success(), "peer failed: {lines:?}");
        lines
    })
}
