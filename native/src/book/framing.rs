//! A guard in front of `dbn`'s decoder: checks the framing of a plain DBN byte
//! stream (the 8-byte prelude, then one length byte per record) and fails the
//! read, as `io::ErrorKind::InvalidData`, at the first record whose length is
//! shorter than a record header or not a multiple of 8 bytes.
//!
//! Why: on such input `dbn` 0.73 builds a misaligned `RecordRef` (a
//! `debug_assert` panic in debug builds, undefined behaviour in release ones).
//! Every DBN record type is a multiple of 8 bytes long, so valid files pass
//! untouched. Found by the decoder fuzz test in `tests/book_props.rs`.

use std::io::{self, Read};

/// Record header length in bytes (DBN v1-v3).
const HEADER_LEN: u64 = 16;

/// A `Read` adapter that validates DBN record framing as bytes flow through.
pub struct Framed<R> {
    inner: R,
    /// Bytes passed through so far.
    pos: u64,
    /// The first 8 bytes: `DBN`, version, metadata length (u32 LE).
    prelude: [u8; 8],
    /// Offset of the next record's length byte, once the prelude is known.
    next: Option<u64>,
    /// Set at the first bad record: every later read fails too.
    failed: bool,
}

impl<R: Read> Framed<R> {
    /// Wraps a reader of plain (decompressed) DBN.
    pub fn new(inner: R) -> Self {
        Framed {
            inner,
            pos: 0,
            prelude: [0; 8],
            next: None,
            failed: false,
        }
    }

    fn check(&mut self, chunk: &[u8]) -> io::Result<()> {
        let start = self.pos;
        let end = start + chunk.len() as u64;
        if self.next.is_none() {
            for (i, &b) in chunk.iter().enumerate() {
                let at = start + i as u64;
                if at >= 8 {
                    break;
                }
                self.prelude[at as usize] = b;
            }
            if end >= 8 {
                let meta = u32::from_le_bytes([
                    self.prelude[4],
                    self.prelude[5],
                    self.prelude[6],
                    self.prelude[7],
                ]);
                self.next = Some(8 + u64::from(meta));
            }
        }
        if let Some(mut next) = self.next {
            while next < end {
                let len = u64::from(chunk[(next - start) as usize]) * 4;
                if len < HEADER_LEN || len % 8 != 0 {
                    self.failed = true;
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("DBN record at byte {next} has length {len}: shorter than a header or not a multiple of 8"),
                    ));
                }
                next += len;
            }
            self.next = Some(next);
        }
        self.pos = end;
        Ok(())
    }
}

impl<R: Read> Read for Framed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.failed {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "DBN stream already failed its framing check",
            ));
        }
        let n = self.inner.read(buf)?;
        self.check(&buf[..n])?;
        Ok(n)
    }
}

/// Reads the DBN prelude and the whole metadata block from `r` up front and
/// returns a reader that replays them before the rest of `r`.
///
/// Why: `dbn` 0.73's metadata decoder assumes that its reads return every
/// byte requested and hits an `unreachable!` panic when a reader delivers the
/// metadata in short pieces, as sockets and pipes do (found by the TCP test).
/// Input that does not start with `DBN` is passed on as read, for `dbn` to
/// reject.
pub fn with_whole_metadata<R: Read>(mut r: R) -> io::Result<io::Chain<io::Cursor<Vec<u8>>, R>> {
    let mut head = Vec::with_capacity(8);
    (&mut r).take(8).read_to_end(&mut head)?;
    if head.len() == 8 && &head[..3] == b"DBN" {
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        (&mut r).take(u64::from(len)).read_to_end(&mut head)?;
        if head.len() != 8 + len as usize {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "DBN metadata shorter than its declared length",
            ));
        }
    }
    Ok(io::Cursor::new(head).chain(r))
}
