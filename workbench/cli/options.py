"""Options shared by several commands.

Each function here is a click decorator (or makes one) for an option that more than one
command takes, so that ``backtest``, ``sweep`` and ``walkforward`` spell, default and
document it the same way. Where the meaning differs a little between commands (what a fixed
``--param`` is for, where results go), the decorator takes the command's own help text or
default.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

import click

from workbench.data.store import DATA_DIR_ENV

F = TypeVar("F", bound=Callable[..., Any])

#: The search methods of ``--search`` (see :func:`workbench.optimize.search.search`).
SEARCH_METHODS = ("grid", "random", "lhs", "optuna")


def _stack(*decorators: Callable[[Any], Any]) -> Callable[[F], F]:
    """One decorator applying ``decorators`` in the order written (the first is the first
    option in ``--help``)."""

    def apply(fn: F) -> F:
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn

    return apply


def data_dir_option(fn: F) -> F:
    """``--data-dir`` (or ``$WORKBENCH_DATA_DIR``; default ``./data``)."""
    return click.option(
        "--data-dir",
        envvar=DATA_DIR_ENV,
        default="data",
        show_default=True,
        help=f"Data root: a folder or an fsspec URL like s3://bucket/prefix (env {DATA_DIR_ENV}).",
    )(fn)


def strategy_option(fn: F) -> F:
    """``--strategy NAME`` (into ``strategy_name``; default ``ema_crossover``)."""
    return click.option(
        "--strategy",
        "strategy_name",
        default="ema_crossover",
        show_default=True,
        help="Strategy name (see `workbench strategies`).",
    )(fn)


def param_option(help: str) -> Callable[[F], F]:
    """``--param NAME=VALUE``, repeatable (into ``params``), with the command's ``help``."""
    return click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help=help)


def grid_option(help: str) -> Callable[[F], F]:
    """``--grid NAME=SPEC``, repeatable (into ``grid_items``), with the command's ``help``."""
    return click.option("--grid", "grid_items", multiple=True, metavar="NAME=SPEC", help=help)


def bars_options(fn: F) -> F:
    """``--symbol``, ``--schema``, ``--start``, ``--end``: which bars of the catalog to read."""
    return _stack(
        click.option(
            "--symbol",
            default="MCL_FUT",
            show_default=True,
            help="Product (continuous front month) or one contract (MCLZ5).",
        ),
        click.option(
            "--schema",
            default="ohlcv-1m",
            show_default=True,
            help="Bar size: ohlcv-1s, ohlcv-1m, ohlcv-1h or ohlcv-1d.",
        ),
        click.option(
            "--start",
            metavar="YYYY-MM-DD",
            callback=_trade_date_bound,
            help="First CME trade date (its session opens 18:00 New York the evening before). "
            "Default: the first with data.",
        ),
        click.option(
            "--end",
            metavar="YYYY-MM-DD",
            callback=_trade_date_bound,
            help="Last CME trade date, inclusive (its session closes 17:00 New York that day). "
            "Default: the last with data.",
        ),
    )(fn)


def _trade_date_bound(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--start``/``--end``: a CME trade date ``YYYY-MM-DD`` (the commands load with
    ``load_bars(..., dates="trade")``)."""
    if value is None:
        return None
    try:
        dt.date.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", ctx, param) from None
    return value.strip()


def risk_option(fn: F) -> F:
    """``--risk/--no-risk`` (into ``use_risk``; default on)."""
    return click.option(
        "--risk/--no-risk",
        "use_risk",
        default=True,
        show_default=True,
        help="Risk management (sizing, stops, limits, circuit breakers).",
    )(fn)


def capital_risk_options(capital_help: str) -> Callable[[F], F]:
    """The capital, cost, sizing, stop and risk-limit options of a run (with ``--risk``
    from :func:`risk_option`), each None unless given, and ``--config FILE`` (into
    ``config_file``): ``build_config(config, use_risk_manager=..., ...)`` takes them.

    Parameters
    ----------
    capital_help
        The command's help of ``--initial-capital`` (its default differs).
    """
    return _stack(
        click.option(
            "--risk-per-trade", type=float, help="Fraction of equity risked per trade [0.02]."
        ),
        click.option("--daily-loss-limit", type=float, help="Fraction of the day's equity [0.05]."),
        click.option("--max-contracts", type=int, help="Position cap [5]."),
        click.option("--initial-capital", type=float, help=capital_help),
        click.option("--commission", type=float, help="USD per contract per side [1.25]."),
        click.option(
            "--initial-margin",
            type=float,
            help="USD per contract to enter, every mode [the contract's: MCL 770]; "
            "0: no margin model.",
        ),
        click.option(
            "--maintenance-margin",
            type=float,
            help="USD per contract held; below it a margin call flattens and stops [MCL 700].",
        ),
        click.option("--slippage-ticks", type=int, help="Ticks per side [1]."),
        click.option(
            "--stop-mode",
            type=click.Choice(
                ["none", "fixed_pct", "fixed_usd", "atr", "trailing_atr", "trailing_pct"]
            ),
            help="Protective stop [atr].",
        ),
        click.option(
            "--config",
            "config_file",
            type=click.Path(exists=True, dir_okay=False),
            help="A BacktestConfig JSON file (options above override it).",
        ),
    )


def objective_option(fn: F) -> F:
    """``--objective`` (default ``sharpe_ratio``): the figure a search ranks by."""
    return click.option(
        "--objective",
        default="sharpe_ratio",
        show_default=True,
        help="The figure to rank by (e.g. total_return_pct, calmar_ratio, max_drawdown_pct).",
    )(fn)


def search_options(search_help: str, trials_help: str) -> Callable[[F], F]:
    """``--search`` (into ``method``), ``--trials`` and ``--seed``: how parameters are searched.

    Parameters
    ----------
    search_help, trials_help
        The command's help of ``--search`` and ``--trials`` (what is searched differs).
    """
    return _stack(
        click.option(
            "--search",
            "method",
            type=click.Choice(SEARCH_METHODS),
            default="grid",
            show_default=True,
            help=search_help,
        ),
        click.option("--trials", type=click.IntRange(min=1), help=trials_help),
        click.option(
            "--seed",
            type=int,
            default=0,
            show_default=True,
            help="Seed of the random/lhs sample or the optuna sampler.",
        ),
    )


def workers_option(help: str) -> Callable[[F], F]:
    """``--workers N`` (default 1: in this process), with the command's ``help``."""
    return click.option(
        "--workers", type=click.IntRange(min=1), default=1, show_default=True, help=help
    )


def progress_option(fn: F) -> F:
    """``--progress/--no-progress`` (default on): a progress bar on stderr."""
    return click.option(
        "--progress/--no-progress",
        default=True,
        show_default=True,
        help="A progress bar on stderr.",
    )(fn)


def save_option(help: str) -> Callable[[F], F]:
    """``--save/--no-save`` (default on), with the command's ``help``: what it writes."""
    return click.option("--save/--no-save", default=True, show_default=True, help=help)


def results_dir_option(default: str) -> Callable[[F], F]:
    """``--results-dir`` (default ``default``, e.g. ``results/optimizations``)."""
    return click.option(
        "--results-dir",
        default=default,
        show_default=True,
        type=click.Path(file_okay=False),
        help="Folder of the saved results (each run in a new folder inside).",
    )


def json_option(help: str) -> Callable[[F], F]:
    """``--json`` (into ``as_json``), with the command's ``help``."""
    return click.option("--json", "as_json", is_flag=True, help=help)
