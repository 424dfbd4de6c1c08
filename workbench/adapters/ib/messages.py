"""Server -> client messages of the TWS API at server version 178, as field lists.

Each function returns the fields of one message (message id first); :func:`protocol.encode`
frames them. Layouts follow ib-async 2.1.0's decoder (``decoder.py``) field by field; a
message with too few fields is dropped by the client with "Error handling fields", which the
tests watch for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from workbench.adapters.ib.contracts import IBFuture

# Incoming (client -> server) message ids.
IN_REQ_MKT_DATA = 1
IN_CANCEL_MKT_DATA = 2
IN_PLACE_ORDER = 3
IN_CANCEL_ORDER = 4
IN_REQ_OPEN_ORDERS = 5
IN_REQ_ACCOUNT_UPDATES = 6
IN_REQ_EXECUTIONS = 7
IN_REQ_IDS = 8
IN_REQ_CONTRACT_DATA = 9
IN_REQ_AUTO_OPEN_ORDERS = 15
IN_REQ_ALL_OPEN_ORDERS = 16
IN_REQ_MANAGED_ACCTS = 17
IN_REQ_HISTORICAL_DATA = 20
IN_CANCEL_HISTORICAL_DATA = 25
IN_REQ_CURRENT_TIME = 49
IN_REQ_REAL_TIME_BARS = 50
IN_CANCEL_REAL_TIME_BARS = 51
IN_REQ_GLOBAL_CANCEL = 58
IN_REQ_MARKET_DATA_TYPE = 59
IN_REQ_POSITIONS = 61
IN_REQ_ACCOUNT_SUMMARY = 62
IN_CANCEL_ACCOUNT_SUMMARY = 63
IN_CANCEL_POSITIONS = 64
IN_START_API = 71
IN_REQ_ACCOUNT_UPDATES_MULTI = 76
IN_CANCEL_ACCOUNT_UPDATES_MULTI = 77
IN_REQ_COMPLETED_ORDERS = 99

#: Connectivity and farm notices, with the texts the real gateway sends.
NOTICES: dict[int, str] = {
    1100: "Connectivity between IB and Trader Workstation has been lost.",
    1101: "Connectivity between IB and Trader Workstation has been restored - data lost.",
    1102: "Connectivity between IB and Trader Workstation has been restored - data maintained.",
    2103: "Market data farm connection is broken:usfarm",
    2104: "Market data farm connection is OK:usfarm",
    2105: "HMDS data farm connection is broken:ushmds",
    2106: "HMDS data farm connection is OK:ushmds",
    2158: "Sec-def data farm connection is OK:secdefnj",
}

Fields = list[object]


@dataclass
class OrderView:
    """What the server tells a client about one order (OPEN_ORDER / ORDER_STATUS)."""

    order_id: int
    client_id: int
    perm_id: int
    parent_id: int
    contract: IBFuture
    action: str
    quantity: float
    order_type: str
    lmt_price: float | None
    aux_price: float | None
    tif: str
    oca_group: str
    account: str
    order_ref: str
    status: str
    filled: float
    remaining: float
    avg_fill_price: float
    last_fill_price: float
    outside_rth: bool = False


def contract_fields(c: IBFuture, *, exchange: bool = True) -> Fields:
    """conId, symbol, secType, lastTrade, strike, right, multiplier, [exchange], currency,
    localSymbol, tradingClass: the 11 (or 10) fields most messages carry."""
    head: Fields = [c.con_id, c.symbol, "FUT", c.last_trade, 0.0, "", c.multiplier_text]
    tail: Fields = [c.currency, c.local_symbol, c.trading_class]
    return [*head, c.exchange, *tail] if exchange else [*head, *tail]


def error(req_id: int, code: int, text: str) -> Fields:
    """ERR_MSG: ``reqId`` -1 for notices, the order id for order errors."""
    return [4, 2, req_id, code, text, ""]


def notice(code: int, text: str | None = None) -> Fields:
    """A connectivity or farm notice (reqId -1)."""
    return error(-1, code, text if text is not None else NOTICES.get(code, f"notice {code}"))


def next_valid_id(order_id: int) -> Fields:
    """NEXT_VALID_ID."""
    return [9, 1, order_id]


def managed_accounts(accounts: Sequence[str]) -> Fields:
    """MANAGED_ACCTS: comma-joined account ids."""
    return [15, 1, ",".join(accounts)]


def current_time(epoch_sec: int) -> Fields:
    """CURRENT_TIME."""
    return [49, 1, epoch_sec]


def contract_data(req_id: int, c: IBFuture, time_zone: str = "US/Eastern") -> Fields:
    """CONTRACT_DATA for a future (no version field at v178; 40 fields with no sec ids)."""
    return [
        10,
        req_id,
        c.symbol,
        "FUT",
        c.last_trade,
        0.0,
        "",
        c.exchange,
        c.currency,
        c.local_symbol,
        c.trading_class,  # marketName
        c.trading_class,
        c.con_id,
        c.min_tick,
        c.multiplier_text,
        "ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,DAY,GTC,LMT,MKT,STP,STPLMT,TRAIL",
        c.exchange,
        1,  # priceMagnifier
        0,  # underConId
        c.long_name,
        "",  # primaryExchange
        c.contract_month,
        "",
        "",
        "",
        time_zone,
        "",  # tradingHours
        "",  # liquidHours
        "",  # evRule
        "",  # evMultiplier
        0,  # numSecIds
        1,  # aggGroup
        c.symbol,  # underSymbol
        "IND",  # underSecType
        "",  # marketRuleIds
        c.last_trade,  # realExpirationDate
        "",  # stockType
        1,  # minSize
        1,  # sizeIncrement
        1,  # suggestedSizeIncrement
    ]


def contract_data_end(req_id: int) -> Fields:
    """CONTRACT_DATA_END."""
    return [52, 1, req_id]


def open_order(o: OrderView) -> Fields:
    """OPEN_ORDER at server version 178 (127 fields for a plain order)."""
    fields: Fields = [5, o.order_id, *contract_fields(o.contract)]
    fields += [
        o.action,
        o.quantity,
        o.order_type,
        o.lmt_price,
        o.aux_price,
        o.tif,
        o.oca_group,
        o.account,
        "O",  # openClose
        0,  # origin: customer
        o.order_ref,
        o.client_id,
        o.perm_id,
        o.outside_rth,
        False,  # hidden
        0.0,  # discretionaryAmt
        "",  # goodAfterTime
        "",  # sharesAllocation (ignored)
        "",  # faGroup
        "",  # faMethod
        "",  # faPercentage
    ]
    fields += [
        "",  # modelCode
        "",  # goodTillDate
        "",  # rule80A
        "",  # percentOffset
        "",  # settlingFirm
        0,  # shortSaleSlot
        "",  # designatedLocation
        -1,  # exemptCode
        0,  # auctionStrategy
        "",  # startingPrice
        "",  # stockRefPrice
        "",  # delta
        "",  # stockRangeLower
        "",  # stockRangeUpper
        "",  # displaySize
        False,  # blockOrder
        False,  # sweepToFill
        False,  # allOrNone
        "",  # minQty
        3,  # ocaType
        False,  # eTradeOnly
        False,  # firmQuoteOnly
        "",  # nbboPriceCap
        o.parent_id,
        0,  # triggerMethod
        "",  # volatility
        0,  # volatilityType
        "",  # deltaNeutralOrderType (empty: no 8 extra fields)
        "",  # deltaNeutralAuxPrice
    ]
    fields += [
        False,  # continuousUpdate
        0,  # referencePriceType
        "",  # trailStopPrice
        "",  # trailingPercent
        "",  # basisPoints
        "",  # basisPointsType
        "",  # comboLegsDescrip
        0,  # comboLegs count
        0,  # orderComboLegs count
        0,  # smartComboRoutingParams count
        "",  # scaleInitLevelSize
        "",  # scaleSubsLevelSize
        "",  # scalePriceIncrement
        "",  # hedgeType (empty: no hedgeParam)
        False,  # optOutSmartRouting
        "",  # clearingAccount
        "",  # clearingIntent
        False,  # notHeld
        False,  # deltaNeutralContract present
        "",  # algoStrategy (empty: no params)
        False,  # solicited
        False,  # whatIf
        o.status,
    ]
    fields += [""] * 9  # margin before/change/after
    fields += [
        "",  # commission
        "",  # minCommission
        "",  # maxCommission
        "",  # commissionCurrency
        "",  # warningText
        False,  # randomizeSize
        False,  # randomizePrice
        0,  # conditions count
        "",  # adjustedOrderType
        "",  # triggerPrice
        "",  # trailStopPrice
        "",  # lmtPriceOffset
        "",  # adjustedStopPrice
        "",  # adjustedStopLimitPrice
        "",  # adjustedTrailingAmount
        0,  # adjustableTrailingUnit
        "",  # softDollarTier name
        "",  # softDollarTier value
        "",  # softDollarTier displayName
        "",  # cashQty
        False,  # dontUseAutoPriceForHedge
        False,  # isOmsContainer
        False,  # discretionaryUpToLimitPrice
        False,  # usePriceMgmtAlgo
        "",  # duration
        "",  # postToAts
        False,  # autoCancelParent
        "",  # minTradeQty
        "",  # minCompeteSize
        "",  # competeAgainstBestOffset
        "",  # midOffsetAtWhole
        "",  # midOffsetAtHalf
    ]
    return fields


def order_status(o: OrderView) -> Fields:
    """ORDER_STATUS (no version field)."""
    return [
        3,
        o.order_id,
        o.status,
        o.filled,
        o.remaining,
        o.avg_fill_price,
        o.perm_id,
        o.parent_id,
        o.last_fill_price,
        o.client_id,
        "",  # whyHeld
        "",  # mktCapPrice
    ]


def open_order_end() -> Fields:
    """OPEN_ORDER_END."""
    return [53, 1]


def completed_orders_end() -> Fields:
    """COMPLETED_ORDERS_END (no version field)."""
    return [102]


@dataclass(frozen=True)
class ExecutionView:
    """One execution as reported to clients."""

    exec_id: str
    order_id: int
    client_id: int
    perm_id: int
    contract: IBFuture
    time_ns: int
    account: str
    side: str  # BOT / SLD
    shares: float
    price: float
    cum_qty: float
    avg_price: float
    order_ref: str
    commission: float
    realized_pnl: float | None


def execution_data(req_id: int, e: ExecutionView, time_text: str) -> Fields:
    """EXECUTION_DATA (32 fields at v178): ``req_id`` -1 for a live fill."""
    return [
        11,
        req_id,
        e.order_id,
        *contract_fields(e.contract),
        e.exec_id,
        time_text,
        e.account,
        e.contract.exchange,
        e.side,
        e.shares,
        e.price,
        e.perm_id,
        e.client_id,
        0,  # liquidation
        e.cum_qty,
        e.avg_price,
        e.order_ref,
        "",  # evRule
        "",  # evMultiplier
        "",  # modelCode
        2,  # lastLiquidity: removed
        False,  # pendingPriceRevision
    ]


def execution_data_end(req_id: int) -> Fields:
    """EXECUTION_DATA_END."""
    return [55, 1, req_id]


def commission_report(e: ExecutionView) -> Fields:
    """COMMISSION_REPORT (exactly 8 fields)."""
    return [59, 1, e.exec_id, e.commission, "USD", e.realized_pnl, "", ""]


def position(account: str, c: IBFuture, qty: float, avg_cost: float) -> Fields:
    """POSITION_DATA (16 fields)."""
    return [61, 3, account, *contract_fields(c), qty, avg_cost]


def position_end() -> Fields:
    """POSITION_END."""
    return [62, 1]


def portfolio_value(
    account: str,
    c: IBFuture,
    qty: float,
    market_price: float,
    market_value: float,
    avg_cost: float,
    unrealized: float,
    realized: float,
) -> Fields:
    """PORTFOLIO_VALUE (20 fields; the exchange slot is primaryExchange, left empty)."""
    head = contract_fields(c, exchange=False)
    return [7, 8, *head[:7], "", *head[7:], qty, market_price, market_value, avg_cost,
            unrealized, realized, account]  # fmt: skip


def account_value(key: str, value: str, currency: str, account: str) -> Fields:
    """ACCT_VALUE."""
    return [6, 2, key, value, currency, account]


def account_time(hhmm: str) -> Fields:
    """ACCT_UPDATE_TIME."""
    return [8, 1, hhmm]


def account_download_end(account: str) -> Fields:
    """ACCT_DOWNLOAD_END."""
    return [54, 1, account]


def account_update_multi(req_id: int, account: str, key: str, value: str, cur: str) -> Fields:
    """ACCOUNT_UPDATE_MULTI."""
    return [73, 1, req_id, account, "", key, value, cur]


def account_update_multi_end(req_id: int) -> Fields:
    """ACCOUNT_UPDATE_MULTI_END."""
    return [74, 1, req_id]


def account_summary(req_id: int, account: str, tag: str, value: str, cur: str) -> Fields:
    """ACCOUNT_SUMMARY."""
    return [63, 1, req_id, account, tag, value, cur]


def account_summary_end(req_id: int) -> Fields:
    """ACCOUNT_SUMMARY_END."""
    return [64, 1, req_id]


def real_time_bar(
    req_id: int, epoch_sec: int, o: float, h: float, lo: float, c: float, v: float, n: int
) -> Fields:
    """REAL_TIME_BARS: one 5-second bar (wap = the bar's mean of OHLC)."""
    wap = round((o + h + lo + c) / 4, 4)
    return [50, 3, req_id, epoch_sec, o, h, lo, c, v, wap, n]


def historical_data(
    req_id: int,
    start: str,
    end: str,
    rows: Sequence[tuple[str, float, float, float, float, float, int]],
) -> Fields:
    """HISTORICAL_DATA: rows of (date, open, high, low, close, volume, count)."""
    fields: Fields = [17, req_id, start, end, len(rows)]
    for date, o, h, lo, c, v, n in rows:
        wap = round((o + h + lo + c) / 4, 4)
        fields += [date, o, h, lo, c, v, wap, n]
    return fields
