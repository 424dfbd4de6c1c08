//! Criterion benchmarks of the market-data streams on loopback: the real
//! ESH4 MBO file (68,792 records) sent 5 times back to back per iteration
//! over TCP and over UDP multicast into the L3 books (no snapshots), as fast
//! as possible. Skipped when the shared data folder is absent.
//!
//! `cargo bench --bench feed`; throughput is in records per second, measured
//! from publisher start to the subscriber's last record (connection set-up
//! included). A multicast iteration with gaps is reported on stderr (the
//! figure then counts only the records that arrived).

use std::hint::black_box;
use std::net::UdpSocket;
use std::path::PathBuf;
use std::time::Duration;

use _native::book::{Every, ReplayOptions};
use _native::feed::{
    probe_multicast, subscribe_tcp, DropPlan, FeedSource, MulticastConfig, PublishOptions,
    SubscribeOptions, TcpPublisher, UdpPublisher, UdpSubscriber, MAX_DATAGRAM,
};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const REPEAT: u32 = 5;

fn esh4() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/real/nautilus/esh4-glbx-mdp3-20231225.mbo.dbn.zst");
    p.exists().then_some(p)
}

fn sub_opts() -> SubscribeOptions {
    SubscribeOptions {
        replay: ReplayOptions {
            every: Every::Never,
            decompress_in_thread: false,
            ..Default::default()
        },
        timeout: Duration::from_secs(10),
        stop_on_gap: false,
    }
}

fn bench(c: &mut Criterion) {
    let Some(path) = esh4() else {
        eprintln!("SKIPPED: the real ESH4 file is absent");
        return;
    };
    let src = FeedSource::from_file(&path).unwrap();
    let total = src.record_count() as u64 * u64::from(REPEAT);
    let mut g = c.benchmark_group("esh4_x5_stream_into_book");
    g.throughput(Throughput::Elements(total));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));

    g.bench_function("tcp", |b| {
        b.iter(|| {
            let server = TcpPublisher::bind("127.0.0.1:0").unwrap();
            let addr = server.local_addr().unwrap();
            let opts = PublishOptions {
                repeat: REPEAT,
                chunk: 256 * 1024,
                ..Default::default()
            };
            let rep = std::thread::scope(|s| {
                let h = s.spawn(|| server.serve_one(&src, &opts).unwrap());
                let rep = subscribe_tcp(addr, &sub_opts(), |_| {}).unwrap();
                h.join().unwrap();
                rep
            });
            assert_eq!(rep.stats.records, total);
            black_box(rep.replayer.stats().records)
        })
    });

    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = MulticastConfig {
        port,
        recv_buffer: 256 << 20,
        ..Default::default()
    };
    if let Err(e) = probe_multicast(&cfg, Duration::from_millis(500)) {
        eprintln!("SKIPPED multicast: not available on lo here: {e}");
        g.finish();
        return;
    }
    g.bench_function("multicast_64k_datagrams", |b| {
        b.iter(|| {
            let mut sub = UdpSubscriber::join(&cfg).unwrap();
            let publisher = UdpPublisher::new(&cfg).unwrap();
            let opts = PublishOptions {
                repeat: REPEAT,
                chunk: MAX_DATAGRAM,
                ..Default::default()
            };
            let rep = std::thread::scope(|s| {
                let h = s.spawn(|| publisher.publish(&src, &opts, &DropPlan::None).unwrap());
                let rep = sub.run(&sub_opts(), |_| {}).unwrap();
                h.join().unwrap();
                rep
            });
            if !rep.stats.complete() {
                eprintln!(
                    "multicast iteration incomplete: {} of {total} records, {} gaps",
                    rep.stats.records, rep.stats.gaps
                );
            }
            black_box(rep.stats.records)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
