//! DBN files read whole for the catalog ingest (`workbench data ingest`).
//!
//! A file (plain or zstd) is decompressed into one buffer; Databento's `dbn` crate parses
//! its metadata and walks every record (behind the framing guard of `book::framing`) to
//! prove the stream whole and homogeneous. The records are left exactly as the file holds
//! them (no version upgrade), which is the layout of the NumPy record dtypes that the
//! official Python client uses in `DBNStore.to_ndarray`: Python views the buffer with that
//! dtype and does no per-record work. [`symbol_codes`] maps every record's instrument id to
//! its raw symbol over time, as `workbench.data.dbn` did with NumPy.

pub mod bars;

use std::collections::HashMap;
use std::io::{self, Read};

use dbn::decode::dbn::{MetadataDecoder, RecordDecoder};
use dbn::decode::DecodeRecordRef;
use dbn::{Record, VersionUpgradePolicy};

/// The first four bytes of a zstd frame (little endian).
const ZSTD_MAGIC: u32 = 0xFD2F_B528;
/// Nanoseconds per day.
const NS_PER_DAY: i64 = 86_400_000_000_000;
/// Record header length in bytes (DBN v1-v3).
const HEADER_LEN: usize = 16;
/// Offset of `instrument_id` (u32) in every DBN record header.
const IID_OFFSET: usize = 4;
/// Offset of `ts_event` (u64) in every DBN record header.
const TS_OFFSET: usize = 8;

/// Why a DBN file could not be read for the ingest.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file could not be read.
    #[error("{0}")]
    Read(io::Error),
    /// The zstd stream is corrupt or cut short.
    #[error("zstd: {0}")]
    Decompress(io::Error),
    /// The stream ends inside the DBN metadata header.
    #[error("it ends inside its DBN metadata header ({0} of {1} bytes)")]
    MetadataCut(usize, usize),
    /// A record length byte that no DBN record can have.
    #[error("{0}")]
    Framing(String),
    /// Not DBN, or its metadata or records are malformed.
    #[error("{0}")]
    Dbn(#[from] dbn::Error),
    /// The stream ends inside a record.
    #[error("the last record is cut short: {0} stray bytes after record {1}")]
    Truncated(usize, usize),
    /// Records of different lengths (mixed schemas): not for this path.
    #[error("records of different lengths ({0} and {1} bytes): mixed record types")]
    Mixed(usize, usize),
}

/// A DBN file decompressed whole and checked.
#[derive(Debug, Clone, Default)]
pub struct DbnFile {
    /// The plain DBN bytes: prelude and metadata, then the records.
    pub bytes: Vec<u8>,
    /// Where the records start in `bytes` (8 + the metadata length).
    pub records_start: usize,
    /// Length of every record (0 when there are none).
    pub record_len: usize,
    /// Number of records.
    pub count: usize,
    /// DBN version of the file.
    pub version: u8,
    /// Schema named by the metadata (`None` for mixed streams).
    pub schema: Option<String>,
    /// Whether records carry a trailing `ts_out`.
    pub ts_out: bool,
}

impl DbnFile {
    /// The records region of [`DbnFile::bytes`].
    pub fn records(&self) -> &[u8] {
        &self.bytes[self.records_start..]
    }
}

/// Plain DBN bytes of `raw`: zstd (any number of frames) is undone, anything else is
/// passed through for the metadata decoder to accept or refuse.
pub fn decompress(raw: Vec<u8>) -> io::Result<Vec<u8>> {
    let is_zstd =
        raw.len() >= 4 && u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) == ZSTD_MAGIC;
    if !is_zstd {
        return Ok(raw);
    }
    let mut out = Vec::with_capacity(raw.len().saturating_mul(5));
    zstd::stream::read::Decoder::with_buffer(&raw[..])?.read_to_end(&mut out)?;
    Ok(out)
}

/// Reads a DBN file (plain or zstd) whole and checks every record (see the module docs).
///
/// # Errors
/// [`IngestError`] when the file cannot be read, is not DBN, or its records are cut short,
/// malformed or of mixed lengths.
pub fn read_dbn_file(path: &std::path::Path) -> Result<DbnFile, IngestError> {
    read_dbn_bytes(std::fs::read(path).map_err(IngestError::Read)?)
}

/// [`read_dbn_file`] for bytes already in memory (plain or zstd).
///
/// # Errors
/// As [`read_dbn_file`].
pub fn read_dbn_bytes(raw: Vec<u8>) -> Result<DbnFile, IngestError> {
    let bytes = decompress(raw).map_err(IngestError::Decompress)?;
    if bytes.len() >= 8 && &bytes[..3] == b"DBN" {
        let declared = 8 + u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
        if bytes.len() < declared {
            return Err(IngestError::MetadataCut(bytes.len(), declared));
        }
    }
    let metadata =
        MetadataDecoder::with_upgrade_policy(&bytes[..], VersionUpgradePolicy::AsIs).decode()?;
    // `MetadataDecoder` accepted the prelude, so the first 8 bytes are there.
    let meta_len = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    let records_start = 8 + meta_len;
    let body = &bytes[records_start.min(bytes.len())..];
    // The framing walk first: `dbn` 0.73 must never see a record whose length byte is
    // shorter than a header or not a multiple of 8 (see `book::framing`).
    let (count, record_len) = walk_lengths(body)?;
    let mut decoder = RecordDecoder::with_version(
        body,
        metadata.version,
        VersionUpgradePolicy::AsIs,
        metadata.ts_out,
    )?;
    let mut decoded = 0usize;
    while let Some(rec) = decoder.decode_record_ref()? {
        if rec.record_size() != record_len {
            return Err(IngestError::Mixed(record_len, rec.record_size()));
        }
        decoded += 1;
    }
    if decoded != count {
        return Err(IngestError::Truncated(
            body.len() - decoded * record_len,
            decoded,
        ));
    }
    Ok(DbnFile {
        records_start,
        record_len,
        count,
        version: metadata.version,
        schema: metadata.schema.map(|s| s.as_str().to_owned()),
        ts_out: metadata.ts_out,
        bytes,
    })
}

/// Walks the length bytes of `body` (records only): the record count and the common
/// record length.
fn walk_lengths(body: &[u8]) -> Result<(usize, usize), IngestError> {
    let (mut pos, mut count, mut record_len) = (0usize, 0usize, 0usize);
    while pos < body.len() {
        let len = usize::from(body[pos]) * 4;
        if len < HEADER_LEN || len % 8 != 0 {
            return Err(IngestError::Framing(format!(
                "DBN record {count} has length {len}: shorter than a header or not a multiple of 8"
            )));
        }
        if count == 0 {
            record_len = len;
        } else if len != record_len {
            return Err(IngestError::Mixed(record_len, len));
        }
        if pos + len > body.len() {
            return Err(IngestError::Truncated(body.len() - pos, count));
        }
        pos += len;
        count += 1;
    }
    Ok((count, record_len))
}

/// One symbology interval of an instrument: `[start_day, end_day)` in days since the UNIX
/// epoch (UTC), and the raw symbol it had then.
pub type Interval = (i64, i64, String);

/// Raw symbol of each record as codes into a list of names, from the metadata's symbology
/// (`mappings`: per instrument id, its intervals in metadata order).
///
/// The same codes and names, in the same order, as `workbench.data.dbn._symbols_for` made
/// with NumPy: `""` first (unknown), then the symbols of instruments with a single symbol in
/// ascending id order, then those of instruments whose symbol changes over time (ascending
/// id, intervals in metadata order; a later matching interval wins). No records: no names.
pub fn symbol_codes(
    records: &[u8],
    record_len: usize,
    mappings: &[(u32, Vec<Interval>)],
) -> (Vec<i32>, Vec<String>) {
    if record_len == 0 || records.len() < record_len {
        return (Vec::new(), Vec::new());
    }
    let iid_of = |r: &[u8]| {
        u32::from_le_bytes([
            r[IID_OFFSET],
            r[IID_OFFSET + 1],
            r[IID_OFFSET + 2],
            r[IID_OFFSET + 3],
        ])
    };
    let mut ids: Vec<u32> = Vec::new();
    let mut last = None;
    for r in records.chunks_exact(record_len) {
        let iid = iid_of(r);
        if last == Some(iid) {
            continue;
        }
        last = Some(iid);
        if let Err(at) = ids.binary_search(&iid) {
            ids.insert(at, iid);
        }
    }
    let by_id: HashMap<u32, &Vec<Interval>> = mappings.iter().map(|(i, v)| (*i, v)).collect();
    let mut names = vec![String::new()];
    let mut index: HashMap<String, i32> = HashMap::from([(String::new(), 0)]);
    let mut code = |sym: &str, names: &mut Vec<String>| -> i32 {
        if let Some(&c) = index.get(sym) {
            return c;
        }
        let c = names.len() as i32;
        index.insert(sym.to_owned(), c);
        names.push(sym.to_owned());
        c
    };
    // Per distinct id: its code, or the coded intervals when its symbol changes.
    let mut per_id = vec![0i32; ids.len()];
    let mut ambiguous: Vec<usize> = Vec::new();
    for (k, iid) in ids.iter().enumerate() {
        match by_id.get(iid) {
            Some(c) if !c.is_empty() => {
                if c.iter().all(|iv| iv.2 == c[0].2) {
                    per_id[k] = code(&c[0].2, &mut names);
                } else {
                    ambiguous.push(k);
                }
            }
            _ => {}
        }
    }
    let mut coded: Vec<Option<Vec<(i64, i64, i32)>>> = vec![None; ids.len()];
    for &k in &ambiguous {
        let ivs = by_id[&ids[k]]
            .iter()
            .map(|(s, e, sym)| (*s, *e, code(sym, &mut names)))
            .collect();
        coded[k] = Some(ivs);
    }
    let mut codes = Vec::with_capacity(records.len() / record_len);
    let (mut last_iid, mut last_k) = (u32::MAX, 0usize);
    for r in records.chunks_exact(record_len) {
        let iid = iid_of(r);
        if iid != last_iid || ids[last_k] != iid {
            last_k = ids.binary_search(&iid).unwrap_or(0);
            last_iid = iid;
        }
        let c = match &coded[last_k] {
            None => per_id[last_k],
            Some(ivs) => {
                let mut ts = [0u8; 8];
                ts.copy_from_slice(&r[TS_OFFSET..TS_OFFSET + 8]);
                let day = (u64::from_le_bytes(ts) as i64).div_euclid(NS_PER_DAY);
                let mut c = 0;
                for &(s, e, ic) in ivs {
                    if day >= s && day < e {
                        c = ic;
                    }
                }
                c
            }
        };
        codes.push(c);
    }
    (codes, names)
}

#[cfg(test)]
mod tests;
