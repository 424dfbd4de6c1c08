//! Bindings for `crate::exchange`: the simulated exchange (`Exchange`) over a replayed MBO
//! feed, its frozen keyword-only configuration (`ExchangeConfig`), the order enums, and the
//! execution reports handed to NumPy as one structured array over the `#[repr(C)]`
//! `ExecReport` (dtype built from the struct's offsets, no per-report Python work).

use std::mem::offset_of;

use dbn::decode::DecodeRecordRef;
use dbn::{flags, rtype, FlagSet, MboMsg, RecordHeader};
use numpy::{Element, IntoPyArray, PyArray1, PyArrayDescr};
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

use crate::book::{decoder_from_bytes, decoder_from_file, BookDecoder, Side};
use crate::exchange::{
    Exchange, ExchangeConfig, ExchangeStats, ExecReason, ExecReport, ExecType, Fees, Interval,
    Latency, LatencyModel, Liquidity, OffHours, OrderRequest, OrderSide, OrderStatus, OrderType,
    OrderView, ProbFunc, QueueModel, SessionSchedule, TimeInForce, NO_PRICE,
};

/// Which queue-position model own resting orders use (`crate::exchange::QueueModel`).
#[pyclass(
    eq,
    eq_int,
    hash,
    frozen,
    name = "QueueModel",
    module = "workbench_native._native",
    rename_all = "SCREAMING_SNAKE_CASE"
)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum PyQueueModel {
    Conservative = 0,
    L3Known = 1,
    Probabilistic = 2,
}

/// The weighting function of the probabilistic queue model (`crate::exchange::ProbFunc`).
#[pyclass(
    eq,
    eq_int,
    hash,
    frozen,
    name = "QueueFunction",
    module = "workbench_native._native",
    rename_all = "SCREAMING_SNAKE_CASE"
)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum PyQueueFunction {
    Power = 0,
    Log = 1,
}

/// The configuration of a simulated exchange, immutable, built with keywords only.
#[pyclass(frozen, name = "ExchangeConfig", module = "workbench_native._native")]
struct PyExchangeConfig {
    cfg: ExchangeConfig,
    queue: PyQueueModel,
    queue_function: PyQueueFunction,
    queue_power: f64,
}

fn latency(which: &str, constant_ns: u64, samples: Option<Vec<u64>>) -> PyResult<Latency> {
    match samples {
        None => Ok(Latency::Constant(constant_ns)),
        Some(s) if s.is_empty() => Err(PyValueError::new_err(format!(
            "ExchangeConfig: {which}_latency_samples is empty; give at least one sample (ns) \
             or leave it None for the constant {which}_latency_ns"
        ))),
        Some(_) if constant_ns != 0 => Err(PyValueError::new_err(format!(
            "ExchangeConfig: give {which}_latency_ns or {which}_latency_samples, not both"
        ))),
        Some(s) => Ok(Latency::Recorded(s)),
    }
}

fn intervals(what: &str, list: Vec<(u64, u64)>) -> PyResult<Vec<Interval>> {
    list.into_iter()
        .enumerate()
        .map(|(i, (start, end))| {
            if end <= start {
                Err(PyValueError::new_err(format!(
                    "ExchangeConfig: {what}[{i}] = ({start}, {end}) is empty: end must be after \
                     start (ns since the UNIX epoch)"
                )))
            } else {
                Ok(Interval::new(start, end))
            }
        })
        .collect()
}

fn latency_parts(l: &Latency) -> (u64, Option<Vec<u64>>) {
    match l {
        Latency::Constant(ns) => (*ns, None),
        Latency::Recorded(s) => (0, Some(s.clone())),
    }
}

#[pymethods]
impl PyExchangeConfig {
    #[new]
    #[pyo3(signature = (
        *,
        queue = PyQueueModel::Conservative,
        queue_function = PyQueueFunction::Power,
        queue_power = 2.0,
        entry_latency_ns = 0,
        response_latency_ns = 0,
        entry_latency_samples = None,
        response_latency_samples = None,
        seed = 0,
        maker_fee = 0,
        taker_fee = 0,
        tick = 0,
        sessions = Vec::new(),
        halts = Vec::new(),
        off_hours = OffHours::Reject,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn py_new(
        queue: PyQueueModel,
        queue_function: PyQueueFunction,
        queue_power: f64,
        entry_latency_ns: u64,
        response_latency_ns: u64,
        entry_latency_samples: Option<Vec<u64>>,
        response_latency_samples: Option<Vec<u64>>,
        seed: u64,
        maker_fee: i64,
        taker_fee: i64,
        tick: i64,
        sessions: Vec<(u64, u64)>,
        halts: Vec<(u64, u64)>,
        off_hours: OffHours,
    ) -> PyResult<Self> {
        let model = match queue {
            PyQueueModel::Conservative => QueueModel::Conservative,
            PyQueueModel::L3Known => QueueModel::L3Known,
            PyQueueModel::Probabilistic => QueueModel::Probabilistic(match queue_function {
                PyQueueFunction::Power => ProbFunc::Power(queue_power),
                PyQueueFunction::Log => ProbFunc::Log,
            }),
        };
        if !(queue_power.is_finite() && queue_power > 0.0) {
            return Err(PyValueError::new_err(format!(
                "ExchangeConfig: queue_power must be a finite number > 0, got {queue_power}"
            )));
        }
        if tick < 0 {
            return Err(PyValueError::new_err(format!(
                "ExchangeConfig: tick must be >= 0 (1e-9 fixed point; 0 = no check), got {tick}"
            )));
        }
        let cfg = ExchangeConfig {
            queue: model,
            latency: LatencyModel {
                entry: latency("entry", entry_latency_ns, entry_latency_samples)?,
                response: latency("response", response_latency_ns, response_latency_samples)?,
            },
            fees: Fees {
                maker: maker_fee,
                taker: taker_fee,
            },
            schedule: SessionSchedule {
                sessions: intervals("sessions", sessions)?,
                halts: intervals("halts", halts)?,
            },
            off_hours,
            tick,
            seed,
        };
        cfg.schedule.validate().map_err(|e| {
            PyValueError::new_err(format!(
                "ExchangeConfig: {e}; give sorted, non-overlapping (start, end) intervals"
            ))
        })?;
        Ok(PyExchangeConfig {
            cfg,
            queue,
            queue_function,
            queue_power,
        })
    }

    #[getter]
    fn queue(&self) -> PyQueueModel {
        self.queue
    }
    #[getter]
    fn queue_function(&self) -> PyQueueFunction {
        self.queue_function
    }
    #[getter]
    fn queue_power(&self) -> f64 {
        self.queue_power
    }
    #[getter]
    fn entry_latency_ns(&self) -> u64 {
        latency_parts(&self.cfg.latency.entry).0
    }
    #[getter]
    fn response_latency_ns(&self) -> u64 {
        latency_parts(&self.cfg.latency.response).0
    }
    #[getter]
    fn entry_latency_samples(&self) -> Option<Vec<u64>> {
        latency_parts(&self.cfg.latency.entry).1
    }
    #[getter]
    fn response_latency_samples(&self) -> Option<Vec<u64>> {
        latency_parts(&self.cfg.latency.response).1
    }
    #[getter]
    fn seed(&self) -> u64 {
        self.cfg.seed
    }
    #[getter]
    fn maker_fee(&self) -> i64 {
        self.cfg.fees.maker
    }
    #[getter]
    fn taker_fee(&self) -> i64 {
        self.cfg.fees.taker
    }
    #[getter]
    fn tick(&self) -> i64 {
        self.cfg.tick
    }
    #[getter]
    fn sessions(&self) -> Vec<(u64, u64)> {
        self.cfg
            .schedule
            .sessions
            .iter()
            .map(|i| (i.start, i.end))
            .collect()
    }
    #[getter]
    fn halts(&self) -> Vec<(u64, u64)> {
        self.cfg
            .schedule
            .halts
            .iter()
            .map(|i| (i.start, i.end))
            .collect()
    }
    #[getter]
    fn off_hours(&self) -> OffHours {
        self.cfg.off_hours
    }

    fn __repr__(&self) -> String {
        let lat = |l: &Latency| match l {
            Latency::Constant(ns) => format!("{ns} ns"),
            Latency::Recorded(s) => format!("{} samples", s.len()),
        };
        let queue = match self.queue {
            PyQueueModel::Conservative => "CONSERVATIVE",
            PyQueueModel::L3Known => "L3_KNOWN",
            PyQueueModel::Probabilistic => "PROBABILISTIC",
        };
        let function = match self.queue_function {
            PyQueueFunction::Power => "POWER",
            PyQueueFunction::Log => "LOG",
        };
        let off_hours = match self.cfg.off_hours {
            OffHours::Reject => "REJECT",
            OffHours::Hold => "HOLD",
        };
        format!(
            "ExchangeConfig(queue=QueueModel.{queue}, queue_function=QueueFunction.{function}, \
             queue_power={:?}, entry latency {}, response latency {}, seed={}, maker_fee={}, \
             taker_fee={}, tick={}, sessions={}, halts={}, off_hours=OffHours.{off_hours})",
            self.queue_power,
            lat(&self.cfg.latency.entry),
            lat(&self.cfg.latency.response),
            self.cfg.seed,
            self.cfg.fees.maker,
            self.cfg.fees.taker,
            self.cfg.tick,
            self.cfg.schedule.sessions.len(),
            self.cfg.schedule.halts.len(),
        )
    }
}

/// The state of one own order (`crate::exchange::OrderView`).
#[pyclass(
    frozen,
    get_all,
    name = "ExchangeOrder",
    module = "workbench_native._native"
)]
struct PyOrderView {
    client_id: u64,
    limit_price: Option<i64>,
    stop_price: Option<i64>,
    queue_ahead: u64,
    qty: u32,
    filled: u32,
    cancelled: u32,
    leaves: u32,
    status: OrderStatus,
    side: OrderSide,
    order_type: OrderType,
    tif: TimeInForce,
    resting: bool,
}

fn price_opt(p: i64) -> Option<i64> {
    (p != NO_PRICE).then_some(p)
}

impl From<OrderView> for PyOrderView {
    fn from(v: OrderView) -> Self {
        PyOrderView {
            client_id: v.client_id,
            limit_price: price_opt(v.limit_price),
            stop_price: price_opt(v.stop_price),
            queue_ahead: v.queue_ahead,
            qty: v.qty,
            filled: v.filled,
            cancelled: v.cancelled,
            leaves: v.leaves,
            status: v.status,
            side: v.side,
            order_type: v.order_type,
            tif: v.tif,
            resting: v.resting,
        }
    }
}

#[pymethods]
impl PyOrderView {
    fn __repr__(&self) -> String {
        format!(
            "ExchangeOrder(client_id={}, side={:?}, order_type={:?}, tif={:?}, qty={}, \
             filled={}, cancelled={}, leaves={}, status={:?}, resting={}, queue_ahead={})",
            self.client_id,
            self.side,
            self.order_type,
            self.tif,
            self.qty,
            self.filled,
            self.cancelled,
            self.leaves,
            self.status,
            self.resting,
            self.queue_ahead
        )
    }
}

/// A simulated exchange for one instrument: the real L3 book of a replayed MBO feed plus own
/// virtual orders (`crate::exchange::Exchange`). The feed is either loaded whole
/// (`from_file`, `from_bytes`) and stepped with `run_until`/`step`/`run`, or given record
/// by record (`apply`, `apply_bytes`).
#[pyclass(name = "Exchange", module = "workbench_native._native")]
struct PyExchange {
    x: Exchange,
    feed: Vec<MboMsg>,
    pos: usize,
}

/// A decode failure as a Python exception (`FileNotFoundError`, `OSError`, or
/// `ValueError("decode", message)`).
fn decode_error(what: &str, e: dbn::Error) -> PyErr {
    match e {
        dbn::Error::Io { source, context } if context.starts_with("opening") => {
            if source.kind() == std::io::ErrorKind::NotFound {
                PyFileNotFoundError::new_err((2, source.to_string(), what.to_string()))
            } else {
                PyOSError::new_err(format!("{what}: {context}: {source}"))
            }
        }
        e => PyValueError::new_err(("decode", format!("{what}: {e}"))),
    }
}

/// The MBO records of one instrument (`instrument_id`, or the only one in the data).
fn load_mbo(
    what: &str,
    mut dec: BookDecoder<'_>,
    instrument_id: Option<u32>,
) -> PyResult<(u32, Vec<MboMsg>)> {
    let mut recs = Vec::new();
    let mut seen: Vec<u32> = Vec::new();
    while let Some(rec) = dec.decode_record_ref().map_err(|e| decode_error(what, e))? {
        if let Some(m) = rec.get::<MboMsg>() {
            let id = m.hd.instrument_id;
            if !seen.contains(&id) {
                seen.push(id);
            }
            if instrument_id.is_none_or(|want| want == id) {
                recs.push(*m);
            }
        }
    }
    let inst = match (instrument_id, seen.as_slice()) {
        (Some(id), _) => id,
        (None, [id]) => *id,
        (None, []) => {
            return Err(PyValueError::new_err((
                "empty",
                format!("{what}: no MBO record (an order-book feed of schema mbo is needed)"),
            )))
        }
        (None, ids) => {
            return Err(PyValueError::new_err((
                "instruments",
                format!(
                    "{what} holds several instruments {ids:?}; pass instrument_id= one of them"
                ),
            )))
        }
    };
    if recs.is_empty() {
        return Err(PyValueError::new_err((
            "instruments",
            format!("{what}: no MBO record of instrument {inst} (it holds {seen:?})"),
        )));
    }
    if instrument_id.is_none() {
        recs.retain(|m| m.hd.instrument_id == inst);
    }
    Ok((inst, recs))
}

fn config_error(e: crate::exchange::ExchangeError) -> PyErr {
    PyValueError::new_err(format!("Exchange: {e}"))
}

/// One ASCII character as a byte (`action`, `side` of a record).
fn one_byte(what: &str, s: &str) -> PyResult<u8> {
    match s.as_bytes() {
        [b] => Ok(*b),
        _ => Err(PyValueError::new_err(format!(
            "Exchange.apply: {what} must be one character, got {s:?}"
        ))),
    }
}

fn side_of(what: &str, side: &str) -> PyResult<Side> {
    match side {
        "B" | "b" | "bid" => Ok(Side::Bid),
        "A" | "a" | "ask" => Ok(Side::Ask),
        _ => Err(PyValueError::new_err(format!(
            "{what}: side must be 'B' (bid) or 'A' (ask), got {side:?}"
        ))),
    }
}

type LevelTuple = (i64, u64, u32);

fn stats_dict<'py>(py: Python<'py>, s: &ExchangeStats) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("records", s.records)?;
    d.set_item("other_instruments", s.other_instruments)?;
    d.set_item("refused", s.refused)?;
    d.set_item("requests", s.requests)?;
    d.set_item("fills", s.fills)?;
    d.set_item("maker_qty", s.maker_qty)?;
    d.set_item("taker_qty", s.taker_qty)?;
    d.set_item("reports", s.reports)?;
    Ok(d)
}

impl PyExchange {
    /// Applies the next loaded record; `false` at the end of the feed.
    #[inline]
    fn apply_next(&mut self) -> bool {
        let Some(m) = self.feed.get(self.pos) else {
            return false;
        };
        self.pos += 1;
        // A refused record is counted in the stats and skipped.
        let _ = self.x.on_mbo(m);
        true
    }
}

#[pymethods]
impl PyExchange {
    #[new]
    #[pyo3(signature = (instrument_id, config))]
    fn new(instrument_id: u32, config: &PyExchangeConfig) -> PyResult<Self> {
        Ok(PyExchange {
            x: Exchange::new(instrument_id, config.cfg.clone()).map_err(config_error)?,
            feed: Vec::new(),
            pos: 0,
        })
    }

    /// An exchange over the MBO records of a DBN file (plain or zstd), loaded whole.
    #[staticmethod]
    #[pyo3(signature = (path, config, *, instrument_id=None))]
    fn from_file(
        py: Python<'_>,
        path: &str,
        config: &PyExchangeConfig,
        instrument_id: Option<u32>,
    ) -> PyResult<Self> {
        let (inst, feed) = py.detach(|| {
            let dec = decoder_from_file(path).map_err(|e| decode_error(path, e))?;
            load_mbo(path, dec, instrument_id)
        })?;
        let mut me = Self::new(inst, config)?;
        me.feed = feed;
        Ok(me)
    }

    /// An exchange over the MBO records of DBN bytes (metadata first; plain or zstd).
    #[staticmethod]
    #[pyo3(signature = (data, config, *, instrument_id=None))]
    fn from_bytes(
        data: &[u8],
        config: &PyExchangeConfig,
        instrument_id: Option<u32>,
    ) -> PyResult<Self> {
        let dec = decoder_from_bytes(data).map_err(|e| decode_error("DBN bytes", e))?;
        let (inst, feed) = load_mbo("DBN bytes", dec, instrument_id)?;
        let mut me = Self::new(inst, config)?;
        me.feed = feed;
        Ok(me)
    }

    // ------------------------------------------------------------ the feed

    /// Applies one MBO record given by its fields (the record-by-record path).
    #[pyo3(signature = (
        ts_event, order_id, price, size, side, action, *, flags=flags::LAST, ts_recv=None,
        sequence=0
    ))]
    #[allow(clippy::too_many_arguments)]
    fn apply(
        &mut self,
        ts_event: u64,
        order_id: u64,
        price: i64,
        size: u32,
        side: &str,
        action: &str,
        flags: u8,
        ts_recv: Option<u64>,
        sequence: u32,
    ) -> PyResult<bool> {
        let msg = MboMsg {
            hd: RecordHeader::new::<MboMsg>(rtype::MBO, 0, self.x.instrument_id(), ts_event),
            order_id,
            price,
            size,
            flags: FlagSet::new(flags),
            channel_id: 0,
            action: one_byte("action", action)? as _,
            side: one_byte("side", side)? as _,
            ts_recv: ts_recv.unwrap_or(ts_event),
            ts_in_delta: 0,
            sequence,
        };
        Ok(self.x.on_mbo(&msg).is_ok())
    }

    /// Applies one MBO record given as its DBN bytes (`bytes(databento_dbn.MBOMsg)`);
    /// `False` when the book refused it (counted and skipped).
    fn apply_bytes(&mut self, record: &[u8]) -> PyResult<bool> {
        let msg = mbo_from_bytes(record)?;
        Ok(self.x.on_mbo(&msg).is_ok())
    }

    /// Appends MBO records given as their concatenated DBN bytes (56 each, no metadata) to
    /// the loaded feed; records of other instruments are skipped. Returns how many were kept.
    fn extend_feed(&mut self, records: &[u8]) -> PyResult<usize> {
        let size = std::mem::size_of::<MboMsg>();
        if !records.len().is_multiple_of(size) {
            return Err(PyValueError::new_err(format!(
                "Exchange.extend_feed: {} bytes is not a whole number of {size}-byte MBO records",
                records.len()
            )));
        }
        let inst = self.x.instrument_id();
        let mut msgs = Vec::with_capacity(records.len() / size);
        for chunk in records.chunks_exact(size) {
            let m = mbo_from_bytes(chunk)?;
            if m.hd.instrument_id == inst {
                msgs.push(m);
            }
        }
        let n = msgs.len();
        self.feed.extend(msgs);
        Ok(n)
    }

    /// Applies the loaded records with `ts_event <= t`; returns how many.
    fn run_until(&mut self, py: Python<'_>, t: u64) -> usize {
        py.detach(|| {
            let start = self.pos;
            while self.feed.get(self.pos).is_some_and(|m| m.hd.ts_event <= t) {
                self.apply_next();
            }
            self.pos - start
        })
    }

    /// Applies loaded records up to and including the `events`-th next event boundary
    /// (`F_LAST`); returns how many records.
    #[pyo3(signature = (events=1))]
    fn step(&mut self, events: usize) -> usize {
        let start = self.pos;
        let mut left = events;
        while left > 0 {
            let Some(m) = self.feed.get(self.pos) else {
                break;
            };
            let last = m.flags.raw() & flags::LAST != 0;
            self.apply_next();
            if last {
                left -= 1;
            }
        }
        self.pos - start
    }

    /// Applies every remaining loaded record; returns how many.
    fn run(&mut self, py: Python<'_>) -> usize {
        py.detach(|| {
            let start = self.pos;
            while self.apply_next() {}
            self.pos - start
        })
    }

    /// The trades (`T` records) of the loaded feed: `(ts_event, price, size)` arrays.
    #[allow(clippy::type_complexity)]
    fn trades<'py>(
        &self,
        py: Python<'py>,
    ) -> (
        Bound<'py, PyArray1<u64>>,
        Bound<'py, PyArray1<i64>>,
        Bound<'py, PyArray1<u32>>,
    ) {
        let (mut ts, mut px, mut sz) = (Vec::new(), Vec::new(), Vec::new());
        for m in &self.feed {
            if m.action as u8 == b'T' && m.price != NO_PRICE {
                ts.push(m.hd.ts_event);
                px.push(m.price);
                sz.push(m.size);
            }
        }
        (
            ts.into_pyarray(py),
            px.into_pyarray(py),
            sz.into_pyarray(py),
        )
    }

    /// `ts_event` of the next loaded record, or `None` at the end of the feed.
    #[getter]
    fn next_ts(&self) -> Option<u64> {
        self.feed.get(self.pos).map(|m| m.hd.ts_event)
    }

    /// Loaded records not yet applied.
    #[getter]
    fn remaining(&self) -> usize {
        self.feed.len() - self.pos
    }

    /// Loaded records in all.
    #[getter]
    fn feed_len(&self) -> usize {
        self.feed.len()
    }

    /// `(first, last)` `ts_event` of the loaded feed, or `None` when nothing is loaded.
    #[getter]
    fn feed_span(&self) -> Option<(u64, u64)> {
        Some((
            self.feed.first()?.hd.ts_event,
            self.feed.last()?.hd.ts_event,
        ))
    }

    // ------------------------------------------------------------ requests

    /// Sends a new order at the client's time `ts_local` (ns).
    #[pyo3(signature = (
        ts_local, client_id, side, order_type, qty, *, limit_price=None, stop_price=None,
        tif=TimeInForce::Day
    ))]
    #[allow(clippy::too_many_arguments)]
    fn submit(
        &mut self,
        ts_local: u64,
        client_id: u64,
        side: OrderSide,
        order_type: OrderType,
        qty: u32,
        limit_price: Option<i64>,
        stop_price: Option<i64>,
        tif: TimeInForce,
    ) {
        self.x.submit(
            ts_local,
            OrderRequest {
                client_id,
                limit_price: limit_price.unwrap_or(NO_PRICE),
                stop_price: stop_price.unwrap_or(NO_PRICE),
                qty,
                side,
                order_type,
                tif,
            },
        );
    }

    /// Sends a cancel at the client's time `ts_local`.
    fn cancel(&mut self, ts_local: u64, client_id: u64) {
        self.x.cancel(ts_local, client_id);
    }

    /// Sends a replace: `qty` is the new total quantity; `None` keeps a price.
    #[pyo3(signature = (ts_local, client_id, qty, *, limit_price=None, stop_price=None))]
    fn replace(
        &mut self,
        ts_local: u64,
        client_id: u64,
        qty: u32,
        limit_price: Option<i64>,
        stop_price: Option<i64>,
    ) {
        self.x.replace(
            ts_local,
            client_id,
            qty,
            limit_price.unwrap_or(NO_PRICE),
            stop_price.unwrap_or(NO_PRICE),
        );
    }

    /// Processes request arrivals, held orders and DAY expiries due at or before `t` with no
    /// feed record.
    fn advance_to(&mut self, t: u64) {
        self.x.advance_to(t);
    }

    // ------------------------------------------------------------ queries

    /// The state of an order, or `None` for an id never accepted.
    fn order(&self, client_id: u64) -> Option<PyOrderView> {
        self.x.order(client_id).map(PyOrderView::from)
    }

    /// Takes the reports produced so far (`EXEC_REPORT_DTYPE`).
    fn drain_reports<'py>(&mut self, py: Python<'py>) -> Bound<'py, PyArray1<ExecReport>> {
        self.x.drain_reports().into_pyarray(py)
    }

    /// Reports waiting to be drained.
    #[getter]
    fn pending_reports(&self) -> usize {
        self.x.reports().len()
    }

    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        stats_dict(py, &self.x.stats())
    }

    #[getter]
    fn instrument_id(&self) -> u32 {
        self.x.instrument_id()
    }

    #[getter]
    fn now(&self) -> u64 {
        self.x.now()
    }

    #[getter]
    fn last_trade(&self) -> Option<i64> {
        price_opt(self.x.last_trade())
    }

    #[getter]
    fn open_orders(&self) -> usize {
        self.x.open_orders()
    }

    #[getter]
    fn is_consistent(&self) -> bool {
        self.x.book().is_consistent()
    }

    fn best_bid(&self) -> Option<LevelTuple> {
        self.x.book().best_bid().map(|l| (l.price, l.size, l.count))
    }

    fn best_ask(&self) -> Option<LevelTuple> {
        self.x.book().best_ask().map(|l| (l.price, l.size, l.count))
    }

    fn depth(&self, side: &str, n: usize) -> PyResult<Vec<LevelTuple>> {
        let s = side_of("Exchange.depth", side)?;
        Ok(self
            .x
            .book()
            .depth(s, n)
            .into_iter()
            .map(|l| (l.price, l.size, l.count))
            .collect())
    }

    fn level(&self, side: &str, price: i64) -> PyResult<Option<LevelTuple>> {
        let s = side_of("Exchange.level", side)?;
        Ok(self
            .x
            .book()
            .level(s, price)
            .map(|l| (l.price, l.size, l.count)))
    }

    fn __repr__(&self) -> String {
        format!(
            "Exchange(instrument_id={}, now={}, feed {}/{} records, open_orders={})",
            self.x.instrument_id(),
            self.x.now(),
            self.pos,
            self.feed.len(),
            self.x.open_orders()
        )
    }
}

/// An `MboMsg` from its 56 DBN bytes (little-endian fields at their offsets).
fn mbo_from_bytes(b: &[u8]) -> PyResult<MboMsg> {
    let size = std::mem::size_of::<MboMsg>();
    if b.len() != size || b[1] != rtype::MBO || usize::from(b[0]) * 4 != size {
        return Err(PyValueError::new_err(format!(
            "Exchange.apply_bytes: not one DBN MBO record ({size} bytes, rtype {:#04x}): got {} \
             bytes",
            rtype::MBO,
            b.len()
        )));
    }
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
    let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let u64_at = |o: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[o..o + 8]);
        u64::from_le_bytes(w)
    };
    let hd = RecordHeader::new::<MboMsg>(rtype::MBO, u16_at(2), u32_at(4), u64_at(8));
    Ok(MboMsg {
        hd,
        order_id: u64_at(16),
        price: u64_at(24) as i64,
        size: u32_at(32),
        flags: FlagSet::new(b[36]),
        channel_id: b[37],
        action: b[38] as _,
        side: b[39] as _,
        ts_recv: u64_at(40),
        ts_in_delta: u32_at(48) as i32,
        sequence: u32_at(52),
    })
}

static EXEC_REPORT_DTYPE: PyOnceLock<Py<PyArrayDescr>> = PyOnceLock::new();

/// The fields of `ExecReport` as (name, NumPy format, offset): every field but the padding.
fn report_fields() -> [(&'static str, &'static str, usize); 18] {
    [
        ("ts_exchange", "<u8", offset_of!(ExecReport, ts_exchange)),
        ("ts_local", "<u8", offset_of!(ExecReport, ts_local)),
        ("client_id", "<u8", offset_of!(ExecReport, client_id)),
        ("seq", "<u8", offset_of!(ExecReport, seq)),
        ("order_price", "<i8", offset_of!(ExecReport, order_price)),
        ("last_px", "<i8", offset_of!(ExecReport, last_px)),
        ("queue_ahead", "<u8", offset_of!(ExecReport, queue_ahead)),
        (
            "fee_per_contract",
            "<i8",
            offset_of!(ExecReport, fee_per_contract),
        ),
        ("fee", "<i8", offset_of!(ExecReport, fee)),
        ("order_qty", "<u4", offset_of!(ExecReport, order_qty)),
        ("last_qty", "<u4", offset_of!(ExecReport, last_qty)),
        ("cum_qty", "<u4", offset_of!(ExecReport, cum_qty)),
        ("leaves_qty", "<u4", offset_of!(ExecReport, leaves_qty)),
        ("exec_type", "u1", offset_of!(ExecReport, exec_type)),
        ("status", "u1", offset_of!(ExecReport, status)),
        ("side", "i1", offset_of!(ExecReport, side)),
        ("liquidity", "u1", offset_of!(ExecReport, liquidity)),
        ("reason", "u1", offset_of!(ExecReport, reason)),
    ]
}

fn report_dtype(py: Python<'_>) -> PyResult<Bound<'_, PyArrayDescr>> {
    let fields = report_fields();
    let spec = PyDict::new(py);
    spec.set_item("names", fields.map(|f| f.0).to_vec())?;
    spec.set_item("formats", fields.map(|f| f.1).to_vec())?;
    spec.set_item("offsets", fields.map(|f| f.2).to_vec())?;
    spec.set_item("itemsize", std::mem::size_of::<ExecReport>())?;
    PyArrayDescr::new(py, &spec)
}

// SAFETY: `ExecReport` is `#[repr(C)]`; its dtype lists every field at its `offset_of!` with
// the struct's size and the field's width (the enums are `#[repr(u8)]`/`#[repr(i8)]`); the
// 3 padding bytes (`_pad`, always zero) are in no field. Reports only go from Rust to NumPy
// (`drain_reports`): no binding reads an array of this dtype back into Rust, so the enum
// fields never receive a bit pattern that is not one of their variants.
unsafe impl Element for ExecReport {
    const IS_COPY: bool = true;

    fn get_dtype(py: Python<'_>) -> Bound<'_, PyArrayDescr> {
        EXEC_REPORT_DTYPE
            .get_or_init(py, || {
                report_dtype(py)
                    .expect("the execution report dtype")
                    .unbind()
            })
            .bind(py)
            .clone()
    }

    fn clone_ref(&self, _py: Python<'_>) -> Self {
        *self
    }
}

/// Add this domain's names to the module.
pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<OrderSide>()?;
    m.add_class::<OrderType>()?;
    m.add_class::<TimeInForce>()?;
    m.add_class::<OrderStatus>()?;
    m.add_class::<Liquidity>()?;
    m.add_class::<ExecType>()?;
    m.add_class::<ExecReason>()?;
    m.add_class::<OffHours>()?;
    m.add_class::<PyQueueModel>()?;
    m.add_class::<PyQueueFunction>()?;
    m.add_class::<PyExchangeConfig>()?;
    m.add_class::<PyOrderView>()?;
    m.add_class::<PyExchange>()?;
    m.add("EXEC_REPORT_DTYPE", ExecReport::get_dtype(py))?;
    Ok(())
}
