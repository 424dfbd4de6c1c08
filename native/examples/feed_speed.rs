//! Streams a DBN MBO file (repeated K times) over TCP and over UDP multicast
//! on loopback into the L3 books as fast as possible, and prints records
//! per second with the publisher's backpressure and the subscriber's gaps.
//!
//! `cargo run --release --example feed_speed [PATH] [K]`
//! (default PATH: the real ESH4 file under ../../shared/data/real; K = 20).

use std::net::UdpSocket;
use std::time::Duration;

use _native::book::{Every, ReplayOptions};
use _native::feed::{
    probe_multicast, subscribe_tcp, DropPlan, FeedSource, MulticastConfig, PublishOptions,
    SubscribeOptions, TcpPublisher, UdpPublisher, UdpSubscriber, MAX_DATAGRAM,
};

fn sub_opts(every: Every) -> SubscribeOptions {
    SubscribeOptions {
        replay: ReplayOptions {
            every,
            decompress_in_thread: false,
            ..Default::default()
        },
        timeout: Duration::from_secs(10),
        stop_on_gap: false,
    }
}

fn rate(records: u64, ns: u64) -> f64 {
    records as f64 / (ns.max(1) as f64 / 1e9) / 1e6
}

fn main() {
    let default = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/real/nautilus/esh4-glbx-mdp3-20231225.mbo.dbn.zst"
    );
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).cloned().unwrap_or_else(|| default.to_string());
    let k: u32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20);
    let src = FeedSource::from_file(&path).expect("read the DBN file");
    let total = src.record_count() as u64 * u64::from(k);
    println!(
        "{} records x {k} = {total} records, {:.1} MB of DBN",
        src.record_count(),
        (src.records_bytes().len() as f64 * f64::from(k)) / 1e6
    );

    for (label, every) in [
        ("TCP -> book (no snapshots)", Every::Never),
        ("TCP -> book + snapshot per event", Every::Event),
    ] {
        let server = TcpPublisher::bind("127.0.0.1:0").unwrap();
        let addr = server.local_addr().unwrap();
        let opts = PublishOptions {
            repeat: k,
            chunk: 256 * 1024,
            ..Default::default()
        };
        let (st, rep) = std::thread::scope(|s| {
            let h = s.spawn(|| server.serve_one(&src, &opts).unwrap());
            let rep = subscribe_tcp(addr, &sub_opts(every), |_| {}).unwrap();
            (h.join().unwrap(), rep)
        });
        assert_eq!(rep.stats.records, total);
        println!(
            "{label:<44} {:>7.2} M records/s  ({:.1} ms; publisher stalls {}, blocked {:.1} ms, max pending {} KiB, sndbuf {} KiB)",
            rate(rep.stats.records, rep.stats.elapsed_ns),
            rep.stats.elapsed_ns as f64 / 1e6,
            st.stalls,
            st.blocked_ns as f64 / 1e6,
            st.max_pending_bytes / 1024,
            st.send_buffer_bytes / 1024
        );
    }

    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // Room for the whole run, if the kernel grants it (SO_RCVBUFFORCE as root):
    // the subscriber then drains at its own pace and nothing overruns.
    // FEED_RECV_BATCH=1: one recv per datagram (default: recvmmsg batches).
    let recv_batch = std::env::var("FEED_RECV_BATCH")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(MulticastConfig::default().recv_batch);
    let cfg = MulticastConfig {
        port,
        recv_buffer: 256 << 20,
        recv_batch,
        ..Default::default()
    };
    // FEED_DRAIN=1: publish everything into the receive buffer, then read it.
    let drain = std::env::var_os("FEED_DRAIN").is_some();
    println!(
        "multicast subscriber: {recv_batch} datagram(s) per receive call{}",
        if drain {
            ", draining a full buffer"
        } else {
            ""
        }
    );
    if let Err(e) = probe_multicast(&cfg, Duration::from_millis(500)) {
        println!("multicast on lo unavailable here: {e}");
        return;
    }
    for (chunk, max_rate) in [
        (MAX_DATAGRAM, 0.0),
        (8192, 0.0),
        (1472, 0.0),
        (MAX_DATAGRAM, 6e6),
    ] {
        let mut sub = UdpSubscriber::join(&cfg).unwrap();
        let publisher = UdpPublisher::new(&cfg).unwrap();
        let opts = PublishOptions {
            repeat: k,
            chunk,
            max_rate,
            ..Default::default()
        };
        let (st, rep) = if drain {
            // The whole stream queued in the receive buffer first: the
            // subscriber's figure is then its own drain rate, not shared
            // with a publisher competing for the cores.
            let st = publisher.publish(&src, &opts, &DropPlan::None).unwrap();
            (st, sub.run(&sub_opts(Every::Never), |_| {}).unwrap())
        } else {
            std::thread::scope(|s| {
                let h = s.spawn(|| publisher.publish(&src, &opts, &DropPlan::None).unwrap());
                let rep = sub.run(&sub_opts(Every::Never), |_| {}).unwrap();
                (h.join().unwrap(), rep)
            })
        };
        let s = &rep.stats;
        let cap = if max_rate > 0.0 {
            format!("cap {:.0} M/s", max_rate / 1e6)
        } else {
            "no cap".into()
        };
        println!(
            "UDP {chunk:>5} B, {cap:<10} -> book {:>7.2} M records/s  ({:.1} ms; {} datagrams, gaps {} missing {} first {:?}, complete {}, max lag {:.2} ms, rcvbuf {} KiB)",
            rate(s.records, s.elapsed_ns),
            s.elapsed_ns as f64 / 1e6,
            st.sends,
            s.gaps,
            s.missing_datagrams,
            s.first_missing_seq,
            s.complete(),
            s.max_lag_ns as f64 / 1e6,
            sub.recv_buffer_bytes() / 1024
        );
    }
}
