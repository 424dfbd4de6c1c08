//! Times the backtest kernel on synthetic bars: `cargo run --release --example kernel_timing`
//! (risk management off; `RISK=1` turns it on).
use std::time::Instant;

use _native::backtest::{simulate, Inputs, Params, Sizing, StopMode};

fn main() {
    let n = 737_010usize;
    let mut price = 7000.0f64;
    let (mut o, mut h, mut l, mut c, mut d) = (vec![], vec![], vec![], vec![], vec![]);
    let mut sig = Vec::with_capacity(n);
    let mut seed: u64 = 1;
    for i in 0..n {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let step = ((seed >> 33) % 7) as f64 - 3.0;
        let op = price;
        price += step;
        o.push(op / 100.0);
        c.push(price / 100.0);
        h.push(op.max(price) / 100.0 + 0.01);
        l.push(op.min(price) / 100.0 - 0.01);
        d.push(0.1);
        sig.push(if (i / 50) % 2 == 0 { 1i8 } else { -1 });
    }
    let day_starts: Vec<i64> = (1..(n as i64 / 1380)).map(|d| d * 1380).collect();
    let p = Params {
        initial_capital: 5_000.0,
        commission: 1.25,
        slippage_ticks: 1,
        tick_value: 1.0,
        tick_size: 0.01,
        multiplier: 100.0,
        use_risk: std::env::var("RISK").is_ok(),
        roll: true,
        fixed_contracts: 1,
        stop_mode: StopMode::Atr,
        stop_pct: 0.01,
        stop_usd: 50.0,
        target_r: None,
        sizing: Sizing::FixedFractional,
        sizing_contracts: 1,
        kelly_fraction: 0.5,
        kelly_cap: 0.25,
        kelly_min_trades: 30,
        risk_per_trade: 0.02,
        daily_loss_limit: 0.05,
        max_position: 5,
        max_exposure: 20.0,
        max_consecutive_losses: 5,
        intraday_drawdown_limit: 0.04,
        max_drawdown_limit: 0.2,
        cooloff_days: 5,
        initial_margin: 0.0,
        maintenance_margin: 0.0,
    };
    for _ in 0..6 {
        let t1 = Instant::now();
        let x = Inputs {
            tick: 0.01,
            inv_tick: 1.0 / 0.01,
            open: &o,
            high: &h,
            low: &l,
            close: &c,
            signal: &sig,
            signal_off: 0,
            stop_distance: &d,
            day_starts: &day_starts,
            rolls: &[],
            entry_ok: None,
            force_flat: None,
        };
        let out = simulate(&x, &p);
        let t2 = Instant::now();
        println!("simulate {:?}  trades {}", t2 - t1, out.trades.len());
    }
}
