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
from pathlib import Path
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
        """Build from a dict, rejecting unknown fields and values of the wrong type with a
        clear error."""
        if not isinstance(data, dict):
            raise ConfigError(
                f"{cls.__name__}: expected an object of fields, got {type(data).__name__} "
                f"{_abbreviated(data)}",
                hint=f"e.g. {_example(cls)}",
            )
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted((str(k) for k in set(data) - set(fields)), key=str)
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
            elif not _fits(hints.get(name), value):
                raise ConfigError(
                    f"{cls.__name__}.{name}: expected {_type_name(hints.get(name))}, got "
                    f"{type(value).__name__} {_abbreviated(value)}",
                    hint=f"default: {json.dumps(_default_json(fields[name]))}",
                )
            kwargs[name] = value
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise ConfigError(f"{cls.__name__}: {exc}") from None

    @classmethod
    def from_json(cls: type[C], text: str, source: str = "JSON text") -> C:
        """Build from JSON text (``source`` names it in errors, e.g. the file's path).

        Raises
        ------
        ConfigError
            Text that is not JSON (with its line and column), not a JSON object, or
            fields the class does not accept.
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{source}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
                hint=f"fix the file: a {cls.__name__} is a JSON object, e.g. {_example(cls)}",
            ) from None
        try:
            return cls.from_dict(data)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc.message}", hint=exc.hint) from None

    @classmethod
    def from_file(cls: type[C], path: str | Path) -> C:
        """Build from a JSON file.

        Raises
        ------
        ConfigError
            A file that cannot be read as UTF-8 text, or whose text :meth:`from_json` rejects.
        """
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"cannot read the {cls.__name__} file {path}: {exc}",
                hint="give a UTF-8 JSON file",
            ) from None
        return cls.from_json(text, source=str(path))

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


def _fits(hint: Any, value: Any) -> bool:
    """Whether ``value`` (from JSON) suits a field annotated ``hint``: only the plain types
    (bool, int, float, str, and their ``| None``) are checked; an int is a valid float."""
    if hint is None:
        return True
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return any(_fits(arg, value) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    # a nested config must be an object (handled before this check)
    return not (isinstance(hint, type) and issubclass(hint, FrozenConfig))


def _type_name(hint: Any) -> str:
    """``float``, ``str or null``, ``an object``: a type hint in JSON words."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return " or ".join(_type_name(a) for a in typing.get_args(hint))
    if hint is type(None):
        return "null"
    if isinstance(hint, type) and issubclass(hint, FrozenConfig):
        return "an object"
    return getattr(hint, "__name__", str(hint))


def _default_json(f: dataclasses.Field[Any]) -> Any:
    """A field's default, JSON-ready (a nested config's as a dict)."""
    if f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
        return value.to_dict() if isinstance(value, FrozenConfig) else value
    return None if f.default is dataclasses.MISSING else f.default


def _example(cls: type[FrozenConfig]) -> str:
    """Two of the class's fields with their defaults, as a JSON object."""
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if _config_type(hints.get(f.name)) is None][:2]
    return json.dumps({f.name: _default_json(f) for f in fields})


def _abbreviated(value: Any, limit: int = 40) -> str:
    """``value`` as JSON, cut to ``limit`` characters."""
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
