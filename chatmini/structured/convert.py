"""A JSON value (already checked against the type's schema) turned into the type: dataclass
instances, TypedDict dicts, Enum members, datetimes, tuples and sets; a union takes the first
option the value fits."""

from __future__ import annotations

import datetime
import uuid
from typing import Any, Callable

from .typeinfo import Array, Choice, Model, Node, Object, Options, Scalar
from .validate import Mismatch, Path

_FROM_TEXT: dict[type, Callable[[str], Any]] = {
    datetime.datetime: lambda s: datetime.datetime.fromisoformat(_zulu(s)),
    datetime.date: datetime.date.fromisoformat,
    datetime.time: lambda s: datetime.time.fromisoformat(_zulu(s)),
    uuid.UUID: uuid.UUID,
}


def build(node: Node, value: Any, path: Path = ()) -> Any:
    """``value`` as ``node``'s type; Mismatch where it cannot be (a union no option fits, a
    date that is not ISO 8601)."""
    if isinstance(node, Scalar):
        return _scalar(node, value, path)
    if isinstance(node, Choice):
        return value if node.enum is None else node.enum(value)
    if isinstance(node, Array):
        items = [build(node.item, item, (*path, i)) for i, item in enumerate(value)]
        return items if node.container is list else node.container(items)
    if isinstance(node, Object):
        fields = node.fields
        values = {name: build(fields[name], item, (*path, name)) if name in fields else item
                  for name, item in value.items()}
        return node.cls(**values) if node.is_dataclass and node.cls is not None else values
    if isinstance(node, Model):
        return node.cls.model_validate(value)  # type: ignore[attr-defined]
    assert isinstance(node, Options)
    for option in node.options:
        if fits(option, value):
            return build(option, value, path)
    raise Mismatch(path, f"fits none of the union's {len(node.options)} types")


def fits(node: Node, value: Any) -> bool:
    """Whether ``value`` has the shape of ``node`` (one level deep: enough to tell the options
    of a strict union apart, whose objects differ in their keys)."""
    if isinstance(node, Scalar):
        if node.type is float:
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        if node.type is int:
            return (isinstance(value, int) and not isinstance(value, bool)) or (
                isinstance(value, float) and value.is_integer())
        if node.type in _FROM_TEXT:
            return isinstance(value, str)
        return type(value) is node.type
    if isinstance(node, Choice):
        return any(value == v and isinstance(value, bool) == isinstance(v, bool)
                   for v in node.values)
    if isinstance(node, Array):
        return isinstance(value, list)
    if isinstance(node, Object):
        return isinstance(value, dict) and set(value) == set(node.fields)
    if isinstance(node, Model):
        return isinstance(value, dict)
    assert isinstance(node, Options)
    return any(fits(option, value) for option in node.options)


def _scalar(node: Scalar, value: Any, path: Path) -> Any:
    parse = _FROM_TEXT.get(node.type)
    if parse is not None:
        try:
            return parse(value)
        except (TypeError, ValueError):
            raise Mismatch(path, f"expected {node.format} text, got {value!r}") from None
    if node.type is float and isinstance(value, int):
        return float(value)
    if node.type is int and isinstance(value, float):
        return int(value)  # 3.0 is an integer in JSON
    return value


def _zulu(text: str) -> str:
    """``Z`` as ``+00:00``: ``fromisoformat`` reads it only from Python 3.11 on."""
    return text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
