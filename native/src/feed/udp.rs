//! DBN over UDP multicast: a publisher that packs whole records into
//! sequenced datagrams, and a subscriber that checks the sequence and applies
//! the records to the books.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::time::Instant;

use dbn::decode::DbnMetadata;
use dbn::RecordRef;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::error::FeedError;
use super::publish::{Pacer, PublishOptions, PublisherStats};
use super::source::{ts_event, FeedSource};
use super::subscribe::{FeedReport, SeqCheck, SubscribeOptions, SubscriberStats};
use super::wire::{check_records, unix_ns, DatagramKind, Header, HEADER_LEN};
use crate::book::{decoder_from_bytes, BookSnapshot, ReplayError, Replayer};

/// Largest UDP payload over IPv4.
pub const MAX_DATAGRAM: usize = 65_507;

/// Times the end datagram is sent (the same sequence number each time; the
/// subscriber stops at the first it receives).
const END_REPEATS: usize = 3;

/// Where a multicast stream goes and how its sockets are set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MulticastConfig {
    /// Multicast group (administratively scoped `239.x` by default).
    pub group: Ipv4Addr,
    /// UDP port.
    pub port: u16,
    /// Address of the interface to send on and join on (`127.0.0.1` = `lo`).
    pub interface: Ipv4Addr,
    /// Multicast TTL (0: never leaves the host; 1: the local link).
    pub ttl: u32,
    /// Receive buffer asked of the kernel (`SO_RCVBUF`; Linux doubles it and
    /// caps it at twice `net.core.rmem_max`, unless the process may use
    /// `SO_RCVBUFFORCE`, which is tried next). A buffer that overruns shows as gaps.
    pub recv_buffer: usize,
    /// Datagrams the subscriber takes per system call (Linux `recvmmsg`;
    /// 1 = one `recv` per datagram, as on other systems). Each slot holds a
    /// 64 KiB buffer.
    pub recv_batch: usize,
}

impl Default for MulticastConfig {
    fn default() -> Self {
        MulticastConfig {
            group: Ipv4Addr::new(239, 255, 0, 1),
            port: 45_100,
            interface: Ipv4Addr::LOCALHOST,
            ttl: 0,
            recv_buffer: 16 << 20,
            recv_batch: 16,
        }
    }
}

impl MulticastConfig {
    fn dest(&self) -> SocketAddrV4 {
        SocketAddrV4::new(self.group, self.port)
    }
}

/// A test mode of the UDP publisher: record datagrams to withhold (their
/// sequence numbers are used up, so a subscriber must see a gap).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum DropPlan {
    /// Send everything.
    #[default]
    None,
    /// Withhold every record datagram whose sequence number is a multiple of `n` (`n > 0`).
    EveryNth(u64),
    /// Withhold the record datagrams with these sequence numbers.
    Seqs(Vec<u64>),
}

impl DropPlan {
    /// `true` if the record datagram `seq` is to be withheld.
    pub fn drops(&self, seq: u64) -> bool {
        match self {
            DropPlan::None => false,
            DropPlan::EveryNth(n) => *n > 0 && seq.is_multiple_of(*n),
            DropPlan::Seqs(v) => v.contains(&seq),
        }
    }
}

/// Sends a [`FeedSource`] to a multicast group.
#[derive(Debug)]
pub struct UdpPublisher {
    socket: UdpSocket,
    cfg: MulticastConfig,
}

impl UdpPublisher {
    /// A socket bound to `cfg.interface` (any port) that sends to the group
    /// through that interface (`IP_MULTICAST_IF`), with `IP_MULTICAST_LOOP`
    /// on (so local subscribers receive) and `cfg.ttl`.
    pub fn new(cfg: &MulticastConfig) -> Result<Self, FeedError> {
        let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))
            .map_err(FeedError::io("creating the UDP socket"))?;
        let bind = SocketAddr::V4(SocketAddrV4::new(cfg.interface, 0));
        s.bind(&SockAddr::from(bind))
            .and_then(|_| s.set_multicast_if_v4(&cfg.interface))
            .and_then(|_| s.set_multicast_loop_v4(true))
            .and_then(|_| s.set_multicast_ttl_v4(cfg.ttl))
            .map_err(FeedError::io("configuring the multicast sender"))?;
        let _ = s.set_send_buffer_size(4 << 20);
        Ok(UdpPublisher {
            socket: s.into(),
            cfg: *cfg,
        })
    }

    /// Sends `src`: a metadata datagram (sequence 0), record datagrams of at
    /// most `opts.chunk` bytes (sequences 1..), then the end datagram.
    /// `drops` withholds chosen record datagrams (test mode).
    pub fn publish(
        &self,
        src: &FeedSource,
        opts: &PublishOptions,
        drops: &DropPlan,
    ) -> Result<PublisherStats, FeedError> {
        let max = opts.chunk.clamp(HEADER_LEN + 16, MAX_DATAGRAM);
        let meta = src.metadata_bytes();
        if HEADER_LEN + meta.len() > max {
            return Err(FeedError::MetadataTooLarge {
                len: meta.len(),
                max: max - HEADER_LEN,
            });
        }
        let mut tx = Sender {
            socket: &self.socket,
            dest: self.cfg.dest(),
            version: src.version(),
            seq: 0,
            buf: Vec::with_capacity(max),
            count: 0,
            st: PublisherStats::default(),
        };
        let mut pacer = Pacer::new(opts, src.span_ns());
        // The metadata datagram; a failure here is a setup error, not a loss.
        tx.start(DatagramKind::Metadata);
        tx.buf.extend_from_slice(meta);
        tx.stamp(0);
        tx.socket
            .send_to(&tx.buf, tx.dest)
            .map_err(FeedError::io("sending the metadata datagram"))?;
        tx.seq = 1;
        tx.st.sends += 1;
        tx.st.bytes += (HEADER_LEN + meta.len()) as u64;
        tx.start(DatagramKind::Records);
        let mut sent = 0u64;
        'rounds: for round in 0..opts.repeat.max(1) {
            for i in 0..src.record_count() {
                if pacer.stopped() {
                    tx.st.stopped = true;
                    break 'rounds;
                }
                let rec = src.record(i);
                if HEADER_LEN + rec.len() > max {
                    return Err(FeedError::RecordTooLarge {
                        len: rec.len(),
                        max: max - HEADER_LEN,
                    });
                }
                if let Some(due) = pacer.due_ts(round, ts_event(rec)) {
                    if pacer.early(due) && tx.count > 0 {
                        sent += u64::from(tx.count);
                        tx.flush(&mut pacer, sent, drops);
                    }
                    pacer.wait(due);
                }
                if tx.buf.len() + rec.len() > max || tx.count == u16::MAX {
                    sent += u64::from(tx.count);
                    tx.flush(&mut pacer, sent, drops);
                }
                tx.buf.extend_from_slice(rec);
                tx.count += 1;
            }
        }
        if tx.count > 0 {
            sent += u64::from(tx.count);
            tx.flush(&mut pacer, sent, drops);
        }
        // The end datagram: records and record datagrams published.
        let record_datagrams = tx.seq - 1;
        tx.start(DatagramKind::End);
        tx.buf.extend_from_slice(&sent.to_le_bytes());
        tx.buf.extend_from_slice(&record_datagrams.to_le_bytes());
        for _ in 0..END_REPEATS {
            let seq = tx.seq;
            tx.stamp(seq);
            if self.socket.send_to(&tx.buf, tx.dest).is_err() {
                tx.st.send_errors += 1;
            }
        }
        let mut st = tx.st;
        st.records = sent;
        st.max_lag_ns = pacer.max_lag_ns;
        st.elapsed_ns = pacer.start().elapsed().as_nanos() as u64;
        Ok(st)
    }
}

/// The datagram under construction.
struct Sender<'a> {
    socket: &'a UdpSocket,
    dest: SocketAddrV4,
    version: u8,
    seq: u64,
    buf: Vec<u8>,
    count: u16,
    st: PublisherStats,
}

impl Sender<'_> {
    fn start(&mut self, kind: DatagramKind) {
        self.buf.clear();
        self.buf.resize(HEADER_LEN, 0);
        self.buf[3] = kind as u8;
        self.count = 0;
    }

    fn stamp(&mut self, seq: u64) {
        let kind = match self.buf[3] {
            1 => DatagramKind::Metadata,
            2 => DatagramKind::End,
            _ => DatagramKind::Records,
        };
        Header {
            kind,
            count: self.count,
            dbn_version: self.version,
            seq,
            send_ns: unix_ns(),
        }
        .write(&mut self.buf);
    }

    /// Sends the record datagram (its sequence number is used even when it
    /// is withheld or the send fails) and starts the next one.
    fn flush(&mut self, pacer: &mut Pacer, records_so_far: u64, drops: &DropPlan) {
        if let Some(due) = pacer.due_rate(records_so_far) {
            pacer.wait(due);
        }
        let seq = self.seq;
        self.seq += 1;
        if drops.drops(seq) {
            self.st.dropped_by_plan += 1;
        } else {
            self.stamp(seq);
            match self.socket.send_to(&self.buf, self.dest) {
                Ok(n) => {
                    self.st.sends += 1;
                    self.st.bytes += n as u64;
                }
                Err(_) => self.st.send_errors += 1,
            }
        }
        self.start(DatagramKind::Records);
    }
}

/// Receive buffers for a batch of datagrams, 8-byte aligned (`u64` backing)
/// so that the records they carry are read in place.
struct Batch {
    bufs: Vec<Vec<u64>>,
    lens: Vec<usize>,
}

/// Words of one receive buffer: a whole UDP datagram and one byte more.
const SLOT_WORDS: usize = MAX_DATAGRAM / 8 + 1;

impl Batch {
    fn new(n: usize) -> Self {
        Batch {
            bufs: (0..n.max(1)).map(|_| vec![0u64; SLOT_WORDS]).collect(),
            lens: vec![0; n.max(1)],
        }
    }

    /// The bytes of datagram `i` of the last receive.
    fn datagram(&self, i: usize) -> &[u8] {
        let words = &self.bufs[i];
        // SAFETY: the `u64` buffer viewed as its bytes (any bit pattern is a
        // valid `u8`); `lens[i]` is at most its byte length.
        let bytes =
            unsafe { std::slice::from_raw_parts(words.as_ptr().cast::<u8>(), words.len() * 8) };
        &bytes[..self.lens[i]]
    }

    /// Receives at least one datagram (blocking up to the socket's read
    /// timeout), and as many more as are queued, up to the batch size.
    #[cfg(target_os = "linux")]
    fn recv(&mut self, socket: &UdpSocket) -> io::Result<usize> {
        use std::os::fd::AsRawFd;
        if self.bufs.len() == 1 {
            return self.recv_one(socket);
        }
        let n = self.bufs.len();
        let mut iov: Vec<libc::iovec> = self
            .bufs
            .iter_mut()
            .map(|b| libc::iovec {
                iov_base: b.as_mut_ptr().cast(),
                iov_len: b.len() * 8,
            })
            .collect();
        // SAFETY: `mmsghdr` is plain old data; all zeroes is a valid value.
        let mut msgs: Vec<libc::mmsghdr> = (0..n).map(|_| unsafe { std::mem::zeroed() }).collect();
        for (m, v) in msgs.iter_mut().zip(iov.iter_mut()) {
            m.msg_hdr.msg_iov = v;
            m.msg_hdr.msg_iovlen = 1;
        }
        // SAFETY: `msgs` has `n` headers, each pointing at one live iovec over
        // a live buffer of `iov_len` bytes; no address or control buffers.
        let got = unsafe {
            libc::recvmmsg(
                socket.as_raw_fd(),
                msgs.as_mut_ptr(),
                n as libc::c_uint,
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            )
        };
        if got < 0 {
            return Err(io::Error::last_os_error());
        }
        let got = got as usize;
        for (len, m) in self.lens.iter_mut().zip(&msgs[..got]) {
            *len = m.msg_len as usize;
        }
        Ok(got)
    }

    #[cfg(not(target_os = "linux"))]
    fn recv(&mut self, socket: &UdpSocket) -> io::Result<usize> {
        self.recv_one(socket)
    }

    fn recv_one(&mut self, socket: &UdpSocket) -> io::Result<usize> {
        let words = &mut self.bufs[0];
        // SAFETY: as in `datagram`, mutably; the buffer outlives the call.
        let bytes = unsafe {
            std::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u8>(), words.len() * 8)
        };
        self.lens[0] = socket.recv(bytes)?;
        Ok(1)
    }
}

/// A member of a multicast group that reads the stream into the books.
#[derive(Debug)]
pub struct UdpSubscriber {
    socket: UdpSocket,
    batch: usize,
}

impl UdpSubscriber {
    /// Binds `group:port` (with `SO_REUSEADDR`, so several subscribers can
    /// share it), sets the receive buffer and joins the group on
    /// `cfg.interface`. Join before the publisher starts: datagrams sent
    /// earlier are missed (and show as a gap from sequence 0).
    pub fn join(cfg: &MulticastConfig) -> Result<Self, FeedError> {
        let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))
            .map_err(FeedError::io("creating the UDP socket"))?;
        s.set_reuse_address(true)
            .map_err(FeedError::io("setting SO_REUSEADDR"))?;
        let _ = s.set_recv_buffer_size(cfg.recv_buffer);
        if s.recv_buffer_size().unwrap_or(0) < cfg.recv_buffer {
            force_recv_buffer(&s, cfg.recv_buffer);
        }
        s.bind(&SockAddr::from(SocketAddr::V4(cfg.dest())))
            .map_err(FeedError::io("binding the multicast group and port"))?;
        s.join_multicast_v4(&cfg.group, &cfg.interface)
            .map_err(FeedError::io("joining the multicast group"))?;
        Ok(UdpSubscriber {
            socket: s.into(),
            batch: cfg.recv_batch.max(1),
        })
    }

    /// The receive buffer the kernel granted (`SO_RCVBUF`), bytes.
    pub fn recv_buffer_bytes(&self) -> usize {
        socket2::SockRef::from(&self.socket)
            .recv_buffer_size()
            .unwrap_or(0)
    }

    /// Reads one stream, up to its end datagram (or the idle timeout, or
    /// the first gap with `opts.stop_on_gap`), applying the records to the
    /// books; `sink` gets the snapshots. Gaps are counted in the report, and
    /// the books carry on after a gap (they may then be wrong: check
    /// [`SubscriberStats::complete`]).
    pub fn run<F: FnMut(&BookSnapshot)>(
        &mut self,
        opts: &SubscribeOptions,
        mut sink: F,
    ) -> Result<FeedReport, FeedError> {
        self.socket
            .set_read_timeout(Some(opts.timeout))
            .map_err(FeedError::io("setting the idle timeout"))?;
        let mut batch = Batch::new(self.batch);
        let mut replayer = Replayer::new(opts.replay);
        let mut st = SubscriberStats::default();
        let mut metadata = None;
        let mut first: Option<Instant> = None;
        'stream: loop {
            let got = match batch.recv(&self.socket) {
                Ok(k) => k,
                Err(e)
                    if e.kind() == io::ErrorKind::WouldBlock
                        || e.kind() == io::ErrorKind::TimedOut =>
                {
                    st.timed_out = true;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(FeedError::io("receiving a datagram")(e)),
            };
            first.get_or_insert_with(Instant::now);
            for i in 0..got {
                let buf = batch.datagram(i);
                st.bytes += buf.len() as u64;
                let Some(h) = Header::read(buf) else {
                    st.malformed_datagrams += 1;
                    continue;
                };
                if h.kind == DatagramKind::Records && !check_records(&buf[HEADER_LEN..], h.count) {
                    st.malformed_datagrams += 1;
                    continue;
                }
                match st.on_seq(h.seq) {
                    SeqCheck::Late => continue,
                    SeqCheck::AfterGap if opts.stop_on_gap => {
                        st.stopped_on_gap = true;
                        break 'stream;
                    }
                    _ => {}
                }
                st.datagrams += 1;
                st.max_lag_ns = st.max_lag_ns.max(unix_ns().saturating_sub(h.send_ns));
                match h.kind {
                    DatagramKind::Metadata => {
                        metadata = decoder_from_bytes(&buf[HEADER_LEN..])
                            .ok()
                            .map(|d| d.metadata().clone());
                    }
                    DatagramKind::End => {
                        let p = &buf[HEADER_LEN..];
                        if p.len() >= 8 {
                            let mut b = [0u8; 8];
                            b.copy_from_slice(&p[..8]);
                            st.records_published = Some(u64::from_le_bytes(b));
                        }
                        st.end_seen = true;
                        break 'stream;
                    }
                    DatagramKind::Records => {
                        apply_records(&mut replayer, &buf[HEADER_LEN..], &mut sink)?;
                    }
                }
            }
        }
        st.records = replayer.stats().records;
        st.elapsed_ns = first.map_or(0, |t| t.elapsed().as_nanos() as u64);
        Ok(FeedReport {
            replayer,
            stats: st,
            metadata,
        })
    }
}

/// Applies the records of a datagram payload that passed [`check_records`],
/// each read in place (the payload starts 8-byte aligned: an aligned buffer
/// plus the 24-byte header).
fn apply_records<F: FnMut(&BookSnapshot)>(
    replayer: &mut Replayer,
    payload: &[u8],
    sink: &mut F,
) -> Result<(), FeedError> {
    let mut at = 0usize;
    while at < payload.len() {
        let len = usize::from(payload[at]) * 4;
        let bytes = &payload[at..at + len];
        debug_assert!((bytes.as_ptr() as usize).is_multiple_of(8));
        // SAFETY: `check_records` found `bytes` to be one whole record (its
        // length byte times 4, a header at least, a multiple of 8), and it
        // is 8-byte aligned: what `dbn`'s decoder hands out.
        let rec = unsafe { RecordRef::new(bytes) };
        let index = replayer.stats().records;
        replayer
            .on_record(rec, sink)
            .map_err(|source| ReplayError::Book { index, source })?;
        at += len;
    }
    Ok(())
}

/// Asks for `bytes` of receive buffer past `net.core.rmem_max` with
/// `SO_RCVBUFFORCE` (Linux, needs `CAP_NET_ADMIN`; silently does nothing
/// otherwise: [`UdpSubscriber::recv_buffer_bytes`] tells what was granted).
#[cfg(target_os = "linux")]
fn force_recv_buffer(s: &Socket, bytes: usize) {
    use std::os::fd::AsRawFd;
    let v: libc::c_int = bytes.min(libc::c_int::MAX as usize) as libc::c_int;
    // SAFETY: a valid socket descriptor, a pointer to a live c_int and its size.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn force_recv_buffer(_: &Socket, _: usize) {}

/// Checks that multicast works for `cfg` on this host: joins the group,
/// sends one probe datagram through `cfg.interface` and waits up to
/// `timeout` for it. Some containers need a route first
/// (`ip route add 239.0.0.0/8 dev lo`).
pub fn probe_multicast(
    cfg: &MulticastConfig,
    timeout: std::time::Duration,
) -> Result<(), FeedError> {
    let sub = UdpSubscriber::join(cfg)?;
    let publisher = UdpPublisher::new(cfg)?;
    let token = unix_ns().to_le_bytes();
    publisher
        .socket
        .send_to(&token, cfg.dest())
        .map_err(FeedError::io("sending the multicast probe"))?;
    sub.socket
        .set_read_timeout(Some(timeout))
        .map_err(FeedError::io("setting the probe timeout"))?;
    let mut buf = [0u8; 64];
    let deadline = Instant::now() + timeout;
    loop {
        match sub.socket.recv(&mut buf) {
            Ok(8) if buf[..8] == token => return Ok(()),
            Ok(_) if Instant::now() < deadline => {}
            Ok(_) => {
                return Err(FeedError::io("waiting for the multicast probe")(
                    io::ErrorKind::TimedOut.into(),
                ))
            }
            Err(e) => return Err(FeedError::io("waiting for the multicast probe")(e)),
        }
    }
}
