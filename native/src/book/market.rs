//! Books keyed by `instrument_id` (a DBN file can hold several instruments).

use std::collections::HashMap;

use dbn::{MboMsg, Mbp10Msg};

use super::error::BookError;
use super::l2::L2Book;
use super::l3::{Applied, IntegrityCounts, L3Book};

/// A set of books, one per `instrument_id`, created on first sight.
#[derive(Debug, Clone)]
pub struct Books<B> {
    books: Vec<B>,
    ids: Vec<u32>,
    index: HashMap<u32, usize>,
    last: Option<(u32, usize)>,
    /// Order-index capacity given to each new L3 book (see [`Books::reserve_orders`]).
    order_hint: usize,
    /// Order-index capacity left to hand out.
    hint_budget: usize,
}

impl<B> Default for Books<B> {
    fn default() -> Self {
        Books {
            books: Vec::new(),
            ids: Vec::new(),
            index: HashMap::new(),
            last: None,
            order_hint: 0,
            hint_budget: 0,
        }
    }
}

impl<B> Books<B> {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The book of `instrument_id`, created by `make` if absent.
    #[inline]
    pub fn get_or_insert_with(
        &mut self,
        instrument_id: u32,
        make: impl FnOnce(u32) -> B,
    ) -> &mut B {
        if let Some((id, i)) = self.last {
            if id == instrument_id {
                return &mut self.books[i];
            }
        }
        let i = match self.index.get(&instrument_id) {
            Some(&i) => i,
            None => {
                self.books.push(make(instrument_id));
                self.ids.push(instrument_id);
                let i = self.books.len() - 1;
                self.index.insert(instrument_id, i);
                i
            }
        };
        self.last = Some((instrument_id, i));
        &mut self.books[i]
    }

    /// The book of `instrument_id`, if seen.
    pub fn get(&self, instrument_id: u32) -> Option<&B> {
        self.index.get(&instrument_id).map(|&i| &self.books[i])
    }

    /// The book of `instrument_id`, mutable, if seen.
    #[inline]
    pub fn get_mut(&mut self, instrument_id: u32) -> Option<&mut B> {
        // The replayer asks for the book it has just applied a record to.
        if let Some((id, i)) = self.last {
            if id == instrument_id {
                return Some(&mut self.books[i]);
            }
        }
        self.index.get(&instrument_id).map(|&i| &mut self.books[i])
    }

    /// Instrument ids in order of first appearance.
    pub fn instrument_ids(&self) -> &[u32] {
        &self.ids
    }

    /// `(instrument_id, book)` pairs in order of first appearance.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &B)> {
        self.ids.iter().copied().zip(self.books.iter())
    }

    /// Number of books.
    pub fn len(&self) -> usize {
        self.books.len()
    }

    /// `true` when no book exists yet.
    pub fn is_empty(&self) -> bool {
        self.books.is_empty()
    }
}

/// L3 books per instrument.
pub type Market = Books<L3Book>;

/// Total order-index capacity [`Books::reserve_orders`] hands out.
pub const ORDER_HINT_BUDGET: usize = 1 << 20;

/// L2 books per instrument.
pub type L2Market = Books<L2Book>;

impl Books<L3Book> {
    /// Applies an MBO record to the book of its instrument (created if new).
    #[inline]
    pub fn apply(&mut self, msg: &MboMsg) -> Result<Applied, BookError> {
        if let Some((id, i)) = self.last {
            if id == msg.hd.instrument_id {
                return self.books[i].apply(msg);
            }
        }
        let hint = self.order_hint.min(self.hint_budget);
        let mut made = false;
        let book = self.get_or_insert_with(msg.hd.instrument_id, |id| {
            made = true;
            L3Book::with_order_capacity(id, hint)
        });
        let res = book.apply(msg);
        if made {
            self.hint_budget -= hint;
        }
        res
    }

    /// Pre-sizes the order-id index of each book created from now on for
    /// `per_book` resting orders (saving the rehashes of a growing index,
    /// about a tenth of the apply time on the ESH4 file), within a budget of
    /// [`ORDER_HINT_BUDGET`] orders over all books so that a file of many
    /// instruments does not reserve memory per instrument.
    pub fn reserve_orders(&mut self, per_book: usize) {
        self.order_hint = per_book;
        self.hint_budget = ORDER_HINT_BUDGET;
    }

    /// Integrity counters summed over every book.
    pub fn integrity(&self) -> IntegrityCounts {
        let mut c = IntegrityCounts::default();
        for (_, b) in self.iter() {
            c.merge(&b.integrity());
        }
        c
    }
}

impl Books<L2Book> {
    /// Applies an MBP-10 record to the book of its instrument (created if new).
    #[inline]
    pub fn apply(&mut self, msg: &Mbp10Msg) {
        self.get_or_insert_with(msg.hd.instrument_id, L2Book::new)
            .apply(msg)
    }
}
