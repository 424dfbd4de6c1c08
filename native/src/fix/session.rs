//! The FIX session layer as a pure state machine.
//!
//! A [`Session`] takes bytes received ([`Session::on_bytes`]), a connect/disconnect
//! ([`Session::on_connect`], [`Session::on_disconnect`]), clock ticks ([`Session::on_timer`])
//! and application messages to send ([`Session::send`]), each with the time `now` (ns since
//! the epoch) supplied by the caller; it never reads a clock or touches a socket. What it wants
//! done comes out of [`Session::poll_output`]: frames to write, a disconnect, and [`Event`]s
//! for the application. The same inputs always give the same outputs.
//!
//! # Behaviour (FIX 4.4 Volume 2 session scenarios; QuickFIX's choices where the spec leaves one)
//! - Logon: the initiator sends Logon (98=0, 108=HeartBtInt, 141=Y when `reset_on_logon`);
//!   the acceptor answers with the same HeartBtInt and 141=Y if it was asked to reset. A first
//!   message that is not a Logon is dropped with a disconnect, except a Logout answering the
//!   initiator's Logon (its Text, e.g. "MsgSeqNum too low ...", is reported in
//!   [`Event::LoggedOut`], as QuickFIX accepts it); a Logon outside the schedule
//!   is refused with a disconnect; no Logon answer within `logon_timeout` disconnects.
//! - Heartbeats: a Heartbeat after `HeartBtInt` without sending; a TestRequest after
//!   1.2 × HeartBtInt without receiving, a disconnect after 2.4 × (QuickFIX's multipliers).
//!   A TestRequest is answered with a Heartbeat carrying its TestReqID (112).
//! - Sequence numbers: each received message is checked in QuickFIX's order: SendingTime
//!   within `max_latency` (else Reject 373=10 and Logout), CompIDs (else Reject 373=9 and
//!   Logout), then the MsgSeqNum. Too high: the message is queued and a ResendRequest for
//!   `expected..0` (0 = infinity, FIX 4.2+) is sent, once per gap (QuickFIX's
//!   `SendRedundantResendRequests=N`); queued messages are processed when the gap is filled.
//!   Too low without PossDupFlag: Logout "MsgSeqNum too low, expecting X but received Y" and
//!   disconnect. Too low with PossDupFlag=Y: ignored, after checking OrigSendingTime (122)
//!   is present (else Reject 373=1) and not after SendingTime (else Reject 373=10, Logout).
//!   MsgSeqNum missing: Logout "MsgSeqNum(34) missing" and disconnect.
//! - ResendRequest: application messages are resent from the store with PossDupFlag=Y,
//!   OrigSendingTime = their SendingTime and a new SendingTime; runs of administrative
//!   messages (Reject included, as QuickFIX does) and messages not in the store become one
//!   SequenceReset-GapFill (123=Y, 43=Y). A ResendRequest is answered even when its own
//!   MsgSeqNum is too high (then, as in QuickFIX, the sequence number is not advanced).
//! - SequenceReset: GapFill obeys sequence checks; Reset mode ignores them. A NewSeqNo (36)
//!   above the expected number moves it; below, a Reject 373=5 on tag 36.
//! - Garbled frames (bad BodyLength or CheckSum, no `8=` start) are ignored without a reply
//!   and without consuming a sequence number, as QuickFIX does; the next good message shows
//!   the gap.
//! - Validation ([`dictionary::validate`]) failures get a Reject (35=3, with 45, 371, 372,
//!   373, 58) or BusinessMessageReject (35=j, 380=3 for an unsupported MsgType) and consume
//!   the sequence number. A Logon that fails validation is answered with a Logout.
//! - Logout: answered with a Logout, then a disconnect; after sending a Logout the session
//!   waits `logout_timeout` for the answer, then disconnects.
//! - Schedule: a daily window (UTC). Outside it the session logs out and refuses Logons; the
//!   store is reset (both sequence numbers to 1) when a new window begins.

use std::collections::{BTreeMap, VecDeque};
use std::io;

use super::codec::{
    next_frame, parse_utc_timestamp, Decoder, Encoder, Frame, Message, TimePrecision, FIX44,
};
use super::data_dictionary::Dictionary;
use super::dictionary::{self, Rejection, SessionRejectReason};
use super::log::{Direction, FileLog, LogError};
use super::store::MessageStore;
use super::tags::{self, msg_type as mt};

const SEC: i64 = 1_000_000_000;

/// Which side opens the connection and sends the first Logon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Connects and logs on.
    Initiator,
    /// Accepts connections and answers Logons.
    Acceptor,
}

/// A daily session window in UTC, `[start, end)` in seconds of the day; `start > end` spans
/// midnight (e.g. CME Globex's 22:00–21:00 UTC), `start == end` is a 24-hour session that
/// resets at `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Start, seconds after 00:00 UTC.
    pub start_secs: u32,
    /// End, seconds after 00:00 UTC.
    pub end_secs: u32,
}

impl Schedule {
    /// A daily window from `start` to `end`, both `(hour, minute, second)` UTC.
    pub fn daily(start: (u32, u32, u32), end: (u32, u32, u32)) -> Self {
        let s = |(h, m, s): (u32, u32, u32)| (h * 3600 + m * 60 + s) % 86_400;
        Self {
            start_secs: s(start),
            end_secs: s(end),
        }
    }

    fn sod(now: i64) -> i64 {
        now.div_euclid(SEC).rem_euclid(86_400)
    }

    /// Whether `now` is inside the window.
    pub fn is_session_time(&self, now: i64) -> bool {
        let (sod, s, e) = (Self::sod(now), self.start_secs as i64, self.end_secs as i64);
        match s.cmp(&e) {
            std::cmp::Ordering::Less => sod >= s && sod < e,
            std::cmp::Ordering::Greater => sod >= s || sod < e,
            std::cmp::Ordering::Equal => true,
        }
    }

    /// When the window containing (or last before) `now` began, ns since the epoch.
    pub fn period_start(&self, now: i64) -> i64 {
        let day = now.div_euclid(SEC).div_euclid(86_400) * 86_400;
        let s = self.start_secs as i64;
        let start = if Self::sod(now) >= s {
            day + s
        } else {
            day - 86_400 + s
        };
        start * SEC
    }
}

/// Settings of one session.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// BeginString (8), `FIX.4.4`.
    pub begin_string: String,
    /// Our CompID (49 on what we send).
    pub sender_comp_id: String,
    /// The counterparty's CompID (56 on what we send).
    pub target_comp_id: String,
    /// Initiator or acceptor.
    pub role: Role,
    /// HeartBtInt (108) in seconds that the initiator proposes (the acceptor takes the
    /// initiator's).
    pub heartbeat_interval: u32,
    /// Initiator: send ResetSeqNumFlag=Y and start from 1 at each Logon.
    pub reset_on_logon: bool,
    /// Reset the store after a Logout exchange.
    pub reset_on_logout: bool,
    /// Reset the store when the connection drops.
    pub reset_on_disconnect: bool,
    /// How long the initiator waits for the Logon answer.
    pub logon_timeout_ns: i64,
    /// How long to wait for the answer to our Logout.
    pub logout_timeout_ns: i64,
    /// Largest accepted |now − SendingTime| (QuickFIX's `MaxLatency`, 120 s); `None` turns
    /// the check off.
    pub max_latency_ns: Option<i64>,
    /// Sub-second digits of SendingTime.
    pub timestamp_precision: TimePrecision,
    /// Validate received messages against the dictionary.
    pub validate: bool,
    /// The daily window; `None` is always on and never resets by itself.
    pub schedule: Option<Schedule>,
    /// Folder of the message and event log (QuickFIX's `FileLogPath`); `None`: no log.
    /// The session loops ([`super::net`], the gateway) open it; see [`super::log`].
    pub log_dir: Option<std::path::PathBuf>,
    /// The data dictionary received messages are validated against (QuickFIX's
    /// `DataDictionary`); `None`: the built-in FIX 4.4 one.
    pub dictionary: Option<std::sync::Arc<Dictionary>>,
    /// Busy-polling (off by default): before parking on the socket, the session loop of
    /// [`super::net`] tries a non-blocking read (and its command queue) for up to this long,
    /// yielding to the runtime's other tasks between tries. It trades a CPU kept busy for the
    /// wake-up latency of an idle machine (tens of microseconds a hop on a VM).
    pub busy_poll: Option<std::time::Duration>,
}

impl SessionConfig {
    /// Settings with QuickFIX's defaults: 30 s heartbeats, 10 s logon and 2 s logout
    /// timeouts, 120 s maximum latency, milliseconds, validation on, no schedule.
    pub fn new(role: Role, sender: &str, target: &str) -> Self {
        Self {
            begin_string: FIX44.to_string(),
            sender_comp_id: sender.to_string(),
            target_comp_id: target.to_string(),
            role,
            heartbeat_interval: 30,
            reset_on_logon: false,
            reset_on_logout: false,
            reset_on_disconnect: false,
            logon_timeout_ns: 10 * SEC,
            logout_timeout_ns: 2 * SEC,
            max_latency_ns: Some(120 * SEC),
            timestamp_precision: TimePrecision::Millis,
            validate: true,
            schedule: None,
            log_dir: None,
            dictionary: None,
            busy_poll: None,
        }
    }
}

/// What the session tells the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The Logon exchange is complete.
    LoggedOn,
    /// A Logout exchange completed (with the counterparty's Text, if any).
    LoggedOut(Option<String>),
    /// An application message, in sequence (resends included, with PossDupFlag=Y).
    App(Message),
    /// A session-level Reject received from the counterparty.
    RejectReceived(Message),
    /// We rejected a received message.
    Rejected(Rejection),
    /// A frame was dropped as garbled.
    Garbled(String),
    /// The session asked for a disconnect.
    Disconnected(String),
    /// The store was reset (both sequence numbers to 1).
    SequenceReset,
    /// The store failed; the session disconnects.
    StoreError(String),
}

/// What the session wants done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Write this frame to the connection.
    Send(Vec<u8>),
    /// Close the connection.
    Disconnect,
    /// Tell the application.
    Event(Event),
}

/// Why [`Session::send`] refused a message.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The session is not logged on.
    #[error("session is not logged on")]
    NotLoggedOn,
    /// An administrative MsgType: the session sends those itself.
    #[error("MsgType {0} is administrative; the session sends it itself")]
    AdminMessage(String),
    /// The store failed.
    #[error("message store: {0}")]
    Store(#[from] io::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Disconnected,
    /// Connected, no Logon exchanged yet (`sent_at` set once the initiator sent its Logon).
    AwaitingLogon {
        sent_at: Option<i64>,
    },
    LoggedOn,
    /// We sent a Logout at this time and wait for the answer.
    LogoutSent {
        at: i64,
    },
}

/// One FIX session: state machine over a [`MessageStore`].
#[derive(Debug)]
pub struct Session<S: MessageStore> {
    cfg: SessionConfig,
    store: S,
    state: State,
    heartbeat_ns: i64,
    last_sent: i64,
    last_recv: i64,
    test_requests: u32,
    test_req_counter: u64,
    sent_reset: bool,
    resend_range: Option<(u64, u64)>,
    queue: BTreeMap<u64, Message>,
    inbuf: Vec<u8>,
    out: VecDeque<Output>,
    encoder: Encoder,
    decoder: Decoder,
    log: Option<FileLog>,
    /// The clock of the call in progress (for log lines of events).
    clock: i64,
}

impl<S: MessageStore> Session<S> {
    /// A disconnected session over `store` (sequence numbers continue from the store).
    pub fn new(cfg: SessionConfig, store: S) -> Self {
        let encoder = Encoder::new(&cfg.begin_string);
        let heartbeat_ns = cfg.heartbeat_interval as i64 * SEC;
        Self {
            cfg,
            store,
            state: State::Disconnected,
            heartbeat_ns,
            last_sent: 0,
            last_recv: 0,
            test_requests: 0,
            test_req_counter: 0,
            sent_reset: false,
            resend_range: None,
            queue: BTreeMap::new(),
            inbuf: Vec::with_capacity(4096),
            out: VecDeque::new(),
            encoder,
            decoder: Decoder::new(),
            log: None,
            clock: 0,
        }
    }

    /// Opens the log of `cfg.log_dir` (if set) for this session.
    pub fn open_log(&mut self) -> Result<(), LogError> {
        if let Some(dir) = &self.cfg.log_dir {
            let log = FileLog::open(
                dir,
                &self.cfg.begin_string,
                &self.cfg.sender_comp_id,
                &self.cfg.target_comp_id,
            )?;
            self.log = Some(log);
        }
        Ok(())
    }

    /// Logs messages and events to `log` from now on.
    pub fn set_log(&mut self, log: FileLog) {
        self.log = Some(log);
    }

    /// The log, if any.
    pub fn log(&self) -> Option<&FileLog> {
        self.log.as_ref()
    }

    /// Writes the log lines recorded since the last call (the session loops call it after
    /// writing each turn's frames to the socket). A failing log is reported once on
    /// stderr and then closed: logging never stops the session.
    pub fn flush_log(&mut self) {
        if let Some(l) = self.log.as_mut() {
            if let Err(e) = l.flush() {
                eprintln!("{e}; logging stopped");
                self.log = None;
            }
        }
    }

    fn log_send(&mut self, frame: &[u8], now: i64) {
        if let Some(l) = self.log.as_mut() {
            l.message(Direction::Out, frame, now);
        }
    }

    /// The settings.
    pub fn config(&self) -> &SessionConfig {
        &self.cfg
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store, mutably (e.g. to set sequence numbers by hand, as an operator would).
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Ends the session, returning its store (to resume the sequence on a new connection).
    pub fn into_store(self) -> S {
        self.store
    }

    /// Whether the Logon exchange is complete and no Logout has been sent.
    pub fn is_logged_on(&self) -> bool {
        self.state == State::LoggedOn
    }

    /// Whether a connection is up (as far as the session knows).
    pub fn is_connected(&self) -> bool {
        self.state != State::Disconnected
    }

    /// The heartbeat interval in force (negotiated at Logon), ns.
    pub fn heartbeat_ns(&self) -> i64 {
        self.heartbeat_ns
    }

    /// The next output, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// All pending outputs.
    pub fn drain_outputs(&mut self) -> Vec<Output> {
        self.out.drain(..).collect()
    }

    /// A connection is up: the initiator sends its Logon (after a reset if asked, or if a
    /// new schedule window began).
    pub fn on_connect(&mut self, now: i64) {
        self.clock = now;
        if let Some(l) = self.log.as_mut() {
            l.event("Connected", now);
        }
        self.inbuf.clear();
        self.queue.clear();
        self.resend_range = None;
        self.test_requests = 0;
        self.last_recv = now;
        self.last_sent = now;
        self.state = State::AwaitingLogon { sent_at: None };
        self.check_new_period(now);
        if self.cfg.role == Role::Initiator {
            if let Some(s) = self.cfg.schedule {
                if !s.is_session_time(now) {
                    self.disconnect("outside the session schedule");
                    return;
                }
            }
            if self.cfg.reset_on_logon {
                self.reset_store(now);
            }
            self.heartbeat_ns = self.cfg.heartbeat_interval as i64 * SEC;
            self.sent_reset = self.cfg.reset_on_logon;
            let logon = self.logon_message(self.cfg.heartbeat_interval, self.cfg.reset_on_logon);
            self.send_admin(logon, now);
            self.state = State::AwaitingLogon { sent_at: Some(now) };
        }
    }

    /// The connection dropped.
    pub fn on_disconnect(&mut self, now: i64) {
        self.clock = now;
        if self.state != State::Disconnected {
            if let Some(l) = self.log.as_mut() {
                l.event("Disconnected: connection closed", now);
            }
            self.state = State::Disconnected;
            if self.cfg.reset_on_disconnect {
                self.reset_store(now);
            }
        }
        self.inbuf.clear();
        self.queue.clear();
        self.resend_range = None;
    }

    /// Sends an application message (MsgSeqNum, CompIDs and SendingTime are set here);
    /// returns its MsgSeqNum.
    pub fn send(&mut self, mut msg: Message, now: i64) -> Result<u64, SendError> {
        self.clock = now;
        if tags::is_admin(msg.msg_type()) {
            return Err(SendError::AdminMessage(
                String::from_utf8_lossy(msg.msg_type()).into_owned(),
            ));
        }
        if self.state != State::LoggedOn {
            return Err(SendError::NotLoggedOn);
        }
        let seq = self.store.next_sender_seq();
        self.stamp(&mut msg, seq, now);
        let frame = self.encoder.to_vec(&msg);
        self.store.save(seq, &frame)?;
        self.store.set_next_sender_seq(seq + 1)?;
        self.last_sent = now;
        self.log_send(&frame, now);
        self.out.push_back(Output::Send(frame));
        Ok(seq)
    }

    /// Starts a Logout with an optional Text (58).
    pub fn logout(&mut self, text: Option<&str>, now: i64) {
        self.clock = now;
        match self.state {
            State::LoggedOn => {
                let m = logout_message(text);
                self.send_admin(m, now);
                self.state = State::LogoutSent { at: now };
            }
            State::AwaitingLogon { .. } => self.disconnect("logout before logon"),
            _ => {}
        }
    }

    /// Clock tick: heartbeats, test requests, timeouts and the schedule. Call it at least
    /// once a second.
    pub fn on_timer(&mut self, now: i64) {
        self.clock = now;
        match self.state {
            State::Disconnected => {
                self.check_new_period(now);
            }
            State::AwaitingLogon { sent_at } => {
                if let Some(t) = sent_at {
                    if now - t >= self.cfg.logon_timeout_ns {
                        self.disconnect("Timed out waiting for logon response");
                    }
                }
            }
            State::LogoutSent { at } => {
                if now - at >= self.cfg.logout_timeout_ns {
                    self.disconnect("Timed out waiting for logout response");
                }
            }
            State::LoggedOn => {
                if let Some(s) = self.cfg.schedule {
                    if !s.is_session_time(now) {
                        self.logout(Some("Session end"), now);
                        return;
                    }
                    if self.store.creation_time() < s.period_start(now) {
                        self.logout(Some("New session period"), now);
                        return;
                    }
                }
                if self.heartbeat_ns <= 0 {
                    return;
                }
                let hb = self.heartbeat_ns;
                let silent = now - self.last_recv;
                if silent >= hb * 24 / 10 {
                    self.disconnect("Timed out waiting for heartbeat");
                } else if silent >= hb * 12 / 10 && self.test_requests == 0 {
                    self.test_req_counter += 1;
                    let mut m = Message::of_type(mt::TEST_REQUEST);
                    m.push(tags::TEST_REQ_ID, format!("TEST-{}", self.test_req_counter));
                    self.send_admin(m, now);
                    self.test_requests += 1;
                } else if now - self.last_sent >= hb {
                    self.send_admin(Message::of_type(mt::HEARTBEAT), now);
                }
            }
        }
    }

    /// Bytes received from the connection.
    pub fn on_bytes(&mut self, bytes: &[u8], now: i64) {
        self.clock = now;
        self.inbuf.extend_from_slice(bytes);
        let mut start = 0;
        while self.state != State::Disconnected {
            match next_frame(&self.inbuf[start..]) {
                None => break,
                Some(Frame::Garbled(n)) => {
                    self.event(Event::Garbled(format!("{n} bytes without a frame")));
                    start += n;
                }
                Some(Frame::Message(n)) => {
                    let frame = self.inbuf[start..start + n].to_vec();
                    start += n;
                    self.on_frame(&frame, now);
                }
            }
        }
        if self.state == State::Disconnected {
            self.inbuf.clear();
        } else {
            self.inbuf.drain(..start);
        }
    }

    fn on_frame(&mut self, frame: &[u8], now: i64) {
        if let Some(l) = self.log.as_mut() {
            l.message(Direction::In, frame, now);
        }
        let (msg, invalid) = {
            let view = match self.decoder.decode(frame) {
                Ok(v) => v,
                Err(e) => {
                    self.event(Event::Garbled(e.to_string()));
                    return;
                }
            };
            if view.get(tags::BEGIN_STRING) != Some(self.cfg.begin_string.as_bytes()) {
                let m = view.to_message();
                self.bad_begin_string(&m, now);
                return;
            }
            let invalid = if self.cfg.validate {
                match &self.cfg.dictionary {
                    Some(d) => d.validate(&view).err(),
                    None => dictionary::validate(&view).err(),
                }
            } else {
                None
            };
            (view.to_message(), invalid)
        };
        self.process(msg, invalid, now);
    }

    fn bad_begin_string(&mut self, _m: &Message, now: i64) {
        if self.state == State::LoggedOn {
            let l = logout_message(Some("Incorrect BeginString"));
            self.send_admin(l, now);
        }
        self.disconnect("Incorrect BeginString");
    }

    fn process(&mut self, msg: Message, invalid: Option<Rejection>, now: i64) {
        let ty = msg.msg_type().to_vec();
        let logon = ty == mt::LOGON;
        // a Logout answering our Logon (e.g. QuickFIX's "MsgSeqNum too low") is processed,
        // as in QuickFIX (`validLogonState`), so that its reason reaches the application
        let logout_for_our_logon =
            ty == mt::LOGOUT && matches!(self.state, State::AwaitingLogon { sent_at: Some(_) });
        if matches!(self.state, State::AwaitingLogon { .. }) && !logon && !logout_for_our_logon {
            self.disconnect("Received non-Logon message before Logon");
            return;
        }
        if self.state == State::Disconnected {
            return;
        }
        let Some(seq) = msg.seq_num() else {
            if self.state == State::LoggedOn {
                let l = logout_message(Some("MsgSeqNum(34) missing"));
                self.send_admin(l, now);
            }
            self.disconnect("MsgSeqNum(34) missing");
            return;
        };
        if let Some(r) = invalid {
            if logon {
                self.disconnect(&format!("Invalid Logon: {r}"));
                return;
            }
            self.send_rejection(&msg, seq, &r, now);
            if seq == self.store.next_target_seq() {
                self.incr_target();
            }
            self.event(Event::Rejected(r));
            return;
        }
        match ty.as_slice() {
            mt::LOGON => self.on_logon(msg, seq, now),
            mt::HEARTBEAT => {
                if self.verify(&msg, seq, true, true, now) {
                    self.incr_target();
                    self.next_queued(now);
                }
            }
            mt::TEST_REQUEST => {
                if self.verify(&msg, seq, true, true, now) {
                    let mut hb = Message::of_type(mt::HEARTBEAT);
                    if let Some(id) = msg.get(tags::TEST_REQ_ID) {
                        hb.push(tags::TEST_REQ_ID, id);
                    }
                    self.send_admin(hb, now);
                    self.incr_target();
                    self.next_queued(now);
                }
            }
            mt::RESEND_REQUEST => {
                if self.verify(&msg, seq, false, false, now) {
                    let begin = msg.get_int(tags::BEGIN_SEQ_NO).unwrap_or(1).max(1) as u64;
                    let end = msg.get_int(tags::END_SEQ_NO).unwrap_or(0).max(0) as u64;
                    self.resend(begin, end, now);
                    if seq == self.store.next_target_seq() {
                        self.incr_target();
                        self.next_queued(now);
                    }
                }
            }
            mt::REJECT => {
                if self.verify(&msg, seq, true, true, now) {
                    self.incr_target();
                    self.event(Event::RejectReceived(msg));
                    self.next_queued(now);
                }
            }
            mt::SEQUENCE_RESET => self.on_sequence_reset(msg, seq, now),
            mt::LOGOUT => {
                if self.verify(&msg, seq, false, false, now) {
                    let text = msg.get_str(tags::TEXT).map(str::to_string);
                    if seq == self.store.next_target_seq() {
                        self.incr_target();
                    }
                    if !matches!(self.state, State::LogoutSent { .. }) {
                        self.send_admin(logout_message(None), now);
                    }
                    self.event(Event::LoggedOut(text));
                    if self.cfg.reset_on_logout {
                        self.reset_store(now);
                    }
                    self.disconnect("Logout");
                }
            }
            _ => {
                if self.verify(&msg, seq, true, true, now) {
                    self.incr_target();
                    self.event(Event::App(msg));
                    self.next_queued(now);
                }
            }
        }
    }

    fn on_logon(&mut self, msg: Message, seq: u64, now: i64) {
        if self.state == State::LoggedOn {
            // a second Logon: QuickFIX treats it as an ordinary in-sequence message
            if self.verify(&msg, seq, true, true, now) {
                self.incr_target();
            }
            return;
        }
        let reset = msg.get(tags::RESET_SEQ_NUM_FLAG) == Some(b"Y");
        if self.cfg.role == Role::Acceptor {
            if let Some(s) = self.cfg.schedule {
                if !s.is_session_time(now) {
                    self.disconnect("Logon outside the session schedule");
                    return;
                }
            }
        }
        if reset && !self.sent_reset {
            self.reset_store(now);
        }
        if !self.verify(&msg, seq, false, true, now) {
            return;
        }
        let hb = msg.get_int(tags::HEART_BT_INT).unwrap_or(0);
        if hb < 0 {
            self.disconnect("Negative HeartBtInt");
            return;
        }
        if self.cfg.role == Role::Acceptor {
            self.heartbeat_ns = hb * SEC;
            let answer = self.logon_message(hb as u32, reset);
            self.send_admin(answer, now);
        }
        self.sent_reset = false;
        self.state = State::LoggedOn;
        self.event(Event::LoggedOn);
        let expected = self.store.next_target_seq();
        if seq > expected {
            self.target_too_high(msg, seq, now);
        } else {
            self.incr_target();
            self.next_queued(now);
        }
    }

    fn on_sequence_reset(&mut self, msg: Message, seq: u64, now: i64) {
        let gap_fill = msg.get(tags::GAP_FILL_FLAG) == Some(b"Y");
        if !self.verify(&msg, seq, gap_fill, gap_fill, now) {
            return;
        }
        let new_seq = msg.get_int(tags::NEW_SEQ_NO).unwrap_or(0).max(0) as u64;
        let expected = self.store.next_target_seq();
        if new_seq > expected {
            self.set_target(new_seq);
            self.queue.retain(|&k, _| k >= new_seq);
            self.next_queued(now);
        } else if new_seq < expected {
            let r = Rejection::Session {
                reason: SessionRejectReason::ValueIsIncorrect,
                ref_tag: Some(tags::NEW_SEQ_NO),
                text: format!("NewSeqNo {new_seq} below the expected {expected}"),
            };
            self.send_rejection(&msg, seq, &r, now);
            self.event(Event::Rejected(r));
        }
    }

    /// QuickFIX's `Session::verify`: latency, CompIDs, then the sequence number. Returns
    /// whether the message is to be processed now.
    fn verify(&mut self, msg: &Message, seq: u64, too_high: bool, too_low: bool, now: i64) -> bool {
        if let Some(max) = self.cfg.max_latency_ns {
            let st = msg.get(tags::SENDING_TIME).and_then(parse_utc_timestamp);
            if st.is_none_or(|t| (now - t).abs() > max) {
                self.reject_and_logout(
                    msg,
                    seq,
                    SessionRejectReason::SendingTimeAccuracyProblem,
                    tags::SENDING_TIME,
                    "SendingTime accuracy problem",
                    now,
                );
                return false;
            }
        }
        if msg.get(tags::SENDER_COMP_ID) != Some(self.cfg.target_comp_id.as_bytes())
            || msg.get(tags::TARGET_COMP_ID) != Some(self.cfg.sender_comp_id.as_bytes())
        {
            let tag = if msg.get(tags::SENDER_COMP_ID) != Some(self.cfg.target_comp_id.as_bytes()) {
                tags::SENDER_COMP_ID
            } else {
                tags::TARGET_COMP_ID
            };
            self.reject_and_logout(
                msg,
                seq,
                SessionRejectReason::CompIdProblem,
                tag,
                "CompID problem",
                now,
            );
            return false;
        }
        let expected = self.store.next_target_seq();
        if too_high && seq > expected {
            self.target_too_high(msg.clone(), seq, now);
            return false;
        }
        if too_low && seq < expected {
            self.target_too_low(msg, seq, expected, now);
            return false;
        }
        if let Some((_, end)) = self.resend_range {
            if (too_high || too_low) && seq >= end {
                self.resend_range = None;
            }
        }
        self.last_recv = now;
        self.test_requests = 0;
        true
    }

    fn target_too_high(&mut self, msg: Message, seq: u64, now: i64) {
        self.last_recv = now;
        self.test_requests = 0;
        self.queue.insert(seq, msg);
        let expected = self.store.next_target_seq();
        if let Some((begin, _)) = self.resend_range {
            if seq >= begin {
                return; // already asked for this gap
            }
        }
        let mut rr = Message::of_type(mt::RESEND_REQUEST);
        rr.push_int(tags::BEGIN_SEQ_NO, expected as i64)
            .push_int(tags::END_SEQ_NO, 0);
        self.send_admin(rr, now);
        self.resend_range = Some((expected, seq - 1));
    }

    fn target_too_low(&mut self, msg: &Message, seq: u64, expected: u64, now: i64) {
        self.last_recv = now;
        self.test_requests = 0;
        if msg.get(tags::POSS_DUP_FLAG) != Some(b"Y") {
            let text = format!("MsgSeqNum too low, expecting {expected} but received {seq}");
            let l = logout_message(Some(&text));
            self.send_admin(l, now);
            self.disconnect(&text);
            return;
        }
        if msg.msg_type() == mt::SEQUENCE_RESET {
            return;
        }
        let orig = msg
            .get(tags::ORIG_SENDING_TIME)
            .and_then(parse_utc_timestamp);
        let sending = msg.get(tags::SENDING_TIME).and_then(parse_utc_timestamp);
        match (orig, sending) {
            (None, _) => {
                let r = Rejection::Session {
                    reason: SessionRejectReason::RequiredTagMissing,
                    ref_tag: Some(tags::ORIG_SENDING_TIME),
                    text: "Required tag missing".into(),
                };
                self.send_rejection(msg, seq, &r, now);
                self.event(Event::Rejected(r));
            }
            (Some(o), Some(s)) if o > s => {
                self.reject_and_logout(
                    msg,
                    seq,
                    SessionRejectReason::SendingTimeAccuracyProblem,
                    tags::ORIG_SENDING_TIME,
                    "SendingTime accuracy problem",
                    now,
                );
            }
            _ => {} // a duplicate: ignored
        }
    }

    fn next_queued(&mut self, now: i64) {
        loop {
            let expected = self.store.next_target_seq();
            self.queue.retain(|&k, _| k >= expected);
            let Some(msg) = self.queue.remove(&expected) else {
                return;
            };
            if self.state == State::Disconnected {
                return;
            }
            let ty = msg.msg_type();
            if ty == mt::LOGON || ty == mt::RESEND_REQUEST {
                self.incr_target();
            } else {
                self.process(msg, None, now);
                if self.store.next_target_seq() == expected {
                    return; // not consumed (should not happen): avoid a loop
                }
            }
        }
    }

    fn resend(&mut self, begin: u64, end_req: u64, now: i64) {
        let last = self.store.next_sender_seq().saturating_sub(1);
        let end = if end_req == 0 || end_req > last {
            last
        } else {
            end_req
        };
        if begin > end {
            return;
        }
        let msgs = match self.store.get(begin, end) {
            Ok(m) => m,
            Err(e) => {
                self.store_error(e);
                return;
            }
        };
        let mut gap: Option<u64> = None;
        let mut expect = begin;
        for (seq, frame) in msgs {
            if seq > expect && gap.is_none() {
                gap = Some(expect);
            }
            expect = seq + 1;
            let app = match self.decoder.decode(&frame) {
                Ok(v) if !tags::is_admin(v.msg_type()) => Some(v.to_message()),
                _ => None,
            };
            let Some(mut m) = app else {
                gap.get_or_insert(seq);
                continue;
            };
            if let Some(g) = gap.take() {
                self.send_gap_fill(g, seq, now);
            }
            let orig = m.get(tags::SENDING_TIME).map(<[u8]>::to_vec);
            m.set(tags::POSS_DUP_FLAG, "Y");
            if let Some(o) = orig {
                m.set(tags::ORIG_SENDING_TIME, o);
            }
            m.set_timestamp(tags::SENDING_TIME, now, self.cfg.timestamp_precision);
            let out = self.encoder.to_vec(&m);
            self.log_send(&out, now);
            self.out.push_back(Output::Send(out));
        }
        if expect <= end && gap.is_none() {
            gap = Some(expect);
        }
        if let Some(g) = gap {
            self.send_gap_fill(g, end + 1, now);
        }
        self.last_sent = now;
    }

    fn send_gap_fill(&mut self, seq: u64, new_seq: u64, now: i64) {
        let mut m = Message::of_type(mt::SEQUENCE_RESET);
        self.stamp(&mut m, seq, now);
        m.set(tags::POSS_DUP_FLAG, "Y");
        let mut ts = Vec::with_capacity(27);
        super::codec::write_utc_timestamp(&mut ts, now, self.cfg.timestamp_precision);
        m.set(tags::ORIG_SENDING_TIME, ts);
        m.push(tags::GAP_FILL_FLAG, "Y")
            .push_int(tags::NEW_SEQ_NO, new_seq as i64);
        let out = self.encoder.to_vec(&m);
        self.log_send(&out, now);
        self.out.push_back(Output::Send(out));
    }

    fn reject_and_logout(
        &mut self,
        msg: &Message,
        seq: u64,
        reason: SessionRejectReason,
        tag: u32,
        text: &str,
        now: i64,
    ) {
        let r = Rejection::Session {
            reason,
            ref_tag: Some(tag),
            text: text.to_string(),
        };
        if self.state == State::LoggedOn || msg.msg_type() == mt::LOGON {
            self.send_rejection(msg, seq, &r, now);
            self.send_admin(logout_message(Some(text)), now);
        }
        self.event(Event::Rejected(r));
        self.disconnect(text);
    }

    fn send_rejection(&mut self, msg: &Message, seq: u64, r: &Rejection, now: i64) {
        let m = match r {
            Rejection::Session {
                reason,
                ref_tag,
                text,
            } => {
                let mut m = Message::of_type(mt::REJECT);
                m.push_int(tags::REF_SEQ_NUM, seq as i64);
                if let Some(t) = ref_tag {
                    m.push_int(tags::REF_TAG_ID, *t as i64);
                }
                if !msg.msg_type().is_empty() {
                    m.push(tags::REF_MSG_TYPE, msg.msg_type());
                }
                m.push_int(tags::SESSION_REJECT_REASON, *reason as i64)
                    .push(tags::TEXT, text);
                m
            }
            Rejection::Business { reason, text } => {
                let mut m = Message::of_type(mt::BUSINESS_MESSAGE_REJECT);
                m.push_int(tags::REF_SEQ_NUM, seq as i64)
                    .push(tags::REF_MSG_TYPE, msg.msg_type())
                    .push_int(tags::BUSINESS_REJECT_REASON, *reason as i64)
                    .push(tags::TEXT, text);
                m
            }
        };
        self.send_admin(m, now);
    }

    fn logon_message(&self, hb: u32, reset: bool) -> Message {
        let mut m = Message::of_type(mt::LOGON);
        m.push(tags::ENCRYPT_METHOD, "0")
            .push_int(tags::HEART_BT_INT, hb as i64);
        if reset {
            m.push(tags::RESET_SEQ_NUM_FLAG, "Y");
        }
        m
    }

    fn stamp(&self, m: &mut Message, seq: u64, now: i64) {
        m.set(tags::SENDER_COMP_ID, self.cfg.sender_comp_id.as_bytes())
            .set(tags::TARGET_COMP_ID, self.cfg.target_comp_id.as_bytes())
            .set_int(tags::MSG_SEQ_NUM, seq as i64)
            .set_timestamp(tags::SENDING_TIME, now, self.cfg.timestamp_precision);
    }

    /// Sends a session message with the next MsgSeqNum, stored like any other.
    fn send_admin(&mut self, mut msg: Message, now: i64) {
        let seq = self.store.next_sender_seq();
        self.stamp(&mut msg, seq, now);
        let frame = self.encoder.to_vec(&msg);
        let r = self
            .store
            .save(seq, &frame)
            .and_then(|_| self.store.set_next_sender_seq(seq + 1));
        if let Err(e) = r {
            self.store_error(e);
            return;
        }
        self.last_sent = now;
        self.log_send(&frame, now);
        self.out.push_back(Output::Send(frame));
    }

    fn incr_target(&mut self) {
        let n = self.store.next_target_seq() + 1;
        self.set_target(n);
    }

    fn set_target(&mut self, n: u64) {
        if let Err(e) = self.store.set_next_target_seq(n) {
            self.store_error(e);
        }
    }

    fn reset_store(&mut self, now: i64) {
        match self.store.reset(now) {
            Ok(()) => self.event(Event::SequenceReset),
            Err(e) => self.store_error(e),
        }
    }

    fn check_new_period(&mut self, now: i64) {
        if let Some(s) = self.cfg.schedule {
            if s.is_session_time(now) && self.store.creation_time() < s.period_start(now) {
                self.reset_store(now);
            }
        }
    }

    fn store_error(&mut self, e: io::Error) {
        self.event(Event::StoreError(e.to_string()));
        self.disconnect("message store failed");
    }

    fn event(&mut self, e: Event) {
        if let Some(l) = self.log.as_mut() {
            let text = match &e {
                Event::LoggedOn => Some("Logon complete".to_string()),
                Event::LoggedOut(t) => Some(format!(
                    "Logout complete{}",
                    t.as_deref().map(|t| format!(": {t}")).unwrap_or_default()
                )),
                Event::App(_) | Event::RejectReceived(_) => None,
                Event::Rejected(r) => Some(format!("Message rejected: {r}")),
                Event::Garbled(why) => Some(format!("Garbled message dropped: {why}")),
                Event::Disconnected(why) => Some(format!("Disconnected: {why}")),
                Event::SequenceReset => Some("Sequence numbers reset to 1".to_string()),
                Event::StoreError(why) => Some(format!("Message store failed: {why}")),
            };
            if let Some(t) = text {
                l.event(&t, self.clock);
            }
        }
        self.out.push_back(Output::Event(e));
    }

    fn disconnect(&mut self, reason: &str) {
        if self.state == State::Disconnected {
            return;
        }
        self.state = State::Disconnected;
        self.queue.clear();
        self.resend_range = None;
        self.event(Event::Disconnected(reason.to_string()));
        self.out.push_back(Output::Disconnect);
    }
}

fn logout_message(text: Option<&str>) -> Message {
    let mut m = Message::of_type(mt::LOGOUT);
    if let Some(t) = text {
        m.push(tags::TEXT, t);
    }
    m
}
