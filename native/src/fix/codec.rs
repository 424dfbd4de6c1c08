//! The tag=value codec: framing of a byte stream, zero-copy decoding with BodyLength and
//! CheckSum verified, a fast encoder into a reusable buffer, and UTCTimestamp values.
//!
//! A [`Message`] holds every field but BeginString (8), BodyLength (9) and CheckSum (10),
//! which the [`Encoder`] computes: it writes 8, 9, then the header in standard order
//! (35, 49, 56, 34, 52, then any other header field in the order the message holds them),
//! the body in the message's own order (so repeating groups stay as they were built), the
//! trailer, and 10. A [`MessageView`] borrows the frame it was decoded from; its field list
//! lives in the [`Decoder`] and is reused from message to message.
//!
//! Nothing here panics on any input: every malformed frame is a [`DecodeError`].

use std::fmt;

use thiserror::Error;

use super::tags::{self, data_length_tag, is_header, is_trailer};

/// The field separator, SOH.
pub const SOH: u8 = 0x01;
/// BeginString of FIX 4.4.
pub const FIX44: &str = "FIX.4.4";
/// Largest frame accepted by [`next_frame`]; a BodyLength above it is garbled.
pub const MAX_FRAME: usize = 1 << 20;

/// Why a frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The frame does not start with `8=`.
    #[error("frame does not start with BeginString (8)")]
    NoBeginString,
    /// The second field is not BodyLength (9) with a decimal value.
    #[error("second field is not a numeric BodyLength (9)")]
    NoBodyLength,
    /// BodyLength does not point at the CheckSum field, or the frame has trailing bytes.
    #[error("BodyLength {declared} does not match the frame (CheckSum not where it says)")]
    BadBodyLength {
        /// The declared BodyLength.
        declared: usize,
    },
    /// The CheckSum field is not three digits.
    #[error("CheckSum (10) is not three digits")]
    BadCheckSumField,
    /// The CheckSum does not match the bytes.
    #[error("CheckSum {received:03} received, {computed:03} computed")]
    CheckSum {
        /// The value in field 10.
        received: u8,
        /// The sum of the bytes modulo 256.
        computed: u8,
    },
    /// A field is not `tag=value` followed by SOH (tag not a positive decimal, no `=`, or
    /// a missing SOH).
    #[error("malformed field at byte {0}")]
    MalformedField(usize),
    /// A data field is longer than the bytes left or not followed by SOH.
    #[error("data field {tag} of declared length {len} overruns its frame")]
    BadDataLength {
        /// The data field's tag.
        tag: u32,
        /// The length announced by its Length field.
        len: usize,
    },
}

/// The span of one field's value in a decoded frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpan {
    /// The field's tag.
    pub tag: u32,
    start: u32,
    end: u32,
}

/// A decoded frame, borrowed: the values are slices of the received bytes.
///
/// Holds every field of the frame, 8, 9 and 10 included, in wire order.
#[derive(Clone, Copy)]
pub struct MessageView<'a> {
    frame: &'a [u8],
    fields: &'a [FieldSpan],
}

impl<'a> MessageView<'a> {
    /// The whole frame, as received.
    pub fn frame(&self) -> &'a [u8] {
        self.frame
    }

    /// Fields in wire order, 8, 9 and 10 included.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &'a [u8])> + '_ {
        let frame = self.frame;
        self.fields
            .iter()
            .map(move |f| (f.tag, &frame[f.start as usize..f.end as usize]))
    }

    /// Number of fields, 8, 9 and 10 included.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether the view holds no field (never true for a decoded frame).
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The `i`-th field (wire order).
    pub fn field(&self, i: usize) -> Option<(u32, &'a [u8])> {
        self.fields
            .get(i)
            .map(|f| (f.tag, &self.frame[f.start as usize..f.end as usize]))
    }

    /// The value of the first field with `tag`.
    pub fn get(&self, tag: u32) -> Option<&'a [u8]> {
        self.fields
            .iter()
            .find(|f| f.tag == tag)
            .map(|f| &self.frame[f.start as usize..f.end as usize])
    }

    /// The value of the first field with `tag`, if it is UTF-8.
    pub fn get_str(&self, tag: u32) -> Option<&'a str> {
        self.get(tag).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The value of the first field with `tag` as an integer.
    pub fn get_int(&self, tag: u32) -> Option<i64> {
        self.get(tag).and_then(parse_int)
    }

    /// MsgType (35), empty when absent.
    pub fn msg_type(&self) -> &'a [u8] {
        self.get(tags::MSG_TYPE).unwrap_or(b"")
    }

    /// MsgSeqNum (34), when present and numeric.
    pub fn seq_num(&self) -> Option<u64> {
        self.get(tags::MSG_SEQ_NUM).and_then(parse_uint)
    }

    /// An owned copy without 8, 9 and 10.
    pub fn to_message(&self) -> Message {
        let mut m = Message::with_capacity(self.fields.len(), self.frame.len());
        for (tag, v) in self.iter() {
            if !matches!(
                tag,
                tags::BEGIN_STRING | tags::BODY_LENGTH | tags::CHECK_SUM
            ) {
                m.push(tag, v);
            }
        }
        m
    }
}

impl fmt::Debug for MessageView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", String::from_utf8_lossy(&printable(self.frame)))
    }
}

/// A FIX message, owned: an ordered list of `tag=value` fields, without 8, 9 and 10.
///
/// Values are bytes (a `data` field may hold anything, SOH included); all of them live in
/// one buffer. Repeating groups are consecutive fields after their NumInGroup field, in the
/// order they were pushed. Equality compares the field lists.
#[derive(Clone, Default)]
pub struct Message {
    data: Vec<u8>,
    fields: Vec<FieldSpan>,
}

impl Message {
    /// An empty message.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty message with room for `fields` fields and `bytes` value bytes.
    pub fn with_capacity(fields: usize, bytes: usize) -> Self {
        Self {
            data: Vec::with_capacity(bytes),
            fields: Vec::with_capacity(fields),
        }
    }

    /// A message with MsgType (35) set.
    pub fn of_type(msg_type: &[u8]) -> Self {
        let mut m = Self::with_capacity(16, 128);
        m.push(tags::MSG_TYPE, msg_type);
        m
    }

    /// Appends a field (a repeated tag is kept: use it for repeating groups).
    pub fn push(&mut self, tag: u32, value: impl AsRef<[u8]>) -> &mut Self {
        let v = value.as_ref();
        let start = self.data.len() as u32;
        self.data.extend_from_slice(v);
        self.fields.push(FieldSpan {
            tag,
            start,
            end: self.data.len() as u32,
        });
        self
    }

    /// Sets the first field with `tag` (appends it when absent).
    pub fn set(&mut self, tag: u32, value: impl AsRef<[u8]>) -> &mut Self {
        match self.fields.iter().position(|f| f.tag == tag) {
            Some(i) => {
                let v = value.as_ref();
                let cur = self.fields[i];
                if v.len() <= (cur.end - cur.start) as usize {
                    let s = cur.start as usize;
                    self.data[s..s + v.len()].copy_from_slice(v);
                    self.fields[i].end = cur.start + v.len() as u32;
                } else {
                    let start = self.data.len() as u32;
                    self.data.extend_from_slice(v);
                    self.fields[i] = FieldSpan {
                        tag,
                        start,
                        end: self.data.len() as u32,
                    };
                }
                self
            }
            None => self.push(tag, value),
        }
    }

    /// Sets an integer field.
    pub fn set_int(&mut self, tag: u32, value: i64) -> &mut Self {
        let mut buf = [0u8; 24];
        let n = fmt_int(value, &mut buf);
        self.set(tag, &buf[24 - n..])
    }

    /// Appends an integer field.
    pub fn push_int(&mut self, tag: u32, value: i64) -> &mut Self {
        let mut buf = [0u8; 24];
        let n = fmt_int(value, &mut buf);
        self.push(tag, &buf[24 - n..])
    }

    /// Sets a Boolean field (`Y` / `N`).
    pub fn set_bool(&mut self, tag: u32, value: bool) -> &mut Self {
        self.set(tag, if value { b"Y" } else { b"N" })
    }

    /// Sets a UTCTimestamp field from nanoseconds since the UNIX epoch.
    pub fn set_timestamp(&mut self, tag: u32, ns: i64, precision: TimePrecision) -> &mut Self {
        let mut buf = Vec::with_capacity(27);
        write_utc_timestamp(&mut buf, ns, precision);
        self.set(tag, buf)
    }

    /// Removes every field with `tag`; returns how many were removed.
    pub fn remove(&mut self, tag: u32) -> usize {
        let before = self.fields.len();
        self.fields.retain(|f| f.tag != tag);
        before - self.fields.len()
    }

    /// The value of the first field with `tag`.
    pub fn get(&self, tag: u32) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|f| f.tag == tag)
            .map(|f| &self.data[f.start as usize..f.end as usize])
    }

    /// The value of the first field with `tag`, if it is UTF-8.
    pub fn get_str(&self, tag: u32) -> Option<&str> {
        self.get(tag).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The value of the first field with `tag` as an integer.
    pub fn get_int(&self, tag: u32) -> Option<i64> {
        self.get(tag).and_then(parse_int)
    }

    /// Whether a field with `tag` is present.
    pub fn has(&self, tag: u32) -> bool {
        self.fields.iter().any(|f| f.tag == tag)
    }

    /// MsgType (35), empty when absent.
    pub fn msg_type(&self) -> &[u8] {
        self.get(tags::MSG_TYPE).unwrap_or(b"")
    }

    /// MsgSeqNum (34), when present and numeric.
    pub fn seq_num(&self) -> Option<u64> {
        self.get(tags::MSG_SEQ_NUM).and_then(parse_uint)
    }

    /// Fields in order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &[u8])> + '_ {
        self.fields
            .iter()
            .map(move |f| (f.tag, &self.data[f.start as usize..f.end as usize]))
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether the message has no field.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

impl PartialEq for Message {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Message {}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        for (i, (tag, v)) in self.iter().enumerate() {
            if i > 0 {
                s.push('|');
            }
            s.push_str(&tag.to_string());
            s.push('=');
            s.push_str(&String::from_utf8_lossy(&printable(v)));
        }
        write!(f, "Message({s})")
    }
}

fn printable(b: &[u8]) -> Vec<u8> {
    b.iter().map(|&c| if c == SOH { b'|' } else { c }).collect()
}

/// Sub-second digits written in UTCTimestamp fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimePrecision {
    /// `YYYYMMDD-HH:MM:SS`.
    Seconds,
    /// `YYYYMMDD-HH:MM:SS.sss` (the FIX 4.4 form, and the default).
    #[default]
    Millis,
    /// `YYYYMMDD-HH:MM:SS.ssssss` (a later-version extension QuickFIX accepts).
    Micros,
    /// `YYYYMMDD-HH:MM:SS.sssssssss`.
    Nanos,
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) to days since 1970-01-01.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Writes a UTCTimestamp (`YYYYMMDD-HH:MM:SS[.fff]`) for `ns` nanoseconds since the epoch.
pub fn write_utc_timestamp(out: &mut Vec<u8>, ns: i64, precision: TimePrecision) {
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000) as u32;
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400) as u32;
    let y = y.clamp(0, 9999) as u32;
    let mut b = [0u8; 27];
    put_digits(&mut b[0..4], y);
    put_digits(&mut b[4..6], mo);
    put_digits(&mut b[6..8], d);
    b[8] = b'-';
    put_digits(&mut b[9..11], sod / 3600);
    b[11] = b':';
    put_digits(&mut b[12..14], sod / 60 % 60);
    b[14] = b':';
    put_digits(&mut b[15..17], sod % 60);
    b[17] = b'.';
    let n = match precision {
        TimePrecision::Seconds => 17,
        TimePrecision::Millis => {
            put_digits(&mut b[18..21], frac / 1_000_000);
            21
        }
        TimePrecision::Micros => {
            put_digits(&mut b[18..24], frac / 1_000);
            24
        }
        TimePrecision::Nanos => {
            put_digits(&mut b[18..27], frac);
            27
        }
    };
    out.extend_from_slice(&b[..n]);
}

fn put_digits(dst: &mut [u8], mut v: u32) {
    for c in dst.iter_mut().rev() {
        *c = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 9 {
        return None;
    }
    let mut v = 0u32;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

/// Parses a UTCTimestamp with 0, 3, 6 or 9 fractional digits to nanoseconds since the epoch.
pub fn parse_utc_timestamp(s: &[u8]) -> Option<i64> {
    if s.len() < 17 || s[8] != b'-' || s[11] != b':' || s[14] != b':' {
        return None;
    }
    let y = digits(&s[0..4])?;
    let mo = digits(&s[4..6])?;
    let d = digits(&s[6..8])?;
    let h = digits(&s[9..11])?;
    let mi = digits(&s[12..14])?;
    let se = digits(&s[15..17])?;
    // 60 is a leap second, allowed by the FIX spec
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let frac = match s.len() {
        17 => 0,
        21 | 24 | 27 if s[17] == b'.' => {
            let f = &s[18..];
            digits(f)? * 10u32.pow(9 - f.len() as u32)
        }
        _ => return None,
    };
    // after 2262-04-11 the nanoseconds overflow i64: not representable, so not valid
    let days = days_from_civil(y as i64, mo, d);
    (days * 86_400 + (h * 3600 + mi * 60 + se) as i64)
        .checked_mul(1_000_000_000)?
        .checked_add(frac as i64)
}

/// Parses a UTCDateOnly / LocalMktDate (`YYYYMMDD`); returns days since the epoch.
pub fn parse_date(s: &[u8]) -> Option<i64> {
    if s.len() != 8 {
        return None;
    }
    let y = digits(&s[0..4])?;
    let mo = digits(&s[4..6])?;
    let d = digits(&s[6..8])?;
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y as i64, mo, d))
}

/// Parses a FIX `int` (optional leading `-`, decimal digits, at most 18 of them).
pub fn parse_int(s: &[u8]) -> Option<i64> {
    let (neg, d) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if d.is_empty() || d.len() > 18 {
        return None;
    }
    let mut v: i64 = 0;
    for &c in d {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as i64;
    }
    Some(if neg { -v } else { v })
}

/// Parses a non-negative FIX `int`.
pub fn parse_uint(s: &[u8]) -> Option<u64> {
    match s.first() {
        Some(b'-') => None,
        _ => parse_int(s).map(|v| v as u64),
    }
}

/// Whether `s` is a FIX `float` (optional `-`, digits with at most one `.`, no exponent).
pub fn is_float(s: &[u8]) -> bool {
    let d = match s.first() {
        Some(b'-') => &s[1..],
        _ => s,
    };
    let mut dot = false;
    let mut any = false;
    for &c in d {
        match c {
            b'0'..=b'9' => any = true,
            b'.' if !dot => dot = true,
            _ => return false,
        }
    }
    any
}

/// Writes `v` right-aligned at the end of `buf`; returns the number of bytes used.
fn fmt_int(v: i64, buf: &mut [u8; 24]) -> usize {
    let neg = v < 0;
    let mut u = v.unsigned_abs();
    let mut i = 24;
    loop {
        i -= 1;
        buf[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        buf[i] = b'-';
    }
    24 - i
}

#[inline]
fn push_uint(out: &mut Vec<u8>, v: u64) {
    let mut buf = [0u8; 24];
    let n = fmt_int(v as i64, &mut buf);
    out.extend_from_slice(&buf[24 - n..]);
}

/// What [`next_frame`] found at the start of a stream buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// A complete frame of this many bytes (its structure is right; decode it to check
    /// the CheckSum and fields).
    Message(usize),
    /// This many bytes are garbage (no `8=` start, a non-numeric BodyLength, a BodyLength that
    /// does not land on the CheckSum): skip them, as QuickFIX does, without a reply.
    Garbled(usize),
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from >= hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Where the next frame of a stream buffer ends; `None` when more bytes are needed.
///
/// A frame is `8=...|9=n|` then `n` bytes then `10=ddd|`. When BodyLength does not land on
/// `10=ddd|`, the bytes up to the next `|10=ddd|` are garbled (QuickFIX's parser, too, looks
/// for the CheckSum field to resynchronise).
pub fn next_frame(buf: &[u8]) -> Option<Frame> {
    if buf.len() < 2 {
        return None;
    }
    let resync = |from: usize| -> Option<Frame> {
        match find(buf, b"8=FIX", from) {
            Some(p) => Some(Frame::Garbled(p)),
            // keep a tail that could be the start of "8=FIX"
            None => {
                let keep = 4.min(buf.len());
                let skip = buf.len() - keep;
                (skip > 0).then_some(Frame::Garbled(skip))
            }
        }
    };
    if &buf[..2] != b"8=" {
        return resync(1).or(Some(Frame::Garbled(1)));
    }
    let Some(soh1) = buf.iter().take(40).position(|&c| c == SOH) else {
        return if buf.len() >= 40 { resync(1) } else { None };
    };
    let rest = &buf[soh1 + 1..];
    if rest.len() < 2 {
        return None;
    }
    if &rest[..2] != b"9=" {
        return resync(1);
    }
    let Some(soh2) = rest.iter().take(12).position(|&c| c == SOH) else {
        return if rest.len() >= 12 { resync(1) } else { None };
    };
    let Some(len) = digits(&rest[2..soh2]) else {
        return resync(1);
    };
    let body_start = soh1 + 1 + soh2 + 1;
    let len = len as usize;
    if len > MAX_FRAME {
        return resync(1);
    }
    let end = body_start + len;
    if buf.len() < end + 7 {
        // a checksum field before the declared end shows a BodyLength too large
        return match find_checksum(buf, body_start.saturating_sub(1)) {
            Some(p) if p + 8 <= end => Some(Frame::Garbled(p + 8)),
            _ => None,
        };
    }
    let t = &buf[end..end + 7];
    if &t[..3] == b"10=" && t[6] == SOH {
        return Some(Frame::Message(end + 7));
    }
    match find_checksum(buf, body_start.saturating_sub(1)) {
        Some(p) => Some(Frame::Garbled(p + 8)),
        None => resync(1),
    }
}

/// Position of the SOH that starts a `\x0110=ddd\x01` sequence, from `from` on.
fn find_checksum(buf: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(p) = find(buf, b"\x0110=", at) {
        if p + 8 <= buf.len()
            && buf[p + 4..p + 7].iter().all(u8::is_ascii_digit)
            && buf[p + 7] == SOH
        {
            return Some(p);
        }
        at = p + 1;
    }
    None
}

/// The CheckSum of `bytes`: their sum modulo 256.
#[inline]
pub fn checksum(bytes: &[u8]) -> u8 {
    let mut s: u32 = 0;
    for &b in bytes {
        s = s.wrapping_add(b as u32);
    }
    (s & 0xff) as u8
}

/// Decodes frames; keeps its field list between messages so decoding does not allocate.
#[derive(Debug, Default)]
pub struct Decoder {
    spans: Vec<FieldSpan>,
}

impl Decoder {
    /// A decoder.
    pub fn new() -> Self {
        Self {
            spans: Vec::with_capacity(64),
        }
    }

    /// Decodes one whole frame (as delimited by [`next_frame`]): checks that it starts with
    /// 8 and 9, that BodyLength lands on the CheckSum field which ends the frame, and the
    /// CheckSum; splits the fields (data fields by their Length field).
    pub fn decode<'a>(&'a mut self, frame: &'a [u8]) -> Result<MessageView<'a>, DecodeError> {
        self.spans.clear();
        let n = frame.len();
        let mut pos = 0usize;
        // 8=
        let (tag, vs, ve, next) = split_field(frame, pos).ok_or(DecodeError::NoBeginString)?;
        if tag != tags::BEGIN_STRING || ve == vs {
            return Err(DecodeError::NoBeginString);
        }
        self.spans.push(span(tag, vs, ve));
        pos = next;
        // 9=
        let (tag, vs, ve, next) = split_field(frame, pos).ok_or(DecodeError::NoBodyLength)?;
        if tag != tags::BODY_LENGTH {
            return Err(DecodeError::NoBodyLength);
        }
        let declared = digits(&frame[vs..ve]).ok_or(DecodeError::NoBodyLength)? as usize;
        self.spans.push(span(tag, vs, ve));
        pos = next;
        let body_end = pos + declared;
        if body_end + 7 != n || &frame[body_end..body_end + 3] != b"10=" || frame[n - 1] != SOH {
            return Err(DecodeError::BadBodyLength { declared });
        }
        let received = digits(&frame[body_end + 3..n - 1])
            .filter(|&v| v < 256)
            .ok_or(DecodeError::BadCheckSumField)? as u8;
        let computed = checksum(&frame[..body_end]);
        if received != computed {
            return Err(DecodeError::CheckSum { received, computed });
        }
        let mut last_len: Option<(u32, usize)> = None;
        while pos < body_end {
            let (tag, vs, ve, next) = match split_tag(frame, pos, body_end) {
                Some((tag, vs)) => {
                    if let (Some(lt), Some((prev_tag, len))) = (data_length_tag(tag), last_len) {
                        if lt == prev_tag {
                            let ve = vs + len;
                            if ve >= body_end || frame[ve] != SOH {
                                return Err(DecodeError::BadDataLength { tag, len });
                            }
                            (tag, vs, ve, ve + 1)
                        } else {
                            value_end(frame, tag, vs, body_end, pos)?
                        }
                    } else {
                        value_end(frame, tag, vs, body_end, pos)?
                    }
                }
                None => return Err(DecodeError::MalformedField(pos)),
            };
            last_len = if is_length_tag(tag) {
                digits(&frame[vs..ve]).map(|l| (tag, l as usize))
            } else {
                None
            };
            self.spans.push(span(tag, vs, ve));
            pos = next;
        }
        self.spans.push(span(tags::CHECK_SUM, body_end + 3, n - 1));
        Ok(MessageView {
            frame,
            fields: &self.spans,
        })
    }
}

fn is_length_tag(tag: u32) -> bool {
    matches!(tag, 90 | 95 | 212 | 93 | 354 | 348 | 350 | 356 | 358 | 360)
}

#[inline]
fn span(tag: u32, s: usize, e: usize) -> FieldSpan {
    FieldSpan {
        tag,
        start: s as u32,
        end: e as u32,
    }
}

#[inline]
fn value_end(
    frame: &[u8],
    tag: u32,
    vs: usize,
    body_end: usize,
    pos: usize,
) -> Result<(u32, usize, usize, usize), DecodeError> {
    match frame[vs..body_end].iter().position(|&c| c == SOH) {
        Some(p) => Ok((tag, vs, vs + p, vs + p + 1)),
        None => Err(DecodeError::MalformedField(pos)),
    }
}

/// Parses `tag=` at `pos`; returns the tag and where its value starts.
#[inline]
fn split_tag(frame: &[u8], pos: usize, end: usize) -> Option<(u32, usize)> {
    let mut tag: u32 = 0;
    let mut i = pos;
    while i < end {
        let c = frame[i];
        if c == b'=' {
            return (i > pos && tag > 0).then_some((tag, i + 1));
        }
        if !c.is_ascii_digit() || i - pos >= 9 {
            return None;
        }
        tag = tag * 10 + (c - b'0') as u32;
        i += 1;
    }
    None
}

fn split_field(frame: &[u8], pos: usize) -> Option<(u32, usize, usize, usize)> {
    let (tag, vs) = split_tag(frame, pos, frame.len())?;
    let p = frame[vs..].iter().position(|&c| c == SOH)?;
    Some((tag, vs, vs + p, vs + p + 1))
}

/// Header tags the encoder writes first, in this order, when the message holds them.
const HEADER_ORDER: [u32; 5] = [
    tags::MSG_TYPE,
    tags::SENDER_COMP_ID,
    tags::TARGET_COMP_ID,
    tags::MSG_SEQ_NUM,
    tags::SENDING_TIME,
];

/// Encodes messages; its scratch buffer is reused, so encoding does not allocate once warm.
#[derive(Debug)]
pub struct Encoder {
    begin: Vec<u8>,
    body: Vec<u8>,
}

impl Default for Encoder {
    fn default() -> Self {
        Self::new(FIX44)
    }
}

impl Encoder {
    /// An encoder writing `8=begin_string`.
    pub fn new(begin_string: &str) -> Self {
        let mut begin = b"8=".to_vec();
        begin.extend_from_slice(begin_string.as_bytes());
        begin.extend_from_slice(b"\x019=");
        Self {
            begin,
            body: Vec::with_capacity(512),
        }
    }

    /// Appends the frame of `msg` to `out` (8, 9, header, body, trailer, 10).
    ///
    /// Header fields go first: 35, 49, 56, 34, 52 (those present), then other header fields
    /// in message order; then body fields in message order, then the trailer's 93/89. Any
    /// 8, 9 or 10 in `msg` is ignored.
    pub fn encode(&mut self, msg: &Message, out: &mut Vec<u8>) {
        let body = &mut self.body;
        body.clear();
        let fields = &msg.fields;
        let data = &msg.data;
        let put = |body: &mut Vec<u8>, f: &FieldSpan| {
            push_uint(body, f.tag as u64);
            body.push(b'=');
            body.extend_from_slice(&data[f.start as usize..f.end as usize]);
            body.push(SOH);
        };
        for t in HEADER_ORDER {
            if let Some(f) = fields.iter().find(|f| f.tag == t) {
                put(body, f);
            }
        }
        let mut has_trailer = false;
        for f in fields {
            if is_header(f.tag) && !HEADER_ORDER.contains(&f.tag) && !is_framing(f.tag) {
                put(body, f);
            }
            has_trailer |= is_trailer(f.tag) && f.tag != tags::CHECK_SUM;
        }
        for f in fields {
            if !is_header(f.tag) && !is_trailer(f.tag) {
                put(body, f);
            }
        }
        if has_trailer {
            for f in fields {
                if is_trailer(f.tag) && f.tag != tags::CHECK_SUM {
                    put(body, f);
                }
            }
        }
        let start = out.len();
        out.extend_from_slice(&self.begin);
        push_uint(out, body.len() as u64);
        out.push(SOH);
        out.extend_from_slice(body);
        let cs = checksum(&out[start..]);
        out.extend_from_slice(b"10=");
        out.extend_from_slice(&[b'0' + cs / 100, b'0' + cs / 10 % 10, b'0' + cs % 10, SOH]);
    }

    /// The frame of `msg` in a new vector.
    pub fn to_vec(&mut self, msg: &Message) -> Vec<u8> {
        let mut out = Vec::with_capacity(msg.data.len() + 8 * msg.fields.len() + 32);
        self.encode(msg, &mut out);
        out
    }
}

#[inline]
fn is_framing(tag: u32) -> bool {
    matches!(
        tag,
        tags::BEGIN_STRING | tags::BODY_LENGTH | tags::CHECK_SUM
    )
}
