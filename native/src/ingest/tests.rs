use dbn::encode::{DbnEncoder, EncodeRecord};
use dbn::{rtype, OhlcvMsg, RecordHeader};

use super::*;

const DAY: u64 = 86_400_000_000_000;

fn bar(iid: u32, ts: u64, close: i64) -> OhlcvMsg {
    OhlcvMsg {
        hd: RecordHeader::new::<OhlcvMsg>(rtype::OHLCV_1M, 1, iid, ts),
        open: close,
        high: close,
        low: close,
        close,
        volume: 3,
    }
}

fn encode(recs: &[OhlcvMsg], zstd: bool) -> Vec<u8> {
    let meta = dbn::Metadata::builder()
        .dataset("GLBX.MDP3")
        .schema(Some(dbn::Schema::Ohlcv1M))
        .start(0)
        .stype_in(Some(dbn::SType::RawSymbol))
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

fn sample() -> Vec<OhlcvMsg> {
    vec![
        bar(7, DAY, 10),
        bar(3, DAY + 1, 11),
        bar(7, 2 * DAY, 12),
        bar(9, 3 * DAY, 13),
    ]
}

#[test]
fn reads_plain_and_zstd_alike_without_upgrading() {
    for zstd in [false, true] {
        let f = read_dbn_bytes(encode(&sample(), zstd)).unwrap();
        assert_eq!(f.count, 4);
        assert_eq!(f.record_len, std::mem::size_of::<OhlcvMsg>());
        assert_eq!(f.schema.as_deref(), Some("ohlcv-1m"));
        assert_eq!(f.records().len(), 4 * f.record_len);
        // the records are the file's bytes: the close of the third record
        let at = 2 * f.record_len + 40;
        let close = i64::from_le_bytes(f.records()[at..at + 8].try_into().unwrap());
        assert_eq!(close, 12);
    }
}

#[test]
fn a_record_cut_short_is_refused() {
    let mut plain = encode(&sample(), false);
    plain.truncate(plain.len() - 5);
    assert!(matches!(
        read_dbn_bytes(plain),
        Err(IngestError::Truncated(51, 3))
    ));
}

#[test]
fn bad_lengths_and_non_dbn_are_refused_without_panic() {
    let mut plain = encode(&sample(), false);
    let start = read_dbn_bytes(plain.clone()).unwrap().records_start;
    plain[start] = 3; // 12 bytes: shorter than a header
    assert!(read_dbn_bytes(plain.clone()).is_err());
    plain[start] = 14;
    plain[start + 56] = 4; // 16 bytes: a header, but not the first record's length
    assert!(matches!(
        read_dbn_bytes(plain),
        Err(IngestError::Mixed(56, 16))
    ));
    assert!(read_dbn_bytes(b"not dbn at all".to_vec()).is_err());
    assert!(read_dbn_bytes(Vec::new()).is_err());
}

#[test]
fn symbol_codes_follow_the_python_order() {
    let f = read_dbn_bytes(encode(&sample(), false)).unwrap();
    let maps = vec![
        (9u32, vec![(0, 2, "B".to_owned()), (2, 9, "C".to_owned())]),
        (7u32, vec![(0, 9, "Z".to_owned()), (0, 9, "Z".to_owned())]),
    ];
    let (codes, names) = symbol_codes(f.records(), f.record_len, &maps);
    // "" first, then single-symbol ids ascending (7: Z), then changing ones (9: B, C)
    assert_eq!(names, vec!["", "Z", "B", "C"]);
    // id 3 has no mapping; id 9's record is on day 3, inside [2, 9): C
    assert_eq!(codes, vec![1, 0, 1, 3]);
    assert_eq!(symbol_codes(&[], 56, &maps), (vec![], vec![]));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

    /// Arbitrary bytes, and valid files with bytes flipped or cut, are errors or records,
    /// never a panic.
    #[test]
    fn no_input_panics(
        junk in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
        flips in proptest::collection::vec((0usize..4096, proptest::prelude::any::<u8>()), 0..8),
        cut in 0usize..4096,
        zstd in proptest::prelude::any::<bool>(),
    ) {
        let _ = read_dbn_bytes(junk.clone());
        let mut dbn = b"DBN\x02".to_vec();
        dbn.extend_from_slice(&junk);
        let _ = read_dbn_bytes(dbn);
        let mut file = encode(&sample(), zstd);
        for (at, b) in flips {
            let n = file.len();
            file[at % n] ^= b;
        }
        file.truncate(cut.min(file.len()));
        if let Ok(f) = read_dbn_bytes(file) {
            let _ = symbol_codes(f.records(), f.record_len, &[(7, vec![(0, 1, "X".into())])]);
        }
    }
}
