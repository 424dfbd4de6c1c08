"""The ``fix`` broker's session log, and the replay of its tail after a restart.

The exchange behind ``workbench fix-exchange --speed driven`` is another process: it outlives
a killed paper session, with its book, its orders and its feed clock where the dead process
left them, possibly in the middle of a bar the journal has not committed. A restarted session
replays its journal up to ``bars_done`` (nothing goes to the broker), then redoes the first
uncommitted bar. For that bar to go as it went, the broker keeps a log
(:class:`~workbench.execution.brokers.exchange_log.ExchangeLog`: JSON lines, each appended
with one ``write(2)`` before it acts) of:

- ``O`` / ``B``: a bar opens / is replayed (``i``: its index), the engine's market-data calls;
- ``S``: an order submitted (``ref``, the order's fields, ``oca``), ``C`` / ``M``: a cancel /
  a stop move (``ref`` and the new ClOrdID ``cl``), the engine's order calls;
- ``Q``: a request handed to the FIX session (``m`` the :class:`FixInitiator` method, ``a``
  and ``kw`` its arguments);
- ``R``: a report read from the session (its attributes, ``seq_num`` included);
- ``D``: the connection dropped and the broker logged on again (its reconcile's requests
  follow); ``U``: the request before was refused by the session (not sent).

A restart (``resume_bar``: the journal's ``bars_done``):

1. rebuilds the broker's books from the lines before the ``O`` of ``resume_bar`` (orders,
   ClOrdIDs, fills, positions: the journal holds the same);
2. logs on again with the sequence store kept, expecting the MsgSeqNum after the last report
   it logged: whatever the dead process had received and not logged is asked again by a
   ResendRequest and comes back as a PossDup resend;
3. replays the rest of the log (the *tail*, :class:`TailInitiator`) while the engine redoes
   the bar: each request the broker would send must be the next logged one and is not sent
   again, each report it reads is the next logged one; fills and status changes reach the
   engine at the same points as in the dead process, and are journaled once, now;
4. where the tail ends, goes live (:meth:`TailInitiator.resync`): a barrier request collects
   the resends; a logged request with no answer among them never reached the exchange and is
   sent now, once; every order still open is asked for by an OrderStatusRequest (a fill no
   report brought is taken from it). Requests of this step are marked ``x`` in the log (a
   later restart skips them, and their answers are logged as they are read).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from workbench.errors import WorkbenchError
from workbench.execution.brokers.exchange_log import ExchangeLog

if TYPE_CHECKING:
    from workbench.native import FixInitiator, FixReport


class FixLogError(WorkbenchError):
    """The session log does not replay as it was written (another version, or edited)."""


@dataclass
class LoggedReport:
    """A report read back from the log: the attributes of a :class:`FixReport` used."""

    kind: str
    seq_num: int = 0
    cl_ord_id: str | None = None
    orig_cl_ord_id: str | None = None
    order_id: str | None = None
    exec_id: str | None = None
    ord_status: str | None = None
    last_qty: int | None = None
    last_px: float | None = None
    cum_qty: int | None = None
    avg_px: float | None = None
    ord_rej_reason: int | None = None
    text: str | None = None
    transact_time_ns: int | None = None
    last_liquidity_ind: int | None = None
    misc_fee_amt: float | None = None
    poss_dup: bool = False
    req_id: str | None = None
    replay_reached: bool | None = None


_REPORT_FIELDS = tuple(f.name for f in fields(LoggedReport))


def report_entry(r: FixReport | LoggedReport) -> dict[str, Any]:
    """The log line of a report."""
    entry: dict[str, Any] = {"k": "R"}
    for name in _REPORT_FIELDS:
        value = getattr(r, name)
        if value is not None and value is not False:
            entry[name] = value
    return entry


def logged_report(entry: dict[str, Any]) -> LoggedReport:
    """A report from its log line."""
    return LoggedReport(**{k: v for k, v in entry.items() if k != "k"})


def answers(request: dict[str, Any], r: FixReport | LoggedReport) -> bool:
    """Whether ``r`` is the exchange's answer to the logged request ``request``."""
    m, a, kw = request["m"], request["a"], request["kw"]
    if m == "replay":
        return r.kind == "replay_status" and r.req_id == kw.get("req_id")
    if m == "order_status":
        return r.kind == "status" and r.req_id == kw.get("req_id")
    # new_order, cancel, replace: any report on the new ClOrdID (a reject included)
    return r.cl_ord_id == a[0] and r.kind != "status"


class _Requests:
    """The FIX requests a broker makes, each through the class's ``call`` (logged by
    :class:`LoggingInitiator`, matched against the log by :class:`TailInitiator`)."""

    def call(self, method: str, *args: Any, **kw: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def new_order(self, *args: Any, **kw: Any) -> int:
        """A NewOrderSingle."""
        return int(self.call("new_order", *args, **kw))

    def cancel(self, *args: Any, **kw: Any) -> int:
        """An OrderCancelRequest."""
        return int(self.call("cancel", *args, **kw))

    def replace(self, *args: Any, **kw: Any) -> int:
        """An OrderCancelReplaceRequest."""
        return int(self.call("replace", *args, **kw))

    def order_status(self, *args: Any, **kw: Any) -> int:
        """An OrderStatusRequest."""
        return int(self.call("order_status", *args, **kw))

    def replay(self, *args: Any, **kw: Any) -> int:
        """A ReplayRequest (the driven clock)."""
        return int(self.call("replay", *args, **kw))


class LoggingInitiator(_Requests):
    """A live :class:`FixInitiator` whose requests and reports are logged (before acting)."""

    def __init__(self, ini: FixInitiator, log: ExchangeLog) -> None:
        self.ini = ini
        self.log = log

    @property
    def logged_on(self) -> bool:
        """Whether the session is logged on."""
        return self.ini.logged_on

    def call(self, method: str, *args: Any, x: bool = False, **kw: Any) -> Any:
        """Log the request ``method(*args, **kw)``, then send it (``x``: a resync's)."""
        entry: dict[str, Any] = {"k": "Q", "m": method, "a": list(args), "kw": kw}
        if x:
            entry["x"] = 1
        self.log.append(entry)
        try:
            return getattr(self.ini, method)(*args, **kw)
        except RuntimeError:  # refused (not logged on): it never went out
            self.log.append({"k": "U"})
            raise

    def next_report(self, timeout: float) -> FixReport | LoggedReport | None:
        """The next report, logged before it is returned."""
        r = self.ini.next_report(timeout)
        if r is not None:
            self.log.append(report_entry(r))
        return r

    def logout(self, timeout: float = 5.0) -> list[FixReport]:
        """Log out (the reports that came meanwhile are not logged: the session ends)."""
        return self.ini.logout(timeout=timeout)


class TailInitiator(_Requests):
    """Replays the tail of the log in place of the FIX session (see the module docstring).

    Parameters
    ----------
    tail : list of dict
        The log lines from the ``O`` of the bar the session resumes at.
    live : LoggingInitiator
        The session, logged on again; used once the tail is spent.
    resync : callable
        Called with this object when the tail is spent, before anything goes live.
    """

    def __init__(
        self,
        tail: list[dict[str, Any]],
        live: LoggingInitiator,
        resync: Callable[[TailInitiator], None],
    ) -> None:
        kept = [e for e in tail if e["k"] in ("Q", "R", "D", "U") and not e.get("x")]
        # a request the session refused (``U`` after it) was not sent: it is not replayed
        kept = [
            e
            for k, e in enumerate(kept)
            if e["k"] != "U" and not (k + 1 < len(kept) and kept[k + 1]["k"] == "U")
        ]
        self.tail = deque(kept)
        self.live = live
        self._resync = resync
        self.buffer: deque[FixReport | LoggedReport] = deque()
        """Reports read by the resync, handed out by :meth:`next_report` first."""
        self.unanswered: list[dict[str, Any]] = []
        """Logged requests whose answer the tail does not have."""
        self.spent = False
        self.replayed = 0
        """Requests and reports of the tail replayed."""

    @property
    def logged_on(self) -> bool:
        """Whether the session is logged on (not where the dead process found it dropped)."""
        if self.tail and self.tail[0]["k"] == "D":
            return False
        return self.live.logged_on

    def reconnect(self) -> bool:
        """Where the log has the dead process's reconnect: take it (True), its reconcile's
        requests are next in the tail; otherwise False (a real logon is needed)."""
        if self.tail and self.tail[0]["k"] == "D":
            self.tail.popleft()
            self.replayed += 1
            return True
        return False

    def _go_live(self) -> None:
        if not self.spent:
            self.spent = True
            self._resync(self)

    def call(self, method: str, *args: Any, **kw: Any) -> Any:
        """The next logged request, which must be this one (not sent again); live once the
        tail is spent."""
        if not self.tail:
            self._go_live()
            return self.live.call(method, *args, **kw)
        entry = self.tail.popleft()
        same = entry["k"] == "Q" and entry["m"] == method and entry["a"] == list(args)
        if not same or entry["kw"] != kw:
            raise FixLogError(
                f"the resumed session asks {method}{tuple(args)} where the log has {entry}",
                hint="the session log was written by another version, or edited; start the "
                "session in a new --state DIR",
            )
        self.unanswered.append(entry)
        self.replayed += 1
        return 0

    def next_report(self, timeout: float) -> FixReport | LoggedReport | None:
        """The next logged report; once the tail is spent, the resync's, then live ones."""
        if self.tail and self.tail[0]["k"] == "R":
            logged = logged_report(self.tail.popleft())
            self.unanswered = [q for q in self.unanswered if not answers(q, logged)]
            self.replayed += 1
            return logged
        if self.tail and self.tail[0]["k"] == "D":
            return None  # the dead process found the connection dropped here
        if self.tail:
            entry = self.tail[0]
            raise FixLogError(
                f"the resumed session waits for a report where the log has {entry}",
                hint="the session log was written by another version, or edited; start the "
                "session in a new --state DIR",
            )
        self._go_live()
        if self.buffer:
            buffered = self.buffer.popleft()
            self.live.log.append(report_entry(buffered))
            return buffered
        return self.live.next_report(timeout)

    def logout(self, timeout: float = 5.0) -> list[FixReport]:
        """Log out."""
        return self.live.logout(timeout)
