//! DBN over TCP: a one-client server that replays a [`FeedSource`], and a
//! client that reads the stream into the books.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use dbn::decode::DbnMetadata;

use super::error::FeedError;
use super::publish::{Pacer, PublishOptions, PublisherStats, StopFlag};
use super::source::FeedSource;
use super::subscribe::{FeedReport, SubscribeOptions, SubscriberStats};
use crate::book::{decoder_from_reader, BookSnapshot, ReplayError, Replayer};

/// A TCP server that streams a DBN source, as plain DBN (prelude, metadata,
/// then records), to each client it accepts.
#[derive(Debug)]
pub struct TcpPublisher {
    listener: TcpListener,
}

impl TcpPublisher {
    /// Listens on `addr` (e.g. `"127.0.0.1:0"` for a free port).
    pub fn bind(addr: impl ToSocketAddrs) -> Result<Self, FeedError> {
        let listener =
            TcpListener::bind(addr).map_err(FeedError::io("binding the TCP listener"))?;
        Ok(TcpPublisher { listener })
    }

    /// The address clients connect to.
    pub fn local_addr(&self) -> Result<SocketAddr, FeedError> {
        self.listener
            .local_addr()
            .map_err(FeedError::io("reading the listener address"))
    }

    /// Waits up to `timeout` for one client.
    pub fn accept(&self, timeout: Duration) -> Result<TcpStream, FeedError> {
        self.accept_or_stop(timeout, &StopFlag::default())
    }

    /// Waits up to `timeout` for one client, or until `stop` is set (then an
    /// `Interrupted` I/O error).
    pub fn accept_or_stop(
        &self,
        timeout: Duration,
        stop: &StopFlag,
    ) -> Result<TcpStream, FeedError> {
        let deadline = Instant::now() + timeout;
        self.listener
            .set_nonblocking(true)
            .map_err(FeedError::io("setting the listener non-blocking"))?;
        loop {
            match self.listener.accept() {
                Ok((s, _)) => {
                    s.set_nonblocking(false)
                        .map_err(FeedError::io("setting the stream blocking"))?;
                    return Ok(s);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if stop.is_set() {
                        return Err(FeedError::Io {
                            context: "waiting for a TCP client",
                            source: io::Error::new(
                                io::ErrorKind::Interrupted,
                                "stopped before a client connected",
                            ),
                        });
                    }
                    if Instant::now() >= deadline {
                        return Err(FeedError::Io {
                            context: "waiting for a TCP client",
                            source: io::Error::new(io::ErrorKind::TimedOut, "no client connected"),
                        });
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(FeedError::io("accepting a TCP client")(e)),
            }
        }
    }

    /// Accepts one client (waiting up to `opts.timeout`) and streams `src` to it.
    pub fn serve_one(
        &self,
        src: &FeedSource,
        opts: &PublishOptions,
    ) -> Result<PublisherStats, FeedError> {
        let stream = self.accept_or_stop(opts.timeout, &opts.stop)?;
        publish_tcp(stream, src, opts)
    }
}

/// Streams `src` over a connected socket (then shuts down the writing half).
///
/// The socket is written in non-blocking mode; when the kernel's send buffer
/// is full (the subscriber is slower than the publisher) the stall is counted
/// and the rest of the chunk is written blocking, with `opts.timeout` as the
/// write timeout. See [`PublisherStats`] for the figures.
pub fn publish_tcp(
    mut stream: TcpStream,
    src: &FeedSource,
    opts: &PublishOptions,
) -> Result<PublisherStats, FeedError> {
    let mut st = PublisherStats {
        send_buffer_bytes: socket2::SockRef::from(&stream)
            .send_buffer_size()
            .unwrap_or(0) as u64,
        ..Default::default()
    };
    stream
        .set_write_timeout(Some(opts.timeout))
        .and_then(|_| stream.set_nodelay(true))
        .and_then(|_| stream.set_nonblocking(true))
        .map_err(FeedError::io("configuring the TCP stream"))?;
    let mut pacer = Pacer::new(opts, src.span_ns());
    let chunk = opts.chunk.max(1);
    write_measured(&mut stream, src.metadata_bytes(), &mut st)?;
    let recs = src.records_bytes();
    let offsets = src.offsets();
    let mut sent = 0u64;
    let mut flush = |from: usize, to: usize, n: u64, pacer: &mut Pacer, st: &mut PublisherStats| {
        if from == to {
            return Ok(());
        }
        sent += n;
        if let Some(due) = pacer.due_rate(sent) {
            pacer.wait(due);
        }
        write_measured(&mut stream, &recs[from..to], st)?;
        st.records += n;
        Ok::<(), FeedError>(())
    };
    'rounds: for round in 0..opts.repeat.max(1) {
        let (mut b0, mut i0) = (0usize, 0usize);
        for (i, &off) in offsets.iter().enumerate() {
            let off = off as usize;
            if pacer.by_ts() {
                let ts = super::source::ts_event(&recs[off..off + 16]);
                if let Some(due) = pacer.due_ts(round, ts) {
                    if pacer.early(due) {
                        flush(b0, off, (i - i0) as u64, &mut pacer, &mut st)?;
                        (b0, i0) = (off, i);
                    }
                    pacer.wait(due);
                }
            }
            if off - b0 >= chunk {
                flush(b0, off, (i - i0) as u64, &mut pacer, &mut st)?;
                (b0, i0) = (off, i);
            }
            if pacer.stopped() {
                // Send what was due before the stop, then close the stream.
                flush(b0, off, (i - i0) as u64, &mut pacer, &mut st)?;
                st.stopped = true;
                break 'rounds;
            }
        }
        flush(
            b0,
            recs.len(),
            (offsets.len() - i0) as u64,
            &mut pacer,
            &mut st,
        )?;
    }
    st.max_lag_ns = pacer.max_lag_ns;
    st.elapsed_ns = pacer.start().elapsed().as_nanos() as u64;
    stream
        .set_nonblocking(false)
        .map_err(FeedError::io("setting the stream blocking"))?;
    let _ = stream.shutdown(std::net::Shutdown::Write);
    // Wait for the subscriber to close its end, so that every byte is read
    // before this socket goes away (bounded by the timeout).
    let _ = stream.set_read_timeout(Some(opts.timeout));
    let mut sink = [0u8; 64];
    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
    Ok(st)
}

fn write_measured(
    stream: &mut TcpStream,
    mut buf: &[u8],
    st: &mut PublisherStats,
) -> Result<(), FeedError> {
    st.sends += 1;
    while !buf.is_empty() {
        match stream.write(buf) {
            Ok(0) => {
                return Err(FeedError::io("writing to the TCP stream")(
                    io::ErrorKind::WriteZero.into(),
                ))
            }
            Ok(n) => {
                st.bytes += n as u64;
                buf = &buf[n..];
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                st.stalls += 1;
                st.max_pending_bytes = st.max_pending_bytes.max(buf.len() as u64);
                let t = Instant::now();
                stream
                    .set_nonblocking(false)
                    .map_err(FeedError::io("setting the stream blocking"))?;
                let res = stream.write_all(buf);
                let ns = t.elapsed().as_nanos() as u64;
                st.blocked_ns += ns;
                st.max_stall_ns = st.max_stall_ns.max(ns);
                res.map_err(FeedError::io("writing to the TCP stream (blocked)"))?;
                st.bytes += buf.len() as u64;
                stream
                    .set_nonblocking(true)
                    .map_err(FeedError::io("setting the stream non-blocking"))?;
                return Ok(());
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(FeedError::io("writing to the TCP stream")(e)),
        }
    }
    Ok(())
}

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    bytes: u64,
    first: Option<Instant>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 && self.first.is_none() {
            self.first = Some(Instant::now());
        }
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Connects to a DBN TCP stream at `addr` and applies every record to the
/// books until the publisher closes the stream; `sink` gets the snapshots
/// (as [`crate::book::replay_reader`]). Connect and read are bounded by
/// `opts.timeout`.
pub fn subscribe_tcp<F: FnMut(&BookSnapshot)>(
    addr: SocketAddr,
    opts: &SubscribeOptions,
    sink: F,
) -> Result<FeedReport, FeedError> {
    let stream = TcpStream::connect_timeout(&addr, opts.timeout)
        .map_err(FeedError::io("connecting to the TCP publisher"))?;
    read_tcp(stream, opts, sink)
}

/// Reads a connected DBN TCP stream into the books (see [`subscribe_tcp`]).
pub fn read_tcp<F: FnMut(&BookSnapshot)>(
    stream: TcpStream,
    opts: &SubscribeOptions,
    mut sink: F,
) -> Result<FeedReport, FeedError> {
    stream
        .set_read_timeout(Some(opts.timeout))
        .map_err(FeedError::io("setting the read timeout"))?;
    let _ = socket2::SockRef::from(&stream).set_recv_buffer_size(4 << 20);
    let mut counting = Counting {
        inner: stream,
        bytes: 0,
        first: None,
    };
    let mut replayer = Replayer::new(opts.replay);
    let metadata = {
        let mut dec = decoder_from_reader(&mut counting).map_err(ReplayError::from)?;
        let meta = dec.metadata().clone();
        replayer.run(&mut dec, &mut sink)?;
        meta
    };
    let stats = SubscriberStats {
        records: replayer.stats().records,
        bytes: counting.bytes,
        elapsed_ns: counting.first.map_or(0, |t| t.elapsed().as_nanos() as u64),
        ..Default::default()
    };
    Ok(FeedReport {
        replayer,
        stats,
        metadata: Some(metadata),
    })
}
