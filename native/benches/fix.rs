//! Criterion benchmarks of the FIX codec: encode and decode (with CheckSum verification) of a
//! NewOrderSingle and an ExecutionReport. `cargo bench --bench fix`.

use std::hint::black_box;
use std::time::Duration;

use _native::fix::codec::TimePrecision;
use _native::fix::tags::{self, msg_type as mt};
use _native::fix::{Decoder, Encoder, Message};
use criterion::{criterion_group, criterion_main, Criterion};

const NOW: i64 = 1_704_205_800_123_456_789;

fn header(m: &mut Message) {
    m.push(tags::SENDER_COMP_ID, "CLIENT")
        .push(tags::TARGET_COMP_ID, "EXCH")
        .push_int(tags::MSG_SEQ_NUM, 123_456)
        .set_timestamp(tags::SENDING_TIME, NOW, TimePrecision::Millis);
}

fn new_order_single() -> Message {
    let mut m = Message::of_type(mt::NEW_ORDER_SINGLE);
    header(&mut m);
    m.push(tags::CL_ORD_ID, "ORD-000123456")
        .push(tags::ACCOUNT, "PAPER1")
        .push(tags::HANDL_INST, "1")
        .push(tags::SYMBOL, "MCLZ5")
        .push(tags::SECURITY_EXCHANGE, "NYMEX")
        .push(tags::SIDE, "1")
        .set_timestamp(tags::TRANSACT_TIME, NOW, TimePrecision::Micros);
    m.push(tags::ORDER_QTY, "3")
        .push(tags::ORD_TYPE, "2")
        .push(tags::PRICE, "71.25")
        .push(tags::TIME_IN_FORCE, "0");
    m
}

fn execution_report() -> Message {
    let mut m = Message::of_type(mt::EXECUTION_REPORT);
    header(&mut m);
    m.push(tags::ORDER_ID, "X-987654321")
        .push(tags::CL_ORD_ID, "ORD-000123456")
        .push(tags::EXEC_ID, "EX-5551212")
        .push(tags::EXEC_TYPE, "F")
        .push(tags::ORD_STATUS, "1")
        .push(tags::ACCOUNT, "PAPER1")
        .push(tags::SYMBOL, "MCLZ5")
        .push(tags::SIDE, "1")
        .push(tags::ORDER_QTY, "3")
        .push(tags::ORD_TYPE, "2")
        .push(tags::PRICE, "71.25")
        .push(tags::LAST_QTY, "1")
        .push(tags::LAST_PX, "71.25")
        .push(tags::LEAVES_QTY, "2")
        .push(tags::CUM_QTY, "1")
        .push(tags::AVG_PX, "71.25")
        .set_timestamp(tags::TRANSACT_TIME, NOW, TimePrecision::Micros);
    m
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("fix_codec");
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    for (name, msg) in [
        ("new_order_single", new_order_single()),
        ("execution_report", execution_report()),
    ] {
        let mut enc = Encoder::default();
        let mut out = Vec::with_capacity(512);
        g.bench_function(format!("encode_{name}"), |b| {
            b.iter(|| {
                out.clear();
                enc.encode(black_box(&msg), &mut out);
                black_box(out.len())
            })
        });
        let frame = enc.to_vec(&msg);
        let mut dec = Decoder::new();
        g.bench_function(format!("decode_{name}"), |b| {
            b.iter(|| {
                let v = dec.decode(black_box(&frame)).unwrap();
                black_box(v.get(tags::CL_ORD_ID));
            })
        });
        g.bench_function(format!("decode_validate_{name}"), |b| {
            b.iter(|| {
                let v = dec.decode(black_box(&frame)).unwrap();
                _native::fix::dictionary::validate(&v).unwrap();
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
