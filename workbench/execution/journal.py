"""The session journal in SQLite: signals, orders, fills, positions, equity, risk events.

Written before acting: an order intent is committed before it goes to the broker, so a
session killed at any point restarts, finds each intent and asks the broker about the ones
without an acknowledgement (by ``order_ref``) before sending anything.

Durability: an intent is appended to ``<journal>.intents`` (one ``write(2)``, no SQLite on
the order's path) before the broker sees it; its row in the ``orders`` table follows in the
bar's transaction. SQLite runs in WAL mode with ``synchronous=NORMAL``. Both survive the
process being killed (SIGKILL, a crash: the data is in the OS's page cache); an OS crash or
a power cut can lose what came after the last WAL checkpoint / page-cache flush, the
trade-off for not calling fsync on each order. A restarted journal takes the intents of the
log missing from the table as ``pending`` (the OrderManager then asks the broker about
them); the log is emptied once it passes 1 MiB and every intent in it is in the table.

Nothing else touches SQLite on the order's path: the intent's table row, acknowledgements,
fills and alerts are queued and run, in order, in the bar's transaction when it commits
(reads flush them first), so they are exactly as durable as before (an uncommitted
transaction is lost either way) and a stop's cancel before an exit costs no statement.

The rows of bars (signals, equity, risk events) are buffered and written with
``bars_done`` every ``commit_every`` bars, and at the end of every bar that sent an order
or took a fill (after acting). A crash loses at most the rows of the bars since, which the
restart recomputes from the feed (it replays to ``bars_done``, then asks the broker about
the intents journaled after it).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.execution.feeds import Bar
from workbench.model import Fill, OrderStatus, Side

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS orders (
    order_ref TEXT PRIMARY KEY, perm_id INTEGER, bar INTEGER, purpose TEXT, body TEXT,
    status TEXT, filled INTEGER);
CREATE TABLE IF NOT EXISTS fills (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, order_ref TEXT, bar INTEGER, phase TEXT,
    time INTEGER, symbol TEXT, side INTEGER, quantity INTEGER, price REAL, commission REAL);
CREATE TABLE IF NOT EXISTS signals (bar INTEGER PRIMARY KEY, ts INTEGER, signal INTEGER,
    stop_distance REAL);
CREATE TABLE IF NOT EXISTS equity (bar INTEGER PRIMARY KEY, ts INTEGER, equity REAL,
    position INTEGER);
CREATE TABLE IF NOT EXISTS positions (symbol TEXT PRIMARY KEY, quantity INTEGER, time INTEGER);
CREATE TABLE IF NOT EXISTS risk_events (bar INTEGER, action INTEGER, reason INTEGER,
    requested INTEGER, approved INTEGER);
CREATE TABLE IF NOT EXISTS live_bars (bar INTEGER PRIMARY KEY, ts INTEGER, end_ts INTEGER,
    open REAL, high REAL, low REAL, close REAL, volume REAL, symbol TEXT, act INTEGER);
CREATE TABLE IF NOT EXISTS alerts (seq INTEGER PRIMARY KEY AUTOINCREMENT, bar INTEGER,
    kind TEXT, message TEXT);
CREATE TABLE IF NOT EXISTS rolls (bar INTEGER PRIMARY KEY, roll TEXT);
"""


#: The keys of an intent's body, in the intent log's column order.
INTENT_FIELDS = ("symbol", "side", "quantity", "type", "stop", "limit", "oca", "expected_price")


def _num(x: float | None) -> str:
    return "" if x is None else repr(float(x))


#: The intent log is emptied (once all its intents are in the table) beyond this size: not at
#: every commit, so an order's append rewrites an allocated page instead of growing the file.
_LOG_KEEP = 1 << 20
_INTENT_SQL = "INSERT OR IGNORE INTO orders VALUES (?,0,?,?,?,'pending',0)"
_ORDER_SQL = (
    "INSERT INTO orders VALUES (?,?,?,?,?,?,0) ON CONFLICT(order_ref) DO UPDATE SET "
    "bar=excluded.bar, purpose=excluded.purpose, body=excluded.body"
)
# an upsert: the broker may answer before the intent's row is in
_STATUS_SQL = (
    "INSERT INTO orders (order_ref, perm_id, status, filled) VALUES (?,?,?,?) "
    "ON CONFLICT(order_ref) DO UPDATE SET status=excluded.status, "
    "perm_id=excluded.perm_id, filled=excluded.filled"
)
_FILL_SQL = (
    "INSERT INTO fills (order_ref, bar, phase, time, symbol, side, quantity, price, "
    "commission) VALUES (?,?,?,?,?,?,?,?,?)"
)
_POSITION_SQL = "INSERT OR REPLACE INTO positions VALUES (?,?,?)"
_ALERT_SQL = "INSERT INTO alerts (bar, kind, message) VALUES (?,?,?)"


@dataclass(frozen=True)
class JournalOrder:
    """An order as journaled."""

    order_ref: str
    perm_id: int
    bar: int
    purpose: str
    body: dict[str, Any]
    status: OrderStatus
    filled: int


class Journal:
    """One session's journal (a SQLite file; ``":memory:"`` for none).

    Parameters
    ----------
    path : str or Path
        The database file (created with its tables if missing).
    commit_every : int, default 1000
        Bars whose rows may wait for a commit when no order is sent.
    """

    def __init__(self, path: str | Path, *, commit_every: int = 1000) -> None:
        self.path = str(path)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self.commit_every = commit_every
        self._rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        self._pending_bars = 0
        self._in_txn = False
        self._ops: list[tuple[str, tuple[Any, ...]]] = []  # statements for the next commit
        self._log_fd: int | None = None
        self._unrecorded: set[str] = set()  # intents logged, not yet in the orders table
        self._logged = 0  # bytes appended since the log was last emptied
        if self.path != ":memory:":
            self._log_path = self.path + ".intents"
            self._recover_intents()
            self._log_fd = os.open(self._log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def _recover_intents(self) -> None:
        """Intents of the log that never reached the table (the process died between)."""
        if not os.path.exists(self._log_path):
            return
        known = {r[0] for r in self.db.execute("SELECT order_ref FROM orders")}
        rows = []
        with open(self._log_path, encoding="utf-8") as fh:
            for line in fh:
                parts = line.rstrip("\n").split("\t")
                if not line.endswith("\n") or len(parts) != 3 + len(INTENT_FIELDS):
                    continue  # a torn last line: that write never completed
                ref, bar, purpose = parts[0], int(parts[1]), parts[2]
                symbol, side, qty, kind, stop, limit, oca, expected = parts[3:]
                body = {
                    "symbol": symbol,
                    "side": int(side),
                    "quantity": int(qty),
                    "type": kind,
                    "stop": float(stop) if stop else None,
                    "limit": float(limit) if limit else None,
                    "oca": oca,
                    "expected_price": float(expected) if expected else 0.0,
                }
                if ref not in known:
                    known.add(ref)
                    rows.append((ref, bar, purpose, json.dumps(body)))
        if rows:
            self.db.execute("BEGIN")
            self.db.executemany(_INTENT_SQL, rows)
            self.db.execute("COMMIT")

    # -- transactions ----------------------------------------------------------------------
    def _begin(self) -> None:
        if not self._in_txn:
            self.db.execute("BEGIN")
            self._in_txn = True

    @property
    def dirty(self) -> bool:
        """Whether something recorded since the last commit waits for one."""
        return self._in_txn or bool(self._ops)

    def _flush_ops(self) -> None:
        """Run the deferred statements, in order, inside the open transaction."""
        if self._ops:
            self._begin()
            execute = self.db.execute
            for sql, params in self._ops:
                execute(sql, params)
            self._ops.clear()

    def commit(self) -> None:
        """Write everything recorded so far in one transaction (before acting on it)."""
        if not self._rows and not self._in_txn and not self._ops:
            return
        self._begin()
        self._flush_ops()
        for table, rows in self._rows.items():
            marks = ",".join("?" * len(rows[0]))
            self.db.executemany(f"INSERT OR REPLACE INTO {table} VALUES ({marks})", rows)
        self._rows.clear()
        self.db.execute("COMMIT")
        self._in_txn = False
        self._pending_bars = 0
        if self._log_fd is not None and not self._unrecorded and self._logged > _LOG_KEEP:
            os.ftruncate(self._log_fd, 0)  # every logged intent is in the table now
            self._logged = 0

    def close(self) -> None:
        """Commit and close."""
        self.commit()
        self.db.close()
        if self._log_fd is not None:
            os.close(self._log_fd)
            self._log_fd = None

    # -- records -----------------------------------------------------------------------------
    def set_meta(self, key: str, value: Any) -> None:
        """Store a session setting (JSON)."""
        self._begin()
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    def meta(self, key: str, default: Any = None) -> Any:
        """A stored setting (``default`` if absent)."""
        self._flush_ops()
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def log_intent(self, ref: str, bar: int, purpose: str, body: dict[str, Any]) -> None:
        """An intent, durable when this returns (one append to the intent log): call it
        before the broker sees the order, then :meth:`record_order` after.

        ``body`` has the keys of :data:`INTENT_FIELDS`; the line is tab-separated text (a
        formatted string costs a fraction of ``json.dumps`` on a cold path).
        """
        if self._log_fd is not None:
            b = body
            self._logged += os.write(
                self._log_fd,
                f"{ref}\t{bar}\t{purpose}\t{b['symbol']}\t{b['side']}\t{b['quantity']}\t"
                f"{b['type']}\t{_num(b['stop'])}\t{_num(b['limit'])}\t{b['oca']}\t"
                f"{_num(b['expected_price'])}\n".encode(),
            )
            self._unrecorded.add(ref)

    def record_order(
        self, ref: str, bar: int, purpose: str, body: dict[str, Any], status: OrderStatus
    ) -> None:
        """An intent's row (status ``pending`` unless the broker already answered)."""
        self._ops.append((_ORDER_SQL, (ref, 0, bar, purpose, json.dumps(body), status.value)))
        self._unrecorded.discard(ref)

    def update_order(self, ref: str, status: OrderStatus, perm_id: int, filled: int) -> None:
        """An acknowledgement, a fill count or a final state."""
        self._ops.append((_STATUS_SQL, (ref, perm_id, status.value, filled)))

    def record_fill(self, fill: Fill, bar: int, phase: str, position: int | None = None) -> None:
        """An execution, and the position it leaves (or :meth:`record_position` later)."""
        self._ops.append(
            (
                _FILL_SQL,
                (
                    fill.order_ref,
                    bar,
                    phase,
                    fill.time,
                    fill.symbol,
                    int(fill.side),
                    fill.quantity,
                    fill.price,
                    fill.commission,
                ),
            )
        )
        if position is not None:
            self.record_position(fill.symbol, position, fill.time)

    def record_position(self, symbol: str, position: int, time: int) -> None:
        """The signed position in ``symbol`` after a fill at ``time``."""
        self._ops.append((_POSITION_SQL, (symbol, position, time)))

    def record_bar(self, bar: int, ts: int, signal: int, stop: float, equity: float, pos: int):
        """A bar's signal and close-of-bar equity (group-committed)."""
        self._rows["signals"].append((bar, ts, signal, stop))
        self._rows["equity"].append((bar, ts, equity, pos))

    def record_risk_event(self, bar: int, action: int, reason: int, req: int, app: int) -> None:
        """A pre-trade decision or a breaker."""
        self._rows["risk_events"].append((bar, action, reason, req, app))

    def record_live_bar(self, bar: Bar, act: bool) -> None:
        """A live bar as received (negative ``bar.index``: warm-up history), and whether the
        session acted on it: a restarted live session replays these (group-committed)."""
        self._rows["live_bars"].append(
            (
                bar.index,
                bar.ts,
                bar.end,
                bar.open,
                bar.high,
                bar.low,
                bar.close,
                bar.volume,
                bar.symbol,
                int(act),
            )
        )

    def live_bars(self) -> list[tuple[Bar, bool]]:
        """The journaled live bars (warm-up history first) with their ``act`` flag."""
        return [
            (Bar(*row[:9]), bool(row[9]))
            for row in self.db.execute("SELECT * FROM live_bars ORDER BY bar")
        ]

    def record_roll(self, bar: int, roll: dict[str, Any]) -> None:
        """A contract roll decided at the end of live bar ``bar`` (the bar after it is on
        ``roll["to_symbol"]``), in the bar's transaction; the session's contract follows."""
        self._rows["rolls"].append((bar, json.dumps(roll)))
        self.set_meta("contract", roll["to_symbol"])

    def rolls(self) -> list[tuple[int, dict[str, Any]]]:
        """The journaled rolls as ``(bar, roll)``, oldest first."""
        self._flush_ops()
        return [
            (r[0], json.loads(r[1])) for r in self.db.execute("SELECT * FROM rolls ORDER BY bar")
        ]

    def alert(self, bar: int, kind: str, message: str) -> None:
        """Something a person should know (a mismatch, a refusal, a kill)."""
        self._ops.append((_ALERT_SQL, (bar, kind, message)))

    def bar_done(self, bar: int) -> None:
        """Bar ``bar`` is fully processed; commit every ``commit_every`` bars, and at the end
        of a bar that sent orders or took fills (after acting: off the order's path)."""
        self._pending_bars += 1
        if self._pending_bars >= self.commit_every or self._in_txn or self._ops:
            self._begin()
            self.db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('bars_done', ?)", (json.dumps(bar + 1),)
            )
            self.commit()

    # -- reading ------------------------------------------------------------------------------
    def bars_done(self) -> int:
        """How many bars a previous run completed (0 for a new journal)."""
        return int(self.meta("bars_done", 0))

    def orders(self) -> dict[str, JournalOrder]:
        """Every journaled order by ``order_ref``."""
        self._flush_ops()
        return {
            r[0]: JournalOrder(r[0], r[1], r[2], r[3], json.loads(r[4]), OrderStatus(r[5]), r[6])
            for r in self.db.execute("SELECT * FROM orders")
        }

    def fills(self) -> list[tuple[int, str, Fill]]:
        """Every journaled fill as ``(bar, phase, fill)``, in the order taken."""
        self._flush_ops()
        return [
            (r[2], r[3], Fill(r[4], r[5], Side(r[6]), r[7], r[8], r[9], r[1]))
            for r in self.db.execute("SELECT * FROM fills ORDER BY seq")
        ]

    def alerts(self) -> list[tuple[int, str, str]]:
        """``(bar, kind, message)`` of every alert."""
        self._flush_ops()
        return list(self.db.execute("SELECT bar, kind, message FROM alerts ORDER BY seq"))

    def table(self, name: str) -> list[tuple[Any, ...]]:
        """All rows of a journal table (for tests and reports)."""
        self._flush_ops()
        tables = {"signals", "equity", "positions", "risk_events", "orders", "fills", "live_bars"}
        tables.add("rolls")
        if name not in tables:
            raise ValueError(f"no journal table {name!r}")
        return list(self.db.execute(f"SELECT * FROM {name}"))
