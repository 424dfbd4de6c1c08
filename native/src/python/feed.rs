//! Bindings for `crate::feed`: a publisher (`FeedPublisher`) and a subscriber
//! (`FeedSubscriber`) of DBN streams over TCP or UDP multicast. Each runs on
//! its own native thread from construction; `join` waits for it with the GIL
//! released (in slices, so that Ctrl-C reaches Python), and the publisher can
//! be stopped from Python.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyTimeoutError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::book::{integrity_dict, stats_dict, PyL3Book};
use crate::book::{Every, ReplayError, ReplayOptions};
use crate::feed::{
    read_tcp, DropPlan, FeedError, FeedReport, FeedSource, MulticastConfig, PublishOptions,
    PublisherStats, StopFlag, SubscribeOptions, TcpPublisher, UdpPublisher, UdpSubscriber,
};

/// Longest GIL-free wait in `join` before signals are checked.
const JOIN_SLICE: Duration = Duration::from_millis(100);

/// A feed failure kept as text (it may be raised by several `join` calls).
#[derive(Debug, Clone)]
enum Failure {
    NotFound(String),
    TimedOut(String),
    Os(String),
    Value(String),
    Decode(String),
    Refused(String),
}

impl Failure {
    fn of(e: FeedError) -> Failure {
        let msg = e.to_string();
        match e {
            FeedError::Io { source, .. } => match source.kind() {
                std::io::ErrorKind::NotFound => Failure::NotFound(msg),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                    Failure::TimedOut(msg)
                }
                _ => Failure::Os(msg),
            },
            FeedError::BadSource(_)
            | FeedError::MetadataTooLarge { .. }
            | FeedError::RecordTooLarge { .. } => Failure::Value(msg),
            FeedError::Replay(ReplayError::Book { .. }) => Failure::Refused(msg),
            FeedError::Replay(ReplayError::Decode(_)) => Failure::Decode(msg),
        }
    }

    fn into_py(self) -> PyErr {
        match self {
            Failure::NotFound(m) => PyFileNotFoundError::new_err(m),
            Failure::TimedOut(m) => PyTimeoutError::new_err(m),
            Failure::Os(m) => PyOSError::new_err(m),
            Failure::Value(m) => PyValueError::new_err(m),
            Failure::Decode(m) => PyValueError::new_err(("decode", m)),
            Failure::Refused(m) => PyValueError::new_err(("refused", m)),
        }
    }
}

/// A native thread and the channel its one result comes back on.
struct Task<T> {
    rx: Receiver<Result<T, Failure>>,
    handle: Option<JoinHandle<()>>,
    result: Option<Result<T, Failure>>,
}

impl<T: Clone + Send + 'static> Task<T> {
    fn spawn(
        name: &str,
        f: impl FnOnce() -> Result<T, Failure> + Send + 'static,
    ) -> PyResult<Self> {
        let (tx, rx) = channel();
        let handle = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                let _ = tx.send(f());
            })
            .map_err(|e| PyOSError::new_err(format!("starting the {name} thread: {e}")))?;
        Ok(Task {
            rx,
            handle: Some(handle),
            result: None,
        })
    }

    /// The result, waiting up to `wait` for it.
    fn poll(&mut self, wait: Duration) -> Option<Result<T, Failure>> {
        if self.result.is_none() {
            let got = match self.rx.recv_timeout(wait) {
                Ok(r) => Some(r),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => Some(Err(Failure::Os(
                    "the feed thread ended without a result".into(),
                ))),
            };
            if let Some(r) = got {
                if let Some(h) = self.handle.take() {
                    let _ = h.join();
                }
                self.result = Some(r);
            }
        }
        self.result.clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Waits for `task` (GIL released) up to `timeout` seconds (`None`: no limit);
/// `None` if still running.
fn join_task<T: Clone + Send + 'static>(
    py: Python<'_>,
    task: &Mutex<Task<T>>,
    timeout: Option<f64>,
) -> PyResult<Option<T>> {
    let deadline = match timeout {
        Some(t) if !(t >= 0.0 && t.is_finite()) => {
            return Err(PyValueError::new_err(format!(
                "join: timeout must be a non-negative number of seconds, got {t}"
            )))
        }
        Some(t) => Some(Instant::now() + Duration::from_secs_f64(t)),
        None => None,
    };
    loop {
        let slice = deadline.map_or(JOIN_SLICE, |d| {
            d.saturating_duration_since(Instant::now()).min(JOIN_SLICE)
        });
        if let Some(r) = py.detach(|| lock(task).poll(slice)) {
            return r.map(Some).map_err(Failure::into_py);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(None);
        }
        py.check_signals()?;
    }
}

fn seconds(what: &str, s: f64) -> PyResult<Duration> {
    if s.is_finite() && s > 0.0 {
        Ok(Duration::from_secs_f64(s))
    } else {
        Err(PyValueError::new_err(format!(
            "{what} must be a positive number of seconds, got {s}"
        )))
    }
}

fn ipv4(what: &str, s: &str) -> PyResult<Ipv4Addr> {
    s.parse()
        .map_err(|_| PyValueError::new_err(format!("{what} must be an IPv4 address, got {s:?}")))
}

/// The multicast group of a UDP stream: a `224.0.0.0/4` IPv4 address.
fn group_of(s: &str) -> PyResult<Ipv4Addr> {
    let g = ipv4("the multicast group", s)?;
    if !g.is_multicast() {
        return Err(PyValueError::new_err(format!(
            "{g} is not a multicast group (224.0.0.0 to 239.255.255.255; e.g. 239.255.0.1)"
        )));
    }
    Ok(g)
}

fn transport_of(what: &str, t: &str) -> PyResult<bool> {
    match t {
        "tcp" => Ok(false),
        "udp" => Ok(true),
        _ => Err(PyValueError::new_err(format!(
            "{what}: transport must be 'tcp' or 'udp', got {t:?}"
        ))),
    }
}

fn publisher_dict<'py>(py: Python<'py>, s: &PublisherStats) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("records", s.records)?;
    d.set_item("bytes", s.bytes)?;
    d.set_item("sends", s.sends)?;
    d.set_item("stalls", s.stalls)?;
    d.set_item("blocked_ns", s.blocked_ns)?;
    d.set_item("max_stall_ns", s.max_stall_ns)?;
    d.set_item("max_pending_bytes", s.max_pending_bytes)?;
    d.set_item("send_buffer_bytes", s.send_buffer_bytes)?;
    d.set_item("dropped_by_plan", s.dropped_by_plan)?;
    d.set_item("send_errors", s.send_errors)?;
    d.set_item("max_lag_ns", s.max_lag_ns)?;
    d.set_item("elapsed_ns", s.elapsed_ns)?;
    d.set_item("stopped", s.stopped)?;
    Ok(d)
}

/// Replays a DBN file to one TCP client or to a multicast group, on a native thread.
#[pyclass(module = "workbench_native._native", name = "FeedPublisher")]
struct PyFeedPublisher {
    stop: StopFlag,
    host: String,
    port: u16,
    udp: bool,
    task: Mutex<Task<PublisherStats>>,
}

#[pymethods]
impl PyFeedPublisher {
    #[new]
    #[pyo3(signature = (
        path, *, transport="tcp", host="127.0.0.1", port=0, speed=0.0, max_rate=0.0,
        repeat=1, chunk=None, timeout=10.0, interface="127.0.0.1", ttl=0, drop_every=0,
        drop_seqs=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        path: &str,
        transport: &str,
        host: &str,
        port: u16,
        speed: f64,
        max_rate: f64,
        repeat: u32,
        chunk: Option<usize>,
        timeout: f64,
        interface: &str,
        ttl: u32,
        drop_every: u64,
        drop_seqs: Option<Vec<u64>>,
    ) -> PyResult<Self> {
        let udp = transport_of("FeedPublisher", transport)?;
        if speed.is_nan() || max_rate.is_nan() || max_rate < 0.0 {
            return Err(PyValueError::new_err(format!(
                "FeedPublisher: speed must be a number (0 = as fast as possible) and max_rate \
                 a number >= 0, got speed={speed}, max_rate={max_rate}"
            )));
        }
        if repeat == 0 {
            return Err(PyValueError::new_err(
                "FeedPublisher: repeat must be at least 1",
            ));
        }
        let drops = match (drop_every, drop_seqs) {
            (0, None) => DropPlan::None,
            (n, None) => DropPlan::EveryNth(n),
            (0, Some(v)) => DropPlan::Seqs(v),
            _ => {
                return Err(PyValueError::new_err(
                    "FeedPublisher: give drop_every or drop_seqs, not both",
                ))
            }
        };
        if !udp && drops != DropPlan::None {
            return Err(PyValueError::new_err(
                "FeedPublisher: drop_every/drop_seqs withhold UDP datagrams; TCP cannot drop",
            ));
        }
        let stop = StopFlag::new();
        let mut opts = PublishOptions {
            speed,
            max_rate,
            repeat,
            timeout: seconds("FeedPublisher: timeout", timeout)?,
            stop: stop.clone(),
            ..PublishOptions::default()
        };
        if let Some(c) = chunk {
            opts.chunk = c;
        }
        let src = py
            .detach(|| FeedSource::from_file(path))
            .map_err(|e| match Failure::of(e) {
                Failure::NotFound(m) => PyFileNotFoundError::new_err((2, m, path.to_string())),
                Failure::Value(m) => PyValueError::new_err(format!("{path}: {m}")),
                f => f.into_py(),
            })?;
        if udp {
            let cfg = MulticastConfig {
                group: group_of(host)?,
                port,
                interface: ipv4("the interface", interface)?,
                ttl,
                ..MulticastConfig::default()
            };
            if port == 0 {
                return Err(PyValueError::new_err(
                    "FeedPublisher: a multicast stream needs a port (1..65535), got 0",
                ));
            }
            let publisher = UdpPublisher::new(&cfg).map_err(|e| Failure::of(e).into_py())?;
            let task = Task::spawn("feed-publish-udp", move || {
                publisher.publish(&src, &opts, &drops).map_err(Failure::of)
            })?;
            return Ok(PyFeedPublisher {
                stop,
                host: cfg.group.to_string(),
                port,
                udp,
                task: Mutex::new(task),
            });
        }
        let server = TcpPublisher::bind((host, port)).map_err(|e| Failure::of(e).into_py())?;
        let addr = server.local_addr().map_err(|e| Failure::of(e).into_py())?;
        let task = Task::spawn("feed-publish-tcp", move || {
            match server.accept_or_stop(opts.timeout, &opts.stop) {
                Ok(stream) => crate::feed::publish_tcp(stream, &src, &opts).map_err(Failure::of),
                Err(_) if opts.stop.is_set() => Ok(PublisherStats {
                    stopped: true,
                    ..PublisherStats::default()
                }),
                Err(e) => Err(Failure::of(e)),
            }
        })?;
        Ok(PyFeedPublisher {
            stop,
            host: addr.ip().to_string(),
            port: addr.port(),
            udp,
            task: Mutex::new(task),
        })
    }

    /// `(host, port)`: the TCP listener (a free port when 0 was asked) or the multicast group.
    #[getter]
    fn address(&self) -> (String, u16) {
        (self.host.clone(), self.port)
    }

    #[getter]
    fn transport(&self) -> &'static str {
        if self.udp {
            "udp"
        } else {
            "tcp"
        }
    }

    #[getter]
    fn running(&self) -> bool {
        lock(&self.task).poll(Duration::ZERO).is_none()
    }

    fn stop(&self) {
        self.stop.stop();
    }

    #[pyo3(signature = (timeout=None))]
    fn join<'py>(
        &self,
        py: Python<'py>,
        timeout: Option<f64>,
    ) -> PyResult<Option<Bound<'py, PyDict>>> {
        match join_task(py, &self.task, timeout)? {
            Some(st) => Ok(Some(publisher_dict(py, &st)?)),
            None => Ok(None),
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "FeedPublisher(transport={:?}, address=({:?}, {}))",
            self.transport(),
            self.host,
            self.port
        )
    }
}

impl Drop for PyFeedPublisher {
    fn drop(&mut self) {
        // A publisher nobody holds any more stops (its thread ends on its own).
        self.stop.stop();
    }
}

/// Connects to a TCP publisher, retrying while it refuses (not yet listening)
/// until `timeout`.
fn connect(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, FeedError> {
    let deadline = Instant::now() + timeout;
    loop {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => return Ok(s),
            Err(e)
                if e.kind() == std::io::ErrorKind::ConnectionRefused
                    && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(source) => {
                return Err(FeedError::Io {
                    context: "connecting to the TCP publisher",
                    source,
                })
            }
        }
    }
}

/// Reads a DBN stream (TCP or UDP multicast) into the books on a native thread.
#[pyclass(module = "workbench_native._native", name = "FeedSubscriber")]
struct PyFeedSubscriber {
    udp: bool,
    recv_buffer_bytes: usize,
    task: Mutex<Task<Arc<FeedReport>>>,
}

#[pymethods]
impl PyFeedSubscriber {
    #[new]
    #[pyo3(signature = (
        *, port, transport="tcp", host="127.0.0.1", timeout=5.0, interface="127.0.0.1",
        recv_buffer=16_777_216, stop_on_gap=false, instrument_id=None, strict=false
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        port: u16,
        transport: &str,
        host: &str,
        timeout: f64,
        interface: &str,
        recv_buffer: usize,
        stop_on_gap: bool,
        instrument_id: Option<u32>,
        strict: bool,
    ) -> PyResult<Self> {
        let udp = transport_of("FeedSubscriber", transport)?;
        if port == 0 {
            return Err(PyValueError::new_err(
                "FeedSubscriber: the port of the stream is needed (1..65535), got 0",
            ));
        }
        let opts = SubscribeOptions {
            replay: ReplayOptions {
                every: Every::Never,
                instrument_id,
                strict,
                decompress_in_thread: false,
                ..ReplayOptions::default()
            },
            timeout: seconds("FeedSubscriber: timeout", timeout)?,
            stop_on_gap,
        };
        if udp {
            let cfg = MulticastConfig {
                group: group_of(host)?,
                port,
                interface: ipv4("the interface", interface)?,
                recv_buffer,
                ..MulticastConfig::default()
            };
            let mut sub = UdpSubscriber::join(&cfg).map_err(|e| Failure::of(e).into_py())?;
            let granted = sub.recv_buffer_bytes();
            let task = Task::spawn("feed-subscribe-udp", move || {
                sub.run(&opts, |_| {}).map(Arc::new).map_err(Failure::of)
            })?;
            return Ok(PyFeedSubscriber {
                udp,
                recv_buffer_bytes: granted,
                task: Mutex::new(task),
            });
        }
        let addr = (host, port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .unwrap_or(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0));
        if addr.port() == 0 {
            return Err(PyValueError::new_err(format!(
                "FeedSubscriber: cannot resolve {host:?}:{port}"
            )));
        }
        let task = Task::spawn("feed-subscribe-tcp", move || {
            let stream = connect(addr, opts.timeout).map_err(Failure::of)?;
            read_tcp(stream, &opts, |_| {})
                .map(Arc::new)
                .map_err(Failure::of)
        })?;
        Ok(PyFeedSubscriber {
            udp,
            recv_buffer_bytes: 0,
            task: Mutex::new(task),
        })
    }

    #[getter]
    fn transport(&self) -> &'static str {
        if self.udp {
            "udp"
        } else {
            "tcp"
        }
    }

    #[getter]
    fn running(&self) -> bool {
        lock(&self.task).poll(Duration::ZERO).is_none()
    }

    #[pyo3(signature = (timeout=None))]
    fn join<'py>(
        &self,
        py: Python<'py>,
        timeout: Option<f64>,
    ) -> PyResult<Option<(Bound<'py, PyDict>, Bound<'py, PyDict>)>> {
        let Some(rep) = join_task(py, &self.task, timeout)? else {
            return Ok(None);
        };
        let s = &rep.stats;
        let d = PyDict::new(py);
        d.set_item("transport", self.transport())?;
        d.set_item("records", s.records)?;
        d.set_item("bytes", s.bytes)?;
        d.set_item("datagrams", s.datagrams)?;
        d.set_item("gaps", s.gaps)?;
        d.set_item("missing_datagrams", s.missing_datagrams)?;
        d.set_item("first_missing_seq", s.first_missing_seq)?;
        d.set_item("gap_ranges", s.gap_ranges.clone())?;
        d.set_item("late_datagrams", s.late_datagrams)?;
        d.set_item("malformed_datagrams", s.malformed_datagrams)?;
        d.set_item("next_seq", s.next_seq)?;
        d.set_item("records_published", s.records_published)?;
        d.set_item("max_lag_ns", s.max_lag_ns)?;
        d.set_item("end_seen", s.end_seen)?;
        d.set_item("timed_out", s.timed_out)?;
        d.set_item("stopped_on_gap", s.stopped_on_gap)?;
        d.set_item("elapsed_ns", s.elapsed_ns)?;
        d.set_item("complete", s.complete())?;
        d.set_item("recv_buffer_bytes", self.recv_buffer_bytes)?;
        d.set_item("dataset", rep.metadata.as_ref().map(|m| m.dataset.clone()))?;
        d.set_item("replay", stats_dict(py, &rep.replayer.stats())?)?;
        d.set_item("integrity", integrity_dict(py, &rep.replayer.integrity())?)?;
        let books = PyDict::new(py);
        for (id, b) in rep.replayer.market().iter() {
            books.set_item(id, Py::new(py, PyL3Book(b.clone()))?)?;
        }
        Ok(Some((d, books)))
    }

    fn __repr__(&self) -> String {
        format!("FeedSubscriber(transport={:?})", self.transport())
    }
}

/// Add this domain's names to the module.
pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyFeedPublisher>()?;
    m.add_class::<PyFeedSubscriber>()?;
    Ok(())
}
