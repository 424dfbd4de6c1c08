"""Download from Databento's historical API into the catalog, day by day, resumable.

The flow of ``workbench data download``:

1. Find the API key (``DATABENTO_API_KEY`` from the environment or a ``.env`` file). It is
   never printed, logged or written anywhere.
2. Work out which UTC days of the request are not yet complete (the download ledger in
   ``{data_dir}/manifests/downloads.json`` plus files already on disk).
3. Ask ``metadata.get_cost`` for those days and refuse above ``max_cost`` unless confirmed.
4. For each missing day: ``timeseries.get_range`` -> decode -> drop calendar spreads ->
   write one Parquet file per product (atomically) -> record the day in the ledger. A 429 or
   5xx answer, a dropped connection or a truncated stream is retried with exponential
   backoff (honouring ``Retry-After``); an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from dotenv import dotenv_values

from workbench.data.dbn import decode
from workbench.data.ingest import IngestReport, write_decoded
from workbench.data.schemas import SCHEMAS
from workbench.data.store import DataRoot
from workbench.errors import ConfigError, DownloadError, TruncatedDataError

KEY_ENV = "DATABENTO_API_KEY"
GATEWAY_ENV = "WORKBENCH_DATABENTO_GATEWAY"
DEFAULT_DATASET = "GLBX.MDP3"
DEFAULT_MAX_COST = 5.0
_LEDGER = ("manifests", "downloads.json")
_RETRYABLE_STATUS = {408, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class DownloadRequest:
    """One download: what to fetch and the guard rails around it."""

    symbols: tuple[str, ...]
    schema: str
    start: dt.date
    end: dt.date  # inclusive last UTC day
    dataset: str = DEFAULT_DATASET
    stype_in: str = "parent"
    max_cost: float = DEFAULT_MAX_COST
    max_retries: int = 5
    backoff_seconds: float = 1.0

    def __post_init__(self) -> None:
        # a NaN limit would compare False against any cost and let every download through
        if not (isinstance(self.max_cost, (int, float)) and math.isfinite(self.max_cost)):
            raise ConfigError(
                f"--max-cost must be a number of US dollars, got {self.max_cost!r}",
                hint="e.g. --max-cost 20; pass --yes to accept any cost",
            )
        if self.max_cost < 0:
            raise ConfigError(
                f"--max-cost must be 0 or more, got {self.max_cost:g}",
                hint="e.g. --max-cost 20; 0 asks for --yes before any paid download",
            )

    @property
    def ledger_key(self) -> str:
        """Key of this request's days in the ledger."""
        return f"{self.dataset}|{self.schema}|{self.stype_in}|{','.join(sorted(self.symbols))}"

    def days(self) -> list[dt.date]:
        """Every UTC day of the request."""
        n = (self.end - self.start).days + 1
        return [self.start + dt.timedelta(days=i) for i in range(n)]


@dataclass
class DownloadReport:
    """What a download did."""

    cost_usd: float = 0.0
    days_requested: int = 0
    days_skipped: int = 0
    days_downloaded: int = 0
    retries: int = 0
    ingest: IngestReport = field(default_factory=IngestReport)
    #: Symbols Databento resolved on none of the days fetched (its metadata's ``not_found``).
    unresolved: list[str] = field(default_factory=list)
    #: Symbols resolved on only some of the days fetched: symbol -> days resolved.
    partly_resolved: dict[str, int] = field(default_factory=dict)


def find_api_key(explicit: str | None = None, env_file: str | Path = ".env") -> str:
    """The Databento key: explicit, ``$DATABENTO_API_KEY``, or ``DATABENTO_API_KEY`` in .env.

    Raises
    ------
    DownloadError
        When no key is found, or the value does not look like a Databento key.
    """
    key = explicit or os.environ.get(KEY_ENV)
    if not key and Path(env_file).is_file():
        key = dotenv_values(env_file).get(KEY_ENV) or None
    if not key:
        raise DownloadError(
            "no Databento API key",
            hint=f"set {KEY_ENV} in the environment or in a .env file "
            "(keys are at https://databento.com/portal/keys); the sample data needs no key: "
            "`workbench data sample`",
        )
    key = key.strip()
    if not key.startswith("db-") or len(key) < 8:
        raise DownloadError(
            f"{KEY_ENV} does not look like a Databento key (they start with 'db-')",
            hint="copy the key again from the Databento portal",
        )
    return key


def parse_request(
    symbols: Sequence[str],
    schema: str,
    start: str | dt.date,
    end: str | dt.date,
    **kwargs: Any,
) -> DownloadRequest:
    """Validate CLI-style inputs into a :class:`DownloadRequest` (``end`` inclusive)."""
    if schema not in SCHEMAS:
        raise ConfigError(f"unknown schema {schema!r}", hint=f"use one of: {', '.join(SCHEMAS)}")
    try:
        d0 = start if isinstance(start, dt.date) else dt.date.fromisoformat(str(start))
        d1 = end if isinstance(end, dt.date) else dt.date.fromisoformat(str(end))
    except ValueError:
        raise ConfigError(f"dates must be YYYY-MM-DD, got start={start!r} end={end!r}") from None
    if d1 < d0:
        raise ConfigError(
            f"empty date range: end {d1} is before start {d0}",
            hint="--end is the last day to download (inclusive)",
        )
    syms = tuple(s.strip() for s in symbols if s.strip())
    if not syms:
        raise ConfigError("no symbols given", hint="e.g. --symbols MCL.FUT")
    stype = kwargs.pop("stype_in", None) or (
        "parent" if all(s.upper().endswith(".FUT") for s in syms) else "raw_symbol"
    )
    return DownloadRequest(symbols=syms, schema=schema, start=d0, end=d1, stype_in=stype, **kwargs)


class Ledger:
    """Which (request, day) pairs are complete; stored atomically as JSON in the data root.

    A day is complete when the ledger has it and every file it wrote is still on disk (a
    day with no data, e.g. a Saturday, has no files), so deleting a file re-downloads its day.
    """

    def __init__(self, root: DataRoot) -> None:
        self.root = root
        self.path = root.join(*_LEDGER)
        text = root.read_text(self.path)
        try:
            self.data: dict[str, dict[str, Any]] = json.loads(text) if text else {}
        except ValueError:
            self.data = {}

    def done(self, key: str, day: dt.date) -> bool:
        """Whether ``day`` of request ``key`` has been stored completely."""
        entry = self.data.get(key, {}).get(day.isoformat())
        if not isinstance(entry, dict):
            return False
        return all(self.root.exists(self._resolve(f)) for f in entry.get("files", []))

    def mark(self, key: str, day: dt.date, rows: int, files: list[str]) -> None:
        """Record a complete day and save (its files relative to the data root, so a catalog
        moved, copied or synced elsewhere keeps its record)."""
        stored = sorted(self._relative(f) for f in files)
        self.data.setdefault(key, {})[day.isoformat()] = {"rows": rows, "files": stored}
        self.root.write_text(self.path, json.dumps(self.data, indent=1, sort_keys=True))

    def _relative(self, path: str) -> str:
        prefix = self.root.path.rstrip("/") + "/"
        return path[len(prefix) :] if path.startswith(prefix) else path

    def _resolve(self, stored: str) -> str:
        """A ledger entry as a path: relative ones under the root; an absolute one from an
        older ledger as written, or from its ``raw/`` part when the root has moved since."""
        prefix = self.root.path.rstrip("/") + "/"
        if "://" in stored or stored.startswith(prefix):
            return stored
        if not stored.startswith("/"):
            return self.root.join(stored)
        _, sep, tail = stored.rpartition("/raw/")
        return self.root.join("raw", tail) if sep else stored


def _retry_after(exc: BaseException, attempt: int, base: float) -> float:
    """Seconds to wait: the server's ``Retry-After`` if it gave one, else exponential."""
    headers = getattr(exc, "headers", None)
    value = headers.get("Retry-After") if headers is not None else None
    try:
        if value is not None:
            return min(float(value), 60.0)
    except ValueError:
        pass
    return float(base * (2**attempt))


def _is_retryable(exc: BaseException) -> bool:
    """429/5xx answers, network errors, dropped or truncated streams."""
    # start-up: databento takes ~2 s to import; only a download needs it
    from databento.common.error import BentoError, BentoHttpError

    if isinstance(exc, BentoHttpError):
        return exc.http_status in _RETRYABLE_STATUS
    # BentoError without a status: "Error streaming response" (connection dropped);
    # TruncatedDataError: the stream arrived cut short. Other data errors are permanent.
    return isinstance(
        exc, (requests.ConnectionError, requests.Timeout, BentoError, TruncatedDataError)
    )


def _describe(exc: BaseException) -> str:
    status = getattr(exc, "http_status", None)
    message = (
        getattr(exc, "message", None) or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    )
    return f"HTTP {status}: {message}" if status else str(message)


def _call(
    fn: Callable[[], Any],
    req: DownloadRequest,
    report: DownloadReport,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """Run a client call, retrying 429/5xx, network errors and truncated streams with
    exponential backoff (or the server's ``Retry-After``)."""
    attempt = 0
    while True:
        try:
            return fn()
        except DownloadError:
            raise  # already said what went wrong and what to do
        except Exception as exc:
            status = getattr(exc, "http_status", None)
            if status in (401, 403):
                raise DownloadError(
                    f"Databento refused the API key ({_describe(exc)})",
                    hint=f"check {KEY_ENV}; keys are at https://databento.com/portal/keys",
                ) from None
            if not _is_retryable(exc):
                raise DownloadError(f"{what} failed: {_describe(exc)}") from None
            if attempt >= req.max_retries:
                raise DownloadError(
                    f"{what} failed after {attempt + 1} attempts: {_describe(exc)}",
                    hint="run the same command again later: completed days are kept and skipped",
                ) from None
            report.retries += 1
            sleep(_retry_after(exc, attempt, req.backoff_seconds))
            attempt += 1


def _error_case(exc: BaseException) -> str | None:
    """The ``case`` of Databento's structured error body (``symbology_invalid_request``)."""
    body = getattr(exc, "json_body", None)
    detail = body.get("detail") if isinstance(body, dict) else None
    case = detail.get("case") if isinstance(detail, dict) else None
    return str(case) if case else None


def _none_resolved(req: DownloadRequest) -> DownloadError:
    """The error for a request none of whose symbols Databento knows."""
    listed = ", ".join(req.symbols)
    kind = "parent symbols" if req.stype_in == "parent" else "raw symbols (contracts)"
    return DownloadError(
        f"Databento resolved none of the symbols in {req.dataset} between {req.start} and "
        f"{req.end}: {listed} (read as {kind}); nothing was downloaded",
        hint="check the spelling and the dates: parent symbols look like MCL.FUT, contracts "
        "like MCLZ5 (listed only while they trade)",
    )


@dataclass
class DownloadPlan:
    """A checked download, ready to fetch: key found, data root writable, cost accepted.

    Made by :func:`plan_download`; :meth:`run` fetches the days in :attr:`todo`.
    """

    req: DownloadRequest
    root: DataRoot
    ledger: Ledger
    todo: list[dt.date]
    report: DownloadReport
    client: Any = None  # databento.Historical, None when nothing is left to fetch

    def run(
        self,
        progress: Callable[[int, int], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> DownloadReport:
        """Fetch and store every day of :attr:`todo`; ``progress(done, total)`` after each."""
        req, report = self.req, self.report
        not_found_days: dict[str, int] = {}
        for i, day in enumerate(self.todo):
            nxt = day + dt.timedelta(days=1)

            def fetch(day: dt.date = day, nxt: dt.date = nxt) -> Any:
                try:
                    store = self.client.timeseries.get_range(
                        dataset=req.dataset,
                        symbols=list(req.symbols),
                        schema=req.schema,
                        stype_in=req.stype_in,
                        start=day.isoformat(),
                        end=nxt.isoformat(),
                    )
                except Exception as exc:
                    # none resolves on this day (a contract not yet listed): a day without data
                    if _error_case(exc) == "symbology_invalid_request":
                        return list(req.symbols), None
                    raise
                missing = [str(s) for s in (store.metadata.not_found or [])]
                return missing, decode(store, source_name=f"{req.dataset} {req.schema} {day}")

            missing, decoded = _call(fetch, req, report, f"download of {day}", sleep)
            for sym in missing:
                not_found_days[sym] = not_found_days.get(sym, 0) + 1
            rep = IngestReport()
            if decoded is not None:
                rep = write_decoded(self.root, decoded, source="databento")
                rep.records_read = rep.records_written + decoded.spreads_dropped
                report.ingest.merge(rep)
            self.ledger.mark(req.ledger_key, day, rep.records_written, rep.files_written)
            report.days_downloaded += 1
            if progress:
                progress(i + 1, len(self.todo))
        n = len(self.todo)
        report.unresolved = [s for s in req.symbols if not_found_days.get(s, 0) == n and n]
        report.partly_resolved = {
            s: n - k for s, k in not_found_days.items() if 0 < k < n and s in req.symbols
        }
        return report


def plan_download(
    req: DownloadRequest,
    data_dir: str | Path | None = None,
    *,
    key: str | None = None,
    gateway: str | None = None,
    confirm: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    storage_options: dict[str, Any] | None = None,
) -> DownloadPlan:
    """Check a download without fetching any data: the key, the data root, the days still
    missing, and (for those) Databento's cost estimate against ``req.max_cost``.

    Parameters are those of :func:`download`.

    Raises
    ------
    DownloadError
        Missing or refused key, no symbol Databento can resolve, or a cost above the limit.
    """
    # start-up: databento takes ~2 s to import; only a download needs it
    import databento as db

    api_key = find_api_key(key)
    root = DataRoot(data_dir, storage_options)
    root.check_writable()
    ledger = Ledger(root)
    report = DownloadReport(days_requested=len(req.days()))
    todo = [d for d in req.days() if not ledger.done(req.ledger_key, d)]
    report.days_skipped = report.days_requested - len(todo)
    plan = DownloadPlan(req, root, ledger, todo, report)
    if not todo:
        return plan
    gw = gateway or os.environ.get(GATEWAY_ENV) or None
    plan.client = db.Historical(api_key, gateway=gw) if gw else db.Historical(api_key)
    span = (todo[0].isoformat(), (todo[-1] + dt.timedelta(days=1)).isoformat())

    def cost_query() -> Any:
        try:
            return plan.client.metadata.get_cost(
                dataset=req.dataset,
                symbols=list(req.symbols),
                schema=req.schema,
                stype_in=req.stype_in,
                start=span[0],
                end=span[1],
            )
        except Exception as exc:
            if _error_case(exc) == "symbology_invalid_request":
                raise _none_resolved(req) from None
            raise

    cost = float(_call(cost_query, req, report, "cost query", sleep))
    report.cost_usd = cost
    if cost > req.max_cost and not confirm:
        raise DownloadError(
            f"this download would cost ${cost:,.2f}, above the limit of ${req.max_cost:,.2f}",
            hint="raise --max-cost, or pass --yes to accept the cost",
            exit_code=3,
        )
    return plan


def download(
    req: DownloadRequest,
    data_dir: str | Path | None = None,
    *,
    key: str | None = None,
    gateway: str | None = None,
    confirm: bool = False,
    progress: Callable[[int, int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    storage_options: dict[str, Any] | None = None,
) -> DownloadReport:
    """Download ``req`` into the catalog (:func:`plan_download`, then :meth:`DownloadPlan.run`).

    Parameters
    ----------
    req : DownloadRequest
        What to fetch (see :func:`parse_request`).
    data_dir : str or Path, optional
        Data root; default ``$WORKBENCH_DATA_DIR`` or ``./data``.
    key : str, optional
        API key; default from the environment or ``.env``.
    gateway : str, optional
        Historical gateway (default Databento's; ``$WORKBENCH_DATABENTO_GATEWAY``).
    confirm : bool, default False
        Proceed even if the cost exceeds ``req.max_cost``.
    progress : callable, optional
        Called with ``(days_done, days_total)``.
    storage_options : dict, optional
        fsspec options for a remote data root (e.g. an S3 endpoint).

    Returns
    -------
    DownloadReport
        Its ``unresolved`` lists the symbols Databento did not resolve on any day fetched.

    Raises
    ------
    DownloadError
        Missing or refused key, no symbol resolved, cost above the limit, or a request that
        keeps failing.
    """
    plan = plan_download(
        req,
        data_dir,
        key=key,
        gateway=gateway,
        confirm=confirm,
        sleep=sleep,
        storage_options=storage_options,
    )
    return plan.run(progress, sleep)
