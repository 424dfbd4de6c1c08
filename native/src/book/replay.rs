//! Replay driver: decode DBN (plain or zstd; from a file, bytes or any reader
//! such as a socket) with Databento's `dbn` crate, apply every
//! record to the books, and emit MBP-10-like snapshots.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use dbn::decode::dbn::MetadataDecoder;
use dbn::decode::{DbnDecoder, DecodeRecordRef};
use dbn::{flags, rtype, BidAskPair, MboMsg, Mbp10Msg, RecordRef, VersionUpgradePolicy};

use super::error::{BookError, ReplayError};
use super::framing::{with_whole_metadata, Framed};
use super::inflate::{replay_in_memory, replay_plain_file, MAX_PLAIN};
use super::l3::{empty_pair, IntegrityCounts};
use super::market::{L2Market, Market};

/// When to emit a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Every {
    /// At every event boundary (a record with `F_LAST`) of the instrument.
    #[default]
    Event,
    /// After every record of the instrument.
    Record,
    /// Never (counts and final books only).
    Never,
}

/// Options of a replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayOptions {
    /// When snapshots are emitted.
    pub every: Every,
    /// Only this instrument (records of others are counted, not applied); `None` = all.
    pub instrument_id: Option<u32>,
    /// Levels per side filled in snapshots (at most 10; deeper ones stay empty).
    pub depth: usize,
    /// Stop at the first record a book refuses instead of counting and skipping it.
    pub strict: bool,
    /// For zstd input to [`replay_file`] and [`replay_bytes`]: decompress on a
    /// second thread while this one decodes and applies (a two-stage pipeline).
    pub decompress_in_thread: bool,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            every: Every::Event,
            instrument_id: None,
            depth: 10,
            strict: false,
            decompress_in_thread: true,
        }
    }
}

/// A book state in Databento's MBP-10 layout.
///
/// `#[repr(C)]`, 352 bytes: `ts_event` u64, `ts_recv` u64, `instrument_id`
/// u32, `sequence` u32, `flags` u8 (7 bytes padding), then 10 level pairs of
/// (`bid_px` i64, `ask_px` i64, `bid_sz` u32, `ask_sz` u32, `bid_ct` u32,
/// `ask_ct` u32), so a `Vec<BookSnapshot>` can be exposed to NumPy as a
/// structured array without copying.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookSnapshot {
    /// `ts_event` of the record after which the snapshot was taken (ns, UTC).
    pub ts_event: u64,
    /// `ts_recv` of that record.
    pub ts_recv: u64,
    /// Instrument of the book.
    pub instrument_id: u32,
    /// Venue sequence number of that record.
    pub sequence: u32,
    /// Flags of that record.
    pub flags: u8,
    /// Best ten levels per side; empty ones have price `UNDEF_PRICE` and size 0.
    pub levels: [BidAskPair; 10],
}

const _: () = assert!(std::mem::size_of::<BookSnapshot>() == 352);

impl Default for BookSnapshot {
    fn default() -> Self {
        BookSnapshot {
            instrument_id: 0,
            ts_event: 0,
            ts_recv: 0,
            sequence: 0,
            flags: 0,
            levels: [empty_pair(); 10],
        }
    }
}

/// Snapshots gathered column by column, in Databento's MBP-10 column
/// layout (`bid_px_00..`, `bid_sz_00..`, ...), ready to hand to NumPy/Arrow
/// without per-row work: `bid_px[i][row]` is `bid_px_0i` of that row. Prices
/// stay DBN fixed point (`UNDEF_PRICE` for an empty level).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotColumns {
    /// Levels per side kept (1..=10).
    pub depth: usize,
    /// `ts_event` of each row (ns since the UNIX epoch, UTC).
    pub ts_event: Vec<u64>,
    /// `ts_recv` of each row.
    pub ts_recv: Vec<u64>,
    /// Instrument of each row.
    pub instrument_id: Vec<u32>,
    /// Venue sequence number of each row.
    pub sequence: Vec<u32>,
    /// Flags of the record each row was taken after.
    pub flags: Vec<u8>,
    /// `bid_px_00..`: one column per level.
    pub bid_px: Vec<Vec<i64>>,
    /// `ask_px_00..`
    pub ask_px: Vec<Vec<i64>>,
    /// `bid_sz_00..`
    pub bid_sz: Vec<Vec<u32>>,
    /// `ask_sz_00..`
    pub ask_sz: Vec<Vec<u32>>,
    /// `bid_ct_00..`
    pub bid_ct: Vec<Vec<u32>>,
    /// `ask_ct_00..`
    pub ask_ct: Vec<Vec<u32>>,
}

impl SnapshotColumns {
    /// Empty columns for `depth` levels per side (clamped to 1..=10).
    pub fn new(depth: usize) -> Self {
        let depth = depth.clamp(1, 10);
        SnapshotColumns {
            depth,
            bid_px: vec![Vec::new(); depth],
            ask_px: vec![Vec::new(); depth],
            bid_sz: vec![Vec::new(); depth],
            ask_sz: vec![Vec::new(); depth],
            bid_ct: vec![Vec::new(); depth],
            ask_ct: vec![Vec::new(); depth],
            ..Default::default()
        }
    }

    /// Appends one snapshot as a row.
    #[inline]
    pub fn push(&mut self, s: &BookSnapshot) {
        self.ts_event.push(s.ts_event);
        self.ts_recv.push(s.ts_recv);
        self.instrument_id.push(s.instrument_id);
        self.sequence.push(s.sequence);
        self.flags.push(s.flags);
        // `take` keeps this panic-free even if the public fields were edited.
        let depth = self.depth.min(self.bid_px.len()).min(self.ask_px.len());
        let depth = depth.min(self.bid_sz.len()).min(self.ask_sz.len());
        let depth = depth.min(self.bid_ct.len()).min(self.ask_ct.len());
        for (i, p) in s.levels.iter().enumerate().take(depth) {
            self.bid_px[i].push(p.bid_px);
            self.ask_px[i].push(p.ask_px);
            self.bid_sz[i].push(p.bid_sz);
            self.ask_sz[i].push(p.ask_sz);
            self.bid_ct[i].push(p.bid_ct);
            self.ask_ct[i].push(p.ask_ct);
        }
    }

    /// Columns of `rows` (one transposition pass into pre-sized columns;
    /// cheaper than growing sixty columns row by row during a replay).
    pub fn from_rows(rows: &[BookSnapshot], depth: usize) -> Self {
        let mut c = SnapshotColumns::with_capacity(depth, rows.len());
        for r in rows {
            c.push(r);
        }
        c
    }

    /// Empty columns with room for `rows` rows.
    pub fn with_capacity(depth: usize, rows: usize) -> Self {
        let mut c = SnapshotColumns::new(depth);
        c.ts_event.reserve_exact(rows);
        c.ts_recv.reserve_exact(rows);
        c.instrument_id.reserve_exact(rows);
        c.sequence.reserve_exact(rows);
        c.flags.reserve_exact(rows);
        for i in 0..c.depth {
            c.bid_px[i].reserve_exact(rows);
            c.ask_px[i].reserve_exact(rows);
            c.bid_sz[i].reserve_exact(rows);
            c.ask_sz[i].reserve_exact(rows);
            c.bid_ct[i].reserve_exact(rows);
            c.ask_ct[i].reserve_exact(rows);
        }
        c
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.ts_event.len()
    }

    /// `true` when there is no row.
    pub fn is_empty(&self) -> bool {
        self.ts_event.is_empty()
    }
}

/// Counts of MBO actions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActionCounts {
    /// `A`
    pub add: u64,
    /// `C`
    pub cancel: u64,
    /// `M`
    pub modify: u64,
    /// `R`
    pub clear: u64,
    /// `F`
    pub fill: u64,
    /// `T`
    pub trade: u64,
    /// `N`
    pub none: u64,
    /// any other byte
    pub other: u64,
}

impl ActionCounts {
    /// From counts indexed by [`ACTION_SLOT`].
    fn from_slots(c: &[u64; 8]) -> Self {
        ActionCounts {
            add: c[0],
            cancel: c[1],
            modify: c[2],
            clear: c[3],
            fill: c[4],
            trade: c[5],
            none: c[6],
            other: c[7],
        }
    }
}

/// Slot of each action byte in the replayer's action counts (a table
/// lookup instead of a branch per record: the actions of a feed are not
/// predictable).
const ACTION_SLOT: [u8; 256] = {
    let mut t = [7u8; 256];
    t[b'A' as usize] = 0;
    t[b'C' as usize] = 1;
    t[b'M' as usize] = 2;
    t[b'R' as usize] = 3;
    t[b'F' as usize] = 4;
    t[b'T' as usize] = 5;
    t[b'N' as usize] = 6;
    t
};

/// What a replay saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Every record decoded.
    pub records: u64,
    /// MBO records applied to L3 books.
    pub mbo_records: u64,
    /// MBP-10 records applied to L2 books.
    pub mbp10_records: u64,
    /// Records of other schemas (ignored).
    pub other_records: u64,
    /// MBO or MBP-10 records shorter than their type (corrupt input; skipped).
    pub malformed_records: u64,
    /// Records of instruments filtered out by `instrument_id`.
    pub filtered_out: u64,
    /// MBO actions of the applied records.
    pub actions: ActionCounts,
    /// Applied records with `F_LAST` (event boundaries).
    pub event_boundaries: u64,
    /// Applied records with the `SNAPSHOT` flag.
    pub snapshot_records: u64,
    /// Snapshots emitted.
    pub snapshots_emitted: u64,
    /// Records refused by a book (lenient mode; see [`IntegrityCounts::refused`]).
    pub refused: u64,
}

/// Applies records to per-instrument books and emits snapshots.
///
/// Feed it from a decoder ([`Replayer::run`]) or one record at a time
/// ([`Replayer::on_record`], [`Replayer::on_mbo`]) from a stream.
#[derive(Debug, Clone, Default)]
pub struct Replayer {
    opts: ReplayOptions,
    market: Market,
    l2: L2Market,
    stats: ReplayStats,
    /// MBO action counts by [`ACTION_SLOT`] (folded into `stats` on read).
    actions: [u64; 8],
    snap: BookSnapshot,
    /// The L3 book whose levels `snap` holds, if any.
    snap_l3: Option<u32>,
}

impl Replayer {
    /// A replayer with empty books.
    pub fn new(opts: ReplayOptions) -> Self {
        Replayer {
            opts,
            ..Default::default()
        }
    }

    /// The L3 books.
    pub fn market(&self) -> &Market {
        &self.market
    }

    /// The L2 books.
    pub fn l2_market(&self) -> &L2Market {
        &self.l2
    }

    /// Counts so far.
    pub fn stats(&self) -> ReplayStats {
        ReplayStats {
            actions: ActionCounts::from_slots(&self.actions),
            ..self.stats
        }
    }

    /// Sizes the books for input of about `plain_bytes` bytes of plain DBN
    /// (the order-id index of each new L3 book is reserved for a sixth of
    /// the MBO records that fit, at most 65,536 orders; see
    /// [`Market::reserve_orders`]).
    pub fn reserve_for(&mut self, plain_bytes: usize) {
        let records = plain_bytes / std::mem::size_of::<MboMsg>();
        self.market.reserve_orders((records / 6).min(1 << 16));
    }

    /// Records seen so far (the index of the next one).
    #[inline]
    pub fn records(&self) -> u64 {
        self.stats.records
    }

    /// Integrity counters summed over the L3 books.
    pub fn integrity(&self) -> IntegrityCounts {
        self.market.integrity()
    }

    /// Applies one decoded record of any schema.
    #[inline]
    pub fn on_record<F: FnMut(&BookSnapshot)>(
        &mut self,
        rec: RecordRef<'_>,
        sink: &mut F,
    ) -> Result<(), BookError> {
        match rec.header().rtype {
            // `try_get`, not `get`: `get` panics on a record shorter than its type.
            rtype::MBO => match rec.try_get::<MboMsg>() {
                Ok(m) => self.on_mbo(m, sink),
                Err(_) => self.malformed(),
            },
            rtype::MBP_10 => match rec.try_get::<Mbp10Msg>() {
                Ok(m) => {
                    self.on_mbp10(m, sink);
                    Ok(())
                }
                Err(_) => self.malformed(),
            },
            _ => self.other(),
        }
    }

    fn malformed(&mut self) -> Result<(), BookError> {
        self.stats.records += 1;
        self.stats.malformed_records += 1;
        Ok(())
    }

    fn other(&mut self) -> Result<(), BookError> {
        self.stats.records += 1;
        self.stats.other_records += 1;
        Ok(())
    }

    /// Applies one MBO record.
    #[inline]
    pub fn on_mbo<F: FnMut(&BookSnapshot)>(
        &mut self,
        msg: &MboMsg,
        sink: &mut F,
    ) -> Result<(), BookError> {
        self.stats.records += 1;
        let id = msg.hd.instrument_id;
        if let Some(want) = self.opts.instrument_id {
            if want != id {
                self.stats.filtered_out += 1;
                return Ok(());
            }
        }
        self.stats.mbo_records += 1;
        self.actions[usize::from(ACTION_SLOT[usize::from(msg.action as u8)])] += 1;
        let fl = msg.flags.raw();
        let is_last = fl & flags::LAST != 0;
        self.stats.event_boundaries += u64::from(is_last);
        self.stats.snapshot_records += u64::from(fl & flags::SNAPSHOT != 0);
        let res = self.market.apply(msg);
        if let Err(e) = res {
            self.stats.refused += 1;
            if self.opts.strict {
                return Err(e);
            }
        }
        let emit = match self.opts.every {
            Every::Event => is_last,
            Every::Record => true,
            Every::Never => false,
        };
        if emit {
            if let Some(book) = self.market.get_mut(id) {
                let depth = self.opts.depth.min(10);
                let s = &mut self.snap;
                // Refill the levels whole when the last snapshot was of
                // another book (or of MBP-10), else only those of this book
                // changed since its last snapshot.
                if self.snap_l3 != Some(id) {
                    book.take_top_changed();
                    s.levels = [empty_pair(); 10];
                    book.fill_levels(&mut s.levels[..depth]);
                    self.snap_l3 = Some(id);
                } else {
                    book.refresh_levels(&mut s.levels[..depth]);
                }
                s.instrument_id = id;
                s.ts_event = msg.hd.ts_event;
                s.ts_recv = msg.ts_recv;
                s.sequence = msg.sequence;
                s.flags = fl;
                self.stats.snapshots_emitted += 1;
                sink(&self.snap);
            }
        }
        Ok(())
    }

    /// Applies one MBP-10 record.
    #[inline]
    pub fn on_mbp10<F: FnMut(&BookSnapshot)>(&mut self, msg: &Mbp10Msg, sink: &mut F) {
        self.stats.records += 1;
        let id = msg.hd.instrument_id;
        if let Some(want) = self.opts.instrument_id {
            if want != id {
                self.stats.filtered_out += 1;
                return;
            }
        }
        self.stats.mbp10_records += 1;
        let fl = msg.flags.raw();
        let is_last = fl & flags::LAST != 0;
        self.stats.event_boundaries += u64::from(is_last);
        self.l2.apply(msg);
        let emit = match self.opts.every {
            Every::Event => is_last,
            Every::Record => true,
            Every::Never => false,
        };
        if emit {
            let depth = self.opts.depth.min(10);
            self.snap_l3 = None;
            let s = &mut self.snap;
            s.instrument_id = id;
            s.ts_event = msg.hd.ts_event;
            s.ts_recv = msg.ts_recv;
            s.sequence = msg.sequence;
            s.flags = fl;
            s.levels = [empty_pair(); 10];
            s.levels[..depth].copy_from_slice(&msg.levels[..depth]);
            self.stats.snapshots_emitted += 1;
            sink(&self.snap);
        }
    }

    /// Decodes every record of `decoder` and applies it.
    pub fn run<D: DecodeRecordRef, F: FnMut(&BookSnapshot)>(
        &mut self,
        decoder: &mut D,
        sink: &mut F,
    ) -> Result<ReplayStats, ReplayError> {
        while let Some(rec) = decoder.decode_record_ref()? {
            let index = self.stats.records;
            self.on_record(rec, sink)
                .map_err(|source| ReplayError::Book { index, source })?;
        }
        Ok(self.stats())
    }
}

/// The DBN decoder used by the replay functions: Databento's own decoder
/// (`dbn::decode::DbnDecoder`, records kept in their stored DBN version:
/// `MboMsg` and `Mbp10Msg` are the same type in DBN 1, 2 and 3, and skipping
/// the per-record upgrade of v1 files such as ESH4 saves a third of the
/// decode time; other record types are not read by the books) over a
/// framing-checked plain byte stream (zstd, when present, is undone first).
pub type BookDecoder<'a> = DbnDecoder<Framed<Box<dyn Read + 'a>>>;

fn dbn_decoder<'a>(plain: Box<dyn Read + 'a>) -> Result<BookDecoder<'a>, dbn::Error> {
    let whole =
        with_whole_metadata(plain).map_err(|e| dbn::Error::io(e, "reading DBN metadata"))?;
    DbnDecoder::with_upgrade_policy(Framed::new(Box::new(whole)), UPGRADE)
}

/// A decoder over DBN bytes in memory, plain or zstd-compressed (detected).
pub fn decoder_from_bytes(bytes: &[u8]) -> Result<BookDecoder<'_>, dbn::Error> {
    if bytes.starts_with(&ZSTD_MAGIC) {
        let z = zstd::stream::read::Decoder::with_buffer(bytes)
            .map_err(|e| dbn::Error::io(e, "creating zstd decoder"))?;
        dbn_decoder(Box::new(z))
    } else {
        dbn_decoder(Box::new(bytes))
    }
}

/// A decoder over any reader, e.g. a file or a TCP socket, plain or
/// zstd-compressed (detected from the first bytes).
pub fn decoder_from_reader<'a, R: Read + 'a>(mut reader: R) -> Result<BookDecoder<'a>, dbn::Error> {
    // Peek at 4 bytes even if the reader hands them out one at a time.
    let mut magic = Vec::with_capacity(4);
    (&mut reader)
        .take(4)
        .read_to_end(&mut magic)
        .map_err(|e| dbn::Error::io(e, "reading the start of the stream"))?;
    let is_zstd = magic == ZSTD_MAGIC;
    let src = io::Cursor::new(magic).chain(reader);
    if is_zstd {
        let z = zstd::stream::read::Decoder::new(src)
            .map_err(|e| dbn::Error::io(e, "creating zstd decoder"))?;
        dbn_decoder(Box::new(z))
    } else {
        dbn_decoder(Box::new(BufReader::with_capacity(CHUNK, src)))
    }
}

/// A decoder over a DBN file (`.dbn` or `.dbn.zst`).
pub fn decoder_from_file(path: impl AsRef<Path>) -> Result<BookDecoder<'static>, dbn::Error> {
    let f = File::open(path.as_ref())
        .map_err(|e| dbn::Error::io(e, format!("opening {}", path.as_ref().display())))?;
    decoder_from_reader(f)
}

/// See [`BookDecoder`].
pub(crate) const UPGRADE: VersionUpgradePolicy = VersionUpgradePolicy::AsIs;

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];
const CHUNK: usize = 256 * 1024;

/// Decompresses `src` (zstd, any number of frames) on the producer thread and
/// sends the plain DBN to `tx` cut at record boundaries: first the prelude and
/// metadata block, then chunks of whole records (a record split by a chunk
/// end is carried to the next chunk). The framing is checked on the way (as
/// [`Framed`] does): a record shorter than a header or not a multiple of 8
/// bytes ends the stream with an `InvalidData` error. A partial record at the
/// very end is dropped, as `dbn`'s decoder does. Buffers come back on `back`.
fn produce<R: io::BufRead>(src: R, tx: SyncSender<io::Result<Vec<u8>>>, back: Receiver<Vec<u8>>) {
    let mut dec = match zstd::stream::read::Decoder::with_buffer(src) {
        Ok(d) => d,
        Err(e) => {
            let _ = tx.send(Err(e));
            return;
        }
    };
    // The prelude and the whole metadata block (anything else is sent as read,
    // for the consumer's metadata decoder to reject).
    let mut head = Vec::with_capacity(8);
    if let Err(e) = (&mut dec).take(8).read_to_end(&mut head) {
        let _ = tx.send(Err(e));
        return;
    }
    let is_dbn = head.len() == 8 && &head[..3] == b"DBN";
    if is_dbn {
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        if let Err(e) = (&mut dec).take(u64::from(len)).read_to_end(&mut head) {
            let _ = tx.send(Err(e));
            return;
        }
    }
    let mut base = head.len() as u64; // stream offset of the next chunk
    if tx.send(Ok(head)).is_err() || !is_dbn {
        return;
    }
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let mut chunk = back.try_recv().unwrap_or_default();
        chunk.clear();
        chunk.extend_from_slice(&carry);
        let kept = chunk.len();
        chunk.resize(CHUNK.max(kept + 1), 0);
        let mut filled = kept;
        let mut eof = false;
        while filled < chunk.len() {
            match dec.read(&mut chunk[filled..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            }
        }
        let mut at = 0usize;
        while at < filled {
            let len = usize::from(chunk[at]) * 4;
            if len < 16 || len % 8 != 0 {
                let _ = tx.send(Err(bad_record_length(base + at as u64, len)));
                return;
            }
            if at + len > filled {
                break;
            }
            at += len;
        }
        carry.clear();
        carry.extend_from_slice(&chunk[at..filled]);
        chunk.truncate(at);
        base += at as u64;
        if at > 0 && tx.send(Ok(chunk)).is_err() {
            return;
        }
        if eof {
            return;
        }
    }
}

/// The error for a record length shorter than a header or not a multiple of 8.
pub(crate) fn bad_record_length(at: u64, len: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("DBN record at byte {at} has length {len}: shorter than a header or not a multiple of 8"),
    )
}

/// Applies the whole records of a chunk from [`produce`] (no copy: each
/// record is read in place; one not 8-byte aligned, which a `Vec` from the
/// system allocator never is, would be copied to an aligned buffer first).
fn apply_chunk<F: FnMut(&BookSnapshot)>(
    r: &mut Replayer,
    chunk: &[u8],
    sink: &mut F,
) -> Result<(), ReplayError> {
    let mut at = 0usize;
    while at < chunk.len() {
        let len = usize::from(chunk[at]) * 4;
        let bytes = &chunk[at..at + len];
        let mut aligned: [u64; 128]; // 1,024 bytes: a record is at most 255 * 4
        let bytes = if (bytes.as_ptr() as usize).is_multiple_of(std::mem::align_of::<u64>()) {
            bytes
        } else {
            aligned = [0; 128];
            // SAFETY: `aligned` is 1,024 initialised bytes, `len` <= 1,020.
            let out =
                unsafe { std::slice::from_raw_parts_mut(aligned.as_mut_ptr().cast::<u8>(), len) };
            out.copy_from_slice(bytes);
            out
        };
        // SAFETY: `produce` checked the framing: `bytes` is one whole record
        // (its length byte times 4, at least a 16-byte header, a multiple of
        // 8), 8-byte aligned, as `dbn`'s own decoder hands out.
        let rec = unsafe { RecordRef::new(bytes) };
        let index = r.records();
        r.on_record(rec, sink)
            .map_err(|source| ReplayError::Book { index, source })?;
        at += len;
    }
    Ok(())
}

/// Replays zstd-compressed DBN from `src`, decompressing on a scoped thread
/// while this one applies the records in place in the decompressed chunks
/// (a two-stage pipeline: the time approaches the slower stage, not the sum).
fn replay_pipelined<R: io::BufRead + Send, F: FnMut(&BookSnapshot)>(
    src: R,
    opts: ReplayOptions,
    sink: &mut F,
) -> Result<Replayer, ReplayError> {
    let (tx, rx) = sync_channel::<io::Result<Vec<u8>>>(4);
    let (back_tx, back_rx) = sync_channel::<Vec<u8>>(8);
    let zstd_error = |e: io::Error| ReplayError::from(dbn::Error::io(e, "decompressing zstd"));
    std::thread::scope(|scope| {
        scope.spawn(move || produce(src, tx, back_rx));
        let head = match rx.recv() {
            Ok(Ok(head)) => head,
            Ok(Err(e)) => return Err(zstd_error(e)),
            Err(_) => Vec::new(),
        };
        // `dbn` checks the prelude, version and metadata as for any stream.
        MetadataDecoder::<_>::with_upgrade_policy(&head[..], UPGRADE).decode()?;
        let mut r = Replayer::new(opts);
        for chunk in rx.iter() {
            let chunk = chunk.map_err(zstd_error)?;
            apply_chunk(&mut r, &chunk, sink)?;
            let _ = back_tx.try_send(chunk);
        }
        Ok(r)
        // Leaving the scope drops the receiver (stopping the producer early on
        // an error) and joins the thread.
    })
}

/// Replays a DBN file (plain `.dbn` or `.dbn.zst`); returns the replayer
/// (final books and counts).
pub fn replay_file<F: FnMut(&BookSnapshot)>(
    path: impl AsRef<Path>,
    opts: ReplayOptions,
    mut sink: F,
) -> Result<Replayer, ReplayError> {
    if opts.decompress_in_thread {
        let mut f = File::open(path.as_ref())
            .map_err(|e| dbn::Error::io(e, format!("opening {}", path.as_ref().display())))?;
        let mut magic = [0u8; 4];
        let n = f
            .read(&mut magic)
            .map_err(|e| dbn::Error::io(e, "reading"))?;
        f.seek(SeekFrom::Start(0))
            .map_err(|e| dbn::Error::io(e, "seeking"))?;
        if n == 4 && magic == ZSTD_MAGIC {
            let size = f.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
            if size <= (MAX_PLAIN / 4) as u64 {
                let mut src = Vec::with_capacity(size as usize);
                f.read_to_end(&mut src)
                    .map_err(|e| dbn::Error::io(e, "reading"))?;
                if let Some(res) = replay_in_memory(&src, opts, &mut sink) {
                    return res;
                }
                return replay_pipelined(&src[..], opts, &mut sink);
            }
            return replay_pipelined(BufReader::new(f), opts, &mut sink);
        }
        let size = f.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
        if size <= MAX_PLAIN as u64 {
            if let Some(res) = replay_plain_file(f, size as usize, opts, &mut sink) {
                return res;
            }
        }
    }
    let mut dec = decoder_from_file(path)?;
    let mut r = Replayer::new(opts);
    r.run(&mut dec, &mut sink)?;
    Ok(r)
}

/// Replays DBN bytes held in memory.
pub fn replay_bytes<F: FnMut(&BookSnapshot)>(
    bytes: &[u8],
    opts: ReplayOptions,
    mut sink: F,
) -> Result<Replayer, ReplayError> {
    if opts.decompress_in_thread && bytes.starts_with(&ZSTD_MAGIC) {
        if let Some(res) = replay_in_memory(bytes, opts, &mut sink) {
            return res;
        }
        return replay_pipelined(bytes, opts, &mut sink);
    }
    let mut dec = decoder_from_bytes(bytes)?;
    let mut r = Replayer::new(opts);
    r.run(&mut dec, &mut sink)?;
    Ok(r)
}

/// Replays a DBN stream from any reader (a socket, a pipe, a file).
pub fn replay_reader<R: Read, F: FnMut(&BookSnapshot)>(
    reader: R,
    opts: ReplayOptions,
    mut sink: F,
) -> Result<Replayer, ReplayError> {
    let mut dec = decoder_from_reader(reader)?;
    let mut r = Replayer::new(opts);
    r.run(&mut dec, &mut sink)?;
    Ok(r)
}

/// Replays a DBN file and gathers the snapshots as rows (see
/// [`BookSnapshot`]'s layout).
pub fn replay_file_rows(
    path: impl AsRef<Path>,
    opts: ReplayOptions,
) -> Result<(Vec<BookSnapshot>, Replayer), ReplayError> {
    let mut rows = Vec::new();
    let r = replay_file(path, opts, |s| rows.push(*s))?;
    Ok((rows, r))
}

/// Replays a DBN file and gathers the snapshots as columns (the shape of the
/// Python `replay(path, depth=10, every="event")` DataFrame).
pub fn replay_file_columns(
    path: impl AsRef<Path>,
    opts: ReplayOptions,
) -> Result<(SnapshotColumns, Replayer), ReplayError> {
    let (rows, r) = replay_file_rows(path, opts)?;
    Ok((SnapshotColumns::from_rows(&rows, opts.depth), r))
}
