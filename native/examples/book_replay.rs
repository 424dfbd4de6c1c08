//! Replays a DBN MBO file into the L3 books and prints events per second.
//!
//! `cargo run --release --example book_replay [PATH] [ROUNDS]`
//! (default PATH: the real ESH4 file under ../../shared/data/real).

use std::time::{Duration, Instant};

use _native::book::{
    decoder_from_bytes, replay_bytes, replay_file, replay_file_columns, replay_file_rows,
    BookSnapshot, Every, Market, ReplayOptions, Replayer,
};
use dbn::decode::DecodeRecordRef;
use dbn::{MboMsg, RecordRef};

/// Times `rounds` runs of `f`; returns (best, median) and the last output.
fn best<F: FnMut() -> u64>(rounds: usize, mut f: F) -> ((Duration, Duration), u64) {
    let mut times = Vec::with_capacity(rounds);
    let mut out = 0;
    for _ in 0..rounds.max(1) {
        let t = Instant::now();
        out = std::hint::black_box(f());
        times.push(t.elapsed());
    }
    times.sort();
    ((times[0], times[times.len() / 2]), out)
}

fn line(what: &str, n: u64, (b, m): (Duration, Duration)) {
    println!(
        "{what:<58} best {:>7.3} ms {:>6.2} M ev/s   median {:>7.3} ms {:>6.2} M ev/s",
        b.as_secs_f64() * 1e3,
        n as f64 / b.as_secs_f64() / 1e6,
        m.as_secs_f64() * 1e3,
        n as f64 / m.as_secs_f64() / 1e6
    );
}

fn main() {
    let default = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/real/nautilus/esh4-glbx-mdp3-20231225.mbo.dbn.zst"
    );
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).cloned().unwrap_or_else(|| default.to_string());
    let rounds: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(50);
    let bytes = std::fs::read(&path).expect("read the DBN file");
    if let Some(out) = std::env::var_os("BOOK_DUMP") {
        // One CSV row per event boundary: instrument_id, ts_event, then
        // bid_px,bid_sz,bid_ct,ask_px,ask_sz,ask_ct for levels 0..9
        // (empty levels: price UNDEF_PRICE, size 0), for cross-checks.
        use std::io::Write;
        let mut w = std::io::BufWriter::new(std::fs::File::create(out).unwrap());
        replay_bytes(&bytes, ReplayOptions::default(), |s| {
            write!(w, "{},{}", s.instrument_id, s.ts_event).unwrap();
            for p in &s.levels {
                write!(
                    w,
                    ",{},{},{},{},{},{}",
                    p.bid_px, p.bid_sz, p.bid_ct, p.ask_px, p.ask_sz, p.ask_ct
                )
                .unwrap();
            }
            writeln!(w).unwrap();
        })
        .unwrap();
        return;
    }
    if std::env::var_os("BOOK_PROFILE_COLUMNS").is_some() {
        let mut k = 0;
        for _ in 0..rounds {
            let (cols, _) = replay_file_columns(&path, ReplayOptions::default()).unwrap();
            k += cols.len();
        }
        println!("{k}");
        return;
    }
    if std::env::var_os("BOOK_PROFILE_APPLY").is_some() {
        let mut msgs: Vec<MboMsg> = Vec::new();
        let mut dec = decoder_from_bytes(&bytes).unwrap();
        while let Some(rec) = dec.decode_record_ref().unwrap() {
            if let Some(m) = rec.get::<MboMsg>() {
                msgs.push(*m);
            }
        }
        let mut k = 0;
        for _ in 0..rounds {
            let mut m = Market::new();
            for msg in &msgs {
                let _ = m.apply(msg);
            }
            k += m.get(msgs[0].hd.instrument_id).unwrap().order_count();
        }
        println!("{k}");
        return;
    }
    if std::env::var_os("BOOK_PROFILE").is_some() {
        // A loop of the end-to-end path alone, for `perf record`.
        let mut acc = 0i64;
        for _ in 0..rounds {
            let r = replay_bytes(&bytes, ReplayOptions::default(), |s| {
                acc = acc.wrapping_add(s.levels[0].bid_px)
            })
            .unwrap();
            acc ^= r.stats().records as i64;
        }
        println!("{acc}");
        return;
    }

    let r = replay_file(&path, ReplayOptions::default(), |_| {}).expect("replay");
    let s = r.stats();
    let n = s.records;
    println!("file: {path}");
    println!(
        "records {n}, mbo {}, event boundaries {}, snapshots {}, refused {}, actions {:?}",
        s.mbo_records, s.event_boundaries, s.snapshots_emitted, s.refused, s.actions
    );
    println!("integrity {:?}", r.integrity());
    println!("best and median of {rounds} rounds:");

    let ev = |every| ReplayOptions {
        every,
        ..Default::default()
    };
    let single = ReplayOptions {
        decompress_in_thread: false,
        ..Default::default()
    };
    let (d, _) = best(rounds, || {
        let mut acc = 0i64;
        let r = replay_file(&path, single, |s| {
            acc = acc.wrapping_add(s.levels[0].bid_px)
        })
        .unwrap();
        r.stats().records ^ acc as u64
    });
    line("file -> book -> snapshot per event, one thread", n, d);
    let (d, _) = best(rounds, || {
        let mut acc = 0i64;
        let r = replay_file(&path, ev(Every::Event), |s| {
            acc = acc.wrapping_add(s.levels[0].bid_px)
        })
        .unwrap();
        r.stats().records ^ acc as u64
    });
    line("file -> decode -> book -> MBP-10 snapshot per event", n, d);
    let (d, _) = best(rounds, || {
        let (cols, _) = replay_file_columns(&path, ev(Every::Event)).unwrap();
        cols.len() as u64
    });
    line("file -> book -> MBP-10 columns (DataFrame shape)", n, d);
    let (d, _) = best(rounds, || {
        let (rows, _) = replay_file_rows(&path, ev(Every::Event)).unwrap();
        rows.len() as u64
    });
    line("file -> decode -> book -> Vec<BookSnapshot> rows", n, d);
    let (d, _) = best(rounds, || {
        replay_file(&path, ev(Every::Never), |_| {})
            .unwrap()
            .stats()
            .records
    });
    line("file -> decode -> book (no snapshots)", n, d);
    let (d, _) = best(rounds, || {
        let mut acc = 0i64;
        let r = replay_bytes(&bytes, ev(Every::Event), |s| {
            acc = acc.wrapping_add(s.levels[0].bid_px)
        })
        .unwrap();
        r.stats().records ^ acc as u64
    });
    line("bytes -> decode -> book -> snapshot per event", n, d);
    let (d, _) = best(rounds, || {
        let mut acc = 0i64;
        let r = replay_bytes(&bytes, ev(Every::Record), |s| {
            acc = acc.wrapping_add(s.levels[0].bid_px)
        })
        .unwrap();
        r.stats().records ^ acc as u64
    });
    line("bytes -> decode -> book -> snapshot per record", n, d);
    let (d, _) = best(rounds, || {
        let mut dec = decoder_from_bytes(&bytes).unwrap();
        let mut k = 0u64;
        while let Some(rec) = dec.decode_record_ref().unwrap() {
            k += u64::from(rec.header().rtype);
        }
        k
    });
    line("decode only (zstd if any + DBN)", n, d);
    let plain_bytes = if bytes.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]) {
        let (d, _) = best(rounds, || {
            zstd::stream::decode_all(&bytes[..]).unwrap().len() as u64
        });
        line("zstd decompress only (decode_all)", n, d);
        zstd::stream::decode_all(&bytes[..]).unwrap()
    } else {
        bytes.clone()
    };
    let (d, _) = best(rounds, || {
        let mut dec = decoder_from_bytes(&plain_bytes).unwrap();
        let mut k = 0u64;
        while let Some(rec) = dec.decode_record_ref().unwrap() {
            k += u64::from(rec.header().rtype);
        }
        k
    });
    line("DBN decode only (plain bytes in memory)", n, d);

    // The pipeline's consumer alone: the plain records read in place (from an
    // 8-byte aligned copy) -> book -> snapshot per event.
    let meta_end = 8 + u32::from_le_bytes(plain_bytes[4..8].try_into().unwrap()) as usize;
    let body = &plain_bytes[meta_end..];
    let mut words = vec![0u64; body.len().div_ceil(8)];
    // SAFETY: `words` holds at least `body.len()` bytes.
    unsafe { std::ptr::copy_nonoverlapping(body.as_ptr(), words.as_mut_ptr().cast(), body.len()) };
    // SAFETY: the same bytes, viewed as u8.
    let aligned = unsafe { std::slice::from_raw_parts(words.as_ptr().cast::<u8>(), body.len()) };
    let (d, _) = best(rounds, || {
        let mut acc = 0i64;
        let mut r = Replayer::new(ev(Every::Event));
        r.reserve_for(body.len());
        let mut sink = |s: &BookSnapshot| acc = acc.wrapping_add(s.levels[0].bid_px);
        let mut at = 0;
        while at < aligned.len() {
            let len = usize::from(aligned[at]) * 4;
            // SAFETY: DBN records in a valid file, 8-byte aligned.
            let rec = unsafe { RecordRef::new(&aligned[at..at + len]) };
            r.on_record(rec, &mut sink).unwrap();
            at += len;
        }
        r.stats().records ^ acc as u64
    });
    line(
        "plain records in place -> book -> snapshot (consumer)",
        n,
        d,
    );

    let mut msgs: Vec<MboMsg> = Vec::with_capacity(n as usize);
    let mut dec = decoder_from_bytes(&bytes).unwrap();
    while let Some(rec) = dec.decode_record_ref().unwrap() {
        if let Some(m) = rec.get::<MboMsg>() {
            msgs.push(*m);
        }
    }
    let (d, _) = best(rounds, || {
        let mut m = Market::new();
        for msg in &msgs {
            let _ = m.apply(msg);
        }
        m.instrument_ids().len() as u64
    });
    line("apply only (records already decoded)", msgs.len() as u64, d);
}
