//! A blocking FIX initiator (cargo feature `fix`) for callers without an async runtime,
//! such as the Python bindings: the session runs in its own thread on a single-threaded
//! tokio runtime (so heartbeats go out while the caller is busy); the caller sends
//! messages and reads [`Event`]s with timeouts.

use std::net::SocketAddr;
use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::codec::Message;
use super::gateway::AnyStore;
use super::net;
use super::session::{Event, Session, SessionConfig};

/// Why a blocking call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The TCP connection could not be made.
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// Where.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// No Logon answer in time, or the counterparty closed the connection first.
    #[error("logon failed: {0}")]
    Logon(String),
    /// The session refused the message (not logged on, administrative type, store error).
    #[error("send failed: {0}")]
    Send(String),
    /// The message log could not be opened.
    #[error(transparent)]
    Log(#[from] super::log::LogError),
    /// The session thread has ended.
    #[error("the session has ended")]
    Closed,
}

enum Cmd {
    Send(Message, std_mpsc::SyncSender<Result<u64, String>>),
    Logout(Option<String>),
}

/// A FIX initiator driven by blocking calls.
#[derive(Debug)]
pub struct Initiator {
    cmd: mpsc::UnboundedSender<Cmd>,
    events: std_mpsc::Receiver<Event>,
    thread: Option<JoinHandle<()>>,
    logged_on: bool,
}

impl std::fmt::Debug for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cmd")
    }
}

impl Initiator {
    /// Connects to `addr` and logs on; returns once the Logon exchange is complete.
    /// Events before the Logon answer (none in a normal logon) are dropped.
    pub fn connect(
        addr: SocketAddr,
        cfg: SessionConfig,
        store: AnyStore,
        timeout: Duration,
    ) -> Result<Self, ClientError> {
        let mut session = Session::new(cfg, store);
        session.open_log()?;
        let (cmd_tx, mut cmd_rx) = mpsc::unbounded_channel::<Cmd>();
        let (ev_tx, ev_rx) = std_mpsc::channel::<Event>();
        let (up_tx, up_rx) = std_mpsc::sync_channel::<std::io::Result<()>>(1);
        let thread = std::thread::Builder::new()
            .name("fix-initiator".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = up_tx.send(Err(e));
                        return;
                    }
                };
                rt.block_on(async move {
                    let mut h = match net::initiate_session(addr, session).await {
                        Ok(h) => {
                            let _ = up_tx.send(Ok(()));
                            h
                        }
                        Err(e) => {
                            let _ = up_tx.send(Err(e));
                            return;
                        }
                    };
                    let mut open = true;
                    loop {
                        tokio::select! {
                            c = cmd_rx.recv(), if open => match c {
                                Some(Cmd::Send(m, reply)) => {
                                    let r = h.send(m).await.map_err(|e| e.to_string());
                                    let _ = reply.send(r);
                                }
                                Some(Cmd::Logout(text)) => h.logout(text.as_deref()),
                                None => {
                                    open = false;
                                    h.logout(None);
                                }
                            },
                            e = h.next_event() => match e {
                                Some(e) => {
                                    let _ = ev_tx.send(e);
                                }
                                None => break,
                            },
                        }
                    }
                    let _ = h.join().await;
                });
            })
            .map_err(|e| ClientError::Connect { addr, source: e })?;
        match up_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(source)) => return Err(ClientError::Connect { addr, source }),
            Err(_) => return Err(ClientError::Closed),
        }
        let mut me = Self {
            cmd: cmd_tx,
            events: ev_rx,
            thread: Some(thread),
            logged_on: false,
        };
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match me.events.recv_timeout(left) {
                Ok(Event::LoggedOn) => {
                    me.logged_on = true;
                    return Ok(me);
                }
                Ok(Event::Disconnected(why)) => return Err(ClientError::Logon(why)),
                Ok(Event::LoggedOut(text)) => {
                    return Err(ClientError::Logon(format!(
                        "logged out: {}",
                        text.unwrap_or_default()
                    )))
                }
                Ok(_) => {}
                Err(std_mpsc::RecvTimeoutError::Timeout) => {
                    return Err(ClientError::Logon(format!(
                        "no Logon answer from {addr} within {timeout:?}"
                    )))
                }
                Err(std_mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(ClientError::Logon("connection closed".into()))
                }
            }
        }
    }

    /// Whether the Logon completed and no Logout or disconnect has been seen since.
    pub fn is_logged_on(&self) -> bool {
        self.logged_on
    }

    /// Sends an application message; returns its MsgSeqNum.
    pub fn send(&self, msg: Message) -> Result<u64, ClientError> {
        let (tx, rx) = std_mpsc::sync_channel(1);
        self.cmd
            .send(Cmd::Send(msg, tx))
            .map_err(|_| ClientError::Closed)?;
        rx.recv()
            .map_err(|_| ClientError::Closed)?
            .map_err(ClientError::Send)
    }

    /// The next event within `timeout`; `None` on timeout or once the session has ended.
    pub fn next_event(&mut self, timeout: Duration) -> Option<Event> {
        let e = self.events.recv_timeout(timeout).ok()?;
        if matches!(e, Event::LoggedOut(_) | Event::Disconnected(_)) {
            self.logged_on = false;
        }
        Some(e)
    }

    /// Sends a Logout and waits up to `timeout` for the session to end; returns the
    /// events seen meanwhile (reports still in flight included).
    pub fn logout(&mut self, text: Option<&str>, timeout: Duration) -> Vec<Event> {
        let _ = self.cmd.send(Cmd::Logout(text.map(str::to_string)));
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(e) => seen.push(e),
                Err(_) => break,
            }
        }
        self.logged_on = false;
        if let Some(t) = self.thread.take() {
            if t.is_finished() {
                let _ = t.join();
            } else {
                self.thread = Some(t);
            }
        }
        seen
    }
}

impl Drop for Initiator {
    fn drop(&mut self) {
        // Closing the command channel makes the session thread log out and end.
        let (tx, _) = mpsc::unbounded_channel();
        drop(std::mem::replace(&mut self.cmd, tx));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
