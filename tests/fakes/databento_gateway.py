"""A loopback HTTPS fake of Databento's historical API, at the wire protocol.

The unmodified ``databento.Historical(key, gateway=fake.gateway)`` client talks
to :class:`FakeDatabentoGateway` over real TLS and HTTP: nothing in the
``databento`` package is patched or mocked.

What the client (databento 0.87) does on the wire, and what this fake serves:

* Every gateway is rewritten to ``https://<netloc>`` (``validate_gateway``), a
  port in the netloc is kept, and methods are appended as
  ``/v0/<family>.<method>``. Hence :attr:`FakeDatabentoGateway.gateway` is
  ``"https://127.0.0.1:<port>"``.
* Authentication is HTTP basic auth with the API key as the user name and an
  empty password.
* ``POST /v0/timeseries.get_range`` (form fields ``dataset``, ``start``,
  ``end``?, ``symbols`` (comma-joined), ``schema``, ``stype_in``,
  ``stype_out``, ``encoding=dbn``, ``compression=zstd``, ``limit``?) streams a
  DBN stream: metadata (with symbol mappings) followed by records. The client
  always asks for zstd; ``compression=none`` is honoured as well.
* ``POST /v0/metadata.get_cost``, ``.get_record_count`` and
  ``.get_billable_size`` take the same form fields (``stype_out`` is always
  ``instrument_id``) and answer a bare JSON number.
* ``POST /v0/symbology.resolve`` (``dataset``, ``symbols``, ``stype_in``,
  ``stype_out``, ``start_date``, ``end_date``?) answers
  ``{"result": {symbol: [{"d0", "d1", "s"}]}, "symbols", "stype_in",
  "stype_out", "start_date", "end_date", "partial", "not_found", "message",
  "status"}`` which ``InstrumentMap.insert_json`` accepts.
* ``GET /v0/metadata.get_dataset_range?dataset=`` answers
  ``{"start", "end", "schema": {schema: {"start", "end"}}}``;
  ``GET /v0/metadata.list_datasets`` and ``.list_schemas`` answer JSON lists.
* Errors are JSON bodies with a ``detail`` field. 4xx raise
  ``BentoClientError`` and 5xx ``BentoServerError``, both carrying
  ``http_status``, ``headers`` and ``json_body``. The historical client has no
  retry logic for these calls (only ``batch.download`` retries), so a 429 or
  503 surfaces immediately as an exception.

Range semantics mirror the real service: a query outside the dataset's
available range is refused with 422 (``data_start_after_available_end``,
``data_end_after_available_end``, ``data_start_before_available_start``,
``data_time_range_start_on_or_after_end``); a query where no requested symbol
resolves is refused with 422 ``symbology_invalid_request``; a valid query that
simply matches no records (a weekend, say) succeeds with a DBN stream holding
only metadata, which the client turns into an empty ``DBNStore``.

TLS: one test certificate authority per process (see :func:`test_ca`). The
sync client (``requests``) reads ``REQUESTS_CA_BUNDLE`` on every call, so
``monkeypatch.setenv`` is enough. The async client (``aiohttp`` 3.14) builds
its default SSL context when ``aiohttp.connector`` is first imported (which
``import databento`` does), so ``SSL_CERT_FILE`` must already be set then: call
:func:`install_ca_env` before anything imports ``databento`` (e.g. at the top
of ``conftest.py``), or run async clients in a subprocess started with
:meth:`FakeDatabentoGateway.env`.
"""

from __future__ import annotations

import atexit
import base64
import binascii
import datetime as dt
import itertools
import json
import os
import re
import shutil
import socket
import ssl
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import parse_qsl, urlsplit

import databento_dbn as dbn
import pandas as pd
import trustme
import zstandard

__all__ = [
    "ALL_SYMBOLS",
    "DEFAULT_API_KEY",
    "DEFAULT_DATASET",
    "GLBX_PUBLISHER_ID",
    "CostModel",
    "DataProvider",
    "DataRequest",
    "FakeDatabentoGateway",
    "Instrument",
    "MarketRecord",
    "OhlcvBar",
    "RecordedRequest",
    "TestCA",
    "encode_dbn",
    "install_ca_env",
    "make_definition_record",
    "make_ohlcv_dbn",
    "parent_matches",
    "per_day_cost",
    "per_record_cost",
    "test_ca",
    "to_unix_ns",
]

#: A syntactically valid key: ``db-`` followed by 29 characters (32 in all).
DEFAULT_API_KEY = "db-FakeDatabentoGatewayKey000001"
DEFAULT_DATASET = "GLBX.MDP3"
#: Databento's publisher id for GLBX.MDP3 (CME Globex MDP 3.0).
GLBX_PUBLISHER_ID = 1
ALL_SYMBOLS = "ALL_SYMBOLS"

_API_PREFIX = "/v0/"
_NS_PER_DAY = 86_400 * 10**9
_STREAM_CHUNK = 16 * 1024
_DOCS_DATASETS = "https://databento.com/docs/api-reference-historical/basics/datasets"
_DOCS_SYMBOLOGY = "https://databento.com/docs/api-reference-historical/basics/symbology"
_DOCS_TIME = "https://databento.com/docs/standards-and-conventions/common-fields-enums-types"

_OHLCV_RTYPES: dict[str, int] = {  # RType values
    "ohlcv-1s": dbn.RType.OHLCV_1S,
    "ohlcv-1m": dbn.RType.OHLCV_1M,
    "ohlcv-1h": dbn.RType.OHLCV_1H,
    "ohlcv-1d": dbn.RType.OHLCV_1D,
    "ohlcv-eod": dbn.RType.OHLCV_EOD,
}
_MONTH_CODES = "FGHJKMNQUVXZ"

TimeLike = int | str | dt.datetime | dt.date | pd.Timestamp


# --------------------------------------------------------------------------- #
# Time helpers
# --------------------------------------------------------------------------- #
def to_unix_ns(value: TimeLike) -> int:
    """Convert a timestamp to UNIX nanoseconds (UTC).

    Integers are taken to be nanoseconds already; naive datetimes and strings
    without an offset are taken to be UTC, as the Databento API does.
    """
    if isinstance(value, bool):
        raise TypeError("a bool is not a timestamp")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return int(ts.as_unit("ns").value)


def _utc_date(ns: int) -> dt.date:
    return dt.datetime.fromtimestamp(ns // 10**9, tz=dt.UTC).date()


def _date_ns(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()) * 10**9


def _fmt_iso_ns(ns: int) -> str:
    """``2026-01-29T20:00:00.000000000Z``: the API's payload timestamp form."""
    secs, frac = divmod(ns, 10**9)
    base = dt.datetime.fromtimestamp(secs, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{frac:09d}Z"


def _fmt_human(ns: int) -> str:
    """``2026-01-29 20:00:00+00:00``: the API's message timestamp form."""
    return str(pd.Timestamp(ns, unit="ns", tz="UTC"))


_TZ_SUFFIX = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")


def _parse_request_time(value: str) -> tuple[int, int]:
    """Parse a ``start``/``end`` form value into (ns, resolution in ns).

    The resolution is what the API forward-fills a missing ``end`` by: a date
    means one day, ``THH:MM`` one minute, and so on.
    """
    text = value.strip()
    if text.lstrip("-").isdigit():
        return int(text), 1
    ns = to_unix_ns(text)
    body = _TZ_SUFFIX.sub("", text)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", body):
        return ns, _NS_PER_DAY
    if re.fullmatch(r".*[T ]\d{2}", body):
        return ns, 3600 * 10**9
    if re.fullmatch(r".*[T ]\d{2}:\d{2}", body):
        return ns, 60 * 10**9
    frac = re.fullmatch(r".*:\d{2}\.(\d+)", body)
    if frac:
        return ns, 10 ** max(0, 9 - len(frac.group(1)))
    return ns, 10**9


# --------------------------------------------------------------------------- #
# Market model
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class OhlcvBar:
    """One OHLCV bar of one instrument, prices in dollars.

    ``ts_event`` is the bar's open time, in UNIX nanoseconds (use
    :func:`to_unix_ns` or :meth:`at` for other forms).
    """

    ts_event: int
    raw_symbol: str
    instrument_id: int
    open: float
    high: float
    low: float
    close: float
    volume: int
    publisher_id: int = GLBX_PUBLISHER_ID

    @classmethod
    def at(
        cls,
        ts_event: TimeLike,
        raw_symbol: str,
        instrument_id: int,
        open: float,
        high: float,
        low: float,
        close: float,
        volume: int,
        publisher_id: int = GLBX_PUBLISHER_ID,
    ) -> OhlcvBar:
        """Build a bar from any timestamp form accepted by :func:`to_unix_ns`."""
        return cls(
            to_unix_ns(ts_event),
            raw_symbol,
            instrument_id,
            open,
            high,
            low,
            close,
            volume,
            publisher_id,
        )

    def to_record(self, schema: str = "ohlcv-1m") -> dbn.OHLCVMsg:
        """Encode as a ``databento_dbn.OHLCVMsg`` with 1e-9 fixed-point prices."""
        try:
            rtype = _OHLCV_RTYPES[schema]
        except KeyError:
            raise ValueError(f"{schema!r} is not an OHLCV schema") from None
        scale = dbn.FIXED_PRICE_SCALE
        return dbn.OHLCVMsg(
            rtype,
            self.publisher_id,
            self.instrument_id,
            self.ts_event,
            round(self.open * scale),
            round(self.high * scale),
            round(self.low * scale),
            round(self.close * scale),
            self.volume,
        )


@dataclass(frozen=True)
class MarketRecord:
    """A DBN record held by the fake market, with the raw symbol it trades as."""

    raw_symbol: str
    record: Any  # a databento_dbn record (OHLCVMsg, InstrumentDefMsg, ...)

    @property
    def instrument_id(self) -> int:
        """The record's instrument id."""
        return int(self.record.instrument_id)

    @property
    def ts_index(self) -> int:
        """The time the API filters on: ``ts_recv`` if the schema has it, else ``ts_event``."""
        ts_recv = getattr(self.record, "ts_recv", None)
        return int(ts_recv if ts_recv is not None else self.record.ts_event)


@dataclass(frozen=True)
class Instrument:
    """A listing: ``raw_symbol`` is ``instrument_id`` over ``[start_date, end_date)``."""

    raw_symbol: str
    instrument_id: int
    start_date: dt.date
    end_date: dt.date


@dataclass(frozen=True)
class DataRequest:
    """A parsed data query (get_range, get_cost, get_record_count, get_billable_size)."""

    endpoint: str
    dataset: str
    schema: str
    symbols: tuple[str, ...]
    stype_in: str
    stype_out: str
    start: int
    end: int
    limit: int | None
    compression: str

    @property
    def start_date(self) -> dt.date:
        """UTC date of ``start``."""
        return _utc_date(self.start)

    @property
    def end_date(self) -> dt.date:
        """Exclusive UTC end date covering ``end``."""
        return _utc_date(self.end - 1) + dt.timedelta(days=1)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received, as logged in :attr:`FakeDatabentoGateway.requests`."""

    method: str
    path: str
    endpoint: str
    params: dict[str, str]
    api_key: str | None
    status: int
    headers: dict[str, str] = field(default_factory=dict)


#: Cost of a query in USD: fixed, or computed from the request and its record count.
CostModel = float | Callable[[DataRequest, int], float]
#: Returns complete, uncompressed DBN bytes for a request, or None to use the market.
DataProvider = Callable[[DataRequest], bytes | None]


def per_record_cost(usd_per_record: float) -> Callable[[DataRequest, int], float]:
    """Cost model charging a flat price per returned record."""

    def cost(_request: DataRequest, n_records: int) -> float:
        return usd_per_record * n_records

    return cost


def per_day_cost(usd_per_day: float) -> Callable[[DataRequest, int], float]:
    """Cost model charging per (partial) UTC day spanned by ``[start, end)``."""

    def cost(request: DataRequest, _n_records: int) -> float:
        return usd_per_day * (request.end_date - request.start_date).days

    return cost


# --------------------------------------------------------------------------- #
# Symbology
# --------------------------------------------------------------------------- #
def parent_matches(parent: str, raw_symbol: str) -> bool:
    """Whether ``raw_symbol`` belongs to parent symbol ``parent``.

    ``ROOT.FUT`` matches outrights (``MCLZ5``), calendar spreads
    (``MCLZ5-MCLF6``) and strategies written ``ROOT:...``; ``ROOT.OPT`` matches
    options (``MCLZ5 C7000``); a bare ``ROOT`` matches both. Roots are exact,
    so ``MCL.FUT`` does not match ``MCLE...``-style products.
    """
    root, _, asset = parent.upper().partition(".")
    outright = rf"{re.escape(root)}[{_MONTH_CODES}]\d{{1,2}}"
    is_future = bool(
        re.fullmatch(rf"{outright}(-{outright})*", raw_symbol) or raw_symbol.startswith(f"{root}:")
    )
    is_option = bool(re.fullmatch(rf"{outright} [CP]\S+", raw_symbol))
    if asset == "FUT":
        return is_future
    if asset == "OPT":
        return is_option
    if asset == "":
        return is_future or is_option
    return False


@dataclass(frozen=True)
class _Interval:
    """Implements ``databento_dbn.metadata.MappingInterval``."""

    start_date: dt.date
    end_date: dt.date
    symbol: str


@dataclass(frozen=True)
class _SymbolMapping:
    """Implements ``databento_dbn.metadata.SymbolMapping``."""

    raw_symbol: str
    intervals: tuple[_Interval, ...]


@dataclass(frozen=True)
class _Resolution:
    """Instruments each input symbol resolves to over a date range."""

    resolved: dict[str, list[Instrument]]
    partial: list[str]
    not_found: list[str]


def _matches(symbol: str, stype_in: str, inst: Instrument) -> bool:
    if symbol == ALL_SYMBOLS:
        return True
    if stype_in == "raw_symbol":
        return inst.raw_symbol == symbol
    if stype_in == "parent":
        return parent_matches(symbol, inst.raw_symbol)
    if stype_in == "instrument_id":
        return symbol.isdigit() and inst.instrument_id == int(symbol)
    return False  # continuous and others are not modelled


def _resolve(
    instruments: Iterable[Instrument],
    symbols: Sequence[str],
    stype_in: str,
    start_date: dt.date,
    end_date: dt.date,
) -> _Resolution:
    live = [i for i in instruments if i.start_date < end_date and i.end_date > start_date]
    resolved: dict[str, list[Instrument]] = {}
    partial: list[str] = []
    not_found: list[str] = []
    for symbol in symbols:
        hits = sorted(
            (i for i in live if _matches(symbol, stype_in, i)),
            key=lambda i: (i.raw_symbol, i.start_date),
        )
        if not hits:
            not_found.append(symbol)
            continue
        resolved[symbol] = hits
        if stype_in != "parent" and symbol != ALL_SYMBOLS:
            first = min(i.start_date for i in hits)
            last = max(i.end_date for i in hits)
            if first > start_date or last < end_date:
                partial.append(symbol)
    return _Resolution(resolved, partial, not_found)


def _clip(inst: Instrument, start_date: dt.date, end_date: dt.date) -> tuple[dt.date, dt.date]:
    return max(inst.start_date, start_date), min(inst.end_date, end_date)


def _metadata_mappings(
    resolution: _Resolution,
    stype_in: str,
    start_date: dt.date,
    end_date: dt.date,
    parent_mapping_key: Literal["raw_symbol", "parent"],
) -> list[_SymbolMapping]:
    """Metadata symbol mappings for a DBN stream, keyed as the client expects.

    With ``stype_out=instrument_id`` the client's ``InstrumentMap`` reads each
    key as the symbol and each interval's ``symbol`` as the instrument id, so
    parent requests are keyed by each contract's raw symbol by default (the
    ``symbol`` column then shows ``MCLZ5``); ``parent_mapping_key="parent"``
    keys them by the parent instead (the column then shows ``MCL.FUT``).
    """
    grouped: dict[str, list[_Interval]] = {}
    for symbol, insts in resolution.resolved.items():
        for inst in insts:
            d0, d1 = _clip(inst, start_date, end_date)
            if stype_in == "instrument_id":
                key, out = str(inst.instrument_id), inst.raw_symbol
            elif stype_in == "parent" and parent_mapping_key == "parent":
                key, out = symbol, str(inst.instrument_id)
            else:  # raw_symbol, ALL_SYMBOLS, or parent keyed by contract
                key, out = inst.raw_symbol, str(inst.instrument_id)
            grouped.setdefault(key, []).append(_Interval(d0, d1, out))
    return [
        _SymbolMapping(key, tuple(sorted(set(ivs), key=lambda i: (i.start_date, i.symbol))))
        for key, ivs in sorted(grouped.items())
    ]


# --------------------------------------------------------------------------- #
# DBN encoding
# --------------------------------------------------------------------------- #
def encode_dbn(metadata: dbn.Metadata, records: Iterable[Any]) -> bytes:
    """Uncompressed DBN bytes: the encoded metadata followed by each record."""
    return metadata.encode() + b"".join(bytes(r) for r in records)


def _instruments_from_records(records: Iterable[MarketRecord]) -> list[Instrument]:
    """Listings implied by records: each (raw symbol, id) from its first to last day."""
    spans: dict[tuple[str, int], tuple[int, int]] = {}
    for rec in records:
        key = (rec.raw_symbol, rec.instrument_id)
        lo, hi = spans.get(key, (rec.ts_index, rec.ts_index))
        spans[key] = (min(lo, rec.ts_index), max(hi, rec.ts_index))
    return [
        Instrument(sym, iid, _utc_date(lo), _utc_date(hi) + dt.timedelta(days=1))
        for (sym, iid), (lo, hi) in spans.items()
    ]


def make_ohlcv_dbn(
    bars: Iterable[OhlcvBar],
    *,
    dataset: str = DEFAULT_DATASET,
    schema: str = "ohlcv-1m",
    symbols: Sequence[str] | str | None = None,
    stype_in: str = "raw_symbol",
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    limit: int | None = None,
    symbol_mappings: Sequence[Any] | None = None,
    parent_mapping_key: Literal["raw_symbol", "parent"] = "raw_symbol",
) -> bytes:
    """Real, uncompressed DBN bytes for OHLCV bars, as the API would stream them.

    Bars are filtered to ``[start, end)`` (default: the bars' own span) and to
    ``symbols`` under ``stype_in`` (default: every bar's raw symbol), sorted by
    time, and preceded by metadata whose symbol mappings are derived from the
    bars unless ``symbol_mappings`` (objects with ``raw_symbol`` and
    ``intervals`` of ``start_date``/``end_date``/``symbol``) is given.
    """
    records = [MarketRecord(b.raw_symbol, b.to_record(schema)) for b in bars]
    if isinstance(symbols, str):
        symbols = [s.strip() for s in symbols.split(",")]
    if symbols is None:
        symbols = sorted({r.raw_symbol for r in records}) or [ALL_SYMBOLS]
    times = [r.ts_index for r in records]
    start_ns = to_unix_ns(start) if start is not None else (min(times) if times else 0)
    end_ns = to_unix_ns(end) if end is not None else (max(times) + 1 if times else start_ns + 1)
    request = DataRequest(
        endpoint="timeseries.get_range",
        dataset=dataset,
        schema=schema,
        symbols=tuple(symbols),
        stype_in=stype_in,
        stype_out="instrument_id",
        start=start_ns,
        end=end_ns,
        limit=limit,
        compression="none",
    )
    return _build_stream(
        request, records, _instruments_from_records(records), parent_mapping_key, symbol_mappings
    )


def make_definition_record(
    raw_symbol: str,
    instrument_id: int,
    ts_recv: TimeLike,
    *,
    expiration: TimeLike,
    asset: str = "MCL",
    security_type: str = "FUT",
    instrument_class: Any = dbn.InstrumentClass.FUTURE,
    min_price_increment: float = 0.01,
    contract_multiplier: int = 100,
    unit_of_measure: str = "BBL",
    currency: str = "USD",
    exchange: str = "XNYM",
    group: str = "CL",
    publisher_id: int = GLBX_PUBLISHER_ID,
) -> dbn.InstrumentDefMsg:
    """An ``InstrumentDefMsg`` with defaults for a Micro WTI (MCL) future."""
    ts = to_unix_ns(ts_recv)
    return dbn.InstrumentDefMsg(
        publisher_id,
        instrument_id,
        ts,
        ts,
        round(min_price_increment * dbn.FIXED_PRICE_SCALE),
        dbn.FIXED_PRICE_SCALE,
        raw_symbol,
        asset,
        security_type,
        instrument_class,
        dbn.SecurityUpdateAction.ADD,  # type: ignore[arg-type]  # stub types it as str
        expiration=to_unix_ns(expiration),
        contract_multiplier=contract_multiplier,
        unit_of_measure=unit_of_measure,
        unit_of_measure_qty=contract_multiplier * dbn.FIXED_PRICE_SCALE,
        currency=currency,
        exchange=exchange,
        group=group,
    )


def _select(
    request: DataRequest, records: Iterable[MarketRecord], resolution: _Resolution
) -> list[MarketRecord]:
    wanted = {
        (i.raw_symbol, i.instrument_id) for insts in resolution.resolved.values() for i in insts
    }
    chosen = sorted(
        (
            r
            for r in records
            if request.start <= r.ts_index < request.end
            and (r.raw_symbol, r.instrument_id) in wanted
        ),
        key=lambda r: (r.ts_index, r.instrument_id),
    )
    return chosen[: request.limit] if request.limit else chosen


def _build_stream(
    request: DataRequest,
    records: Sequence[MarketRecord],
    instruments: Sequence[Instrument],
    parent_mapping_key: Literal["raw_symbol", "parent"],
    symbol_mappings: Sequence[Any] | None = None,
) -> bytes:
    resolution = _resolve(
        instruments, request.symbols, request.stype_in, request.start_date, request.end_date
    )
    return _encode_response(
        request,
        resolution,
        _select(request, records, resolution),
        parent_mapping_key,
        symbol_mappings,
    )


def _encode_response(
    request: DataRequest,
    resolution: _Resolution,
    selected: Sequence[MarketRecord],
    parent_mapping_key: Literal["raw_symbol", "parent"],
    symbol_mappings: Sequence[Any] | None = None,
) -> bytes:
    """Metadata (symbols, partial, not_found, mappings) plus the selected records."""
    if symbol_mappings is None:
        symbol_mappings = _metadata_mappings(
            resolution, request.stype_in, request.start_date, request.end_date, parent_mapping_key
        )
    metadata = dbn.Metadata(
        request.dataset,
        request.start,
        dbn.SType(request.stype_in),
        dbn.SType(request.stype_out),
        dbn.Schema(request.schema),
        symbols=list(request.symbols),
        partial=resolution.partial,
        not_found=resolution.not_found,
        mappings=list(symbol_mappings),  # type: ignore[arg-type]  # protocol match
        end=request.end,
        limit=request.limit,
    )
    return encode_dbn(metadata, (r.record for r in selected))


# --------------------------------------------------------------------------- #
# TLS
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class TestCA:
    """The process-wide test CA and the loopback server certificate it issued."""

    __test__ = False  # not a pytest test class

    ca: trustme.CA
    server_cert: trustme.LeafCert
    ca_bundle_path: Path


_CA_LOCK = threading.Lock()
_CA: TestCA | None = None


def test_ca() -> TestCA:
    """The process-wide test CA, created (and its PEM written) on first use.

    One CA per process, so ``SSL_CERT_FILE`` set once before ``aiohttp`` is
    imported keeps working for every gateway started later.
    """
    global _CA
    with _CA_LOCK:
        if _CA is None:
            ca = trustme.CA(organization_name="workbench fake Databento CA")
            leaf = ca.issue_cert("127.0.0.1", "localhost", "::1")
            tmp = Path(tempfile.mkdtemp(prefix="fake-databento-ca-"))
            atexit.register(shutil.rmtree, tmp, ignore_errors=True)
            path = tmp / "ca.pem"
            ca.cert_pem.write_to_path(str(path))
            _CA = TestCA(ca, leaf, path)
        return _CA


test_ca.__test__ = False  # type: ignore[attr-defined]  # not a pytest test function


def _ca_env(ca_bundle_path: Path, base: Mapping[str, str]) -> dict[str, str]:
    loopback = "127.0.0.1,localhost,::1"
    no_proxy = base.get("NO_PROXY") or base.get("no_proxy") or ""
    merged = f"{no_proxy},{loopback}" if no_proxy else loopback
    return {
        "REQUESTS_CA_BUNDLE": str(ca_bundle_path),
        "SSL_CERT_FILE": str(ca_bundle_path),
        "NO_PROXY": merged,
        "no_proxy": merged,
    }


def install_ca_env() -> dict[str, str]:
    """Trust the test CA process-wide by setting the env vars in ``os.environ``.

    Call before ``databento`` (hence ``aiohttp.connector``) is imported for the
    async client to trust the fake; the sync client honours it at any time.
    Returns the variables set.
    """
    env = _ca_env(test_ca().ca_bundle_path, os.environ)
    if (
        "aiohttp.connector" in sys.modules
        and os.environ.get("SSL_CERT_FILE") != env["SSL_CERT_FILE"]
    ):
        warnings.warn(
            "aiohttp.connector is already imported: its default SSL context will not "
            "trust the fake Databento CA (async client calls will fail TLS verification)",
            stacklevel=2,
        )
    os.environ.update(env)
    return env


# --------------------------------------------------------------------------- #
# HTTP plumbing
# --------------------------------------------------------------------------- #
class _ApiError(Exception):
    """An HTTP error response with a JSON ``detail`` body."""

    def __init__(self, status: int, detail: Any, headers: Mapping[str, str] | None = None):
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})


def _structured_422(case: str, message: str, docs: str, payload: Any) -> _ApiError:
    """The API's structured error form, which the client formats from ``case``/``message``."""
    return _ApiError(
        422,
        {
            "case": case,
            "message": message,
            "status_code": 422,
            "docs": docs,
            "payload": payload,
        },
    )


@dataclass
class _Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = False
    drop_after: int | None = None


def _json_response(status: int, value: Any, headers: Mapping[str, str] | None = None) -> _Response:
    return _Response(status, json.dumps(value).encode(), headers=dict(headers or {}))


@dataclass
class _Fault:
    kind: Literal["status", "drop"]
    endpoint: str | None
    status: int = 0
    retry_after: int | None = None
    detail: str | None = None
    after_bytes: int | None = None


@dataclass(frozen=True)
class _QueryResult:
    request: DataRequest
    provided: bytes | None
    resolution: _Resolution | None
    selected: list[MarketRecord]

    def record_count(self) -> int:
        if self.provided is not None:
            return _count_records(self.provided)
        return len(self.selected)


_DEFAULT_FAULT_DETAIL = {
    429: "Too many requests. Please slow down and try again.",
    500: "Internal server error.",
    502: "Bad gateway.",
    503: "Service temporarily unavailable. Please try again later.",
    504: "The remote gateway timed out.",
}


class _Server(ThreadingHTTPServer):
    """Threaded HTTP server doing the TLS handshake in each worker thread."""

    daemon_threads = True
    fake: FakeDatabentoGateway
    ssl_context: ssl.SSLContext

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # client gave up or refused our certificate
        try:
            super().finish_request(tls, client_address)
        finally:
            with suppress(OSError):
                tls.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeDatabento/1.0"
    timeout = 30
    server: _Server

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        if body and "x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
            params.update(parse_qsl(body.decode(), keep_blank_values=True))
        response = self.server.fake._handle(
            method, split.path, params, self.headers.get("Authorization"), dict(self.headers)
        )
        self._send(response)

    def _send(self, response: _Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("request-id", self.server.fake._next_request_id())
        for name, value in response.headers.items():
            self.send_header(name, value)
        if not response.chunked:
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        payload = (
            response.body if response.drop_after is None else response.body[: response.drop_after]
        )
        for i in range(0, len(payload), _STREAM_CHUNK):
            chunk = payload[i : i + _STREAM_CHUNK]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        if response.drop_after is None:
            self.wfile.write(b"0\r\n\r\n")
            return
        # Simulate the connection dying mid-stream: no terminating chunk.
        self.wfile.flush()
        self.close_connection = True
        with suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


# --------------------------------------------------------------------------- #
# The fake gateway
# --------------------------------------------------------------------------- #
class FakeDatabentoGateway:
    """A loopback HTTPS server speaking Databento's historical HTTP API.

    Usage::

        with FakeDatabentoGateway() as fake:
            fake.add_bars([OhlcvBar.at("2025-11-03T14:30", "MCLZ5", 42, ...)])
            for k, v in fake.env().items():
                monkeypatch.setenv(k, v)
            client = databento.Historical(fake.api_key, gateway=fake.gateway)
            store = client.timeseries.get_range(...)

    Data comes from the in-memory market (:meth:`add_bars`, :meth:`add_records`,
    :meth:`add_instrument`) unless ``data_provider`` returns bytes. The
    gateway is thread-safe; configuration may change while it runs.
    """

    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        cost: CostModel = 0.0,
        data_provider: DataProvider | None = None,
        parent_mapping_key: Literal["raw_symbol", "parent"] = "raw_symbol",
        host: str = "127.0.0.1",
    ) -> None:
        self.api_key = api_key
        self.cost: CostModel = cost
        self.data_provider = data_provider
        self.parent_mapping_key: Literal["raw_symbol", "parent"] = parent_mapping_key
        self._host = host
        self._lock = threading.Lock()
        self._records: dict[tuple[str, str], list[MarketRecord]] = {}
        self._instruments: dict[str, dict[tuple[str, int], Instrument]] = {}
        self._ranges: dict[str, tuple[int, int]] = {}
        self._faults: list[_Fault] = []
        self._log: list[RecordedRequest] = []
        self._request_ids = itertools.count(1)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------- #
    def start(self) -> Self:
        """Bind an ephemeral loopback port and serve in a background thread."""
        if self._server is not None:
            return self
        ca = test_ca()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.server_cert.configure_cert(context)
        server = _Server((self._host, 0), _Handler)
        server.fake = self
        server.ssl_context = context
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-databento-gateway",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- connection details ------------------------------------------------- #
    @property
    def port(self) -> int:
        """The bound TCP port."""
        if self._server is None:
            raise RuntimeError("the fake gateway is not running")
        return int(self._server.server_address[1])

    @property
    def gateway(self) -> str:
        """The ``gateway=`` argument for ``databento.Historical``."""
        return f"https://{self._host}:{self.port}"

    @property
    def ca_bundle_path(self) -> Path:
        """PEM file of the CA that signed the server certificate."""
        return test_ca().ca_bundle_path

    def env(self) -> dict[str, str]:
        """Environment variables making ``requests`` and ``aiohttp`` trust this server.

        ``REQUESTS_CA_BUNDLE`` (sync client), ``SSL_CERT_FILE`` (async client;
        see the module docstring for its import-time caveat), and
        ``NO_PROXY``/``no_proxy`` extended with loopback.
        """
        return _ca_env(self.ca_bundle_path, os.environ)

    @contextmanager
    def trusted_env(self) -> Iterator[dict[str, str]]:
        """Temporarily set :meth:`env` in ``os.environ`` (restored on exit)."""
        env = self.env()
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            yield env
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    # -- market configuration ----------------------------------------------- #
    def add_bars(
        self,
        bars: Iterable[OhlcvBar],
        *,
        dataset: str = DEFAULT_DATASET,
        schema: str = "ohlcv-1m",
    ) -> None:
        """Add OHLCV bars to the market for ``dataset``/``schema``."""
        self.add_records(
            [(bar.raw_symbol, bar.to_record(schema)) for bar in bars],
            dataset=dataset,
            schema=schema,
        )

    def add_records(
        self,
        records: Iterable[tuple[str, Any]],
        *,
        dataset: str = DEFAULT_DATASET,
        schema: str,
    ) -> None:
        """Add ``(raw_symbol, databento_dbn record)`` pairs for ``dataset``/``schema``.

        ``schema`` must be the one the records belong to (e.g. ``"definition"``
        for ``InstrumentDefMsg``).
        """
        dbn.Schema(schema)  # validate
        items = [MarketRecord(sym, rec) for sym, rec in records]
        with self._lock:
            self._records.setdefault((dataset, schema), []).extend(items)

    def add_instrument(
        self,
        raw_symbol: str,
        instrument_id: int,
        start_date: dt.date | str,
        end_date: dt.date | str,
        *,
        dataset: str = DEFAULT_DATASET,
    ) -> None:
        """Declare a listing explicitly (otherwise implied by records' first/last day).

        Symbology (resolve, metadata mappings, "None of the symbols could be
        resolved") uses listings, so a declared listing resolves even on days
        without records.
        """
        inst = Instrument(
            raw_symbol,
            instrument_id,
            pd.Timestamp(start_date).date(),
            pd.Timestamp(end_date).date(),
        )
        with self._lock:
            self._instruments.setdefault(dataset, {})[(raw_symbol, instrument_id)] = inst

    def set_dataset_range(
        self, start: TimeLike, end: TimeLike, *, dataset: str = DEFAULT_DATASET
    ) -> None:
        """Set the available range; queries beyond it get the API's 422 errors.

        Without this a dataset's range is unbounded (derived from its records
        for ``get_dataset_range`` only).
        """
        with self._lock:
            self._ranges[dataset] = (to_unix_ns(start), to_unix_ns(end))

    def clear(self) -> None:
        """Drop all market data, listings, ranges, pending faults and the request log."""
        with self._lock:
            self._records.clear()
            self._instruments.clear()
            self._ranges.clear()
            self._faults.clear()
            self._log.clear()

    # -- fault injection ---------------------------------------------------- #
    def fail_next(
        self,
        n: int = 1,
        status: int = 429,
        *,
        retry_after: int | None = None,
        endpoint: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Make the next ``n`` authenticated requests (to ``endpoint``, e.g.
        ``"timeseries.get_range"``, or to any endpoint) fail with ``status``.

        ``retry_after`` (seconds) is sent as the ``Retry-After`` header.
        """
        with self._lock:
            self._faults.extend(
                _Fault("status", endpoint, status, retry_after, detail) for _ in range(n)
            )

    def drop_next(self, n: int = 1, *, after_bytes: int | None = None) -> None:
        """Cut the next ``n`` ``timeseries.get_range`` streams after ``after_bytes``
        bytes of (possibly compressed) body; default: half the body.

        The status is 200 and the chunked body ends without its terminating
        chunk, as when a connection dies mid-download.
        """
        with self._lock:
            self._faults.extend(
                _Fault("drop", "timeseries.get_range", after_bytes=after_bytes) for _ in range(n)
            )

    def pending_faults(self) -> int:
        """How many injected faults have not fired yet."""
        with self._lock:
            return len(self._faults)

    # -- request log -------------------------------------------------------- #
    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received, oldest first."""
        with self._lock:
            return list(self._log)

    def requests_for(self, endpoint: str) -> list[RecordedRequest]:
        """The logged requests to ``endpoint`` (e.g. ``"metadata.get_cost"``)."""
        return [r for r in self.requests if r.endpoint == endpoint]

    # -- request handling (called from server threads) ----------------------- #
    def _next_request_id(self) -> str:
        with self._lock:
            return f"fake-{next(self._request_ids):06d}"

    def _handle(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        authorization: str | None,
        headers: dict[str, str],
    ) -> _Response:
        endpoint = path[len(_API_PREFIX) :] if path.startswith(_API_PREFIX) else path
        key = _basic_auth_user(authorization)
        try:
            response = self._route(method, path, endpoint, params, key)
        except _ApiError as err:
            response = _json_response(err.status, {"detail": err.detail}, err.headers)
        except Exception as exc:  # a bug in the fake: answer like the real 500
            response = _json_response(500, {"detail": f"fake gateway error: {exc!r}"})
        with self._lock:
            self._log.append(
                RecordedRequest(method, path, endpoint, dict(params), key, response.status, headers)
            )
        return response

    def _route(
        self, method: str, path: str, endpoint: str, params: dict[str, str], key: str | None
    ) -> _Response:
        routes: dict[str, tuple[str, Callable[[dict[str, str]], _Response]]] = {
            "timeseries.get_range": ("POST", self._get_range),
            "metadata.get_cost": ("POST", self._get_cost),
            "metadata.get_record_count": ("POST", self._get_record_count),
            "metadata.get_billable_size": ("POST", self._get_billable_size),
            "metadata.get_dataset_range": ("GET", self._get_dataset_range),
            "metadata.list_datasets": ("GET", self._list_datasets),
            "metadata.list_schemas": ("GET", self._list_schemas),
            "symbology.resolve": ("POST", self._symbology_resolve),
        }
        if not path.startswith(_API_PREFIX) or endpoint not in routes:
            raise _ApiError(404, "Not Found")
        if key != self.api_key:
            raise _ApiError(401, "Authentication failed.")
        expected_method, handler = routes[endpoint]
        if method != expected_method:
            raise _ApiError(405, "Method Not Allowed")
        fault = self._take_fault(endpoint)
        if fault is not None and fault.kind == "status":
            headers = (
                {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            )
            detail = fault.detail or _DEFAULT_FAULT_DETAIL.get(fault.status, "Injected failure.")
            raise _ApiError(fault.status, detail, headers)
        response = handler(params)
        if fault is not None and fault.kind == "drop":
            cut = fault.after_bytes if fault.after_bytes is not None else len(response.body) // 2
            response.drop_after = max(0, min(cut, len(response.body) - 1))
        return response

    def _take_fault(self, endpoint: str) -> _Fault | None:
        with self._lock:
            for i, fault in enumerate(self._faults):
                if fault.endpoint in (None, endpoint):
                    return self._faults.pop(i)
        return None

    # -- market snapshots ---------------------------------------------------- #
    def _snapshot(self, dataset: str, schema: str) -> tuple[list[MarketRecord], list[Instrument]]:
        with self._lock:
            records = list(self._records.get((dataset, schema), []))
            everything = [
                r for (ds, _), recs in self._records.items() if ds == dataset for r in recs
            ]
            explicit = dict(self._instruments.get(dataset, {}))
        implied = {
            (i.raw_symbol, i.instrument_id): i for i in _instruments_from_records(everything)
        }
        implied.update(explicit)
        return records, list(implied.values())

    def _known_datasets(self) -> list[str]:
        with self._lock:
            names = {ds for ds, _ in self._records} | set(self._ranges) | set(self._instruments)
        return sorted(names | {DEFAULT_DATASET})

    # -- endpoint implementations ------------------------------------------- #
    def _data_request(self, endpoint: str, params: dict[str, str]) -> DataRequest:
        dataset = _required(params, "dataset")
        schema = params.get("schema", "trades")
        try:
            dbn.Schema(schema)
        except Exception:
            raise _ApiError(422, f"Invalid schema '{schema}'.") from None
        stype_in = params.get("stype_in", "raw_symbol")
        stype_out = params.get("stype_out", "instrument_id")
        for name, value in (("stype_in", stype_in), ("stype_out", stype_out)):
            try:
                dbn.SType(value)
            except Exception:
                raise _ApiError(422, f"Invalid {name} '{value}'.") from None
        symbols = tuple(
            s.strip() for s in params.get("symbols", ALL_SYMBOLS).split(",") if s.strip()
        )
        start, resolution = _parse_time_param(params, "start")
        end = _parse_time_param(params, "end")[0] if params.get("end") else start + resolution
        limit = int(params["limit"]) if params.get("limit") else None
        request = DataRequest(
            endpoint=endpoint,
            dataset=dataset,
            schema=schema,
            symbols=symbols or (ALL_SYMBOLS,),
            stype_in=stype_in,
            stype_out=stype_out,
            start=start,
            end=end,
            limit=limit,
            compression=params.get("compression", "none"),
        )
        self._check_range(request)
        return request

    def _check_range(self, request: DataRequest) -> None:
        start, end = request.start, request.end
        if start >= end:
            raise _structured_422(
                "data_time_range_start_on_or_after_end",
                f"Invalid time range query, `start` {_fmt_human(start)} cannot be on or "
                f"after `end` {_fmt_human(end)}.",
                _DOCS_TIME,
                {"start": _fmt_iso_ns(start), "end": _fmt_iso_ns(end)},
            )
        with self._lock:
            bounds = self._ranges.get(request.dataset)
        if bounds is None:
            return
        avail_start, avail_end = bounds
        payload = {
            "dataset": request.dataset,
            "start": _fmt_iso_ns(start),
            "end": _fmt_iso_ns(end),
            "available_start": _fmt_iso_ns(avail_start),
            "available_end": _fmt_iso_ns(avail_end),
        }
        ds = request.dataset
        if start < avail_start:
            raise _structured_422(
                "data_start_before_available_start",
                f"`start` in query ('{_fmt_human(start)}') was before the available start "
                f"of dataset {ds} ('{_fmt_human(avail_start)}'). "
                "Try requesting with a later `start`.",
                _DOCS_DATASETS,
                payload,
            )
        if start >= avail_end:
            raise _structured_422(
                "data_start_after_available_end",
                f"`start` in query ('{_fmt_human(start)}') was after the available end "
                f"of dataset {ds} ('{_fmt_human(avail_end)}'). "
                "Try requesting with an earlier `start`.",
                _DOCS_DATASETS,
                payload,
            )
        if end > avail_end:
            raise _structured_422(
                "data_end_after_available_end",
                f"The dataset {ds} has data available up to '{_fmt_human(avail_end)}'. "
                f"The `end` in the query ('{_fmt_human(end)}') is after the available "
                "range. Try requesting with an earlier `end`.",
                _DOCS_DATASETS,
                payload,
            )

    def _query(self, endpoint: str, params: dict[str, str]) -> _QueryResult:
        """Parse and validate a data query, then resolve and select its records.

        If ``data_provider`` answers, its bytes are used instead of the market.
        """
        request = self._data_request(endpoint, params)
        if self.data_provider is not None:
            provided = self.data_provider(request)
            if provided is not None:
                return _QueryResult(request, provided, None, [])
        records, instruments = self._snapshot(request.dataset, request.schema)
        resolution = _resolve(
            instruments, request.symbols, request.stype_in, request.start_date, request.end_date
        )
        if not resolution.resolved:
            raise _structured_422(
                "symbology_invalid_request",
                "None of the symbols could be resolved",
                _DOCS_SYMBOLOGY,
                None,
            )
        return _QueryResult(request, None, resolution, _select(request, records, resolution))

    def _get_range(self, params: dict[str, str]) -> _Response:
        if params.get("encoding", "dbn") != "dbn":
            raise _ApiError(422, "The fake gateway only serves encoding=dbn.")
        compression = params.get("compression", "none")
        if compression not in ("zstd", "none"):
            raise _ApiError(422, f"Invalid compression '{compression}'.")
        query = self._query("timeseries.get_range", params)
        data = query.provided
        if data is None:
            assert query.resolution is not None
            data = _encode_response(
                query.request, query.resolution, query.selected, self.parent_mapping_key
            )
        body = zstandard.ZstdCompressor().compress(data) if compression == "zstd" else data
        return _Response(200, body, content_type="application/octet-stream", chunked=True)

    def _get_cost(self, params: dict[str, str]) -> _Response:
        query = self._query("metadata.get_cost", params)
        n = query.record_count()
        cost = self.cost(query.request, n) if callable(self.cost) else float(self.cost)
        return _json_response(200, cost)

    def _get_record_count(self, params: dict[str, str]) -> _Response:
        return _json_response(200, self._query("metadata.get_record_count", params).record_count())

    def _get_billable_size(self, params: dict[str, str]) -> _Response:
        query = self._query("metadata.get_billable_size", params)
        if query.provided is not None:
            size = len(query.provided) - len(dbn.Metadata.decode(query.provided).encode())
        else:
            size = sum(len(bytes(r.record)) for r in query.selected)
        return _json_response(200, size)

    def _get_dataset_range(self, params: dict[str, str]) -> _Response:
        dataset = _required(params, "dataset")
        with self._lock:
            bounds = self._ranges.get(dataset)
            per_schema = {
                schema: [r.ts_index for r in recs]
                for (ds, schema), recs in self._records.items()
                if ds == dataset and recs
            }
        if bounds is None:
            stamps = [t for ts in per_schema.values() for t in ts]
            if not stamps:
                raise _ApiError(422, f"Dataset '{dataset}' has no data in the fake gateway.")
            bounds = (
                _date_ns(_utc_date(min(stamps))),
                _date_ns(_utc_date(max(stamps))) + _NS_PER_DAY,
            )
        start, end = (_fmt_iso_ns(b) for b in bounds)
        schemas = {s: {"start": start, "end": end} for s in sorted(per_schema)}
        return _json_response(200, {"start": start, "end": end, "schema": schemas})

    def _list_datasets(self, params: dict[str, str]) -> _Response:
        return _json_response(200, self._known_datasets())

    def _list_schemas(self, params: dict[str, str]) -> _Response:
        dataset = _required(params, "dataset")
        with self._lock:
            schemas = sorted({s for ds, s in self._records if ds == dataset})
        return _json_response(200, schemas)

    def _symbology_resolve(self, params: dict[str, str]) -> _Response:
        dataset = _required(params, "dataset")
        stype_in = params.get("stype_in", "raw_symbol")
        stype_out = params.get("stype_out", "instrument_id")
        symbols = [s.strip() for s in _required(params, "symbols").split(",") if s.strip()]
        start_date = pd.Timestamp(_required(params, "start_date")).date()
        end_raw = params.get("end_date")
        end_date = pd.Timestamp(end_raw).date() if end_raw else start_date + dt.timedelta(days=1)
        if start_date >= end_date:
            raise _ApiError(422, "`start_date` must be before `end_date`.")
        _, instruments = self._snapshot(dataset, "definition")
        resolution = _resolve(instruments, symbols, stype_in, start_date, end_date)
        result: dict[str, list[dict[str, str]]] = {}
        for symbol, insts in resolution.resolved.items():
            entries = []
            for inst in insts:
                d0, d1 = _clip(inst, start_date, end_date)
                out = inst.raw_symbol if stype_out == "raw_symbol" else str(inst.instrument_id)
                entries.append({"d0": d0.isoformat(), "d1": d1.isoformat(), "s": out})
            result[symbol] = sorted(entries, key=lambda e: (e["d0"], e["s"]))
        if resolution.not_found and not resolution.resolved:
            status, message = 2, "Not found"
        elif resolution.not_found or resolution.partial:
            status, message = 1, "Partially resolved"
        else:
            status, message = 0, "OK"
        return _json_response(
            200,
            {
                "result": result,
                "symbols": symbols,
                "stype_in": stype_in,
                "stype_out": stype_out,
                "start_date": start_date.isoformat(),
                "end_date": end_date.isoformat(),
                "partial": resolution.partial,
                "not_found": resolution.not_found,
                "message": message,
                "status": status,
            },
        )


# --------------------------------------------------------------------------- #
# Small parsing helpers
# --------------------------------------------------------------------------- #
def _basic_auth_user(authorization: str | None) -> str | None:
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[0]


def _required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name, "").strip()
    if not value:
        raise _ApiError(422, f"Missing required parameter `{name}`.")
    return value


def _parse_time_param(params: Mapping[str, str], name: str) -> tuple[int, int]:
    raw = _required(params, name)
    try:
        return _parse_request_time(raw)
    except (ValueError, TypeError):
        raise _ApiError(422, f"Invalid `{name}` '{raw}'.") from None


def _count_records(data: bytes) -> int:
    decoder = dbn.DBNDecoder()
    decoder.write(data)
    return sum(1 for item in decoder.decode() if not isinstance(item, dbn.Metadata))
