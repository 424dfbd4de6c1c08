//! The matching engine: own (virtual) orders against the real L3 book of a
//! replayed MBO feed. See the module docs of [`crate::exchange`] for the model.

use std::collections::{HashMap, VecDeque};

use dbn::{flags, MboMsg};

use super::error::ExchangeError;
use super::latency::{LatencyModel, Pcg};
use super::queue::{QueueModel, QueueState};
use super::session::{MarketState, SessionSchedule};
use super::types::{
    ExecReason, ExecReport, ExecType, Fees, Liquidity, OrderRequest, OrderSide, OrderStatus,
    OrderType, OrderView, TimeInForce, NO_PRICE,
};
use crate::book::{Applied, BookError, L3Book, Side};

/// What to do with orders that arrive while the market is closed or halted.
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OffHours {
    /// Reject them (`MarketClosed` or `Halted`).
    #[default]
    Reject,
    /// Hold them (status `Pending`) and process them, in arrival order, when the market opens.
    Hold,
}

/// Configuration of an [`Exchange`].
#[derive(Debug, Clone, PartialEq)]
pub struct ExchangeConfig {
    /// Queue-position model of own resting orders.
    pub queue: QueueModel,
    /// Entry and response latencies.
    pub latency: LatencyModel,
    /// Maker and taker fees per contract.
    pub fees: Fees,
    /// Sessions and halts (empty: always open).
    pub schedule: SessionSchedule,
    /// Orders arriving outside trading hours or in a halt.
    pub off_hours: OffHours,
    /// Price increment for order validation (1e-9 fixed point; 0 = no check).
    pub tick: i64,
    /// Seed of the generators (latency draws and the probabilistic queue model).
    pub seed: u64,
}

impl Default for ExchangeConfig {
    fn default() -> Self {
        ExchangeConfig {
            queue: QueueModel::Conservative,
            latency: LatencyModel::default(),
            fees: Fees::default(),
            schedule: SessionSchedule::default(),
            off_hours: OffHours::Reject,
            tick: 0,
            seed: 0,
        }
    }
}

/// Counters of an [`Exchange`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExchangeStats {
    /// Feed records applied to the book.
    pub records: u64,
    /// Records of other instruments (ignored).
    pub other_instruments: u64,
    /// Records the book refused (counted and skipped).
    pub refused: u64,
    /// New orders, cancels and replaces received.
    pub requests: u64,
    /// Fill reports.
    pub fills: u64,
    /// Contracts filled as maker.
    pub maker_qty: u64,
    /// Contracts filled as taker.
    pub taker_qty: u64,
    /// Reports produced.
    pub reports: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Sent, not arrived.
    InFlight,
    /// Arrived while closed, waiting for the open.
    Held,
    /// A stop waiting for its trigger.
    Stop,
    /// Resting in the virtual queue.
    Resting,
    /// Finished.
    Done,
}

#[derive(Debug, Clone)]
struct Own {
    req: OrderRequest,
    filled: u32,
    cancelled: u32,
    status: OrderStatus,
    place: Place,
    expire_at: u64,
    queue: QueueState,
    rest_seq: u64,
    triggered: bool,
}

impl Own {
    #[inline]
    fn leaves(&self) -> u32 {
        self.req.qty - self.filled - self.cancelled
    }
}

#[derive(Debug, Clone, Copy)]
enum Request {
    New(usize),
    Cancel(u64),
    Replace {
        client_id: u64,
        qty: u32,
        limit_price: i64,
        stop_price: i64,
    },
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    arrival: u64,
    seq: u64,
    req: Request,
}

/// A simulated exchange for one instrument: the real L3 book of a replayed
/// MBO feed plus own virtual orders that queue, trade and report as
/// documented in [`crate::exchange`].
///
/// Feed it records in order with [`Exchange::on_mbo`]; send requests with
/// [`Exchange::submit`], [`Exchange::cancel`], [`Exchange::replace`]; let time
/// pass without records with [`Exchange::advance_to`]; collect reports with
/// [`Exchange::drain_reports`]. No wall clock is read anywhere.
#[derive(Debug, Clone)]
pub struct Exchange {
    instrument_id: u32,
    cfg: ExchangeConfig,
    book: L3Book,
    now: u64,
    orders: Vec<Own>,
    ids: HashMap<u64, usize>,
    pending: VecDeque<Pending>,
    held: Vec<usize>,
    stops: Vec<usize>,
    /// Resting orders in priority order of entry.
    resting: Vec<usize>,
    /// Real liquidity already taken by own orders: (side, price, qty), until
    /// the feed next touches that level.
    taken: Vec<(Side, i64, u64)>,
    /// Fills seen in the current event: (real order id, qty not yet matched by its C/M).
    event_fills: Vec<(u64, u32)>,
    /// Highest and lowest trade price of the current event (stop triggers).
    event_hi: i64,
    event_lo: i64,
    last_trade: i64,
    next_expiry: u64,
    req_seq: u64,
    rest_seq: u64,
    lat_rng: Pcg,
    queue_rng: Pcg,
    reports: Vec<ExecReport>,
    stats: ExchangeStats,
}

const NO_HI: i64 = i64::MIN;
const NO_LO: i64 = i64::MAX;

impl Exchange {
    /// An exchange for `instrument_id` with an empty book.
    pub fn new(instrument_id: u32, cfg: ExchangeConfig) -> Result<Self, ExchangeError> {
        cfg.latency.check()?;
        cfg.schedule.validate()?;
        cfg.queue.check()?;
        if cfg.tick < 0 {
            return Err(ExchangeError::InvalidTick(cfg.tick));
        }
        let seed = cfg.seed;
        Ok(Exchange {
            instrument_id,
            cfg,
            book: L3Book::new(instrument_id),
            now: 0,
            orders: Vec::new(),
            ids: HashMap::new(),
            pending: VecDeque::new(),
            held: Vec::new(),
            stops: Vec::new(),
            resting: Vec::new(),
            taken: Vec::new(),
            event_fills: Vec::new(),
            event_hi: NO_HI,
            event_lo: NO_LO,
            last_trade: NO_PRICE,
            next_expiry: u64::MAX,
            req_seq: 0,
            rest_seq: 0,
            lat_rng: Pcg::new(seed, 1),
            queue_rng: Pcg::new(seed, 2),
            reports: Vec::new(),
            stats: ExchangeStats::default(),
        })
    }

    // ------------------------------------------------------------ queries

    /// The real book of the replayed feed (own orders are not in it).
    pub fn book(&self) -> &L3Book {
        &self.book
    }

    /// The instrument this exchange trades.
    pub fn instrument_id(&self) -> u32 {
        self.instrument_id
    }

    /// The exchange clock: the latest feed `ts_event` or arrival time processed (ns).
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Counters.
    pub fn stats(&self) -> ExchangeStats {
        self.stats
    }

    /// The configuration.
    pub fn config(&self) -> &ExchangeConfig {
        &self.cfg
    }

    /// The last trade price seen on the feed (or [`NO_PRICE`]).
    pub fn last_trade(&self) -> i64 {
        self.last_trade
    }

    /// The state of an order by client id (the first order with that id).
    pub fn order(&self, client_id: u64) -> Option<OrderView> {
        let &i = self.ids.get(&client_id)?;
        let o = &self.orders[i];
        Some(OrderView {
            client_id,
            limit_price: o.req.limit_price,
            stop_price: o.req.stop_price,
            queue_ahead: if o.place == Place::Resting {
                o.queue.ahead
            } else {
                0
            },
            qty: o.req.qty,
            filled: o.filled,
            cancelled: o.cancelled,
            leaves: o.leaves(),
            status: o.status,
            side: o.req.side,
            order_type: o.req.order_type,
            tif: o.req.tif,
            resting: o.place == Place::Resting,
        })
    }

    /// Number of orders not yet finished (in flight, held, stops, resting).
    pub fn open_orders(&self) -> usize {
        self.pending
            .iter()
            .filter(|p| matches!(p.req, Request::New(_)))
            .count()
            + self.held.len()
            + self.stops.len()
            + self.resting.len()
    }

    /// Reports produced so far and not yet drained, in order.
    pub fn reports(&self) -> &[ExecReport] {
        &self.reports
    }

    /// Takes the reports produced so far.
    pub fn drain_reports(&mut self) -> Vec<ExecReport> {
        std::mem::take(&mut self.reports)
    }

    // ------------------------------------------------------------ requests

    fn enqueue(&mut self, ts_local: u64, req: Request) {
        let arrival = ts_local.saturating_add(self.cfg.latency.entry.draw(&mut self.lat_rng));
        let seq = self.req_seq;
        self.req_seq += 1;
        self.stats.requests += 1;
        let p = Pending { arrival, seq, req };
        let pos = self
            .pending
            .partition_point(|q| (q.arrival, q.seq) <= (arrival, seq));
        self.pending.insert(pos, p);
    }

    /// Sends a new order at the client's time `ts_local` (ns); it arrives after
    /// the entry latency. Invalid orders are rejected at arrival with a report.
    pub fn submit(&mut self, ts_local: u64, req: OrderRequest) {
        let idx = self.orders.len();
        self.orders.push(Own {
            req,
            filled: 0,
            cancelled: 0,
            status: OrderStatus::Pending,
            place: Place::InFlight,
            expire_at: u64::MAX,
            queue: QueueState::default(),
            rest_seq: 0,
            triggered: false,
        });
        self.enqueue(ts_local, Request::New(idx));
    }

    /// Sends a cancel for `client_id` at the client's time `ts_local`.
    pub fn cancel(&mut self, ts_local: u64, client_id: u64) {
        self.enqueue(ts_local, Request::Cancel(client_id));
    }

    /// Sends a replace for `client_id`: `qty` is the new total quantity
    /// (including what has filled); `limit_price` / `stop_price` the new
    /// prices ([`NO_PRICE`] keeps the current one). A price change or a
    /// larger working quantity loses queue priority; a smaller one keeps it.
    pub fn replace(
        &mut self,
        ts_local: u64,
        client_id: u64,
        qty: u32,
        limit_price: i64,
        stop_price: i64,
    ) {
        self.enqueue(
            ts_local,
            Request::Replace {
                client_id,
                qty,
                limit_price,
                stop_price,
            },
        );
    }

    // ------------------------------------------------------------ time

    /// Processes everything due at or before `t` with no feed record: request
    /// arrivals, held orders at the open, DAY expiries. Use it after the last
    /// record, or between records when the feed is quiet.
    pub fn advance_to(&mut self, t: u64) {
        if self.book.is_consistent() {
            self.process_until(t);
        }
    }

    fn next_wake(&self) -> u64 {
        let mut w = self.next_expiry;
        if let Some(p) = self.pending.front() {
            w = w.min(p.arrival);
        }
        if !self.held.is_empty() {
            w = w.min(self.cfg.schedule.next_open(self.now).unwrap_or(u64::MAX));
        }
        w
    }

    /// Runs the due timers in time order (expiry before an arrival at the same ns).
    fn process_until(&mut self, t: u64) {
        loop {
            let exp = self.next_expiry;
            let arr = self.pending.front().map_or(u64::MAX, |p| p.arrival);
            let open = if self.held.is_empty() {
                u64::MAX
            } else {
                self.cfg.schedule.next_open(self.now).unwrap_or(u64::MAX)
            };
            let when = exp.min(arr).min(open);
            if when > t {
                break;
            }
            self.now = self.now.max(when);
            if exp == when {
                self.expire(when);
            } else if open == when {
                self.release_held(when);
            } else if let Some(p) = self.pending.pop_front() {
                self.arrive(p);
            }
        }
        self.now = self.now.max(t);
    }

    fn expire(&mut self, t: u64) {
        let mut next = u64::MAX;
        let mut due = Vec::new();
        for (i, o) in self.orders.iter().enumerate() {
            if matches!(o.place, Place::Held | Place::Stop | Place::Resting) {
                if o.expire_at <= t {
                    due.push(i);
                } else {
                    next = next.min(o.expire_at);
                }
            }
        }
        for i in due {
            self.finish_cancel(i, t, ExecType::Expired, ExecReason::SessionEnd);
        }
        self.next_expiry = next;
    }

    fn release_held(&mut self, t: u64) {
        let held = std::mem::take(&mut self.held);
        for i in held {
            if self.orders[i].place == Place::Held {
                self.accept(i, t);
            }
        }
    }

    // ------------------------------------------------------------ arrivals

    fn arrive(&mut self, p: Pending) {
        let t = p.arrival;
        match p.req {
            Request::New(i) => self.arrive_new(i, t),
            Request::Cancel(id) => match self.live(id) {
                Some(i) => self.finish_cancel(i, t, ExecType::Cancelled, ExecReason::None),
                None => self.reject_request(id, t),
            },
            Request::Replace {
                client_id,
                qty,
                limit_price,
                stop_price,
            } => self.arrive_replace(client_id, qty, limit_price, stop_price, t),
        }
    }

    fn live(&self, client_id: u64) -> Option<usize> {
        let &i = self.ids.get(&client_id)?;
        matches!(
            self.orders[i].place,
            Place::Held | Place::Stop | Place::Resting
        )
        .then_some(i)
    }

    fn validate(&self, r: &OrderRequest) -> ExecReason {
        if r.qty == 0 {
            return ExecReason::InvalidQuantity;
        }
        let needs_limit = matches!(r.order_type, OrderType::Limit | OrderType::StopLimit);
        let needs_stop = matches!(r.order_type, OrderType::Stop | OrderType::StopLimit);
        if needs_limit != (r.limit_price != NO_PRICE) || needs_stop != (r.stop_price != NO_PRICE) {
            return ExecReason::InvalidPrice;
        }
        for (needed, px) in [(needs_limit, r.limit_price), (needs_stop, r.stop_price)] {
            if needed && !self.on_tick(px) {
                return ExecReason::OffTick;
            }
        }
        ExecReason::None
    }

    fn on_tick(&self, px: i64) -> bool {
        px > 0 && (self.cfg.tick == 0 || px % self.cfg.tick == 0)
    }

    fn arrive_new(&mut self, i: usize, t: u64) {
        let req = self.orders[i].req;
        let mut why = self.validate(&req);
        if why == ExecReason::None && self.ids.contains_key(&req.client_id) {
            why = ExecReason::DuplicateClientId;
        }
        if why != ExecReason::None {
            self.reject_new(i, t, why);
            return;
        }
        self.ids.insert(req.client_id, i);
        match self.cfg.schedule.state(t) {
            MarketState::Open => self.accept(i, t),
            state => match self.cfg.off_hours {
                OffHours::Hold => {
                    self.orders[i].place = Place::Held;
                    self.set_expiry(i, self.cfg.schedule.next_open(t).unwrap_or(u64::MAX));
                    self.held.push(i);
                }
                OffHours::Reject => {
                    let why = if state == MarketState::Halted {
                        ExecReason::Halted
                    } else {
                        ExecReason::MarketClosed
                    };
                    self.reject_new(i, t, why);
                }
            },
        }
    }

    fn set_expiry(&mut self, i: usize, from: u64) {
        let o = &mut self.orders[i];
        o.expire_at = if o.req.tif == TimeInForce::Day && from != u64::MAX {
            self.cfg.schedule.session_end(from)
        } else {
            u64::MAX
        };
        self.next_expiry = self.next_expiry.min(o.expire_at);
    }

    fn reject_new(&mut self, i: usize, t: u64, why: ExecReason) {
        let o = &mut self.orders[i];
        o.status = OrderStatus::Rejected;
        o.place = Place::Done;
        o.cancelled = o.req.qty;
        self.report(i, t, ExecType::Rejected, NO_PRICE, 0, Liquidity::None, why);
    }

    /// A rejected cancel or replace: the report carries the order's current state when known.
    fn reject_request(&mut self, client_id: u64, t: u64) {
        if let Some(&i) = self.ids.get(&client_id) {
            self.report(
                i,
                t,
                ExecType::Rejected,
                NO_PRICE,
                0,
                Liquidity::None,
                ExecReason::UnknownOrder,
            );
        } else {
            let r = ExecReport {
                ts_exchange: t,
                ts_local: t.saturating_add(self.cfg.latency.response.draw(&mut self.lat_rng)),
                client_id,
                seq: self.stats.reports,
                order_price: NO_PRICE,
                last_px: NO_PRICE,
                queue_ahead: 0,
                fee_per_contract: 0,
                fee: 0,
                order_qty: 0,
                last_qty: 0,
                cum_qty: 0,
                leaves_qty: 0,
                exec_type: ExecType::Rejected,
                status: OrderStatus::Rejected,
                side: OrderSide::Buy,
                liquidity: Liquidity::None,
                reason: ExecReason::UnknownOrder,
                _pad: [0; 3],
            };
            self.push_report(r);
        }
    }

    /// An order enters the market at `t` (arrival while open, or release of a held one).
    fn accept(&mut self, i: usize, t: u64) {
        self.set_expiry(i, t);
        self.orders[i].status = OrderStatus::Working;
        self.report(
            i,
            t,
            ExecType::New,
            NO_PRICE,
            0,
            Liquidity::None,
            ExecReason::None,
        );
        let o = &self.orders[i];
        if matches!(o.req.order_type, OrderType::Stop | OrderType::StopLimit) {
            let stop = o.req.stop_price;
            let side = o.req.side;
            self.orders[i].place = Place::Stop;
            self.stops.push(i);
            // Already through the stop: trigger at once.
            if self.last_trade != NO_PRICE && stop_hit(side, stop, self.last_trade, self.last_trade)
            {
                self.trigger(i, t);
            }
            return;
        }
        self.execute(i, t);
    }

    /// Takes liquidity for a market or marketable limit order, then rests,
    /// cancels the rest (IOC, market) or finishes.
    fn execute(&mut self, i: usize, t: u64) {
        let (side, limit, is_market, tif) = {
            let o = &self.orders[i];
            let market = o.req.order_type == OrderType::Market
                || (o.req.order_type == OrderType::Stop && o.triggered);
            (o.req.side, o.req.limit_price, market, o.req.tif)
        };
        if self.cfg.schedule.is_open(t) {
            self.take(i, t, if is_market { None } else { Some(limit) });
        }
        if self.orders[i].leaves() == 0 {
            return;
        }
        if is_market {
            self.finish_cancel(i, t, ExecType::Cancelled, ExecReason::NoLiquidity);
        } else if tif == TimeInForce::Ioc {
            self.finish_cancel(i, t, ExecType::Cancelled, ExecReason::ImmediateOrCancel);
        } else {
            self.rest(i, side, limit);
        }
    }

    /// Walks the real book's opposite side up to `limit`, net of what own
    /// orders have already taken there; one taker fill per price level.
    fn take(&mut self, i: usize, t: u64, limit: Option<i64>) {
        let side = self.orders[i].req.side;
        let opp = side.opposite_side();
        let mut left = u64::from(self.orders[i].leaves());
        let mut fills: Vec<(i64, u32)> = Vec::new();
        for lv in self.book.levels(opp) {
            if left == 0 {
                break;
            }
            if let Some(lim) = limit {
                if side.better(lv.price, lim) {
                    break;
                }
            }
            let avail = lv.size.saturating_sub(taken_at(&self.taken, opp, lv.price));
            let q = avail.min(left);
            if q > 0 {
                fills.push((lv.price, q as u32));
                left -= q;
            }
        }
        for (px, q) in fills {
            add_taken(&mut self.taken, opp, px, u64::from(q));
            self.fill(i, t, px, q, Liquidity::Taker);
        }
    }

    fn rest(&mut self, i: usize, side: OrderSide, price: i64) {
        let bs = side.book_side();
        let level = self.book.level(bs, price).map_or(0, |l| l.size);
        let known = if self.cfg.queue == QueueModel::L3Known && level > 0 {
            self.book
                .orders_at(bs, price)
                .iter()
                .map(|o| (o.order_id, o.size))
                .collect()
        } else {
            Vec::new()
        };
        let seq = self.rest_seq;
        self.rest_seq += 1;
        let o = &mut self.orders[i];
        o.queue = QueueState {
            ahead: level,
            entry_ahead: level,
            known,
        };
        o.rest_seq = seq;
        o.place = Place::Resting;
        self.resting.push(i);
    }

    fn trigger(&mut self, i: usize, t: u64) {
        self.stops.retain(|&s| s != i);
        let o = &mut self.orders[i];
        o.triggered = true;
        o.place = Place::InFlight;
        self.report(
            i,
            t,
            ExecType::Triggered,
            NO_PRICE,
            0,
            Liquidity::None,
            ExecReason::None,
        );
        self.execute(i, t);
    }

    fn arrive_replace(&mut self, client_id: u64, qty: u32, limit: i64, stop: i64, t: u64) {
        let Some(i) = self.live(client_id) else {
            self.reject_request(client_id, t);
            return;
        };
        let o = &self.orders[i];
        let has_limit = o.req.limit_price != NO_PRICE;
        let has_stop = o.req.stop_price != NO_PRICE && !o.triggered;
        let mut why = ExecReason::None;
        if (limit != NO_PRICE && !has_limit) || (stop != NO_PRICE && !has_stop) {
            why = ExecReason::ReplaceNotAllowed;
        } else if qty <= o.filled {
            why = ExecReason::InvalidQuantity;
        } else if (limit != NO_PRICE && !self.on_tick(limit))
            || (stop != NO_PRICE && !self.on_tick(stop))
        {
            why = ExecReason::OffTick;
        }
        if why != ExecReason::None {
            self.report(i, t, ExecType::Rejected, NO_PRICE, 0, Liquidity::None, why);
            return;
        }
        let old_leaves = o.leaves();
        let new_limit = if limit == NO_PRICE {
            o.req.limit_price
        } else {
            limit
        };
        let price_changed = new_limit != o.req.limit_price;
        let place = o.place;
        {
            let o = &mut self.orders[i];
            // The cancelled quantity stays as it is (zero while working).
            o.req.qty = qty;
            o.req.limit_price = new_limit;
            if stop != NO_PRICE {
                o.req.stop_price = stop;
            }
        }
        let new_leaves = self.orders[i].leaves();
        self.report(
            i,
            t,
            ExecType::Replaced,
            NO_PRICE,
            0,
            Liquidity::None,
            ExecReason::None,
        );
        match place {
            Place::Resting if price_changed || new_leaves > old_leaves => {
                // Loses priority: leave the queue and enter again (may trade at once).
                self.resting.retain(|&r| r != i);
                self.orders[i].place = Place::InFlight;
                self.execute(i, t);
            }
            Place::Stop => {
                let o = &self.orders[i];
                if self.last_trade != NO_PRICE
                    && stop_hit(
                        o.req.side,
                        o.req.stop_price,
                        self.last_trade,
                        self.last_trade,
                    )
                {
                    self.trigger(i, t);
                }
            }
            _ => {}
        }
    }

    // ------------------------------------------------------------ reports

    fn fill(&mut self, i: usize, t: u64, px: i64, q: u32, liq: Liquidity) {
        let o = &mut self.orders[i];
        o.filled += q;
        let done = o.leaves() == 0;
        o.status = if done {
            OrderStatus::Filled
        } else {
            OrderStatus::PartiallyFilled
        };
        if done {
            o.place = Place::Done;
        }
        self.stats.fills += 1;
        match liq {
            Liquidity::Maker => self.stats.maker_qty += u64::from(q),
            _ => self.stats.taker_qty += u64::from(q),
        }
        let kind = if done {
            ExecType::Fill
        } else {
            ExecType::PartialFill
        };
        self.report(i, t, kind, px, q, liq, ExecReason::None);
        if done {
            self.resting.retain(|&r| r != i);
        }
    }

    fn finish_cancel(&mut self, i: usize, t: u64, kind: ExecType, why: ExecReason) {
        let o = &mut self.orders[i];
        let q = o.leaves();
        o.cancelled += q;
        o.status = OrderStatus::Cancelled;
        let place = std::mem::replace(&mut o.place, Place::Done);
        match place {
            Place::Resting => self.resting.retain(|&r| r != i),
            Place::Stop => self.stops.retain(|&r| r != i),
            Place::Held => self.held.retain(|&r| r != i),
            _ => {}
        }
        self.report(i, t, kind, NO_PRICE, q, Liquidity::None, why);
    }

    #[allow(clippy::too_many_arguments)]
    fn report(
        &mut self,
        i: usize,
        t: u64,
        kind: ExecType,
        last_px: i64,
        last_qty: u32,
        liq: Liquidity,
        why: ExecReason,
    ) {
        let o = &self.orders[i];
        let per = match liq {
            Liquidity::Maker => self.cfg.fees.maker,
            Liquidity::Taker => self.cfg.fees.taker,
            Liquidity::None => 0,
        };
        let is_fill = matches!(kind, ExecType::Fill | ExecType::PartialFill);
        let r = ExecReport {
            ts_exchange: t,
            ts_local: t.saturating_add(self.cfg.latency.response.draw(&mut self.lat_rng)),
            client_id: o.req.client_id,
            seq: self.stats.reports,
            order_price: o.req.limit_price,
            last_px,
            queue_ahead: if liq == Liquidity::Maker {
                o.queue.entry_ahead
            } else {
                0
            },
            fee_per_contract: per,
            fee: if is_fill {
                per.saturating_mul(i64::from(last_qty))
            } else {
                0
            },
            order_qty: o.req.qty,
            last_qty,
            cum_qty: o.filled,
            leaves_qty: o.leaves(),
            exec_type: kind,
            status: o.status,
            side: o.req.side,
            liquidity: liq,
            reason: why,
            _pad: [0; 3],
        };
        self.push_report(r);
    }

    fn push_report(&mut self, r: ExecReport) {
        self.stats.reports += 1;
        self.reports.push(r);
    }

    // ------------------------------------------------------------ the feed

    /// Applies one MBO record of the feed: runs the timers due before it (at
    /// an event boundary), advances own queues, fills own orders, applies the
    /// record to the real book, and at the event's last record (`F_LAST`)
    /// triggers stops and fills own orders the market has moved through.
    ///
    /// Records of other instruments are ignored (`Ok(Applied::Unchanged)`). A
    /// record the book refuses is counted and skipped (its error is returned;
    /// the exchange stays consistent and the replay can go on).
    pub fn on_mbo(&mut self, msg: &MboMsg) -> Result<Applied, BookError> {
        if msg.hd.instrument_id != self.instrument_id {
            self.stats.other_instruments += 1;
            return Ok(Applied::Unchanged);
        }
        let t = msg.hd.ts_event;
        if self.book.is_consistent() && t >= self.next_wake() {
            self.process_until(t);
        }
        self.now = self.now.max(t);
        self.stats.records += 1;
        let action = msg.action as u8;
        let mut old_level = None;
        if !self.resting.is_empty() {
            old_level = self.before_record(msg, action);
        }
        if !self.taken.is_empty() {
            if let Some(s) = Side::from_dbn(msg.side as u8) {
                self.taken
                    .retain(|&(ts, tp, _)| !(ts == s && tp == msg.price));
            }
            if let Some((s, p)) = old_level {
                self.taken.retain(|&(ts, tp, _)| !(ts == s && tp == p));
            }
        }
        if (action == b'T' || action == b'F') && msg.price != NO_PRICE {
            self.last_trade = msg.price;
            self.event_hi = self.event_hi.max(msg.price);
            self.event_lo = self.event_lo.min(msg.price);
        }
        let res = self.book.apply(msg);
        if res.is_err() {
            self.stats.refused += 1;
        }
        if !self.resting.is_empty() {
            if action == b'R' {
                for k in 0..self.resting.len() {
                    let i = self.resting[k];
                    self.orders[i].queue.on_clear();
                }
            }
            self.cap_level(old_level);
            if let Some(s) = Side::from_dbn(msg.side as u8) {
                self.cap_level(Some((s, msg.price)));
            }
        }
        if msg.flags.raw() & flags::LAST != 0 {
            self.event_fills.clear();
            self.on_boundary(t);
        }
        res
    }

    fn cap_level(&mut self, level: Option<(Side, i64)>) {
        let Some((side, price)) = level else { return };
        let size = self.book.level(side, price).map_or(0, |l| l.size);
        for k in 0..self.resting.len() {
            let i = self.resting[k];
            let o = &mut self.orders[i];
            if o.req.side.book_side() == side && o.req.limit_price == price {
                o.queue.cap(size);
            }
        }
    }

    /// Queue updates and maker fills from a record, before the book applies it.
    /// Returns the (side, price) level the record's order was at, if known.
    fn before_record(&mut self, msg: &MboMsg, action: u8) -> Option<(Side, i64)> {
        match action {
            b'F' => {
                match self.event_fills.iter_mut().find(|f| f.0 == msg.order_id) {
                    Some(f) => f.1 = f.1.saturating_add(msg.size),
                    None => self.event_fills.push((msg.order_id, msg.size)),
                }
                // A fill moves a queue only when it is a resting order's: the
                // book has the order at the record's side and price, or the
                // record has side `N` (auction: the book's order tells the
                // level). An `F` at another price is the fill of an order that
                // crossed as aggressor; an `F` of an order the book does not
                // hold (an aggressor that never rested, or a feed that started
                // mid-session) moves nothing.
                let o = self.book.order(msg.order_id)?;
                let rec_side = Side::from_dbn(msg.side as u8);
                if rec_side.is_some() && (rec_side != Some(o.side) || msg.price != o.price) {
                    return None;
                }
                self.on_real_fill(
                    o.side,
                    o.price,
                    msg.order_id,
                    u64::from(msg.size),
                    msg.hd.ts_event,
                );
                Some((o.side, o.price))
            }
            b'C' | b'M' => {
                let o = self.book.order(msg.order_id)?;
                let new_size = if action == b'C' {
                    o.size.saturating_sub(msg.size)
                } else {
                    msg.size
                };
                let lost = action == b'M' && (msg.price != o.price || msg.size > o.size);
                let gone = lost || new_size == 0;
                let reduction = if gone { o.size } else { o.size - new_size };
                let explained = self.explain(msg.order_id, reduction);
                let c = u64::from(reduction - explained);
                if c > 0 || gone {
                    let level = self.book.level(o.side, o.price).map_or(0, |l| l.size);
                    self.on_removal(o.side, o.price, msg.order_id, c, gone, level);
                }
                Some((o.side, o.price))
            }
            _ => None,
        }
    }

    /// The part of a size reduction of `id` explained by fills earlier in the event.
    fn explain(&mut self, id: u64, reduction: u32) -> u32 {
        if let Some(k) = self.event_fills.iter().position(|f| f.0 == id) {
            let e = self.event_fills[k].1.min(reduction);
            self.event_fills[k].1 -= e;
            if self.event_fills[k].1 == 0 {
                self.event_fills.swap_remove(k);
            }
            e
        } else {
            0
        }
    }

    fn on_removal(&mut self, side: Side, price: i64, id: u64, c: u64, whole: bool, level: u64) {
        let model = self.cfg.queue;
        for k in 0..self.resting.len() {
            let i = self.resting[k];
            let o = &mut self.orders[i];
            if o.req.side.book_side() == side && o.req.limit_price == price {
                o.queue
                    .on_removal(model, &mut self.queue_rng, id, c, whole, level);
            }
        }
    }

    /// A real order at (`side`, `price`) traded `q`: advance queues at that
    /// price, and fill own orders that the trade passed, in price-time priority.
    fn on_real_fill(&mut self, side: Side, price: i64, id: u64, q: u64, t: u64) {
        if !self.cfg.schedule.is_open(t) {
            return;
        }
        let model = self.cfg.queue;
        // Own orders on that side at the traded price or better for the aggressor
        // (i.e. at a price the trade went through), best first then by entry.
        let mut cands: Vec<(i64, u64, usize)> = Vec::new();
        for &i in &self.resting {
            let o = &self.orders[i];
            let os = o.req.side;
            if os.book_side() == side
                && (o.req.limit_price == price || os.better(o.req.limit_price, price))
            {
                cands.push((o.req.limit_price, o.rest_seq, i));
            }
        }
        if cands.is_empty() {
            return;
        }
        match side {
            Side::Bid => cands.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1))),
            Side::Ask => cands.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1))),
        }
        let level = self.book.level(side, price).map_or(0, |l| l.size);
        let mut used = 0u64;
        let mut fills: Vec<(usize, i64, u32)> = Vec::new();
        for &(px, _, i) in &cands {
            let o = &mut self.orders[i];
            let pass = if px == price {
                o.queue.cap(level);
                o.queue.on_fill_at_level(model, id, q)
            } else if o.queue.ahead == 0 {
                // Traded through our price: the whole fill passed us.
                q
            } else {
                0
            };
            let give = pass.saturating_sub(used).min(u64::from(o.leaves())) as u32;
            if give > 0 {
                used += u64::from(give);
                fills.push((i, px, give));
            }
        }
        for (i, px, q) in fills {
            self.fill(i, t, px, q, Liquidity::Maker);
        }
    }

    /// At an event boundary (the book is consistent): stops, then own resting
    /// orders the opposite side has reached.
    fn on_boundary(&mut self, t: u64) {
        let (hi, lo) = (self.event_hi, self.event_lo);
        self.event_hi = NO_HI;
        self.event_lo = NO_LO;
        if self.stops.is_empty() && self.resting.is_empty() {
            return;
        }
        if !self.cfg.schedule.is_open(t) {
            return;
        }
        if hi != NO_HI && !self.stops.is_empty() {
            let due: Vec<usize> = self
                .stops
                .iter()
                .copied()
                .filter(|&i| {
                    let o = &self.orders[i];
                    stop_hit(o.req.side, o.req.stop_price, hi, lo)
                })
                .collect();
            for i in due {
                if self.orders[i].place == Place::Stop {
                    self.trigger(i, t);
                }
            }
        }
        if !self.resting.is_empty() && self.book.cross_state() == crate::book::CrossState::Normal {
            self.cross_resting(t);
        }
    }

    /// Own resting orders whose price the real opposite side has reached: in an
    /// uncrossed real book that means our level is empty there, so nothing real
    /// is ahead; they fill as makers at their price against that liquidity.
    fn cross_resting(&mut self, t: u64) {
        let bid = self.book.best_bid().map(|l| l.price);
        let ask = self.book.best_ask().map(|l| l.price);
        let mut cands: Vec<(OrderSide, i64, u64, usize)> = Vec::new();
        for &i in &self.resting {
            let o = &self.orders[i];
            let px = o.req.limit_price;
            let reached = match o.req.side {
                OrderSide::Buy => ask.is_some_and(|a| a <= px),
                OrderSide::Sell => bid.is_some_and(|b| b >= px),
            };
            if reached {
                cands.push((o.req.side, px, o.rest_seq, i));
            }
        }
        if cands.is_empty() {
            return;
        }
        cands.sort_by(|a, b| {
            let pa = if a.0 == OrderSide::Buy { -a.1 } else { a.1 };
            let pb = if b.0 == OrderSide::Buy { -b.1 } else { b.1 };
            (a.0 as i8)
                .cmp(&(b.0 as i8))
                .then(pa.cmp(&pb))
                .then(a.2.cmp(&b.2))
        });
        for (side, px, _, i) in cands {
            let opp = side.opposite_side();
            let mut left = u64::from(self.orders[i].leaves());
            let mut got: Vec<(i64, u64)> = Vec::new();
            for lv in self.book.levels(opp) {
                if left == 0 || side.better(lv.price, px) {
                    break;
                }
                let avail = lv.size.saturating_sub(taken_at(&self.taken, opp, lv.price));
                let q = avail.min(left);
                if q > 0 {
                    got.push((lv.price, q));
                    left -= q;
                }
            }
            let mut total = 0u64;
            for (lp, q) in got {
                add_taken(&mut self.taken, opp, lp, q);
                total += q;
            }
            if total > 0 {
                self.orders[i].queue.ahead = 0;
                self.fill(i, t, px, total as u32, Liquidity::Maker);
            }
        }
    }
}

#[inline]
fn stop_hit(side: OrderSide, stop: i64, hi: i64, lo: i64) -> bool {
    match side {
        OrderSide::Buy => hi >= stop,
        OrderSide::Sell => lo <= stop,
    }
}

#[inline]
fn taken_at(taken: &[(Side, i64, u64)], side: Side, price: i64) -> u64 {
    taken
        .iter()
        .filter(|t| t.0 == side && t.1 == price)
        .map(|t| t.2)
        .sum()
}

#[inline]
fn add_taken(taken: &mut Vec<(Side, i64, u64)>, side: Side, price: i64, q: u64) {
    match taken.iter_mut().find(|t| t.0 == side && t.1 == price) {
        Some(t) => t.2 += q,
        None => taken.push((side, price, q)),
    }
}
