//! What a publisher sends: a DBN file or buffer, decompressed once into
//! memory and split into its metadata block and its record bytes, with the
//! record framing checked.

use std::io::Read;
use std::path::Path;

use super::error::FeedError;

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// A DBN stream held in memory, ready to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedSource {
    version: u8,
    metadata: Vec<u8>,
    records: Vec<u8>,
    /// Offset of every record in `records`.
    offsets: Vec<u32>,
}

impl FeedSource {
    /// Reads a DBN file (`.dbn` or `.dbn.zst`, detected from its magic number).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, FeedError> {
        let bytes = std::fs::read(path.as_ref()).map_err(FeedError::io("reading the DBN file"))?;
        Self::from_bytes(&bytes)
    }

    /// Parses DBN bytes, plain or zstd-compressed.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FeedError> {
        let plain;
        let bytes = if bytes.starts_with(&ZSTD_MAGIC) {
            let mut out = Vec::with_capacity(bytes.len() * 4);
            zstd::stream::read::Decoder::new(bytes)
                .and_then(|mut d| d.read_to_end(&mut out))
                .map_err(FeedError::io("decompressing zstd"))?;
            plain = out;
            &plain[..]
        } else {
            bytes
        };
        if bytes.len() < 8 || &bytes[..3] != b"DBN" {
            return Err(FeedError::BadSource(
                "does not start with the DBN prelude".into(),
            ));
        }
        let version = bytes[3];
        let meta_len = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
        let body = 8usize
            .checked_add(meta_len)
            .filter(|&b| b <= bytes.len())
            .ok_or_else(|| FeedError::BadSource("metadata longer than the stream".into()))?;
        let records = bytes[body..].to_vec();
        let offsets = frame(&records).map_err(FeedError::BadSource)?;
        if records.len() > u32::MAX as usize {
            return Err(FeedError::BadSource("more than 4 GiB of records".into()));
        }
        Ok(FeedSource {
            version,
            metadata: bytes[..body].to_vec(),
            records,
            offsets,
        })
    }

    /// DBN version of the stream (the fourth byte of its prelude).
    pub fn version(&self) -> u8 {
        self.version
    }

    /// The prelude and metadata block, as sent first on a TCP stream.
    pub fn metadata_bytes(&self) -> &[u8] {
        &self.metadata
    }

    /// Every record, back to back, as stored.
    pub fn records_bytes(&self) -> &[u8] {
        &self.records
    }

    /// Number of records.
    pub fn record_count(&self) -> usize {
        self.offsets.len()
    }

    /// Record `i` as bytes.
    pub fn record(&self, i: usize) -> &[u8] {
        let start = self.offsets[i] as usize;
        let len = usize::from(self.records[start]) * 4;
        &self.records[start..start + len]
    }

    /// `ts_event` of record `i` (bytes 8..16 of its header).
    pub fn ts_event(&self, i: usize) -> u64 {
        ts_event(self.record(i))
    }
}

/// `ts_event` of a framed record (bytes 8..16 of the DBN record header).
pub(crate) fn ts_event(rec: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&rec[8..16]);
    u64::from_le_bytes(b)
}

/// Checks DBN record framing (every record at least a header long, a
/// multiple of 8 bytes, and whole) and returns the record offsets.
pub(crate) fn frame(records: &[u8]) -> Result<Vec<u32>, String> {
    let mut out = Vec::with_capacity(records.len() / 56 + 1);
    let mut at = 0usize;
    while at < records.len() {
        let len = usize::from(records[at]) * 4;
        if len < 16 || len % 8 != 0 {
            return Err(format!("record at byte {at} has length {len}"));
        }
        if at + len > records.len() {
            return Err(format!("record at byte {at} is cut short"));
        }
        out.push(at as u32);
        at += len;
    }
    Ok(out)
}

impl FeedSource {
    /// Record offsets into [`FeedSource::records_bytes`].
    pub(crate) fn offsets(&self) -> &[u32] {
        &self.offsets
    }

    /// `ts_event` of the last record minus that of the first (0 if empty or
    /// not increasing), ns.
    pub fn span_ns(&self) -> u64 {
        match self.offsets.len() {
            0 => 0,
            n => self.ts_event(n - 1).saturating_sub(self.ts_event(0)),
        }
    }
}
