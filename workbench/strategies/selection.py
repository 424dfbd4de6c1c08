"""Strategies named in a notebook parameter: ``{name: {parameter: value}}`` -> instances."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.errors import ConfigError, WorkbenchError
from workbench.strategies.base import Strategy, registered, strategy_class


def strategies_from_parameters(
    strategies: Any, *, minimum: int = 1, parameter: str = "strategies"
) -> dict[str, Strategy]:
    """Build each strategy of a ``{name: {parameter: value}}`` dict, as notebook 04 takes it.

    Parameters
    ----------
    strategies : dict
        Registered strategy name to its parameters (``{}`` for the defaults).
    minimum : int, default 1
        How many strategies are needed (a comparison needs two).
    parameter : str, default "strategies"
        The notebook parameter's name, for the messages.

    Returns
    -------
    dict of str to Strategy
        In the given order.

    Raises
    ------
    ConfigError
        Naming the parameter, what is wrong with it and what to pass instead.
    """
    names = ", ".join(sorted(registered()))
    example = '{"ema_crossover": {}, "donchian_breakout": {"entry_period": 40}}'
    hint = (
        f"set {parameter} = {example} in the parameters cell (papermill: "
        f"-y '{parameter}: {{ema_crossover: {{}}, donchian_breakout: {{}}}}'); "
        f"strategies: {names}"
    )
    if not isinstance(strategies, Mapping):
        raise ConfigError(
            f"the {parameter} parameter must be a dict of strategy name to parameters, "
            f"got {type(strategies).__name__} {strategies!r}",
            hint=hint,
        )
    if len(strategies) < minimum:
        got = "no strategy" if not strategies else f"only {', '.join(map(str, strategies))}"
        raise ConfigError(
            f"the {parameter} parameter needs at least {minimum} strategies, got {got}",
            hint=hint,
        )
    built: dict[str, Strategy] = {}
    for name, params in strategies.items():
        if not isinstance(params, Mapping):
            raise ConfigError(
                f"{parameter}[{name!r}] must be a dict of parameters ({{}} for the defaults), "
                f"got {params!r}",
                hint=hint,
            )
        try:
            cls = strategy_class(str(name))
            built[name] = cls.from_parameters(dict(params))
        except WorkbenchError as exc:
            raise ConfigError(
                f"{parameter}[{name!r}]: {exc.message}",
                hint=exc.hint or f"the defaults of {name}: {cls().parameters()}",
            ) from None
    return built
