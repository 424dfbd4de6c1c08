//! The UDP datagram format. See the module documentation of [`crate::feed`].

/// Length of the datagram header in bytes (a multiple of 8, so records after
/// it keep their 8-byte alignment relative to the datagram start).
pub const HEADER_LEN: usize = 24;

/// The two magic bytes that open every datagram.
pub const MAGIC: [u8; 2] = *b"WF";

/// Version of this wire format.
pub const WIRE_VERSION: u8 = 1;

/// What a datagram carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum DatagramKind {
    /// Whole DBN records, `count` of them, back to back.
    Records = 0,
    /// The DBN prelude and metadata block of the stream (sequence 0).
    Metadata = 1,
    /// End of stream: payload = records published (u64 LE), then record
    /// datagrams published (u64 LE), both counting deliberate test drops.
    End = 2,
}

impl DatagramKind {
    fn from_u8(b: u8) -> Option<Self> {
        match b {
            0 => Some(DatagramKind::Records),
            1 => Some(DatagramKind::Metadata),
            2 => Some(DatagramKind::End),
            _ => None,
        }
    }
}

/// A decoded datagram header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// What the payload is.
    pub kind: DatagramKind,
    /// Records in the payload (0 unless `kind` is `Records`).
    pub count: u16,
    /// DBN version of the records (the stream's prelude version).
    pub dbn_version: u8,
    /// Datagram sequence number: 0 for the metadata, then +1 per datagram.
    pub seq: u64,
    /// Publisher's wall clock at send time, ns since the UNIX epoch (for lag
    /// measurement only; books never read it).
    pub send_ns: u64,
}

impl Header {
    /// Writes the header into the first [`HEADER_LEN`] bytes of `out`.
    pub fn write(&self, out: &mut [u8]) {
        out[0..2].copy_from_slice(&MAGIC);
        out[2] = WIRE_VERSION;
        out[3] = self.kind as u8;
        out[4..6].copy_from_slice(&self.count.to_le_bytes());
        out[6] = self.dbn_version;
        out[7] = 0;
        out[8..16].copy_from_slice(&self.seq.to_le_bytes());
        out[16..24].copy_from_slice(&self.send_ns.to_le_bytes());
    }

    /// Reads a header; `None` if `buf` is shorter than a header or does not
    /// carry this format's magic, version and a known kind.
    pub fn read(buf: &[u8]) -> Option<Header> {
        if buf.len() < HEADER_LEN || buf[0..2] != MAGIC || buf[2] != WIRE_VERSION {
            return None;
        }
        let kind = DatagramKind::from_u8(buf[3])?;
        let u64_at = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[i..i + 8]);
            u64::from_le_bytes(b)
        };
        Some(Header {
            kind,
            count: u16::from_le_bytes([buf[4], buf[5]]),
            dbn_version: buf[6],
            seq: u64_at(8),
            send_ns: u64_at(16),
        })
    }
}

/// Checks that `payload` holds exactly `count` whole DBN records (each at
/// least a header long and a multiple of 8 bytes).
pub fn check_records(payload: &[u8], count: u16) -> bool {
    let mut at = 0usize;
    let mut n = 0u32;
    while at < payload.len() {
        let len = usize::from(payload[at]) * 4;
        if len < 16 || len % 8 != 0 || at + len > payload.len() {
            return false;
        }
        at += len;
        n += 1;
    }
    n == u32::from(count)
}

/// Wall clock in ns since the UNIX epoch (0 if the clock is before it).
pub(crate) fn unix_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}
