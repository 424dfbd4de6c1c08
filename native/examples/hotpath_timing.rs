//! Times the hot-path kernels one bar at a time: `cargo run --release --example hotpath_timing`.
//!
//! For each incremental indicator, each strategy signal and the pre-trade check: the mean
//! nanoseconds per update over a long synthetic series (throughput, the state kept hot by a
//! tight loop), then the bar-to-decision path (signal update + risk check, as the live engine
//! calls them) timed one bar at a time as a latency distribution (p50, p99, p99.9, max).
use std::hint::black_box;
use std::time::Instant;

use _native::indicators::incremental::{Donchian, Ema, RollingMax, RollingMeanStd, WilderAtr};
use _native::risk::{PreTradeLimits, PreTradeRisk};
use _native::signals::{BollingerReversion, DonchianBreakout, EmaCrossover};

const N: usize = 2_000_000;

struct Bars {
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
}

/// A random walk on the $0.01 grid around $70.
fn bars(n: usize) -> Bars {
    let (mut high, mut low, mut close) = (vec![], vec![], vec![]);
    let mut ticks = 7000i64;
    let mut seed: u64 = 1;
    for _ in 0..n {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let open = ticks;
        ticks += ((seed >> 33) % 7) as i64 - 3;
        close.push(ticks as f64 / 100.0);
        high.push((open.max(ticks) + ((seed >> 40) % 3) as i64) as f64 / 100.0);
        low.push((open.min(ticks) - ((seed >> 45) % 3) as i64) as f64 / 100.0);
    }
    Bars { high, low, close }
}

fn per_update(name: &str, n: usize, mut f: impl FnMut(usize)) {
    f(0); // warm the code
    let t = Instant::now();
    for i in 0..n {
        f(i);
    }
    let ns = t.elapsed().as_nanos() as f64 / n as f64;
    println!("{name:<44} {ns:8.1} ns/update");
}

fn limits() -> PreTradeLimits {
    PreTradeLimits {
        daily_loss_limit: 0.05,
        max_position: 5,
        max_exposure: 20.0,
        max_consecutive_losses: 5,
        intraday_drawdown_limit: 0.04,
        max_drawdown_limit: 0.2,
        cooloff_days: 5,
        tick_size: 0.01,
        multiplier: 100.0,
        max_orders_per_minute: Some(30),
    }
}

fn main() {
    let b = bars(N);
    let (h, l, c) = (&b.high, &b.low, &b.close);
    println!("{N} synthetic one-minute bars; mean time per update (a tight loop)\n");

    let mut ema = Ema::new(50, 50).unwrap();
    per_update("Ema(50)", N, |i| {
        black_box(ema.update(c[i]).unwrap());
    });
    let mut atr = WilderAtr::new(14, 2.0).unwrap();
    per_update("WilderAtr(14)", N, |i| {
        black_box(atr.update(h[i], l[i], c[i]).unwrap());
    });
    for p in [20, 100] {
        let mut m = RollingMeanStd::new(p, 0).unwrap();
        per_update(
            &format!("RollingMeanStd({p}) (Bollinger mid, std)"),
            N,
            |i| {
                black_box(m.update(c[i]));
            },
        );
    }
    let mut mx = RollingMax::new(55).unwrap();
    per_update("RollingMax(55)", N, |i| {
        black_box(mx.update(h[i]));
    });
    let mut don = Donchian::new(55).unwrap();
    per_update("Donchian(55) (max + min)", N, |i| {
        black_box(don.update(h[i], l[i]));
    });

    println!();
    let mut ema_x = EmaCrossover::new(20, 50, 14, 2.0, true).unwrap();
    per_update("EmaCrossover(20, 50) + ATR stop", N, |i| {
        black_box(ema_x.update(h[i], l[i], c[i]).unwrap());
    });
    let mut boll = BollingerReversion::new(20, 2.0, 0.0, 14, 2.0, true).unwrap();
    per_update("BollingerReversion(20, 2.0) + ATR stop", N, |i| {
        black_box(boll.update(h[i], l[i], c[i]).unwrap());
    });
    let mut brk = DonchianBreakout::new(55, 20, 14, 2.0, true).unwrap();
    per_update("DonchianBreakout(55, 20) + ATR stop", N, |i| {
        black_box(brk.update(h[i], l[i], c[i]).unwrap());
    });

    println!();
    let mut risk = PreTradeRisk::new(limits());
    let minute = 60_000_000_000i64;
    per_update("PreTradeRisk: start_bar + check_entry + end_bar", N, |i| {
        let ts = i as i64 * minute;
        risk.start_bar(i as i64, i as i64 / 1380, 50_000.0);
        black_box(
            risk.check_entry(3, 7_000, 50_000.0, true, None, ts)
                .unwrap(),
        );
        risk.end_bar(50_000.0);
        if i % 4096 == 0 {
            risk.take_events(); // a live session drains its log
        }
    });
    let mut kill = PreTradeRisk::new(limits());
    kill.kill();
    per_update("PreTradeRisk: check_entry (rejected)", N, |i| {
        black_box(
            kill.check_entry(3, 7_000, 50_000.0, true, None, i as i64)
                .unwrap(),
        );
        if i % 4096 == 0 {
            kill.take_events();
        }
    });

    // Bar to decision, one bar at a time: the signal, then (on a change) the risk check.
    let mut sig = BollingerReversion::new(20, 2.0, 0.0, 14, 2.0, true).unwrap();
    let mut risk = PreTradeRisk::new(limits());
    let mut lat = Vec::with_capacity(N);
    let mut prev = 0i8;
    let mut decisions = 0u64;
    for i in 0..N {
        let t = Instant::now();
        let s = sig.update(h[i], l[i], c[i]).unwrap();
        risk.start_bar(i as i64, i as i64 / 1380, 50_000.0);
        if s != prev && s != 0 {
            let d = risk
                .check_entry(2, 7_000, 50_000.0, true, None, i as i64 * minute)
                .unwrap();
            decisions += (d.approved > 0) as u64;
        }
        risk.end_bar(50_000.0);
        prev = s;
        lat.push(t.elapsed().as_nanos() as u64);
        if i % 4096 == 0 {
            risk.take_events();
        }
    }
    let t0 = Instant::now();
    let mut clock = 0u64;
    for _ in 0..N / 10 {
        let t = Instant::now();
        clock += t.elapsed().as_nanos() as u64;
    }
    let clock_ns = clock as f64 / (N / 10) as f64;
    black_box(t0);
    lat.sort_unstable();
    let q = |p: f64| lat[((lat.len() - 1) as f64 * p) as usize];
    println!(
        "\nbar -> BollingerReversion signal -> pre-trade check ({decisions} entries approved), \
         per bar, timer included (an empty timing reads {clock_ns:.0} ns):\n  p50 {} ns, p99 {} \
         ns, p99.9 {} ns, max {} ns",
        q(0.5),
        q(0.99),
        q(0.999),
        lat[lat.len() - 1]
    );
}
