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
}

impl<B> Default for Books<B> {
    fn default() -> Self {
        Books {
            books: Vec::new(),
            ids: Vec::new(),
            index: HashMap::new(),
            last: None,
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

/// L2 books per instrument.
pub type L2Market = Books<L2Book>;

impl Books<L3Book> {
    /// Applies an MBO record to the book of its instrument (created if new).
    #[inline]
    pub fn apply(&mut self, msg: &MboMsg) -> Result<Applied, BookError> {
        self.get_or_insert_with(msg.hd.instrument_id, L3Book::new)
            .apply(msg)
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
