"""Frozen configuration objects that serialise to JSON and reject unknown fields.

Every parameter set in the workbench (backtest, risk, stops, sizing) is one of these, so that
papermill parameters, ``parameters.json`` and the CLI all speak the same language.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass
from typing import Any, TypeVar

from workbench.errors import ConfigError

C = TypeVar("C", bound="FrozenConfig")


@dataclass(frozen=True)
class FrozenConfig:
    """Base of the workbench's frozen config dataclasses."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (nested configs become dicts)."""
        out: dict[str, Any] = json.loads(json.dumps(dataclasses.asdict(self), default=str))
        return out

    def to_json(self, **kwargs: Any) -> str:
        """JSON text."""
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls: type[C], data: dict[str, Any]) -> C:
        """Build from a dict, rejecting unknown fields with a clear error."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise ConfigError(
                f"{cls.__name__}: unknown field(s) {', '.join(unknown)}",
                hint=f"known fields: {', '.join(sorted(fields))}",
            )
        hints = typing.get_type_hints(cls)
        kwargs: dict[str, Any] = {}
        for name, value in data.items():
            target = _config_type(hints.get(name))
            if target is not None and isinstance(value, dict):
                value = target.from_dict(value)
            kwargs[name] = value
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise ConfigError(f"{cls.__name__}: {exc}") from None

    @classmethod
    def from_json(cls: type[C], text: str) -> C:
        """Build from JSON text."""
        return cls.from_dict(json.loads(text))

    def replace(self: C, **changes: Any) -> C:
        """A copy with some fields changed (validated like a new object)."""
        return dataclasses.replace(self, **changes)


def _config_type(hint: Any) -> type[FrozenConfig] | None:
    """The FrozenConfig subclass in a type hint such as ``StopConfig | None``."""
    if isinstance(hint, type) and issubclass(hint, FrozenConfig):
        return hint
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        for arg in typing.get_args(hint):
            if isinstance(arg, type) and issubclass(arg, FrozenConfig):
                return arg
    return None
