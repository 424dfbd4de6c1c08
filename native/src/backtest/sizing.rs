//! Position sizing (`workbench.risk.PositionSizer`): fixed, fixed-fractional, volatility and
//! Kelly, from the closed trades' statistics.

use super::params::{Params, Sizing};
use crate::ticks::floor_eps;

/// `TradeStats` for Kelly sizing.
#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) wins: i64,
    pub(crate) losses: i64,
    pub(crate) sum_win: f64,
    pub(crate) sum_loss: f64,
}

impl Stats {
    pub(crate) fn record(&mut self, net: f64) {
        if net > 0.0 {
            self.wins += 1;
            self.sum_win += net;
        } else if net < 0.0 {
            self.losses += 1;
            self.sum_loss += -net;
        }
    }
}

/// `PositionSizer.size`.
pub(crate) fn size(p: &Params, st: &Stats, equity: f64, stop_ticks: i64, atr_ticks: i64) -> i64 {
    if p.sizing == Sizing::Fixed {
        return p.sizing_contracts;
    }
    let mut risk = p.risk_per_trade;
    if p.sizing == Sizing::Kelly {
        let count = st.wins + st.losses;
        if count >= p.kelly_min_trades && st.wins > 0 && st.losses > 0 {
            let w = st.wins as f64 / count as f64;
            let r = (st.sum_win / st.wins as f64) / (st.sum_loss / st.losses as f64);
            let f = w - (1.0 - w) / r;
            risk = (p.kelly_fraction * f).max(0.0).min(p.kelly_cap);
        }
    }
    let per_contract = if p.sizing == Sizing::Volatility {
        atr_ticks as f64 * p.tick_value
    } else {
        stop_ticks as f64 * p.tick_value
    };
    if per_contract <= 0.0 {
        return -1;
    }
    floor_eps(equity * risk / per_contract).max(0)
}
