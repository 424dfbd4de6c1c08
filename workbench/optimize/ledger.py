"""The sweep ledger: ``ledger.jsonl`` in the sweep folder, one line per finished combination,
appended and flushed to disk as each result arrives.

The first line identifies the sweep (strategy, data, backtest options); every other line is
one combination's outcome: its row and daily returns, or its error. A sweep started again in
the same folder reads the ledger and runs only the combinations without a result (a failed
one is tried again). A line cut short by a crash or Ctrl-C is ignored, so the ledger is
always consistent: it holds every result that was completely written.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.errors import ConfigError
from workbench.optimize.runner import Outcome

LEDGER_FILE = "ledger.jsonl"


def _plain(v: Any) -> Any:
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _encode(o: Outcome) -> dict[str, Any]:
    doc: dict[str, Any] = {"params": o.params}
    if o.error is not None:
        doc["error"] = o.error
        return doc
    assert o.row is not None
    assert o.returns is not None
    doc["row"] = {k: _plain(v) for k, v in o.row.items()}
    r = o.returns
    doc["returns"] = {
        "dates": [str(pd.Timestamp(d).date()) for d in r.index],
        "values": [_plain(v) for v in r.to_numpy()],
    }
    return doc


def _decode(doc: dict[str, Any]) -> Outcome:
    if "error" in doc:
        return Outcome(doc["params"], error=doc["error"])
    ret = doc["returns"]
    index = pd.DatetimeIndex(pd.to_datetime(ret["dates"]), name="trade_date")
    values = [float("nan") if v is None else v for v in ret["values"]]
    series = pd.Series(values, index=index, dtype="float64", name="daily_return")
    row = {
        k: (float("nan") if v is None and k not in doc["params"] else v)
        for k, v in doc["row"].items()
    }
    row.update(doc["params"])
    return Outcome(doc["params"], row=row, returns=series)


class Ledger:
    """Append-only record of a sweep's outcomes in ``folder/ledger.jsonl``.

    Parameters
    ----------
    folder : Path
        The sweep folder (created if missing).
    identity : dict
        What makes two sweeps the same (strategy, data range, backtest options). Opening a
        folder whose ledger names another identity is refused.
    """

    def __init__(self, folder: Path, identity: dict[str, Any]) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LEDGER_FILE
        self.identity = json.loads(json.dumps(identity, sort_keys=True, default=str))
        self.outcomes: dict[str, Outcome] = {}
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.path.is_file():
            self._read()
        else:
            self._append({"sweep": self.identity})

    def _read(self) -> None:
        lines = self.path.read_text(encoding="utf-8").splitlines()
        docs = []
        for line in lines:
            try:
                docs.append(json.loads(line))
            except json.JSONDecodeError:  # the line a crash cut short
                continue
        if not docs or docs[0].get("sweep") != self.identity:
            found = docs[0].get("sweep") if docs else None
            raise ConfigError(
                f"{self.folder} holds another sweep (its ledger says {json.dumps(found)})",
                hint="give a new folder, or the same strategy, data and options to resume it",
            )
        for doc in docs[1:]:
            o = _decode(doc)
            self.outcomes[o.key] = o
        if lines and not self.path.read_bytes().endswith(b"\n"):
            with self.path.open("a", encoding="utf-8") as fh:  # end the cut line
                fh.write("\n")

    def _append(self, doc: dict[str, Any]) -> None:
        line = json.dumps(doc, allow_nan=False, default=str) + "\n"
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    def done(self, key: str) -> bool:
        """Whether combination ``key`` has a result (a recorded failure does not count)."""
        o = self.outcomes.get(key)
        return o is not None and o.error is None

    def record(self, outcome: Outcome) -> None:
        """Write one outcome (a later line for the same combination replaces an earlier one)."""
        self._append(_encode(outcome))
        self.outcomes[outcome.key] = outcome
