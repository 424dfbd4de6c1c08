"""Connectivity as a state machine over IB's socket events and codes 1100/1101/1102 and the
farm notices 2103/2104/2105/2106/2158.

Pure (no I/O): :class:`IBClient` feeds it events and acts on the :class:`Action` it returns
(reconnect after a backoff, restore subscriptions, fill a bar gap from history).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class LinkState(StrEnum):
    """Where the connection to IB stands."""

    DISCONNECTED = "disconnected"  # no socket to TWS / Gateway
    CONNECTING = "connecting"
    CONNECTED = "connected"  # socket up, TWS / Gateway connected to IB
    IB_LOST = "ib_lost"  # socket up, but TWS / Gateway lost IB's servers (1100)


class Action(StrEnum):
    """What the client should do after an event."""

    NONE = "none"
    RECONNECT = "reconnect"  # after ``backoff`` seconds, same client id
    RESUBSCRIBE = "resubscribe"  # market data was lost: request it again and fill the gap
    FILL_GAP = "fill_gap"  # data kept, but bars may have been missed: fill from history


#: Farm notices: code -> (farm, ok).
FARM_CODES: dict[int, tuple[str, bool]] = {
    2103: ("market data", False),
    2104: ("market data", True),
    2105: ("historical data", False),
    2106: ("historical data", True),
    2158: ("security definition", True),
}


@dataclass
class Connectivity:
    """The state machine.

    Parameters
    ----------
    base_backoff, max_backoff : float
        Reconnect delay: ``base_backoff * 2**attempt``, at most ``max_backoff`` seconds.
    """

    base_backoff: float = 1.0
    max_backoff: float = 60.0
    state: LinkState = LinkState.DISCONNECTED
    attempts: int = 0
    farms: dict[str, bool] = field(default_factory=dict)
    history: list[tuple[LinkState, str]] = field(default_factory=list)
    wanted: bool = False  # the user asked to be connected

    @property
    def backoff(self) -> float:
        """Seconds to wait before the next reconnect attempt."""
        return min(self.max_backoff, self.base_backoff * 2 ** max(0, self.attempts - 1))

    @property
    def data_ok(self) -> bool:
        """Whether market data can flow (connected to IB, no farm reported broken)."""
        return self.state is LinkState.CONNECTED and all(self.farms.values())

    def _to(self, state: LinkState, why: str) -> None:
        self.state = state
        self.history.append((state, why))

    def connecting(self) -> None:
        """A connect attempt starts."""
        self.wanted = True
        self.attempts += 1
        self._to(LinkState.CONNECTING, f"attempt {self.attempts}")

    def connected(self, restored: bool) -> Action:
        """The API handshake completed; ``restored`` if this follows a lost connection."""
        self.attempts = 0
        self._to(LinkState.CONNECTED, "api ready")
        return Action.RESUBSCRIBE if restored else Action.NONE

    def connect_failed(self) -> Action:
        """A connect attempt failed."""
        self._to(LinkState.DISCONNECTED, "connect failed")
        return Action.RECONNECT if self.wanted else Action.NONE

    def socket_closed(self) -> Action:
        """The socket has really closed (a reconnect now cannot meet 'client id in use')."""
        if self.state is LinkState.DISCONNECTED:
            return Action.NONE
        self._to(LinkState.DISCONNECTED, "socket closed")
        return Action.RECONNECT if self.wanted else Action.NONE

    def closed_by_user(self) -> None:
        """``disconnect()``: stay down."""
        self.wanted = False
        self._to(LinkState.DISCONNECTED, "closed by user")

    def code(self, code: int) -> Action:
        """An error/notice code from TWS / Gateway."""
        if code == 1100:
            self._to(LinkState.IB_LOST, "1100 connectivity lost")
        elif code == 1101:
            self._to(LinkState.CONNECTED, "1101 restored, data lost")
            return Action.RESUBSCRIBE
        elif code == 1102:
            self._to(LinkState.CONNECTED, "1102 restored, data kept")
            return Action.FILL_GAP
        elif code in FARM_CODES:
            farm, ok = FARM_CODES[code]
            was = self.farms.get(farm, True)
            self.farms[farm] = ok
            if ok and not was and farm == "market data":
                return Action.FILL_GAP
        return Action.NONE
