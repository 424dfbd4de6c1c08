//! Criterion benchmarks of the order book on the real ESH4 MBO file
//! (68,792 records; skipped when the shared data folder is absent).
//!
//! `cargo bench --bench book`; throughput is reported in records (events) per second.

use std::hint::black_box;
use std::path::PathBuf;

use _native::book::{decoder_from_bytes, replay_bytes, replay_file, Every, Market, ReplayOptions};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dbn::decode::DecodeRecordRef;
use dbn::MboMsg;

fn esh4() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/real/nautilus/esh4-glbx-mdp3-20231225.mbo.dbn.zst");
    p.exists().then_some(p)
}

fn bench(c: &mut Criterion) {
    let Some(path) = esh4() else {
        eprintln!("SKIPPED: the real ESH4 file is absent");
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    let mut msgs: Vec<MboMsg> = Vec::new();
    let mut dec = decoder_from_bytes(&bytes).unwrap();
    while let Some(rec) = dec.decode_record_ref().unwrap() {
        msgs.push(*rec.get::<MboMsg>().unwrap());
    }
    let mut g = c.benchmark_group("esh4_mbo");
    g.throughput(Throughput::Elements(msgs.len() as u64));
    g.sample_size(30);
    let opts = |every, threaded| ReplayOptions {
        every,
        decompress_in_thread: threaded,
        ..Default::default()
    };
    g.bench_function("file_decode_book_snapshot_per_event_pipelined", |b| {
        b.iter(|| {
            let mut acc = 0i64;
            let r = replay_file(&path, opts(Every::Event, true), |s| {
                acc = acc.wrapping_add(s.levels[0].bid_px)
            })
            .unwrap();
            black_box((r.stats().records, acc))
        })
    });
    g.bench_function("file_decode_book_snapshot_per_event_one_thread", |b| {
        b.iter(|| {
            let mut acc = 0i64;
            let r = replay_file(&path, opts(Every::Event, false), |s| {
                acc = acc.wrapping_add(s.levels[0].bid_px)
            })
            .unwrap();
            black_box((r.stats().records, acc))
        })
    });
    g.bench_function("bytes_decode_book_no_snapshots_pipelined", |b| {
        b.iter(|| {
            black_box(
                replay_bytes(&bytes, opts(Every::Never, true), |_| {})
                    .unwrap()
                    .stats(),
            )
        })
    });
    g.bench_function("decode_only", |b| {
        b.iter(|| {
            let mut dec = decoder_from_bytes(&bytes).unwrap();
            let mut k = 0u64;
            while let Some(rec) = dec.decode_record_ref().unwrap() {
                k += u64::from(rec.header().rtype);
            }
            black_box(k)
        })
    });
    g.bench_function("apply_only", |b| {
        b.iter(|| {
            let mut m = Market::new();
            for msg in &msgs {
                let _ = m.apply(msg);
            }
            black_box(m.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
