//! Stream tests on loopback with a synthetic DBN file built here with `dbn`'s
//! encoder. The real ESH4 file is streamed in `tests/feed_real.rs`.

use std::net::UdpSocket;
use std::time::Duration;

use dbn::encode::{DbnEncoder, EncodeRecord};
use dbn::{flags, rtype, FlagSet, MboMsg, RecordHeader};

use super::*;
use crate::book::{replay_bytes, BookSnapshot, Market, ReplayOptions, Side};

const T: i64 = 10_000_000;

#[allow(clippy::too_many_arguments)]
fn mbo(inst: u32, ts: u64, action: u8, side: u8, id: u64, price: i64, size: u32, fl: u8) -> MboMsg {
    MboMsg {
        hd: RecordHeader::new::<MboMsg>(rtype::MBO, 1, inst, ts),
        order_id: id,
        price,
        size,
        flags: FlagSet::new(fl),
        channel_id: 0,
        action: action as _,
        side: side as _,
        ts_recv: ts + 5,
        ts_in_delta: 0,
        sequence: ts as u32,
    }
}

/// `n` MBO records over two instruments: adds, modifies, cancels and
/// trades from a seeded generator, `ts_event` 1 us apart, events of 1-3 records.
pub(crate) fn synthetic(n: usize) -> Vec<u8> {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut rnd = move |m: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % m
    };
    let mut live: Vec<(u32, u64, u8, i64, u32)> = Vec::new();
    let mut recs = Vec::with_capacity(n);
    let mut next_id = 1u64;
    let mut ts = 1_700_000_000_000_000_000u64;
    while recs.len() < n {
        ts += 1_000;
        let k = 1 + rnd(3) as usize;
        for j in 0..k {
            let fl = if j + 1 == k { flags::LAST } else { 0 };
            let r = rnd(10);
            let inst = 1 + rnd(2) as u32;
            if live.len() < 20 || r < 4 {
                let side = if rnd(2) == 0 { b'B' } else { b'A' };
                let off = rnd(20) as i64 + 1;
                let price = if side == b'B' {
                    7000 * T - off * T
                } else {
                    7000 * T + off * T
                };
                let size = 1 + rnd(9) as u32;
                live.push((inst, next_id, side, price, size));
                recs.push(mbo(inst, ts, b'A', side, next_id, price, size, fl));
                next_id += 1;
            } else if r < 7 {
                let i = rnd(live.len() as u64) as usize;
                let (inst, id, side, price, size) = live.swap_remove(i);
                recs.push(mbo(inst, ts, b'C', side, id, price, size, fl));
            } else if r < 9 {
                let i = rnd(live.len() as u64) as usize;
                let o = &mut live[i];
                o.3 += if rnd(2) == 0 { T } else { -T } * i64::from(rnd(2) == 0);
                o.4 = 1 + rnd(9) as u32;
                recs.push(mbo(o.0, ts, b'M', o.2, o.1, o.3, o.4, fl));
            } else {
                recs.push(mbo(inst, ts, b'T', b'N', 0, 7000 * T, 1, fl));
            }
        }
    }
    let meta = dbn::Metadata::builder()
        .dataset("GLBX.MDP3")
        .schema(Some(dbn::Schema::Mbo))
        .start(0)
        .stype_in(Some(dbn::SType::InstrumentId))
        .stype_out(dbn::SType::InstrumentId)
        .build();
    let mut buf = Vec::new();
    let mut enc = DbnEncoder::new(&mut buf, &meta).unwrap();
    for r in &recs {
        enc.encode_record(r).unwrap();
    }
    buf
}

/// The books of `a` and `b` hold the same orders in the same priority and the same levels.
pub(crate) fn assert_same_market(a: &Market, b: &Market) {
    assert_eq!(a.instrument_ids(), b.instrument_ids());
    for (id, x) in a.iter() {
        let y = b.get(id).unwrap();
        assert_eq!(x.orders(), y.orders(), "orders of instrument {id}");
        for side in [Side::Bid, Side::Ask] {
            assert!(
                x.levels(side).eq(y.levels(side)),
                "levels of instrument {id}"
            );
        }
    }
}

fn file_replay(bytes: &[u8]) -> (Vec<BookSnapshot>, crate::book::Replayer) {
    let mut snaps = Vec::new();
    let r = replay_bytes(bytes, ReplayOptions::default(), |s| snaps.push(*s)).unwrap();
    (snaps, r)
}

fn quick() -> SubscribeOptions {
    SubscribeOptions {
        timeout: Duration::from_secs(5),
        ..Default::default()
    }
}

/// A multicast config on a free port, or `None` (with the reason printed)
/// when loopback multicast does not work here.
pub(crate) fn multicast_or_skip() -> Option<MulticastConfig> {
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = MulticastConfig {
        port,
        ..Default::default()
    };
    match probe_multicast(&cfg, Duration::from_millis(500)) {
        Ok(()) => Some(cfg),
        Err(first) => {
            // Some containers need a route for the group on `lo`.
            let added = std::process::Command::new("ip")
                .args(["route", "add", "239.0.0.0/8", "dev", "lo"])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            match probe_multicast(&cfg, Duration::from_millis(500)) {
                Ok(()) => Some(cfg),
                Err(e) => {
                    eprintln!(
                        "SKIPPED: multicast on lo does not work here ({first}; after `ip route add 239.0.0.0/8 dev lo` [{}]: {e})",
                        if added { "added" } else { "failed" }
                    );
                    None
                }
            }
        }
    }
}

#[test]
fn source_splits_metadata_and_records() {
    let bytes = synthetic(1000);
    let src = FeedSource::from_bytes(&bytes).unwrap();
    assert!(src.record_count() >= 1000);
    assert_eq!(src.records_bytes().len(), src.record_count() * 56);
    assert_eq!(
        src.metadata_bytes().len() + src.records_bytes().len(),
        bytes.len()
    );
    assert_eq!(src.version(), bytes[3]);
    assert!(src.span_ns() > 0);
    assert!(FeedSource::from_bytes(b"not dbn at all").is_err());
    // a record cut short is refused
    assert!(FeedSource::from_bytes(&bytes[..bytes.len() - 3]).is_err());
}

#[test]
fn header_round_trips_and_rejects_garbage() {
    let h = wire::Header {
        kind: wire::DatagramKind::Records,
        count: 7,
        dbn_version: 2,
        seq: 123_456_789_012,
        send_ns: 42,
    };
    let mut b = [0u8; wire::HEADER_LEN];
    h.write(&mut b);
    assert_eq!(wire::Header::read(&b), Some(h));
    assert_eq!(wire::Header::read(&b[..10]), None);
    b[0] = b'X';
    assert_eq!(wire::Header::read(&b), None);
    let rec = [2u8; 8]; // length 8 < a header
    assert!(!wire::check_records(&rec, 1));
    assert!(wire::check_records(&[], 0));
}

#[test]
fn tcp_stream_arrives_whole() {
    let bytes = synthetic(20_000);
    let src = FeedSource::from_bytes(&bytes).unwrap();
    let (want_snaps, want) = file_replay(&bytes);
    let server = TcpPublisher::bind("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap();
    let opts = PublishOptions {
        chunk: 4096,
        ..Default::default()
    };
    let (pub_stats, report) = std::thread::scope(|s| {
        let h = s.spawn(|| server.serve_one(&src, &opts).unwrap());
        let mut snaps = Vec::new();
        let rep = subscribe_tcp(addr, &quick(), |x| snaps.push(*x)).unwrap();
        assert_eq!(snaps, want_snaps, "every event-boundary snapshot");
        (h.join().unwrap(), rep)
    });
    assert_same_market(report.replayer.market(), want.market());
    assert_eq!(report.replayer.stats(), want.stats());
    assert_eq!(pub_stats.records, src.record_count() as u64);
    assert_eq!(pub_stats.bytes, bytes.len() as u64);
    assert_eq!(report.stats.bytes, bytes.len() as u64);
    assert!(report.stats.complete());
    assert_eq!(report.metadata.unwrap().dataset, "GLBX.MDP3");
}

#[test]
fn tcp_publisher_counts_backpressure_and_times_out() {
    // A client that connects and reads nothing: the publisher stalls, counts
    // it, and gives up after its timeout instead of hanging.
    let bytes = synthetic(200_000); // 11 MB, more than the socket buffers hold
    let src = FeedSource::from_bytes(&bytes).unwrap();
    let server = TcpPublisher::bind("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap();
    let _client = std::net::TcpStream::connect(addr).unwrap();
    let opts = PublishOptions {
        timeout: Duration::from_millis(300),
        ..Default::default()
    };
    let err = server.serve_one(&src, &opts).unwrap_err();
    assert!(err.to_string().contains("blocked"), "{err}");

    // A slow reader: every byte arrives, and the stalls are counted.
    let server = TcpPublisher::bind("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap();
    let st = std::thread::scope(|s| {
        let h = s.spawn(|| server.serve_one(&src, &PublishOptions::default()).unwrap());
        let mut conn = std::net::TcpStream::connect(addr).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        let mut got = Vec::new();
        std::io::Read::read_to_end(&mut conn, &mut got).unwrap();
        assert_eq!(got, bytes);
        drop(conn);
        h.join().unwrap()
    });
    assert!(
        st.stalls > 0 && st.blocked_ns > 0 && st.max_pending_bytes > 0,
        "{st:?}"
    );
    assert!(st.send_buffer_bytes > 0);
}

#[test]
fn tcp_paced_replay_follows_ts_event() {
    // 2,000 records 1 us apart (about 1.2 ms of stream time) at 0.1x: >= ~12 ms.
    let bytes = synthetic(2_000);
    let src = FeedSource::from_bytes(&bytes).unwrap();
    let span = src.span_ns();
    let server = TcpPublisher::bind("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap();
    let opts = PublishOptions {
        speed: 0.1,
        ..Default::default()
    };
    let (st, rep) = std::thread::scope(|s| {
        let h = s.spawn(|| server.serve_one(&src, &opts).unwrap());
        let rep = subscribe_tcp(addr, &quick(), |_| {}).unwrap();
        (h.join().unwrap(), rep)
    });
    assert!(
        st.elapsed_ns >= span * 10,
        "{} < {}",
        st.elapsed_ns,
        span * 10
    );
    assert!(st.sends > 10);
    assert_eq!(rep.stats.records, src.record_count() as u64);
}

#[test]
fn stop_flag_ends_a_paced_publisher_and_a_waiting_server() {
    // 2,000 records 1 us apart at 1e-6 x speed would take half an hour.
    let bytes = synthetic(2_000);
    let src = FeedSource::from_bytes(&bytes).unwrap();
    let server = TcpPublisher::bind("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap();
    let opts = PublishOptions {
        speed: 1e-6,
        stop: StopFlag::new(),
        ..Default::default()
    };
    let (st, rep) = std::thread::scope(|s| {
        let h = s.spawn(|| server.serve_one(&src, &opts).unwrap());
        let sub = s.spawn(|| subscribe_tcp(addr, &quick(), |_| {}).unwrap());
        std::thread::sleep(Duration::from_millis(100));
        opts.stop.stop();
        (h.join().unwrap(), sub.join().unwrap())
    });
    assert!(st.stopped);
    assert!(st.records < src.record_count() as u64);
    assert_eq!(
        rep.stats.records, st.records,
        "what was sent arrives, then the stream ends"
    );

    // A server waiting for a client gives up on the flag, well before its timeout.
    let server = TcpPublisher::bind("127.0.0.1:0").unwrap();
    let stop = StopFlag::new();
    stop.stop();
    let t = std::time::Instant::now();
    let err = server
        .accept_or_stop(Duration::from_secs(30), &stop)
        .unwrap_err();
    assert!(err.to_string().contains("stopped"), "{err}");
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[test]
fn multicast_stream_arrives_whole() {
    let Some(cfg) = multicast_or_skip() else {
        return;
    };
    let bytes = synthetic(20_000);
    let src = FeedSource::from_bytes(&bytes).unwrap();
    let (want_snaps, want) = file_replay(&bytes);
    for chunk in [1472, MAX_DATAGRAM] {
        let mut sub = UdpSubscriber::join(&cfg).unwrap();
        let publisher = UdpPublisher::new(&cfg).unwrap();
        let opts = PublishOptions {
            chunk,
            ..Default::default()
        };
        let (st, rep) = std::thread::scope(|s| {
            let h = s.spawn(|| publisher.publish(&src, &opts, &DropPlan::None).unwrap());
            let mut snaps = Vec::new();
            let rep = sub.run(&quick(), |x| snaps.push(*x)).unwrap();
            assert_eq!(rep.stats.gap_ranges, vec![], "chunk {chunk}");
            assert_eq!(snaps, want_snaps, "every event-boundary snapshot");
            (h.join().unwrap(), rep)
        });
        assert!(rep.stats.complete(), "{:?}", rep.stats);
        assert_same_market(rep.replayer.market(), want.market());
        assert_eq!(rep.replayer.stats(), want.stats());
        assert_eq!(st.records, src.record_count() as u64);
        assert_eq!(rep.stats.datagrams, st.sends + 1); // + one end datagram
        assert_eq!(rep.metadata.as_ref().unwrap().dataset, "GLBX.MDP3");
        if chunk == 1472 {
            assert!(rep.stats.datagrams > 700);
        }
    }
}

#[test]
fn multicast_dropped_datagrams_are_reported() {
    let Some(cfg) = multicast_or_skip() else {
        return;
    };
    let bytes = synthetic(5_000);
    let src = FeedSource::from_bytes(&bytes).unwrap();
    let opts = PublishOptions {
        chunk: 1472,
        ..Default::default()
    };
    // a given list
    let mut sub = UdpSubscriber::join(&cfg).unwrap();
    let publisher = UdpPublisher::new(&cfg).unwrap();
    let plan = DropPlan::Seqs(vec![5, 6, 40]);
    let (st, rep) = std::thread::scope(|s| {
        let h = s.spawn(|| publisher.publish(&src, &opts, &plan).unwrap());
        let rep = sub.run(&quick(), |_| {}).unwrap();
        (h.join().unwrap(), rep)
    });
    assert_eq!(st.dropped_by_plan, 3);
    let s = &rep.stats;
    assert_eq!(s.first_missing_seq, Some(5));
    assert_eq!(s.gap_ranges, vec![(5, 6), (40, 40)]);
    assert_eq!((s.gaps, s.missing_datagrams), (2, 3));
    assert!(s.end_seen && !s.complete());
    assert_eq!(s.records_published, Some(src.record_count() as u64));
    assert_eq!(s.records, src.record_count() as u64 - 3 * 25); // 25 records a datagram

    // every 50th, stopping at the first gap
    let mut sub = UdpSubscriber::join(&cfg).unwrap();
    let plan = DropPlan::EveryNth(50);
    let stop = SubscribeOptions {
        stop_on_gap: true,
        ..quick()
    };
    let rep = std::thread::scope(|s| {
        let h = s.spawn(|| publisher.publish(&src, &opts, &plan).unwrap());
        let rep = sub.run(&stop, |_| {}).unwrap();
        assert_eq!(
            h.join().unwrap().dropped_by_plan,
            (st.sends - 1 + st.dropped_by_plan) / 50
        );
        rep
    });
    assert!(rep.stats.stopped_on_gap);
    assert_eq!(rep.stats.first_missing_seq, Some(50));
    assert_eq!(rep.stats.records, 49 * 25);
}

#[test]
fn multicast_subscriber_times_out_and_skips_garbage() {
    let Some(cfg) = multicast_or_skip() else {
        return;
    };
    let mut sub = UdpSubscriber::join(&cfg).unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket2::SockRef::from(&tx)
        .set_multicast_if_v4(&cfg.interface)
        .unwrap();
    tx.send_to(b"garbage", (cfg.group, cfg.port)).unwrap();
    let mut bad = vec![0u8; wire::HEADER_LEN + 8];
    wire::Header {
        kind: wire::DatagramKind::Records,
        count: 1,
        dbn_version: 1,
        seq: 0,
        send_ns: 0,
    }
    .write(&mut bad);
    bad[wire::HEADER_LEN] = 2; // an 8-byte record: refused before dbn sees it
    tx.send_to(&bad, (cfg.group, cfg.port)).unwrap();
    let opts = SubscribeOptions {
        timeout: Duration::from_millis(200),
        ..quick()
    };
    let rep = sub.run(&opts, |_| {}).unwrap();
    assert!(rep.stats.timed_out && !rep.stats.complete());
    assert_eq!(rep.stats.malformed_datagrams, 2);
    assert_eq!(rep.stats.records, 0);
}

#[test]
fn drop_plan_rules() {
    assert!(!DropPlan::None.drops(1000));
    assert!(DropPlan::EveryNth(1000).drops(2000));
    assert!(!DropPlan::EveryNth(0).drops(0));
    assert!(DropPlan::Seqs(vec![3]).drops(3));
}
