//! A FIX message and event log, as QuickFIX's `FileLog` (opt-in).
//!
//! One session writes two files in its log folder, named as QuickFIX names them:
//!
//! - `FIX.4.4-SENDER-TARGET.messages.current.log`: one line per message received or sent,
//!   `YYYYMMDD-HH:MM:SS.ffffff : IN : 8=FIX.4.4<SOH>9=…<SOH>10=…<SOH>` (or `OUT`). The
//!   timestamp is UTC to the microsecond. The message is kept raw, SOH included, as
//!   QuickFIX keeps it (QuickFIX writes `timestamp : message`; we add the direction, which
//!   QuickFIX's file does not record). The message is the last field of the line, so
//!   `line.splitn(3, " : ")` gives timestamp, direction and a frame our decoder reads back.
//! - `FIX.4.4-SENDER-TARGET.event.current.log`: `YYYYMMDD-HH:MM:SS.ffffff : text` per session
//!   event (connection, logon, logout, resend requests, sequence resets, rejects, garbled
//!   frames, disconnects).
//!
//! Both files are appended to (never truncated; QuickFIX's `FileLog` appends too). Lines
//! are formatted into memory as the session produces them and written by [`FileLog::flush`],
//! which the session loops call once per turn, right after the turn's frames went to the
//! socket: the write is off the round trip's critical path, and a killed process loses at
//! most the lines of the turn in progress (the message being handled and its answers).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::codec::{write_utc_timestamp, TimePrecision};
use super::tags::{self, msg_type as mt};

/// Why a log could not be opened or written.
#[derive(Debug, thiserror::Error)]
#[error("FIX log {path}: {source}")]
pub struct LogError {
    /// The file or folder.
    pub path: PathBuf,
    /// The error.
    pub source: io::Error,
}

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Received from the counterparty.
    In,
    /// Sent to the counterparty.
    Out,
}

/// Buffered in memory beyond this, lines are written without waiting for a flush.
const SPILL: usize = 256 * 1024;

/// The message and event files of one session.
#[derive(Debug)]
pub struct FileLog {
    messages: File,
    events: File,
    messages_path: PathBuf,
    events_path: PathBuf,
    mbuf: Vec<u8>,
    ebuf: Vec<u8>,
}

impl FileLog {
    /// Opens (creating the folder and files if needed, appending otherwise) the log of the
    /// session `sender` → `target` under `dir`, for `begin_string` (`FIX.4.4`).
    pub fn open(
        dir: &Path,
        begin_string: &str,
        sender: &str,
        target: &str,
    ) -> Result<Self, LogError> {
        std::fs::create_dir_all(dir).map_err(|source| LogError {
            path: dir.to_path_buf(),
            source,
        })?;
        let prefix = format!("{begin_string}-{sender}-{target}");
        let messages_path = dir.join(format!("{prefix}.messages.current.log"));
        let events_path = dir.join(format!("{prefix}.event.current.log"));
        let open = |p: &Path| {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|source| LogError {
                    path: p.to_path_buf(),
                    source,
                })
        };
        Ok(Self {
            messages: open(&messages_path)?,
            events: open(&events_path)?,
            messages_path,
            events_path,
            mbuf: Vec::with_capacity(16 * 1024),
            ebuf: Vec::with_capacity(4 * 1024),
        })
    }

    /// The messages file.
    pub fn messages_path(&self) -> &Path {
        &self.messages_path
    }

    /// The events file.
    pub fn events_path(&self) -> &Path {
        &self.events_path
    }

    /// Records a message frame received or sent at `now` (ns since the epoch); Logon,
    /// Logout, ResendRequest, SequenceReset and Reject also get an event line.
    pub fn message(&mut self, dir: Direction, frame: &[u8], now: i64) {
        write_utc_timestamp(&mut self.mbuf, now, TimePrecision::Micros);
        self.mbuf.extend_from_slice(match dir {
            Direction::In => b" : IN : ",
            Direction::Out => b" : OUT : ",
        });
        self.mbuf.extend_from_slice(frame);
        self.mbuf.push(b'\n');
        if let Some(text) = admin_event(dir, frame) {
            self.event(&text, now);
        }
        if self.mbuf.len() > SPILL {
            let _ = self.flush();
        }
    }

    /// Records a session event.
    pub fn event(&mut self, text: &str, now: i64) {
        write_utc_timestamp(&mut self.ebuf, now, TimePrecision::Micros);
        self.ebuf.extend_from_slice(b" : ");
        // one event, one line
        self.ebuf
            .extend(text.bytes().map(|b| if b == b'\n' { b' ' } else { b }));
        self.ebuf.push(b'\n');
    }

    /// Writes the lines recorded since the last flush (one `write` per file).
    pub fn flush(&mut self) -> Result<(), LogError> {
        if !self.mbuf.is_empty() {
            let r = self.messages.write_all(&self.mbuf);
            self.mbuf.clear();
            r.map_err(|source| LogError {
                path: self.messages_path.clone(),
                source,
            })?;
        }
        if !self.ebuf.is_empty() {
            let r = self.events.write_all(&self.ebuf);
            self.ebuf.clear();
            r.map_err(|source| LogError {
                path: self.events_path.clone(),
                source,
            })?;
        }
        Ok(())
    }
}

impl Drop for FileLog {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// The value of `tag` in a raw frame (first occurrence).
fn field(frame: &[u8], tag: u32) -> Option<&[u8]> {
    let key = format!("{tag}=");
    let key = key.as_bytes();
    let mut start = 0;
    for (i, &b) in frame.iter().enumerate() {
        if b == 1 {
            let f = &frame[start..i];
            if let Some(v) = f.strip_prefix(key) {
                return Some(v);
            }
            start = i + 1;
        }
    }
    None
}

/// The event line for an administrative message worth one.
fn admin_event(dir: Direction, frame: &[u8]) -> Option<String> {
    // 35 is the third field: skip the scan for application messages cheaply
    let ty = field(frame, tags::MSG_TYPE)?;
    let name = match ty {
        mt::LOGON => "Logon",
        mt::LOGOUT => "Logout",
        mt::RESEND_REQUEST => "ResendRequest",
        mt::SEQUENCE_RESET => "SequenceReset",
        mt::REJECT => "Reject",
        _ => return None,
    };
    let s = |t: u32| field(frame, t).map(|v| String::from_utf8_lossy(v).into_owned());
    let verb = match dir {
        Direction::In => "Received",
        Direction::Out => "Sent",
    };
    let mut text = format!("{verb} {name}");
    if let Some(seq) = s(tags::MSG_SEQ_NUM) {
        text.push_str(&format!(" (MsgSeqNum {seq})"));
    }
    match ty {
        mt::RESEND_REQUEST => {
            let b = s(tags::BEGIN_SEQ_NO).unwrap_or_default();
            let e = s(tags::END_SEQ_NO).unwrap_or_default();
            text.push_str(&format!(": BeginSeqNo {b}, EndSeqNo {e}"));
        }
        mt::SEQUENCE_RESET => {
            let gf = s(tags::GAP_FILL_FLAG).as_deref() == Some("Y");
            let n = s(tags::NEW_SEQ_NO).unwrap_or_default();
            let kind = if gf { "gap fill" } else { "reset" };
            text.push_str(&format!(": {kind}, NewSeqNo {n}"));
        }
        mt::REJECT => {
            let r = s(tags::REF_SEQ_NUM).unwrap_or_default();
            let why = s(tags::SESSION_REJECT_REASON).unwrap_or_default();
            let tag = s(tags::REF_TAG_ID).unwrap_or_default();
            text.push_str(&format!(
                ": RefSeqNum {r}, SessionRejectReason {why}, RefTagID {tag}"
            ));
        }
        mt::LOGON if s(tags::RESET_SEQ_NUM_FLAG).as_deref() == Some("Y") => {
            text.push_str(": ResetSeqNumFlag=Y");
        }
        _ => {}
    }
    if let Some(t) = s(tags::TEXT) {
        text.push_str(&format!(": {t}"));
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_reads_a_raw_frame() {
        let f = b"8=FIX.4.4\x019=5\x0135=A\x0134=7\x0110=000\x01";
        assert_eq!(field(f, 35), Some(&b"A"[..]));
        assert_eq!(field(f, 34), Some(&b"7"[..]));
        assert_eq!(field(f, 58), None);
    }

    #[test]
    fn admin_frames_make_event_lines() {
        let f = b"8=FIX.4.4\x019=5\x0135=2\x0134=7\x017=3\x0116=0\x0110=000\x01";
        let e = admin_event(Direction::In, f).unwrap();
        assert_eq!(
            e,
            "Received ResendRequest (MsgSeqNum 7): BeginSeqNo 3, EndSeqNo 0"
        );
        let d = b"8=FIX.4.4\x019=5\x0135=D\x0134=7\x0110=000\x01";
        assert_eq!(admin_event(Direction::Out, d), None);
    }
}
