//! Property tests: any sequence of MBO records leaves an L3 book whose
//! invariants hold, equal to the independent reference book, and never
//! panics; arbitrary bytes into the DBN decoder path never panic.

mod common;

use _native::book::{
    empty_pair, replay_bytes, BookSnapshot, Every, L3Book, Market, ReplayOptions, Replayer, Side,
};
use common::RefBook;
use dbn::encode::{DbnEncoder, EncodeRecord};
use dbn::{flags, rtype, FlagSet, MboMsg, RecordHeader, UNDEF_PRICE};
use proptest::prelude::*;

const T: i64 = 250_000_000;

fn arb_record() -> impl Strategy<Value = MboMsg> {
    let action = prop_oneof![
        6 => Just(b'A'),
        3 => Just(b'C'),
        3 => Just(b'M'),
        1 => Just(b'F'),
        1 => Just(b'T'),
        1 => Just(b'N'),
        1 => Just(b'R'),
        1 => any::<u8>(),
    ];
    let side = prop_oneof![8 => Just(b'B'), 8 => Just(b'A'), 1 => Just(b'N'), 1 => any::<u8>()];
    let price = prop_oneof![
        20 => (90i64..110).prop_map(|k| k * T),
        1 => Just(UNDEF_PRICE),
        1 => any::<i64>(),
    ];
    let size = prop_oneof![10 => 1u32..8, 1 => Just(0u32), 1 => any::<u32>()];
    let fl = prop_oneof![
        8 => Just(0u8),
        8 => Just(flags::LAST),
        2 => Just(flags::SNAPSHOT),
        1 => Just(flags::SNAPSHOT | flags::LAST),
        1 => Just(flags::TOB),
        1 => any::<u8>(),
    ];
    (action, side, 0u64..24, price, size, fl, 0u32..3).prop_map(
        |(action, side, id, price, size, fl, inst)| MboMsg {
            hd: RecordHeader::new::<MboMsg>(rtype::MBO, 1, inst, 1),
            order_id: id,
            price,
            size,
            flags: FlagSet::new(fl),
            channel_id: 0,
            action: action as _,
            side: side as _,
            ts_recv: 2,
            ts_in_delta: 0,
            sequence: 0,
        },
    )
}

fn assert_same(book: &L3Book, reference: &RefBook) {
    for (side, s) in [(Side::Bid, b'B'), (Side::Ask, b'A')] {
        let got: Vec<(i64, u64, u32)> = book
            .depth(side, usize::MAX)
            .iter()
            .map(|l| (l.price, l.size, l.count))
            .collect();
        assert_eq!(
            got,
            reference.top(s, usize::MAX),
            "levels of side {}",
            s as char
        );
        for (price, _, _) in got {
            let ids: Vec<u64> = book
                .orders_at(side, price)
                .iter()
                .map(|o| o.order_id)
                .collect();
            assert_eq!(ids, reference.queue(s, price), "queue at {price}");
        }
    }
    assert_eq!(book.order_count(), reference.orders.len());
}

/// Cases per property: `PROPTEST_CASES` when set (the Makefile's bounded fuzz step), else 512.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn any_records_keep_invariants_and_match_reference(recs in prop::collection::vec(arb_record(), 0..200)) {
        let mut market = Market::new();
        let mut refs: std::collections::HashMap<u32, RefBook> = Default::default();
        for m in &recs {
            let ok = market.apply(m).is_ok();
            let r = refs.entry(m.hd.instrument_id).or_default();
            prop_assert_eq!(ok, r.apply(m), "accept/refuse differs on {:?}", m);
            let book = market.get(m.hd.instrument_id).unwrap();
            if let Err(e) = book.validate() {
                prop_assert!(false, "{}", e);
            }
            assert_same(book, r);
            // queries never panic
            let _ = (book.best_bid(), book.best_ask(), book.spread(), book.mid(), book.imbalance(3));
            let _ = (book.cross_state(), book.queue_position(m.order_id), book.order(m.order_id));
        }
    }

    #[test]
    fn replayer_snapshots_equal_a_fresh_fill(
        recs in prop::collection::vec(arb_record(), 0..300),
        depth in 1usize..=10,
    ) {
        // The replayer skips refilling levels when a book's top 10 did not
        // change: every snapshot must still equal a fresh fill.
        let opts = ReplayOptions { every: Every::Record, depth, ..Default::default() };
        let mut r = Replayer::new(opts);
        for m in &recs {
            let mut got: Option<BookSnapshot> = None;
            r.on_mbo(m, &mut |s: &BookSnapshot| got = Some(*s)).unwrap();
            let got = got.expect("a snapshot per record");
            let mut want = [empty_pair(); 10];
            r.market().get(m.hd.instrument_id).unwrap().fill_levels(&mut want[..depth]);
            prop_assert_eq!(got.levels, want);
            prop_assert_eq!(got.instrument_id, m.hd.instrument_id);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let _ = replay_bytes(&bytes, ReplayOptions::default(), |_| {});
    }

    #[test]
    fn corrupted_dbn_never_panics(
        recs in prop::collection::vec(arb_record(), 1..40),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        lengths in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
        cut in any::<prop::sample::Index>(),
        zstd in any::<bool>(),
        threaded in any::<bool>(),
    ) {
        let meta = dbn::Metadata::builder()
            .dataset("GLBX.MDP3")
            .schema(Some(dbn::Schema::Mbo))
            .start(0)
            .stype_in(Some(dbn::SType::InstrumentId))
            .stype_out(dbn::SType::InstrumentId)
            .build();
        let mut buf = Vec::new();
        let mut enc = DbnEncoder::new(&mut buf, &meta).unwrap();
        for r in &recs { enc.encode_record(r).unwrap(); }
        let opts = ReplayOptions { every: Every::Record, decompress_in_thread: threaded, ..Default::default() };
        let pack = |plain: &[u8]| if zstd { zstd::stream::encode_all(plain, 1).unwrap() } else { plain.to_vec() };
        // intact: decodes whole
        let r = replay_bytes(&pack(&buf), opts, |_| {}).unwrap();
        prop_assert_eq!(r.stats().records, recs.len() as u64);
        // record length bytes set to arbitrary values, random bit flips, truncation
        let first = buf.len() - recs.len() * std::mem::size_of::<MboMsg>();
        for (i, v) in &lengths {
            buf[first + i.index(recs.len()) * std::mem::size_of::<MboMsg>()] = *v;
        }
        for (i, b) in &flips {
            let k = i.index(buf.len());
            buf[k] ^= b | 1;
        }
        buf.truncate(cut.index(buf.len() + 1));
        let _ = replay_bytes(&pack(&buf), opts, |_| {});
    }
}
