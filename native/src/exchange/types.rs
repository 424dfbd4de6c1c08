//! Plain records and enums of the simulated exchange. The enums mirror
//! `workbench.model.records` (`Side`, `OrderType`, `TimeInForce`,
//! `OrderStatus`, `Liquidity`) with explicit integer values, and the report is
//! a `#[repr(C)]` record so that a `Vec<ExecReport>` can cross to NumPy as a
//! structured array.

use crate::book::Side;

/// "No price": DBN's `UNDEF_PRICE` (`i64::MAX`), used for the limit or stop
/// price an order type does not take and for `last_px` on reports without a fill.
pub const NO_PRICE: i64 = dbn::UNDEF_PRICE;

/// Direction of an order (`workbench.model.records.Side`: `BUY = 1`, `SELL = -1`).
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(
        eq,
        eq_int,
        hash,
        frozen,
        module = "workbench_native._native",
        rename_all = "SCREAMING_SNAKE_CASE"
    )
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i8)]
pub enum OrderSide {
    /// Buys; rests on the bid side.
    Buy = 1,
    /// Sells; rests on the ask side.
    Sell = -1,
}

impl OrderSide {
    /// The book side an order of this direction rests on.
    #[inline]
    pub fn book_side(self) -> Side {
        match self {
            OrderSide::Buy => Side::Bid,
            OrderSide::Sell => Side::Ask,
        }
    }

    /// The book side an order of this direction takes liquidity from.
    #[inline]
    pub fn opposite_side(self) -> Side {
        match self {
            OrderSide::Buy => Side::Ask,
            OrderSide::Sell => Side::Bid,
        }
    }

    /// `true` when `a` is a better price than `b` for this direction
    /// (higher for a buy, lower for a sell).
    #[inline]
    pub fn better(self, a: i64, b: i64) -> bool {
        match self {
            OrderSide::Buy => a > b,
            OrderSide::Sell => a < b,
        }
    }
}

/// Order types (`workbench.model.records.OrderType`).
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(
        eq,
        eq_int,
        hash,
        frozen,
        module = "workbench_native._native",
        rename_all = "SCREAMING_SNAKE_CASE"
    )
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OrderType {
    /// Takes whatever the book offers; the rest is cancelled (`NoLiquidity`).
    Market = 0,
    /// Takes up to its limit price, then rests (unless IOC).
    Limit = 1,
    /// Waits for a trade at or through its stop price, then acts as a market order.
    Stop = 2,
    /// Waits for a trade at or through its stop price, then acts as a limit order.
    StopLimit = 3,
}

/// How long an order works (`workbench.model.records.TimeInForce`).
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(
        eq,
        eq_int,
        hash,
        frozen,
        module = "workbench_native._native",
        rename_all = "SCREAMING_SNAKE_CASE"
    )
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TimeInForce {
    /// Until the close of the session in which it was accepted.
    Day = 0,
    /// Good till cancelled.
    Gtc = 1,
    /// Immediate or cancel: what does not fill at arrival is cancelled.
    Ioc = 2,
}

/// Where an order is in its life (`workbench.model.records.OrderStatus`).
/// An expired DAY order ends `Cancelled` with an [`ExecType::Expired`] report.
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(
        eq,
        eq_int,
        hash,
        frozen,
        module = "workbench_native._native",
        rename_all = "SCREAMING_SNAKE_CASE"
    )
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OrderStatus {
    /// Sent, not yet arrived at the exchange (or held while the market is closed).
    Pending = 0,
    /// Accepted and working (resting, or a stop waiting for its trigger).
    Working = 1,
    /// Some of it has filled; the rest is working.
    PartiallyFilled = 2,
    /// Filled whole.
    Filled = 3,
    /// Cancelled (by the user, as an IOC/market remainder, or expired).
    Cancelled = 4,
    /// Refused at arrival.
    Rejected = 5,
}

impl OrderStatus {
    /// `true` once the order can no longer fill.
    pub fn is_done(self) -> bool {
        matches!(
            self,
            OrderStatus::Filled | OrderStatus::Cancelled | OrderStatus::Rejected
        )
    }
}

/// Whether a fill added or removed liquidity (`workbench.model.records.Liquidity`);
/// `None` on reports that are not fills.
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(
        eq,
        eq_int,
        hash,
        frozen,
        module = "workbench_native._native",
        rename_all = "SCREAMING_SNAKE_CASE"
    )
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Liquidity {
    /// Not a fill.
    None = 0,
    /// The order rested and was hit.
    Maker = 1,
    /// The order took liquidity resting in the book.
    Taker = 2,
}

/// What an execution report says happened.
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(
        eq,
        eq_int,
        hash,
        frozen,
        module = "workbench_native._native",
        rename_all = "SCREAMING_SNAKE_CASE"
    )
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ExecType {
    /// The order was accepted.
    New = 0,
    /// Part of the order filled; some is left.
    PartialFill = 1,
    /// The order's last contracts filled.
    Fill = 2,
    /// The order was cancelled (user request, IOC or market remainder).
    Cancelled = 3,
    /// A replace was applied.
    Replaced = 4,
    /// A new order, a cancel or a replace was refused (see the reason).
    Rejected = 5,
    /// A DAY order reached the end of its session.
    Expired = 6,
    /// A stop or stop-limit order's trigger was reached; it now works as market or limit.
    Triggered = 7,
}

/// Why a report was sent (rejections and exchange-side cancellations), as a
/// typed error for callers that want one.
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(
        eq,
        eq_int,
        hash,
        frozen,
        module = "workbench_native._native",
        rename_all = "SCREAMING_SNAKE_CASE"
    )
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[repr(u8)]
pub enum ExecReason {
    /// Nothing to explain (accepted, filled, user-requested cancel).
    #[error("no reason")]
    None = 0,
    /// Quantity zero, or a replace to a quantity not above what has filled.
    #[error("invalid quantity")]
    InvalidQuantity = 1,
    /// A limit or stop price is missing for the order type, or given to a type that takes none.
    #[error("price missing or not allowed for the order type")]
    InvalidPrice = 2,
    /// A price that is not a multiple of the configured tick, or not positive.
    #[error("price off the tick grid")]
    OffTick = 3,
    /// The client order id is already in use.
    #[error("duplicate client order id")]
    DuplicateClientId = 4,
    /// The order arrived outside the trading sessions.
    #[error("market closed")]
    MarketClosed = 5,
    /// The order arrived during a halt.
    #[error("market halted")]
    Halted = 6,
    /// A cancel or replace for an order that is unknown or no longer working.
    #[error("unknown or finished order")]
    UnknownOrder = 7,
    /// A market order, or a triggered stop, found no (more) liquidity: the rest is cancelled.
    #[error("no liquidity")]
    NoLiquidity = 8,
    /// The unfilled rest of an IOC order.
    #[error("immediate or cancel")]
    ImmediateOrCancel = 9,
    /// A DAY order reached the close of its session.
    #[error("session end")]
    SessionEnd = 10,
    /// A replace that would change a price the order type does not have.
    #[error("replace not allowed for the order type")]
    ReplaceNotAllowed = 11,
}

/// A new order as sent by the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct OrderRequest {
    /// The caller's unique id for this order (used by cancel and replace).
    pub client_id: u64,
    /// Limit price (1e-9 fixed point) for `Limit` and `StopLimit`, else [`NO_PRICE`].
    pub limit_price: i64,
    /// Stop price for `Stop` and `StopLimit`, else [`NO_PRICE`].
    pub stop_price: i64,
    /// Contracts, at least one.
    pub qty: u32,
    /// Buy or sell.
    pub side: OrderSide,
    /// Market, limit, stop or stop-limit.
    pub order_type: OrderType,
    /// Day, GTC or IOC.
    pub tif: TimeInForce,
}

impl OrderRequest {
    /// A market order.
    pub fn market(client_id: u64, side: OrderSide, qty: u32, tif: TimeInForce) -> Self {
        OrderRequest {
            client_id,
            limit_price: NO_PRICE,
            stop_price: NO_PRICE,
            qty,
            side,
            order_type: OrderType::Market,
            tif,
        }
    }

    /// A limit order.
    pub fn limit(client_id: u64, side: OrderSide, qty: u32, price: i64, tif: TimeInForce) -> Self {
        OrderRequest {
            limit_price: price,
            order_type: OrderType::Limit,
            ..Self::market(client_id, side, qty, tif)
        }
    }

    /// A stop (market) order.
    pub fn stop(client_id: u64, side: OrderSide, qty: u32, stop: i64, tif: TimeInForce) -> Self {
        OrderRequest {
            stop_price: stop,
            order_type: OrderType::Stop,
            ..Self::market(client_id, side, qty, tif)
        }
    }

    /// A stop-limit order.
    pub fn stop_limit(
        client_id: u64,
        side: OrderSide,
        qty: u32,
        stop: i64,
        limit: i64,
        tif: TimeInForce,
    ) -> Self {
        OrderRequest {
            stop_price: stop,
            limit_price: limit,
            order_type: OrderType::StopLimit,
            ..Self::market(client_id, side, qty, tif)
        }
    }
}

/// One execution report, `#[repr(C)]`, 96 bytes.
///
/// For fills `last_qty`/`last_px` are the contracts and price of this fill;
/// for `Cancelled` and `Expired` `last_qty` is the quantity cancelled; for other
/// kinds it is 0. Always `order_qty == cum_qty + leaves_qty + cancelled so far`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct ExecReport {
    /// Exchange time of the event (ns, from the feed's `ts_event` or an order's arrival time).
    pub ts_exchange: u64,
    /// When the client sees the report: `ts_exchange` plus the response latency.
    pub ts_local: u64,
    /// The order's client id.
    pub client_id: u64,
    /// Report sequence number, from 0, in the order reports were produced.
    pub seq: u64,
    /// The order's limit price (or [`NO_PRICE`]).
    pub order_price: i64,
    /// Price of this fill, or [`NO_PRICE`].
    pub last_px: i64,
    /// Size resting ahead of the order when it joined its queue (0 for taker fills
    /// and for orders that never rested).
    pub queue_ahead: u64,
    /// Fee per contract of this fill (1e-9 USD fixed point; negative = rebate).
    pub fee_per_contract: i64,
    /// `fee_per_contract * last_qty` for fills, else 0.
    pub fee: i64,
    /// The order's quantity (after replaces).
    pub order_qty: u32,
    /// Contracts of this fill, or cancelled contracts (see above).
    pub last_qty: u32,
    /// Contracts filled so far.
    pub cum_qty: u32,
    /// Contracts still working.
    pub leaves_qty: u32,
    /// What happened.
    pub exec_type: ExecType,
    /// The order's status after this report.
    pub status: OrderStatus,
    /// Buy or sell.
    pub side: OrderSide,
    /// Maker or taker for fills, else `None`.
    pub liquidity: Liquidity,
    /// Why (rejections, exchange-side cancels, expiry).
    pub reason: ExecReason,
    /// Padding (always zero).
    pub _pad: [u8; 3],
}

const _: () = assert!(std::mem::size_of::<ExecReport>() == 96);

/// Maker and taker fees per contract, 1e-9 USD fixed point (0.25 USD = 250_000_000;
/// a negative value is a rebate).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Fees {
    /// Per contract on maker fills.
    pub maker: i64,
    /// Per contract on taker fills.
    pub taker: i64,
}

impl Fees {
    /// Fees given in USD per contract (rounded to the nearest 1e-9).
    pub fn from_usd(maker: f64, taker: f64) -> Self {
        Fees {
            maker: (maker * 1e9).round() as i64,
            taker: (taker * 1e9).round() as i64,
        }
    }
}

/// The state of one order, for queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct OrderView {
    /// Client id.
    pub client_id: u64,
    /// Limit price or [`NO_PRICE`].
    pub limit_price: i64,
    /// Stop price or [`NO_PRICE`].
    pub stop_price: i64,
    /// Current estimate of the size ahead in the queue (0 when not resting).
    pub queue_ahead: u64,
    /// Quantity (after replaces).
    pub qty: u32,
    /// Filled so far.
    pub filled: u32,
    /// Cancelled (or expired) quantity.
    pub cancelled: u32,
    /// Still working: `qty - filled - cancelled`.
    pub leaves: u32,
    /// Status.
    pub status: OrderStatus,
    /// Buy or sell.
    pub side: OrderSide,
    /// Order type (a triggered stop keeps its type).
    pub order_type: OrderType,
    /// Time in force.
    pub tif: TimeInForce,
    /// `true` while resting in the (virtual) book queue.
    pub resting: bool,
}
