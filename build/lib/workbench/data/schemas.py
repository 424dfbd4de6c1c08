"""Databento schemas the catalog stores, and how each is laid out in Parquet.

Two price formats, chosen per kind of schema and recorded in every file's metadata:

- **Bars** (``ohlcv-*``): ``open high low close`` as float64 dollars, the exact DBN
  fixed-point value divided by 1e9 (the nearest double to the on-tick price, e.g. 71.23),
  so that a research frame needs no conversion.
- **Everything else** (trades, mbp-1, mbp-10, mbo, definition, statistics, ...): the DBN
  fields as they are, prices in int64 fixed point (1 unit = 1e-9, ``price_scale`` in the
  metadata), because the order book and execution kernels work on integers.

``ts_event`` is always a UTC nanosecond timestamp. For bars it is the START of the
interval, as Databento labels it: a bar is only known at ``ts_event + interval``.
"""

from __future__ import annotations

from dataclasses import dataclass

NS_PER_SECOND = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_SECOND
PRICE_SCALE = 1_000_000_000  # DBN fixed point: 1 unit = 1e-9


@dataclass(frozen=True)
class SchemaInfo:
    """One Databento schema as the catalog knows it."""

    name: str
    kind: str  # "bars", "ticks", "book", "reference"
    interval_ns: int = 0  # bar length for bar schemas

    @property
    def is_bars(self) -> bool:
        """Whether this is an OHLCV bar schema."""
        return self.kind == "bars"

    @property
    def price_format(self) -> str:
        """How prices are stored in Parquet (see the module docstring)."""
        return "float64-dollars" if self.is_bars else "int64-fixed-1e-9"


SCHEMAS: dict[str, SchemaInfo] = {
    s.name: s
    for s in (
        SchemaInfo("ohlcv-1s", "bars", NS_PER_SECOND),
        SchemaInfo("ohlcv-1m", "bars", 60 * NS_PER_SECOND),
        SchemaInfo("ohlcv-1h", "bars", 3_600 * NS_PER_SECOND),
        SchemaInfo("ohlcv-1d", "bars", 86_400 * NS_PER_SECOND),
        SchemaInfo("trades", "ticks"),
        SchemaInfo("tbbo", "ticks"),
        SchemaInfo("mbp-1", "book"),
        SchemaInfo("mbp-10", "book"),
        SchemaInfo("mbo", "book"),
        SchemaInfo("bbo-1s", "book"),
        SchemaInfo("bbo-1m", "book"),
        SchemaInfo("cbbo-1s", "book"),
        SchemaInfo("cmbp-1", "book"),
        SchemaInfo("definition", "reference"),
        SchemaInfo("statistics", "reference"),
        SchemaInfo("status", "reference"),
        SchemaInfo("imbalance", "reference"),
    )
}

#: Bar schemas from finest to coarsest.
BAR_SCHEMAS = ("ohlcv-1s", "ohlcv-1m", "ohlcv-1h", "ohlcv-1d")


def schema_info(name: str) -> SchemaInfo:
    """Look up a schema by its Databento name.

    Raises
    ------
    KeyError
        Naming the schemas that are known.
    """
    try:
        return SCHEMAS[name]
    except KeyError:
        raise KeyError(f"unknown schema {name!r}; known schemas: {', '.join(SCHEMAS)}") from None
