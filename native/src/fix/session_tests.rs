//! The FIX 4.4 Volume 2 session scenarios, each against the state machine (no socket, a
//! caller-supplied clock).

use super::codec::{Decoder, Encoder, Message};
use super::dictionary::{Rejection, SessionRejectReason};
use super::session::*;
use super::store::{FileStore, MemoryStore, MessageStore};
use super::tags::{self, msg_type as mt};

const SEC: i64 = 1_000_000_000;
/// 2024-01-02 12:00:00 UTC
const T0: i64 = 1_704_196_800 * SEC;

/// One side of a conversation: its session, the frames it sent, and its events.
struct Peer<S: MessageStore = MemoryStore> {
    s: Session<S>,
    sent: Vec<Message>,
    events: Vec<Event>,
    disconnected: bool,
}

impl<S: MessageStore> Peer<S> {
    fn new(s: Session<S>) -> Self {
        Self {
            s,
            sent: Vec::new(),
            events: Vec::new(),
            disconnected: false,
        }
    }

    /// Takes the outputs; returns the frames sent (raw).
    fn take(&mut self) -> Vec<Vec<u8>> {
        let mut frames = Vec::new();
        while let Some(o) = self.s.poll_output() {
            match o {
                Output::Send(f) => {
                    let mut d = Decoder::new();
                    self.sent.push(d.decode(&f).unwrap().to_message());
                    frames.push(f);
                }
                Output::Disconnect => self.disconnected = true,
                Output::Event(e) => self.events.push(e),
            }
        }
        frames
    }

    fn last_sent(&self) -> &Message {
        self.sent.last().expect("nothing sent")
    }

    fn sent_since(&self, n: usize) -> &[Message] {
        &self.sent[n..]
    }

    fn apps(&self) -> Vec<&Message> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::App(m) => Some(m),
                _ => None,
            })
            .collect()
    }
}

fn client() -> Peer {
    let mut cfg = SessionConfig::new(Role::Initiator, "CLIENT", "EXCH");
    cfg.heartbeat_interval = 30;
    Peer::new(Session::new(cfg, MemoryStore::new(T0 - SEC)))
}

fn exchange() -> Peer {
    let cfg = SessionConfig::new(Role::Acceptor, "EXCH", "CLIENT");
    Peer::new(Session::new(cfg, MemoryStore::new(T0 - SEC)))
}

/// Moves frames both ways until both sides are quiet.
fn pump<A: MessageStore, B: MessageStore>(a: &mut Peer<A>, b: &mut Peer<B>, now: i64) {
    loop {
        let fa = a.take();
        for f in &fa {
            if !b.disconnected {
                b.s.on_bytes(f, now);
            }
        }
        let fb = b.take();
        for f in &fb {
            if !a.disconnected {
                a.s.on_bytes(f, now);
            }
        }
        if fa.is_empty() && fb.is_empty() {
            break;
        }
    }
}

fn logged_on_pair() -> (Peer, Peer) {
    let (mut c, mut x) = (client(), exchange());
    x.s.on_connect(T0);
    c.s.on_connect(T0);
    pump(&mut c, &mut x, T0);
    assert!(c.s.is_logged_on() && x.s.is_logged_on());
    (c, x)
}

fn nos(id: &str) -> Message {
    let mut m = Message::of_type(mt::NEW_ORDER_SINGLE);
    m.push(tags::CL_ORD_ID, id)
        .push(tags::SYMBOL, "MCLZ5")
        .push(tags::SIDE, "1")
        .push(tags::TRANSACT_TIME, "20240102-12:00:00.000")
        .push(tags::ORDER_QTY, "1")
        .push(tags::ORD_TYPE, "2")
        .push(tags::PRICE, "70.25");
    m
}

/// A frame from CLIENT to EXCH with `seq`, built by hand (to break the rules).
fn raw(seq: u64, ty: &[u8], fields: &[(u32, &str)], now: i64) -> Vec<u8> {
    let mut m = Message::of_type(ty);
    m.push(tags::SENDER_COMP_ID, "CLIENT")
        .push(tags::TARGET_COMP_ID, "EXCH")
        .push_int(tags::MSG_SEQ_NUM, seq as i64)
        .set_timestamp(tags::SENDING_TIME, now, Default::default());
    for (t, v) in fields {
        m.push(*t, v);
    }
    Encoder::default().to_vec(&m)
}

fn nos_fields(id: &str) -> Vec<(u32, &str)> {
    vec![
        (11, id),
        (55, "MCLZ5"),
        (54, "1"),
        (60, "20240102-12:00:00.000"),
        (38, "1"),
        (40, "2"),
        (44, "70.25"),
    ]
}

fn ty(m: &Message) -> &str {
    m.get_str(tags::MSG_TYPE).unwrap()
}

fn seqs<S: MessageStore>(p: &Peer<S>) -> (u64, u64) {
    (p.s.store().next_sender_seq(), p.s.store().next_target_seq())
}

#[test]
fn logon_exchange() {
    let (c, x) = logged_on_pair();
    assert_eq!(ty(&c.sent[0]), "A");
    assert_eq!(c.sent[0].get_str(tags::HEART_BT_INT), Some("30"));
    assert_eq!(c.sent[0].get_str(tags::ENCRYPT_METHOD), Some("0"));
    assert_eq!(ty(&x.sent[0]), "A");
    assert_eq!(x.sent[0].get_str(tags::HEART_BT_INT), Some("30"));
    assert!(c.events.contains(&Event::LoggedOn) && x.events.contains(&Event::LoggedOn));
    assert_eq!(seqs(&c), (2, 2));
    assert_eq!(seqs(&x), (2, 2));
    assert_eq!(x.s.heartbeat_ns(), 30 * SEC);
}

#[test]
fn application_messages_flow_in_sequence() {
    let (mut c, mut x) = logged_on_pair();
    assert_eq!(c.s.send(nos("o1"), T0 + SEC).unwrap(), 2);
    assert_eq!(c.s.send(nos("o2"), T0 + SEC).unwrap(), 3);
    pump(&mut c, &mut x, T0 + SEC);
    let ids: Vec<_> = x
        .apps()
        .iter()
        .map(|m| m.get_str(11).unwrap().to_string())
        .collect();
    assert_eq!(ids, ["o1", "o2"]);
    assert_eq!(seqs(&x), (2, 4));
    assert!(matches!(
        c.s.send(Message::of_type(b"0"), T0),
        Err(SendError::AdminMessage(_))
    ));
}

#[test]
fn first_message_must_be_logon() {
    let mut x = exchange();
    x.s.on_connect(T0);
    x.s.on_bytes(&raw(1, b"D", &nos_fields("o1"), T0), T0);
    x.take();
    assert!(x.disconnected && x.sent.is_empty());
}

#[test]
fn logon_timeout_disconnects() {
    let mut c = client();
    c.s.on_connect(T0);
    c.s.on_timer(T0 + 9 * SEC);
    c.take();
    assert!(!c.disconnected);
    c.s.on_timer(T0 + 10 * SEC);
    c.take();
    assert!(c.disconnected);
}

#[test]
fn heartbeat_after_interval_without_sending() {
    let (mut c, mut x) = logged_on_pair();
    let n = c.sent.len();
    c.s.on_timer(T0 + 29 * SEC);
    c.take();
    assert_eq!(c.sent.len(), n);
    // the exchange heard something recently: keep its receive clock fresh
    c.s.on_timer(T0 + 30 * SEC);
    c.take();
    assert_eq!(ty(c.last_sent()), "0");
    assert!(c.last_sent().get(tags::TEST_REQ_ID).is_none());
    let _ = &mut x;
}

#[test]
fn test_request_on_silence_answered_by_heartbeat() {
    let (mut c, mut x) = logged_on_pair();
    // the client keeps sending heartbeats; the exchange hears nothing for 36 s
    let t = T0 + 36 * SEC;
    x.s.on_timer(t);
    x.take();
    let tr = x.last_sent().clone();
    assert_eq!(ty(&tr), "1");
    let id = tr.get_str(tags::TEST_REQ_ID).unwrap().to_string();
    // the client answers with a Heartbeat carrying the TestReqID
    c.s.on_bytes(
        &Encoder::default().to_vec(&{
            let mut m = tr.clone();
            m.remove(8);
            m
        }),
        t,
    );
    let hb = c.take();
    assert_eq!(ty(c.last_sent()), "0", "{:?}", c.events);
    assert_eq!(c.last_sent().get_str(tags::TEST_REQ_ID), Some(id.as_str()));
    x.s.on_bytes(&hb[0], t);
    x.s.on_timer(t + 40 * SEC); // 40 s after the answer: a new test request, no disconnect
    x.take();
    assert!(!x.disconnected);
    assert_eq!(ty(x.last_sent()), "1");
}

#[test]
fn unanswered_test_request_disconnects() {
    let (_c, mut x) = logged_on_pair();
    x.s.on_timer(T0 + 36 * SEC);
    x.take();
    assert_eq!(ty(x.last_sent()), "1");
    x.s.on_timer(T0 + 71 * SEC);
    x.take();
    assert!(!x.disconnected);
    x.s.on_timer(T0 + 72 * SEC);
    x.take();
    assert!(x.disconnected);
    assert!(x.events.contains(&Event::Disconnected(
        "Timed out waiting for heartbeat".into()
    )));
}

#[test]
fn gap_detected_and_recovered_by_resend() {
    let (mut c, mut x) = logged_on_pair();
    // the client sends o1..o3 (seq 2..4), only seq 4 reaches the exchange
    for id in ["o1", "o2", "o3"] {
        c.s.send(nos(id), T0 + SEC).unwrap();
    }
    let frames = c.take();
    let n = x.sent.len();
    x.s.on_bytes(&frames[2], T0 + SEC);
    let rr_frames = x.take();
    let rr = &x.sent_since(n)[0];
    assert_eq!(ty(rr), "2");
    assert_eq!(rr.get_str(tags::BEGIN_SEQ_NO), Some("2"));
    assert_eq!(rr.get_str(tags::END_SEQ_NO), Some("0"));
    assert!(x.apps().is_empty());
    // a second too-high message does not ask again
    c.s.send(nos("o4"), T0 + SEC).unwrap();
    let f5 = c.take();
    x.s.on_bytes(&f5[0], T0 + SEC);
    x.take();
    assert_eq!(x.sent.len(), n + 1);
    // the client answers the ResendRequest: o1..o4 with PossDupFlag and OrigSendingTime
    for f in &rr_frames {
        c.s.on_bytes(f, T0 + 2 * SEC);
    }
    pump(&mut c, &mut x, T0 + 2 * SEC);
    let resent: Vec<_> = c.sent.iter().filter(|m| m.get(43) == Some(b"Y")).collect();
    assert_eq!(resent.len(), 4);
    for m in &resent {
        assert_eq!(
            m.get_str(tags::ORIG_SENDING_TIME),
            Some("20240102-12:00:01.000")
        );
        assert_eq!(m.get_str(tags::SENDING_TIME), Some("20240102-12:00:02.000"));
    }
    let ids: Vec<_> = x
        .apps()
        .iter()
        .map(|m| m.get_str(11).unwrap().to_string())
        .collect();
    assert_eq!(ids, ["o1", "o2", "o3", "o4"]);
    assert_eq!(seqs(&x).1, 6);
    assert!(x.s.is_logged_on());
}

#[test]
fn resend_request_gap_fills_admin_messages() {
    let (mut c, mut x) = logged_on_pair();
    // client: 2 = o1, 3 = heartbeat, 4 = heartbeat, 5 = o2
    c.s.send(nos("o1"), T0 + SEC).unwrap();
    c.s.on_timer(T0 + 31 * SEC);
    c.s.on_timer(T0 + 61 * SEC);
    c.s.send(nos("o2"), T0 + 61 * SEC).unwrap();
    pump(&mut c, &mut x, T0 + 61 * SEC);
    let n = c.sent.len();
    c.s.on_bytes(
        &{
            let mut m = Message::of_type(b"2");
            m.push(49, "EXCH")
                .push(56, "CLIENT")
                .push_int(34, seqs(&x).0 as i64);
            m.set_timestamp(52, T0 + 62 * SEC, Default::default());
            m.push(7, "1").push(16, "0");
            Encoder::default().to_vec(&m)
        },
        T0 + 62 * SEC,
    );
    c.take();
    let out: Vec<String> = c
        .sent_since(n)
        .iter()
        .map(|m| {
            format!(
                "{}:{}:{}",
                ty(m),
                m.get_str(34).unwrap(),
                m.get_str(36).or(m.get_str(11)).unwrap_or("")
            )
        })
        .collect();
    // 1 = Logon -> gap fill to 2; o1; 3,4 heartbeats -> gap fill to 5; o2
    assert_eq!(out, ["4:1:2", "D:2:o1", "4:3:5", "D:5:o2"]);
    for m in c.sent_since(n) {
        assert_eq!(m.get_str(43), Some("Y"));
        if ty(m) == "4" {
            assert_eq!(m.get_str(123), Some("Y"));
        }
    }
    assert_eq!(seqs(&c).0, 6); // resends do not take new numbers
}

#[test]
fn too_low_without_possdup_logs_out() {
    let (_c, mut x) = logged_on_pair();
    x.s.on_bytes(&raw(1, b"0", &[], T0), T0);
    x.take();
    let l = x.last_sent();
    assert_eq!(ty(l), "5");
    assert_eq!(
        l.get_str(58),
        Some("MsgSeqNum too low, expecting 2 but received 1")
    );
    assert!(x.disconnected);
}

#[test]
fn possdup_too_low_is_ignored_or_rejected_without_orig_sending_time() {
    let (_c, mut x) = logged_on_pair();
    x.s.on_bytes(&raw(2, b"D", &nos_fields("o1"), T0), T0);
    let mut f = nos_fields("o1");
    f.extend([(43, "Y"), (122, "20240102-12:00:00.000")]);
    x.take();
    let n = x.sent.len();
    x.s.on_bytes(&raw(2, b"D", &f, T0 + SEC), T0 + SEC);
    x.take();
    assert_eq!(x.sent.len(), n, "a duplicate is ignored");
    assert_eq!(x.apps().len(), 1);
    // PossDupFlag without OrigSendingTime: Reject 373=1 on 122
    let mut f = nos_fields("o1");
    f.push((43, "Y"));
    x.s.on_bytes(&raw(2, b"D", &f, T0 + SEC), T0 + SEC);
    x.take();
    let r = x.last_sent();
    assert_eq!(ty(r), "3");
    assert_eq!(r.get_str(373), Some("1"));
    assert_eq!(r.get_str(371), Some("122"));
    assert_eq!(r.get_str(45), Some("2"));
    // OrigSendingTime after SendingTime: Reject 373=10 and Logout
    let mut f = nos_fields("o1");
    f.extend([(43, "Y"), (122, "20240102-12:00:09.000")]);
    x.s.on_bytes(&raw(2, b"D", &f, T0 + SEC), T0 + SEC);
    x.take();
    assert_eq!(ty(&x.sent[x.sent.len() - 2]), "3");
    assert_eq!(x.sent[x.sent.len() - 2].get_str(373), Some("10"));
    assert_eq!(ty(x.last_sent()), "5");
    assert!(x.disconnected);
    assert_eq!(seqs(&x).1, 3);
}

#[test]
fn sequence_reset_gap_fill_and_reset() {
    let (_c, mut x) = logged_on_pair();
    // GapFill 2 -> 10
    x.s.on_bytes(
        &raw(
            2,
            b"4",
            &[
                (43, "Y"),
                (122, "20240102-12:00:00.000"),
                (123, "Y"),
                (36, "10"),
            ],
            T0,
        ),
        T0,
    );
    x.take();
    assert_eq!(seqs(&x).1, 10);
    // GapFill with a too-high seq: ResendRequest
    let n = x.sent.len();
    x.s.on_bytes(&raw(12, b"4", &[(123, "Y"), (36, "15")], T0), T0);
    x.take();
    assert_eq!(ty(&x.sent[n]), "2");
    // Reset mode ignores sequence numbers: seq 1, NewSeqNo 20
    x.s.on_bytes(&raw(1, b"4", &[(36, "20")], T0), T0);
    x.take();
    assert_eq!(seqs(&x).1, 20);
    assert!(x.s.is_logged_on());
    // NewSeqNo lower than expected: Reject 373=5 on 36, sequence unchanged
    x.s.on_bytes(&raw(1, b"4", &[(36, "5")], T0), T0);
    x.take();
    let r = x.last_sent();
    assert_eq!(
        (ty(r), r.get_str(373), r.get_str(371)),
        ("3", Some("5"), Some("36"))
    );
    assert_eq!(seqs(&x).1, 20);
}

#[test]
fn garbled_frames_are_ignored() {
    let (_c, mut x) = logged_on_pair();
    let mut bad = raw(2, b"D", &nos_fields("o1"), T0);
    let k = bad.len() - 2;
    bad[k] = if bad[k] == b'0' { b'1' } else { b'0' }; // checksum
    let n = x.sent.len();
    x.s.on_bytes(&bad, T0);
    x.s.on_bytes(b"garbage\x01", T0);
    x.take();
    assert_eq!(x.sent.len(), n, "no reply to garbled frames");
    assert!(x.events.iter().any(|e| matches!(e, Event::Garbled(_))));
    assert_eq!(seqs(&x).1, 2, "no sequence number consumed");
    // a good message with the same number is then processed
    let good = raw(2, b"D", &nos_fields("o1"), T0);
    // split across reads too
    x.s.on_bytes(&good[..10], T0);
    x.s.on_bytes(&good[10..], T0);
    x.take();
    assert_eq!(x.apps().len(), 1);
    assert!(!x.disconnected);
}

#[test]
fn invalid_messages_get_session_and_business_rejects() {
    let (_c, mut x) = logged_on_pair();
    let mut f = nos_fields("o1");
    f.retain(|(t, _)| *t != 54);
    x.s.on_bytes(&raw(2, b"D", &f, T0), T0);
    x.take();
    let r = x.last_sent();
    assert_eq!(ty(r), "3");
    assert_eq!(
        (
            r.get_str(45),
            r.get_str(371),
            r.get_str(372),
            r.get_str(373)
        ),
        (Some("2"), Some("54"), Some("D"), Some("1"))
    );
    assert_eq!(seqs(&x).1, 3, "a rejected message consumes its number");
    let mut f = nos_fields("o2");
    f[2] = (54, "X");
    x.s.on_bytes(&raw(3, b"D", &f, T0), T0);
    x.take();
    assert_eq!(x.last_sent().get_str(373), Some("5"));
    // MarketDataRequest: a FIX 4.4 type this engine does not speak
    x.s.on_bytes(&raw(4, b"V", &[(262, "r1")], T0), T0);
    x.take();
    let r = x.last_sent();
    assert_eq!(
        (ty(r), r.get_str(380), r.get_str(372), r.get_str(45)),
        ("j", Some("3"), Some("V"), Some("4"))
    );
    // not a MsgType at all
    x.s.on_bytes(&raw(5, b"ZZ", &[], T0), T0);
    x.take();
    assert_eq!(x.last_sent().get_str(373), Some("11"));
    assert_eq!(seqs(&x).1, 6);
    assert!(x.apps().is_empty());
    assert!(x.s.is_logged_on());
}

#[test]
fn comp_id_and_sending_time_problems() {
    let (_c, mut x) = logged_on_pair();
    let mut m = Message::of_type(b"0");
    m.push(49, "INTRUDER").push(56, "EXCH").push(34, "2");
    m.set_timestamp(52, T0, Default::default());
    x.s.on_bytes(&Encoder::default().to_vec(&m), T0);
    x.take();
    let r = &x.sent[x.sent.len() - 2];
    assert_eq!(
        (ty(r), r.get_str(373), r.get_str(371)),
        ("3", Some("9"), Some("49"))
    );
    assert_eq!(ty(x.last_sent()), "5");
    assert!(x.disconnected);

    let (_c, mut x) = logged_on_pair();
    x.s.on_bytes(&raw(2, b"0", &[], T0 - 121 * SEC), T0);
    x.take();
    let r = &x.sent[x.sent.len() - 2];
    assert_eq!(
        (ty(r), r.get_str(373), r.get_str(371)),
        ("3", Some("10"), Some("52"))
    );
    assert!(x.disconnected);
}

#[test]
fn missing_msg_seq_num_logs_out() {
    let (_c, mut x) = logged_on_pair();
    let mut m = Message::of_type(b"0");
    m.push(49, "CLIENT").push(56, "EXCH");
    m.set_timestamp(52, T0, Default::default());
    x.s.on_bytes(&Encoder::default().to_vec(&m), T0);
    x.take();
    assert_eq!(x.last_sent().get_str(58), Some("MsgSeqNum(34) missing"));
    assert!(x.disconnected);
}

#[test]
fn logout_exchange_and_timeout() {
    let (mut c, mut x) = logged_on_pair();
    c.s.logout(Some("done"), T0 + SEC);
    pump(&mut c, &mut x, T0 + SEC);
    assert_eq!(ty(c.last_sent()), "5");
    assert_eq!(ty(x.last_sent()), "5");
    assert!(c.disconnected && x.disconnected);
    assert!(x.events.contains(&Event::LoggedOut(Some("done".into()))));
    assert!(c.events.contains(&Event::LoggedOut(None)));
    // no answer: disconnect after the logout timeout
    let (mut c, _x) = logged_on_pair();
    c.s.logout(None, T0);
    c.take();
    c.s.on_timer(T0 + SEC);
    c.take();
    assert!(!c.disconnected);
    c.s.on_timer(T0 + 2 * SEC);
    c.take();
    assert!(c.disconnected);
}

#[test]
fn reset_seq_num_flag_on_logon() {
    let (mut c, mut x) = logged_on_pair();
    for i in 0..5 {
        c.s.send(nos(&format!("o{i}")), T0).unwrap();
    }
    pump(&mut c, &mut x, T0);
    c.s.logout(None, T0);
    pump(&mut c, &mut x, T0);
    assert_eq!(seqs(&c), (8, 3));
    // reconnect, asking for a reset: both sides start again from 1
    let mut cfg = c.s.config().clone();
    cfg.reset_on_logon = true;
    let store = c.s.store().clone();
    let mut c = Peer::new(Session::new(cfg, store));
    x.disconnected = false;
    x.s.on_connect(T0 + SEC);
    c.s.on_connect(T0 + SEC);
    pump(&mut c, &mut x, T0 + SEC);
    assert!(c.s.is_logged_on() && x.s.is_logged_on());
    assert_eq!(c.sent[0].get_str(141), Some("Y"));
    assert_eq!(c.sent[0].get_str(34), Some("1"));
    assert_eq!(x.last_sent().get_str(141), Some("Y"));
    assert_eq!(x.last_sent().get_str(34), Some("1"));
    assert_eq!((seqs(&c), seqs(&x)), ((2, 2), (2, 2)));
}

#[test]
fn logon_with_too_high_seq_then_resend() {
    let (mut c, mut x) = (client(), exchange());
    c.s.store_mut().set_next_sender_seq(5).unwrap();
    x.s.on_connect(T0);
    c.s.on_connect(T0);
    pump(&mut c, &mut x, T0);
    // the exchange logged on, asked for 1..0, the client gap-filled, all in sequence now
    assert!(x.s.is_logged_on());
    assert!(x.sent.iter().any(|m| ty(m) == "2"));
    assert_eq!(seqs(&x).1, 6);
    assert_eq!(seqs(&c).1, 3);
}

#[test]
fn logon_with_too_low_seq_is_refused() {
    let (mut c, mut x) = (client(), exchange());
    x.s.store_mut().set_next_target_seq(10).unwrap();
    x.s.on_connect(T0);
    c.s.on_connect(T0);
    pump(&mut c, &mut x, T0);
    assert!(x.disconnected);
    assert_eq!(
        x.last_sent().get_str(58),
        Some("MsgSeqNum too low, expecting 10 but received 1")
    );
}

#[test]
fn logout_answering_our_logon_reports_its_reason() {
    // the initiator's Logon is too low for the acceptor, which logs out saying why (found
    // against QuickFIX: the reason was lost as "non-Logon message before Logon")
    let (mut c, mut x) = (client(), exchange());
    x.s.store_mut().set_next_target_seq(10).unwrap();
    x.s.on_connect(T0);
    c.s.on_connect(T0);
    pump(&mut c, &mut x, T0);
    let why = "MsgSeqNum too low, expecting 10 but received 1";
    assert!(
        c.events.contains(&Event::LoggedOut(Some(why.into()))),
        "{:?}",
        c.events
    );
    assert!(c.disconnected && !c.events.contains(&Event::LoggedOn));
    assert_eq!(seqs(&c), (3, 2), "Logout answered, as QuickFIX does");
    // a Logout before we sent a Logon (acceptor side) is still a protocol error
    let mut x = exchange();
    x.s.on_connect(T0);
    x.s.on_bytes(&raw(1, b"5", &[], T0), T0);
    x.take();
    assert!(x.disconnected && x.sent.is_empty());
    assert!(!x.events.iter().any(|e| matches!(e, Event::LoggedOut(_))));
}

#[test]
fn restart_resumes_the_sequence_from_a_file_store() {
    let dir = std::env::temp_dir().join(format!("wb-fix-session-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let open = || {
        let cfg = SessionConfig::new(Role::Initiator, "CLIENT", "EXCH");
        Peer::new(Session::new(
            cfg,
            FileStore::open(&dir, "FIX.4.4-CLIENT-EXCH", T0).unwrap(),
        ))
    };
    let mut x = exchange();
    {
        let mut c = open();
        x.s.on_connect(T0);
        c.s.on_connect(T0);
        pump(&mut c, &mut x, T0);
        c.s.send(nos("o1"), T0).unwrap();
        c.s.send(nos("o2"), T0).unwrap();
        pump(&mut c, &mut x, T0);
        c.s.on_disconnect(T0); // crash: no logout
        x.s.on_disconnect(T0);
    }
    let mut c = open();
    assert_eq!(seqs(&c), (4, 2));
    x.disconnected = false;
    x.s.on_connect(T0 + SEC);
    c.s.on_connect(T0 + SEC);
    pump(&mut c, &mut x, T0 + SEC);
    assert!(c.s.is_logged_on() && x.s.is_logged_on());
    assert_eq!(c.sent[0].get_str(34), Some("4"));
    assert_eq!(seqs(&x).1, 5);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn schedule_refuses_logon_outside_and_resets_on_a_new_period() {
    let s = Schedule::daily((13, 0, 0), (20, 0, 0));
    assert!(!s.is_session_time(T0)); // 12:00
    assert!(s.is_session_time(T0 + 3600 * SEC));
    let overnight = Schedule::daily((22, 0, 0), (21, 0, 0));
    assert!(overnight.is_session_time(T0));
    assert!(!overnight.is_session_time(T0 + 9 * 3600 * SEC + 1)); // 21:00:00+
    assert_eq!(overnight.period_start(T0), T0 - 14 * 3600 * SEC);

    let mut x = exchange();
    let mut cfg = x.s.config().clone();
    cfg.schedule = Some(s);
    x = Peer::new(Session::new(cfg, MemoryStore::new(T0 - 86_400 * SEC)));
    let mut c = client();
    x.s.on_connect(T0);
    c.s.on_connect(T0);
    pump(&mut c, &mut x, T0);
    assert!(x.disconnected && !x.s.is_logged_on());
    // inside the window, with yesterday's store: reset, then logon at 1
    x.s.store_mut().set_next_target_seq(50).unwrap();
    let t = T0 + 3600 * SEC;
    let mut c = client();
    x.disconnected = false;
    x.s.on_connect(t);
    x.take();
    assert!(x.events.contains(&Event::SequenceReset));
    c.s.on_connect(t);
    pump(&mut c, &mut x, t);
    assert!(x.s.is_logged_on());
    // the window ends: the exchange logs out
    x.s.on_timer(T0 + 8 * 3600 * SEC);
    x.take();
    assert_eq!(x.last_sent().get_str(58), Some("Session end"));
}

#[test]
fn rejection_types_are_reported() {
    let (_c, mut x) = logged_on_pair();
    x.s.on_bytes(&raw(2, b"D", &[(11, "x")], T0), T0);
    x.take();
    assert!(x.events.iter().any(|e| matches!(
        e,
        Event::Rejected(Rejection::Session {
            reason: SessionRejectReason::RequiredTagMissing,
            ..
        })
    )));
}
