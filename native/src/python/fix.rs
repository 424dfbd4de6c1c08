//! Bindings for the FIX engine (cargo feature `fix`): `FixExchange` (the simulated exchange
//! behind a FIX 4.4 acceptor, in a background thread with its own tokio runtime) and
//! `FixInitiator` (a blocking initiator: orders, cancels, replaces, reports as `FixReport`).
//! Every blocking call releases the GIL.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::exceptions::{
    PyConnectionError, PyFileNotFoundError, PyOSError, PyRuntimeError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::exchange::{Fees, QueueModel};
use crate::fix::client::{ClientError, Initiator};
use crate::fix::codec::{parse_utc_timestamp, Decoder, Message, TimePrecision};
use crate::fix::data_dictionary::Dictionary;
use crate::fix::dictionary_xml::{self, DictionaryError};
use crate::fix::exchange_app::parse_price;
use crate::fix::gateway::{
    AnyStore, Feed, Gateway, GatewayConfig, GatewayError, GatewayStats, Pace, StoreChoice,
};
use crate::fix::net::now_ns;
use crate::fix::session::{Event, Role, SessionConfig};
use crate::fix::store::{FileStore, MemoryStore, MessageStore};
use crate::fix::tags::{self, msg_type as mt};

fn gateway_err(e: GatewayError) -> PyErr {
    match &e {
        GatewayError::Feed { why, .. } if why == "no such file" => {
            PyFileNotFoundError::new_err(e.to_string())
        }
        GatewayError::Io { .. } => PyOSError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

fn client_err(e: ClientError) -> PyErr {
    match e {
        ClientError::Connect { .. } => PyOSError::new_err(e.to_string()),
        ClientError::Logon(_) => PyConnectionError::new_err(e.to_string()),
        ClientError::Log(_) => PyOSError::new_err(e.to_string()),
        _ => PyRuntimeError::new_err(e.to_string()),
    }
}

fn dictionary_err(e: DictionaryError) -> PyErr {
    match &e {
        DictionaryError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            PyFileNotFoundError::new_err(e.to_string())
        }
        DictionaryError::Io { .. } => PyOSError::new_err(e.to_string()),
        DictionaryError::Invalid { .. } => PyValueError::new_err(e.to_string()),
    }
}

fn load_dictionary(path: Option<&Path>) -> PyResult<Option<Arc<Dictionary>>> {
    path.map(|p| {
        dictionary_xml::load(p)
            .map(Arc::new)
            .map_err(dictionary_err)
    })
    .transpose()
}

/// Writes the built-in FIX 4.4 data dictionary in QuickFIX's XML format.
#[pyfunction]
fn fix_write_dictionary(path: PathBuf) -> PyResult<()> {
    dictionary_xml::write(Dictionary::builtin(), &path).map_err(dictionary_err)
}

/// Decodes one FIX frame (BeginString, BodyLength and CheckSum checked) into (tag, value).
#[pyfunction]
fn fix_decode(frame: &[u8]) -> PyResult<Vec<(u32, String)>> {
    let mut dec = Decoder::new();
    let v = dec
        .decode(frame)
        .map_err(|e| PyValueError::new_err(format!("not a FIX message: {e}")))?;
    Ok((0..v.len())
        .filter_map(|i| v.field(i))
        .map(|(t, val)| (t, String::from_utf8_lossy(val).into_owned()))
        .collect())
}

fn resolve(host: &str, port: u16) -> PyResult<SocketAddr> {
    (host, port)
        .to_socket_addrs()
        .map_err(|e| PyValueError::new_err(format!("host {host:?}: {e}")))?
        .next()
        .ok_or_else(|| PyValueError::new_err(format!("host {host:?} has no address")))
}

fn precision(p: &str) -> PyResult<TimePrecision> {
    match p {
        "s" => Ok(TimePrecision::Seconds),
        "ms" => Ok(TimePrecision::Millis),
        "us" => Ok(TimePrecision::Micros),
        "ns" => Ok(TimePrecision::Nanos),
        _ => Err(PyValueError::new_err(format!(
            "timestamp_precision must be 's', 'ms', 'us' or 'ns', got {p:?}"
        ))),
    }
}

/// A price given as `str`, `int` or `float`, as the decimal string FIX carries; checked.
fn price_text(what: &str, v: &Bound<'_, PyAny>) -> PyResult<String> {
    let s = if let Ok(s) = v.extract::<String>() {
        s
    } else if let Ok(i) = v.extract::<i64>() {
        i.to_string()
    } else if let Ok(f) = v.extract::<f64>() {
        if !f.is_finite() {
            return Err(PyValueError::new_err(format!(
                "{what} must be finite, got {f}"
            )));
        }
        format!("{f}")
    } else {
        return Err(PyValueError::new_err(format!(
            "{what} must be a str, int or float"
        )));
    };
    if parse_price(s.as_bytes()).is_none() {
        return Err(PyValueError::new_err(format!(
            "{what} {s:?} is not a decimal price with at most 9 decimals"
        )));
    }
    Ok(s)
}

fn stats_dict<'py>(py: Python<'py>, s: &GatewayStats) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("connections", s.connections)?;
    d.set_item("refused", s.refused)?;
    d.set_item("logons", s.logons)?;
    d.set_item("logged_on", s.logged_on)?;
    d.set_item("session_rejects", s.session_rejects)?;
    d.set_item("orders", s.app.orders)?;
    d.set_item("cancels", s.app.cancels)?;
    d.set_item("replaces", s.app.replaces)?;
    d.set_item("execution_reports", s.app.execution_reports)?;
    d.set_item("fills", s.app.fills)?;
    d.set_item("rejects", s.app.rejects)?;
    d.set_item("cancel_rejects", s.app.cancel_rejects)?;
    d.set_item("business_rejects", s.app.business_rejects)?;
    d.set_item("status_requests", s.app.status_requests)?;
    d.set_item("records_total", s.records_total)?;
    d.set_item("records_replayed", s.records_replayed)?;
    d.set_item("feed_time_ns", s.feed_time_ns)?;
    d.set_item("next_sender_seq", s.next_sender_seq)?;
    d.set_item("next_target_seq", s.next_target_seq)?;
    Ok(d)
}

/// The simulated exchange behind a FIX 4.4 acceptor; see the stub for the arguments.
#[pyclass(module = "workbench_native._native", name = "FixExchange")]
pub struct PyFixExchange {
    gw: Mutex<Option<Gateway>>,
    /// The counters at `stop()`.
    last: Mutex<GatewayStats>,
    addr: SocketAddr,
    symbol: String,
    instrument_id: u32,
}

#[pymethods]
impl PyFixExchange {
    #[new]
    #[pyo3(signature = (
        feed, *, host="127.0.0.1", port=9878, sender_comp_id="EXCH", target_comp_id="CLIENT",
        heartbeat=30, store_dir=None, reset_on_logon=false, validate=true, speed=None,
        hold_at_ns=None, instrument_id=None, symbol=None, tick=None, queue="conservative",
        maker_fee=0.0, taker_fee=0.0, seed=0, timestamp_precision="ms", log_dir=None,
        dictionary_path=None, busy_poll_us=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        feed: PathBuf,
        host: &str,
        port: u16,
        sender_comp_id: &str,
        target_comp_id: &str,
        heartbeat: u32,
        store_dir: Option<PathBuf>,
        reset_on_logon: bool,
        validate: bool,
        speed: Option<&Bound<'_, PyAny>>,
        hold_at_ns: Option<u64>,
        instrument_id: Option<u32>,
        symbol: Option<String>,
        tick: Option<&Bound<'_, PyAny>>,
        queue: &str,
        maker_fee: f64,
        taker_fee: f64,
        seed: u64,
        timestamp_precision: &str,
        log_dir: Option<PathBuf>,
        dictionary_path: Option<PathBuf>,
        busy_poll_us: Option<u64>,
    ) -> PyResult<Self> {
        let mut cfg = GatewayConfig::new(resolve(host, port)?);
        cfg.busy_poll = busy_poll(busy_poll_us);
        cfg.log_dir = log_dir;
        cfg.dictionary = load_dictionary(dictionary_path.as_deref())?;
        cfg.sender_comp_id = sender_comp_id.to_string();
        cfg.target_comp_id = target_comp_id.to_string();
        cfg.heartbeat_interval = heartbeat;
        cfg.store = store_dir.map_or(StoreChoice::Memory, StoreChoice::File);
        cfg.reset_on_logon = reset_on_logon;
        cfg.validate = validate;
        cfg.timestamp_precision = precision(timestamp_precision)?;
        cfg.pace = match (speed, hold_at_ns) {
            (Some(_), Some(_)) => {
                return Err(PyValueError::new_err("give speed or hold_at_ns, not both"))
            }
            (None, Some(t)) => Pace::HoldAt(t),
            (None, None) => Pace::Speed(1.0),
            (Some(s), None) => {
                if let Ok(text) = s.extract::<String>() {
                    match text.as_str() {
                        "max" => Pace::Max,
                        "driven" => Pace::Driven,
                        _ => {
                            return Err(PyValueError::new_err(format!(
                                "speed must be a positive number, 'max' or 'driven', got {text:?}"
                            )))
                        }
                    }
                } else {
                    Pace::Speed(s.extract::<f64>()?)
                }
            }
        };
        if let Some(t) = tick {
            let text = price_text("tick", t)?;
            cfg.tick = parse_price(text.as_bytes()).unwrap_or(0);
        }
        cfg.queue = match queue {
            "conservative" => QueueModel::Conservative,
            "l3_known" => QueueModel::L3Known,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "queue must be 'conservative' or 'l3_known', got {queue:?}"
                )))
            }
        };
        cfg.fees = Fees::from_usd(maker_fee, taker_fee);
        cfg.seed = seed;
        let gw = py
            .detach(|| {
                let f = Feed::from_file(&feed, instrument_id, symbol.as_deref())?;
                Gateway::start(cfg, f)
            })
            .map_err(gateway_err)?;
        let (addr, symbol) = (gw.local_addr(), gw.symbol().to_string());
        let instrument_id = gw.instrument_id();
        Ok(Self {
            gw: Mutex::new(Some(gw)),
            last: Mutex::new(GatewayStats::default()),
            addr,
            symbol,
            instrument_id,
        })
    }

    /// The TCP port it listens on.
    #[getter]
    fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The address it listens on.
    #[getter]
    fn host(&self) -> String {
        self.addr.ip().to_string()
    }

    /// The Symbol (55) orders must carry.
    #[getter]
    fn symbol(&self) -> String {
        self.symbol.clone()
    }

    /// The instrument id it trades (from the feed).
    #[getter]
    fn instrument_id(&self) -> u32 {
        self.instrument_id
    }

    /// Whether it is serving (not stopped).
    #[getter]
    fn running(&self) -> bool {
        self.gw
            .lock()
            .map(|g| g.as_ref().is_some_and(|g| !g.is_finished()))
            .unwrap_or(false)
    }

    /// Counters: connections, logons, orders, fills, rejects, feed progress, sequence numbers.
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self
            .gw
            .lock()
            .map_err(|_| PyRuntimeError::new_err("FixExchange lock poisoned"))?
            .as_ref()
            .map(Gateway::stats);
        let s = match s {
            Some(s) => s,
            None => *self
                .last
                .lock()
                .map_err(|_| PyRuntimeError::new_err("FixExchange lock poisoned"))?,
        };
        stats_dict(py, &s)
    }

    /// Logs a connected client out and stops serving (idempotent).
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        let gw = self
            .gw
            .lock()
            .map_err(|_| PyRuntimeError::new_err("FixExchange lock poisoned"))?
            .take();
        if let Some(mut g) = gw {
            let r = py.detach(|| g.stop());
            if let Ok(mut last) = self.last.lock() {
                *last = g.stats();
            }
            r.map_err(gateway_err)?;
        }
        Ok(())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.stop(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        format!(
            "FixExchange(host={:?}, port={}, symbol={:?}, instrument_id={}, running={})",
            self.addr.ip().to_string(),
            self.addr.port(),
            self.symbol,
            self.instrument_id,
            if self.running() { "True" } else { "False" }
        )
    }
}

/// One application message received by a `FixInitiator`, typed.
#[pyclass(
    module = "workbench_native._native",
    name = "FixReport",
    frozen,
    get_all
)]
#[derive(Debug, Clone)]
pub struct PyFixReport {
    /// MsgType (35): "8", "9", "j" or "3".
    msg_type: String,
    /// "new", "partial_fill", "fill", "canceled", "replaced", "rejected", "expired",
    /// "restated", "cancel_reject", "business_reject", "session_reject" or "other".
    kind: String,
    seq_num: u64,
    cl_ord_id: Option<String>,
    orig_cl_ord_id: Option<String>,
    order_id: Option<String>,
    exec_id: Option<String>,
    exec_type: Option<String>,
    ord_status: Option<String>,
    symbol: Option<String>,
    side: Option<String>,
    order_qty: Option<i64>,
    price: Option<f64>,
    last_qty: Option<i64>,
    last_px: Option<f64>,
    cum_qty: Option<i64>,
    leaves_qty: Option<i64>,
    avg_px: Option<f64>,
    ord_rej_reason: Option<i64>,
    cxl_rej_reason: Option<i64>,
    business_reject_reason: Option<i64>,
    text: Option<String>,
    transact_time_ns: Option<i64>,
    /// LastLiquidityInd (851): 1 added liquidity (maker), 2 removed it (taker).
    last_liquidity_ind: Option<i64>,
    /// MiscFeeAmt (137) of the first fee, the fill's fee.
    misc_fee_amt: Option<f64>,
    /// PossDupFlag (43): a resend of a message sent before.
    poss_dup: bool,
    /// The request id echoed: OrdStatusReqID (790) or ReplayReqID (5000).
    req_id: Option<String>,
    /// ReplayStatus (35=U2): whether the requested feed time was reached (5002).
    replay_reached: Option<bool>,
    /// ReplayStatus: the next feed record's time (5004), None at the end of the feed.
    replay_next_ns: Option<i64>,
    /// Every field, tag to value, in message order (header included).
    fields: Vec<(u32, String)>,
}

fn px(m: &Message, tag: u32) -> Option<f64> {
    parse_price(m.get(tag)?).map(|v| v as f64 / 1e9)
}

impl PyFixReport {
    fn from_message(m: &Message) -> Self {
        let s = |t| m.get_str(t).map(str::to_string);
        let i = |t| m.get_int(t);
        let msg_type = String::from_utf8_lossy(m.msg_type()).into_owned();
        let kind = match (msg_type.as_str(), m.get(tags::EXEC_TYPE)) {
            ("8", Some(b"0")) => "new",
            ("8", Some(b"F")) if m.get(tags::ORD_STATUS) == Some(b"2") => "fill",
            ("8", Some(b"F" | b"1" | b"2")) => "partial_fill",
            ("8", Some(b"4")) => "canceled",
            ("8", Some(b"5")) => "replaced",
            ("8", Some(b"8")) => "rejected",
            ("8", Some(b"C")) => "expired",
            ("8", Some(b"D")) => "restated",
            ("8", Some(b"I")) => "status",
            ("U2", _) => "replay_status",
            ("9", _) => "cancel_reject",
            ("j", _) => "business_reject",
            ("3", _) => "session_reject",
            _ => "other",
        }
        .to_string();
        Self {
            msg_type,
            kind,
            seq_num: m.seq_num().unwrap_or(0),
            cl_ord_id: s(tags::CL_ORD_ID),
            orig_cl_ord_id: s(tags::ORIG_CL_ORD_ID),
            order_id: s(tags::ORDER_ID),
            exec_id: s(tags::EXEC_ID),
            exec_type: s(tags::EXEC_TYPE),
            ord_status: s(tags::ORD_STATUS),
            symbol: s(tags::SYMBOL),
            side: m.get(tags::SIDE).map(|v| {
                match v {
                    b"1" => "buy",
                    b"2" => "sell",
                    _ => "other",
                }
                .to_string()
            }),
            order_qty: i(tags::ORDER_QTY),
            price: px(m, tags::PRICE),
            last_qty: i(tags::LAST_QTY),
            last_px: px(m, tags::LAST_PX),
            cum_qty: i(tags::CUM_QTY),
            leaves_qty: i(tags::LEAVES_QTY),
            avg_px: px(m, tags::AVG_PX),
            ord_rej_reason: i(tags::ORD_REJ_REASON),
            cxl_rej_reason: i(tags::CXL_REJ_REASON),
            business_reject_reason: i(tags::BUSINESS_REJECT_REASON),
            text: s(tags::TEXT),
            transact_time_ns: m.get(tags::TRANSACT_TIME).and_then(parse_utc_timestamp),
            last_liquidity_ind: i(tags::LAST_LIQUIDITY_IND),
            misc_fee_amt: px(m, tags::MISC_FEE_AMT),
            poss_dup: m.get(tags::POSS_DUP_FLAG) == Some(b"Y"),
            req_id: s(tags::ORD_STATUS_REQ_ID).or_else(|| s(tags::REPLAY_REQ_ID)),
            replay_reached: m.get(tags::REPLAY_REACHED).map(|v| v == b"Y"),
            replay_next_ns: i(tags::REPLAY_NEXT_TIME),
            fields: m
                .iter()
                .map(|(t, v)| (t, String::from_utf8_lossy(v).into_owned()))
                .collect(),
        }
    }
}

#[pymethods]
impl PyFixReport {
    /// The report as a plain dict (every attribute; `fields` as a tag -> value dict).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("msg_type", &self.msg_type)?;
        d.set_item("kind", &self.kind)?;
        d.set_item("seq_num", self.seq_num)?;
        d.set_item("cl_ord_id", &self.cl_ord_id)?;
        d.set_item("orig_cl_ord_id", &self.orig_cl_ord_id)?;
        d.set_item("order_id", &self.order_id)?;
        d.set_item("exec_id", &self.exec_id)?;
        d.set_item("exec_type", &self.exec_type)?;
        d.set_item("ord_status", &self.ord_status)?;
        d.set_item("symbol", &self.symbol)?;
        d.set_item("side", &self.side)?;
        d.set_item("order_qty", self.order_qty)?;
        d.set_item("price", self.price)?;
        d.set_item("last_qty", self.last_qty)?;
        d.set_item("last_px", self.last_px)?;
        d.set_item("cum_qty", self.cum_qty)?;
        d.set_item("leaves_qty", self.leaves_qty)?;
        d.set_item("avg_px", self.avg_px)?;
        d.set_item("ord_rej_reason", self.ord_rej_reason)?;
        d.set_item("cxl_rej_reason", self.cxl_rej_reason)?;
        d.set_item("business_reject_reason", self.business_reject_reason)?;
        d.set_item("text", &self.text)?;
        d.set_item("transact_time_ns", self.transact_time_ns)?;
        d.set_item("last_liquidity_ind", self.last_liquidity_ind)?;
        d.set_item("misc_fee_amt", self.misc_fee_amt)?;
        d.set_item("poss_dup", self.poss_dup)?;
        d.set_item("req_id", &self.req_id)?;
        d.set_item("replay_reached", self.replay_reached)?;
        d.set_item("replay_next_ns", self.replay_next_ns)?;
        let f = PyDict::new(py);
        for (t, v) in &self.fields {
            f.set_item(t, v)?;
        }
        d.set_item("fields", f)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        fn o<T: std::fmt::Debug>(v: &Option<T>) -> String {
            v.as_ref().map_or("None".into(), |x| format!("{x:?}"))
        }
        format!(
            "FixReport(kind={:?}, cl_ord_id={}, ord_status={}, last_qty={}, last_px={}, \
             cum_qty={}, leaves_qty={}, text={})",
            self.kind,
            o(&self.cl_ord_id),
            o(&self.ord_status),
            o(&self.last_qty),
            o(&self.last_px),
            o(&self.cum_qty),
            o(&self.leaves_qty),
            o(&self.text)
        )
    }
}

fn side_code(side: &str) -> PyResult<&'static str> {
    match side {
        "buy" | "BUY" | "1" => Ok("1"),
        "sell" | "SELL" | "2" => Ok("2"),
        _ => Err(PyValueError::new_err(format!(
            "side must be 'buy' or 'sell', got {side:?}"
        ))),
    }
}

fn ord_type_code(t: &str) -> PyResult<&'static str> {
    match t {
        "market" | "1" => Ok("1"),
        "limit" | "2" => Ok("2"),
        "stop" | "3" => Ok("3"),
        "stop_limit" | "4" => Ok("4"),
        _ => Err(PyValueError::new_err(format!(
            "order_type must be 'market', 'limit', 'stop' or 'stop_limit', got {t:?}"
        ))),
    }
}

fn tif_code(t: &str) -> PyResult<&'static str> {
    match t {
        "day" | "0" => Ok("0"),
        "gtc" | "1" => Ok("1"),
        "ioc" | "3" => Ok("3"),
        _ => Err(PyValueError::new_err(format!(
            "tif must be 'day', 'gtc' or 'ioc', got {t:?}"
        ))),
    }
}

/// `busy_poll_us` as the configs take it: `None` or 0 parks at once.
fn busy_poll(us: Option<u64>) -> Option<Duration> {
    us.filter(|&u| u > 0).map(Duration::from_micros)
}

/// Sets the store's next expected MsgSeqNum back to `seq` (1 up to the store's own).
fn rewind_target(store: &mut AnyStore, seq: u64) -> PyResult<()> {
    let (now, set) = match store {
        AnyStore::Memory(m) => (m.next_target_seq(), m as &mut dyn MessageStore),
        AnyStore::File(f) => (f.next_target_seq(), f as &mut dyn MessageStore),
    };
    if seq == 0 || seq > now {
        return Err(PyValueError::new_err(format!(
            "next_target_seq must be 1 to {now} (the store's next expected), got {seq}"
        )));
    }
    set.set_next_target_seq(seq)
        .map_err(|e| PyOSError::new_err(format!("rewinding the store: {e}")))
}

/// A blocking FIX 4.4 initiator; see the stub for the arguments.
#[pyclass(module = "workbench_native._native", name = "FixInitiator")]
pub struct PyFixInitiator {
    inner: Mutex<Option<Initiator>>,
    addr: SocketAddr,
    cfg: SessionConfig,
    store_dir: Option<PathBuf>,
    symbol: String,
    timeout: f64,
}

impl PyFixInitiator {
    fn with<R>(&self, py: Python<'_>, f: impl FnOnce(&mut Initiator) -> R + Send) -> PyResult<R>
    where
        R: Send,
    {
        let mut g = self
            .inner
            .lock()
            .map_err(|_| PyRuntimeError::new_err("FixInitiator lock poisoned"))?;
        let ini = g
            .as_mut()
            .ok_or_else(|| PyRuntimeError::new_err("not connected: call connect() first"))?;
        Ok(py.detach(|| f(ini)))
    }

    fn send(&self, py: Python<'_>, m: Message) -> PyResult<u64> {
        self.with(py, |i| i.send(m))?.map_err(client_err)
    }

    fn base(
        &self,
        ty: &[u8],
        cl_ord_id: &str,
        side: &str,
        symbol: Option<&str>,
    ) -> PyResult<Message> {
        if cl_ord_id.is_empty() || cl_ord_id.contains('\u{1}') {
            return Err(PyValueError::new_err(
                "cl_ord_id must be a non-empty string without SOH",
            ));
        }
        let mut m = Message::of_type(ty);
        m.push(tags::CL_ORD_ID, cl_ord_id)
            .push(tags::SYMBOL, symbol.unwrap_or(&self.symbol))
            .push(tags::SIDE, side_code(side)?)
            .set_timestamp(tags::TRANSACT_TIME, now_ns(), TimePrecision::Millis);
        Ok(m)
    }
}

#[pymethods]
impl PyFixInitiator {
    #[new]
    #[pyo3(signature = (
        *, port, host="127.0.0.1", sender_comp_id="CLIENT", target_comp_id="EXCH",
        heartbeat=30, symbol="", store_dir=None, reset_on_logon=true, validate=true,
        timeout=10.0, log_dir=None, dictionary_path=None, busy_poll_us=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        port: u16,
        host: &str,
        sender_comp_id: &str,
        target_comp_id: &str,
        heartbeat: u32,
        symbol: &str,
        store_dir: Option<PathBuf>,
        reset_on_logon: bool,
        validate: bool,
        timeout: f64,
        log_dir: Option<PathBuf>,
        dictionary_path: Option<PathBuf>,
        busy_poll_us: Option<u64>,
    ) -> PyResult<Self> {
        if !(timeout.is_finite() && timeout > 0.0) {
            return Err(PyValueError::new_err(
                "timeout must be a positive number of seconds",
            ));
        }
        let mut cfg = SessionConfig::new(Role::Initiator, sender_comp_id, target_comp_id);
        cfg.heartbeat_interval = heartbeat;
        cfg.reset_on_logon = reset_on_logon;
        cfg.validate = validate;
        cfg.busy_poll = busy_poll(busy_poll_us);
        cfg.log_dir = log_dir;
        cfg.dictionary = load_dictionary(dictionary_path.as_deref())?;
        Ok(Self {
            inner: Mutex::new(None),
            addr: resolve(host, port)?,
            cfg,
            store_dir,
            symbol: symbol.to_string(),
            timeout,
        })
    }

    /// Connects and logs on (blocks until the Logon answer, or raises). `next_target_seq`:
    /// expect this MsgSeqNum next (at most the store's), so what came from there on is asked
    /// again by a ResendRequest (a restarted client that lost messages it had received).
    #[pyo3(signature = (next_target_seq=None))]
    fn connect(&self, py: Python<'_>, next_target_seq: Option<u64>) -> PyResult<()> {
        let mut g = self
            .inner
            .lock()
            .map_err(|_| PyRuntimeError::new_err("FixInitiator lock poisoned"))?;
        if g.as_ref().is_some_and(Initiator::is_logged_on) {
            return Ok(());
        }
        let (addr, cfg, dir) = (self.addr, self.cfg.clone(), self.store_dir.clone());
        let timeout = Duration::from_secs_f64(self.timeout);
        let ini = py.detach(move || -> PyResult<Initiator> {
            let now = now_ns();
            let mut store = match dir {
                None => AnyStore::Memory(MemoryStore::new(now)),
                Some(d) => {
                    let prefix = format!("FIX.4.4-{}-{}", cfg.sender_comp_id, cfg.target_comp_id);
                    AnyStore::File(FileStore::open(&d, &prefix, now).map_err(|e| {
                        PyOSError::new_err(format!("opening the store in {}: {e}", d.display()))
                    })?)
                }
            };
            if let Some(seq) = next_target_seq {
                rewind_target(&mut store, seq)?;
            }
            Initiator::connect(addr, cfg, store, timeout).map_err(client_err)
        })?;
        *g = Some(ini);
        Ok(())
    }

    /// Whether the session is logged on.
    #[getter]
    fn logged_on(&self) -> bool {
        self.inner
            .lock()
            .map(|g| g.as_ref().is_some_and(Initiator::is_logged_on))
            .unwrap_or(false)
    }

    /// Sends a NewOrderSingle; returns its MsgSeqNum.
    #[pyo3(signature = (cl_ord_id, side, qty, order_type="limit", price=None, stop_price=None, tif="day", symbol=None, account=None))]
    #[allow(clippy::too_many_arguments)]
    fn new_order(
        &self,
        py: Python<'_>,
        cl_ord_id: &str,
        side: &str,
        qty: u32,
        order_type: &str,
        price: Option<&Bound<'_, PyAny>>,
        stop_price: Option<&Bound<'_, PyAny>>,
        tif: &str,
        symbol: Option<&str>,
        account: Option<&str>,
    ) -> PyResult<u64> {
        let mut m = self.base(mt::NEW_ORDER_SINGLE, cl_ord_id, side, symbol)?;
        if let Some(a) = account {
            m.push(tags::ACCOUNT, a);
        }
        m.push_int(tags::ORDER_QTY, i64::from(qty))
            .push(tags::ORD_TYPE, ord_type_code(order_type)?)
            .push(tags::TIME_IN_FORCE, tif_code(tif)?);
        if let Some(p) = price {
            m.push(tags::PRICE, price_text("price", p)?);
        }
        if let Some(p) = stop_price {
            m.push(tags::STOP_PX, price_text("stop_price", p)?);
        }
        self.send(py, m)
    }

    /// Sends an OrderCancelRequest for `orig_cl_ord_id`; returns its MsgSeqNum.
    #[pyo3(signature = (cl_ord_id, orig_cl_ord_id, side, symbol=None))]
    fn cancel(
        &self,
        py: Python<'_>,
        cl_ord_id: &str,
        orig_cl_ord_id: &str,
        side: &str,
        symbol: Option<&str>,
    ) -> PyResult<u64> {
        let mut m = self.base(mt::ORDER_CANCEL_REQUEST, cl_ord_id, side, symbol)?;
        m.push(tags::ORIG_CL_ORD_ID, orig_cl_ord_id);
        self.send(py, m)
    }

    /// Sends an OrderStatusRequest (35=H) for `cl_ord_id`; returns its MsgSeqNum. The answer
    /// is a report of kind "status".
    #[pyo3(signature = (cl_ord_id, side, req_id=None, symbol=None))]
    fn order_status(
        &self,
        py: Python<'_>,
        cl_ord_id: &str,
        side: &str,
        req_id: Option<&str>,
        symbol: Option<&str>,
    ) -> PyResult<u64> {
        if cl_ord_id.is_empty() || cl_ord_id.contains('\u{1}') {
            return Err(PyValueError::new_err(
                "cl_ord_id must be a non-empty string without SOH",
            ));
        }
        let mut m = Message::of_type(mt::ORDER_STATUS_REQUEST);
        m.push(tags::CL_ORD_ID, cl_ord_id)
            .push(tags::SYMBOL, symbol.unwrap_or(&self.symbol))
            .push(tags::SIDE, side_code(side)?);
        if let Some(id) = req_id.filter(|s| !s.is_empty()) {
            m.push(tags::ORD_STATUS_REQ_ID, id);
        }
        self.send(py, m)
    }

    /// Sends a ReplayRequest (35=U1, user-defined) to a driven exchange: replay the feed up
    /// to `until_ns` (only those before it unless `inclusive`; stopping after the first
    /// record that caused a report when `stop_on_report`); returns its MsgSeqNum. The answer, after those reports, is a report
    /// of kind "replay_status".
    #[pyo3(signature = (until_ns, stop_on_report=false, req_id=None, inclusive=true))]
    fn replay(
        &self,
        py: Python<'_>,
        until_ns: i64,
        stop_on_report: bool,
        req_id: Option<&str>,
        inclusive: bool,
    ) -> PyResult<u64> {
        if until_ns < 0 {
            return Err(PyValueError::new_err("until_ns must not be negative"));
        }
        let mut m = Message::of_type(mt::REPLAY_REQUEST);
        if let Some(id) = req_id.filter(|s| !s.is_empty()) {
            m.push(tags::REPLAY_REQ_ID, id);
        }
        m.set_timestamp(tags::TRANSACT_TIME, until_ns, TimePrecision::Nanos)
            .push(
                tags::REPLAY_STOP_ON_REPORT,
                if stop_on_report { "Y" } else { "N" },
            )
            .push(tags::REPLAY_INCLUSIVE, if inclusive { "Y" } else { "N" });
        self.send(py, m)
    }

    /// Sends an OrderCancelReplaceRequest (new total `qty`, new prices); returns its MsgSeqNum.
    #[pyo3(signature = (cl_ord_id, orig_cl_ord_id, side, qty, order_type="limit", price=None, stop_price=None, tif="day", symbol=None))]
    #[allow(clippy::too_many_arguments)]
    fn replace(
        &self,
        py: Python<'_>,
        cl_ord_id: &str,
        orig_cl_ord_id: &str,
        side: &str,
        qty: u32,
        order_type: &str,
        price: Option<&Bound<'_, PyAny>>,
        stop_price: Option<&Bound<'_, PyAny>>,
        tif: &str,
        symbol: Option<&str>,
    ) -> PyResult<u64> {
        let mut m = self.base(mt::ORDER_CANCEL_REPLACE_REQUEST, cl_ord_id, side, symbol)?;
        m.push(tags::ORIG_CL_ORD_ID, orig_cl_ord_id)
            .push_int(tags::ORDER_QTY, i64::from(qty))
            .push(tags::ORD_TYPE, ord_type_code(order_type)?)
            .push(tags::TIME_IN_FORCE, tif_code(tif)?);
        if let Some(p) = price {
            m.push(tags::PRICE, price_text("price", p)?);
        }
        if let Some(p) = stop_price {
            m.push(tags::STOP_PX, price_text("stop_price", p)?);
        }
        self.send(py, m)
    }

    /// The next report (ExecutionReport, OrderCancelReject, BusinessMessageReject or a
    /// session Reject) within `timeout` seconds, else `None`.
    #[pyo3(signature = (timeout=5.0))]
    fn next_report(&self, py: Python<'_>, timeout: f64) -> PyResult<Option<PyFixReport>> {
        let wait = Duration::from_secs_f64(timeout.max(0.0));
        self.with(py, move |i| {
            let deadline = std::time::Instant::now() + wait;
            loop {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                match i.next_event(left)? {
                    Event::App(m) | Event::RejectReceived(m) => {
                        return Some(PyFixReport::from_message(&m))
                    }
                    _ => {}
                }
            }
        })
    }

    /// Logs out (waits up to `timeout` seconds); returns reports that arrived meanwhile.
    #[pyo3(signature = (text=None, timeout=5.0))]
    fn logout(
        &self,
        py: Python<'_>,
        text: Option<&str>,
        timeout: f64,
    ) -> PyResult<Vec<PyFixReport>> {
        let wait = Duration::from_secs_f64(timeout.max(0.0));
        let text = text.map(str::to_string);
        let mut g = self
            .inner
            .lock()
            .map_err(|_| PyRuntimeError::new_err("FixInitiator lock poisoned"))?;
        let Some(mut ini) = g.take() else {
            return Ok(Vec::new());
        };
        let events = py.detach(move || {
            let ev = ini.logout(text.as_deref(), wait);
            drop(ini);
            ev
        });
        Ok(events
            .iter()
            .filter_map(|e| match e {
                Event::App(m) | Event::RejectReceived(m) => Some(PyFixReport::from_message(m)),
                _ => None,
            })
            .collect())
    }

    fn __enter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        slf.borrow().connect(slf.py(), None)?;
        Ok(slf)
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.logout(py, None, 5.0)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        format!(
            "FixInitiator(host={:?}, port={}, sender_comp_id={:?}, target_comp_id={:?}, logged_on={})",
            self.addr.ip().to_string(),
            self.addr.port(),
            self.cfg.sender_comp_id,
            self.cfg.target_comp_id,
            if self.logged_on() { "True" } else { "False" }
        )
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyFixExchange>()?;
    m.add_class::<PyFixInitiator>()?;
    m.add_class::<PyFixReport>()?;
    m.add_function(wrap_pyfunction!(fix_write_dictionary, m)?)?;
    m.add_function(wrap_pyfunction!(fix_decode, m)?)?;
    Ok(())
}
