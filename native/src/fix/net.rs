//! FIX sessions over TCP with tokio (cargo feature `fix`): this layer only moves bytes and
//! ticks the clock; every decision is the [`Session`] state machine's.
//!
//! [`initiate`] connects and logs on; [`accept`] takes one connection from a listener and
//! answers its Logon. Both spawn a task on the current tokio runtime and return a
//! [`SessionHandle`] to send application messages, ask for a Logout and receive [`Event`]s.
//! The task ends when the connection closes and hands the store back, so a new connection
//! resumes the sequence. The clock is the system clock (UTC ns), read here and passed in.

use std::io;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::codec::Message;
use super::session::{Event, Output, SendError, Session, SessionConfig};
use super::store::MessageStore;

/// How often the session's timer runs.
pub const TICK: Duration = Duration::from_millis(100);

/// Nanoseconds since the UNIX epoch, from the system clock.
pub fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

enum Command {
    Send(Message, oneshot::Sender<Result<u64, SendError>>),
    Logout(Option<String>),
    DropOutgoing(usize),
}

/// A running session: send messages, ask for a Logout, read events.
#[derive(Debug)]
pub struct SessionHandle<S> {
    cmd: mpsc::UnboundedSender<Command>,
    events: mpsc::UnboundedReceiver<Event>,
    task: JoinHandle<io::Result<S>>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Command")
    }
}

impl<S: MessageStore + Send + 'static> SessionHandle<S> {
    /// Sends an application message; returns its MsgSeqNum.
    pub async fn send(&self, msg: Message) -> Result<u64, SendError> {
        let (tx, rx) = oneshot::channel();
        self.cmd
            .send(Command::Send(msg, tx))
            .map_err(|_| SendError::NotLoggedOn)?;
        rx.await.unwrap_or(Err(SendError::NotLoggedOn))
    }

    /// Starts a Logout.
    pub fn logout(&self, text: Option<&str>) {
        let _ = self.cmd.send(Command::Logout(text.map(str::to_string)));
    }

    /// Test hook: the next `n` frames the session sends are dropped instead of written (they
    /// still take their sequence numbers and go to the store), to force a sequence gap on the
    /// counterparty, which then asks for a resend.
    #[doc(hidden)]
    pub fn drop_outgoing(&self, n: usize) {
        let _ = self.cmd.send(Command::DropOutgoing(n));
    }

    /// The next event; `None` once the session task has ended and all events were read.
    pub async fn next_event(&mut self) -> Option<Event> {
        self.events.recv().await
    }

    /// Waits for an event matching `pred` (other events are dropped); `None` if the session
    /// ended first or `timeout` passed.
    pub async fn wait_for(
        &mut self,
        timeout: Duration,
        mut pred: impl FnMut(&Event) -> bool,
    ) -> Option<Event> {
        tokio::time::timeout(timeout, async {
            while let Some(e) = self.events.recv().await {
                if pred(&e) {
                    return Some(e);
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
    }

    /// Waits for the session to end; returns its store.
    pub async fn join(self) -> io::Result<S> {
        self.task
            .await
            .map_err(|e| io::Error::other(e.to_string()))?
    }
}

/// Connects to `addr` and logs on.
pub async fn initiate<S, A>(addr: A, cfg: SessionConfig, store: S) -> io::Result<SessionHandle<S>>
where
    S: MessageStore + Send + 'static,
    A: ToSocketAddrs,
{
    initiate_session(addr, open_session(cfg, store)?).await
}

/// A session over `store` with its log open if `cfg.log_dir` is set.
pub fn open_session<S: MessageStore>(cfg: SessionConfig, store: S) -> io::Result<Session<S>> {
    let mut session = Session::new(cfg, store);
    session
        .open_log()
        .map_err(|e| io::Error::new(e.source.kind(), e.to_string()))?;
    Ok(session)
}

/// Connects to `addr` and runs `session` (built by the caller, e.g. with a log) as the
/// initiator.
pub async fn initiate_session<S, A>(addr: A, session: Session<S>) -> io::Result<SessionHandle<S>>
where
    S: MessageStore + Send + 'static,
    A: ToSocketAddrs,
{
    let stream = TcpStream::connect(addr).await?;
    Ok(spawn(stream, session))
}

/// Accepts one connection on `listener` and serves it as the acceptor.
pub async fn accept<S>(
    listener: &TcpListener,
    cfg: SessionConfig,
    store: S,
) -> io::Result<SessionHandle<S>>
where
    S: MessageStore + Send + 'static,
{
    let session = open_session(cfg, store)?;
    let (stream, _) = listener.accept().await?;
    Ok(spawn(stream, session))
}

/// Runs `session` over an established connection.
pub fn spawn<S>(stream: TcpStream, session: Session<S>) -> SessionHandle<S>
where
    S: MessageStore + Send + 'static,
{
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (ev_tx, ev_rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(run(stream, session, cmd_rx, ev_tx));
    SessionHandle {
        cmd: cmd_tx,
        events: ev_rx,
        task,
    }
}

async fn run<S: MessageStore>(
    stream: TcpStream,
    mut session: Session<S>,
    mut cmd_rx: mpsc::UnboundedReceiver<Command>,
    ev_tx: mpsc::UnboundedSender<Event>,
) -> io::Result<S> {
    stream.set_nodelay(true)?;
    let (mut rd, mut wr) = stream.into_split();
    let mut buf = vec![0u8; 64 * 1024];
    let mut wbuf = Vec::with_capacity(64 * 1024);
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut commands_open = true;
    let mut drop_outgoing = 0usize;
    let busy_poll = session.config().busy_poll;
    session.on_connect(now_ns());
    loop {
        // drain outputs: write frames in one go, forward events
        let mut close = false;
        wbuf.clear();
        while let Some(o) = session.poll_output() {
            match o {
                Output::Send(_) if drop_outgoing > 0 => drop_outgoing -= 1,
                Output::Send(f) => wbuf.extend_from_slice(&f),
                Output::Event(e) => {
                    let _ = ev_tx.send(e);
                }
                Output::Disconnect => close = true,
            }
        }
        if !wbuf.is_empty() && wr.write_all(&wbuf).await.is_err() {
            session.on_disconnect(now_ns());
            close = true;
        }
        session.flush_log();
        if close {
            let _ = wr.shutdown().await;
            for o in session.drain_outputs() {
                if let Output::Event(e) = o {
                    let _ = ev_tx.send(e);
                }
            }
            return Ok(session_into_store(session));
        }
        if let Some(spin) = busy_poll {
            // busy-poll: a non-blocking read (and the command queue) until something comes
            // or the budget is spent; then park on epoll as usual
            let until = std::time::Instant::now() + spin;
            let mut handled = false;
            while !handled && std::time::Instant::now() < until {
                match rd.try_read(&mut buf) {
                    Ok(n) if n > 0 => {
                        session.on_bytes(&buf[..n], now_ns());
                        handled = true;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    _ => break, // closed or failed: the select below reports it
                }
                if !handled && commands_open {
                    match cmd_rx.try_recv() {
                        Ok(c) => {
                            apply(&mut session, c, &mut drop_outgoing);
                            handled = true;
                        }
                        Err(mpsc::error::TryRecvError::Disconnected) => commands_open = false,
                        Err(mpsc::error::TryRecvError::Empty) => {}
                    }
                }
                if !handled {
                    tokio::task::yield_now().await;
                }
            }
            if handled {
                continue;
            }
        }
        tokio::select! {
            r = rd.read(&mut buf) => match r {
                Ok(0) | Err(_) => {
                    session.on_disconnect(now_ns());
                    session.flush_log();
                    let _ = ev_tx.send(Event::Disconnected("connection closed by peer".into()));
                    return Ok(session_into_store(session));
                }
                Ok(n) => session.on_bytes(&buf[..n], now_ns()),
            },
            c = cmd_rx.recv(), if commands_open => match c {
                Some(c) => apply(&mut session, c, &mut drop_outgoing),
                None => commands_open = false,
            },
            _ = tick.tick() => session.on_timer(now_ns()),
        }
    }
}

/// Carries out one command of the session's handle.
fn apply<S: MessageStore>(session: &mut Session<S>, c: Command, drop_outgoing: &mut usize) {
    match c {
        Command::Send(m, reply) => {
            let _ = reply.send(session.send(m, now_ns()));
        }
        Command::Logout(text) => session.logout(text.as_deref(), now_ns()),
        Command::DropOutgoing(n) => *drop_outgoing = n,
    }
}

fn session_into_store<S: MessageStore>(session: Session<S>) -> S {
    session.into_store()
}
