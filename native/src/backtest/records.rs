//! What a simulation records: closed trades and risk events.

/// Closed trades, one entry per trade in each column (prices in ticks).
#[derive(Default, Debug, Clone)]
pub struct Trades {
    pub entry_bar: Vec<i64>,
    pub exit_bar: Vec<i64>,
    pub side: Vec<i64>,
    pub contracts: Vec<i64>,
    pub entry_px: Vec<i64>,
    pub exit_px: Vec<i64>,
    pub gross_pnl: Vec<f64>,
    pub commission: Vec<f64>,
    pub slippage_cost: Vec<f64>,
    pub net_pnl: Vec<f64>,
    pub exit_reason: Vec<i64>,
    pub exit_at_close: Vec<i64>,
}

/// Risk decisions and circuit breakers, one entry per event in each column.
#[derive(Default, Debug, Clone)]
pub struct Events {
    pub bar: Vec<i64>,
    pub action: Vec<i64>,
    pub reason: Vec<i64>,
    pub requested: Vec<i64>,
    pub approved: Vec<i64>,
}
