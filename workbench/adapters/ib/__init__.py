"""Interactive Brokers: ``IBClient`` over ib-async, MCL contract qualification, and the
simulated IB Gateway (``workbench ib-gateway-sim``) that speaks the TWS API on loopback."""

from __future__ import annotations

from workbench.adapters.ib.bars import BarAggregator, LiveBar, RequestPacer
from workbench.adapters.ib.client import (
    LIVE_CONFIRMATION,
    LIVE_PORTS,
    PAPER_PORTS,
    BracketOrders,
    BrokerPosition,
    GatewayUnreachable,
    IBClient,
    LiveTradingRefused,
    PlacedOrder,
    new_order_ref,
)
from workbench.adapters.ib.contracts import IBFuture, front_month, listed_contracts
from workbench.adapters.ib.feed import Bar, BarFeed, ContractFeeds
from workbench.adapters.ib.gateway_sim import GatewayConfig, SimulatedGateway

__all__ = [
    "LIVE_CONFIRMATION",
    "LIVE_PORTS",
    "PAPER_PORTS",
    "Bar",
    "BarAggregator",
    "BarFeed",
    "BracketOrders",
    "BrokerPosition",
    "ContractFeeds",
    "GatewayConfig",
    "GatewayUnreachable",
    "IBClient",
    "IBFuture",
    "LiveBar",
    "LiveTradingRefused",
    "PlacedOrder",
    "RequestPacer",
    "SimulatedGateway",
    "front_month",
    "listed_contracts",
    "new_order_ref",
]
