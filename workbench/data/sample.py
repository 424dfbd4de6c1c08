"""The embedded sample data set: deterministic synthetic MCL bars, no key or network needed.

It covers the plan's range (trade dates 2023-12-11, the session opening Sunday 2023-12-10
18:00 New York, to 2026-01-08) on real Globex hours from the CME calendar (daily halt,
weekends, holidays and early closes), with:

- one "spot" log-price path with crude-like volatility (~35% a year), an intraday volatility
  profile, overnight gaps and weak mean reversion;
- every listed monthly contract priced off it with a slowly moving carry slope, so back
  months sit above or below the front and the continuous series jumps at rolls;
- volume with an intraday profile, shifting from the front to the next contract in the days
  before expiry (so a volume-crossover roll happens), and sparse back months (a bar only
  exists for a minute with trades, as with Databento);
- prices rounded to the $0.01 tick; ``high >= max(open, close)``, ``low <= min(open, close)``.

1-minute bars for every day, 1-second bars for the last few sessions (the 1-minute bars of
those sessions are built from them), and 1-hour and 1-day (UTC) bars resampled from the
1-minute bars, exactly as Databento's bars relate. Every file's metadata says
``"synthetic": true`` and ``source: synthetic``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from workbench.data.ingest import IngestReport, write_partitions
from workbench.data.resample import BarArrays, resample_arrays
from workbench.data.schemas import NS_PER_DAY, NS_PER_SECOND, schema_info
from workbench.data.store import DataRoot
from workbench.market.calendar import business_days, session_schedule
from workbench.market.contracts import contract_spec

SAMPLE_START = dt.date(2023, 12, 11)  # first trade date: session opens Sun 2023-12-10 18:00 NY
SAMPLE_END = dt.date(2026, 1, 8)
SAMPLE_SEED = 20231210
SAMPLE_SOURCE = "synthetic"
SAMPLE_DATASET = "GLBX.MDP3"

_NS_PER_MIN = 60 * NS_PER_SECOND
_MINUTES_PER_YEAR = 252 * 23 * 60
_TICKS = 100  # MCL: $0.01 tick


@dataclass(frozen=True)
class SampleConfig:
    """Knobs of the synthetic data set (defaults reproduce the documented sample)."""

    start: dt.date = SAMPLE_START
    end: dt.date = SAMPLE_END
    seed: int = SAMPLE_SEED
    start_price: float = 71.20
    annual_vol: float = 0.35
    mean_price: float = 72.0
    mean_reversion_per_year: float = 1.5
    front_volume_per_minute: float = 180.0
    second_share_far: float = 0.015
    third_share: float = 0.006
    roll_center_bdays: float = 7.0
    seconds_days: int = 3
    product: str = "MCL_FUT"


def _intraday_profile(minute_of_day_ny: np.ndarray) -> np.ndarray:
    """Relative activity by New York minute of day: quiet overnight, busy 09:00-14:30."""
    h = minute_of_day_ny / 60.0
    prof = 0.25 + 0.35 * np.exp(-0.5 * ((h - 3.5) / 1.5) ** 2)  # London open
    prof += 1.6 * np.exp(-0.5 * ((h - 10.0) / 1.6) ** 2)  # New York pit hours
    prof += 0.6 * np.exp(-0.5 * ((h - 14.4) / 0.25) ** 2)  # settlement window
    return np.asarray(prof)


def _session_minutes(cfg: SampleConfig) -> tuple[np.ndarray, np.ndarray, list[dt.date]]:
    """UTC ns start of every trading minute, its session index, and the trade dates."""

    sched = session_schedule(cfg.start, cfg.end)
    opens = pd.DatetimeIndex(sched["market_open"]).as_unit("ns").asi8
    closes = pd.DatetimeIndex(sched["market_close"]).as_unit("ns").asi8
    counts = (closes - opens) // _NS_PER_MIN
    session = np.repeat(np.arange(len(opens)), counts)
    first = np.repeat(opens, counts)
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    ts = first + offset * _NS_PER_MIN
    dates = [d.date() for d in sched.index]
    return ts, session, dates


def _contracts(cfg: SampleConfig, dates: list[dt.date]) -> tuple[list[str], np.ndarray]:
    """Contracts that are live during the sample, and their last trade dates."""
    spec = contract_spec(cfg.product)
    syms, exps = [], []
    y, m = cfg.start.year, cfg.start.month
    while True:
        exp = spec.last_trade_date(y, m)
        if exp >= dates[0]:
            syms.append(spec.symbol(y, m))
            exps.append(exp)
        if exp > dates[-1] + dt.timedelta(days=95):
            break
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return syms, np.array(exps, dtype="datetime64[D]")


def generate_minutes(cfg: SampleConfig) -> tuple[BarArrays, list[str], dict[str, np.ndarray]]:
    """All 1-minute bars of every contract (before the 1-second splice)."""

    rng = np.random.default_rng(cfg.seed)
    ts, session, dates = _session_minutes(cfg)
    n = len(ts)
    ny = pd.DatetimeIndex(ts.view("datetime64[ns]"), tz="UTC").tz_convert("America/New_York")
    mod = (ny.hour * 60 + ny.minute).to_numpy()
    prof = _intraday_profile(mod)

    # Spot path: per-minute log returns with regime, intraday profile and overnight gaps.
    sigma_min = cfg.annual_vol / np.sqrt(_MINUTES_PER_YEAR)
    n_sess = len(dates)
    regime = np.exp(np.cumsum(rng.normal(0, 0.08, n_sess)) * 0.5)
    regime = regime / regime.mean()
    regime = np.clip(regime, 0.5, 2.2)
    vol = sigma_min * (prof / prof.mean()) ** 0.5 * regime[session]
    shocks = rng.standard_t(5, n) / np.sqrt(5 / 3) * vol
    new_session = np.r_[True, session[1:] != session[:-1]]
    shocks[new_session] += rng.normal(0, sigma_min * 12, int(new_session.sum()))
    logp = np.empty(n)
    x = np.log(cfg.start_price)
    k = cfg.mean_reversion_per_year / _MINUTES_PER_YEAR
    target = np.log(cfg.mean_price)
    # Mean reversion applied in blocks of a session keeps this vectorised and cheap.
    starts = np.flatnonzero(new_session)
    ends = np.r_[starts[1:], n]
    for s, e in zip(starts, ends, strict=True):
        path = x + np.cumsum(shocks[s:e] - k * (x - target))
        logp[s:e] = path
        x = path[-1]
    spot = np.exp(logp)

    # Carry: a slope in $/month that wanders between backwardation and contango.
    slope_sess = np.clip(0.12 + np.cumsum(rng.normal(0, 0.025, n_sess)), -0.6, 0.6)
    slope = slope_sess[session]

    syms, exps = _contracts(cfg, dates)
    day_ns = np.array(dates, dtype="datetime64[D]").astype("datetime64[ns]").astype(np.int64)
    sess_day = day_ns[session]
    exp_ns = exps.astype("datetime64[ns]").astype(np.int64)

    # Excursions beyond open/close inside each minute (shared by all contracts).
    ext_hi = np.abs(rng.normal(0, 0.6, n)) * vol * spot * _TICKS
    ext_lo = np.abs(rng.normal(0, 0.6, n)) * vol * spot * _TICKS

    bday_list = np.array(
        business_days(dates[0], dt.date.fromisoformat(str(exps.max()))), dtype="datetime64[D]"
    )
    bday_idx_of_date = np.searchsorted(bday_list, np.array(dates, dtype="datetime64[D]"))
    bday_idx_of_exp = np.searchsorted(bday_list, exps)

    out_ts, out_codes, o_l, h_l, l_l, c_l, v_l = [], [], [], [], [], [], []
    for c, _sym in enumerate(syms):
        live_sess = np.array(dates, dtype="datetime64[D]") <= exps[c]
        if not live_sess.any():
            continue
        # Rank of this contract among the live ones each session (0 = nearest expiry).
        rank = np.array([int(np.sum((exps < exps[c]) & (exps >= np.datetime64(d)))) for d in dates])
        near = np.array([int(np.argmax(exps >= np.datetime64(d))) for d in dates])
        bdays_left = bday_idx_of_exp[near] - bday_idx_of_date  # of the nearest contract
        front_share = 1.0 / (1.0 + np.exp(-(bdays_left - cfg.roll_center_bdays) / 1.2))
        share = np.where(
            rank == 0,
            front_share,
            np.where(
                rank == 1,
                (1 - front_share) + cfg.second_share_far * front_share,
                np.where(rank == 2, cfg.third_share + 0.04 * (1 - front_share), 0.0),
            ),
        )
        share = np.where(live_sess, share, 0.0)
        lam = cfg.front_volume_per_minute * prof * share[session]
        vol_c = rng.poisson(lam)
        has = vol_c > 0
        if not has.any():
            continue
        idx = np.flatnonzero(has)
        months_out = (exp_ns[c] - sess_day[idx]) / (NS_PER_DAY * 30.4)
        px = spot[idx] + slope[idx] * months_out
        prev = np.r_[spot[0], spot[:-1]][idx] + slope[idx] * months_out
        close_t = np.round(px * _TICKS)
        open_t = np.round(prev * _TICKS)
        # Thin back months print inside the front's range: shrink their excursions.
        scale = np.minimum(1.0, np.sqrt(lam[idx] / cfg.front_volume_per_minute))
        high_t = np.maximum(open_t, close_t) + np.floor(ext_hi[idx] * scale)
        low_t = np.minimum(open_t, close_t) - np.floor(ext_lo[idx] * scale)
        out_ts.append(ts[idx])
        out_codes.append(np.full(len(idx), c, dtype=np.int64))
        o_l.append(open_t)
        h_l.append(high_t)
        l_l.append(low_t)
        c_l.append(close_t)
        v_l.append(vol_c[idx].astype(np.int64))
    all_ts = np.concatenate(out_ts)
    order = np.lexsort((np.concatenate(out_codes), all_ts))
    bars = BarArrays(
        ts=all_ts[order],
        codes=np.concatenate(out_codes)[order],
        open=np.concatenate(o_l)[order] / _TICKS,
        high=np.concatenate(h_l)[order] / _TICKS,
        low=np.concatenate(l_l)[order] / _TICKS,
        close=np.concatenate(c_l)[order] / _TICKS,
        volume=np.concatenate(v_l)[order],
    )
    extra = {"spot": spot, "ts": ts, "session": session}
    return bars, syms, extra


def _seconds_from_minutes(bars: BarArrays, rng: np.random.Generator, day_lo: int) -> BarArrays:
    """Split the 1-minute bars from ``day_lo`` (UTC ns) on into 1-second bars.

    Each minute's volume is spread over random seconds; the second-level path runs from the
    minute's open to its close and touches its high and low, so resampling the seconds
    gives the minute back exactly.
    """
    sel = np.flatnonzero(bars.ts >= day_lo)
    ts_l, c_l, o_l, h_l, l_l, cl_l, v_l = [], [], [], [], [], [], []
    vols = bars.volume[sel]
    n_secs = np.minimum(vols, rng.integers(1, 40, len(sel)))
    for j, i in enumerate(sel):
        k = int(max(n_secs[j], 1))
        secs = np.sort(rng.choice(60, size=k, replace=False))
        o, h, lo, c = bars.open[i], bars.high[i], bars.low[i], bars.close[i]
        # A tick path through o -> (h, lo in random order) -> c, sampled at k points.
        anchors = [o, h, lo, c] if rng.random() < 0.5 else [o, lo, h, c]
        pts = np.interp(np.linspace(0, 3, max(k + 1, 4)), [0, 1, 2, 3], anchors)
        pts = np.round(pts * _TICKS) / _TICKS
        # Second s covers pts[s]..pts[s+1] (k seconds, k+1 points when k >= 3).
        m = len(pts) - 1
        edges = np.linspace(0, m, k + 1).round().astype(int)
        vsplit = np.diff(
            np.r_[
                0,
                np.sort(rng.choice(np.arange(1, max(int(vols[j]), 1)), size=k - 1, replace=False))
                if k > 1
                else [],
                vols[j],
            ]
        )
        for s in range(k):
            seg = pts[edges[s] : edges[s + 1] + 1]
            ts_l.append(bars.ts[i] + int(secs[s]) * NS_PER_SECOND)
            c_l.append(bars.codes[i])
            o_l.append(seg[0] if s else o)
            h_l.append(seg.max())
            l_l.append(seg.min())
            cl_l.append(seg[-1] if s < k - 1 else c)
            v_l.append(int(vsplit[s]))
    out = BarArrays(
        np.array(ts_l, dtype=np.int64),
        np.array(c_l, dtype=np.int64),
        np.array(o_l),
        np.array(h_l),
        np.array(l_l),
        np.array(cl_l),
        np.array(v_l, dtype=np.int64),
    )
    # Make each second's high/low cover its own open/close after the endpoint overrides.
    out.high = np.maximum.reduce([out.high, out.open, out.close])
    out.low = np.minimum.reduce([out.low, out.open, out.close])
    return out


def _to_table(bars: BarArrays, syms: list[str], base_id: int) -> pa.Table:

    return pa.table(
        {
            "ts_event": pa.array(bars.ts, type=pa.int64()).cast(pa.timestamp("ns", tz="UTC")),
            "instrument_id": pa.array(bars.codes + base_id, type=pa.uint32()),
            "symbol": pa.DictionaryArray.from_arrays(
                pa.array(bars.codes.astype(np.int32)), pa.array(syms, type=pa.string())
            ),
            "open": pa.array(np.round(bars.open, 2)),
            "high": pa.array(np.round(bars.high, 2)),
            "low": pa.array(np.round(bars.low, 2)),
            "close": pa.array(np.round(bars.close, 2)),
            "volume": pa.array(bars.volume.astype(np.int64)),
        }
    )


def build_sample(
    data_dir: str | None = None,
    cfg: SampleConfig | None = None,
    progress: Callable[[int], None] | None = None,
    storage_options: dict[str, Any] | None = None,
) -> IngestReport:
    """Write the synthetic sample data set into the catalog at ``data_dir`` (a folder or an
    fsspec URL, with ``storage_options``).

    Returns
    -------
    IngestReport
        Files and rows written (all schemas).
    """
    cfg = cfg or SampleConfig()
    root = DataRoot(data_dir, storage_options)
    root.check_writable()
    minutes, syms, _ = generate_minutes(cfg)
    rng = np.random.default_rng(cfg.seed + 1)
    # Last `seconds_days` UTC days of the sample get 1-second bars; their minutes come from them.
    last_days = np.unique(minutes.ts // NS_PER_DAY)[-cfg.seconds_days :]
    day_lo = int(last_days[0]) * NS_PER_DAY
    seconds = _seconds_from_minutes(minutes, rng, day_lo)
    rebuilt = resample_arrays(seconds, 60 * NS_PER_SECOND)
    keep = minutes.ts < day_lo
    minutes = BarArrays(
        *(
            np.concatenate([getattr(minutes, f)[keep], getattr(rebuilt, f)])
            for f in ("ts", "codes", "open", "high", "low", "close", "volume")
        )
    )
    hours = resample_arrays(minutes, 3_600 * NS_PER_SECOND)
    days = resample_arrays(minutes, NS_PER_DAY)
    base_id = 42_000_000  # instrument ids in a range that is clearly not a real feed's
    report = IngestReport()
    for name, bars in (
        ("ohlcv-1m", minutes),
        ("ohlcv-1s", seconds),
        ("ohlcv-1h", hours),
        ("ohlcv-1d", days),
    ):
        table = _to_table(bars, syms, base_id)
        rep = write_partitions(
            root,
            table,
            product=cfg.product,
            schema=schema_info(name),
            dataset=SAMPLE_DATASET,
            source=SAMPLE_SOURCE,
            synthetic=True,
            progress=progress,
        )
        rep.records_read = rep.records_written
        report.merge(rep)
    return report


def ensure_sample(
    data_dir: str | None = None,
    product: str = "MCL_FUT",
    storage_options: dict[str, Any] | None = None,
) -> bool:
    """Write the synthetic sample when the catalog has no data for ``product``.

    Returns True when the sample was written, False when data was already there.
    """
    root = DataRoot(data_dir, storage_options)
    if root.partitions(product):
        return False
    build_sample(data_dir, storage_options=storage_options)
    return True
