//! The fast path of zstd replays: a two-thread pipeline over one output
//! buffer.
//!
//! A scoped thread decompresses the whole zstd input (already in memory)
//! into one buffer sized by `ZSTD_decompressBound`, with
//! `ZSTD_d_stableOutBuffer` so that zstd writes each block straight into it
//! (no window copy, no chunk allocation, no channel), and publishes how far
//! the output is written through an atomic after every step of
//! `ZSTD_decompressStream` (one step per [`PIECE`] bytes of compressed input,
//! about one 128 KiB zstd block of output). The calling thread reads the
//! records in place behind that mark and applies them as soon as they are
//! complete, so the replay takes about as long as the decompression alone.
//!
//! The output starts at an offset chosen so that the first record after the
//! metadata block is 8-byte aligned (DBN metadata lengths need not be a
//! multiple of 8), which lets every record be read in place.
//!
//! Input this path does not take (no DBN prelude in the first bytes, a frame
//! whose bound zstd cannot tell, a bound above [`MAX_PLAIN`]) returns `None`
//! from [`replay_in_memory`], and the caller uses the chunked pipeline.

use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};

use dbn::decode::dbn::MetadataDecoder;
use dbn::RecordRef;
use zstd_sys as zs;

use super::error::ReplayError;
use super::replay::{bad_record_length, BookSnapshot, ReplayOptions, Replayer, UPGRADE};

/// Compressed bytes handed to zstd per step (the granularity of progress).
const PIECE: usize = 16 * 1024;

/// Largest decompressed size taken by this path (larger inputs stream through
/// the chunked pipeline in constant memory).
pub(crate) const MAX_PLAIN: usize = 1 << 30;

const RUNNING: u8 = 0;
const DONE: u8 = 1;
const FAILED: u8 = 2;

/// What the two threads share.
struct Progress {
    /// Bytes of output written and published (Release by the producer).
    written: AtomicUsize,
    /// `RUNNING`, `DONE` or `FAILED`, stored after the last `written`.
    state: AtomicU8,
    /// Set by the consumer to stop the producer early.
    stop: AtomicBool,
    /// The consumer, unparked by the producer after each publication.
    consumer: std::thread::Thread,
}

/// The output buffer's start, handed to the producer thread.
struct OutPtr(*mut u8);
// SAFETY: the producer is the only writer, and only of bytes at or beyond
// `written`; the consumer only reads bytes below it (see `replay_in_memory`).
unsafe impl Send for OutPtr {}

/// An owned zstd decompression context.
struct DCtx(*mut zs::ZSTD_DCtx);

impl Drop for DCtx {
    fn drop(&mut self) {
        // SAFETY: created by ZSTD_createDCtx, freed once.
        unsafe {
            zs::ZSTD_freeDCtx(self.0);
        }
    }
}

fn zstd_error(code: usize) -> io::Error {
    // SAFETY: ZSTD_getErrorName returns a static NUL-terminated string.
    let name = unsafe { std::ffi::CStr::from_ptr(zs::ZSTD_getErrorName(code)) };
    io::Error::other(name.to_string_lossy().into_owned())
}

/// Decompresses all of `src` into `cap` bytes at `out`, publishing progress.
fn decompress(src: &[u8], out: OutPtr, cap: usize, p: &Progress) -> io::Result<()> {
    // SAFETY: plain FFI calls on a context we own; `out` is valid for `cap`
    // bytes for the whole call (the caller keeps the buffer alive until this
    // thread is joined) and only zstd writes to it, at or beyond `pos`.
    unsafe {
        let ctx = DCtx(zs::ZSTD_createDCtx());
        if ctx.0.is_null() {
            return Err(io::Error::other("cannot create a zstd context"));
        }
        let r = zs::ZSTD_DCtx_setParameter(
            ctx.0,
            zs::ZSTD_dParameter::ZSTD_d_experimentalParam2, // ZSTD_d_stableOutBuffer
            1,
        );
        if zs::ZSTD_isError(r) != 0 {
            return Err(zstd_error(r));
        }
        let mut o = zs::ZSTD_outBuffer {
            dst: out.0.cast(),
            size: cap,
            pos: 0,
        };
        let mut i = zs::ZSTD_inBuffer {
            src: src.as_ptr().cast(),
            size: 0,
            pos: 0,
        };
        loop {
            if p.stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            i.size = (i.pos + PIECE).min(src.len());
            let (in_before, out_before) = (i.pos, o.pos);
            let r = zs::ZSTD_decompressStream(ctx.0, &mut o, &mut i);
            if zs::ZSTD_isError(r) != 0 {
                return Err(zstd_error(r));
            }
            if o.pos != out_before {
                p.written.store(o.pos, Ordering::Release);
                p.consumer.unpark();
            }
            if i.pos == src.len() {
                if r == 0 {
                    return Ok(());
                }
                if i.pos == in_before && o.pos == out_before {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "zstd input ends inside a frame",
                    ));
                }
            }
        }
    }
}

/// Reads the first 8 decompressed bytes (the DBN prelude) on a throwaway
/// decoder: DBN files written by Databento keep the metadata in a small
/// frame of its own, so this costs microseconds.
fn prelude(src: &[u8]) -> Option<[u8; 8]> {
    let mut d = zstd::stream::read::Decoder::with_buffer(src).ok()?;
    let mut head = [0u8; 8];
    d.read_exact(&mut head).ok()?;
    (&head[..3] == b"DBN").then_some(head)
}

/// Waits until more than `seen` bytes are published or the producer has
/// ended; returns the bytes published and whether the producer has ended.
#[inline]
fn wait_past(p: &Progress, seen: usize) -> (usize, bool) {
    let mut spins = 0u32;
    loop {
        let w = p.written.load(Ordering::Acquire);
        if w > seen {
            return (w, false);
        }
        if p.state.load(Ordering::Acquire) != RUNNING {
            return (p.written.load(Ordering::Acquire), true);
        }
        // Spin a little (a block lands every ~0.1 ms), then sleep until the
        // producer publishes (`unpark` is a no-op store unless we sleep).
        spins = spins.saturating_add(1);
        if spins < 256 {
            std::hint::spin_loop();
        } else {
            std::thread::park();
        }
    }
}

/// Ends the consumer's wait however the producer thread ends, a panic
/// included: stores the final state (`FAILED` unless set to `DONE`) after
/// the last `written`, then wakes the consumer.
struct Finish<'a>(&'a Progress, u8);

impl Drop for Finish<'_> {
    fn drop(&mut self) {
        self.0.state.store(self.1, Ordering::Release);
        self.0.consumer.unpark();
    }
}

/// Stops the producer however the consumer ends, a panic in the sink
/// included (the scope then joins the producer before unwinding further).
struct StopOnDrop<'a>(&'a Progress);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.stop.store(true, Ordering::Relaxed);
    }
}

/// Replays zstd-compressed DBN held in memory through the pipeline; `None`
/// when this path does not take the input (see the module docs), including
/// when the buffer cannot be allocated.
///
/// `ZSTD_decompressBound` is only a capacity here, not trusted: a crafted
/// header may claim any content size (and the sum over frames may wrap), but
/// zstd never writes past `cap` (it fails with `dstSize_tooSmall` instead),
/// and the consumer reads only published bytes.
pub(crate) fn replay_in_memory<F: FnMut(&BookSnapshot)>(
    src: &[u8],
    opts: ReplayOptions,
    sink: &mut F,
) -> Option<Result<Replayer, ReplayError>> {
    let head = prelude(src)?;
    // SAFETY: FFI over a byte slice.
    let bound = unsafe { zs::ZSTD_decompressBound(src.as_ptr().cast(), src.len()) };
    if bound == zs::ZSTD_CONTENTSIZE_ERROR as u64 || bound > MAX_PLAIN as u64 {
        return None;
    }
    let cap = bound as usize;
    let meta_end = 8 + u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
    // Offset of the output in the buffer so that `meta_end` is 8-aligned.
    let pad = (8 - meta_end % 8) % 8;
    let mut words: Vec<u64> = Vec::new();
    words.try_reserve_exact((cap + pad).div_ceil(8) + 1).ok()?;
    // SAFETY: `pad` < 8 bytes into an allocation of at least `cap + pad` bytes.
    let base = unsafe { words.as_mut_ptr().cast::<u8>().add(pad) };
    let progress = Progress {
        written: AtomicUsize::new(0),
        state: AtomicU8::new(RUNNING),
        stop: AtomicBool::new(false),
        consumer: std::thread::current(),
    };
    let p = &progress;
    let zstd_err = |e: io::Error| ReplayError::from(dbn::Error::io(e, "decompressing zstd"));
    let result = std::thread::scope(|scope| {
        let out = OutPtr(base);
        let producer = scope.spawn(move || {
            let mut finish = Finish(p, FAILED);
            let res = decompress(src, out, cap, p);
            if res.is_ok() {
                finish.1 = DONE;
            }
            res
        });
        let stop = StopOnDrop(p);
        let consumed = consume(base, cap, meta_end, p, opts, sink);
        drop(stop);
        let produced = producer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the zstd thread panicked")));
        match consumed {
            // The consumer stops at the end of the published bytes; a zstd
            // error there is the reason.
            Ok((r, true)) => produced.map(|()| r).map_err(zstd_err),
            Ok((r, false)) => Ok(r),
            Err(e) => Err(e),
        }
    });
    drop(words);
    Some(result)
}

/// Replays a plain DBN file of `size` bytes (at most [`MAX_PLAIN`]) read
/// whole into an aligned buffer, its records applied in place as by the
/// pipeline's consumer; `None` when it does not start with a DBN prelude
/// (the caller's decoder then reports what is wrong).
pub(crate) fn replay_plain_file<F: FnMut(&BookSnapshot)>(
    mut f: std::fs::File,
    size: usize,
    opts: ReplayOptions,
    sink: &mut F,
) -> Option<Result<Replayer, ReplayError>> {
    // `size` is from the file's metadata, which may have changed since (the
    // prelude copy below needs 8 bytes).
    if size < 8 {
        return None;
    }
    let mut head = [0u8; 8];
    f.read_exact(&mut head).ok()?;
    if &head[..3] != b"DBN" {
        return None;
    }
    let meta_end = 8 + u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
    let pad = (8 - meta_end % 8) % 8;
    let mut words = vec![0u64; (size + pad).div_ceil(8)];
    // SAFETY: the words' bytes, `pad + size` of them at most.
    let bytes =
        unsafe { std::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u8>().add(pad), size) };
    bytes[..8].copy_from_slice(&head);
    let mut len = 8;
    while len < bytes.len() {
        match f.read(&mut bytes[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Some(Err(dbn::Error::io(e, "reading").into())),
        }
    }
    let progress = Progress {
        written: AtomicUsize::new(len),
        state: AtomicU8::new(DONE),
        stop: AtomicBool::new(false),
        consumer: std::thread::current(),
    };
    let res = consume(bytes.as_ptr(), len, meta_end, &progress, opts, sink).map(|(r, _)| r);
    drop(words);
    Some(res)
}

/// The consumer side: checks the metadata, then applies each whole record
/// behind the producer's mark. Returns the replayer and whether the producer
/// failed (then the caller reports its error).
fn consume<F: FnMut(&BookSnapshot)>(
    base: *const u8,
    cap: usize,
    meta_end: usize,
    p: &Progress,
    opts: ReplayOptions,
    sink: &mut F,
) -> Result<(Replayer, bool), ReplayError> {
    let mut avail = 0usize;
    let mut ended = false;
    while avail < meta_end && !ended {
        (avail, ended) = wait_past(p, avail);
    }
    let failed = || p.state.load(Ordering::Acquire) == FAILED;
    if avail < meta_end {
        if failed() {
            return Ok((Replayer::new(opts), true));
        }
        return Err(dbn::Error::io(
            io::Error::new(io::ErrorKind::UnexpectedEof, "DBN metadata truncated"),
            "reading DBN metadata",
        )
        .into());
    }
    // SAFETY: the first `avail` bytes are written and never written again.
    let head = unsafe { std::slice::from_raw_parts(base, meta_end) };
    // `dbn` checks the prelude, version and metadata as for any stream.
    MetadataDecoder::<_>::with_upgrade_policy(head, UPGRADE).decode()?;
    let mut r = Replayer::new(opts);
    r.reserve_for(cap);
    let mut at = meta_end;
    debug_assert!((base as usize + at).is_multiple_of(8));
    loop {
        while at < avail {
            // SAFETY: `at < avail`: a written byte.
            let len = usize::from(unsafe { *base.add(at) }) * 4;
            if len < 16 || len % 8 != 0 {
                return Err(dbn::Error::io(
                    bad_record_length(at as u64, len),
                    "reading DBN records",
                )
                .into());
            }
            if at + len > avail {
                break;
            }
            // SAFETY: bytes `at..at + len` are written (below `avail`) and
            // stay unchanged; `base + at` is 8-aligned (callers place `base`
            // so that `base + meta_end` is, and every length is a multiple
            // of 8); the framing was checked above, so
            // this is one whole record as `dbn`'s own decoder hands out.
            let rec = unsafe { RecordRef::new(std::slice::from_raw_parts(base.add(at), len)) };
            let index = r.records();
            r.on_record(rec, sink)
                .map_err(|source| ReplayError::Book { index, source })?;
            at += len;
        }
        if ended {
            // A partial record at the very end is dropped, as `dbn`'s decoder does.
            return Ok((r, failed()));
        }
        (avail, ended) = wait_past(p, avail);
    }
}
