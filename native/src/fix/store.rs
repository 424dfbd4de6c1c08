//! Message stores: the next sequence numbers of a session and the messages it sent, so a
//! restart resumes the sequence and a ResendRequest can be answered.
//!
//! [`FileStore`] keeps QuickFIX's layout in one folder, per session `prefix`:
//! `prefix.seqnums` (`SSSSSSSSSS : TTTTTTTTTT`, rewritten in place), `prefix.body` (sent
//! frames, appended), `prefix.header` (one `seq,offset,size` line per frame) and
//! `prefix.session` (the creation time, ns). [`MemoryStore`] is the same in memory.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Sequence numbers and sent messages of one session.
pub trait MessageStore {
    /// The MsgSeqNum of the next message to send.
    fn next_sender_seq(&self) -> u64;
    /// The MsgSeqNum expected on the next message received.
    fn next_target_seq(&self) -> u64;
    /// Sets the next MsgSeqNum to send.
    fn set_next_sender_seq(&mut self, seq: u64) -> io::Result<()>;
    /// Sets the next MsgSeqNum expected.
    fn set_next_target_seq(&mut self, seq: u64) -> io::Result<()>;
    /// Saves the frame sent with `seq` (for resends).
    fn save(&mut self, seq: u64, frame: &[u8]) -> io::Result<()>;
    /// The frames sent with sequence numbers in `begin..=end`, in order.
    fn get(&self, begin: u64, end: u64) -> io::Result<Vec<(u64, Vec<u8>)>>;
    /// Resets both sequence numbers to 1, forgets the messages, and records `now_ns` as the
    /// creation time of the new session period.
    fn reset(&mut self, now_ns: i64) -> io::Result<()>;
    /// When the current session period began (ns since the epoch).
    fn creation_time(&self) -> i64;
}

/// A store in memory (for tests, and sessions that need no persistence).
#[derive(Debug, Clone)]
pub struct MemoryStore {
    sender: u64,
    target: u64,
    messages: BTreeMap<u64, Vec<u8>>,
    created: i64,
}

impl MemoryStore {
    /// An empty store created at `now_ns`, both sequence numbers at 1.
    pub fn new(now_ns: i64) -> Self {
        Self {
            sender: 1,
            target: 1,
            messages: BTreeMap::new(),
            created: now_ns,
        }
    }
}

impl MessageStore for MemoryStore {
    fn next_sender_seq(&self) -> u64 {
        self.sender
    }
    fn next_target_seq(&self) -> u64 {
        self.target
    }
    fn set_next_sender_seq(&mut self, seq: u64) -> io::Result<()> {
        self.sender = seq;
        Ok(())
    }
    fn set_next_target_seq(&mut self, seq: u64) -> io::Result<()> {
        self.target = seq;
        Ok(())
    }
    fn save(&mut self, seq: u64, frame: &[u8]) -> io::Result<()> {
        self.messages.insert(seq, frame.to_vec());
        Ok(())
    }
    fn get(&self, begin: u64, end: u64) -> io::Result<Vec<(u64, Vec<u8>)>> {
        if begin > end {
            return Ok(Vec::new());
        }
        Ok(self
            .messages
            .range(begin..=end)
            .map(|(k, v)| (*k, v.clone()))
            .collect())
    }
    fn reset(&mut self, now_ns: i64) -> io::Result<()> {
        *self = Self::new(now_ns);
        Ok(())
    }
    fn creation_time(&self) -> i64 {
        self.created
    }
}

/// A store in files (QuickFIX's FileStore layout); survives restarts.
#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
    prefix: String,
    sender: u64,
    target: u64,
    created: i64,
    seqnums: File,
    body: File,
    header: File,
    body_len: u64,
    index: BTreeMap<u64, (u64, u64)>,
    /// Call `sync_data` after each write (off by default, as in QuickFIX).
    pub sync: bool,
}

impl FileStore {
    /// Opens (or creates) the store of session `prefix` (e.g. `FIX.4.4-CLIENT-EXCH`) in
    /// `dir`; a new store is created at `now_ns`.
    pub fn open(dir: impl AsRef<Path>, prefix: &str, now_ns: i64) -> io::Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir)?;
        let path = |ext: &str| dir.join(format!("{prefix}.{ext}"));
        let open = |p: PathBuf| {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(p)
        };
        let mut seqnums = open(path("seqnums"))?;
        let mut s = String::new();
        seqnums.read_to_string(&mut s)?;
        let (sender, target) = match s.split_once(':') {
            Some((a, b)) => (
                a.trim().parse().map_err(bad_data)?,
                b.trim().parse().map_err(bad_data)?,
            ),
            None => (1, 1),
        };
        let session_path = path("session");
        let created = match std::fs::read_to_string(&session_path) {
            Ok(t) if !t.trim().is_empty() => t.trim().parse().map_err(bad_data)?,
            _ => {
                std::fs::write(&session_path, now_ns.to_string())?;
                now_ns
            }
        };
        let body = open(path("body"))?;
        let header = open(path("header"))?;
        let mut index = BTreeMap::new();
        for line in BufReader::new(&header).lines() {
            let line = line?;
            let mut it = line.split(',').map(|x| x.trim().parse::<u64>());
            if let (Some(Ok(seq)), Some(Ok(off)), Some(Ok(size))) =
                (it.next(), it.next(), it.next())
            {
                index.insert(seq, (off, size));
            }
        }
        let body_len = body.metadata()?.len();
        let mut store = Self {
            dir,
            prefix: prefix.to_string(),
            sender,
            target,
            created,
            seqnums,
            body,
            header,
            body_len,
            index,
            sync: false,
        };
        store.write_seqnums()?;
        Ok(store)
    }

    /// The folder of the store.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn write_seqnums(&mut self) -> io::Result<()> {
        self.seqnums.seek(SeekFrom::Start(0))?;
        write!(self.seqnums, "{:010} : {:010}", self.sender, self.target)?;
        let pos = self.seqnums.stream_position()?;
        self.seqnums.set_len(pos)?;
        if self.sync {
            self.seqnums.sync_data()?;
        }
        Ok(())
    }
}

fn bad_data<E: std::fmt::Display>(e: E) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("corrupt FIX store: {e}"),
    )
}

impl MessageStore for FileStore {
    fn next_sender_seq(&self) -> u64 {
        self.sender
    }
    fn next_target_seq(&self) -> u64 {
        self.target
    }
    fn set_next_sender_seq(&mut self, seq: u64) -> io::Result<()> {
        self.sender = seq;
        self.write_seqnums()
    }
    fn set_next_target_seq(&mut self, seq: u64) -> io::Result<()> {
        self.target = seq;
        self.write_seqnums()
    }
    fn save(&mut self, seq: u64, frame: &[u8]) -> io::Result<()> {
        self.body.seek(SeekFrom::End(0))?;
        self.body.write_all(frame)?;
        let off = self.body_len;
        self.body_len += frame.len() as u64;
        self.header.seek(SeekFrom::End(0))?;
        writeln!(self.header, "{seq},{off},{}", frame.len())?;
        if self.sync {
            self.body.sync_data()?;
            self.header.sync_data()?;
        }
        self.index.insert(seq, (off, frame.len() as u64));
        Ok(())
    }
    fn get(&self, begin: u64, end: u64) -> io::Result<Vec<(u64, Vec<u8>)>> {
        if begin > end {
            return Ok(Vec::new());
        }
        let mut f = &self.body;
        let mut out = Vec::new();
        for (&seq, &(off, size)) in self.index.range(begin..=end) {
            f.seek(SeekFrom::Start(off))?;
            let mut buf = vec![0; size as usize];
            f.read_exact(&mut buf)?;
            out.push((seq, buf));
        }
        Ok(out)
    }
    fn reset(&mut self, now_ns: i64) -> io::Result<()> {
        self.body.set_len(0)?;
        self.header.set_len(0)?;
        self.body_len = 0;
        self.index.clear();
        self.sender = 1;
        self.target = 1;
        self.created = now_ns;
        std::fs::write(
            self.dir.join(format!("{}.session", self.prefix)),
            now_ns.to_string(),
        )?;
        self.write_seqnums()
    }
    fn creation_time(&self) -> i64 {
        self.created
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise(s: &mut dyn MessageStore) {
        assert_eq!((s.next_sender_seq(), s.next_target_seq()), (1, 1));
        s.save(1, b"one").unwrap();
        s.save(2, b"two\x01").unwrap();
        s.set_next_sender_seq(3).unwrap();
        s.set_next_target_seq(7).unwrap();
        assert_eq!(
            s.get(1, 5).unwrap(),
            vec![(1, b"one".to_vec()), (2, b"two\x01".to_vec())]
        );
        assert_eq!(s.get(2, 2).unwrap().len(), 1);
        assert!(s.get(3, 2).unwrap().is_empty());
    }

    #[test]
    fn memory_store() {
        let mut s = MemoryStore::new(5);
        exercise(&mut s);
        s.reset(9).unwrap();
        assert_eq!((s.next_sender_seq(), s.creation_time()), (1, 9));
        assert!(s.get(1, 10).unwrap().is_empty());
    }

    #[test]
    fn file_store_survives_a_restart() {
        let dir = std::env::temp_dir().join(format!("wb-fix-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        {
            let mut s = FileStore::open(&dir, "FIX.4.4-A-B", 5).unwrap();
            exercise(&mut s);
        }
        let mut s = FileStore::open(&dir, "FIX.4.4-A-B", 99).unwrap();
        assert_eq!((s.next_sender_seq(), s.next_target_seq()), (3, 7));
        assert_eq!(s.creation_time(), 5);
        assert_eq!(s.get(2, 2).unwrap(), vec![(2, b"two\x01".to_vec())]);
        s.set_next_sender_seq(12345).unwrap();
        s.set_next_sender_seq(4).unwrap(); // shorter value: file rewritten, not appended
        drop(s);
        let s = FileStore::open(&dir, "FIX.4.4-A-B", 99).unwrap();
        assert_eq!(s.next_sender_seq(), 4);
        let mut s = s;
        s.reset(100).unwrap();
        drop(s);
        let s = FileStore::open(&dir, "FIX.4.4-A-B", 200).unwrap();
        assert_eq!((s.next_sender_seq(), s.creation_time()), (1, 100));
        assert!(s.get(1, 10).unwrap().is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
