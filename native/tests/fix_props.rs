//! A bounded fuzz of the FIX codec and the session's input path (run with more cases by
//! `make test`'s fuzz step: `PROPTEST_CASES`): arbitrary bytes and mutated valid messages
//! never panic, the session only ever writes well-formed frames with consecutive sequence
//! numbers, and a garbled message is ignored as FIX 4.4 Volume 2 says (no reply, no sequence
//! number consumed, the next good message processed).

use _native::fix::codec::{checksum, write_utc_timestamp, TimePrecision};
use _native::fix::session::{Event, Output, Role, Session, SessionConfig};
use _native::fix::store::{MemoryStore, MessageStore};
use _native::fix::tags;
use _native::fix::{next_frame, Decoder, Encoder, Frame, Message};
use proptest::prelude::*;

const SEC: i64 = 1_000_000_000;
/// 2024-01-02 12:00:00 UTC
const T0: i64 = 1_704_196_800 * SEC;

/// Cases per property: `PROPTEST_CASES` when set (the Makefile's bounded fuzz step), else 256.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// An acceptor logged on with CLIENT (its Logon, seq 1, processed), outputs drained.
fn logged_on_exchange() -> Session<MemoryStore> {
    let cfg = SessionConfig::new(Role::Acceptor, "EXCH", "CLIENT");
    let mut s = Session::new(cfg, MemoryStore::new(T0 - SEC));
    s.on_connect(T0);
    let mut logon = Message::of_type(b"A");
    logon
        .push(tags::ENCRYPT_METHOD, "0")
        .push(tags::HEART_BT_INT, "30");
    s.on_bytes(&frame(&logon, 1, T0), T0);
    s.drain_outputs();
    assert!(s.is_logged_on());
    s
}

/// `m` from CLIENT to EXCH with MsgSeqNum `seq`, encoded.
fn frame(m: &Message, seq: u64, now: i64) -> Vec<u8> {
    let mut m = m.clone();
    m.set(tags::SENDER_COMP_ID, "CLIENT")
        .set(tags::TARGET_COMP_ID, "EXCH")
        .set_int(tags::MSG_SEQ_NUM, seq as i64)
        .set_timestamp(tags::SENDING_TIME, now, TimePrecision::Millis);
    Encoder::default().to_vec(&m)
}

/// `8=FIX.4.4|9=n|` + `body` + `10=ddd|`: a frame around any body bytes.
fn reframe(body: &[u8]) -> Vec<u8> {
    let mut out = format!("8=FIX.4.4\x019={}\x01", body.len()).into_bytes();
    out.extend_from_slice(body);
    let cs = checksum(&out);
    out.extend_from_slice(format!("10={cs:03}\x01").as_bytes());
    out
}

/// The body of an encoded frame (after BodyLength, before CheckSum).
fn body_of(frame: &[u8]) -> &[u8] {
    let start = frame
        .iter()
        .enumerate()
        .filter(|(_, &c)| c == 1)
        .nth(1)
        .unwrap()
        .0
        + 1;
    &frame[start..frame.len() - 7]
}

fn arb_value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(vec![
            "0", "1", "2", "3", "5", "8", "30", "-1", "Y", "N", "71.25", "MCLZ5", "X", "",
            "99999999999999999999", "20240102-12:00:00.000",
        ]).prop_map(str::to_string),
        1 => "[ -~]{0,12}",
    ]
}

/// A message CLIENT might send, right or wrong: session and application types, fields
/// from the ones the session reads (sequence numbers, flags, gap fills) and the orders'.
fn arb_message() -> impl Strategy<Value = Message> {
    let ty = proptest::sample::select(vec![
        "A", "0", "1", "2", "3", "4", "5", "D", "F", "G", "8", "9", "j", "AE", "ZZ", "",
    ]);
    let tag = proptest::sample::select(vec![
        7u32, 16, 36, 43, 45, 58, 97, 98, 108, 112, 122, 123, 141, 371, 372, 373, 11, 41, 55, 54,
        60, 38, 40, 44, 37, 17, 150, 39, 151, 14, 6, 453, 448, 447, 452, 9999, 5001,
    ]);
    (ty, proptest::collection::vec((tag, arb_value()), 0..12)).prop_map(|(ty, fields)| {
        let mut m = Message::of_type(ty.as_bytes());
        for (t, v) in fields {
            m.push(t, v);
        }
        m
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(prop::sample::Index, u8),
    Insert(prop::sample::Index, u8),
    Delete(prop::sample::Index),
    Truncate(prop::sample::Index),
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        2 => (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        2 => any::<prop::sample::Index>().prop_map(Mutation::Delete),
        1 => any::<prop::sample::Index>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(bytes: &mut Vec<u8>, muts: &[Mutation]) {
    for m in muts {
        if bytes.is_empty() {
            return;
        }
        match m {
            Mutation::Flip(i, b) => {
                let k = i.index(bytes.len());
                bytes[k] = *b;
            }
            Mutation::Insert(i, b) => bytes.insert(i.index(bytes.len() + 1), *b),
            Mutation::Delete(i) => {
                bytes.remove(i.index(bytes.len()));
            }
            Mutation::Truncate(i) => bytes.truncate(i.index(bytes.len())),
        }
    }
}

/// Feeds `stream` to `s` in the pieces `cuts` make, with clock ticks between; checks what
/// the session writes: every frame decodes, and the non-resent ones (no PossDupFlag) carry
/// consecutive MsgSeqNums (from 1 again after a store reset). The expected MsgSeqNum never
/// goes down (but on a reset).
fn feed(
    s: &mut Session<MemoryStore>,
    stream: &[u8],
    cuts: &[prop::sample::Index],
) -> Result<(), TestCaseError> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c.index(stream.len() + 1)).collect();
    at.push(0);
    at.push(stream.len());
    at.sort_unstable();
    let mut next_out = s.store().next_sender_seq();
    let mut target = s.store().next_target_seq();
    let mut decoder = Decoder::new();
    for (k, w) in at.windows(2).enumerate() {
        let now = T0 + k as i64 * SEC / 2;
        s.on_bytes(&stream[w[0]..w[1]], now);
        s.on_timer(now);
        let mut reset = false;
        while let Some(o) = s.poll_output() {
            match o {
                Output::Send(f) => {
                    let v = decoder.decode(&f);
                    prop_assert!(
                        v.is_ok(),
                        "we sent a bad frame {:?}: {:?}",
                        String::from_utf8_lossy(&f),
                        v.err()
                    );
                    let v = v.unwrap();
                    if v.get(tags::POSS_DUP_FLAG) != Some(b"Y") {
                        if v.msg_type() == b"A" && v.get(tags::RESET_SEQ_NUM_FLAG) == Some(b"Y") {
                            next_out = 1;
                        }
                        prop_assert_eq!(v.seq_num(), Some(next_out), "{:?}", v);
                        next_out += 1;
                    }
                }
                Output::Event(Event::SequenceReset) => {
                    reset = true;
                    next_out = 1;
                }
                _ => {}
            }
        }
        let t = s.store().next_target_seq();
        prop_assert!(
            reset || t >= target,
            "expected MsgSeqNum went from {} to {}",
            target,
            t
        );
        target = t;
        prop_assert_eq!(s.store().next_sender_seq(), next_out);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// Arbitrary bytes into the framer and the decoder.
    #[test]
    fn never_panic_decode_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut d = Decoder::new();
        let _ = d.decode(&bytes).map(|v| v.to_message());
        let mut buf = &bytes[..];
        while let Some(f) = next_frame(buf) {
            let n = match f { Frame::Message(n) | Frame::Garbled(n) => n };
            prop_assert!(n > 0 && n <= buf.len());
            if let Frame::Message(n) = f {
                if let Ok(v) = d.decode(&buf[..n]) {
                    // what decodes encodes back to a frame that decodes the same
                    let m = v.to_message();
                    let again = Encoder::default().to_vec(&m);
                    prop_assert_eq!(d.decode(&again).map(|v| v.to_message()).ok(), Some(m));
                }
            }
            buf = &buf[n..];
        }
    }

    /// Arbitrary bytes into a logged-on session, in arbitrary pieces.
    #[test]
    fn never_panic_session_arbitrary_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let mut s = logged_on_exchange();
        feed(&mut s, &bytes, &cuts)?;
    }

    /// Valid and invalid messages, mutated (anywhere, or in the body and then re-framed so
    /// that the damage reaches the decoder, the dictionary and the session), with sequence
    /// numbers around the expected one, into a logged-on session.
    #[test]
    fn never_panic_session_mutated_messages(
        msgs in proptest::collection::vec(
            (arb_message(), -2i64..3, proptest::collection::vec(arb_mutation(), 0..3), any::<bool>()),
            1..12,
        ),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let mut s = logged_on_exchange();
        let mut stream = Vec::new();
        for (k, (m, dseq, muts, in_body)) in msgs.iter().enumerate() {
            let seq = k as i64 + 2 + dseq; // around the expected number
            let f = frame(m, seq.max(0) as u64, T0);
            let f = if *in_body {
                let mut body = body_of(&f).to_vec();
                mutate(&mut body, muts);
                reframe(&body)
            } else {
                let mut f = f;
                mutate(&mut f, muts);
                f
            };
            stream.extend_from_slice(&f);
        }
        feed(&mut s, &stream, &cuts)?;
    }

    /// A garbled message (a byte of its body changed, its CheckSum or its BodyLength wrong)
    /// is ignored: no reply, no sequence number consumed, the session stays up; the same
    /// message then arriving intact is processed.
    #[test]
    fn garbled_message_is_ignored(
        id in "[a-z0-9]{1,8}",
        qty in 1u32..100,
        how in 0u8..3,
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        len in 0usize..400,
    ) {
        let mut s = logged_on_exchange();
        let mut order = Message::of_type(b"D");
        order.push(tags::CL_ORD_ID, &id).push(tags::SYMBOL, "MCLZ5").push(tags::SIDE, "1");
        let mut ts = Vec::new();
        write_utc_timestamp(&mut ts, T0, TimePrecision::Millis);
        order.push(tags::TRANSACT_TIME, ts).push(tags::ORDER_QTY, qty.to_string())
            .push(tags::ORD_TYPE, "1");
        let good = frame(&order, 2, T0);
        let body = body_of(&good);
        let garbled = match how {
            0 => {
                // one body byte changed: the CheckSum no longer matches
                let mut b = body.to_vec();
                let k = at.index(b.len());
                b[k] = if byte == b[k] { byte.wrapping_add(1) } else { byte };
                let mut g = good[..good.len() - 7 - body.len()].to_vec();
                g.extend_from_slice(&b);
                g.extend_from_slice(&good[good.len() - 7..]);
                g
            }
            1 => {
                let mut g = good.clone();
                let n = g.len();
                let cs = (checksum(&g[..n - 7]) as usize + 1 + at.index(255)) % 256;
                g[n - 4..n - 1].copy_from_slice(format!("{cs:03}").as_bytes());
                g
            }
            _ => {
                // any BodyLength but the right one, and but the one that lands exactly on
                // the next message's CheckSum (that swallows it, in QuickFIX too: the
                // gap is then recovered by a ResendRequest)
                let wrong = if len == body.len() { len + 1 } else { len };
                let wrong = if wrong == body.len() + good.len() { wrong + 1 } else { wrong };
                let mut g = format!("8=FIX.4.4\x019={wrong}\x01").into_bytes();
                g.extend_from_slice(&good[good.len() - 7 - body.len()..]);
                g
            }
        };
        s.on_bytes(&garbled, T0);
        let out = s.drain_outputs();
        prop_assert!(!out.iter().any(|o| matches!(o, Output::Send(_) | Output::Disconnect)), "{:?}", out);
        prop_assert_eq!(s.store().next_target_seq(), 2);
        s.on_bytes(&good, T0);
        let out = s.drain_outputs();
        let events: Vec<&Event> = out.iter().filter_map(|o| match o { Output::Event(e) => Some(e), _ => None }).collect();
        prop_assert!(
            matches!(events.last(), Some(Event::App(m)) if m.get_str(tags::CL_ORD_ID) == Some(id.as_str())),
            "{:?}", out
        );
        prop_assert!(!out.iter().any(|o| matches!(o, Output::Send(_) | Output::Disconnect)), "{:?}", out);
        prop_assert_eq!(s.store().next_target_seq(), 3);
        prop_assert!(s.is_logged_on());
    }
}
