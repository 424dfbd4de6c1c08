"""What defines a journaled session, and the refusal to resume one as something else.

A journal replays what its session did; resumed with another strategy, other parameters,
another broker, symbol, bar size, capital or risk settings, the replay would decide other
orders than the journaled ones (they would stay pending, or be sent twice) and the stored
settings would be overwritten. :func:`check_resume` refuses that before anything is sent or
written, naming what differs and what the journal holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.errors import ConfigError

#: The journal's ``meta`` key of the session identity.
IDENTITY_KEY = "session"


def session_identity(
    strategy: str,
    parameters: dict[str, Any],
    *,
    broker: str,
    symbol: str,
    bar_size: str,
    config: dict[str, Any],
    execution: dict[str, Any],
) -> dict[str, Any]:
    """The settings a resumed session must share with the journal's (JSON-ready).

    Parameters
    ----------
    strategy, parameters
        The strategy's name and its parameters.
    broker, symbol, bar_size
        The broker's name (``sim``, ``ib``), the product or contract, the bar length.
    config, execution
        The :class:`~workbench.backtest.BacktestConfig` (capital, costs, risk) and
        :class:`~workbench.execution.ExecutionConfig` as dicts.
    """
    return {
        "strategy": strategy,
        "parameters": parameters,
        "broker": broker,
        "symbol": symbol,
        "bar_size": bar_size,
        "config": config,
        "execution": execution,
    }


def check_resume(stored: dict[str, Any] | None, now: dict[str, Any], where: Path | None) -> None:
    """Refuse (:class:`~workbench.errors.ConfigError`) a session unlike the journal's.

    Parameters
    ----------
    stored
        The journal's identity (None: a new journal). A journal written before identities
        were stored has its strategy's parameters only; they are compared.
    now
        This session's :func:`session_identity`.
    where
        The journal's folder (``--state``), for the message.
    """
    if not stored:
        return
    # a journal from before identities: what it stored (its strategy's parameters) only
    old, new = _flat(stored), _flat({k: v for k, v in now.items() if k in stored})
    keys = sorted(old.keys() | new.keys(), key=lambda k: (k != "strategy", k))
    differs = [k for k in keys if old.get(k) != new.get(k)]
    if not differs:
        return
    shown = ", ".join(f"{k} {_text(old.get(k))} (now {_text(new.get(k))})" for k in differs[:6])
    more = f" and {len(differs) - 6} more" if len(differs) > 6 else ""
    folder = f"--state {where}" if where is not None else "the journal"
    raise ConfigError(
        f"{folder} holds another session: {describe(stored)}; it differs in {shown}{more}. "
        "Nothing was sent and the journal is unchanged",
        hint="resume it with the command that started it (same --strategy, --param, broker, "
        "symbol, bar size, --book file, capital and risk options), or start this one in a "
        "new --state DIR",
    )


def describe(identity: dict[str, Any]) -> str:
    """``"ema_crossover (fast_period=20, slow_period=50) on sim, MCL_FUT, ohlcv-1m, ..."``."""
    params = ", ".join(f"{k}={_text(v)}" for k, v in identity.get("parameters", {}).items())
    cfg = identity.get("config", {})
    capital = cfg.get("initial_capital")
    risk = "risk on" if cfg.get("use_risk_manager", True) else "risk off"
    parts = [
        f"{identity.get('strategy')} ({params})",
        f"broker {identity.get('broker')}",
        f"symbol {identity.get('symbol')}",
        f"bar size {identity.get('bar_size')}",
    ]
    book = identity.get("book")
    if isinstance(book, dict):
        parts.append(f"book {book.get('path')}")
    if capital is not None:
        parts.append(f"capital {capital:,.2f}")
    parts.append(risk)
    return ", ".join(parts)


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _text(v: Any) -> str:
    return "none" if v is None else str(v)
