//! External data dictionaries in QuickFIX's XML format (`fix::dictionary_xml`): the built-in
//! FIX 4.4 dictionary exported and read back validates exactly like the built-in one; an
//! edited copy changes validation, over a live session too; bad files are named with a line.
#![cfg(feature = "fix")]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use _native::fix::data_dictionary::Dictionary;
use _native::fix::dictionary::{self, Rejection, SessionRejectReason as R};
use _native::fix::dictionary_xml::{self, DictionaryError};
use _native::fix::gateway::{Feed, Gateway, GatewayConfig, Pace};
use _native::fix::net;
use _native::fix::session::{Event, Role, SessionConfig};
use _native::fix::store::MemoryStore;
use _native::fix::tags::{self, msg_type as mt};
use _native::fix::{Decoder, Encoder, Message};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wb-fixdict-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn base(ty: &str) -> Message {
    let mut m = Message::of_type(ty.as_bytes());
    m.set(49, "A")
        .set(56, "B")
        .set(34, "2")
        .set(52, "20240102-10:00:00.000");
    m
}

fn nos() -> Message {
    let mut m = base("D");
    m.set(11, "c1")
        .set(55, "MCLZ5")
        .set(54, "1")
        .set(60, "20240102-10:00:00.000");
    m.set(40, "2").set(38, "1").set(44, "70.5");
    m
}

fn er() -> Message {
    let mut m = base("8");
    for (t, v) in [
        (37, "o1"),
        (17, "e1"),
        (150, "F"),
        (39, "2"),
        (55, "MCLZ5"),
        (54, "2"),
        (151, "0"),
        (14, "1"),
        (6, "70.5"),
    ] {
        m.set(t, v);
    }
    m.push(136, "1")
        .push(137, "0.25")
        .push(138, "USD")
        .push(139, "4");
    m
}

/// Good and bad messages covering every check of the validator.
fn corpus() -> Vec<(&'static str, Message)> {
    let mut v = vec![("nos", nos()), ("er", er())];
    let mut edit = |name: &'static str, mut m: Message, f: &dyn Fn(&mut Message)| {
        f(&mut m);
        v.push((name, m));
    };
    edit("logon", base("A"), &|m| {
        m.set(98, "0").set(108, "30").set(141, "Y");
    });
    edit("parties", nos(), &|m| {
        m.push(453, "2");
        m.push(448, "T1").push(447, "D").push(452, "11");
        m.push(448, "F").push(447, "D").push(452, "1");
    });
    edit("hops", nos(), &|m| {
        m.set(627, "1").set(628, "X");
    });
    edit("no side", nos(), &|m| {
        m.remove(54);
    });
    edit("no sender", nos(), &|m| {
        m.remove(49);
    });
    edit("bad side", nos(), &|m| {
        m.set(54, "Z");
    });
    edit("bad qty", nos(), &|m| {
        m.set(38, "1x");
    });
    edit("bad time", nos(), &|m| {
        m.set(60, "2024-01-02");
    });
    edit("bad month", nos(), &|m| {
        m.set(200, "2024");
    });
    edit("bad bool", base("4"), &|m| {
        m.set(36, "5").set(123, "X");
    });
    edit("empty text", nos(), &|m| {
        m.set(58, "");
    });
    edit("not in message", nos(), &|m| {
        m.set(123, "Y");
    });
    edit("invalid tag", nos(), &|m| {
        m.set(3000, "x");
    });
    edit("aggressor", er(), &|m| {
        m.set(1057, "Y");
    });
    edit("user defined", nos(), &|m| {
        m.set(5001, "x");
    });
    edit("twice", nos(), &|m| {
        m.push(38, "2");
    });
    edit("count", nos(), &|m| {
        m.push(453, "2").push(448, "T1").push(452, "11");
    });
    edit("group order", nos(), &|m| {
        m.push(453, "1").push(452, "11").push(448, "T1");
    });
    edit("negative seq", base("2"), &|m| {
        m.set(7, "-1").set(16, "0");
    });
    edit("bad msgtype", base("ZZ"), &|m| {
        m.set(58, "x");
    });
    edit("unsupported", base("V"), &|_| {});
    edit("replay", base("U1"), &|m| {
        m.set(60, "20240102-10:00:00.000").set(5005, "N");
    });
    edit("reject", base("3"), &|m| {
        m.set(45, "3").set(371, "54").set(373, "5");
    });
    edit("bad reject reason", base("3"), &|m| {
        m.set(45, "3").set(373, "42");
    });
    v
}

fn check(d: Option<&Dictionary>, m: &Message) -> Result<(), Rejection> {
    let frame = Encoder::default().to_vec(m);
    let mut dec = Decoder::new();
    let v = dec.decode(&frame).unwrap();
    match d {
        Some(d) => d.validate(&v),
        None => dictionary::validate(&v),
    }
}

fn session_reason(r: Result<(), Rejection>) -> Option<(R, Option<u32>)> {
    match r {
        Err(Rejection::Session {
            reason, ref_tag, ..
        }) => Some((reason, ref_tag)),
        _ => None,
    }
}

fn exported(dir: &Path) -> (PathBuf, String) {
    let path = dir.join("FIX44.xml");
    dictionary_xml::write(Dictionary::builtin(), &path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    (path, text)
}

#[test]
fn the_exported_dictionary_reads_back_and_validates_like_the_builtin() {
    let dir = scratch("roundtrip");
    let (path, text) = exported(&dir);
    assert!(text.starts_with("<fix type=\"FIX\" major=\"4\" minor=\"4\""));
    assert!(text.contains("<field number=\"54\" name=\"Side\" type=\"CHAR\">"));
    let loaded = dictionary_xml::load(&path).unwrap();
    assert!(
        &loaded == Dictionary::builtin(),
        "same dictionary after a round trip"
    );
    assert!(
        loaded.fields().all(|f| !f.name.is_empty()),
        "every field named"
    );
    let mut rejected = 0;
    for (name, m) in corpus() {
        let want = check(None, &m);
        rejected += usize::from(want.is_err());
        assert_eq!(check(Some(&loaded), &m), want, "{name}");
    }
    assert_eq!(rejected, 18, "the corpus has good and bad messages");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `text` with the first `from` after `anchor` replaced by `to`.
fn edit_after(text: &str, anchor: &str, from: &str, to: &str) -> String {
    let a = text
        .find(anchor)
        .unwrap_or_else(|| panic!("{anchor} not in the file"));
    let i = a + text[a..]
        .find(from)
        .unwrap_or_else(|| panic!("{from} not after {anchor}"));
    format!("{}{to}{}", &text[..i], &text[i + from.len()..])
}

fn edited(dir: &Path) -> PathBuf {
    let (_, text) = exported(dir);
    // Account (1) required in NewOrderSingle; OrdType (40) 4 (stop limit) removed.
    let text = edit_after(
        &text,
        "<message name=\"NewOrderSingle\"",
        "<field name=\"Account\" required=\"N\"/>",
        "<field name=\"Account\" required=\"Y\"/>",
    );
    let text = edit_after(
        &text,
        "name=\"OrdType\" type=\"CHAR\">",
        "   <value enum=\"4\"/>\n",
        "",
    );
    let path = dir.join("FIX44-edited.xml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn an_edited_copy_changes_validation() {
    let dir = scratch("edited");
    let d = dictionary_xml::load(&edited(&dir)).unwrap();
    let mut with_account = nos();
    with_account.set(1, "ACC");
    check(Some(&d), &with_account).unwrap();
    assert_eq!(
        session_reason(check(Some(&d), &nos())),
        Some((R::RequiredTagMissing, Some(1)))
    );
    check(None, &nos()).unwrap();
    let mut stop_limit = with_account.clone();
    stop_limit.set(40, "4").set(99, "70");
    check(None, &stop_limit).unwrap();
    assert_eq!(
        session_reason(check(Some(&d), &stop_limit)),
        Some((R::ValueIsIncorrect, Some(40)))
    );
    // the other messages are untouched
    check(Some(&d), &er()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_fix_exchange_rejects_by_an_edited_dictionary() {
    let dir = scratch("live");
    let d = Arc::new(dictionary_xml::load(&edited(&dir)).unwrap());
    let t0 = 1_700_000_000_000_000_000u64;
    let feed = Feed::from_records(Vec::new(), 7, "MCLM4");
    let mut cfg = GatewayConfig::new("127.0.0.1:0".parse().unwrap());
    cfg.pace = Pace::HoldAt(t0);
    cfg.dictionary = Some(d);
    let mut gw = Gateway::start(cfg, feed).unwrap();
    let addr = gw.local_addr();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let icfg = SessionConfig::new(Role::Initiator, "CLIENT", "EXCH");
        let mut h = net::initiate(addr, icfg, MemoryStore::new(net::now_ns()))
            .await
            .unwrap();
        let wait = Duration::from_secs(10);
        assert!(h.wait_for(wait, |e| *e == Event::LoggedOn).await.is_some());
        let mut m = Message::of_type(mt::NEW_ORDER_SINGLE);
        m.push(tags::CL_ORD_ID, "n1")
            .push(tags::SYMBOL, "MCLM4")
            .push(tags::SIDE, "1")
            .set_timestamp(tags::TRANSACT_TIME, net::now_ns(), Default::default());
        m.push_int(tags::ORDER_QTY, 1).push(tags::ORD_TYPE, "1");
        let seq = h.send(m).await.unwrap();
        let r = h
            .wait_for(wait, |e| matches!(e, Event::RejectReceived(_)))
            .await;
        let Some(Event::RejectReceived(r)) = r else {
            panic!("no Reject")
        };
        assert_eq!(r.get(tags::REF_SEQ_NUM), Some(seq.to_string().as_bytes()));
        assert_eq!(r.get(tags::SESSION_REJECT_REASON), Some(&b"1"[..]));
        assert_eq!(r.get(tags::REF_TAG_ID), Some(&b"1"[..]));
        h.logout(None);
        h.join().await.unwrap();
    });
    assert_eq!(gw.stats().session_rejects, 1);
    gw.stop().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

fn load_err(text: &str) -> String {
    let path = Path::new("/tmp/bad-FIX44.xml");
    match dictionary_xml::parse(text, path) {
        Err(e @ DictionaryError::Invalid { .. }) => e.to_string(),
        other => panic!("expected an error, got {other:?}"),
    }
}

const SMALL: &str = r#"<fix type="FIX" major="4" minor="4">
 <header>
  <field name="BeginString" required="Y"/>
  <field name="SenderCompID" required="Y"/>
 </header>
 <trailer>
  <field name="CheckSum" required="Y"/>
 </trailer>
 <messages>
  <message name="NewOrderSingle" msgtype="D" msgcat="app">
   <field name="ClOrdID" required="Y"/>
   <component name="Parties" required="Y"/>
  </message>
 </messages>
 <components>
  <component name="Parties">
   <group name="NoPartyIDs" required="Y">
    <field name="PartyID" required="Y"/>
    <field name="PartyRole" required="Y"/>
    <group name="NoPartySubIDs" required="N">
     <field name="PartySubID" required="Y"/>
    </group>
   </group>
  </component>
 </components>
 <fields>
  <field number="8" name="BeginString" type="STRING"/>
  <field number="10" name="CheckSum" type="STRING"/>
  <field number="11" name="ClOrdID" type="STRING"/>
  <field number="49" name="SenderCompID" type="STRING"/>
  <field number="448" name="PartyID" type="STRING"/>
  <field number="452" name="PartyRole" type="INT"/>
  <field number="453" name="NoPartyIDs" type="NUMINGROUP"/>
  <field number="523" name="PartySubID" type="STRING"/>
  <field number="802" name="NoPartySubIDs" type="NUMINGROUP"/>
 </fields>
</fix>
"#;

#[test]
fn components_and_nested_groups_are_read() {
    let d = dictionary_xml::parse(SMALL, Path::new("small.xml")).unwrap();
    let mut m = Message::of_type(b"D");
    m.set(49, "A").set(11, "c1");
    m.push(453, "2");
    m.push(448, "P1").push(452, "1").push(802, "2");
    m.push(523, "s1").push(523, "s2");
    m.push(448, "P2").push(452, "3");
    check(Some(&d), &m).unwrap();
    let mut no_role = Message::of_type(b"D");
    no_role.set(49, "A").set(11, "c1");
    no_role.push(453, "1").push(448, "P1");
    assert_eq!(
        session_reason(check(Some(&d), &no_role)),
        Some((R::RequiredTagMissing, Some(452)))
    );
    let mut no_parties = Message::of_type(b"D");
    no_parties.set(49, "A").set(11, "c1");
    assert_eq!(
        session_reason(check(Some(&d), &no_parties)),
        Some((R::RequiredTagMissing, Some(453)))
    );
}

#[test]
fn bad_files_are_named_with_a_line() {
    let e = load_err("<fix major=\"4\" minor=\"4\">\n <header>\n</fix>\n");
    assert!(
        e.starts_with("data dictionary /tmp/bad-FIX44.xml, line 3: not well-formed XML"),
        "{e}"
    );
    let bad_ref = SMALL.replace(
        "<field name=\"ClOrdID\" required=\"Y\"/>",
        "<field name=\"ClOrdId\" required=\"Y\"/>",
    );
    assert_eq!(
        load_err(&bad_ref),
        "data dictionary /tmp/bad-FIX44.xml, line 11: field ClOrdId is not defined in <fields>"
    );
    let bad_type = SMALL.replace(
        "name=\"PartyRole\" type=\"INT\"",
        "name=\"PartyRole\" type=\"INTEGER\"",
    );
    assert_eq!(
        load_err(&bad_type),
        "data dictionary /tmp/bad-FIX44.xml, line 32: field PartyRole: unknown type \"INTEGER\""
    );
    let bad_req = SMALL.replace(
        "<component name=\"Parties\" required=\"Y\"/>",
        "<component name=\"Parties\" required=\"yes\"/>",
    );
    assert_eq!(
        load_err(&bad_req),
        "data dictionary /tmp/bad-FIX44.xml, line 12: required=\"yes\" must be \"Y\" or \"N\""
    );
    let e = load_err("<dictionary/>");
    assert!(
        e.contains("line 1: the root element is <dictionary>, not <fix>"),
        "{e}"
    );
    let missing = dictionary_xml::load(Path::new("/nonexistent/FIX44.xml")).unwrap_err();
    assert!(missing
        .to_string()
        .starts_with("data dictionary /nonexistent/FIX44.xml: "));
}
