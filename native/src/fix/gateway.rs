//! A FIX 4.4 acceptor in front of the simulated exchange (cargo feature `fix`).
//!
//! [`Gateway::start`] binds a TCP port, then runs in its own thread (a single-threaded tokio
//! runtime): one FIX session (one SenderCompID/TargetCompID pair, as a venue gives each
//! client), an [`ExchangeApp`] over an [`Exchange`], and the replay of an MBO [`Feed`]
//! paced by [`Pace`]. Everything happens in one task, so an order goes from the socket to
//! the matching engine and its ExecutionReport back to the socket without a thread hop.
//!
//! - **Connections**: one at a time; a second connection while one is up is closed at once.
//!   The session and its store outlive connections, so a reconnect resumes the sequence
//!   (or starts from 1 with `reset_on_logon`, or when the initiator sends 141=Y).
//! - **Reports while nobody is logged on** (e.g. a resting GTC order filled by the feed
//!   during a reconnect) are kept and sent after the next Logon.
//! - **Feed time**: the exchange's clock is the feed's. A request is processed at the feed
//!   time of its arrival: with [`Pace::Speed`] the records due by then are applied first.
//! - **Stop**: [`Gateway::stop`] sends a Logout ("exchange shutting down") to a logged-on
//!   client, waits up to the logout timeout for the answer, then closes.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use dbn::decode::{DbnMetadata, DecodeRecordRef};
use dbn::MboMsg;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use super::codec::{parse_utc_timestamp, Message, TimePrecision};
use super::data_dictionary::Dictionary;
use super::exchange_app::{AppStats, ExchangeApp};
use super::net::{now_ns, TICK};
use super::session::{Event, Output, Role, Session, SessionConfig};
use super::store::{FileStore, MemoryStore, MessageStore};
use super::tags::{self, msg_type as mt};
use crate::book::decoder_from_file;
use crate::exchange::{Exchange, ExchangeConfig, Fees, QueueModel};

/// Why the gateway could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// A file or socket operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: io::Error,
    },
    /// The feed file cannot be used.
    #[error("feed {path}: {why}")]
    Feed {
        /// The file.
        path: String,
        /// What is wrong, and what to do.
        why: String,
    },
    /// A setting is out of range.
    #[error("invalid setting: {0}")]
    Config(String),
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> GatewayError {
    let what = what.into();
    move |source| GatewayError::Io { what, source }
}

/// How the feed is replayed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// At this multiple of the records' own timestamps (1.0 = as recorded).
    Speed(f64),
    /// As fast as possible, from the start (orders see wherever the replay has got to).
    Max,
    /// Every record up to this time (ns since the epoch) at start, then the book holds still.
    HoldAt(u64),
    /// The client moves the feed clock (lock-step with a paper session): nothing is replayed
    /// until a ReplayRequest (35=U1, user-defined) asks for the records up to its
    /// TransactTime (60); the answer, after the reports those records cause, is a
    /// ReplayStatus (35=U2). Other paces answer U1 with a BusinessMessageReject.
    Driven,
}

/// Where the session keeps sequence numbers and sent messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    /// In memory: a restart starts from 1.
    Memory,
    /// QuickFIX's file layout in this folder: a restart resumes the sequence.
    File(PathBuf),
}

/// Settings of the FIX exchange.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Address to listen on (port 0: any free port).
    pub bind: SocketAddr,
    /// Our CompID (49 on what we send).
    pub sender_comp_id: String,
    /// The client's CompID.
    pub target_comp_id: String,
    /// HeartBtInt (s) expected from the client; the client's Logon sets the one in force.
    pub heartbeat_interval: u32,
    /// Reset both sequence numbers to 1 at each new connection (QuickFIX's `ResetOnLogon`).
    pub reset_on_logon: bool,
    /// Memory or file store.
    pub store: StoreChoice,
    /// Validate received messages against the data dictionary.
    pub validate: bool,
    /// The data dictionary (e.g. read from a QuickFIX XML file by
    /// [`super::dictionary_xml::load`]); `None`: the built-in FIX 4.4 one.
    pub dictionary: Option<Arc<Dictionary>>,
    /// Sub-second digits of SendingTime and TransactTime.
    pub timestamp_precision: TimePrecision,
    /// Feed replay.
    pub pace: Pace,
    /// Queue-position model of resting orders.
    pub queue: QueueModel,
    /// Price increment checked on orders (1e-9 fixed point; 0 = none).
    pub tick: i64,
    /// Fees per contract.
    pub fees: Fees,
    /// Seed of the exchange's generators.
    pub seed: u64,
    /// Folder of the message and event log ([`super::log`]); `None`: no log.
    pub log_dir: Option<PathBuf>,
    /// Busy-polling of the connection before parking on it (see
    /// [`SessionConfig::busy_poll`]); `None` (the default): park at once.
    pub busy_poll: Option<Duration>,
}

impl GatewayConfig {
    /// QuickFIX-like defaults on `bind`: CompIDs `EXCH` (us) and `CLIENT`, 30 s heartbeats,
    /// memory store, validation on, milliseconds, replay as recorded, conservative queue.
    pub fn new(bind: SocketAddr) -> Self {
        Self {
            bind,
            sender_comp_id: "EXCH".into(),
            target_comp_id: "CLIENT".into(),
            heartbeat_interval: 30,
            reset_on_logon: false,
            store: StoreChoice::Memory,
            validate: true,
            dictionary: None,
            timestamp_precision: TimePrecision::Millis,
            pace: Pace::Speed(1.0),
            queue: QueueModel::Conservative,
            tick: 0,
            fees: Fees::default(),
            seed: 0,
            log_dir: None,
            busy_poll: None,
        }
    }

    fn check(&self) -> Result<(), GatewayError> {
        let bad = |s: &str| GatewayError::Config(s.to_string());
        if self.sender_comp_id.is_empty() || self.target_comp_id.is_empty() {
            return Err(bad("SenderCompID and TargetCompID must not be empty"));
        }
        if self.sender_comp_id.contains('\u{1}') || self.target_comp_id.contains('\u{1}') {
            return Err(bad("CompIDs must not contain SOH"));
        }
        if let Pace::Speed(x) = self.pace {
            if !(x.is_finite() && x > 0.0) {
                return Err(GatewayError::Config(format!(
                    "replay speed {x} must be a positive number"
                )));
            }
        }
        if self.tick < 0 {
            return Err(bad("tick must not be negative"));
        }
        Ok(())
    }
}

/// An MBO feed in memory: one instrument's records to replay.
#[derive(Debug, Clone)]
pub struct Feed {
    /// The records (all instruments of the file; the exchange ignores the others).
    pub records: Vec<MboMsg>,
    /// The instrument traded.
    pub instrument_id: u32,
    /// Its Symbol (55): the raw symbol from the file's metadata, else the id.
    pub symbol: String,
}

impl Feed {
    /// Reads a DBN MBO file (`.dbn` or `.dbn.zst`). `instrument_id`: the instrument to trade
    /// (default: the one with most records); `symbol`: its Symbol (55) (default: from the
    /// file's symbology, else the instrument id).
    pub fn from_file(
        path: &Path,
        instrument_id: Option<u32>,
        symbol: Option<&str>,
    ) -> Result<Self, GatewayError> {
        let name = path.display().to_string();
        let feed_err = |why: String| GatewayError::Feed {
            path: name.clone(),
            why,
        };
        if !path.is_file() {
            return Err(feed_err("no such file".into()));
        }
        let mut dec = decoder_from_file(path)
            .map_err(|e| feed_err(format!("not a readable DBN file ({e})")))?;
        let meta = dec.metadata().clone();
        let mut records = Vec::new();
        let mut other = 0usize;
        loop {
            match dec.decode_record_ref() {
                Ok(Some(r)) => match r.get::<MboMsg>() {
                    Some(m) => records.push(*m),
                    None => other += 1,
                },
                Ok(None) => break,
                Err(e) => {
                    return Err(feed_err(format!(
                        "record {} cannot be decoded ({e})",
                        records.len() + other
                    )))
                }
            }
        }
        if records.is_empty() {
            return Err(feed_err(format!(
                "holds no MBO records (schema {:?}): the FIX exchange replays market-by-order \
                 data; download or ingest an MBO file",
                meta.schema
            )));
        }
        let instrument_id = match instrument_id {
            Some(id) => {
                if !records.iter().any(|r| r.hd.instrument_id == id) {
                    return Err(feed_err(format!("has no record of instrument {id}")));
                }
                id
            }
            None => most_frequent(&records),
        };
        let id_str = instrument_id.to_string();
        let symbol = match symbol {
            Some(s) => s.to_string(),
            None => meta
                .mappings
                .iter()
                .find(|m| m.intervals.iter().any(|i| i.symbol == id_str))
                .map(|m| m.raw_symbol.clone())
                .or_else(|| (meta.symbols.len() == 1).then(|| meta.symbols[0].clone()))
                .unwrap_or(id_str),
        };
        Ok(Self {
            records,
            instrument_id,
            symbol,
        })
    }

    /// A feed from records already in memory.
    pub fn from_records(records: Vec<MboMsg>, instrument_id: u32, symbol: &str) -> Self {
        Self {
            records,
            instrument_id,
            symbol: symbol.to_string(),
        }
    }
}

fn most_frequent(records: &[MboMsg]) -> u32 {
    let mut counts: std::collections::BTreeMap<u32, usize> = Default::default();
    for r in records {
        *counts.entry(r.hd.instrument_id).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|&(id, n)| (n, std::cmp::Reverse(id)))
        .map_or(0, |(id, _)| id)
}

/// A store chosen at run time.
#[derive(Debug)]
pub enum AnyStore {
    /// In memory.
    Memory(MemoryStore),
    /// In files.
    File(FileStore),
}

macro_rules! each_store {
    ($s:expr, $x:ident => $e:expr) => {
        match $s {
            AnyStore::Memory($x) => $e,
            AnyStore::File($x) => $e,
        }
    };
}

impl MessageStore for AnyStore {
    fn next_sender_seq(&self) -> u64 {
        each_store!(self, s => s.next_sender_seq())
    }
    fn next_target_seq(&self) -> u64 {
        each_store!(self, s => s.next_target_seq())
    }
    fn set_next_sender_seq(&mut self, seq: u64) -> io::Result<()> {
        each_store!(self, s => s.set_next_sender_seq(seq))
    }
    fn set_next_target_seq(&mut self, seq: u64) -> io::Result<()> {
        each_store!(self, s => s.set_next_target_seq(seq))
    }
    fn save(&mut self, seq: u64, frame: &[u8]) -> io::Result<()> {
        each_store!(self, s => s.save(seq, frame))
    }
    fn get(&self, begin: u64, end: u64) -> io::Result<Vec<(u64, Vec<u8>)>> {
        each_store!(self, s => s.get(begin, end))
    }
    fn reset(&mut self, now_ns: i64) -> io::Result<()> {
        each_store!(self, s => s.reset(now_ns))
    }
    fn creation_time(&self) -> i64 {
        each_store!(self, s => s.creation_time())
    }
}

/// Counters of a running gateway.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GatewayStats {
    /// The FIX application's counters.
    pub app: AppStats,
    /// Connections accepted.
    pub connections: u64,
    /// Connections closed at once because a session was already connected.
    pub refused: u64,
    /// Logons completed.
    pub logons: u64,
    /// Messages the session rejected (35=3 or 35=j from validation).
    pub session_rejects: u64,
    /// Records in the feed.
    pub records_total: u64,
    /// Records replayed so far.
    pub records_replayed: u64,
    /// The exchange clock (feed time, ns since the epoch).
    pub feed_time_ns: u64,
    /// Whether a client is logged on now.
    pub logged_on: bool,
    /// Our next outgoing MsgSeqNum.
    pub next_sender_seq: u64,
    /// The next MsgSeqNum expected from the client.
    pub next_target_seq: u64,
}

/// A running FIX exchange: its port, counters, and a way to stop it.
#[derive(Debug)]
pub struct Gateway {
    addr: SocketAddr,
    symbol: String,
    instrument_id: u32,
    stats: Arc<Mutex<GatewayStats>>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<Result<(), GatewayError>>>,
}

impl Gateway {
    /// Binds `cfg.bind`, opens the store, and starts serving in a new thread.
    pub fn start(cfg: GatewayConfig, feed: Feed) -> Result<Self, GatewayError> {
        cfg.check()?;
        let listener = std::net::TcpListener::bind(cfg.bind)
            .map_err(io_err(format!("listening on {}", cfg.bind)))?;
        listener
            .set_nonblocking(true)
            .map_err(io_err("setting the listener non-blocking"))?;
        let addr = listener
            .local_addr()
            .map_err(io_err("reading the bound address"))?;
        let now = now_ns();
        let store = match &cfg.store {
            StoreChoice::Memory => AnyStore::Memory(MemoryStore::new(now)),
            StoreChoice::File(dir) => {
                let prefix = format!("FIX.4.4-{}-{}", cfg.sender_comp_id, cfg.target_comp_id);
                AnyStore::File(
                    FileStore::open(dir, &prefix, now)
                        .map_err(io_err(format!("opening the store in {}", dir.display())))?,
                )
            }
        };
        let xcfg = ExchangeConfig {
            queue: cfg.queue,
            fees: cfg.fees,
            tick: cfg.tick,
            seed: cfg.seed,
            ..Default::default()
        };
        let exchange = Exchange::new(feed.instrument_id, xcfg)
            .map_err(|e| GatewayError::Config(e.to_string()))?;
        let run_tag = format!("{:x}", now / 1_000_000_000);
        let mut app = ExchangeApp::new(exchange, &feed.symbol, &run_tag);
        app.set_timestamp_precision(cfg.timestamp_precision);
        let mut scfg = SessionConfig::new(Role::Acceptor, &cfg.sender_comp_id, &cfg.target_comp_id);
        scfg.heartbeat_interval = cfg.heartbeat_interval;
        scfg.validate = cfg.validate;
        scfg.timestamp_precision = cfg.timestamp_precision;
        scfg.log_dir = cfg.log_dir.clone();
        scfg.dictionary = cfg.dictionary.clone();
        let mut session = Session::new(scfg, store);
        session.open_log().map_err(|e| GatewayError::Io {
            what: format!("opening the FIX log {}", e.path.display()),
            source: e.source,
        })?;
        let stats = Arc::new(Mutex::new(GatewayStats {
            records_total: feed.records.len() as u64,
            ..Default::default()
        }));
        let (stop_tx, stop_rx) = oneshot::channel();
        let symbol = feed.symbol.clone();
        let instrument_id = feed.instrument_id;
        let shared = Arc::clone(&stats);
        let thread = std::thread::Builder::new()
            .name("fix-exchange".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(io_err("starting the tokio runtime"))?;
                rt.block_on(async move {
                    let listener = TcpListener::from_std(listener)
                        .map_err(io_err("registering the listener"))?;
                    let mut g = Server::new(cfg, feed, app, session, shared);
                    g.run(listener, stop_rx).await
                })
            })
            .map_err(io_err("starting the gateway thread"))?;
        Ok(Self {
            addr,
            symbol,
            instrument_id,
            stats,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The Symbol (55) it trades.
    pub fn symbol(&self) -> &str {
        &self.symbol
    }

    /// The instrument it trades.
    pub fn instrument_id(&self) -> u32 {
        self.instrument_id
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> GatewayStats {
        *self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the server thread has ended (after `stop`, or on an error).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Logs a connected client out, closes, and waits for the thread; returns its error.
    pub fn stop(&mut self) -> Result<(), GatewayError> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| GatewayError::Config("the gateway thread panicked".into()))?,
            None => Ok(()),
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// Records applied per step when replaying as fast as possible.
const CHUNK: usize = 4096;

struct Server {
    cfg: GatewayConfig,
    feed: Feed,
    app: ExchangeApp,
    session: Session<AnyStore>,
    shared: Arc<Mutex<GatewayStats>>,
    stats: GatewayStats,
    pos: usize,
    wall0: Instant,
    feed0: u64,
    out: Vec<Message>,
    backlog: Vec<Message>,
    wbuf: Vec<u8>,
}

impl Server {
    fn new(
        cfg: GatewayConfig,
        feed: Feed,
        app: ExchangeApp,
        session: Session<AnyStore>,
        shared: Arc<Mutex<GatewayStats>>,
    ) -> Self {
        let feed0 = feed.records.first().map_or(0, |r| r.hd.ts_event);
        let stats = *shared.lock().unwrap_or_else(|e| e.into_inner());
        Self {
            cfg,
            feed,
            app,
            session,
            shared,
            stats,
            pos: 0,
            wall0: Instant::now(),
            feed0,
            out: Vec::new(),
            backlog: Vec::new(),
            wbuf: Vec::with_capacity(64 * 1024),
        }
    }

    /// The feed time now.
    fn clock(&self) -> u64 {
        match self.cfg.pace {
            Pace::Speed(x) => {
                let el = self.wall0.elapsed().as_nanos() as f64 * x;
                self.feed0.saturating_add(el as u64)
            }
            Pace::Max | Pace::Driven => self.app.exchange().now(),
            Pace::HoldAt(t) => t,
        }
    }

    /// Applies the records due by `t` (at most `limit`).
    fn apply_until(&mut self, t: u64, limit: usize) {
        let end = self.pos.saturating_add(limit).min(self.feed.records.len());
        while self.pos < end {
            let r = self.feed.records[self.pos];
            if r.hd.ts_event > t {
                break;
            }
            self.app.on_record(&r, &mut self.out);
            self.pos += 1;
        }
    }

    /// Brings the exchange to the feed time now; returns it.
    fn catch_up(&mut self) -> u64 {
        let t = self.clock();
        if !matches!(self.cfg.pace, Pace::Max | Pace::Driven) {
            self.apply_until(t, usize::MAX);
            self.app.advance_to(t, &mut self.out);
        }
        t
    }

    /// When the next record is due, if the replay goes on by itself.
    fn next_due(&self) -> Option<Instant> {
        let r = self.feed.records.get(self.pos)?;
        match self.cfg.pace {
            Pace::Speed(x) => {
                let dt = r.hd.ts_event.saturating_sub(self.feed0) as f64 / x;
                Some(self.wall0 + Duration::from_nanos(dt.min(1e18) as u64))
            }
            Pace::Max => Some(Instant::now()),
            Pace::HoldAt(_) | Pace::Driven => None,
        }
    }

    fn step_replay(&mut self) {
        match self.cfg.pace {
            Pace::Max => self.apply_until(u64::MAX, CHUNK),
            _ => {
                self.catch_up();
            }
        }
    }

    async fn run(
        &mut self,
        listener: TcpListener,
        mut stop: oneshot::Receiver<()>,
    ) -> Result<(), GatewayError> {
        if let Pace::HoldAt(t) = self.cfg.pace {
            self.apply_until(t, usize::MAX);
            self.app.advance_to(t, &mut self.out);
            self.out.clear();
        }
        self.publish();
        let mut conn: Option<TcpStream> = None;
        let mut buf = vec![0u8; 64 * 1024];
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut stopping: Option<Instant> = None;
        loop {
            let due = self.next_due();
            let mut got = 0;
            if let (Some(spin), Some(c)) = (self.cfg.busy_poll, conn.as_ref()) {
                // busy-poll the connection (bounded) before parking; replay steps that fall
                // due meanwhile wait at most `spin`
                let until = Instant::now() + spin;
                while Instant::now() < until {
                    match c.try_read(&mut buf) {
                        Ok(n) if n > 0 => {
                            got = n;
                            break;
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        _ => break, // closed or failed: the select below reports it
                    }
                    tokio::task::yield_now().await;
                }
            }
            if got > 0 {
                self.session.on_bytes(&buf[..got], now_ns());
            } else {
                tokio::select! {
                    r = async {
                        match conn.as_mut() {
                            Some(c) => c.read(&mut buf).await,
                            None => std::future::pending().await,
                        }
                    } => match r {
                        Ok(0) | Err(_) => {
                            self.session.on_disconnect(now_ns());
                            conn = None;
                        }
                        Ok(n) => self.session.on_bytes(&buf[..n], now_ns()),
                    },
                    a = listener.accept() => {
                        let (stream, _) = a.map_err(io_err("accepting a connection"))?;
                        if conn.is_some() || stopping.is_some() {
                            self.stats.refused += 1;
                            drop(stream);
                        } else {
                            let _ = stream.set_nodelay(true);
                            self.stats.connections += 1;
                            let now = now_ns();
                            if self.cfg.reset_on_logon {
                                self.session
                                    .store_mut()
                                    .reset(now)
                                    .map_err(io_err("resetting the store"))?;
                            }
                            self.session.on_connect(now);
                            conn = Some(stream);
                        }
                    },
                    _ = async {
                        match due {
                            Some(d) => tokio::time::sleep_until(d.into()).await,
                            None => std::future::pending().await,
                        }
                    } => self.step_replay(),
                    _ = tick.tick() => {
                        self.session.on_timer(now_ns());
                        if stopping.is_some_and(|d| Instant::now() >= d) {
                            break;
                        }
                    },
                    _ = &mut stop, if stopping.is_none() => {
                        if self.session.is_logged_on() && conn.is_some() {
                            self.session.logout(Some("exchange shutting down"), now_ns());
                            let wait = Duration::from_nanos(
                                self.session.config().logout_timeout_ns.max(0) as u64,
                            );
                            stopping = Some(Instant::now() + wait);
                        } else {
                            break;
                        }
                    },
                }
            }
            let close = self.pump();
            if let Some(c) = conn.as_mut() {
                if !self.wbuf.is_empty() && c.write_all(&self.wbuf).await.is_err() {
                    self.session.on_disconnect(now_ns());
                    conn = None;
                }
            }
            self.wbuf.clear();
            self.session.flush_log();
            if close {
                if let Some(mut c) = conn.take() {
                    let _ = c.shutdown().await;
                }
                self.session.on_disconnect(now_ns());
                if stopping.is_some() {
                    break;
                }
            }
            if stopping.is_some() && conn.is_none() {
                break;
            }
            self.publish();
        }
        if let Some(mut c) = conn.take() {
            let _ = c.shutdown().await;
        }
        self.session.flush_log();
        self.publish();
        Ok(())
    }

    /// Runs the session's outputs and the application until both are quiet; frames to
    /// write collect in `wbuf`. Returns whether the session asked for a disconnect.
    fn pump(&mut self) -> bool {
        let mut close = false;
        loop {
            let mut any = false;
            while let Some(o) = self.session.poll_output() {
                any = true;
                match o {
                    Output::Send(f) => self.wbuf.extend_from_slice(&f),
                    Output::Disconnect => close = true,
                    Output::Event(e) => self.on_event(e),
                }
            }
            if !self.out.is_empty() {
                any = true;
                if self.session.is_logged_on() {
                    let now = now_ns();
                    for m in std::mem::take(&mut self.out) {
                        // Only a store failure can refuse it; the session then disconnects.
                        let _ = self.session.send(m, now);
                    }
                } else {
                    self.backlog.append(&mut self.out);
                }
            }
            if !any {
                return close;
            }
        }
    }

    fn on_event(&mut self, e: Event) {
        match e {
            Event::App(m) if m.msg_type() == mt::REPLAY_REQUEST => self.replay_request(&m),
            Event::App(m) => {
                let t = self.catch_up();
                self.app.on_message(&m, t, &mut self.out);
            }
            Event::LoggedOn => {
                self.stats.logons += 1;
                self.out.append(&mut self.backlog);
            }
            Event::Rejected(_) => self.stats.session_rejects += 1,
            _ => {}
        }
    }

    /// A ReplayRequest (35=U1) of a driven exchange: applies the records up to its
    /// TransactTime (only those before it with 5005=N; stopping after the first record that caused a report when 5001=Y), lets
    /// feed time pass to it when reached, then answers with a ReplayStatus (35=U2) queued
    /// after those reports.
    fn replay_request(&mut self, m: &Message) {
        let req_id = m.get(tags::REPLAY_REQ_ID).map(<[u8]>::to_vec);
        let target = m.get(tags::TRANSACT_TIME).and_then(parse_utc_timestamp);
        let why = match (self.cfg.pace, target) {
            (Pace::Driven, Some(t)) if t >= 0 => None,
            (Pace::Driven, _) => {
                Some("ReplayRequest needs TransactTime (60), the feed time to reach")
            }
            _ => {
                Some("ReplayRequest (35=U1) needs a driven exchange: start it with --speed driven")
            }
        };
        if let Some(text) = why {
            let mut r = Message::of_type(mt::BUSINESS_MESSAGE_REJECT);
            if let Some(seq) = m.get(tags::MSG_SEQ_NUM) {
                r.push(tags::REF_SEQ_NUM, seq);
            }
            r.push(tags::REF_MSG_TYPE, mt::REPLAY_REQUEST)
                .push_int(tags::BUSINESS_REJECT_REASON, 4)
                .push(tags::TEXT, text);
            self.out.push(r);
            return;
        }
        let target = target.unwrap_or(0) as u64;
        let stop = m.get(tags::REPLAY_STOP_ON_REPORT) == Some(b"Y");
        let inclusive = m.get(tags::REPLAY_INCLUSIVE) != Some(b"N");
        let mut reached = true;
        while let Some(&r) = self.feed.records.get(self.pos) {
            if r.hd.ts_event > target || (!inclusive && r.hd.ts_event == target) {
                break;
            }
            let before = self.out.len();
            self.app.on_record(&r, &mut self.out);
            self.pos += 1;
            if stop && self.out.len() > before {
                reached = false;
                break;
            }
        }
        if reached && target > self.app.exchange().now() {
            self.app.advance_to(target, &mut self.out);
        }
        let mut s = Message::of_type(mt::REPLAY_STATUS);
        if let Some(id) = req_id {
            s.push(tags::REPLAY_REQ_ID, id);
        }
        s.set_timestamp(
            tags::TRANSACT_TIME,
            self.app.exchange().now() as i64,
            TimePrecision::Nanos,
        )
        .push(tags::REPLAY_REACHED, if reached { "Y" } else { "N" })
        .push_int(tags::REPLAY_RECORDS, self.pos as i64);
        if let Some(r) = self.feed.records.get(self.pos) {
            s.push_int(tags::REPLAY_NEXT_TIME, r.hd.ts_event as i64);
        }
        self.out.push(s);
    }

    fn publish(&mut self) {
        self.stats.app = self.app.stats();
        self.stats.records_replayed = self.pos as u64;
        self.stats.feed_time_ns = self.app.exchange().now();
        self.stats.logged_on = self.session.is_logged_on();
        self.stats.next_sender_seq = self.session.store().next_sender_seq();
        self.stats.next_target_seq = self.session.store().next_target_seq();
        if let Ok(mut s) = self.shared.lock() {
            *s = self.stats;
        }
    }
}
