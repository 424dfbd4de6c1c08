//! Typed errors of the order books and the replay driver.

use thiserror::Error;

/// Why a record was not applied to a book.
///
/// Whenever [`L3Book::apply`](super::L3Book::apply) returns one of these, the
/// orders of the book are unchanged (only its clock fields, `ts_event`,
/// `ts_recv`, `sequence` and the event-boundary state, have advanced).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BookError {
    /// The `action` byte is none of `A C M R F T N`.
    #[error("unknown action byte {0:#04x}")]
    UnknownAction(u8),
    /// An add, cancel or modify whose `side` is not `B` or `A`.
    #[error("action {action:?} needs side B or A, got byte {side:#04x} (order {order_id})")]
    InvalidSide {
        /// The action as a character.
        action: char,
        /// The side byte received.
        side: u8,
        /// The order id of the record.
        order_id: u64,
    },
    /// An add for an order id that is already in the book.
    #[error("add of order {0} that is already in the book")]
    DuplicateOrder(u64),
    /// A cancel for an order id the book has never seen (a feed that started
    /// mid-session, without a snapshot). Counted by the book, then skipped.
    #[error("cancel of unknown order {0}")]
    UnknownOrder(u64),
    /// A modify that moves an order to the other side of the book.
    #[error("modify of order {order_id} changes its side")]
    SideChanged {
        /// The order id of the record.
        order_id: u64,
    },
    /// An add (or a modify treated as an add) with size zero.
    #[error("add of order {0} with size zero")]
    ZeroSize(u64),
    /// An add or modify whose price is `UNDEF_PRICE`.
    #[error("order {0} has an undefined price")]
    UndefinedPrice(u64),
    /// A record whose schema the book does not take (e.g. a trade record given to an L3 book).
    #[error("record type {rtype:#04x} is not handled by this book")]
    WrongRecord {
        /// The `rtype` of the record.
        rtype: u8,
    },
    /// A broken internal invariant, found by [`L3Book::validate`](super::L3Book::validate).
    #[error("book invariant broken: {0}")]
    Invariant(Box<str>),
}

/// Why a replay stopped.
#[derive(Debug, Error)]
pub enum ReplayError {
    /// The DBN decoder failed (bad header, truncated record, I/O or zstd error).
    #[error("DBN decode error: {0}")]
    Decode(#[from] dbn::Error),
    /// In strict mode, the first record a book refused.
    #[error("record {index} refused by the book: {source}")]
    Book {
        /// 0-based index of the record in the stream.
        index: u64,
        /// The book's reason.
        #[source]
        source: BookError,
    },
}
