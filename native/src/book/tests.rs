//! Unit tests of the books and the replay driver (one per action and flag).

use dbn::encode::{DbnEncoder, EncodeRecord};
use dbn::{flags, rtype, BidAskPair, FlagSet, MboMsg, Mbp10Msg, RecordHeader, UNDEF_PRICE};

use super::*;

const T: i64 = 10_000_000; // $0.01 in DBN fixed point

fn mbo(action: u8, side: u8, id: u64, price: i64, size: u32, fl: u8) -> MboMsg {
    mbo_at(7, 1, action, side, id, price, size, fl)
}

#[allow(clippy::too_many_arguments)]
fn mbo_at(
    inst: u32,
    ts: u64,
    action: u8,
    side: u8,
    id: u64,
    price: i64,
    size: u32,
    fl: u8,
) -> MboMsg {
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

const L: u8 = flags::LAST;

fn book_with(recs: &[MboMsg]) -> L3Book {
    let mut b = L3Book::new(7);
    for r in recs {
        b.apply(r).unwrap();
    }
    b.validate().unwrap();
    b
}

fn ids_at(b: &L3Book, side: Side, price: i64) -> Vec<u64> {
    b.orders_at(side, price)
        .iter()
        .map(|o| o.order_id)
        .collect()
}

#[test]
fn add_builds_levels_best_first() {
    let b = book_with(&[
        mbo(b'A', b'B', 1, 100 * T, 2, 0),
        mbo(b'A', b'B', 2, 100 * T, 3, 0),
        mbo(b'A', b'B', 3, 99 * T, 1, 0),
        mbo(b'A', b'A', 4, 101 * T, 5, 0),
        mbo(b'A', b'A', 5, 103 * T, 1, L),
    ]);
    assert_eq!(
        b.best_bid(),
        Some(LevelView {
            price: 100 * T,
            size: 5,
            count: 2
        })
    );
    assert_eq!(
        b.best_ask(),
        Some(LevelView {
            price: 101 * T,
            size: 5,
            count: 1
        })
    );
    assert_eq!(
        b.depth(Side::Bid, 5),
        vec![
            LevelView {
                price: 100 * T,
                size: 5,
                count: 2
            },
            LevelView {
                price: 99 * T,
                size: 1,
                count: 1
            }
        ]
    );
    assert_eq!(b.depth(Side::Ask, 1).len(), 1);
    assert_eq!(b.level_count(Side::Ask), 2);
    assert_eq!(b.order_count(), 5);
    assert_eq!(ids_at(&b, Side::Bid, 100 * T), vec![1, 2]);
    assert_eq!(b.spread(), Some(T));
    assert_eq!(b.mid(), Some(100 * T + T / 2));
    assert_eq!(b.cross_state(), CrossState::Normal);
    assert!(b.is_consistent());
    assert_eq!(
        b.order(2),
        Some(Order {
            order_id: 2,
            side: Side::Bid,
            price: 100 * T,
            size: 3
        })
    );
}

#[test]
fn add_refusals_leave_book_unchanged() {
    let mut b = book_with(&[mbo(b'A', b'B', 1, 100 * T, 2, 0)]);
    assert_eq!(
        b.apply(&mbo(b'A', b'B', 1, 101 * T, 2, 0)),
        Err(BookError::DuplicateOrder(1))
    );
    assert_eq!(
        b.apply(&mbo(b'A', b'B', 2, 101 * T, 0, 0)),
        Err(BookError::ZeroSize(2))
    );
    assert_eq!(
        b.apply(&mbo(b'A', b'A', 3, UNDEF_PRICE, 1, 0)),
        Err(BookError::UndefinedPrice(3))
    );
    assert!(matches!(
        b.apply(&mbo(b'A', b'N', 4, 100 * T, 1, 0)),
        Err(BookError::InvalidSide { .. })
    ));
    assert_eq!(
        b.apply(&mbo(b'X', b'B', 5, 100 * T, 1, 0)),
        Err(BookError::UnknownAction(b'X'))
    );
    assert_eq!(b.order_count(), 1);
    assert_eq!(b.best_bid().unwrap().size, 2);
    assert_eq!(b.integrity().refused, 5);
    b.validate().unwrap();
}

#[test]
fn cancel_full_partial_excess_unknown() {
    let mut b = book_with(&[
        mbo(b'A', b'B', 1, 100 * T, 5, 0),
        mbo(b'A', b'B', 2, 100 * T, 3, 0),
        mbo(b'A', b'B', 3, 99 * T, 1, 0),
    ]);
    // partial: keeps priority
    assert_eq!(
        b.apply(&mbo(b'C', b'B', 1, 100 * T, 2, 0)),
        Ok(Applied::Cancelled { remaining: 3 })
    );
    assert_eq!(ids_at(&b, Side::Bid, 100 * T), vec![1, 2]);
    assert_eq!(b.best_bid().unwrap().size, 6);
    // full: level emptied and removed
    assert_eq!(
        b.apply(&mbo(b'C', b'B', 3, 99 * T, 1, 0)),
        Ok(Applied::Cancelled { remaining: 0 })
    );
    assert_eq!(b.level_count(Side::Bid), 1);
    // excess: removed whole, counted
    assert_eq!(
        b.apply(&mbo(b'C', b'B', 2, 100 * T, 9, 0)),
        Ok(Applied::Cancelled { remaining: 0 })
    );
    assert_eq!(b.integrity().cancel_excess, 1);
    // unknown: skipped, counted
    assert_eq!(
        b.apply(&mbo(b'C', b'A', 42, 100 * T, 1, 0)),
        Err(BookError::UnknownOrder(42))
    );
    assert_eq!(b.integrity().unknown_cancels, 1);
    assert_eq!(ids_at(&b, Side::Bid, 100 * T), vec![1]);
    b.validate().unwrap();
}

#[test]
fn modify_priority_rules() {
    let mut b = book_with(&[
        mbo(b'A', b'A', 1, 101 * T, 5, 0),
        mbo(b'A', b'A', 2, 101 * T, 5, 0),
        mbo(b'A', b'A', 3, 101 * T, 5, 0),
    ]);
    // size decrease keeps priority
    assert_eq!(
        b.apply(&mbo(b'M', b'A', 1, 101 * T, 4, 0)),
        Ok(Applied::Modified {
            priority_kept: true
        })
    );
    assert_eq!(ids_at(&b, Side::Ask, 101 * T), vec![1, 2, 3]);
    assert_eq!(b.best_ask().unwrap().size, 14);
    // same size keeps priority
    assert_eq!(
        b.apply(&mbo(b'M', b'A', 1, 101 * T, 4, 0)),
        Ok(Applied::Modified {
            priority_kept: true
        })
    );
    // size increase loses priority
    assert_eq!(
        b.apply(&mbo(b'M', b'A', 1, 101 * T, 6, 0)),
        Ok(Applied::Modified {
            priority_kept: false
        })
    );
    assert_eq!(ids_at(&b, Side::Ask, 101 * T), vec![2, 3, 1]);
    assert_eq!(b.best_ask().unwrap().size, 16);
    // price change loses priority, moves level
    assert_eq!(
        b.apply(&mbo(b'M', b'A', 2, 102 * T, 1, 0)),
        Ok(Applied::Modified {
            priority_kept: false
        })
    );
    assert_eq!(ids_at(&b, Side::Ask, 101 * T), vec![3, 1]);
    assert_eq!(ids_at(&b, Side::Ask, 102 * T), vec![2]);
    // price change back joins the back of the queue
    assert_eq!(
        b.apply(&mbo(b'M', b'A', 2, 101 * T, 1, 0)),
        Ok(Applied::Modified {
            priority_kept: false
        })
    );
    assert_eq!(ids_at(&b, Side::Ask, 101 * T), vec![3, 1, 2]);
    assert_eq!(b.level_count(Side::Ask), 1, "emptied level removed");
    b.validate().unwrap();
}

#[test]
fn modify_unknown_zero_and_side_change() {
    let mut b = L3Book::new(7);
    assert_eq!(
        b.apply(&mbo(b'M', b'B', 9, 100 * T, 2, 0)),
        Ok(Applied::ModifiedUnknownAsAdd)
    );
    assert_eq!(b.integrity().modify_as_add, 1);
    assert_eq!(b.order(9).unwrap().size, 2);
    assert_eq!(
        b.apply(&mbo(b'M', b'A', 9, 100 * T, 2, 0)),
        Err(BookError::SideChanged { order_id: 9 })
    );
    assert_eq!(
        b.apply(&mbo(b'M', b'B', 9, UNDEF_PRICE, 2, 0)),
        Err(BookError::UndefinedPrice(9))
    );
    assert_eq!(
        b.apply(&mbo(b'M', b'B', 8, 100 * T, 0, 0)),
        Err(BookError::ZeroSize(8))
    );
    assert_eq!(
        b.apply(&mbo(b'M', b'B', 9, 100 * T, 0, 0)),
        Ok(Applied::ModifiedToZero)
    );
    assert!(b.is_empty());
    assert_eq!(b.level_count(Side::Bid), 0);
    b.validate().unwrap();
}

#[test]
fn clear_fill_trade_none() {
    let mut b = book_with(&[
        mbo(b'A', b'B', 1, 100 * T, 2, 0),
        mbo(b'A', b'A', 2, 101 * T, 2, 0),
    ]);
    for a in [b'F', b'T', b'N'] {
        assert_eq!(
            b.apply(&mbo(a, b'B', 1, 100 * T, 2, 0)),
            Ok(Applied::Unchanged)
        );
    }
    assert_eq!(
        b.apply(&mbo(b'T', b'N', 0, 100 * T, 1, 0)),
        Ok(Applied::Unchanged)
    );
    assert_eq!(
        b.apply(&mbo(b'F', b'N', 0, 100 * T, 1, 0)),
        Ok(Applied::Unchanged)
    );
    assert_eq!(b.integrity().side_none_trades, 2);
    assert_eq!(b.order(1).unwrap().size, 2, "fills do not reduce size");
    assert_eq!(
        b.apply(&mbo(b'R', b'N', 0, UNDEF_PRICE, 0, L)),
        Ok(Applied::Cleared)
    );
    assert!(b.is_empty() && b.best_bid().is_none() && b.best_ask().is_none());
    assert_eq!(b.spread(), None);
    assert_eq!(b.mid(), None);
    assert_eq!(b.imbalance(5), None);
    b.validate().unwrap();
}

#[test]
fn f_last_marks_event_boundaries_and_clock() {
    let mut b = L3Book::new(7);
    b.apply(&mbo_at(7, 10, b'A', b'B', 1, 100 * T, 1, 0))
        .unwrap();
    assert!(!b.is_consistent());
    b.apply(&mbo_at(7, 10, b'A', b'B', 2, 100 * T, 1, L))
        .unwrap();
    assert!(b.is_consistent());
    assert_eq!((b.ts_event(), b.ts_recv(), b.sequence()), (10, 15, 10));
    // an error still advances the clock and the boundary state
    assert!(b
        .apply(&mbo_at(7, 11, b'C', b'B', 99, 100 * T, 1, 0))
        .is_err());
    assert!(!b.is_consistent());
    assert_eq!(b.ts_event(), 11);
}

#[test]
fn snapshot_flag_implicit_clear_and_after_r() {
    let s = flags::SNAPSHOT;
    let mut b = book_with(&[mbo(b'A', b'B', 1, 100 * T, 2, L)]);
    // a snapshot run without R on a non-empty book clears it first
    b.apply(&mbo(b'A', b'B', 5, 99 * T, 1, s)).unwrap();
    assert!(b.in_snapshot());
    b.apply(&mbo(b'A', b'B', 6, 99 * T, 1, s | L)).unwrap();
    assert_eq!(b.integrity().implicit_clears, 1);
    assert_eq!(b.order_count(), 2);
    assert!(b.order(1).is_none());
    // live record ends the snapshot
    b.apply(&mbo(b'A', b'A', 7, 101 * T, 1, L)).unwrap();
    assert!(!b.in_snapshot());
    // R (flagged snapshot) then a snapshot: no implicit clear counted
    b.apply(&mbo(b'R', b'N', 0, UNDEF_PRICE, 0, s)).unwrap();
    b.apply(&mbo(b'A', b'B', 8, 98 * T, 3, s)).unwrap();
    b.apply(&mbo(b'A', b'A', 9, 102 * T, 3, s | L)).unwrap();
    assert_eq!(b.integrity().implicit_clears, 1);
    assert_eq!(b.order_count(), 2);
    b.validate().unwrap();
}

#[test]
fn tob_flag_replaces_side() {
    let mut b = book_with(&[
        mbo(b'A', b'B', 1, 100 * T, 2, 0),
        mbo(b'A', b'B', 2, 99 * T, 2, 0),
        mbo(b'A', b'A', 3, 101 * T, 2, 0),
    ]);
    assert_eq!(
        b.apply(&mbo(b'A', b'B', 4, 98 * T, 7, flags::TOB)),
        Ok(Applied::ReplacedTop)
    );
    assert_eq!(
        b.depth(Side::Bid, 10),
        vec![LevelView {
            price: 98 * T,
            size: 7,
            count: 1
        }]
    );
    assert_eq!(b.order_count(), 2);
    assert_eq!(
        b.apply(&mbo(b'A', b'A', 5, UNDEF_PRICE, 0, flags::TOB)),
        Ok(Applied::ReplacedTop)
    );
    assert!(b.best_ask().is_none());
    b.validate().unwrap();
}

#[test]
fn crossed_and_locked_books_are_kept_and_reported() {
    let mut b = book_with(&[
        mbo(b'A', b'B', 1, 101 * T, 2, 0),
        mbo(b'A', b'A', 2, 101 * T, 2, L),
    ]);
    assert_eq!(b.cross_state(), CrossState::Locked);
    assert_eq!(b.spread(), Some(0));
    b.apply(&mbo(b'A', b'B', 3, 102 * T, 1, L)).unwrap();
    assert_eq!(b.cross_state(), CrossState::Crossed);
    assert!(b.is_crossed());
    assert_eq!(b.spread(), Some(-T));
    assert_eq!(b.integrity().crossed_boundaries, 1);
}

#[test]
fn queue_position_imbalance_mid_rounding() {
    let b = book_with(&[
        mbo(b'A', b'B', 1, 100 * T, 2, 0),
        mbo(b'A', b'B', 2, 100 * T, 3, 0),
        mbo(b'A', b'B', 3, 100 * T, 4, 0),
        mbo(b'A', b'A', 4, 100 * T + 1, 1, 0),
    ]);
    let q = b.queue_position(3).unwrap();
    assert_eq!(
        (q.size_ahead, q.count_ahead, q.size_behind, q.count_behind),
        (5, 2, 0, 0)
    );
    let q = b.queue_position(1).unwrap();
    assert_eq!(
        (q.size_ahead, q.count_ahead, q.size_behind, q.count_behind),
        (0, 0, 7, 2)
    );
    assert_eq!(b.queue_position(99), None);
    assert_eq!(b.mid(), Some(100 * T), "odd sum rounds down");
    assert_eq!(b.imbalance(1), Some(0.8));
    assert!(b.orders_at(Side::Ask, 1).is_empty());
    assert_eq!(b.orders().len(), 4);
    assert_eq!(b.level(Side::Bid, 100 * T).unwrap().count, 3);
}

#[test]
fn fill_levels_mbp_layout() {
    let b = book_with(&[
        mbo(b'A', b'B', 1, 100 * T, 2, 0),
        mbo(b'A', b'A', 2, 101 * T, 3, 0),
        mbo(b'A', b'A', 3, 102 * T, 3, 0),
    ]);
    let mut out = [empty_pair(); 10];
    assert_eq!(b.fill_levels(&mut out), (1, 2));
    assert_eq!(
        (out[0].bid_px, out[0].bid_sz, out[0].bid_ct),
        (100 * T, 2, 1)
    );
    assert_eq!((out[1].bid_px, out[1].bid_sz), (UNDEF_PRICE, 0));
    assert_eq!(
        (out[1].ask_px, out[1].ask_sz, out[1].ask_ct),
        (102 * T, 3, 1)
    );
    let mut two = [empty_pair(); 1];
    assert_eq!(b.fill_levels(&mut two), (1, 1));
}

#[test]
fn market_keeps_one_book_per_instrument() {
    let mut m = Market::new();
    m.apply(&mbo_at(1, 1, b'A', b'B', 1, 100 * T, 1, L))
        .unwrap();
    m.apply(&mbo_at(2, 1, b'A', b'B', 1, 50 * T, 4, L)).unwrap();
    m.apply(&mbo_at(1, 2, b'C', b'B', 1, 100 * T, 1, L))
        .unwrap();
    assert_eq!(m.instrument_ids(), &[1, 2]);
    assert!(m.get(1).unwrap().is_empty());
    assert_eq!(m.get(2).unwrap().best_bid().unwrap().size, 4);
    assert_eq!(m.len(), 2);
    assert!(m.get(3).is_none());
    assert!(m.apply(&mbo_at(2, 3, b'C', b'B', 77, 1, 1, 0)).is_err());
    assert_eq!(m.integrity().unknown_cancels, 1);
}

fn mbp10(inst: u32, ts: u64, bid: i64, ask: i64, fl: u8) -> Mbp10Msg {
    let mut levels = [empty_pair(); 10];
    levels[0] = BidAskPair {
        bid_px: bid,
        ask_px: ask,
        bid_sz: 3,
        ask_sz: 1,
        bid_ct: 2,
        ask_ct: 1,
    };
    levels[1] = BidAskPair {
        bid_px: bid - T,
        ask_px: ask + T,
        bid_sz: 5,
        ask_sz: 5,
        bid_ct: 1,
        ask_ct: 1,
    };
    Mbp10Msg {
        hd: RecordHeader::new::<Mbp10Msg>(rtype::MBP_10, 1, inst, ts),
        price: bid,
        size: 1,
        action: b'A' as _,
        side: b'B' as _,
        flags: FlagSet::new(fl),
        depth: 0,
        ts_recv: ts,
        ts_in_delta: 0,
        sequence: 1,
        levels,
    }
}

#[test]
fn l2_book_replaces_levels() {
    let mut b = L2Book::new(7);
    assert!(b.best_bid().is_none());
    b.apply(&mbp10(7, 1, 100 * T, 101 * T, L));
    assert_eq!(
        b.best_bid(),
        Some(LevelView {
            price: 100 * T,
            size: 3,
            count: 2
        })
    );
    assert_eq!(b.depth(Side::Ask, 10).len(), 2);
    assert_eq!(b.spread(), Some(T));
    assert_eq!(b.mid(), Some(100 * T + T / 2));
    assert_eq!(b.imbalance(1), Some(0.5));
    assert_eq!(b.cross_state(), CrossState::Normal);
    b.apply(&mbp10(7, 2, 102 * T, 101 * T, 0));
    assert_eq!(b.cross_state(), CrossState::Crossed);
    assert!(!b.is_consistent());
    assert_eq!(b.ts_event(), 2);
    assert_eq!(b.pairs()[0].bid_px, 102 * T);
}

fn encode(recs: &[MboMsg], zstd: bool) -> Vec<u8> {
    let meta = dbn::Metadata::builder()
        .dataset("GLBX.MDP3")
        .schema(Some(dbn::Schema::Mbo))
        .start(0)
        .stype_in(Some(dbn::SType::InstrumentId))
        .stype_out(dbn::SType::InstrumentId)
        .build();
    let mut buf = Vec::new();
    if zstd {
        let mut enc = DbnEncoder::with_zstd(&mut buf, &meta).unwrap();
        for r in recs {
            enc.encode_record(r).unwrap();
        }
        drop(enc);
    } else {
        let mut enc = DbnEncoder::new(&mut buf, &meta).unwrap();
        for r in recs {
            enc.encode_record(r).unwrap();
        }
    }
    buf
}

fn sample_records() -> Vec<MboMsg> {
    vec![
        mbo_at(1, 1, b'A', b'B', 1, 100 * T, 1, 0),
        mbo_at(1, 1, b'A', b'A', 2, 101 * T, 2, L),
        mbo_at(2, 2, b'A', b'B', 3, 50 * T, 4, L),
        mbo_at(1, 3, b'C', b'B', 99, 100 * T, 1, L),
        mbo_at(1, 4, b'T', b'N', 0, 100 * T, 1, 0),
        mbo_at(1, 4, b'M', b'A', 2, 101 * T, 1, L),
    ]
}

#[test]
fn replay_bytes_plain_and_zstd_every_event_and_record() {
    for z in [false, true] {
        let bytes = encode(&sample_records(), z);
        let mut snaps = Vec::new();
        let r = replay_bytes(&bytes, ReplayOptions::default(), |s| snaps.push(*s)).unwrap();
        let st = r.stats();
        assert_eq!(
            (st.records, st.mbo_records, st.event_boundaries, st.refused),
            (6, 6, 4, 1)
        );
        assert_eq!(st.actions.add, 3);
        assert_eq!(st.actions.trade, 1);
        assert_eq!(snaps.len(), 4);
        assert_eq!(snaps[0].instrument_id, 1);
        assert_eq!(
            (snaps[0].levels[0].bid_px, snaps[0].levels[0].ask_sz),
            (100 * T, 2)
        );
        assert_eq!(snaps[1].instrument_id, 2);
        assert_eq!(snaps[3].levels[0].ask_sz, 1);
        assert_eq!(snaps[3].ts_event, 4);
        let opts = ReplayOptions {
            every: Every::Record,
            instrument_id: Some(1),
            depth: 1,
            strict: false,
            decompress_in_thread: false,
        };
        let mut n = 0;
        let r = replay_bytes(&bytes, opts, |s| {
            assert_eq!(s.instrument_id, 1);
            assert_eq!(s.levels[1].bid_px, UNDEF_PRICE);
            n += 1
        })
        .unwrap();
        assert_eq!(n, 5);
        assert_eq!(r.stats().filtered_out, 1);
        assert!(r.market().get(2).is_none());
        // strict mode stops at the unknown cancel (record index 3)
        let strict = ReplayOptions {
            strict: true,
            ..Default::default()
        };
        match replay_bytes(&bytes, strict, |_| {}) {
            Err(ReplayError::Book {
                index: 3,
                source: BookError::UnknownOrder(99),
            }) => {}
            other => panic!("unexpected {other:?}"),
        }
        // reader path (as a socket would be)
        let r = replay_reader(
            std::io::Cursor::new(bytes.clone()),
            ReplayOptions::default(),
            |_| {},
        )
        .unwrap();
        assert_eq!(r.stats().records, 6);
        assert_eq!(r.market().get(1).unwrap().best_ask().unwrap().size, 1);
    }
}

#[test]
fn replay_file_plain_and_zstd() {
    let dir = std::env::temp_dir().join(format!("book-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, z) in [("a.mbo.dbn", false), ("a.mbo.dbn.zst", true)] {
        let p = dir.join(name);
        std::fs::write(&p, encode(&sample_records(), z)).unwrap();
        let r = replay_file(
            &p,
            ReplayOptions {
                every: Every::Never,
                ..Default::default()
            },
            |_| unreachable!(),
        )
        .unwrap();
        assert_eq!(r.stats().records, 6);
        assert_eq!(r.stats().snapshots_emitted, 0);
    }
    assert!(matches!(
        replay_file(dir.join("missing.dbn"), ReplayOptions::default(), |_| {}),
        Err(ReplayError::Decode(_))
    ));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn replay_mbp10_records_into_l2() {
    let meta = dbn::Metadata::builder()
        .dataset("GLBX.MDP3")
        .schema(Some(dbn::Schema::Mbp10))
        .start(0)
        .stype_in(Some(dbn::SType::InstrumentId))
        .stype_out(dbn::SType::InstrumentId)
        .build();
    let mut buf = Vec::new();
    let mut enc = DbnEncoder::new(&mut buf, &meta).unwrap();
    enc.encode_record(&mbp10(3, 1, 100 * T, 101 * T, L))
        .unwrap();
    enc.encode_record(&mbp10(3, 2, 99 * T, 101 * T, 0)).unwrap();
    let mut snaps = Vec::new();
    let r = replay_bytes(
        &buf,
        ReplayOptions {
            depth: 1,
            ..Default::default()
        },
        |s| snaps.push(*s),
    )
    .unwrap();
    assert_eq!(r.stats().mbp10_records, 2);
    assert_eq!(snaps.len(), 1);
    assert_eq!(snaps[0].levels[0].bid_px, 100 * T);
    assert_eq!(snaps[0].levels[1].bid_px, UNDEF_PRICE);
    assert_eq!(
        r.l2_market().get(3).unwrap().best_bid().unwrap().price,
        99 * T
    );
}

#[test]
fn garbage_bytes_are_decode_errors() {
    assert!(matches!(
        replay_bytes(b"", ReplayOptions::default(), |_| {}),
        Err(ReplayError::Decode(_))
    ));
    assert!(matches!(
        replay_bytes(b"not dbn at all", ReplayOptions::default(), |_| {}),
        Err(ReplayError::Decode(_))
    ));
    let bytes = encode(&sample_records(), false);
    // a truncated last record is an error or a clean stop, never a panic
    let _ = replay_bytes(&bytes[..bytes.len() - 7], ReplayOptions::default(), |_| {});
}

#[test]
fn side_helpers() {
    assert_eq!(Side::from_dbn(b'B'), Some(Side::Bid));
    assert_eq!(Side::from_dbn(b'A'), Some(Side::Ask));
    assert_eq!(Side::from_dbn(b'N'), None);
    assert_eq!(Side::Ask.as_dbn(), b'A');
    assert_eq!(Side::Bid.as_dbn(), b'B');
}

#[test]
fn short_mbo_record_is_counted_not_a_panic() {
    // dbn's `RecordRef::get` asserts on a record shorter than its type: the
    // replayer uses `try_get` (found by the decoder fuzz test).
    let mut bytes = encode(&sample_records()[..1], false);
    let off = bytes.len() - std::mem::size_of::<MboMsg>();
    bytes[off] = 12; // length in 4-byte words: 48 bytes instead of 56
    bytes.truncate(bytes.len() - 8);
    let r = replay_bytes(&bytes, ReplayOptions::default(), |_| {}).unwrap();
    assert_eq!(r.stats().records, 1);
    assert_eq!(r.stats().malformed_records, 1);
    assert_eq!(r.stats().mbo_records, 0);
}

#[test]
fn misaligned_record_length_is_a_decode_error() {
    // A length that is not a multiple of 8 bytes would make dbn build a
    // misaligned record reference: the framing guard refuses it.
    for z in [false, true] {
        let mut plain = encode(&sample_records(), false);
        let off = plain.len() - 6 * std::mem::size_of::<MboMsg>();
        plain[off] = 13;
        let bytes = if z {
            zstd::stream::encode_all(&plain[..], 1).unwrap()
        } else {
            plain
        };
        for threaded in [false, true] {
            let opts = ReplayOptions {
                decompress_in_thread: threaded,
                ..Default::default()
            };
            match replay_bytes(&bytes, opts, |_| {}) {
                Err(ReplayError::Decode(e)) => {
                    assert!(e.to_string().contains("multiple of 8"), "{e}")
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}

#[test]
fn pipelined_and_single_thread_replays_agree() {
    let mut recs = Vec::new();
    for i in 0..5_000u64 {
        let side = if i % 2 == 0 { b'B' } else { b'A' };
        let px = if side == b'B' {
            100 * T - (i % 7) as i64 * T
        } else {
            101 * T + (i % 5) as i64 * T
        };
        recs.push(mbo_at(
            1,
            i,
            b'A',
            side,
            i,
            px,
            1 + (i % 3) as u32,
            if i % 3 == 0 { L } else { 0 },
        ));
        if i % 4 == 3 {
            recs.push(mbo_at(1, i, b'C', side, i - 2, px, 9, L));
        }
    }
    let bytes = encode(&recs, true);
    let run = |threaded: bool| {
        let mut v = Vec::new();
        let opts = ReplayOptions {
            decompress_in_thread: threaded,
            ..Default::default()
        };
        let r = replay_bytes(&bytes, opts, |s| v.push(*s)).unwrap();
        (v, r.stats())
    };
    let (a, sa) = run(true);
    let (b, sb) = run(false);
    assert_eq!(sa, sb);
    assert_eq!(a, b);
    assert_eq!(sa.records, recs.len() as u64);
    // strict mode stops the pipeline early without hanging
    let mut bad = recs.clone();
    bad.insert(10, mbo_at(1, 3, b'C', b'B', 999_999, T, 1, L));
    let bytes = encode(&bad, true);
    let strict = ReplayOptions {
        strict: true,
        ..Default::default()
    };
    assert!(matches!(
        replay_bytes(&bytes, strict, |_| {}),
        Err(ReplayError::Book { index: 10, .. })
    ));
    // a corrupt zstd body is a decode error
    let mut z = encode(&recs, true);
    let n = z.len();
    for b in &mut z[20..n / 2] {
        *b = 0xAA;
    }
    assert!(replay_bytes(&z, ReplayOptions::default(), |_| {}).is_err());
}

#[test]
fn snapshot_columns_follow_mbp10_layout() {
    let dir = std::env::temp_dir().join(format!("book-cols-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("c.mbo.dbn");
    std::fs::write(&p, encode(&sample_records(), false)).unwrap();
    let (cols, r) = replay_file_columns(
        &p,
        ReplayOptions {
            depth: 2,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(cols.len(), 4);
    assert_eq!(cols.len() as u64, r.stats().snapshots_emitted);
    assert_eq!(cols.depth, 2);
    assert_eq!(cols.bid_px.len(), 2);
    assert_eq!(cols.instrument_id, vec![1, 2, 1, 1]);
    assert_eq!(cols.ts_event, vec![1, 2, 3, 4]);
    assert_eq!(cols.bid_px[0], vec![100 * T, 50 * T, 100 * T, 100 * T]);
    assert_eq!(cols.ask_sz[0], vec![2, 0, 2, 1]);
    assert_eq!(cols.ask_px[0][1], UNDEF_PRICE);
    assert_eq!(cols.bid_ct[1], vec![0; 4]);
    assert!(!cols.is_empty());
    assert!(SnapshotColumns::new(0).is_empty());
    assert_eq!(SnapshotColumns::new(99).depth, 10);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn replay_from_a_tcp_socket() {
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    for z in [false, true] {
        let bytes = encode(&sample_records(), z);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let sender = std::thread::spawn(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            // in small pieces, as a network would deliver them
            for chunk in bytes.chunks(7) {
                s.write_all(chunk).unwrap();
            }
        });
        let (conn, _) = listener.accept().unwrap();
        let mut snaps = Vec::new();
        let r = replay_reader(conn, ReplayOptions::default(), |s| snaps.push(*s)).unwrap();
        sender.join().unwrap();
        assert_eq!(r.stats().records, 6);
        assert_eq!(snaps.len(), 4);
        assert_eq!(r.market().get(1).unwrap().best_ask().unwrap().size, 1);
    }
}

/// A reader that returns one byte per `read`, the worst a stream can do.
struct OneByte<R>(R);

impl<R: std::io::Read> std::io::Read for OneByte<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(1);
        self.0.read(&mut buf[..n])
    }
}

#[test]
fn one_byte_reads_decode_whole() {
    // dbn's metadata decoder panics on short reads; `with_whole_metadata` fixes it.
    for z in [false, true] {
        let bytes = encode(&sample_records(), z);
        let r = replay_reader(OneByte(&bytes[..]), ReplayOptions::default(), |_| {}).unwrap();
        assert_eq!(r.stats().records, 6);
        // a stream cut inside the metadata is an error, not a panic
        let cut = replay_reader(OneByte(&bytes[..20]), ReplayOptions::default(), |_| {});
        assert!(cut.is_err() || cut.unwrap().stats().records == 0);
    }
}

#[test]
fn pipelined_zstd_replay_equals_one_thread_and_checks_framing() {
    // Enough records for many decompressed chunks, so records straddle chunk ends.
    let recs: Vec<MboMsg> = (0..12_000u64)
        .map(|i| {
            mbo_at(
                1 + (i % 3) as u32,
                i,
                b'A',
                b'B',
                i + 1,
                (100 + (i % 50) as i64) * T,
                1,
                L,
            )
        })
        .collect();
    let plain = encode(&recs, false);
    let z = zstd::stream::encode_all(&plain[..], 1).unwrap();
    let run = |bytes: &[u8], threaded: bool| {
        let opts = ReplayOptions {
            decompress_in_thread: threaded,
            ..ReplayOptions::default()
        };
        let mut snaps = Vec::new();
        replay_bytes(bytes, opts, |s| snaps.push(*s)).map(|r| (snaps, r.stats()))
    };
    let (want, want_stats) = run(&plain, false).unwrap();
    let (got, got_stats) = run(&z, true).unwrap();
    assert_eq!(got_stats, want_stats);
    assert_eq!(got_stats.records, 12_000);
    assert!(got == want, "same snapshots");

    // A record length that is not a multiple of 8, deep in the stream: an
    // error naming the byte, never a panic or a silent stop.
    let meta_len = 8 + u32::from_le_bytes([plain[4], plain[5], plain[6], plain[7]]) as usize;
    let mut bad = plain.clone();
    let at = meta_len + 56 * 9_000;
    bad[at] = 3; // 12 bytes
    let z = zstd::stream::encode_all(&bad[..], 1).unwrap();
    let err = run(&z, true).unwrap_err().to_string();
    assert!(err.contains(&format!("byte {at}")), "{err}");

    // A partial record at the end is dropped, as by the one-thread decoder.
    let cut = &plain[..plain.len() - 20];
    let z = zstd::stream::encode_all(cut, 1).unwrap();
    assert_eq!(run(&z, true).unwrap().1, run(cut, false).unwrap().1);
    // Not DBN at all: the metadata decoder's error.
    let z = zstd::stream::encode_all(&b"hello, not a DBN stream"[..], 1).unwrap();
    assert!(run(&z, true).is_err());
}

#[test]
fn in_memory_pipeline_matches_plain_and_survives_cut_input() {
    // The one-buffer zstd pipeline (`inflate`): frames with and without a
    // content size, a separate metadata frame (as Databento writes), and
    // input cut anywhere: the same snapshots as the plain bytes, or an
    // error, never a panic or a hang.
    let mut recs = Vec::new();
    for i in 0..3_000u64 {
        let side = if i % 2 == 0 { b'B' } else { b'A' };
        let px = if side == b'B' { 100 * T } else { 101 * T } + (i % 9) as i64 * T;
        recs.push(mbo_at(
            1,
            i,
            b'A',
            side,
            i + 1,
            px,
            1,
            if i % 2 == 1 { L } else { 0 },
        ));
    }
    let plain = encode(&recs, false);
    let meta_end = 8 + u32::from_le_bytes([plain[4], plain[5], plain[6], plain[7]]) as usize;
    let run = |bytes: &[u8]| {
        let mut v = Vec::new();
        replay_bytes(bytes, ReplayOptions::default(), |s| v.push(*s)).map(|r| (v, r.stats()))
    };
    let want = run(&plain).unwrap();
    let mut two_frames = zstd::bulk::compress(&plain[..meta_end], 3).unwrap();
    two_frames.extend(zstd::bulk::compress(&plain[meta_end..], 3).unwrap());
    for z in [
        zstd::bulk::compress(&plain, 1).unwrap(),
        zstd::stream::encode_all(&plain[..], 1).unwrap(),
        two_frames.clone(),
    ] {
        assert!(run(&z).unwrap() == want);
    }
    for cut in [5, 20, two_frames.len() / 3, two_frames.len() - 1] {
        let _ = run(&two_frames[..cut]);
    }
}

#[test]
fn plain_file_in_place_matches_the_decoder_path() {
    // `replay_file` reads a plain file whole and applies its records in
    // place; the streaming decoder path (`decompress_in_thread: false`) is
    // the reference, whole, cut inside a record and with a bad length.
    let dir = std::env::temp_dir().join(format!("book-plain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut recs = Vec::new();
    for i in 0..2_000u64 {
        let side = if i % 3 == 0 { b'B' } else { b'A' };
        let px = if side == b'B' { 100 * T } else { 101 * T } + (i % 13) as i64 * T;
        recs.push(mbo_at(
            2,
            i,
            b'A',
            side,
            i + 1,
            px,
            2,
            if i % 2 == 0 { L } else { 0 },
        ));
    }
    let plain = encode(&recs, false);
    let run = |bytes: &[u8], threaded: bool| {
        let p = dir.join(format!("f{threaded}.dbn"));
        std::fs::write(&p, bytes).unwrap();
        let opts = ReplayOptions {
            decompress_in_thread: threaded,
            ..Default::default()
        };
        let mut v = Vec::new();
        replay_file(&p, opts, |s| v.push(*s)).map(|r| (v, r.stats()))
    };
    let want = run(&plain, false).unwrap();
    assert!(run(&plain, true).unwrap() == want);
    let cut = &plain[..plain.len() - 20];
    assert!(run(cut, true).unwrap() == run(cut, false).unwrap());
    let mut bad = plain.clone();
    let off = bad.len() - 7 * std::mem::size_of::<MboMsg>();
    bad[off] = 13;
    let err = run(&bad, true).unwrap_err().to_string();
    assert!(err.contains("multiple of 8"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Runs `f` on its own thread; fails the test if it panics or takes longer
/// than `secs` (a hang in the pipeline).
fn within<R: Send + 'static>(secs: u64, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(secs)) {
        Ok(r) => r,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("hung for {secs} s"),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => panic!("panicked"),
    }
}

/// A zstd frame by hand: one content size claimed (`fcs`, 8 bytes), a 1 MiB
/// window unless `single` (then the window is the claimed size), raw blocks.
fn raw_frame(fcs: u64, single: bool, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x28, 0xB5, 0x2F, 0xFD, if single { 0xE0 } else { 0xC0 }];
    if !single {
        f.push(10 << 3); // window log 20
    }
    f.extend_from_slice(&fcs.to_le_bytes());
    let blocks: Vec<&[u8]> = if payload.is_empty() {
        vec![&[]]
    } else {
        payload.chunks(1 << 17).collect()
    };
    for (i, b) in blocks.iter().enumerate() {
        let last = u32::from(i + 1 == blocks.len());
        let h = last | ((b.len() as u32) << 3); // block type 0: raw
        f.extend_from_slice(&h.to_le_bytes()[..3]);
        f.extend_from_slice(b);
    }
    f
}

fn many_records(n: u64) -> Vec<u8> {
    let recs: Vec<MboMsg> = (0..n)
        .map(|i| {
            let side = if i % 2 == 0 { b'B' } else { b'A' };
            let px = if side == b'B' { 100 * T } else { 101 * T } + (i % 7) as i64 * T;
            mbo_at(
                1,
                i,
                b'A',
                side,
                i + 1,
                px,
                1,
                if i % 2 == 1 { L } else { 0 },
            )
        })
        .collect();
    encode(&recs, false)
}

#[test]
fn in_memory_pipeline_cut_or_corrupt_input_is_a_typed_error_never_a_hang() {
    // Every cut point region and many corrupt bytes, on the three encodings
    // `inflate` takes: whatever path takes the input, the answer is a
    // `ReplayError` (or, for a cut at a frame boundary, a clean stop), never a
    // panic or a hang. Corrupt bytes inside blocks keep the frame structure,
    // so `ZSTD_decompressBound` passes and the one-buffer pipeline meets the
    // zstd error mid-stream (counted below).
    let plain = many_records(4_000);
    let meta_end = 8 + u32::from_le_bytes([plain[4], plain[5], plain[6], plain[7]]) as usize;
    let mut two = zstd::bulk::compress(&plain[..meta_end], 3).unwrap();
    two.extend(zstd::bulk::compress(&plain[meta_end..], 3).unwrap());
    let encodings = [
        zstd::bulk::compress(&plain, 1).unwrap(), // content size, no checksum
        zstd::stream::encode_all(&plain[..], 1).unwrap(), // no content size
        {
            let mut e = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
            e.include_checksum(true).unwrap();
            std::io::Write::write_all(&mut e, &plain).unwrap();
            e.finish().unwrap()
        },
        two,
    ];
    within(120, move || {
        let mut in_memory_errors = 0;
        for z in &encodings {
            let n = z.len();
            let mut cuts: Vec<usize> = (0..n.min(64)).chain(n.saturating_sub(64)..n).collect();
            cuts.extend((0..n).step_by((n / 300).max(1)));
            for cut in cuts {
                let _ = replay_bytes(&z[..cut], ReplayOptions::default(), |_| {});
            }
            for (k, at) in (0..n).step_by((n / 400).max(1)).enumerate() {
                let mut bad = z.clone();
                bad[at] ^= if k % 2 == 0 { 0xFF } else { 1 << (k % 8) };
                let res = replay_bytes(&bad, ReplayOptions::default(), |_| {});
                if res.is_err() {
                    let mut sink = |_: &BookSnapshot| {};
                    let direct =
                        super::inflate::replay_in_memory(&bad, ReplayOptions::default(), &mut sink);
                    if let Some(Err(ReplayError::Decode(_))) = direct {
                        in_memory_errors += 1;
                    }
                }
            }
        }
        assert!(in_memory_errors > 50, "{in_memory_errors}");
    });
}

#[test]
fn in_memory_pipeline_refuses_hostile_content_sizes() {
    let plain = many_records(500);
    let run = |z: Vec<u8>| {
        within(60, move || {
            let mut sink = |_: &BookSnapshot| {};
            let direct = super::inflate::replay_in_memory(&z, ReplayOptions::default(), &mut sink)
                .map(|r| r.map(|r| r.stats()));
            let via = replay_bytes(&z, ReplayOptions::default(), |_| {}).map(|r| r.stats());
            (
                direct.map(|r| r.map_err(|e| e.to_string())),
                via.map_err(|e| e.to_string()),
            )
        })
    };
    // The honest frame replays whole.
    let n = plain.len() as u64;
    let (d, v) = run(raw_frame(n, false, &plain));
    assert_eq!(d.unwrap().unwrap().records, 500);
    assert_eq!(v.unwrap().records, 500);
    // A terabyte claimed: above `MAX_PLAIN`, so the chunked pipeline, whose
    // zstd stops at the wrong size.
    for (fcs, single) in [(1u64 << 40, false), (1 << 40, true), (u64::MAX - 1, false)] {
        let (d, v) = run(raw_frame(fcs, single, &plain));
        assert!(d.is_none(), "{fcs}");
        assert!(v.is_err(), "{fcs}");
    }
    // The same claims in a records frame after an honest metadata frame (as
    // Databento writes), so the prelude reads and this path takes them: 1 GiB
    // (the buffer is reserved, never touched) and less than the payload fail
    // on zstd's size checks, as typed errors.
    let meta_end = 8 + u32::from_le_bytes([plain[4], plain[5], plain[6], plain[7]]) as usize;
    let (meta, recs) = plain.split_at(meta_end);
    let records_frame = |fcs: u64| {
        let mut z = raw_frame(meta.len() as u64, false, meta);
        z.extend(raw_frame(fcs, false, recs));
        z
    };
    let (d, _) = run(records_frame(recs.len() as u64));
    assert_eq!(d.unwrap().unwrap().records, 500);
    let big = (super::inflate::MAX_PLAIN - meta_end) as u64;
    for fcs in [big, recs.len() as u64 - 56, 100, 0] {
        let (d, v) = run(records_frame(fcs));
        assert!(matches!(d, Some(Err(_))), "{fcs}: {d:?}");
        assert!(v.is_err(), "{fcs}");
    }
    // Claimed sizes that wrap the u64 sum in `ZSTD_decompressBound` to the
    // metadata plus 16 bytes: zstd fills what fits and fails.
    let mut z = records_frame(1 << 63);
    z.extend(raw_frame((1 << 63) + 16, false, &[0; 16]));
    let (d, v) = run(z);
    assert!(matches!(d, Some(Err(_))), "{d:?}");
    assert!(v.is_err());
}

#[test]
fn in_memory_pipeline_survives_a_panicking_sink() {
    // The sink panics on the first snapshot: the producer is stopped and
    // joined, the panic reaches the caller, nothing hangs.
    let z = zstd::bulk::compress(&many_records(20_000), 1).unwrap();
    within(60, move || {
        let r = std::panic::catch_unwind(|| {
            replay_bytes(&z, ReplayOptions::default(), |_| panic!("sink"))
        });
        assert!(r.is_err());
        // and again, on the same thread (a leftover unpark token is harmless)
        let r = replay_bytes(&z, ReplayOptions::default(), |_| {}).unwrap();
        assert_eq!(r.stats().records, 20_000);
    });
}
