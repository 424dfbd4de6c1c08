//! Real-data tests of the order book: the ESH4, ESM4 and CLX5 MBO files under
//! `../../shared/data/real` (relative to the crate). Each test prints a reason
//! and returns when the data folder is absent (a fresh clone has none).

mod common;

use std::path::PathBuf;

use _native::book::{
    decoder_from_reader, replay_file, replay_file_columns, BookSnapshot, Every, Market,
    ReplayOptions, Side,
};
use common::RefBook;
use dbn::decode::DecodeRecordRef;
use dbn::{flags, MboMsg, UNDEF_PRICE};

fn real(rel: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/real")
        .join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("SKIPPED: real data file {} is absent", p.display());
        None
    }
}

fn read_mbo(path: &PathBuf) -> Vec<MboMsg> {
    let f = std::fs::File::open(path).unwrap();
    let mut dec = decoder_from_reader(f).unwrap();
    let mut out = Vec::new();
    while let Some(rec) = dec.decode_record_ref().unwrap() {
        out.push(*rec.get::<MboMsg>().expect("MBO record"));
    }
    out
}

type Levels = Vec<(i64, u64, u32)>;

fn snapshot_levels(s: &BookSnapshot, side: u8) -> Vec<(i64, u64, u32)> {
    s.levels
        .iter()
        .map(|p| {
            if side == b'B' {
                (p.bid_px, u64::from(p.bid_sz), p.bid_ct)
            } else {
                (p.ask_px, u64::from(p.ask_sz), p.ask_ct)
            }
        })
        .take_while(|l| l.0 != UNDEF_PRICE)
        .collect()
}

fn full_compare(market: &Market, refs: &RefBook, inst: u32) {
    let book = market.get(inst).unwrap();
    book.validate().unwrap();
    assert_eq!(book.order_count(), refs.orders.len());
    let queues = refs.queues();
    for (side, s) in [(Side::Bid, b'B'), (Side::Ask, b'A')] {
        let got: Vec<(i64, u64, u32)> = book
            .depth(side, usize::MAX)
            .iter()
            .map(|l| (l.price, l.size, l.count))
            .collect();
        assert_eq!(got, refs.top(s, usize::MAX));
        for (price, _, _) in got {
            let ids: Vec<u64> = book
                .orders_at(side, price)
                .iter()
                .map(|o| o.order_id)
                .collect();
            assert_eq!(Some(&ids), queues.get(&(s, price)), "queue at {price}");
        }
    }
}

/// Replays `path` three ways: record by record into a `Market` beside the
/// reference book (top 10 compared at every event boundary, the full book
/// with every queue every `full_every` boundaries and at the end), and
/// through `replay_file`, whose snapshots must equal the lockstep ones.
fn check_against_reference(path: &PathBuf, full_every: u64) -> (Market, u64) {
    let recs = read_mbo(path);
    let mut market = Market::new();
    let mut refs: std::collections::HashMap<u32, RefBook> = Default::default();
    let mut boundaries = 0u64;
    let mut tops: Vec<(u32, u64, Levels, Levels)> = Vec::new();
    for m in &recs {
        let inst = m.hd.instrument_id;
        let ok = market.apply(m).is_ok();
        let r = refs.entry(inst).or_default();
        assert_eq!(ok, r.apply(m), "accept/refuse differs on {m:?}");
        if m.flags.raw() & flags::LAST != 0 {
            boundaries += 1;
            let book = market.get(inst).unwrap();
            assert!(book.is_consistent());
            let bids: Vec<_> = book
                .depth(Side::Bid, 10)
                .iter()
                .map(|l| (l.price, l.size, l.count))
                .collect();
            let asks: Vec<_> = book
                .depth(Side::Ask, 10)
                .iter()
                .map(|l| (l.price, l.size, l.count))
                .collect();
            assert_eq!(bids, r.top_fast(b'B', 10), "bids at boundary {boundaries}");
            assert_eq!(asks, r.top_fast(b'A', 10), "asks at boundary {boundaries}");
            if boundaries.is_multiple_of(full_every) {
                full_compare(&market, r, inst);
            }
            tops.push((inst, m.hd.ts_event, bids, asks));
        }
    }
    for (inst, r) in &refs {
        full_compare(&market, r, *inst);
    }
    let mut k = 0usize;
    let r = replay_file(path, ReplayOptions::default(), |s| {
        let (inst, ts, bids, asks) = &tops[k];
        assert_eq!((s.instrument_id, s.ts_event), (*inst, *ts));
        assert_eq!(&snapshot_levels(s, b'B'), bids);
        assert_eq!(&snapshot_levels(s, b'A'), asks);
        k += 1;
    })
    .unwrap();
    assert_eq!(k, tops.len());
    assert_eq!(r.stats().event_boundaries, boundaries);
    assert_eq!(r.stats().records, recs.len() as u64);
    (market, boundaries)
}

#[test]
fn esh4_matches_reference_at_every_event_and_golden_counts() {
    let Some(p) = real("nautilus/esh4-glbx-mdp3-20231225.mbo.dbn.zst") else {
        return;
    };
    let r = replay_file(
        &p,
        ReplayOptions {
            every: Every::Never,
            ..Default::default()
        },
        |_| {},
    )
    .unwrap();
    let s = r.stats();
    assert_eq!(s.records, 68_792);
    let a = s.actions;
    assert_eq!(
        (a.add, a.cancel, a.modify, a.fill, a.trade, a.clear),
        (29_216, 17_999, 12_233, 6_371, 2_973, 0)
    );
    assert_eq!(s.snapshot_records, 8_725);
    assert_eq!(s.refused, 0);
    let ic = r.integrity();
    assert_eq!(
        (
            ic.unknown_cancels,
            ic.modify_as_add,
            ic.cancel_excess,
            ic.implicit_clears
        ),
        (0, 0, 0, 0)
    );
    assert_eq!(ic.side_none_trades, 36, "35 F + 1 T with side N (auction)");
    assert_eq!(r.market().instrument_ids(), &[17_077]);

    // The pipelined (decompression thread) and single-thread replays agree.
    let collect = |threaded: bool| {
        let mut v = Vec::new();
        let opts = ReplayOptions {
            decompress_in_thread: threaded,
            ..Default::default()
        };
        let r = replay_file(&p, opts, |s| v.push(*s)).unwrap();
        (v, r.stats())
    };
    assert_eq!(collect(true), collect(false));

    let (market, boundaries) = check_against_reference(&p, 500);
    assert_eq!(boundaries, s.event_boundaries);

    // Columns (the Python DataFrame's shape): one row per event boundary,
    // the last row equal to the final book.
    let (cols, _) = replay_file_columns(&p, ReplayOptions::default()).unwrap();
    assert_eq!(cols.len() as u64, boundaries);
    let last = cols.len() - 1;
    let fin = market.get(17_077).unwrap();
    for (i, l) in fin.depth(Side::Bid, 10).iter().enumerate() {
        assert_eq!(
            (
                cols.bid_px[i][last],
                u64::from(cols.bid_sz[i][last]),
                cols.bid_ct[i][last]
            ),
            (l.price, l.size, l.count)
        );
    }
    for (i, l) in fin.depth(Side::Ask, 10).iter().enumerate() {
        assert_eq!(
            (
                cols.ask_px[i][last],
                u64::from(cols.ask_sz[i][last]),
                cols.ask_ct[i][last]
            ),
            (l.price, l.size, l.count)
        );
    }
    assert!(cols.ts_event.windows(2).all(|w| w[0] <= w[1]));
    let book = market.get(17_077).unwrap();
    assert!(book.best_bid().is_some() && book.best_ask().is_some());
}

#[test]
fn esh4_snapshot_file_alone() {
    let Some(p) = real("nautilus/esh4-glbx-mdp3-20231224.mbo.dbn.zst") else {
        return;
    };
    let (market, _) = check_against_reference(&p, 1);
    for (_, b) in market.iter() {
        b.validate().unwrap();
    }
}

#[test]
fn esm4_clear_then_snapshot() {
    let Some(p) = real("nautilus/esm4-glbx-mdp3-20240508.mbo.dbn.zst") else {
        return;
    };
    let recs = read_mbo(&p);
    assert_eq!(recs.len(), 13_796);
    assert_eq!(recs[0].action as u8, b'R');
    let r = replay_file(
        &p,
        ReplayOptions {
            every: Every::Never,
            ..Default::default()
        },
        |_| {},
    )
    .unwrap();
    let s = r.stats();
    let a = s.actions;
    assert_eq!(
        (a.add, a.cancel, a.modify, a.fill, a.trade, a.clear),
        (13_678, 80, 27, 5, 5, 1)
    );
    assert_eq!(s.snapshot_records, 13_601);
    assert_eq!(s.refused, 0);
    assert_eq!(r.integrity().implicit_clears, 0, "R precedes the snapshot");

    // The book right after the snapshot (record 13,600 carries F_LAST) holds
    // every snapshot add.
    let mut m = Market::new();
    for rec in &recs[..13_601] {
        m.apply(rec).unwrap();
    }
    let book = m.get(5_602).unwrap();
    assert!(book.is_consistent());
    assert_eq!(
        book.order_count(),
        recs[..13_601]
            .iter()
            .filter(|r| r.action as u8 == b'A')
            .count()
    );
    check_against_reference(&p, 50);
}

#[test]
fn clx5_mid_session_without_snapshot() {
    let Some(p) = real("clx5-mbo/CLX5_mbo.dbn") else {
        return;
    };
    let recs = read_mbo(&p);
    assert_eq!(recs.len(), 38_212);
    let first = &recs[0];
    assert_eq!(first.hd.ts_event, 1_758_742_200_000_860_311); // 2025-09-24T19:30:00.000860311Z
    assert_eq!((first.action as u8, first.side as u8), (b'A', b'A'));
    assert_eq!(
        (first.price, first.size, first.order_id),
        (64_830_000_000, 1, 8_058_566_314_544)
    );

    let r = replay_file(
        &p,
        ReplayOptions {
            every: Every::Never,
            ..Default::default()
        },
        |_| {},
    )
    .unwrap();
    let ic = r.integrity();
    // Independently counted with the databento-dbn Python package and a dict book.
    assert_eq!(ic.unknown_cancels, 1_224);
    assert_eq!(ic.modify_as_add, 216);
    assert_eq!(
        r.stats().refused,
        1_224,
        "only the unknown cancels are refused"
    );
    let book = r.market().get(432_669).unwrap();
    assert_eq!(book.order_count(), 147);
    book.validate().unwrap();
    check_against_reference(&p, 200);
}

/// The tiny MBO and MBP-10 files of databento/dbn's tests, in DBN v1, v2 and
/// v3 (plain and zstd): every version gives the same records and books.
#[test]
fn dbn_versions_1_to_3_give_the_same_books() {
    for schema in ["mbo", "mbp-10"] {
        let mut seen: Vec<(String, Vec<BookSnapshot>, u64)> = Vec::new();
        for v in ["v1.dbn.zst", "v2.dbn.zst", "v3.dbn.zst", "v3.dbn"] {
            let Some(p) = real(&format!("dbn/test_data.{schema}.{v}")) else {
                return;
            };
            let mut snaps = Vec::new();
            let opts = ReplayOptions {
                every: Every::Record,
                ..Default::default()
            };
            let r = replay_file(&p, opts, |s| snaps.push(*s)).unwrap();
            let s = r.stats();
            assert!(s.records > 0, "{v}");
            assert_eq!(s.malformed_records + s.other_records, 0, "{v}");
            if schema == "mbo" {
                // Two cancels of orders the file never added (mid-session sample).
                assert_eq!(s.mbo_records, s.records);
                assert_eq!(s.refused, 2);
                assert_eq!(r.integrity().unknown_cancels, 2);
            } else {
                assert_eq!(s.mbp10_records, s.records);
                assert!(!r.l2_market().is_empty());
            }
            seen.push((v.to_string(), snaps, s.records));
        }
        for w in seen.windows(2) {
            assert_eq!(w[0].1, w[1].1, "{schema}: {} vs {}", w[0].0, w[1].0);
            assert_eq!(w[0].2, w[1].2);
        }
    }
}
