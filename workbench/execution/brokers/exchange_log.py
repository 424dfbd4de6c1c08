"""The ``sim-l3`` exchange's inbound log: what the simulated exchange received, in order.

The simulated exchange lives in the session's process and dies with it; its state is a pure
function of its feed, its configuration and the calls it received (it is deterministic for a
given input and seed). This log is those calls, one JSON line each, appended with one
``write(2)`` *before* the call acts (as the journal's intent log), so a SIGKILL at any point
leaves a log whose complete lines are exactly the calls the exchange had begun to process
(a torn last line never reached it). Each line holds:

- ``k``: ``O`` a bar opens (the feed replayed to its start), ``B`` a bar's records replayed,
  ``S`` an order sent, ``C`` a cancel, ``M`` a stop moved; with their arguments;
- ``d``: the broker's nesting depth when called (0: by the engine's bar loop; 1 and more:
  from inside a fill or status notice, e.g. the stop placed when an entry fills);
- ``n``: how many notices the broker had handed out by then, which places a nested call at
  the notice it answered.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from workbench.model import Order, OrderType, Side, TimeInForce


class ExchangeLog:
    """An append-only JSON-lines file of the exchange's inbound calls.

    Parameters
    ----------
    path : str or Path
        The file (created when missing).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def read(self) -> tuple[list[dict[str, Any]], list[int]]:
        """The complete lines (a torn last line is left out) and each one's byte offset,
        plus one more: where the complete lines end."""
        if not self.path.exists():
            return [], [0]
        entries: list[dict[str, Any]] = []
        offsets: list[int] = []
        at = 0
        with open(self.path, "rb") as fh:
            for line in fh:
                if not line.endswith(b"\n"):
                    break  # that write never completed: the exchange never got the call
                entries.append(json.loads(line))
                offsets.append(at)
                at += len(line)
        offsets.append(at)
        return entries, offsets

    def truncate(self, size: int) -> None:
        """Drop everything from byte ``size`` on."""
        if self.path.exists() and self.path.stat().st_size > size:
            os.truncate(self.path, size)

    def append(self, entry: dict[str, Any]) -> None:
        """Write ``entry`` as one line (one ``write(2)``; no fsync, as the journal's log)."""
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.write(self._fd, (json.dumps(entry, separators=(",", ":")) + "\n").encode())

    def close(self) -> None:
        """Close the file."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def order_entry(order: Order, oca_group: str) -> dict[str, Any]:
    """The ``S`` line of an order sent (see :func:`logged_order` for the way back)."""
    return {
        "k": "S",
        "ref": order.order_ref,
        "symbol": order.symbol,
        "side": int(order.side),
        "qty": order.quantity,
        "type": order.order_type.value,
        "limit": order.limit_price,
        "stop": order.stop_price,
        "tif": order.time_in_force.value,
        "oca": oca_group,
    }


def logged_order(entry: dict[str, Any]) -> Order:
    """The order of an ``S`` line written by :func:`order_entry`."""
    return Order(
        entry["ref"],
        entry["symbol"],
        Side(entry["side"]),
        entry["qty"],
        OrderType(entry["type"]),
        limit_price=entry["limit"],
        stop_price=entry["stop"],
        time_in_force=TimeInForce(entry["tif"]),
    )
