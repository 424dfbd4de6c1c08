//! The FIX engine over loopback TCP: our initiator against our acceptor, and interoperability
//! with QuickFIX 1.15 (Debian's libquickfix-dev) in both directions: our initiator to a
//! QuickFIX acceptor, a QuickFIX initiator to our acceptor.
//!
//! The QuickFIX side is a small scripted C++ peer (`tests/quickfix/peer.cpp`, built once by
//! `tests/quickfix/build.sh` into `target/quickfix-peer`): it reads commands on stdin (send a
//! message, shift its sequence number, log out) and prints every message it accepted or sent.
//! Each scenario runs both ways (`<scenario>::our_initiator`, `<scenario>::quickfix_initiator`);
//! the side that connects is the client sending orders, the other answers as the exchange.
//! Every wait is for a message or an event (generous timeouts, no sleeps).
//!
//! The QuickFIX tests skip, saying why, when the library is not installed.
#![cfg(feature = "fix")]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::time::Duration;

use _native::fix::codec::{write_utc_timestamp, TimePrecision};
use _native::fix::net::{self, SessionHandle};
use _native::fix::session::{Event, Role, Schedule, SessionConfig};
use _native::fix::store::{FileStore, MemoryStore, MessageStore};
use _native::fix::tags::{self, msg_type as mt};
use _native::fix::Message;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::{timeout_at, Instant};

/// How long any one wait may take (a loaded 2-core machine runs several of these at once).
const WAIT: Duration = Duration::from_secs(30);

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

// ---- messages -------------------------------------------------------------------------

fn order(id: &str, qty: u32, ord_type: &str) -> Message {
    let mut m = Message::of_type(mt::NEW_ORDER_SINGLE);
    m.push(tags::CL_ORD_ID, id)
        .push(tags::SYMBOL, "MCLZ5")
        .push(tags::SIDE, "1")
        .set_timestamp(tags::TRANSACT_TIME, net::now_ns(), Default::default());
    m.push(tags::ORDER_QTY, qty.to_string())
        .push(tags::ORD_TYPE, ord_type)
        .push(tags::PRICE, "71.25");
    m
}

fn replace(id: &str, orig: &str, qty: u32, price: &str) -> Message {
    let mut m = Message::of_type(mt::ORDER_CANCEL_REPLACE_REQUEST);
    m.push(tags::ORIG_CL_ORD_ID, orig)
        .push(tags::CL_ORD_ID, id)
        .push(tags::SYMBOL, "MCLZ5")
        .push(tags::SIDE, "1")
        .set_timestamp(tags::TRANSACT_TIME, net::now_ns(), Default::default());
    m.push(tags::ORDER_QTY, qty.to_string())
        .push(tags::ORD_TYPE, "2")
        .push(tags::PRICE, price);
    m
}

fn cancel(id: &str, orig: &str) -> Message {
    let mut m = Message::of_type(mt::ORDER_CANCEL_REQUEST);
    m.push(tags::ORIG_CL_ORD_ID, orig)
        .push(tags::CL_ORD_ID, id)
        .push(tags::SYMBOL, "MCLZ5")
        .push(tags::SIDE, "1")
        .set_timestamp(tags::TRANSACT_TIME, net::now_ns(), Default::default());
    m
}

/// The exchange's ExecutionReport on request `req` (an order, a replace or a cancel).
fn report(
    req: &Message,
    order_id: &str,
    exec_type: &str,
    status: &str,
    last: u32,
    cum: u32,
) -> Message {
    let id = req.get_str(tags::CL_ORD_ID).unwrap();
    let qty: u32 = req.get_str(tags::ORDER_QTY).unwrap_or("0").parse().unwrap();
    let leaves = if matches!(status, "2" | "4") {
        0
    } else {
        qty - cum
    };
    let px = req.get_str(tags::PRICE).unwrap_or("0");
    let mut er = Message::of_type(mt::EXECUTION_REPORT);
    er.push(tags::ORDER_ID, order_id).push(tags::CL_ORD_ID, id);
    if let Some(orig) = req.get(tags::ORIG_CL_ORD_ID) {
        er.push(tags::ORIG_CL_ORD_ID, orig);
    }
    er.push(tags::EXEC_ID, format!("{id}-{exec_type}-{cum}"))
        .push(tags::EXEC_TYPE, exec_type)
        .push(tags::ORD_STATUS, status)
        .push(tags::SYMBOL, "MCLZ5")
        .push(tags::SIDE, "1")
        .push(tags::ORDER_QTY, qty.to_string())
        .push(tags::LAST_QTY, last.to_string())
        .push(tags::LAST_PX, if last > 0 { px } else { "0" })
        .push(tags::LEAVES_QTY, leaves.to_string())
        .push(tags::CUM_QTY, cum.to_string())
        .push(tags::AVG_PX, if cum > 0 { px } else { "0" });
    er
}

fn cancel_reject(req: &Message) -> Message {
    let mut m = Message::of_type(mt::ORDER_CANCEL_REJECT);
    m.push(tags::ORDER_ID, "NONE")
        .push(tags::CL_ORD_ID, req.get(tags::CL_ORD_ID).unwrap())
        .push(tags::ORIG_CL_ORD_ID, req.get(tags::ORIG_CL_ORD_ID).unwrap())
        .push(tags::ORD_STATUS, "8")
        .push(tags::CXL_REJ_RESPONSE_TO, "1")
        .push(tags::CXL_REJ_REASON, "1")
        .push(tags::TEXT, "Unknown order");
    m
}

fn s(m: &Message, tag: u32) -> &str {
    m.get_str(tag).unwrap_or("")
}

/// `(ClOrdID, ExecType, OrdStatus, CumQty, LeavesQty)` of an ExecutionReport.
fn fill_state(er: &Message) -> (&str, &str, &str, &str, &str) {
    (
        s(er, tags::CL_ORD_ID),
        s(er, tags::EXEC_TYPE),
        s(er, tags::ORD_STATUS),
        s(er, tags::CUM_QTY),
        s(er, tags::LEAVES_QTY),
    )
}

// ---- our side -------------------------------------------------------------------------

/// Our session, with every event it reported so far.
struct Wb<S> {
    h: SessionHandle<S>,
    events: Vec<Event>,
}

impl<S: MessageStore + Send + 'static> Wb<S> {
    async fn wait(&mut self, what: &str, pred: impl Fn(&Event) -> bool) -> Event {
        let deadline = Instant::now() + WAIT;
        loop {
            match timeout_at(deadline, self.h.next_event()).await {
                Ok(Some(e)) => {
                    self.events.push(e.clone());
                    if pred(&e) {
                        return e;
                    }
                }
                Ok(None) => panic!("our session ended waiting for {what}: {:?}", self.events),
                Err(_) => panic!("timed out waiting for {what}: {:?}", self.events),
            }
        }
    }

    async fn expect_app(&mut self, ty: &'static [u8]) -> Message {
        let what = format!("an application message 35={}", String::from_utf8_lossy(ty));
        match self
            .wait(&what, |e| matches!(e, Event::App(m) if m.msg_type() == ty))
            .await
        {
            Event::App(m) => m,
            _ => unreachable!(),
        }
    }

    /// The application messages received so far.
    fn apps(&self) -> Vec<&Message> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::App(m) => Some(m),
                _ => None,
            })
            .collect()
    }

    /// Waits for the session task to end; its store.
    async fn join(self) -> S {
        let deadline = Instant::now() + WAIT;
        let mut h = self.h;
        while timeout_at(deadline, h.next_event())
            .await
            .ok()
            .flatten()
            .is_some()
        {}
        timeout_at(deadline, h.join())
            .await
            .expect("our session did not end")
            .unwrap()
    }
}

// ---- the QuickFIX peer ----------------------------------------------------------------

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

/// A running QuickFIX peer: commands to its stdin, its report lines (all kept in `seen`).
struct Qf {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::UnboundedReceiver<String>,
    seen: Vec<String>,
}

impl Qf {
    async fn start(peer: &Path, role: &str, port: u16, dir: &Path, window: Option<&str>) -> Qf {
        let mut child = Command::new(peer)
            .args([role, &port.to_string(), dir.to_str().unwrap()])
            .args(window)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::unbounded_channel();
        let out = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let stdin = child.stdin.take().unwrap();
        let mut qf = Qf {
            child,
            stdin,
            lines,
            seen: Vec::new(),
        };
        qf.wait("READY", |l| l == "READY").await;
        qf
    }

    fn cmd(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
    }

    /// Has QuickFIX send `m` (its header is QuickFIX's).
    fn send(&mut self, m: &Message) {
        let fields: Vec<String> = m
            .iter()
            .map(|(t, v)| format!("{t}={}", String::from_utf8_lossy(v)))
            .collect();
        self.cmd(&format!("send {}", fields.join("|")));
    }

    async fn wait(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            match timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(l)) => {
                    self.seen.push(l.clone());
                    if pred(&l) {
                        return l;
                    }
                }
                Ok(None) => panic!("QuickFIX exited waiting for {what}: {:#?}", self.seen),
                Err(_) => panic!("timed out waiting for QuickFIX {what}: {:#?}", self.seen),
            }
        }
    }

    /// Waits for a message QuickFIX received (`"IN"`) or sent (`"OUT"`) matching `pred`.
    async fn expect(&mut self, dir: &str, what: &str, pred: impl Fn(&Message) -> bool) -> Message {
        let l = self
            .wait(what, |l| parse(dir, l).is_some_and(|m| pred(&m)))
            .await;
        parse(dir, &l).unwrap()
    }

    async fn expect_in(&mut self, ty: &[u8]) -> Message {
        let what = format!("IN 35={}", String::from_utf8_lossy(ty));
        self.expect("IN", &what, |m| m.msg_type() == ty).await
    }

    /// The messages QuickFIX received (`"IN"`) or sent (`"OUT"`) among `seen[from..]`.
    fn seen_since(&self, dir: &str, from: usize) -> Vec<Message> {
        self.seen[from..]
            .iter()
            .filter_map(|l| parse(dir, l))
            .collect()
    }

    /// Stops the peer (`quit`) and waits for it to exit.
    async fn quit(mut self) -> ExitStatus {
        self.cmd("quit");
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            assert!(Instant::now() < deadline, "QuickFIX did not exit");
            tokio::time::sleep(Duration::from_millis(20)).await; // polling an exit, no event to wait for
        }
    }
}

impl Drop for Qf {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A report line `IN|OUT 8=FIX.4.4|9=..|35=..|...` as a message.
fn parse(dir: &str, line: &str) -> Option<Message> {
    let body = line.strip_prefix(dir)?.strip_prefix(' ')?;
    let mut m = Message::new();
    for f in body.split('|').filter(|f| !f.is_empty()) {
        let (t, v) = f.split_once('=')?;
        m.push(t.parse().ok()?, v);
    }
    Some(m)
}

/// QuickFIX's next sequence numbers `(sender, target)` from its file store.
fn qf_seqnums(dir: &Path) -> (u64, u64) {
    let text = std::fs::read_to_string(dir.join("store/FIX.4.4-QF-WB.seqnums")).unwrap();
    let (a, b) = text.split_once(':').unwrap();
    (a.trim().parse().unwrap(), b.trim().parse().unwrap())
}

fn assert_in_sync(ours: &impl MessageStore, dir: &Path) {
    let (qf_sender, qf_target) = qf_seqnums(dir);
    assert_eq!(
        (ours.next_sender_seq(), ours.next_target_seq()),
        (qf_target, qf_sender),
        "our (next sender, next target) against QuickFIX's (next target, next sender)"
    );
}

// ---- the two ways round ---------------------------------------------------------------

/// Who connects: the initiator is the client sending orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    /// Our initiator to a QuickFIX acceptor.
    OurInitiator,
    /// A QuickFIX initiator to our acceptor.
    QfInitiator,
}

/// One interop scenario's setting: the peer binary, a scratch folder, the listening side.
struct Net {
    peer: PathBuf,
    way: Way,
    dir: PathBuf,
    port: u16,
    listener: Option<TcpListener>,
    /// The daily window of both sides (none: always on).
    schedule: Option<Schedule>,
}

impl Net {
    async fn new(peer: PathBuf, way: Way, name: &str) -> Net {
        let dir =
            std::env::temp_dir().join(format!("wb-fix-{name}-{way:?}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (port, listener) = match way {
            Way::OurInitiator => (free_port(), None),
            Way::QfInitiator => {
                let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
                (l.local_addr().unwrap().port(), Some(l))
            }
        };
        Net {
            peer,
            way,
            dir,
            port,
            listener,
            schedule: None,
        }
    }

    async fn start_qf(&self) -> Qf {
        let role = match self.way {
            Way::OurInitiator => "acceptor",
            Way::QfInitiator => "initiator",
        };
        let window = self
            .schedule
            .map(|s| format!("{}-{}", hms(s.start_secs), hms(s.end_secs)));
        Qf::start(&self.peer, role, self.port, &self.dir, window.as_deref()).await
    }

    /// Connects our session (initiates, or accepts QuickFIX's connection).
    async fn connect<S: MessageStore + Send + 'static>(&self, store: S) -> Wb<S> {
        let cfg = |role| {
            let mut c = SessionConfig::new(role, "WB", "QF");
            c.schedule = self.schedule;
            c
        };
        let h = match self.way {
            Way::OurInitiator => {
                net::initiate(("127.0.0.1", self.port), cfg(Role::Initiator), store).await
            }
            Way::QfInitiator => {
                let cfg = cfg(Role::Acceptor);
                let l = self.listener.as_ref().unwrap();
                timeout_at(Instant::now() + WAIT, net::accept(l, cfg, store))
                    .await
                    .expect("QuickFIX did not connect")
            }
        };
        Wb {
            h: h.unwrap(),
            events: Vec::new(),
        }
    }

    /// Starts QuickFIX, connects, and waits until both sides are logged on.
    async fn open<S: MessageStore + Send + 'static>(&self, store: S) -> (Wb<S>, Qf) {
        let mut qf = self.start_qf().await;
        let wb = self.connect(store).await;
        let wb = logged_on(wb, &mut qf).await;
        (wb, qf)
    }

    fn file_store(&self) -> FileStore {
        FileStore::open(self.dir.join("wb"), "FIX.4.4-WB-QF", net::now_ns()).unwrap()
    }

    /// The client and the exchange ends.
    fn ends<'a, S>(&self, wb: &'a mut Wb<S>, qf: &'a mut Qf) -> (End<'a, S>, End<'a, S>) {
        match self.way {
            Way::OurInitiator => (End::Wb(wb), End::Qf(qf)),
            Way::QfInitiator => (End::Qf(qf), End::Wb(wb)),
        }
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// `HH:MM:SS` of seconds after midnight.
fn hms(secs: u32) -> String {
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn logged_on<S: MessageStore + Send + 'static>(mut wb: Wb<S>, qf: &mut Qf) -> Wb<S> {
    wb.wait("our logon", |e| *e == Event::LoggedOn).await;
    qf.wait("LOGON", |l| l == "LOGON").await;
    wb
}

/// One end of the conversation, ours or QuickFIX's.
enum End<'a, S> {
    Wb(&'a mut Wb<S>),
    Qf(&'a mut Qf),
}

impl<S: MessageStore + Send + 'static> End<'_, S> {
    async fn send(&mut self, m: Message) {
        match self {
            End::Wb(w) => {
                w.h.send(m).await.unwrap();
            }
            End::Qf(q) => q.send(&m),
        }
    }

    async fn expect(&mut self, ty: &'static [u8]) -> Message {
        match self {
            End::Wb(w) => w.expect_app(ty).await,
            End::Qf(q) => q.expect_in(ty).await,
        }
    }
}

/// The client logs out; waits for both sides to see it.
async fn logout<S: MessageStore + Send + 'static>(way: Way, wb: &mut Wb<S>, qf: &mut Qf) {
    match way {
        Way::OurInitiator => wb.h.logout(Some("done")),
        Way::QfInitiator => qf.cmd("logout done"),
    }
    wb.wait("our logout", |e| matches!(e, Event::LoggedOut(_)))
        .await;
    qf.wait("LOGOUT", |l| l == "LOGOUT").await;
}

/// An order `id` from the client answered by New, a partial fill and a fill.
async fn order_filled<S: MessageStore + Send + 'static>(
    client: &mut End<'_, S>,
    exchange: &mut End<'_, S>,
    id: &str,
) {
    client.send(order(id, 3, "2")).await;
    let o = exchange.expect(mt::NEW_ORDER_SINGLE).await;
    answer_fills(exchange, &o).await;
    check_fills(client, id).await;
}

async fn answer_fills<S: MessageStore + Send + 'static>(exchange: &mut End<'_, S>, o: &Message) {
    let oid = format!("X-{}", s(o, tags::CL_ORD_ID));
    exchange.send(report(o, &oid, "0", "0", 0, 0)).await;
    exchange.send(report(o, &oid, "F", "1", 1, 1)).await;
    exchange.send(report(o, &oid, "F", "2", 2, 3)).await;
}

async fn check_fills<S: MessageStore + Send + 'static>(client: &mut End<'_, S>, id: &str) {
    for want in [
        ("0", "0", "0", "3"),
        ("F", "1", "1", "2"),
        ("F", "2", "3", "0"),
    ] {
        let er = client.expect(mt::EXECUTION_REPORT).await;
        let (clid, et, st, cum, leaves) = fill_state(&er);
        assert_eq!((clid, (et, st, cum, leaves)), (id, want));
    }
}

macro_rules! both_ways {
    ($name:ident) => {
        mod $name {
            use super::*;

            #[test]
            fn our_initiator() {
                let Some(peer) = quickfix_peer() else { return };
                rt().block_on(super::$name(peer, Way::OurInitiator));
            }

            #[test]
            fn quickfix_initiator() {
                let Some(peer) = quickfix_peer() else { return };
                rt().block_on(super::$name(peer, Way::QfInitiator));
            }
        }
    };
}

// ---- scenarios ------------------------------------------------------------------------

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
        let mut acc = Wb {
            h: acc.unwrap(),
            events: Vec::new(),
        };
        let mut ini = Wb {
            h: ini.unwrap(),
            events: Vec::new(),
        };
        ini.wait("logon", |e| *e == Event::LoggedOn).await;
        acc.wait("logon", |e| *e == Event::LoggedOn).await;
        assert_eq!(ini.h.send(order("o1", 2, "2")).await.unwrap(), 2);
        let o = acc.expect_app(mt::NEW_ORDER_SINGLE).await;
        acc.h
            .send(report(&o, "X-o1", "F", "2", 2, 2))
            .await
            .unwrap();
        let er = ini.expect_app(mt::EXECUTION_REPORT).await;
        assert_eq!(fill_state(&er), ("o1", "F", "2", "2", "0"));
        ini.h.logout(Some("bye"));
        acc.wait("logout", |e| matches!(e, Event::LoggedOut(_)))
            .await;
        ini.wait("logout", |e| matches!(e, Event::LoggedOut(_)))
            .await;
        let store = ini.join().await;
        assert_eq!((store.next_sender_seq(), store.next_target_seq()), (4, 4));
    });
}

/// Logon, several orders each answered by New, a partial fill and a fill, logout; both
/// stores end in sync.
async fn orders_and_fills(peer: PathBuf, way: Way) {
    let net = Net::new(peer, way, "orders").await;
    let (mut wb, mut qf) = net.open(MemoryStore::new(net::now_ns())).await;
    {
        let (mut client, mut exchange) = net.ends(&mut wb, &mut qf);
        let ids = ["c-1", "c-2", "c-3"];
        for id in ids {
            client.send(order(id, 3, "2")).await;
        }
        for id in ids {
            let o = exchange.expect(mt::NEW_ORDER_SINGLE).await;
            assert_eq!(
                (
                    s(&o, tags::CL_ORD_ID),
                    s(&o, tags::ORDER_QTY),
                    s(&o, tags::PRICE)
                ),
                (id, "3", "71.25")
            );
            answer_fills(&mut exchange, &o).await;
        }
        for id in ids {
            check_fills(&mut client, id).await;
        }
    }
    logout(way, &mut wb, &mut qf).await;
    assert!(qf.quit().await.success());
    assert_in_sync(&wb.join().await, &net.dir);
}
both_ways!(orders_and_fills);

/// A resting order replaced (ExecType 5), then canceled (ExecType 4); a cancel of an unknown
/// order answered by an OrderCancelReject.
async fn cancel_replace(peer: PathBuf, way: Way) {
    let net = Net::new(peer, way, "replace").await;
    let (mut wb, mut qf) = net.open(MemoryStore::new(net::now_ns())).await;
    {
        let (mut client, mut exchange) = net.ends(&mut wb, &mut qf);
        client.send(order("r-1", 2, "2")).await;
        let o = exchange.expect(mt::NEW_ORDER_SINGLE).await;
        exchange.send(report(&o, "X-r", "0", "0", 0, 0)).await;
        let er = client.expect(mt::EXECUTION_REPORT).await;
        assert_eq!(fill_state(&er), ("r-1", "0", "0", "0", "2"));

        client.send(replace("r-2", "r-1", 5, "70.50")).await;
        let g = exchange.expect(mt::ORDER_CANCEL_REPLACE_REQUEST).await;
        assert_eq!(
            (s(&g, tags::CL_ORD_ID), s(&g, tags::ORIG_CL_ORD_ID)),
            ("r-2", "r-1")
        );
        assert_eq!((s(&g, tags::ORDER_QTY), s(&g, tags::PRICE)), ("5", "70.50"));
        exchange.send(report(&g, "X-r", "5", "0", 0, 0)).await;
        let er = client.expect(mt::EXECUTION_REPORT).await;
        assert_eq!(fill_state(&er), ("r-2", "5", "0", "0", "5"));
        assert_eq!(
            (
                s(&er, tags::ORIG_CL_ORD_ID),
                s(&er, tags::ORDER_ID),
                s(&er, tags::PRICE)
            ),
            ("r-1", "X-r", "")
        );

        client.send(cancel("r-3", "r-2")).await;
        let f = exchange.expect(mt::ORDER_CANCEL_REQUEST).await;
        assert_eq!(
            (s(&f, tags::CL_ORD_ID), s(&f, tags::ORIG_CL_ORD_ID)),
            ("r-3", "r-2")
        );
        exchange.send(report(&f, "X-r", "4", "4", 0, 0)).await;
        let er = client.expect(mt::EXECUTION_REPORT).await;
        assert_eq!(fill_state(&er), ("r-3", "4", "4", "0", "0"));
        assert_eq!(s(&er, tags::ORIG_CL_ORD_ID), "r-2");

        client.send(cancel("r-4", "nope")).await;
        let f = exchange.expect(mt::ORDER_CANCEL_REQUEST).await;
        exchange.send(cancel_reject(&f)).await;
        let rej = client.expect(mt::ORDER_CANCEL_REJECT).await;
        assert_eq!(
            (
                s(&rej, tags::CL_ORD_ID),
                s(&rej, tags::ORIG_CL_ORD_ID),
                s(&rej, tags::CXL_REJ_REASON),
                s(&rej, tags::TEXT)
            ),
            ("r-4", "nope", "1", "Unknown order")
        );
    }
    logout(way, &mut wb, &mut qf).await;
    assert!(qf.quit().await.success());
    assert_in_sync(&wb.join().await, &net.dir);
}
both_ways!(cancel_replace);

/// Forced sequence gaps, both ways. We drop an application message and then a Reject from
/// our outgoing stream: QuickFIX asks for a resend and gets the application message again
/// (PossDupFlag=Y, OrigSendingTime) and a SequenceReset-GapFill for the Reject. Then
/// QuickFIX skips a sequence number: we ask for a resend and QuickFIX fills the gap. Each
/// message is delivered once, and both stores end in sync.
async fn sequence_gap(peer: PathBuf, way: Way) {
    let net = Net::new(peer, way, "gap").await;
    let (mut wb, mut qf) = net.open(MemoryStore::new(net::now_ns())).await;
    let ours_is_client = way == Way::OurInitiator;
    // an application message from our side: an order, or a report on the client's order
    let first = {
        let (mut client, mut exchange) = net.ends(&mut wb, &mut qf);
        client.send(order("g-0", 9, "2")).await;
        exchange.expect(mt::NEW_ORDER_SINGLE).await
    };
    let ours = |id: &str, cum: u32| {
        if ours_is_client {
            order(id, 1, "2")
        } else {
            let mut er = report(&first, "X-g", "F", "1", 1, cum);
            er.set(tags::EXEC_ID, id);
            er
        }
    };
    let id_tag = if ours_is_client {
        tags::CL_ORD_ID
    } else {
        tags::EXEC_ID
    };

    // 1. we drop A (application) and a Reject (administrative), then send B
    let mark = qf.seen.len();
    wb.h.drop_outgoing(2);
    let seq_a = wb.h.send(ours("g-A", 1)).await.unwrap();
    qf.cmd("send 35=D|11=bad"); // required fields missing: we answer with a Reject
    wb.wait("our Reject", |e| matches!(e, Event::Rejected(_)))
        .await;
    let seq_b = wb.h.send(ours("g-B", 2)).await.unwrap();
    assert_eq!(seq_b, seq_a + 2);
    let rr = qf
        .expect("OUT", "a ResendRequest", |m| {
            m.msg_type() == mt::RESEND_REQUEST
        })
        .await;
    assert_eq!(
        (rr.get_int(tags::BEGIN_SEQ_NO), rr.get_int(tags::END_SEQ_NO)),
        (Some(seq_a as i64), Some(0))
    );
    qf.expect("IN", "B", |m| s(m, id_tag) == "g-B").await;
    let got: Vec<Message> = qf
        .seen_since("IN", mark)
        .into_iter()
        .filter(|m| m.seq_num() >= Some(seq_a))
        .collect();
    let summary: Vec<(u64, &str, &str, &str, &str)> = got
        .iter()
        .map(|m| {
            let id = if m.msg_type() == mt::SEQUENCE_RESET {
                s(m, tags::NEW_SEQ_NO)
            } else {
                s(m, id_tag)
            };
            let gap_fill = s(m, tags::GAP_FILL_FLAG);
            (
                m.seq_num().unwrap(),
                s(m, tags::MSG_TYPE),
                s(m, tags::POSS_DUP_FLAG),
                gap_fill,
                id,
            )
        })
        .collect();
    let app = if ours_is_client { "D" } else { "8" };
    let b_seq = seq_b.to_string();
    assert_eq!(
        summary,
        [
            (seq_a, app, "Y", "", "g-A"),
            (seq_a + 1, "4", "Y", "Y", b_seq.as_str()),
            (seq_b, app, "", "", "g-B"),
        ],
        "what QuickFIX accepted after the gap"
    );
    assert!(got[0].has(tags::ORIG_SENDING_TIME));
    let apps_before = wb.apps().len();

    // 2. QuickFIX skips a sequence number: we ask for a resend, QuickFIX fills the gap
    qf.cmd("seq 1");
    let theirs = |id: &str| {
        if ours_is_client {
            let mut er = report(&first, "X-g", "0", "0", 0, 0);
            er.set(tags::EXEC_ID, id);
            er
        } else {
            order(id, 1, "2")
        }
    };
    let their_id = if ours_is_client {
        tags::EXEC_ID
    } else {
        tags::CL_ORD_ID
    };
    qf.send(&theirs("q-C"));
    let c = qf.expect("OUT", "C", |m| s(m, their_id) == "q-C").await;
    let qf_next = c.seq_num().unwrap() - 1; // the number QuickFIX skipped
    let rr = qf.expect_in(mt::RESEND_REQUEST).await;
    assert_eq!(
        (rr.get_int(tags::BEGIN_SEQ_NO), rr.get_int(tags::END_SEQ_NO)),
        (Some(qf_next as i64), Some(0))
    );
    let gf = qf
        .expect("OUT", "a gap fill", |m| m.msg_type() == mt::SEQUENCE_RESET)
        .await;
    assert_eq!(
        (s(&gf, tags::GAP_FILL_FLAG), gf.get_int(tags::NEW_SEQ_NO)),
        ("Y", Some(qf_next as i64 + 1))
    );
    qf.send(&theirs("q-D"));
    let ty = if ours_is_client {
        mt::EXECUTION_REPORT
    } else {
        mt::NEW_ORDER_SINGLE
    };
    let c = wb.expect_app(ty).await;
    assert_eq!(s(&c, their_id), "q-C");
    let d = wb.expect_app(ty).await;
    assert_eq!(s(&d, their_id), "q-D");
    assert_eq!(wb.apps().len(), apps_before + 2, "C and D, once each");

    logout(way, &mut wb, &mut qf).await;
    assert!(qf.quit().await.success());
    assert_in_sync(&wb.join().await, &net.dir);
}
both_ways!(sequence_gap);

/// Both sides stop after a session and start again on the same stores: the Logons carry the
/// stored next sequence numbers (no ResetSeqNumFlag) and the session goes on.
async fn restart_resumes_the_sequence(peer: PathBuf, way: Way) {
    let net = Net::new(peer, way, "restart").await;
    let (mut wb, mut qf) = net.open(net.file_store()).await;
    {
        let (mut client, mut exchange) = net.ends(&mut wb, &mut qf);
        order_filled(&mut client, &mut exchange, "s-1").await;
    }
    logout(way, &mut wb, &mut qf).await;
    assert!(qf.quit().await.success());
    let store = wb.join().await;
    assert_in_sync(&store, &net.dir);
    // client: Logon, NewOrderSingle, Logout; exchange: Logon, 3 ExecutionReports, Logout
    let (client, exchange) = (3, 5);
    let sent = if way == Way::OurInitiator {
        (client, exchange)
    } else {
        (exchange, client)
    };
    let (sender, target) = (store.next_sender_seq(), store.next_target_seq());
    assert_eq!((sender, target), (sent.0 + 1, sent.1 + 1));
    drop(store);

    let (mut wb, mut qf) = net.open(net.file_store()).await;
    let logon = |dir| {
        let all = qf.seen_since(dir, 0);
        all.into_iter().find(|m| m.msg_type() == mt::LOGON).unwrap()
    };
    let (ours, theirs) = (logon("IN"), logon("OUT"));
    for (logon, seq) in [(&ours, sender), (&theirs, target)] {
        assert_eq!(logon.seq_num(), Some(seq), "{logon:?}");
        assert!(!logon.has(tags::RESET_SEQ_NUM_FLAG), "{logon:?}");
    }
    {
        let (mut client, mut exchange) = net.ends(&mut wb, &mut qf);
        order_filled(&mut client, &mut exchange, "s-2").await;
    }
    logout(way, &mut wb, &mut qf).await;
    assert!(qf.quit().await.success());
    let store = wb.join().await;
    assert_in_sync(&store, &net.dir);
    assert_eq!(
        (store.next_sender_seq(), store.next_target_seq()),
        (sender + sent.0, target + sent.1)
    );
    assert!(!quickfix_saw_a_reset(&net.dir));
}
both_ways!(restart_resumes_the_sequence);

/// Whether a ResetSeqNumFlag=Y went either way (QuickFIX's message log).
fn quickfix_saw_a_reset(dir: &Path) -> bool {
    let log = std::fs::read_to_string(dir.join("log/FIX.4.4-QF-WB.messages.current.log")).unwrap();
    log.contains("\u{1}141=Y\u{1}")
}

/// A too-low MsgSeqNum without PossDupFlag ends the session with a Logout saying why, both
/// ways: our Logon below what QuickFIX expects, then QuickFIX's message below ours.
async fn too_low_seq_num_logs_out(peer: PathBuf, way: Way) {
    let net = Net::new(peer, way, "toolow").await;
    let (mut wb, mut qf) = net.open(MemoryStore::new(net::now_ns())).await;
    {
        let (mut client, mut exchange) = net.ends(&mut wb, &mut qf);
        order_filled(&mut client, &mut exchange, "t-1").await;
    }
    logout(way, &mut wb, &mut qf).await;
    let mut store = wb.join().await;
    let sender = store.next_sender_seq();

    // our Logon (or Logon answer) one below what QuickFIX expects
    store.set_next_sender_seq(sender - 1).unwrap();
    if way == Way::QfInitiator {
        qf.cmd("logon");
    }
    let mut wb = net.connect(store).await;
    let want = format!(
        "MsgSeqNum too low, expecting {sender} but received {}",
        sender - 1
    );
    let out = qf
        .expect("OUT", "QuickFIX's Logout", |m| m.msg_type() == mt::LOGOUT)
        .await;
    assert_eq!(s(&out, tags::TEXT), want);
    let w = want.clone();
    wb.wait("QuickFIX's Logout", |e| {
        *e == Event::LoggedOut(Some(w.clone()))
    })
    .await;
    let mut store = wb.join().await;

    // resumed at the right number, then QuickFIX sends two below what we expect
    store.set_next_sender_seq(sender).unwrap();
    let wb = net.connect(store).await;
    let mut wb = logged_on(wb, &mut qf).await;
    // first a message each way in sequence: a QuickFIX initiator may have stored a Logon
    // while disconnected, a gap recovered by a resend right after the Logon
    qf.send(&order("t-2", 1, "2"));
    let sent = qf
        .expect("OUT", "t-2", |m| s(m, tags::CL_ORD_ID) == "t-2")
        .await;
    let t2 = wb.expect_app(mt::NEW_ORDER_SINGLE).await;
    assert_eq!(s(&t2, tags::CL_ORD_ID), "t-2");
    let expected = sent.seq_num().unwrap() + 1;
    qf.cmd("seq -2");
    qf.send(&order("t-3", 1, "2"));
    let want = format!(
        "MsgSeqNum too low, expecting {expected} but received {}",
        expected - 2
    );
    let w = want.clone();
    wb.wait("our Disconnect", |e| *e == Event::Disconnected(w.clone()))
        .await;
    let got = qf.expect_in(mt::LOGOUT).await;
    assert_eq!(s(&got, tags::TEXT), want);
    qf.wait("LOGOUT", |l| l == "LOGOUT").await;
    assert_eq!(wb.apps(), [&t2], "t-3 is not delivered");
    assert!(qf.quit().await.success());
}
both_ways!(too_low_seq_num_logs_out);

/// A daily session window on both sides (QuickFIX's StartTime/EndTime, our [`Schedule`]):
/// stores created before today's window began are reset by both at the next Logon, without
/// ResetSeqNumFlag, and the session starts again from 1.
///
/// One way only: a QuickFIX initiator resets on its timer before it logs on, whereas a
/// QuickFIX acceptor that finds its period over on an incoming message resets and drops
/// that message, so our Logon would race QuickFIX's timer.
#[test]
fn daily_reset_with_a_quickfix_initiator() {
    let Some(peer) = quickfix_peer() else { return };
    rt().block_on(async {
        const DAY: i64 = 86_400;
        let mut net = Net::new(peer, Way::QfInitiator, "daily").await;
        let sod = (net::now_ns() / 1_000_000_000).rem_euclid(DAY);
        let at = |t: i64| {
            let t = t.rem_euclid(DAY) as u32;
            (t / 3600, t / 60 % 60, t % 60)
        };
        net.schedule = Some(Schedule::daily(at(sod - 3600), at(sod + 3600)));
        let (mut wb, mut qf) = net.open(net.file_store()).await;
        {
            let (mut client, mut exchange) = net.ends(&mut wb, &mut qf);
            order_filled(&mut client, &mut exchange, "d-1").await;
        }
        logout(net.way, &mut wb, &mut qf).await;
        assert!(qf.quit().await.success());
        let store = wb.join().await;
        assert_eq!((store.next_sender_seq(), store.next_target_seq()), (6, 4));
        drop(store);

        // a day later: both stores were created yesterday
        let yesterday = net::now_ns() - DAY * 1_000_000_000;
        std::fs::write(
            net.dir.join("wb/FIX.4.4-WB-QF.session"),
            yesterday.to_string(),
        )
        .unwrap();
        let mut ts = Vec::new();
        write_utc_timestamp(&mut ts, yesterday, TimePrecision::Seconds);
        std::fs::write(net.dir.join("store/FIX.4.4-QF-WB.session"), ts).unwrap();

        let (mut wb, mut qf) = net.open(net.file_store()).await;
        assert!(wb.events.contains(&Event::SequenceReset), "{:?}", wb.events);
        for dir in ["IN", "OUT"] {
            let all = qf.seen_since(dir, 0);
            let logon = all.iter().find(|m| m.msg_type() == mt::LOGON).unwrap();
            assert_eq!(logon.seq_num(), Some(1), "{dir} {logon:?}");
            assert!(!logon.has(tags::RESET_SEQ_NUM_FLAG), "{logon:?}");
        }
        {
            let (mut client, mut exchange) = net.ends(&mut wb, &mut qf);
            order_filled(&mut client, &mut exchange, "d-2").await;
        }
        logout(net.way, &mut wb, &mut qf).await;
        assert!(qf.quit().await.success());
        let store = wb.join().await;
        assert_eq!((store.next_sender_seq(), store.next_target_seq()), (6, 4));
        assert_in_sync(&store, &net.dir);
    });
}
