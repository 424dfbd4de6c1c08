"""Parameter grids for sweeps: the strategy's declared ranges, overridden where you say."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.errors import ConfigError, WorkbenchError
from workbench.strategies.base import ParamRange, Strategy

#: A parameter's values in a grid: a range, a list of values, or one value.
Values = ParamRange | Sequence[Any] | int | float | str | bool

#: The most combinations a grid enumerates (and the most values one range may hold): more is
#: refused with a hint to sample instead, rather than exhausting memory while counting them.
MAX_COMBINATIONS = 1_000_000


def _range_size(spec: ParamRange) -> int | None:
    """How many values ``spec`` holds, computed without listing them (None: not a range)."""
    if spec.choices is not None or spec.low is None or spec.high is None:
        return None
    if not spec.step or spec.step <= 0:
        return None
    return max(round((spec.high - spec.low) / spec.step) + 1, 0)


def _too_many(what: str, n: int, noun: str = "combinations") -> ConfigError:
    return ConfigError(
        f"{what} has {n:,} {noun}, more than the {MAX_COMBINATIONS:,} a grid can enumerate",
        hint="sample it instead (--search random --trials 200, or lhs, or optuna), or use a "
        "coarser step or fewer values",
    )


def _values(name: str, spec: Values) -> tuple[Any, ...]:
    if isinstance(spec, ParamRange):
        size = _range_size(spec)
        if size is not None and size > MAX_COMBINATIONS:
            where = f"the range of {name!r} ({spec.low}:{spec.high}:{spec.step})"
            raise _too_many(where, size, "values")
        vals = spec.values()
    elif isinstance(spec, (str, bytes)) or not isinstance(spec, Sequence):
        vals = [spec]
    else:
        vals = list(spec)
    if not vals:
        raise ConfigError(f"parameter {name!r} has no values in the grid")
    for v in vals:
        # inf or NaN would be refused by every strategy, and cannot be written to JSON
        if isinstance(v, (float, np.floating)) and not math.isfinite(v):
            raise ConfigError(
                f"parameter {name!r} has a value that is not a finite number: {v}",
                hint="give finite values (a float beyond 1.8e308 reads as inf)",
            )
    if len(set(map(repr, vals))) != len(vals):
        raise ConfigError(f"parameter {name!r} lists a value twice: {vals}")
    return tuple(vals)


@dataclass(frozen=True, init=False)
class ParameterGrid:
    """Every combination of some parameters of one strategy (the others at their defaults).

    Parameters
    ----------
    strategy : type of Strategy
        The strategy class, e.g. ``MomentumStrategy``.
    ranges : mapping, optional
        Parameter name to a :class:`~workbench.strategies.ParamRange`, a list of values or a
        single value. Default: the strategy's ``param_space`` (its declared sweep ranges).
        Names the strategy does not have are refused.

    Examples
    --------
    >>> grid = ParameterGrid(MomentumStrategy, {"fast_period": [10, 20], "slow_period": [20, 50]})
    >>> len(grid), len(grid.valid())  # fast >= slow is not a valid EMA crossover
    (4, 3)
    """

    strategy: type[Strategy]
    ranges: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)

    def __init__(self, strategy: type[Strategy], ranges: Mapping[str, Values] | None = None):
        if not (isinstance(strategy, type) and issubclass(strategy, Strategy)):
            raise ConfigError(f"a grid needs a Strategy class, got {strategy!r}")
        spec: Mapping[str, Values] = strategy.param_space if ranges is None else ranges
        known = {f.name for f in dataclasses.fields(strategy)} - {"time_filter"}
        unknown = sorted(set(spec) - known)
        if unknown:
            raise ConfigError(
                f"{strategy.name}: unknown parameter(s) {', '.join(unknown)} in the grid",
                hint=f"parameters of {strategy.name}: {', '.join(sorted(known))}",
            )
        if not spec:
            raise ConfigError(f"{strategy.name}: the grid sweeps no parameter")
        object.__setattr__(self, "strategy", strategy)
        object.__setattr__(self, "ranges", {k: _values(k, v) for k, v in spec.items()})

    def __len__(self) -> int:
        n = 1
        for vals in self.ranges.values():
            n *= len(vals)
        return n

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self.require_enumerable()
        names = list(self.ranges)
        for combo in itertools.product(*(self.ranges[k] for k in names)):
            yield dict(zip(names, combo, strict=True))

    def require_enumerable(self) -> None:
        """Refuse to list a grid of more than :data:`MAX_COMBINATIONS` combinations.

        Raises
        ------
        ConfigError
            Naming the grid's size and how to sample it instead (a random, Latin-hypercube
            or optuna search draws from a grid of any size without listing it).
        """
        n = len(self)
        if n > MAX_COMBINATIONS:
            raise _too_many(f"the {self.strategy.name} grid", n)

    def check(self, params: Mapping[str, Any]) -> str | None:
        """Why ``params`` is not a valid strategy (the strategy's own message), or None."""
        try:
            self.strategy.from_parameters(dict(params))
        except (WorkbenchError, TypeError, ValueError) as exc:
            return str(exc)
        return None

    def valid(self) -> list[dict[str, Any]]:
        """The combinations the strategy accepts, in grid order."""
        return [p for p in self if self.check(p) is None]

    def skipped(self) -> list[tuple[dict[str, Any], str]]:
        """The combinations the strategy refuses, with its reason."""
        out = []
        for p in self:
            why = self.check(p)
            if why is not None:
                out.append((p, why))
        return out

    def no_valid_combination(
        self, skipped: Sequence[tuple[Mapping[str, Any], str]] | None = None
    ) -> ConfigError:
        """The error for a grid (or sample) the strategy refuses entirely: how many, and the
        first refusal's own message and hint.

        Parameters
        ----------
        skipped : sequence of (params, why), optional
            The refused combinations (default: :meth:`skipped`).
        """
        refused = list(self.skipped() if skipped is None else skipped)
        name = self.strategy.name
        if not refused:
            return ConfigError(f"{name}: the grid has no combination")
        params, why = refused[0]
        reason, _, hint = why.partition("\n  hint: ")
        shown = ", ".join(f"{k}={v!r}" for k, v in params.items())
        many = "the only combination" if len(refused) == 1 else f"all {len(refused):,} combinations"
        return ConfigError(
            f"{name}: no valid combination in the grid: the strategy refuses {many} "
            f"(e.g. {shown}: {reason})",
            hint=hint or "change the --grid / --param values",
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the strategy's name and every parameter's values."""
        return {
            "strategy": self.strategy.name,
            "ranges": {k: list(v) for k, v in self.ranges.items()},
        }
