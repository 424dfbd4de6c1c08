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

/// One side's price levels in a sorted vector whose END is the best price, so
/// that the levels near the touch, where nearly all the activity is, are
/// inserted and removed with short moves; lookups are binary searches over a
/// dense `i64` key array. Keys are the price for bids and `!price` (an
/// order-reversing bijection) for asks, so both sides sort ascending.
#[derive(Debug, Clone)]
pub(crate) struct Ladder {
    ask: bool,
    keys: Vec<i64>,
    levels: Vec<Level>,
    /// Set when a level among the best [`TOP`] was changed, inserted or
    /// removed; read and reset by [`Ladder::take_touched`].
    touched: bool,
}

/// Depth watched by the `touched` flag (MBP-10).
pub(crate) const TOP: usize = 10;

impl Ladder {
    pub fn new(side: Side) -> Self {
        Ladder {
            ask: side == Side::Ask,
            keys: Vec::new(),
            levels: Vec::new(),
            touched: true,
        }
    }

    /// Marks the top as changed when index `i` is among the best `TOP`
    /// (call after an insert, before a removal).
    #[inline]
    fn touch(&mut self, i: usize) {
        if i + TOP >= self.keys.len() {
            self.touched = true;
        }
    }

    /// Whether the best `TOP` levels may have changed since the last call.
    #[inline]
    pub fn take_touched(&mut self) -> bool {
        std::mem::replace(&mut self.touched, false)
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
        self.keys[..lo].binary_search(&key)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn clear(&mut self) {
        self.keys.clear();
        self.levels.clear();
        self.touched = true;
    }

    #[inline]
    pub fn get(&self, price: i64) -> Option<&Level> {
        self.find(price).ok().map(|i| &self.levels[i])
    }

    #[inline]
    pub fn get_mut(&mut self, price: i64) -> Option<&mut Level> {
        match self.find(price) {
            Ok(i) => {
                self.touch(i);
                Some(&mut self.levels[i])
            }
            Err(_) => None,
        }
    }

    #[inline]
    pub fn get_or_insert(&mut self, price: i64) -> &mut Level {
        let i = match self.find(price) {
            Ok(i) => i,
            Err(i) => {
                self.keys.insert(i, self.key(price));
                self.levels.insert(i, Level::new());
                i
            }
        };
        self.touch(i);
        &mut self.levels[i]
    }

    /// Unlinks `slot` from the level at `price` and drops the level if it empties.
    #[inline]
    pub fn unlink(&mut self, slab: &mut Slab, price: i64, slot: u32) {
        if let Ok(i) = self.find(price) {
            self.touch(i);
            slab.unlink(&mut self.levels[i], slot);
            if self.levels[i].count == 0 {
                self.keys.remove(i);
                self.levels.remove(i);
            }
        }
    }

    /// Writes the best `out.len()` levels into one side of MBP pairs through
    /// `put(pair, price, level)`, and `empty(pair)` past the last level.
    /// Returns the number of levels written.
    #[inline]
    pub fn fill<P>(
        &self,
        out: &mut [P],
        put: impl Fn(&mut P, i64, &Level),
        empty: impl Fn(&mut P),
    ) -> usize {
        let n = self.keys.len().min(out.len());
        let last = self.keys.len();
        let keys = &self.keys[last - n..];
        let levels = &self.levels[last - n..];
        for (i, pair) in out[..n].iter_mut().enumerate() {
            let k = keys[n - 1 - i];
            put(pair, if self.ask { !k } else { k }, &levels[n - 1 - i]);
        }
        for pair in out[n..].iter_mut() {
            empty(pair);
        }
        n
    }

    /// The best level as `(price, level)`.
    #[inline]
    pub fn best(&self) -> Option<(i64, &Level)> {
        let n = self.keys.len();
        if n == 0 {
            None
        } else {
            Some((self.key(self.keys[n - 1]), &self.levels[n - 1]))
        }
    }

    /// `(price, level)` pairs from the best outward.
    #[inline]
    pub fn iter_best(&self) -> impl Iterator<Item = (i64, &Level)> + '_ {
        let ask = self.ask;
        self.keys
            .iter()
            .rev()
            .zip(self.levels.iter().rev())
            .map(move |(&k, l)| (if ask { !k } else { k }, l))
    }
}
