//! Bindings for `crate::book`: the L3 book one record at a time (`L3Book`) and a whole-file
//! replay (`replay_book`) whose snapshots reach NumPy as one structured array over the
//! `#[repr(C)]` `BookSnapshot` rows (no per-row Python work, no copy).

use std::fs::File;
use std::io::Read;
use std::mem::offset_of;

use dbn::decode::DecodeRecordRef;
use dbn::{rtype, BidAskPair, FlagSet, MboMsg, Record, RecordHeader};
use numpy::{Element, IntoPyArray, PyArray1, PyArrayDescr};
use pyo3::create_exception;
use pyo3::exceptions::{PyFileNotFoundError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

use crate::book::{
    decoder_from_file, replay_file, Applied, BookError, BookSnapshot, CrossState, Every,
    IntegrityCounts, L3Book, ReplayError, ReplayOptions, ReplayStats, Replayer, Side,
};

create_exception!(
    _native,
    BookRecordError,
    pyo3::exceptions::PyValueError,
    "A record the book refused (its orders are unchanged): args are (reason, message)."
);

/// The snake-case name of a refusal, for `BookRecordError.args[0]`.
fn reason(e: &BookError) -> &'static str {
    match e {
        BookError::UnknownAction(_) => "unknown_action",
        BookError::InvalidSide { .. } => "invalid_side",
        BookError::DuplicateOrder(_) => "duplicate_order",
        BookError::UnknownOrder(_) => "unknown_order",
        BookError::SideChanged { .. } => "side_changed",
        BookError::ZeroSize(_) => "zero_size",
        BookError::UndefinedPrice(_) => "undefined_price",
        BookError::WrongRecord { .. } => "wrong_record",
        BookError::Invariant(_) => "invariant",
    }
}

fn refused(e: BookError) -> PyErr {
    BookRecordError::new_err((reason(&e), e.to_string()))
}

fn applied_name(a: Applied) -> &'static str {
    match a {
        Applied::Added => "added",
        Applied::ReplacedTop => "replaced_top",
        Applied::Cancelled { remaining: 0 } => "cancelled",
        Applied::Cancelled { .. } => "reduced",
        Applied::Modified {
            priority_kept: true,
        } => "modified",
        Applied::Modified {
            priority_kept: false,
        } => "modified_lost_priority",
        Applied::ModifiedToZero => "cancelled",
        Applied::ModifiedUnknownAsAdd => "modified_as_add",
        Applied::Cleared => "cleared",
        Applied::Unchanged => "unchanged",
    }
}

/// `"B"`/`"bid"` or `"A"`/`"ask"` as a side.
fn side_of(what: &str, side: &str) -> PyResult<Side> {
    match side {
        "B" | "b" | "bid" => Ok(Side::Bid),
        "A" | "a" | "ask" => Ok(Side::Ask),
        _ => Err(PyValueError::new_err(format!(
            "{what}: side must be 'B' (bid) or 'A' (ask), got {side:?}"
        ))),
    }
}

/// One ASCII character as a byte (`action`, `side` of a record).
fn one_byte(what: &str, s: &str) -> PyResult<u8> {
    match s.as_bytes() {
        [b] => Ok(*b),
        _ => Err(PyValueError::new_err(format!(
            "L3Book.apply: {what} must be one character, got {s:?}"
        ))),
    }
}

/// An `MboMsg` from its 56 DBN bytes (little-endian fields at their offsets).
fn mbo_from_bytes(b: &[u8]) -> PyResult<MboMsg> {
    let size = std::mem::size_of::<MboMsg>();
    if b.len() != size {
        return Err(PyValueError::new_err(format!(
            "L3Book.apply_bytes: an MBO record is {size} bytes, got {}",
            b.len()
        )));
    }
    if b[1] != rtype::MBO {
        return Err(PyValueError::new_err(format!(
            "L3Book.apply_bytes: record type {:#04x} is not MBO ({:#04x})",
            b[1],
            rtype::MBO
        )));
    }
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
    let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let u64_at = |o: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[o..o + 8]);
        u64::from_le_bytes(w)
    };
    if usize::from(b[0]) * 4 != size {
        return Err(PyValueError::new_err(format!(
            "L3Book.apply_bytes: the header's length byte says {} bytes, not {size}",
            usize::from(b[0]) * 4
        )));
    }
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

type LevelTuple = (i64, u64, u32);

/// The L3 (market-by-order) book of one instrument (`crate::book::L3Book`).
#[pyclass(module = "workbench_native._native", name = "L3Book")]
pub(super) struct PyL3Book(pub(super) L3Book);

#[pymethods]
impl PyL3Book {
    #[new]
    #[pyo3(signature = (instrument_id=0))]
    fn new(instrument_id: u32) -> Self {
        PyL3Book(L3Book::new(instrument_id))
    }

    /// Apply one MBO record given by its fields; returns what it did.
    #[pyo3(signature = (
        ts_event, order_id, price, size, side, action, *, flags=0, instrument_id=None,
        ts_recv=None, sequence=0, channel_id=0, publisher_id=0
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
        instrument_id: Option<u32>,
        ts_recv: Option<u64>,
        sequence: u32,
        channel_id: u8,
        publisher_id: u16,
    ) -> PyResult<&'static str> {
        let inst = instrument_id.unwrap_or(self.0.instrument_id());
        let msg = MboMsg {
            hd: RecordHeader::new::<MboMsg>(rtype::MBO, publisher_id, inst, ts_event),
            order_id,
            price,
            size,
            flags: FlagSet::new(flags),
            channel_id,
            action: one_byte("action", action)? as _,
            side: one_byte("side", side)? as _,
            ts_recv: ts_recv.unwrap_or(ts_event),
            ts_in_delta: 0,
            sequence,
        };
        self.0.apply(&msg).map(applied_name).map_err(refused)
    }

    /// Apply one MBO record given as its DBN bytes (`bytes(databento_dbn.MBOMsg)`).
    fn apply_bytes(&mut self, record: &[u8]) -> PyResult<&'static str> {
        let msg = mbo_from_bytes(record)?;
        self.0.apply(&msg).map(applied_name).map_err(refused)
    }

    fn best_bid(&self) -> Option<LevelTuple> {
        self.0.best_bid().map(|l| (l.price, l.size, l.count))
    }

    fn best_ask(&self) -> Option<LevelTuple> {
        self.0.best_ask().map(|l| (l.price, l.size, l.count))
    }

    fn depth(&self, side: &str, n: usize) -> PyResult<Vec<LevelTuple>> {
        let s = side_of("L3Book.depth", side)?;
        Ok(self
            .0
            .depth(s, n)
            .into_iter()
            .map(|l| (l.price, l.size, l.count))
            .collect())
    }

    fn level(&self, side: &str, price: i64) -> PyResult<Option<LevelTuple>> {
        let s = side_of("L3Book.level", side)?;
        Ok(self.0.level(s, price).map(|l| (l.price, l.size, l.count)))
    }

    fn spread(&self) -> Option<i64> {
        self.0.spread()
    }

    fn mid(&self) -> Option<i64> {
        self.0.mid()
    }

    #[pyo3(signature = (levels=1))]
    fn imbalance(&self, levels: usize) -> Option<f64> {
        self.0.imbalance(levels)
    }

    fn orders_at(&self, side: &str, price: i64) -> PyResult<Vec<(u64, u32)>> {
        let s = side_of("L3Book.orders_at", side)?;
        Ok(self
            .0
            .orders_at(s, price)
            .into_iter()
            .map(|o| (o.order_id, o.size))
            .collect())
    }

    fn order(&self, order_id: u64) -> Option<(String, i64, u32)> {
        self.0
            .order(order_id)
            .map(|o| ((o.side.as_dbn() as char).to_string(), o.price, o.size))
    }

    fn queue_position(&self, order_id: u64) -> Option<(u64, u32, u64, u32)> {
        self.0
            .queue_position(order_id)
            .map(|q| (q.size_ahead, q.count_ahead, q.size_behind, q.count_behind))
    }

    fn level_count(&self, side: &str) -> PyResult<usize> {
        Ok(self.0.level_count(side_of("L3Book.level_count", side)?))
    }

    fn integrity<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        integrity_dict(py, &self.0.integrity())
    }

    fn validate(&self) -> PyResult<()> {
        self.0.validate().map_err(refused)
    }

    fn clear(&mut self) {
        self.0.clear()
    }

    #[getter]
    fn instrument_id(&self) -> u32 {
        self.0.instrument_id()
    }

    #[getter]
    fn ts_event(&self) -> u64 {
        self.0.ts_event()
    }

    #[getter]
    fn ts_recv(&self) -> u64 {
        self.0.ts_recv()
    }

    #[getter]
    fn sequence(&self) -> u32 {
        self.0.sequence()
    }

    #[getter]
    fn is_consistent(&self) -> bool {
        self.0.is_consistent()
    }

    #[getter]
    fn in_snapshot(&self) -> bool {
        self.0.in_snapshot()
    }

    #[getter]
    fn order_count(&self) -> usize {
        self.0.order_count()
    }

    #[getter]
    fn cross_state(&self) -> &'static str {
        match self.0.cross_state() {
            CrossState::Normal => "normal",
            CrossState::Locked => "locked",
            CrossState::Crossed => "crossed",
        }
    }

    fn __len__(&self) -> usize {
        self.0.order_count()
    }

    fn __repr__(&self) -> String {
        format!(
            "L3Book(instrument_id={}, orders={}, bid_levels={}, ask_levels={})",
            self.0.instrument_id(),
            self.0.order_count(),
            self.0.level_count(Side::Bid),
            self.0.level_count(Side::Ask)
        )
    }
}

pub(super) fn integrity_dict<'py>(
    py: Python<'py>,
    c: &IntegrityCounts,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("unknown_cancels", c.unknown_cancels)?;
    d.set_item("modify_as_add", c.modify_as_add)?;
    d.set_item("cancel_excess", c.cancel_excess)?;
    d.set_item("modify_to_zero", c.modify_to_zero)?;
    d.set_item("side_none_trades", c.side_none_trades)?;
    d.set_item("implicit_clears", c.implicit_clears)?;
    d.set_item("refused", c.refused)?;
    d.set_item("crossed_boundaries", c.crossed_boundaries)?;
    Ok(d)
}

pub(super) fn stats_dict<'py>(py: Python<'py>, s: &ReplayStats) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("records", s.records)?;
    d.set_item("mbo_records", s.mbo_records)?;
    d.set_item("mbp10_records", s.mbp10_records)?;
    d.set_item("other_records", s.other_records)?;
    d.set_item("malformed_records", s.malformed_records)?;
    d.set_item("filtered_out", s.filtered_out)?;
    d.set_item("event_boundaries", s.event_boundaries)?;
    d.set_item("snapshot_records", s.snapshot_records)?;
    d.set_item("snapshots_emitted", s.snapshots_emitted)?;
    d.set_item("refused", s.refused)?;
    let a = PyDict::new(py);
    for (k, v) in [
        ("A", s.actions.add),
        ("C", s.actions.cancel),
        ("M", s.actions.modify),
        ("R", s.actions.clear),
        ("F", s.actions.fill),
        ("T", s.actions.trade),
        ("N", s.actions.none),
        ("other", s.actions.other),
    ] {
        a.set_item(k, v)?;
    }
    d.set_item("actions", a)?;
    Ok(d)
}

static BOOK_SNAPSHOT_DTYPE: PyOnceLock<Py<PyArrayDescr>> = PyOnceLock::new();

/// The NumPy dtype of `BookSnapshot`: the header fields, then `bid_px_00`, `ask_px_00`,
/// `bid_sz_00`, `ask_sz_00`, `bid_ct_00`, `ask_ct_00`, ... for the ten levels (Databento's
/// MBP-10 names and order), every field at its offset in the struct.
fn snapshot_dtype(py: Python<'_>) -> PyResult<Bound<'_, PyArrayDescr>> {
    let mut names: Vec<String> = ["ts_event", "ts_recv", "instrument_id", "sequence", "flags"]
        .map(String::from)
        .to_vec();
    let mut formats: Vec<&str> = vec!["<u8", "<u8", "<u4", "<u4", "u1"];
    let mut offsets: Vec<usize> = vec![
        offset_of!(BookSnapshot, ts_event),
        offset_of!(BookSnapshot, ts_recv),
        offset_of!(BookSnapshot, instrument_id),
        offset_of!(BookSnapshot, sequence),
        offset_of!(BookSnapshot, flags),
    ];
    let levels = offset_of!(BookSnapshot, levels);
    let pair = std::mem::size_of::<BidAskPair>();
    for i in 0..10 {
        for (field, format, at) in [
            ("bid_px", "<i8", offset_of!(BidAskPair, bid_px)),
            ("ask_px", "<i8", offset_of!(BidAskPair, ask_px)),
            ("bid_sz", "<u4", offset_of!(BidAskPair, bid_sz)),
            ("ask_sz", "<u4", offset_of!(BidAskPair, ask_sz)),
            ("bid_ct", "<u4", offset_of!(BidAskPair, bid_ct)),
            ("ask_ct", "<u4", offset_of!(BidAskPair, ask_ct)),
        ] {
            names.push(format!("{field}_{i:02}"));
            formats.push(format);
            offsets.push(levels + i * pair + at);
        }
    }
    let spec = PyDict::new(py);
    spec.set_item("names", names)?;
    spec.set_item("formats", formats)?;
    spec.set_item("offsets", offsets)?;
    spec.set_item("itemsize", std::mem::size_of::<BookSnapshot>())?;
    PyArrayDescr::new(py, &spec)
}

// SAFETY: `BookSnapshot` is `#[repr(C)]` of integer fields only (any bit pattern is a valid
// value; `BidAskPair` is `#[repr(C)]` of integers too) and its dtype lists every field at
// its `offset_of!` with the struct's size. The 7 padding bytes after `flags` are in no field
// (and `replay_book` zeroes them).
unsafe impl Element for BookSnapshot {
    const IS_COPY: bool = true;

    fn get_dtype(py: Python<'_>) -> Bound<'_, PyArrayDescr> {
        BOOK_SNAPSHOT_DTYPE
            .get_or_init(py, || {
                snapshot_dtype(py)
                    .expect("the book snapshot dtype")
                    .unbind()
            })
            .bind(py)
            .clone()
    }

    fn clone_ref(&self, _py: Python<'_>) -> Self {
        *self
    }
}

/// A replay failure as a Python exception: `FileNotFoundError` / `OSError` when the file
/// cannot be opened, else `ValueError` whose first argument names the kind (`"decode"`,
/// `"refused"`) and whose second is the message.
fn replay_error(path: &str, e: ReplayError) -> PyErr {
    match e {
        ReplayError::Decode(dbn::Error::Io { source, context })
            if context.starts_with("opening") =>
        {
            if source.kind() == std::io::ErrorKind::NotFound {
                PyFileNotFoundError::new_err((2, source.to_string(), path.to_string()))
            } else {
                pyo3::exceptions::PyOSError::new_err(format!("{path}: {context}: {source}"))
            }
        }
        ReplayError::Decode(d) => PyValueError::new_err(("decode", d.to_string())),
        ReplayError::Book { .. } => PyValueError::new_err(("refused", e.to_string())),
    }
}

/// Replay a DBN file into per-instrument books; returns the snapshots (one structured array,
/// `BOOK_SNAPSHOT_DTYPE`) and the replay's counts.
#[pyfunction]
#[pyo3(signature = (path, *, depth=10, every="event", instrument_id=None, strict=false))]
fn replay_book<'py>(
    py: Python<'py>,
    path: &str,
    depth: usize,
    every: &str,
    instrument_id: Option<u32>,
    strict: bool,
) -> PyResult<(Bound<'py, PyArray1<BookSnapshot>>, Bound<'py, PyDict>)> {
    if !(1..=10).contains(&depth) {
        return Err(PyValueError::new_err(format!(
            "replay_book: depth must be 1..10, got {depth}"
        )));
    }
    let every = match every {
        "event" => Every::Event,
        "record" => Every::Record,
        _ => {
            return Err(PyValueError::new_err(format!(
                "replay_book: every must be 'event' or 'record', got {every:?}"
            )))
        }
    };
    let opts = ReplayOptions {
        every,
        instrument_id,
        depth,
        strict,
        ..ReplayOptions::default()
    };
    let result = py.detach(|| {
        let mut rows: Vec<BookSnapshot> = Vec::new();
        replay_checked(path, opts, |s| rows.push(*s)).map(|r| {
            zero_padding(&mut rows);
            (rows, r.stats(), r.integrity())
        })
    });
    let (rows, stats, integrity) = result.map_err(|e| replay_error(path, e))?;
    let d = stats_dict(py, &stats)?;
    d.set_item("integrity", integrity_dict(py, &integrity)?)?;
    Ok((rows.into_pyarray(py), d))
}

/// `replay_file`, and for a plain (not zstd) file a check that the records fill it to the
/// end: `dbn` stops without an error at a record cut short, which would silently drop the
/// tail of a truncated file (a truncated zstd file fails in the decompressor).
fn replay_checked<F: FnMut(&BookSnapshot)>(
    path: &str,
    opts: ReplayOptions,
    mut sink: F,
) -> Result<Replayer, ReplayError> {
    let opening = |e: std::io::Error| dbn::Error::io(e, format!("opening {path}"));
    let mut head = [0u8; 8];
    let mut f = File::open(path).map_err(opening)?;
    let n = read_up_to(&mut f, &mut head).map_err(|e| dbn::Error::io(e, "reading"))?;
    if n < 8 || head[..4] == ZSTD_MAGIC || &head[..3] != b"DBN" {
        return replay_file(path, opts, sink);
    }
    let file_len = f.metadata().map_err(opening)?.len();
    let metadata_len = 8 + u64::from(u32::from_le_bytes([head[4], head[5], head[6], head[7]]));
    let mut dec = decoder_from_file(path)?;
    let mut r = Replayer::new(opts);
    let mut record_bytes = 0u64;
    while let Some(rec) = dec.decode_record_ref()? {
        record_bytes += rec.record_size() as u64;
        let index = r.stats().records;
        r.on_record(rec, &mut sink)
            .map_err(|source| ReplayError::Book { index, source })?;
    }
    let left = file_len.saturating_sub(metadata_len + record_bytes);
    if left > 0 {
        return Err(ReplayError::Decode(dbn::Error::decode(format!(
            "truncated: {left} bytes after the last whole record (record {})",
            r.stats().records
        ))));
    }
    Ok(r)
}

/// Reads until `buf` is full or the end of the file; the number of bytes read.
fn read_up_to(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// Zeroes the padding bytes after `flags` so that no uninitialised byte reaches NumPy.
fn zero_padding(rows: &mut [BookSnapshot]) {
    let start = offset_of!(BookSnapshot, flags) + 1;
    let end = offset_of!(BookSnapshot, levels);
    for r in rows.iter_mut() {
        let p = (r as *mut BookSnapshot).cast::<u8>();
        // SAFETY: `start..end` lies inside the struct (padding between `flags` and
        // `levels`); writing bytes there through a byte pointer to owned memory is sound.
        unsafe { p.add(start).write_bytes(0, end - start) };
    }
}

/// Add this domain's names to the module.
pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<PyL3Book>()?;
    m.add("BookRecordError", py.get_type::<BookRecordError>())?;
    m.add("BOOK_SNAPSHOT_DTYPE", BookSnapshot::get_dtype(py))?;
    m.add("UNDEF_PRICE", dbn::UNDEF_PRICE)?;
    m.add_function(wrap_pyfunction!(replay_book, m)?)?;
    Ok(())
}
