//! The simulated exchange as a FIX application: NewOrderSingle, OrderCancelRequest and
//! OrderCancelReplaceRequest in, ExecutionReport, OrderCancelReject and BusinessMessageReject
//! out, over an [`Exchange`] fed with MBO records. No socket and no clock: the gateway
//! (`gateway`, cargo feature `fix`) moves the bytes and says what time it is on the feed.
//!
//! # Mapping
//! - **Orders**: Side (54) `1` buy, `2` sell; OrdType (40) `1` market, `2` limit, `3` stop,
//!   `4` stop-limit; TimeInForce (59) `0` day (the default), `1` GTC, `3` IOC; OrderQty (38) a
//!   whole number of contracts; Price (44) and StopPx (99) decimal strings, read exactly into
//!   the exchange's 1e-9 fixed point. Symbol (55) must be the feed's instrument (its raw
//!   symbol, or its numeric instrument id).
//! - **Ids**: each accepted ClOrdID (11) maps to the exchange client id of its order; a
//!   replace moves the order to its new ClOrdID. A ClOrdID seen before (on any order,
//!   cancel or replace) is a duplicate: a NewOrderSingle is rejected (103=6), a cancel or
//!   replace gets an OrderCancelReject (102=6). OrigClOrdID (41) may name any ClOrdID of the
//!   order's chain. OrderID (37) is fixed for the life of the order.
//! - **Reports** (FIX 4.4 ExecType 150): new `0`, partial fill and fill `F` (OrdStatus `1` /
//!   `2`, with LastQty, LastPx, and the fee as MiscFees 136/137/138/139=4), cancelled `4`,
//!   replaced `5`, rejected `8` (OrdRejReason 103 and Text 58), expired `C`, stop triggered
//!   `D` (restated, 378=99, Text "stop triggered"). CumQty, LeavesQty and AvgPx follow the
//!   exchange's quantities. TransactTime (60) is the exchange's (feed) time.
//! - **Cancel / replace** that cannot be done (unknown order, finished order, side or order
//!   type change, quantity not above what has filled, off-tick price): OrderCancelReject (35=9)
//!   with CxlRejResponseTo (434) and CxlRejReason (102).
//! - Any other application message: BusinessMessageReject (35=j, 380=3).
//! - Requests reach the exchange with no entry latency: the real network is the latency.

use std::collections::{HashMap, VecDeque};

use dbn::MboMsg;

use super::codec::{write_utc_timestamp, Message, TimePrecision};
use super::dictionary::BUSINESS_REJECT_UNSUPPORTED_MSG_TYPE;
use super::tags::{self, msg_type as mt};
use crate::exchange::{
    Exchange, ExecReason, ExecReport, ExecType, Liquidity, OrderRequest, OrderSide, OrderStatus,
    OrderType, TimeInForce, NO_PRICE,
};

/// OrdRejReason (103) values used.
mod rej {
    pub const EXCHANGE_OPTION: &str = "0";
    pub const UNKNOWN_SYMBOL: &str = "1";
    pub const EXCHANGE_CLOSED: &str = "2";
    pub const UNKNOWN_ORDER: &str = "5";
    pub const DUPLICATE_ORDER: &str = "6";
    pub const UNSUPPORTED_CHARACTERISTIC: &str = "11";
    pub const INCORRECT_QUANTITY: &str = "13";
    pub const OTHER: &str = "99";
}

/// CxlRejReason (102) values used.
mod cxl {
    pub const TOO_LATE: &str = "0";
    pub const UNKNOWN_ORDER: &str = "1";
    pub const DUPLICATE_CL_ORD_ID: &str = "6";
    pub const OTHER: &str = "99";
}

/// Counters of an [`ExchangeApp`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppStats {
    /// NewOrderSingle messages received.
    pub orders: u64,
    /// OrderCancelRequest messages received.
    pub cancels: u64,
    /// OrderCancelReplaceRequest messages received.
    pub replaces: u64,
    /// ExecutionReports produced.
    pub execution_reports: u64,
    /// Fill and partial-fill reports produced.
    pub fills: u64,
    /// Orders rejected (ExecutionReport 150=8).
    pub rejects: u64,
    /// OrderCancelReject messages produced.
    pub cancel_rejects: u64,
    /// BusinessMessageReject messages produced.
    pub business_rejects: u64,
    /// Feed records given to the exchange.
    pub records: u64,
    /// OrderStatusRequest messages answered.
    pub status_requests: u64,
}

#[derive(Debug, Clone)]
struct OrderInfo {
    cl_ord_id: String,
    orig_cl_ord_id: Option<String>,
    order_id: String,
    ord_type: u8,
    tif: u8,
    account: Option<String>,
    /// Sum of fill price x quantity (1e-9 fixed point), for AvgPx.
    notional: i128,
    /// A report was seen (so a later rejection answers a cancel or replace).
    seen: bool,
}

#[derive(Debug, Clone)]
enum Pending {
    Cancel {
        cl_ord_id: String,
    },
    Replace {
        cl_ord_id: String,
        ord_type: u8,
        tif: u8,
    },
}

/// The FIX face of one simulated [`Exchange`] (one instrument).
#[derive(Debug)]
pub struct ExchangeApp {
    exchange: Exchange,
    symbol: String,
    instrument: String,
    /// Every ClOrdID used so far, to the client id of its order.
    cl_ord_ids: HashMap<String, u64>,
    orders: HashMap<u64, OrderInfo>,
    /// Cancels and replaces sent to the exchange and not yet answered, per client id.
    pending: HashMap<u64, VecDeque<Pending>>,
    next_client_id: u64,
    next_exec_id: u64,
    exec_prefix: String,
    precision: TimePrecision,
    stats: AppStats,
}

impl ExchangeApp {
    /// The application over `exchange`; `symbol` is the instrument's Symbol (55).
    /// `run_tag` prefixes ExecIDs and OrderIDs so that they stay unique across restarts
    /// (e.g. the start time in seconds).
    pub fn new(exchange: Exchange, symbol: &str, run_tag: &str) -> Self {
        let instrument = exchange.instrument_id().to_string();
        Self {
            exchange,
            symbol: symbol.to_string(),
            instrument,
            cl_ord_ids: HashMap::new(),
            orders: HashMap::new(),
            pending: HashMap::new(),
            next_client_id: 1,
            next_exec_id: 1,
            exec_prefix: run_tag.to_string(),
            precision: TimePrecision::Millis,
            stats: AppStats::default(),
        }
    }

    /// Writes TransactTime with this precision (milliseconds by default).
    pub fn set_timestamp_precision(&mut self, precision: TimePrecision) {
        self.precision = precision;
    }

    /// The exchange.
    pub fn exchange(&self) -> &Exchange {
        &self.exchange
    }

    /// The instrument's Symbol (55).
    pub fn symbol(&self) -> &str {
        &self.symbol
    }

    /// Counters.
    pub fn stats(&self) -> AppStats {
        self.stats
    }

    /// The client id of the order a ClOrdID belongs to.
    pub fn client_id(&self, cl_ord_id: &str) -> Option<u64> {
        self.cl_ord_ids.get(cl_ord_id).copied()
    }

    /// Applies one feed record and appends the reports it causes to `out`.
    pub fn on_record(&mut self, rec: &MboMsg, out: &mut Vec<Message>) {
        // A record the book refuses is counted by the exchange and skipped.
        let _ = self.exchange.on_mbo(rec);
        self.stats.records += 1;
        self.flush(out);
    }

    /// Lets feed time pass to `t` (ns) without records; appends reports to `out`.
    pub fn advance_to(&mut self, t: u64, out: &mut Vec<Message>) {
        self.exchange.advance_to(t);
        self.flush(out);
    }

    /// Handles one application message received at feed time `t` (ns); the answers are
    /// appended to `out`.
    pub fn on_message(&mut self, msg: &Message, t: u64, out: &mut Vec<Message>) {
        match msg.msg_type() {
            mt::NEW_ORDER_SINGLE => self.new_order(msg, t, out),
            mt::ORDER_CANCEL_REQUEST => self.cancel(msg, t, out),
            mt::ORDER_CANCEL_REPLACE_REQUEST => self.replace(msg, t, out),
            mt::ORDER_STATUS_REQUEST => self.order_status(msg, out),
            other => {
                self.stats.business_rejects += 1;
                let mut m = Message::of_type(mt::BUSINESS_MESSAGE_REJECT);
                if let Some(seq) = msg.get(tags::MSG_SEQ_NUM) {
                    m.push(tags::REF_SEQ_NUM, seq);
                }
                m.push(tags::REF_MSG_TYPE, other);
                m.push_int(
                    tags::BUSINESS_REJECT_REASON,
                    BUSINESS_REJECT_UNSUPPORTED_MSG_TYPE as i64,
                );
                m.push(
                    tags::TEXT,
                    format!(
                        "Unsupported Message Type {}: this exchange takes D, F, G and H",
                        String::from_utf8_lossy(other)
                    ),
                );
                out.push(m);
            }
        }
    }

    // ------------------------------------------------------------ requests

    fn new_order(&mut self, msg: &Message, t: u64, out: &mut Vec<Message>) {
        self.stats.orders += 1;
        let cl = msg.get_str(tags::CL_ORD_ID).unwrap_or("").to_string();
        let parsed = self.parse_new(msg, &cl);
        let (req, info) = match parsed {
            Ok(x) => x,
            Err((code, text)) => {
                out.push(self.reject_unsent(msg, &cl, code, &text));
                return;
            }
        };
        let cid = req.client_id;
        self.cl_ord_ids.insert(cl, cid);
        self.orders.insert(cid, info);
        self.exchange.submit(t, req);
        self.advance_to(t, out);
    }

    fn parse_new(
        &mut self,
        msg: &Message,
        cl: &str,
    ) -> Result<(OrderRequest, OrderInfo), (&'static str, String)> {
        if cl.is_empty() {
            return Err((rej::OTHER, "ClOrdID (11) missing".into()));
        }
        if self.cl_ord_ids.contains_key(cl) {
            return Err((rej::DUPLICATE_ORDER, format!("duplicate ClOrdID {cl}")));
        }
        self.check_symbol(msg)
            .map_err(|t| (rej::UNKNOWN_SYMBOL, t))?;
        let side = parse_side(msg).map_err(|t| (rej::UNSUPPORTED_CHARACTERISTIC, t))?;
        let ord_type = msg.get(tags::ORD_TYPE).unwrap_or(b"");
        let order_type = match ord_type {
            b"1" => OrderType::Market,
            b"2" => OrderType::Limit,
            b"3" => OrderType::Stop,
            b"4" => OrderType::StopLimit,
            _ => {
                return Err((
                    rej::UNSUPPORTED_CHARACTERISTIC,
                    format!(
                    "OrdType (40) {} not supported: use 1 market, 2 limit, 3 stop, 4 stop-limit",
                    String::from_utf8_lossy(ord_type)
                ),
                ))
            }
        };
        let tif_raw = msg.get(tags::TIME_IN_FORCE).unwrap_or(b"0");
        let tif = parse_tif(tif_raw).map_err(|t| (rej::UNSUPPORTED_CHARACTERISTIC, t))?;
        let qty = parse_qty(msg.get(tags::ORDER_QTY)).map_err(|t| (rej::INCORRECT_QUANTITY, t))?;
        let limit = parse_opt_price(msg, tags::PRICE).map_err(|t| (rej::OTHER, t))?;
        let stop = parse_opt_price(msg, tags::STOP_PX).map_err(|t| (rej::OTHER, t))?;
        let cid = self.next_client_id;
        self.next_client_id += 1;
        let req = OrderRequest {
            client_id: cid,
            limit_price: limit,
            stop_price: stop,
            qty,
            side,
            order_type,
            tif,
        };
        let info = OrderInfo {
            cl_ord_id: cl.to_string(),
            orig_cl_ord_id: None,
            order_id: format!("{}-{cid}", self.exec_prefix),
            ord_type: ord_type[0],
            tif: tif_raw[0],
            account: msg.get_str(tags::ACCOUNT).map(str::to_string),
            notional: 0,
            seen: false,
        };
        Ok((req, info))
    }

    fn check_symbol(&self, msg: &Message) -> Result<(), String> {
        match msg.get_str(tags::SYMBOL) {
            Some(s) if s == self.symbol || s == self.instrument => Ok(()),
            Some(s) => Err(format!(
                "unknown symbol {s}: this exchange trades {}",
                self.symbol
            )),
            None => Err("Symbol (55) missing".into()),
        }
    }

    /// Looks up OrigClOrdID and checks the new ClOrdID of a cancel or replace.
    fn cancel_target(&self, msg: &Message) -> Result<u64, (&'static str, String)> {
        let cl = msg.get_str(tags::CL_ORD_ID).unwrap_or("");
        if cl.is_empty() {
            return Err((cxl::OTHER, "ClOrdID (11) missing".into()));
        }
        if self.cl_ord_ids.contains_key(cl) {
            return Err((cxl::DUPLICATE_CL_ORD_ID, format!("duplicate ClOrdID {cl}")));
        }
        let orig = msg.get_str(tags::ORIG_CL_ORD_ID).unwrap_or("");
        match self.cl_ord_ids.get(orig) {
            Some(&cid) => Ok(cid),
            None => Err((
                cxl::UNKNOWN_ORDER,
                format!("unknown order: OrigClOrdID {orig}"),
            )),
        }
    }

    fn cancel(&mut self, msg: &Message, t: u64, out: &mut Vec<Message>) {
        self.stats.cancels += 1;
        let cid = match self.cancel_target(msg) {
            Ok(c) => c,
            Err((code, text)) => {
                out.push(self.cancel_reject(msg, None, b'1', code, &text));
                return;
            }
        };
        if let Err(text) = self.check_symbol(msg) {
            out.push(self.cancel_reject(msg, Some(cid), b'1', cxl::OTHER, &text));
            return;
        }
        let cl = msg.get_str(tags::CL_ORD_ID).unwrap_or("").to_string();
        self.cl_ord_ids.insert(cl.clone(), cid);
        self.pending
            .entry(cid)
            .or_default()
            .push_back(Pending::Cancel { cl_ord_id: cl });
        self.exchange.cancel(t, cid);
        self.advance_to(t, out);
    }

    fn replace(&mut self, msg: &Message, t: u64, out: &mut Vec<Message>) {
        self.stats.replaces += 1;
        let cid = match self.cancel_target(msg) {
            Ok(c) => c,
            Err((code, text)) => {
                out.push(self.cancel_reject(msg, None, b'2', code, &text));
                return;
            }
        };
        let checked = self.check_replace(msg, cid);
        let (qty, limit, stop, tif) = match checked {
            Ok(x) => x,
            Err(text) => {
                out.push(self.cancel_reject(msg, Some(cid), b'2', cxl::OTHER, &text));
                return;
            }
        };
        let cl = msg.get_str(tags::CL_ORD_ID).unwrap_or("").to_string();
        let ord_type = self.orders[&cid].ord_type;
        self.cl_ord_ids.insert(cl.clone(), cid);
        self.pending
            .entry(cid)
            .or_default()
            .push_back(Pending::Replace {
                cl_ord_id: cl,
                ord_type,
                tif,
            });
        self.exchange.replace(t, cid, qty, limit, stop);
        self.advance_to(t, out);
    }

    /// Answers an OrderStatusRequest (35=H) with an ExecutionReport 150=I: the order's
    /// current ClOrdID (any ClOrdID of its chain finds it), status and quantities; an unknown
    /// ClOrdID gets OrdStatus 8 with OrdRejReason 5 (unknown order), as QuickFIX's examples do.
    fn order_status(&mut self, msg: &Message, out: &mut Vec<Message>) {
        self.stats.status_requests += 1;
        self.stats.execution_reports += 1;
        let exec_id = self.exec_id();
        let cl = msg.get_str(tags::CL_ORD_ID).unwrap_or("NONE").to_string();
        let cid = self.cl_ord_ids.get(&cl).copied();
        let found = cid.and_then(|c| Some((self.orders.get(&c)?, self.exchange.order(c)?)));
        let mut m = Message::with_capacity(24, 200 + self.symbol.len());
        m.push(tags::MSG_TYPE, mt::EXECUTION_REPORT);
        let mut px = [0u8; 32];
        match found {
            Some((info, v)) => {
                m.push(tags::ORDER_ID, &info.order_id)
                    .push(tags::CL_ORD_ID, &info.cl_ord_id);
                if let Some(o) = &info.orig_cl_ord_id {
                    m.push(tags::ORIG_CL_ORD_ID, o);
                }
                if let Some(id) = msg.get(tags::ORD_STATUS_REQ_ID) {
                    m.push(tags::ORD_STATUS_REQ_ID, id);
                }
                m.push(tags::EXEC_ID, exec_id)
                    .push(tags::EXEC_TYPE, "I")
                    .push(tags::ORD_STATUS, [ord_status(v.status, ExecType::New)])
                    .push(tags::SYMBOL, &self.symbol)
                    .push(
                        tags::SIDE,
                        if v.side == OrderSide::Buy { b"1" } else { b"2" },
                    )
                    .push_int(tags::ORDER_QTY, i64::from(v.qty))
                    .push(tags::ORD_TYPE, [info.ord_type]);
                if v.limit_price != NO_PRICE {
                    m.push(tags::PRICE, fmt_price(v.limit_price, &mut px));
                }
                if v.stop_price != NO_PRICE {
                    m.push(tags::STOP_PX, fmt_price(v.stop_price, &mut px));
                }
                let avg = if v.filled > 0 {
                    (info.notional / i128::from(v.filled)) as i64
                } else {
                    0
                };
                m.push(tags::TIME_IN_FORCE, [info.tif])
                    .push_int(tags::LEAVES_QTY, i64::from(v.leaves))
                    .push_int(tags::CUM_QTY, i64::from(v.filled))
                    .push(tags::AVG_PX, fmt_price(avg, &mut px));
                self.push_time(&mut m, self.exchange.now());
            }
            None => {
                m.push(tags::ORDER_ID, "NONE").push(tags::CL_ORD_ID, &cl);
                if let Some(id) = msg.get(tags::ORD_STATUS_REQ_ID) {
                    m.push(tags::ORD_STATUS_REQ_ID, id);
                }
                m.push(tags::EXEC_ID, exec_id)
                    .push(tags::EXEC_TYPE, "I")
                    .push(tags::ORD_STATUS, "8")
                    .push(tags::SYMBOL, msg.get(tags::SYMBOL).unwrap_or(b"NONE"))
                    .push(tags::SIDE, msg.get(tags::SIDE).unwrap_or(b"1"))
                    .push(tags::LEAVES_QTY, "0")
                    .push(tags::CUM_QTY, "0")
                    .push(tags::AVG_PX, "0");
                self.push_time(&mut m, self.exchange.now());
                m.push(tags::ORD_REJ_REASON, rej::UNKNOWN_ORDER)
                    .push(tags::TEXT, format!("unknown order: ClOrdID {cl}"));
            }
        }
        out.push(m);
    }

    /// What the exchange cannot check itself: same symbol, side, order type and time in force.
    fn check_replace(&self, msg: &Message, cid: u64) -> Result<(u32, i64, i64, u8), String> {
        self.check_symbol(msg)?;
        let info = &self.orders[&cid];
        let view = self.exchange.order(cid);
        let side = parse_side(msg)?;
        if view.is_some_and(|v| v.side != side) {
            return Err("Side (54) cannot change on a replace".into());
        }
        let ot = msg.get(tags::ORD_TYPE).unwrap_or(b"");
        if ot != [info.ord_type] {
            return Err("OrdType (40) cannot change on a replace".into());
        }
        let tif = msg.get(tags::TIME_IN_FORCE).unwrap_or(&[info.tif])[0];
        if tif != info.tif {
            return Err("TimeInForce (59) cannot change on a replace".into());
        }
        let qty = parse_qty(msg.get(tags::ORDER_QTY))?;
        let limit = parse_opt_price(msg, tags::PRICE)?;
        let stop = parse_opt_price(msg, tags::STOP_PX)?;
        Ok((qty, limit, stop, tif))
    }

    // ------------------------------------------------------------ answers

    fn exec_id(&mut self) -> String {
        let id = self.next_exec_id;
        self.next_exec_id += 1;
        format!("{}-{id}", self.exec_prefix)
    }

    /// An ExecutionReport rejecting a NewOrderSingle that never reached the exchange.
    fn reject_unsent(&mut self, msg: &Message, cl: &str, code: &str, text: &str) -> Message {
        self.stats.rejects += 1;
        self.stats.execution_reports += 1;
        let mut m = Message::with_capacity(24, 256);
        m.push(tags::MSG_TYPE, mt::EXECUTION_REPORT);
        m.push(tags::ORDER_ID, "NONE")
            .push(tags::CL_ORD_ID, if cl.is_empty() { "NONE" } else { cl })
            .push(tags::EXEC_ID, self.exec_id())
            .push(tags::EXEC_TYPE, "8")
            .push(tags::ORD_STATUS, "8")
            .push(tags::SYMBOL, msg.get(tags::SYMBOL).unwrap_or(b"NONE"))
            .push(tags::SIDE, msg.get(tags::SIDE).unwrap_or(b"1"));
        if let Some(q) = msg.get(tags::ORDER_QTY) {
            m.push(tags::ORDER_QTY, q);
        }
        for tag in [
            tags::ORD_TYPE,
            tags::PRICE,
            tags::STOP_PX,
            tags::TIME_IN_FORCE,
        ] {
            if let Some(v) = msg.get(tag) {
                m.push(tag, v);
            }
        }
        m.push(tags::LEAVES_QTY, "0")
            .push(tags::CUM_QTY, "0")
            .push(tags::AVG_PX, "0");
        self.push_time(&mut m, self.exchange.now());
        m.push(tags::ORD_REJ_REASON, code).push(tags::TEXT, text);
        m
    }

    fn cancel_reject(
        &mut self,
        msg: &Message,
        cid: Option<u64>,
        response_to: u8,
        code: &str,
        text: &str,
    ) -> Message {
        let view = cid.and_then(|c| self.exchange.order(c));
        let status = view.map_or(b'8', |v| ord_status(v.status, ExecType::New));
        let order_id = cid
            .and_then(|c| self.orders.get(&c))
            .map_or("NONE", |o| o.order_id.as_str())
            .to_string();
        self.cancel_reject_msg(
            msg.get(tags::CL_ORD_ID).unwrap_or(b"NONE"),
            msg.get(tags::ORIG_CL_ORD_ID).unwrap_or(b"NONE"),
            &order_id,
            status,
            response_to,
            code,
            text,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn cancel_reject_msg(
        &mut self,
        cl: &[u8],
        orig: &[u8],
        order_id: &str,
        status: u8,
        response_to: u8,
        code: &str,
        text: &str,
    ) -> Message {
        self.stats.cancel_rejects += 1;
        let mut m = Message::with_capacity(12, 128);
        m.push(tags::MSG_TYPE, mt::ORDER_CANCEL_REJECT);
        m.push(tags::ORDER_ID, order_id)
            .push(tags::CL_ORD_ID, cl)
            .push(tags::ORIG_CL_ORD_ID, orig)
            .push(tags::ORD_STATUS, [status])
            .push(tags::CXL_REJ_RESPONSE_TO, [response_to]);
        self.push_time(&mut m, self.exchange.now());
        m.push(tags::CXL_REJ_REASON, code).push(tags::TEXT, text);
        m
    }

    fn push_time(&self, m: &mut Message, t: u64) {
        let mut buf = Vec::with_capacity(27);
        write_utc_timestamp(&mut buf, t as i64, self.precision);
        m.push(tags::TRANSACT_TIME, buf);
    }

    /// Turns the exchange's reports into FIX messages.
    fn flush(&mut self, out: &mut Vec<Message>) {
        if self.exchange.reports().is_empty() {
            return;
        }
        for r in self.exchange.drain_reports() {
            if let Some(m) = self.translate(&r) {
                out.push(m);
            }
        }
    }

    fn take_pending(&mut self, cid: u64, r: &ExecReport) -> Option<Pending> {
        let seen = self
            .orders
            .get_mut(&cid)
            .is_some_and(|o| std::mem::replace(&mut o.seen, true));
        let answers = match r.exec_type {
            ExecType::Replaced => true,
            ExecType::Cancelled => r.reason == ExecReason::None,
            // The first report of an order answers its NewOrderSingle.
            ExecType::Rejected => seen,
            _ => false,
        };
        if !answers {
            return None;
        }
        let q = self.pending.get_mut(&cid)?;
        let p = q.pop_front();
        if q.is_empty() {
            self.pending.remove(&cid);
        }
        p
    }

    fn translate(&mut self, r: &ExecReport) -> Option<Message> {
        let cid = r.client_id;
        let pending = self.take_pending(cid, r);
        if r.exec_type == ExecType::Rejected {
            if let Some(p) = pending {
                // A cancel or replace the exchange refused.
                let (cl, to) = match &p {
                    Pending::Cancel { cl_ord_id } => (cl_ord_id.clone(), b'1'),
                    Pending::Replace { cl_ord_id, .. } => (cl_ord_id.clone(), b'2'),
                };
                let info = self.orders.get(&cid)?;
                let orig = info.cl_ord_id.clone();
                let order_id = info.order_id.clone();
                let (code, text) = if r.reason == ExecReason::UnknownOrder {
                    (
                        cxl::TOO_LATE,
                        "too late: the order is no longer working".to_string(),
                    )
                } else {
                    (cxl::OTHER, r.reason.to_string())
                };
                let status = ord_status(r.status, ExecType::New);
                return Some(self.cancel_reject_msg(
                    cl.as_bytes(),
                    orig.as_bytes(),
                    &order_id,
                    status,
                    to,
                    code,
                    &text,
                ));
            }
        }
        let exec_id = self.exec_id();
        let precision = self.precision;
        let symbol_len = self.symbol.len();
        let info = self.orders.get_mut(&cid)?;
        let mut orig = None;
        match pending {
            Some(Pending::Cancel { cl_ord_id }) => {
                orig = Some(std::mem::replace(&mut info.cl_ord_id, cl_ord_id));
            }
            Some(Pending::Replace {
                cl_ord_id,
                ord_type,
                tif,
            }) => {
                orig = Some(std::mem::replace(&mut info.cl_ord_id, cl_ord_id));
                info.ord_type = ord_type;
                info.tif = tif;
            }
            None => {}
        }
        if orig.is_some() {
            info.orig_cl_ord_id = orig.clone();
        }
        let is_fill = matches!(r.exec_type, ExecType::Fill | ExecType::PartialFill);
        if is_fill {
            info.notional += i128::from(r.last_px) * i128::from(r.last_qty);
        }
        let mut m = Message::with_capacity(28, 200 + symbol_len);
        m.push(tags::MSG_TYPE, mt::EXECUTION_REPORT);
        m.push(tags::ORDER_ID, &info.order_id)
            .push(tags::CL_ORD_ID, &info.cl_ord_id);
        if let Some(o) = &orig {
            m.push(tags::ORIG_CL_ORD_ID, o);
        }
        if let Some(a) = &info.account {
            m.push(tags::ACCOUNT, a);
        }
        let exec_type: &[u8] = match r.exec_type {
            ExecType::New => b"0",
            ExecType::PartialFill | ExecType::Fill => b"F",
            ExecType::Cancelled => b"4",
            ExecType::Replaced => b"5",
            ExecType::Rejected => b"8",
            ExecType::Expired => b"C",
            ExecType::Triggered => b"D",
        };
        m.push(tags::EXEC_ID, exec_id)
            .push(tags::EXEC_TYPE, exec_type)
            .push(tags::ORD_STATUS, [ord_status(r.status, r.exec_type)])
            .push(tags::SYMBOL, &self.symbol)
            .push(
                tags::SIDE,
                if r.side == OrderSide::Buy { b"1" } else { b"2" },
            )
            .push_int(tags::ORDER_QTY, i64::from(r.order_qty))
            .push(tags::ORD_TYPE, [info.ord_type]);
        let mut px = [0u8; 32];
        if r.order_price != NO_PRICE {
            m.push(tags::PRICE, fmt_price(r.order_price, &mut px));
        }
        if let Some(v) = self.exchange.order(cid) {
            if v.stop_price != NO_PRICE {
                m.push(tags::STOP_PX, fmt_price(v.stop_price, &mut px));
            }
        }
        m.push(tags::TIME_IN_FORCE, [info.tif]);
        if is_fill {
            m.push_int(tags::LAST_QTY, i64::from(r.last_qty))
                .push(tags::LAST_PX, fmt_price(r.last_px, &mut px));
            // LastLiquidityInd (851): 1 added liquidity (maker), 2 removed it (taker)
            match r.liquidity {
                Liquidity::Maker => {
                    m.push(tags::LAST_LIQUIDITY_IND, "1");
                }
                Liquidity::Taker => {
                    m.push(tags::LAST_LIQUIDITY_IND, "2");
                }
                Liquidity::None => {}
            }
        }
        m.push_int(tags::LEAVES_QTY, i64::from(r.leaves_qty))
            .push_int(tags::CUM_QTY, i64::from(r.cum_qty));
        let avg = if r.cum_qty > 0 {
            (info.notional / i128::from(r.cum_qty)) as i64
        } else {
            0
        };
        m.push(tags::AVG_PX, fmt_price(avg, &mut px));
        let mut ts = Vec::with_capacity(27);
        write_utc_timestamp(&mut ts, r.ts_exchange as i64, precision);
        m.push(tags::TRANSACT_TIME, ts);
        match r.exec_type {
            ExecType::Rejected => {
                self.stats.rejects += 1;
                m.push(tags::ORD_REJ_REASON, ord_rej_reason(r.reason))
                    .push(tags::TEXT, r.reason.to_string());
            }
            ExecType::Triggered => {
                m.push(378, "99").push(tags::TEXT, "stop triggered");
            }
            ExecType::Cancelled | ExecType::Expired if r.reason != ExecReason::None => {
                m.push(tags::TEXT, r.reason.to_string());
            }
            _ => {}
        }
        if is_fill {
            self.stats.fills += 1;
            if r.fee != 0 {
                m.push(tags::NO_MISC_FEES, "1")
                    .push(tags::MISC_FEE_AMT, fmt_price(r.fee, &mut px))
                    .push(tags::MISC_FEE_CURR, "USD")
                    .push(tags::MISC_FEE_TYPE, "4");
            }
        }
        self.stats.execution_reports += 1;
        Some(m)
    }
}

fn ord_status(s: OrderStatus, kind: ExecType) -> u8 {
    match (s, kind) {
        (OrderStatus::Cancelled, ExecType::Expired) => b'C',
        (OrderStatus::Pending, _) => b'A',
        (OrderStatus::Working, _) => b'0',
        (OrderStatus::PartiallyFilled, _) => b'1',
        (OrderStatus::Filled, _) => b'2',
        (OrderStatus::Cancelled, _) => b'4',
        (OrderStatus::Rejected, _) => b'8',
    }
}

fn ord_rej_reason(r: ExecReason) -> &'static str {
    match r {
        ExecReason::InvalidQuantity => rej::INCORRECT_QUANTITY,
        ExecReason::DuplicateClientId => rej::DUPLICATE_ORDER,
        ExecReason::MarketClosed | ExecReason::Halted => rej::EXCHANGE_CLOSED,
        ExecReason::UnknownOrder => rej::UNKNOWN_ORDER,
        ExecReason::InvalidPrice | ExecReason::ReplaceNotAllowed => rej::UNSUPPORTED_CHARACTERISTIC,
        ExecReason::OffTick => rej::OTHER,
        _ => rej::EXCHANGE_OPTION,
    }
}

fn parse_side(msg: &Message) -> Result<OrderSide, String> {
    match msg.get(tags::SIDE) {
        Some(b"1") => Ok(OrderSide::Buy),
        Some(b"2") => Ok(OrderSide::Sell),
        Some(s) => Err(format!(
            "Side (54) {} not supported: use 1 buy or 2 sell",
            String::from_utf8_lossy(s)
        )),
        None => Err("Side (54) missing".into()),
    }
}

fn parse_tif(v: &[u8]) -> Result<TimeInForce, String> {
    match v {
        b"0" => Ok(TimeInForce::Day),
        b"1" => Ok(TimeInForce::Gtc),
        b"3" => Ok(TimeInForce::Ioc),
        _ => Err(format!(
            "TimeInForce (59) {} not supported: use 0 day, 1 GTC or 3 IOC",
            String::from_utf8_lossy(v)
        )),
    }
}

fn parse_qty(v: Option<&[u8]>) -> Result<u32, String> {
    let v = v.ok_or("OrderQty (38) missing")?;
    let px = parse_price(v).ok_or_else(|| {
        format!(
            "OrderQty (38) {} is not a number",
            String::from_utf8_lossy(v)
        )
    })?;
    if px % PRICE_SCALE != 0 || px < 0 || px / PRICE_SCALE > i64::from(u32::MAX) {
        return Err(format!(
            "OrderQty (38) {} is not a whole number of contracts",
            String::from_utf8_lossy(v)
        ));
    }
    Ok((px / PRICE_SCALE) as u32)
}

fn parse_opt_price(msg: &Message, tag: u32) -> Result<i64, String> {
    match msg.get(tag) {
        None => Ok(NO_PRICE),
        Some(v) => parse_price(v).ok_or_else(|| {
            format!(
                "tag {tag} value {} is not a price with at most 9 decimals",
                String::from_utf8_lossy(v)
            )
        }),
    }
}

/// 1e-9 fixed point: one unit of price.
pub const PRICE_SCALE: i64 = 1_000_000_000;

/// Reads a FIX decimal (`-12.345`, `7`, `.5`) exactly into 1e-9 fixed point; `None` when it
/// is malformed, has more than 9 significant decimals, or overflows.
pub fn parse_price(v: &[u8]) -> Option<i64> {
    let (neg, digits) = match v.first()? {
        b'-' => (true, &v[1..]),
        b'+' => (false, &v[1..]),
        _ => (false, v),
    };
    let (int, frac) = match digits.iter().position(|&c| c == b'.') {
        Some(p) => (&digits[..p], &digits[p + 1..]),
        None => (digits, &digits[..0]),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut n: i64 = 0;
    for &c in int {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(i64::from(c - b'0'))?;
    }
    n = n.checked_mul(PRICE_SCALE)?;
    let mut scale = PRICE_SCALE / 10;
    for &c in frac {
        if !c.is_ascii_digit() {
            return None;
        }
        let d = i64::from(c - b'0');
        if scale == 0 {
            if d != 0 {
                return None;
            }
            continue;
        }
        n = n.checked_add(d * scale)?;
        scale /= 10;
    }
    Some(if neg { -n } else { n })
}

/// Writes a 1e-9 fixed-point value as a FIX decimal without trailing zeros (`71.25`, `4785`).
pub fn fmt_price(v: i64, buf: &mut [u8; 32]) -> &[u8] {
    let neg = v < 0;
    let a = v.unsigned_abs();
    let (int, mut frac) = (a / PRICE_SCALE as u64, a % PRICE_SCALE as u64);
    let mut end = 32;
    let mut fd = 9;
    if frac > 0 {
        while frac % 10 == 0 {
            frac /= 10;
            fd -= 1;
        }
        for _ in 0..fd {
            end -= 1;
            buf[end] = b'0' + (frac % 10) as u8;
            frac /= 10;
        }
        end -= 1;
        buf[end] = b'.';
    }
    let mut i = int;
    loop {
        end -= 1;
        buf[end] = b'0' + (i % 10) as u8;
        i /= 10;
        if i == 0 {
            break;
        }
    }
    if neg {
        end -= 1;
        buf[end] = b'-';
    }
    &buf[end..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_read_and_write_exactly() {
        for (s, v) in [
            ("71.25", 71_250_000_000),
            ("-37.63", -37_630_000_000),
            ("4785", 4_785_000_000_000),
            (".5", 500_000_000),
            ("0.000000001", 1),
            ("1.2500000000", 1_250_000_000),
        ] {
            assert_eq!(parse_price(s.as_bytes()), Some(v), "{s}");
        }
        for bad in ["", "-", ".", "1.2.3", "1e3", "0.0000000001", "abc"] {
            assert_eq!(parse_price(bad.as_bytes()), None, "{bad}");
        }
        let mut b = [0u8; 32];
        for (v, s) in [
            (71_250_000_000, "71.25"),
            (-37_630_000_000, "-37.63"),
            (4_785_000_000_000, "4785"),
            (0, "0"),
            (1, "0.000000001"),
        ] {
            assert_eq!(fmt_price(v, &mut b), s.as_bytes());
        }
    }

    #[test]
    fn quantities_are_whole_contracts() {
        assert_eq!(parse_qty(Some(b"2")), Ok(2));
        assert_eq!(parse_qty(Some(b"3.00")), Ok(3));
        assert!(parse_qty(Some(b"2.5")).is_err());
        assert!(parse_qty(Some(b"-1")).is_err());
        assert!(parse_qty(Some(b"99999999999")).is_err());
        assert!(parse_qty(None).is_err());
    }
}
