//! Price levels with FIFO priority: a slab of order nodes linked into one
//! doubly linked list per level, so that add, cancel and in-place size changes
//! are O(1) once the order's slot is known.

/// Book side of a resting order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// Buy orders (Databento side `B`).
    Bid,
    /// Sell orders (Databento side `A`).
    Ask,
}

impl Side {
    /// From a Databento side byte: `B` bid, `A` ask, anything else `None`.
    #[inline]
    pub fn from_dbn(byte: u8) -> Option<Side> {
        match byte {
            b'B' => Some(Side::Bid),
            b'A' => Some(Side::Ask),
            _ => None,
        }
    }

    /// The Databento side byte (`B` or `A`).
    pub fn as_dbn(self) -> u8 {
        match self {
            Side::Bid => b'B',
            Side::Ask => b'A',
        }
    }
}

/// One resting order as seen from outside the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    /// Venue order id.
    pub order_id: u64,
    /// Side of the book.
    pub side: Side,
    /// Price, 1e-9 fixed point.
    pub price: i64,
    /// Remaining size (contracts).
    pub size: u32,
}

/// Aggregate view of one price level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelView {
    /// Price, 1e-9 fixed point.
    pub price: i64,
    /// Total resting size at the price.
    pub size: u64,
    /// Number of resting orders at the price.
    pub count: u32,
}

/// Queue position of one resting order inside its level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueuePosition {
    /// Total size of the orders ahead of it (higher priority at the same price).
    pub size_ahead: u64,
    /// Number of orders ahead of it.
    pub count_ahead: u32,
    /// Total size of the orders behind it.
    pub size_behind: u64,
    /// Number of orders behind it.
    pub count_behind: u32,
}

pub(crate) const NIL: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Node {
    pub order_id: u64,
    pub price: i64,
    pub size: u32,
    pub side: Side,
    /// Slot of its level in its side's [`Ladder`].
    pub level: u32,
    pub prev: u32,
    pub next: u32,
}

/// A price level: aggregates plus the head and tail of its FIFO list.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Level {
    pub total: u64,
    pub count: u32,
    pub head: u32,
    pub tail: u32,
}

impl Level {
    pub fn new() -> Self {
        Level {
            total: 0,
            count: 0,
            head: NIL,
            tail: NIL,
        }
    }
}

/// Slab of order nodes with a free list; slots are reused.
#[derive(Debug, Clone, Default)]
pub(crate) struct Slab {
    nodes: Vec<Node>,
    free: Vec<u32>,
}

impl Slab {
    #[inline]
    pub fn get(&self, slot: u32) -> &Node {
        &self.nodes[slot as usize]
    }

    #[inline]
    pub fn get_mut(&mut self, slot: u32) -> &mut Node {
        &mut self.nodes[slot as usize]
    }

    #[inline]
    pub fn alloc(&mut self, node: Node) -> u32 {
        if let Some(slot) = self.free.pop() {
            self.nodes[slot as usize] = node;
            slot
        } else {
            self.nodes.push(node);
            (self.nodes.len() - 1) as u32
        }
    }

    #[inline]
    pub fn release(&mut self, slot: u32) {
        self.free.push(slot);
    }

    pub fn clear(&mut self) {
        self.nodes.clear();
        self.free.clear();
    }

    /// Appends `slot` at the back of `level` (lowest priority).
    #[inline]
    pub fn push_back(&mut self, level: &mut Level, slot: u32) {
        let size = {
            let n = self.get_mut(slot);
            n.prev = level.tail;
            n.next = NIL;
            n.size
        };
        if level.tail == NIL {
            level.head = slot;
        } else {
            self.get_mut(level.tail).next = slot;
        }
        level.tail = slot;
        level.total += u64::from(size);
        level.count += 1;
    }

    /// Unlinks `slot` from `level` (the slot stays allocated).
    #[inline]
    pub fn unlink(&mut self, level: &mut Level, slot: u32) {
        let (prev, next, size) = {
            let n = self.get(slot);
            (n.prev, n.next, n.size)
        };
        if prev == NIL {
            level.head = next;
        } else {
            self.get_mut(prev).next = next;
        }
        if next == NIL {
            level.tail = prev;
        } else {
            self.get_mut(next).prev = prev;
        }
        level.total -= u64::from(size);
        level.count -= 1;
    }

    /// Iterates the slots of `level` in priority order.
    pub fn iter_level<'a>(&'a self, level: &Level) -> LevelIter<'a> {
        LevelIter {
            slab: self,
            cur: level.head,
        }
    }
}

pub(crate) struct LevelIter<'a> {
    slab: &'a Slab,
    cur: u32,
}

impl<'a> Iterator for LevelIter<'a> {
    type Item = &'a Node;

    #[inline]
    fn next(&mut self) -> Option<&'a Node> {
        if self.cur == NIL {
            return None;
        }
        let n = self.slab.get(self.cur);
        self.cur = n.next;
        Some(n)
    }
}

/// A multiplicative hasher for venue order ids (u64 keys, no hash flooding risk
/// from a market-data feed worth SipHash's cost).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b) ^ self.0.rotate_left(8));
        }
    }

    #[inline]
    fn write_u64(&mut self, x: u64) {
        let m = u128::from(x ^ self.0) * 0x9E37_79B9_7F4A_7C15_u128;
        self.0 = (m as u64) ^ ((m >> 64) as u64);
    }
}

pub(crate) type IdBuild = std::hash::BuildHasherDefault<IdHasher>;

/// One side's price levels: a sorted vector of keys whose END is the best
/// price, each with the slot of its [`Level`] in a slab of levels, so that
/// the levels near the touch, where nearly all the activity is, are inserted
/// and removed with short moves (12 bytes per level moved), and lookups are
/// a scan of the last few keys then a binary search over a dense `i64`
/// array. Keys are the price for bids and `!price` (an order-reversing
/// bijection) for asks, so both sides sort ascending. Every order node holds
/// the slot of its level, so a cancel, a size change or a requeue touches its
/// level without any search; only a level that empties is searched for, to
/// drop its key.
#[derive(Debug, Clone)]
pub(crate) struct Ladder {
    ask: bool,
    keys: Vec<i64>,
    /// Level slot of each key.
    slots: Vec<u32>,
    levels: Vec<Level>,
    free: Vec<u32>,
    /// Bit `d` set: the level at depth `d` (0 = best) among the best [`TOP`]
    /// may have changed since the last [`Ladder::take_dirty`].
    dirty: u16,
}

/// All [`TOP`] bits of a dirty mask.
pub(crate) const ALL: u16 = (1 << TOP) - 1;

/// Depth watched by the `dirty` mark (MBP-10).
pub(crate) const TOP: usize = 10;

impl Ladder {
    pub fn new(side: Side) -> Self {
        Ladder {
            ask: side == Side::Ask,
            keys: Vec::new(),
            slots: Vec::new(),
            levels: Vec::new(),
            free: Vec::new(),
            dirty: ALL,
        }
    }

    /// Marks the levels from the one at index `i` outward as changed, as
    /// an insert or a removal shifts them (call after an insert, before a
    /// removal).
    #[inline]
    fn mark(&mut self, i: usize) {
        let depth = self.keys.len() - 1 - i;
        if depth < TOP {
            self.dirty |= ALL & !((1u16 << depth) - 1);
        }
    }

    /// Marks the level at `price` (present) as changed in place if among
    /// the best [`TOP`].
    #[inline]
    fn mark_price(&mut self, price: i64) {
        let key = self.key(price);
        let n = self.keys.len();
        for d in 0..TOP.min(n) {
            let k = self.keys[n - 1 - d];
            if k == key {
                self.dirty |= 1 << d;
                return;
            }
            if k < key {
                return;
            }
        }
    }

    /// The depths (bit `d`, 0 = best) among the best [`TOP`] that may have
    /// changed since the last call; resets them.
    #[inline]
    pub fn take_dirty(&mut self) -> u16 {
        std::mem::replace(&mut self.dirty, 0)
    }

    #[inline]
    fn key(&self, price: i64) -> i64 {
        if self.ask {
            !price
        } else {
            price
        }
    }

    #[inline]
    fn find(&self, price: i64) -> Result<usize, usize> {
        let key = self.key(price);
        // Most lookups hit the best level or one next to it: scan the last
        // few keys from the end, then binary-search the rest.
        let n = self.keys.len();
        let lo = n.saturating_sub(4);
        for i in (lo..n).rev() {
            let k = self.keys[i];
            if k == key {
                return Ok(i);
            }
            if k < key {
                return Err(i + 1);
            }
        }
        // Then gallop outward (8, 16, 32, ... levels from the touch) and
        // binary-search the bracket: most of the rest is within a few dozen.
        let mut hi = lo; // keys[hi..] are all > key
        let mut step = 4;
        loop {
            let at = hi.saturating_sub(step);
            if at == 0 || self.keys[at] <= key {
                return match self.keys[at..hi].binary_search(&key) {
                    Ok(i) => Ok(at + i),
                    Err(i) => Err(at + i),
                };
            }
            hi = at;
            step *= 2;
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn clear(&mut self) {
        self.keys.clear();
        self.slots.clear();
        self.levels.clear();
        self.free.clear();
        self.dirty = ALL;
    }

    #[inline]
    pub fn get(&self, price: i64) -> Option<&Level> {
        self.find(price)
            .ok()
            .map(|i| &self.levels[self.slots[i] as usize])
    }

    /// Puts the order in `slot` (price and size set) at the back of its level,
    /// creating the level if needed.
    #[inline]
    pub fn insert_order(&mut self, slab: &mut Slab, slot: u32) {
        let price = slab.get(slot).price;
        let i = match self.find(price) {
            Ok(i) => i,
            Err(i) => {
                let ls = if let Some(ls) = self.free.pop() {
                    self.levels[ls as usize] = Level::new();
                    ls
                } else {
                    self.levels.push(Level::new());
                    (self.levels.len() - 1) as u32
                };
                self.keys.insert(i, self.key(price));
                self.slots.insert(i, ls);
                i
            }
        };
        self.mark(i);
        let ls = self.slots[i];
        slab.get_mut(slot).level = ls;
        slab.push_back(&mut self.levels[ls as usize], slot);
    }

    /// Unlinks the order in `slot` from its level and drops the level if it
    /// empties (the slot stays allocated).
    #[inline]
    pub fn remove_order(&mut self, slab: &mut Slab, slot: u32) {
        let (ls, price) = {
            let n = slab.get(slot);
            (n.level, n.price)
        };
        let level = &mut self.levels[ls as usize];
        slab.unlink(level, slot);
        if level.count > 0 {
            self.mark_price(price);
        } else if let Ok(i) = self.find(price) {
            self.mark(i);
            self.keys.remove(i);
            self.slots.remove(i);
            self.free.push(ls);
        }
    }

    /// Sets the size of the order in `slot`, keeping its queue position.
    #[inline]
    pub fn resize_order(&mut self, slab: &mut Slab, slot: u32, size: u32) {
        let n = slab.get_mut(slot);
        let level = &mut self.levels[n.level as usize];
        level.total = level.total - u64::from(n.size) + u64::from(size);
        n.size = size;
        let price = n.price;
        self.mark_price(price);
    }

    /// Sets the size of the order in `slot` and sends it to the back of its level.
    #[inline]
    pub fn requeue_order(&mut self, slab: &mut Slab, slot: u32, size: u32) {
        let (ls, price) = {
            let n = slab.get(slot);
            (n.level, n.price)
        };
        let level = &mut self.levels[ls as usize];
        slab.unlink(level, slot);
        slab.get_mut(slot).size = size;
        slab.push_back(level, slot);
        self.mark_price(price);
    }

    /// Writes levels `from..out.len()` (0 = best) into one side of MBP pairs
    /// through `put(pair, price, level)`, and `empty(pair)` past the last
    /// level. Returns the number of levels the side has among them.
    #[inline]
    pub fn fill_from<P>(
        &self,
        out: &mut [P],
        from: usize,
        put: impl Fn(&mut P, i64, &Level),
        empty: impl Fn(&mut P),
    ) -> usize {
        let n = self.keys.len().min(out.len());
        for (d, pair) in out.iter_mut().enumerate().skip(from) {
            if d < n {
                let i = self.keys.len() - 1 - d;
                let k = self.keys[i];
                let price = if self.ask { !k } else { k };
                put(pair, price, &self.levels[self.slots[i] as usize]);
            } else {
                empty(pair);
            }
        }
        n
    }

    /// Rewrites the depths set in `mask` (bit `d`, 0 = best) of one side of
    /// `out`, as [`Ladder::fill_from`] would write them.
    #[inline]
    pub fn fill_mask<P>(
        &self,
        out: &mut [P],
        mut mask: u16,
        put: impl Fn(&mut P, i64, &Level),
        empty: impl Fn(&mut P),
    ) {
        let n = self.keys.len();
        while mask != 0 {
            let d = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            let Some(pair) = out.get_mut(d) else {
                return;
            };
            if d < n {
                let i = n - 1 - d;
                let k = self.keys[i];
                let price = if self.ask { !k } else { k };
                put(pair, price, &self.levels[self.slots[i] as usize]);
            } else {
                empty(pair);
            }
        }
    }

    /// The best level as `(price, level)`.
    #[inline]
    pub fn best(&self) -> Option<(i64, &Level)> {
        let n = self.keys.len();
        if n == 0 {
            None
        } else {
            Some((
                self.key(self.keys[n - 1]),
                &self.levels[self.slots[n - 1] as usize],
            ))
        }
    }

    /// `(price, level)` pairs from the best outward.
    #[inline]
    pub fn iter_best(&self) -> impl Iterator<Item = (i64, &Level)> + '_ {
        let ask = self.ask;
        self.keys
            .iter()
            .rev()
            .zip(self.slots.iter().rev())
            .map(move |(&k, &ls)| (if ask { !k } else { k }, &self.levels[ls as usize]))
    }
}
