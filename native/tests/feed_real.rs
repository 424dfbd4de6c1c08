//! The real ESH4 MBO file streamed over TCP and UDP multicast on loopback:
//! the books built from the streams equal a file replay at every event
//! boundary and at the end; a withheld datagram is reported by number.
//! Skips, with the reason printed, when the data folder is absent or
//! loopback multicast does not work here.

use std::net::UdpSocket;
use std::path::PathBuf;
use std::time::Duration;

use _native::book::{replay_file, BookSnapshot, Market, ReplayOptions, Replayer, Side};
use _native::feed::{
    probe_multicast, subscribe_tcp, DropPlan, FeedSource, MulticastConfig, PublishOptions,
    SubscribeOptions, TcpPublisher, UdpPublisher, UdpSubscriber, MAX_DATAGRAM,
};

fn esh4() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/real/nautilus/esh4-glbx-mdp3-20231225.mbo.dbn.zst");
    if p.exists() {
        Some(p)
    } else {
        eprintln!("SKIPPED: real data file {} is absent", p.display());
        None
    }
}

fn multicast_or_skip() -> Option<MulticastConfig> {
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = MulticastConfig {
        port,
        ..Default::default()
    };
    if probe_multicast(&cfg, Duration::from_millis(500)).is_ok() {
        return Some(cfg);
    }
    let added = std::process::Command::new("ip")
        .args(["route", "add", "239.0.0.0/8", "dev", "lo"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    match probe_multicast(&cfg, Duration::from_millis(500)) {
        Ok(()) => Some(cfg),
        Err(e) => {
            eprintln!("SKIPPED: multicast on lo does not work here (route added: {added}): {e}");
            None
        }
    }
}

fn file_replay(p: &PathBuf) -> (Vec<BookSnapshot>, Replayer) {
    let mut snaps = Vec::new();
    let r = replay_file(p, ReplayOptions::default(), |s| snaps.push(*s)).unwrap();
    (snaps, r)
}

fn assert_same_market(a: &Market, b: &Market) {
    assert_eq!(a.instrument_ids(), b.instrument_ids());
    for (id, x) in a.iter() {
        let y = b.get(id).unwrap();
        assert_eq!(x.orders(), y.orders(), "orders of instrument {id}");
        for side in [Side::Bid, Side::Ask] {
            assert!(x.levels(side).eq(y.levels(side)));
        }
    }
}

fn sub_opts() -> SubscribeOptions {
    SubscribeOptions {
        timeout: Duration::from_secs(10),
        ..Default::default()
    }
}

#[test]
fn esh4_over_tcp_equals_file_replay() {
    let Some(p) = esh4() else { return };
    let src = FeedSource::from_file(&p).unwrap();
    assert_eq!(src.record_count(), 68_792);
    let (want_snaps, want) = file_replay(&p);
    let server = TcpPublisher::bind("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap();
    let opts = PublishOptions::default();
    let (st, rep) = std::thread::scope(|s| {
        let h = s.spawn(|| server.serve_one(&src, &opts).unwrap());
        let mut snaps = Vec::with_capacity(want_snaps.len());
        let rep = subscribe_tcp(addr, &sub_opts(), |x| snaps.push(*x)).unwrap();
        assert_eq!(snaps.len(), 47_022);
        assert!(snaps == want_snaps, "every event-boundary snapshot");
        (h.join().unwrap(), rep)
    });
    assert_same_market(rep.replayer.market(), want.market());
    assert_eq!(rep.replayer.stats(), want.stats());
    assert_eq!(st.records, 68_792);
    assert_eq!(rep.stats.bytes, st.bytes);
    eprintln!("TCP publisher: {st:?}");
}

#[test]
fn esh4_over_multicast_equals_file_replay() {
    let Some(p) = esh4() else { return };
    let Some(cfg) = multicast_or_skip() else {
        return;
    };
    let src = FeedSource::from_file(&p).unwrap();
    let (want_snaps, want) = file_replay(&p);
    for chunk in [MAX_DATAGRAM, 1472] {
        let mut sub = UdpSubscriber::join(&cfg).unwrap();
        let publisher = UdpPublisher::new(&cfg).unwrap();
        // Small datagrams cost the kernel more receive buffer per record:
        // cap the rate so that a slow (debug) subscriber cannot overrun it.
        let opts = PublishOptions {
            chunk,
            max_rate: if chunk < 2000 { 1e6 } else { 0.0 },
            ..Default::default()
        };
        let (st, rep) = std::thread::scope(|s| {
            let h = s.spawn(|| publisher.publish(&src, &opts, &DropPlan::None).unwrap());
            let mut snaps = Vec::with_capacity(want_snaps.len());
            let rep = sub.run(&sub_opts(), |x| snaps.push(*x)).unwrap();
            assert_eq!(
                rep.stats.gap_ranges,
                vec![],
                "chunk {chunk}: {:?}",
                rep.stats
            );
            assert!(snaps == want_snaps, "every event-boundary snapshot");
            (h.join().unwrap(), rep)
        });
        assert!(rep.stats.complete(), "{:?}", rep.stats);
        assert_same_market(rep.replayer.market(), want.market());
        assert_eq!(rep.replayer.stats(), want.stats());
        eprintln!(
            "UDP chunk {chunk}: {} datagrams, max lag {} us, rcvbuf {} B",
            st.sends,
            rep.stats.max_lag_ns / 1000,
            sub.recv_buffer_bytes()
        );
    }
}

#[test]
fn esh4_multicast_drop_is_reported() {
    let Some(p) = esh4() else { return };
    let Some(cfg) = multicast_or_skip() else {
        return;
    };
    let src = FeedSource::from_file(&p).unwrap();
    let mut sub = UdpSubscriber::join(&cfg).unwrap();
    let publisher = UdpPublisher::new(&cfg).unwrap();
    let opts = PublishOptions {
        chunk: 1472,
        max_rate: 1e6,
        ..Default::default()
    };
    let plan = DropPlan::EveryNth(1000);
    let (st, rep) = std::thread::scope(|s| {
        let h = s.spawn(|| publisher.publish(&src, &opts, &plan).unwrap());
        let rep = sub.run(&sub_opts(), |_| {}).unwrap();
        (h.join().unwrap(), rep)
    });
    let s = &rep.stats;
    // 68,792 records at 25 a datagram: 2,752 records datagrams, 2 withheld.
    assert_eq!(st.dropped_by_plan, 2);
    assert_eq!(s.first_missing_seq, Some(1000));
    assert_eq!(s.gap_ranges, vec![(1000, 1000), (2000, 2000)]);
    assert_eq!(s.missing_datagrams, 2);
    assert!(s.end_seen && !s.complete());
    assert_eq!(s.records_published, Some(68_792));
    assert_eq!(s.records, 68_792 - 50);
}
