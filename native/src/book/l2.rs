//! The L2 (market-by-price, 10 levels) book of one instrument, from MBP-10 records.

use dbn::{flags, BidAskPair, Mbp10Msg, UNDEF_PRICE};

use super::l3::{empty_pair, CrossState};
use super::level::{LevelView, Side};

/// An L2 book for one instrument: the ten levels per side of the last MBP-10
/// record, replaced whole by every record (MBP-10 records carry the full
/// ten-level book after their event).
#[derive(Debug, Clone)]
pub struct L2Book {
    instrument_id: u32,
    levels: [BidAskPair; 10],
    ts_event: u64,
    ts_recv: u64,
    sequence: u32,
    consistent: bool,
}

impl Default for L2Book {
    fn default() -> Self {
        L2Book::new(0)
    }
}

impl L2Book {
    /// An empty book for `instrument_id`.
    pub fn new(instrument_id: u32) -> Self {
        L2Book {
            instrument_id,
            levels: [empty_pair(); 10],
            ts_event: 0,
            ts_recv: 0,
            sequence: 0,
            consistent: true,
        }
    }

    /// Replaces the levels with those of `msg`.
    pub fn apply(&mut self, msg: &Mbp10Msg) {
        self.levels = msg.levels;
        self.ts_event = msg.hd.ts_event;
        self.ts_recv = msg.ts_recv;
        self.sequence = msg.sequence;
        self.consistent = msg.flags.raw() & flags::LAST != 0;
    }

    /// The instrument this book belongs to.
    pub fn instrument_id(&self) -> u32 {
        self.instrument_id
    }

    /// `ts_event` of the last record applied.
    pub fn ts_event(&self) -> u64 {
        self.ts_event
    }

    /// `ts_recv` of the last record applied.
    pub fn ts_recv(&self) -> u64 {
        self.ts_recv
    }

    /// Sequence number of the last record applied.
    pub fn sequence(&self) -> u32 {
        self.sequence
    }

    /// `true` when the last record had `F_LAST` (or none yet).
    pub fn is_consistent(&self) -> bool {
        self.consistent
    }

    /// The raw ten level pairs (Databento layout).
    pub fn pairs(&self) -> &[BidAskPair; 10] {
        &self.levels
    }

    /// Levels of `side`, best first, stopping at the first empty level.
    pub fn depth(&self, side: Side, n: usize) -> Vec<LevelView> {
        self.levels
            .iter()
            .map(|p| match side {
                Side::Bid => (p.bid_px, p.bid_sz, p.bid_ct),
                Side::Ask => (p.ask_px, p.ask_sz, p.ask_ct),
            })
            .take_while(|&(px, sz, _)| px != UNDEF_PRICE && sz > 0)
            .take(n)
            .map(|(price, sz, count)| LevelView {
                price,
                size: u64::from(sz),
                count,
            })
            .collect()
    }

    /// Best bid level, if any.
    pub fn best_bid(&self) -> Option<LevelView> {
        self.depth(Side::Bid, 1).first().copied()
    }

    /// Best ask level, if any.
    pub fn best_ask(&self) -> Option<LevelView> {
        self.depth(Side::Ask, 1).first().copied()
    }

    /// Best ask minus best bid; `None` if a side is empty.
    pub fn spread(&self) -> Option<i64> {
        self.best_ask()?.price.checked_sub(self.best_bid()?.price)
    }

    /// Mid price, rounded toward negative infinity; `None` if a side is empty.
    pub fn mid(&self) -> Option<i64> {
        let (b, a) = (self.best_bid()?.price, self.best_ask()?.price);
        Some(((i128::from(a) + i128::from(b)).div_euclid(2)) as i64)
    }

    /// `(bid - ask) / (bid + ask)` over the best `levels` levels per side.
    pub fn imbalance(&self, levels: usize) -> Option<f64> {
        let b: u64 = self.depth(Side::Bid, levels).iter().map(|l| l.size).sum();
        let a: u64 = self.depth(Side::Ask, levels).iter().map(|l| l.size).sum();
        if a + b == 0 {
            return None;
        }
        Some((b as f64 - a as f64) / (b as f64 + a as f64))
    }

    /// Whether the inside market is normal, locked or crossed.
    pub fn cross_state(&self) -> CrossState {
        match (self.best_bid(), self.best_ask()) {
            (Some(b), Some(a)) if b.price > a.price => CrossState::Crossed,
            (Some(b), Some(a)) if b.price == a.price => CrossState::Locked,
            _ => CrossState::Normal,
        }
    }
}
