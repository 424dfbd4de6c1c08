//! The L3 (market-by-order) book of one instrument.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use dbn::{flags, MboMsg, UNDEF_PRICE};

use super::error::BookError;
use super::level::{
    IdBuild, Ladder, Level, LevelView, Node, Order, QueuePosition, Side, Slab, NIL,
};

/// What applying one record did to the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// `A`: a new order was added at the back of its level.
    Added,
    /// `A` with the `F_TOB` flag: the side was replaced by this one level
    /// (top-of-book publishers; not seen on CME).
    ReplacedTop,
    /// `C`: the order's size was reduced by the record's size; `remaining == 0`
    /// means the order left the book.
    Cancelled {
        /// Size left on the order.
        remaining: u32,
    },
    /// `M` of a known order.
    Modified {
        /// `true` when the order kept its queue position (same price, size not increased).
        priority_kept: bool,
    },
    /// `M` to size zero: handled as a full cancel.
    ModifiedToZero,
    /// `M` of an order id the book has never seen: handled as an add
    /// (policy of Databento's reference books and of nautilus_trader).
    ModifiedUnknownAsAdd,
    /// `R`: the book was emptied.
    Cleared,
    /// `F`, `T` or `N`: the book is unchanged by design.
    Unchanged,
}

/// Counters of the integrity policy (see the module docs of [`crate::book`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IntegrityCounts {
    /// Cancels of order ids never seen (skipped).
    pub unknown_cancels: u64,
    /// Modifies of order ids never seen (added).
    pub modify_as_add: u64,
    /// Cancels for more than the order's remaining size (order removed whole).
    pub cancel_excess: u64,
    /// Modifies to size zero (order removed).
    pub modify_to_zero: u64,
    /// Fills and trades with side `N` (auction fills; ignored like every F and T).
    pub side_none_trades: u64,
    /// Snapshot runs that began without a preceding `R` on a non-empty book
    /// (the book was cleared first).
    pub implicit_clears: u64,
    /// Records refused with a [`BookError`] (book unchanged).
    pub refused: u64,
    /// Event boundaries (`F_LAST`) at which the book was crossed (best bid > best ask).
    pub crossed_boundaries: u64,
}

impl IntegrityCounts {
    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &IntegrityCounts) {
        self.unknown_cancels += other.unknown_cancels;
        self.modify_as_add += other.modify_as_add;
        self.cancel_excess += other.cancel_excess;
        self.modify_to_zero += other.modify_to_zero;
        self.side_none_trades += other.side_none_trades;
        self.implicit_clears += other.implicit_clears;
        self.refused += other.refused;
        self.crossed_boundaries += other.crossed_boundaries;
    }
}

/// The state of the inside market.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrossState {
    /// Best bid < best ask, or a side is empty.
    Normal,
    /// Best bid == best ask.
    Locked,
    /// Best bid > best ask (pre-open, before the auction uncrosses).
    Crossed,
}

/// An L3 order book for one instrument, built from Databento MBO records.
///
/// Prices are DBN fixed point (`i64`, 1 unit = 1e-9), timestamps `u64` ns
/// since the UNIX epoch, taken from the records only.
#[derive(Debug, Clone)]
pub struct L3Book {
    instrument_id: u32,
    bids: Ladder,
    asks: Ladder,
    slab: Slab,
    index: HashMap<u64, u32, IdBuild>,
    ts_event: u64,
    ts_recv: u64,
    sequence: u32,
    consistent: bool,
    in_snapshot: bool,
    integrity: IntegrityCounts,
}

impl Default for L3Book {
    fn default() -> Self {
        L3Book::new(0)
    }
}

impl L3Book {
    /// An empty book for `instrument_id`.
    pub fn new(instrument_id: u32) -> Self {
        L3Book::with_order_capacity(instrument_id, 0)
    }

    /// An empty book for `instrument_id` with room for `orders` resting
    /// orders before its order-id index grows.
    pub fn with_order_capacity(instrument_id: u32, orders: usize) -> Self {
        L3Book {
            instrument_id,
            bids: Ladder::new(Side::Bid),
            asks: Ladder::new(Side::Ask),
            slab: Slab::default(),
            index: HashMap::with_capacity_and_hasher(orders, IdBuild::default()),
            ts_event: 0,
            ts_recv: 0,
            sequence: 0,
            consistent: true,
            in_snapshot: false,
            integrity: IntegrityCounts::default(),
        }
    }

    /// Applies one MBO record.
    ///
    /// On `Err` the orders are unchanged and the error is counted in
    /// [`integrity`](Self::integrity)`().refused`; the clock fields and the
    /// event-boundary state still advance.
    pub fn apply(&mut self, msg: &MboMsg) -> Result<Applied, BookError> {
        let fl = msg.flags.raw();
        self.ts_event = msg.hd.ts_event;
        self.ts_recv = msg.ts_recv;
        self.sequence = msg.sequence;
        let is_last = fl & flags::LAST != 0;
        let snapshot = fl & flags::SNAPSHOT != 0;
        if snapshot {
            if !self.in_snapshot {
                self.in_snapshot = true;
                if msg.action as u8 != b'R' && !self.index.is_empty() {
                    self.integrity.implicit_clears += 1;
                    self.clear();
                }
            }
        } else {
            self.in_snapshot = false;
        }
        let res = self.apply_action(msg, fl);
        self.consistent = is_last;
        if is_last && self.cross_state() == CrossState::Crossed {
            self.integrity.crossed_boundaries += 1;
        }
        if res.is_err() {
            self.integrity.refused += 1;
        }
        res
    }

    #[inline]
    fn apply_action(&mut self, msg: &MboMsg, fl: u8) -> Result<Applied, BookError> {
        let action = msg.action as u8;
        match action {
            b'A' => {
                let side = side_of(msg, 'A')?;
                if fl & flags::TOB != 0 {
                    // Validate first so that a refused record leaves the book unchanged.
                    if msg.price != UNDEF_PRICE {
                        if msg.size == 0 {
                            return Err(BookError::ZeroSize(msg.order_id));
                        }
                        if let Some(&slot) = self.index.get(&msg.order_id) {
                            if self.slab.get(slot).side != side {
                                return Err(BookError::DuplicateOrder(msg.order_id));
                            }
                        }
                    }
                    self.clear_side(side);
                    if msg.price != UNDEF_PRICE {
                        self.add(side, msg.order_id, msg.price, msg.size)?;
                    }
                    return Ok(Applied::ReplacedTop);
                }
                self.add(side, msg.order_id, msg.price, msg.size)?;
                Ok(Applied::Added)
            }
            b'C' => self.cancel(msg),
            b'M' => self.modify(msg),
            b'R' => {
                self.clear();
                Ok(Applied::Cleared)
            }
            b'F' | b'T' | b'N' => {
                if msg.side as u8 == b'N' && action != b'N' {
                    self.integrity.side_none_trades += 1;
                }
                Ok(Applied::Unchanged)
            }
            other => Err(BookError::UnknownAction(other)),
        }
    }

    #[inline]
    fn ladder_mut(&mut self, side: Side) -> &mut Ladder {
        match side {
            Side::Bid => &mut self.bids,
            Side::Ask => &mut self.asks,
        }
    }

    #[inline]
    fn ladder(&self, side: Side) -> &Ladder {
        match side {
            Side::Bid => &self.bids,
            Side::Ask => &self.asks,
        }
    }

    fn add(&mut self, side: Side, order_id: u64, price: i64, size: u32) -> Result<(), BookError> {
        if size == 0 {
            return Err(BookError::ZeroSize(order_id));
        }
        if price == UNDEF_PRICE {
            return Err(BookError::UndefinedPrice(order_id));
        }
        let slot = match self.index.entry(order_id) {
            Entry::Occupied(_) => return Err(BookError::DuplicateOrder(order_id)),
            Entry::Vacant(v) => {
                let slot = self.slab.alloc(Node {
                    order_id,
                    price,
                    size,
                    side,
                    level: NIL,
                    prev: NIL,
                    next: NIL,
                });
                v.insert(slot);
                slot
            }
        };
        let ladder = match side {
            Side::Bid => &mut self.bids,
            Side::Ask => &mut self.asks,
        };
        ladder.insert_order(&mut self.slab, slot);
        Ok(())
    }

    /// Removes the order in `slot` from its level (dropping an emptied level),
    /// from the index and from the slab.
    fn remove_slot(&mut self, slot: u32) {
        let (side, order_id) = {
            let n = self.slab.get(slot);
            (n.side, n.order_id)
        };
        let ladder = match side {
            Side::Bid => &mut self.bids,
            Side::Ask => &mut self.asks,
        };
        ladder.remove_order(&mut self.slab, slot);
        self.index.remove(&order_id);
        self.slab.release(slot);
    }

    fn cancel(&mut self, msg: &MboMsg) -> Result<Applied, BookError> {
        side_of(msg, 'C')?;
        // One hash lookup: the entry is removed in place on a full cancel.
        let entry = match self.index.entry(msg.order_id) {
            Entry::Occupied(e) => e,
            Entry::Vacant(_) => {
                self.integrity.unknown_cancels += 1;
                return Err(BookError::UnknownOrder(msg.order_id));
            }
        };
        let slot = *entry.get();
        let (side, size) = {
            let n = self.slab.get(slot);
            (n.side, n.size)
        };
        let ladder = match side {
            Side::Bid => &mut self.bids,
            Side::Ask => &mut self.asks,
        };
        if msg.size >= size {
            if msg.size > size {
                self.integrity.cancel_excess += 1;
            }
            entry.remove();
            ladder.remove_order(&mut self.slab, slot);
            self.slab.release(slot);
            return Ok(Applied::Cancelled { remaining: 0 });
        }
        let remaining = size - msg.size;
        ladder.resize_order(&mut self.slab, slot, remaining);
        Ok(Applied::Cancelled { remaining })
    }

    fn modify(&mut self, msg: &MboMsg) -> Result<Applied, BookError> {
        let side = side_of(msg, 'M')?;
        let Some(&slot) = self.index.get(&msg.order_id) else {
            self.add(side, msg.order_id, msg.price, msg.size)?;
            self.integrity.modify_as_add += 1;
            return Ok(Applied::ModifiedUnknownAsAdd);
        };
        let (old_side, old_price, old_size) = {
            let n = self.slab.get(slot);
            (n.side, n.price, n.size)
        };
        if old_side != side {
            return Err(BookError::SideChanged {
                order_id: msg.order_id,
            });
        }
        if msg.size == 0 {
            self.remove_slot(slot);
            self.integrity.modify_to_zero += 1;
            return Ok(Applied::ModifiedToZero);
        }
        if msg.price == UNDEF_PRICE {
            return Err(BookError::UndefinedPrice(msg.order_id));
        }
        let ladder = match side {
            Side::Bid => &mut self.bids,
            Side::Ask => &mut self.asks,
        };
        if msg.price == old_price {
            if msg.size <= old_size {
                ladder.resize_order(&mut self.slab, slot, msg.size);
                return Ok(Applied::Modified {
                    priority_kept: true,
                });
            }
            // Size increase: loses priority, goes to the back of the same level.
            ladder.requeue_order(&mut self.slab, slot, msg.size);
            return Ok(Applied::Modified {
                priority_kept: false,
            });
        }
        // Price change: loses priority, goes to the back of the new level.
        ladder.remove_order(&mut self.slab, slot);
        {
            let n = self.slab.get_mut(slot);
            n.price = msg.price;
            n.size = msg.size;
        }
        ladder.insert_order(&mut self.slab, slot);
        Ok(Applied::Modified {
            priority_kept: false,
        })
    }

    /// Whether the best 10 levels of either side may have changed since the
    /// last call (conservative: `true` can mean unchanged, `false` never
    /// hides a change). Used by the replayer to skip refilling snapshots.
    pub fn take_top_changed(&mut self) -> bool {
        let b = self.bids.take_dirty();
        let a = self.asks.take_dirty();
        (b | a) != 0
    }

    /// Brings `out` (the best `out.len()` levels per side, as last written by
    /// [`fill_levels`](Self::fill_levels) or by this method for this book)
    /// up to date, rewriting only the levels changed since then (a size
    /// change rewrites its level, a level added or removed those from it
    /// outward). The replayer's snapshot path.
    #[inline]
    pub(crate) fn refresh_levels(&mut self, out: &mut [dbn::BidAskPair]) {
        let b = self.bids.take_dirty();
        self.bids.fill_mask(out, b, put_bid, empty_bid);
        let a = self.asks.take_dirty();
        self.asks.fill_mask(out, a, put_ask, empty_ask);
    }

    /// Empties the book (orders, levels, index); keeps the counters.
    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
        self.index.clear();
        self.slab.clear();
    }

    fn clear_side(&mut self, side: Side) {
        let ladder = std::mem::replace(self.ladder_mut(side), Ladder::new(side));
        for (_, level) in ladder.iter_best() {
            let mut cur = level.head;
            while cur != NIL {
                let n = *self.slab.get(cur);
                self.index.remove(&n.order_id);
                self.slab.release(cur);
                cur = n.next;
            }
        }
    }

    // ----------------------------------------------------------------- queries

    /// The instrument this book belongs to.
    pub fn instrument_id(&self) -> u32 {
        self.instrument_id
    }

    /// `ts_event` of the last record applied (ns since the UNIX epoch).
    pub fn ts_event(&self) -> u64 {
        self.ts_event
    }

    /// `ts_recv` of the last record applied.
    pub fn ts_recv(&self) -> u64 {
        self.ts_recv
    }

    /// Venue sequence number of the last record applied.
    pub fn sequence(&self) -> u32 {
        self.sequence
    }

    /// `true` at an event boundary: the last record applied had `F_LAST` (or none yet).
    pub fn is_consistent(&self) -> bool {
        self.consistent
    }

    /// `true` while records with the `SNAPSHOT` flag are being applied.
    pub fn in_snapshot(&self) -> bool {
        self.in_snapshot
    }

    /// Counters of the integrity policy.
    pub fn integrity(&self) -> IntegrityCounts {
        self.integrity
    }

    /// Number of resting orders.
    pub fn order_count(&self) -> usize {
        self.index.len()
    }

    /// Number of price levels on `side`.
    pub fn level_count(&self, side: Side) -> usize {
        self.ladder(side).len()
    }

    /// `true` when no order rests on either side.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    #[inline]
    fn view(price: i64, l: &Level) -> LevelView {
        LevelView {
            price,
            size: l.total,
            count: l.count,
        }
    }

    /// Best bid level (highest price), if any.
    #[inline]
    pub fn best_bid(&self) -> Option<LevelView> {
        self.bids.best().map(|(p, l)| Self::view(p, l))
    }

    /// Best ask level (lowest price), if any.
    #[inline]
    pub fn best_ask(&self) -> Option<LevelView> {
        self.asks.best().map(|(p, l)| Self::view(p, l))
    }

    /// Levels of `side` from the best outward, as an iterator (no allocation).
    pub fn levels(&self, side: Side) -> Box<dyn Iterator<Item = LevelView> + '_> {
        Box::new(self.ladder(side).iter_best().map(|(p, l)| Self::view(p, l)))
    }

    /// The best `n` levels of `side`, best first.
    pub fn depth(&self, side: Side, n: usize) -> Vec<LevelView> {
        self.levels(side).take(n).collect()
    }

    /// Fills `out` with the best `out.len()` levels per side in Databento's
    /// MBP layout (empty levels: price `UNDEF_PRICE`, size and count 0;
    /// sizes saturate at `u32::MAX`). Returns the number of bid and ask levels written.
    pub fn fill_levels(&self, out: &mut [dbn::BidAskPair]) -> (usize, usize) {
        let nb = self.bids.fill_from(out, 0, put_bid, empty_bid);
        let na = self.asks.fill_from(out, 0, put_ask, empty_ask);
        (nb, na)
    }

    /// Best ask minus best bid (fixed point); `None` if a side is empty. Negative when crossed.
    pub fn spread(&self) -> Option<i64> {
        let b = self.bids.best()?.0;
        let a = self.asks.best()?.0;
        a.checked_sub(b)
    }

    /// Mid price (fixed point), rounded toward negative infinity when the
    /// sum of the best prices is odd; `None` if a side is empty.
    pub fn mid(&self) -> Option<i64> {
        let b = self.bids.best()?.0;
        let a = self.asks.best()?.0;
        Some(((i128::from(a) + i128::from(b)).div_euclid(2)) as i64)
    }

    /// Size imbalance over the best `levels` levels per side:
    /// `(bid - ask) / (bid + ask)` in [-1, 1]; `None` when both sides are empty.
    pub fn imbalance(&self, levels: usize) -> Option<f64> {
        let b: u64 = self
            .bids
            .iter_best()
            .take(levels)
            .map(|(_, l)| l.total)
            .sum();
        let a: u64 = self
            .asks
            .iter_best()
            .take(levels)
            .map(|(_, l)| l.total)
            .sum();
        if a + b == 0 {
            return None;
        }
        Some((b as f64 - a as f64) / (b as f64 + a as f64))
    }

    /// Whether the inside market is normal, locked or crossed.
    pub fn cross_state(&self) -> CrossState {
        match (self.bids.best(), self.asks.best()) {
            (Some((b, _)), Some((a, _))) if b > a => CrossState::Crossed,
            (Some((b, _)), Some((a, _))) if b == a => CrossState::Locked,
            _ => CrossState::Normal,
        }
    }

    /// `true` when best bid > best ask.
    pub fn is_crossed(&self) -> bool {
        self.cross_state() == CrossState::Crossed
    }

    /// The level at `price` on `side`, if any.
    pub fn level(&self, side: Side, price: i64) -> Option<LevelView> {
        self.ladder(side).get(price).map(|l| Self::view(price, l))
    }

    /// The orders resting at `price` on `side`, in priority order (first = next to fill).
    pub fn orders_at(&self, side: Side, price: i64) -> Vec<Order> {
        match self.ladder(side).get(price) {
            None => Vec::new(),
            Some(l) => self.slab.iter_level(l).map(to_order).collect(),
        }
    }

    /// The resting order with `order_id`, if any.
    pub fn order(&self, order_id: u64) -> Option<Order> {
        self.index
            .get(&order_id)
            .map(|&slot| to_order(self.slab.get(slot)))
    }

    /// Queue position of a resting order: size and count ahead of (and behind) it at its level.
    pub fn queue_position(&self, order_id: u64) -> Option<QueuePosition> {
        let &slot = self.index.get(&order_id)?;
        let n = self.slab.get(slot);
        let level = self.ladder(n.side).get(n.price)?;
        let mut size_ahead = 0u64;
        let mut count_ahead = 0u32;
        for o in self.slab.iter_level(level) {
            if o.order_id == order_id {
                break;
            }
            size_ahead += u64::from(o.size);
            count_ahead += 1;
        }
        Some(QueuePosition {
            size_ahead,
            count_ahead,
            size_behind: level.total - size_ahead - u64::from(n.size),
            count_behind: level.count - count_ahead - 1,
        })
    }

    /// Every resting order: bids best first then asks best first, each level in priority order.
    pub fn orders(&self) -> Vec<Order> {
        let mut out = Vec::with_capacity(self.index.len());
        for (_, l) in self.bids.iter_best().chain(self.asks.iter_best()) {
            out.extend(self.slab.iter_level(l).map(to_order));
        }
        out
    }

    /// Checks every invariant: levels keyed by their orders' price and side,
    /// no empty level kept, sizes > 0, level totals and counts equal to their
    /// orders, linked lists well formed, and the id index equal to the orders.
    pub fn validate(&self) -> Result<(), BookError> {
        let bad = |s: String| Err(BookError::Invariant(s.into_boxed_str()));
        let mut seen = 0usize;
        for side in [Side::Bid, Side::Ask] {
            let mut last: Option<i64> = None;
            for (price, level) in self.ladder(side).iter_best() {
                if let Some(q) = last {
                    let sorted = match side {
                        Side::Bid => price < q,
                        Side::Ask => price > q,
                    };
                    if !sorted {
                        return bad(format!("levels out of order at {price}"));
                    }
                }
                last = Some(price);
                if level.count == 0 {
                    return bad(format!("empty level kept at {price}"));
                }
                let mut total = 0u64;
                let mut count = 0u32;
                let mut prev = NIL;
                let mut cur = level.head;
                while cur != NIL {
                    if count > level.count {
                        return bad(format!("list longer than count at {price}"));
                    }
                    let n = self.slab.get(cur);
                    if n.prev != prev {
                        return bad(format!("broken prev link at {price}"));
                    }
                    if n.size == 0 {
                        return bad(format!("order {} with size 0", n.order_id));
                    }
                    if n.price != price || n.side != side {
                        return bad(format!("order {} in the wrong level", n.order_id));
                    }
                    if self.index.get(&n.order_id) != Some(&cur) {
                        return bad(format!("order {} not indexed", n.order_id));
                    }
                    total += u64::from(n.size);
                    count += 1;
                    prev = cur;
                    cur = n.next;
                }
                if prev != level.tail {
                    return bad(format!("tail mismatch at {price}"));
                }
                if total != level.total || count != level.count {
                    return bad(format!(
                        "level {price}: total {} count {} but orders sum {total} count {count}",
                        level.total, level.count
                    ));
                }
                seen += count as usize;
            }
        }
        if seen != self.index.len() {
            return bad(format!(
                "index holds {} ids, levels {seen} orders",
                self.index.len()
            ));
        }
        Ok(())
    }
}

#[inline]
fn side_of(msg: &MboMsg, action: char) -> Result<Side, BookError> {
    Side::from_dbn(msg.side as u8).ok_or(BookError::InvalidSide {
        action,
        side: msg.side as u8,
        order_id: msg.order_id,
    })
}

#[inline]
fn put_bid(p: &mut dbn::BidAskPair, px: i64, l: &Level) {
    p.bid_px = px;
    p.bid_sz = u32::try_from(l.total).unwrap_or(u32::MAX);
    p.bid_ct = l.count;
}

#[inline]
fn put_ask(p: &mut dbn::BidAskPair, px: i64, l: &Level) {
    p.ask_px = px;
    p.ask_sz = u32::try_from(l.total).unwrap_or(u32::MAX);
    p.ask_ct = l.count;
}

#[inline]
fn empty_bid(p: &mut dbn::BidAskPair) {
    p.bid_px = UNDEF_PRICE;
    p.bid_sz = 0;
    p.bid_ct = 0;
}

#[inline]
fn empty_ask(p: &mut dbn::BidAskPair) {
    p.ask_px = UNDEF_PRICE;
    p.ask_sz = 0;
    p.ask_ct = 0;
}

#[inline]
fn to_order(n: &Node) -> Order {
    Order {
        order_id: n.order_id,
        side: n.side,
        price: n.price,
        size: n.size,
    }
}

/// An empty MBP level pair (prices `UNDEF_PRICE`, sizes and counts 0).
pub fn empty_pair() -> dbn::BidAskPair {
    dbn::BidAskPair {
        bid_px: UNDEF_PRICE,
        ask_px: UNDEF_PRICE,
        bid_sz: 0,
        ask_sz: 0,
        bid_ct: 0,
        ask_ct: 0,
    }
}
