//! Prints encode and decode times of a NewOrderSingle and an ExecutionReport: the median and
//! the best of 200 batches of 2,000 operations (the best batch is the figure least disturbed
//! by other work on a shared machine). `cargo run --release --example fix_codec_timing`.

use std::hint::black_box;
use std::time::Instant;

use _native::fix::codec::TimePrecision;
use _native::fix::tags::{self, msg_type as mt};
use _native::fix::{Decoder, Encoder, Message};

const NOW: i64 = 1_704_205_800_123_456_789;

fn header(m: &mut Message) {
    m.push(tags::SENDER_COMP_ID, "CLIENT")
        .push(tags::TARGET_COMP_ID, "EXCH")
        .push_int(tags::MSG_SEQ_NUM, 123_456)
        .set_timestamp(tags::SENDING_TIME, NOW, TimePrecision::Millis);
}

fn messages() -> [(&'static str, Message); 2] {
    let mut nos = Message::of_type(mt::NEW_ORDER_SINGLE);
    header(&mut nos);
    nos.push(tags::CL_ORD_ID, "ORD-000123456")
        .push(tags::ACCOUNT, "PAPER1")
        .push(tags::HANDL_INST, "1")
        .push(tags::SYMBOL, "MCLZ5")
        .push(tags::SECURITY_EXCHANGE, "NYMEX")
        .push(tags::SIDE, "1")
        .set_timestamp(tags::TRANSACT_TIME, NOW, TimePrecision::Micros);
    nos.push(tags::ORDER_QTY, "3")
        .push(tags::ORD_TYPE, "2")
        .push(tags::PRICE, "71.25")
        .push(tags::TIME_IN_FORCE, "0");
    let mut er = Message::of_type(mt::EXECUTION_REPORT);
    header(&mut er);
    for (t, v) in [
        (tags::ORDER_ID, "X-987654321"),
        (tags::CL_ORD_ID, "ORD-000123456"),
        (tags::EXEC_ID, "EX-5551212"),
        (tags::EXEC_TYPE, "F"),
        (tags::ORD_STATUS, "1"),
        (tags::ACCOUNT, "PAPER1"),
        (tags::SYMBOL, "MCLZ5"),
        (tags::SIDE, "1"),
        (tags::ORDER_QTY, "3"),
        (tags::ORD_TYPE, "2"),
        (tags::PRICE, "71.25"),
        (tags::LAST_QTY, "1"),
        (tags::LAST_PX, "71.25"),
        (tags::LEAVES_QTY, "2"),
        (tags::CUM_QTY, "1"),
        (tags::AVG_PX, "71.25"),
    ] {
        er.push(t, v);
    }
    er.set_timestamp(tags::TRANSACT_TIME, NOW, TimePrecision::Micros);
    [("NewOrderSingle", nos), ("ExecutionReport", er)]
}

fn time(mut f: impl FnMut()) -> (f64, f64) {
    const N: usize = 2_000;
    let mut per: Vec<f64> = (0..200)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..N {
                f();
            }
            t.elapsed().as_nanos() as f64 / N as f64
        })
        .collect();
    per.sort_by(f64::total_cmp);
    (per[per.len() / 2], per[0])
}

fn main() {
    for (name, msg) in messages() {
        let mut enc = Encoder::default();
        let mut out = Vec::with_capacity(512);
        let (med, best) = time(|| {
            out.clear();
            enc.encode(black_box(&msg), &mut out);
            black_box(out.len());
        });
        let frame = enc.to_vec(&msg);
        println!(
            "{name:16} {:3} bytes  encode  median {med:6.1} ns  best {best:6.1} ns",
            frame.len()
        );
        let mut dec = Decoder::new();
        let (med, best) = time(|| {
            let v = dec.decode(black_box(&frame)).unwrap();
            black_box(v.get(tags::CL_ORD_ID));
        });
        println!(
            "{name:16} {:3} bytes  decode  median {med:6.1} ns  best {best:6.1} ns",
            frame.len()
        );
    }
}
