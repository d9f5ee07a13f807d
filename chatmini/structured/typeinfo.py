"""Python type hints read once into a small tree of nodes, which the schema builder
(``schema``) and the converter (``convert``) both walk: the typing forms are told apart in
one place only.

Standard library types only (dataclasses, TypedDicts, Enums, Literal, Optional/Union, lists,
tuples of one item type, sets, datetime/date/time/UUID, Annotated descriptions); pydantic
models are handled whole by ``pydantic_models``. A type strict mode cannot express (a free-form
dict, ``Any``, a fixed-length tuple) is an InvalidRequestError naming where it is.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import sys
import types
import typing
import uuid
from collections import abc
from typing import Any, Optional, Union

from ..errors import InvalidRequestError

NoneType = type(None)
UnionType = getattr(types, "UnionType", None)  # ``X | Y`` on Python 3.10+
_SCALARS: dict[Any, tuple[str, Optional[str]]] = {
    str: ("string", None), int: ("integer", None), float: ("number", None),
    bool: ("boolean", None), NoneType: ("null", None),
    datetime.datetime: ("string", "date-time"), datetime.date: ("string", "date"),
    datetime.time: ("string", "time"), uuid.UUID: ("string", "uuid"),
}
_ARRAYS = {list: list, tuple: tuple, set: set, frozenset: frozenset}
_ARRAY_ORIGINS = {**_ARRAYS, abc.Sequence: list, abc.MutableSequence: list, abc.Set: set,
                  abc.MutableSet: set}
_MAPPINGS = (dict, abc.Mapping, abc.MutableMapping)


class Node:
    """One type: ``description`` comes from an Annotated string or a class docstring."""

    __slots__ = ("description",)

    def __init__(self) -> None:
        self.description: Optional[str] = None


class Scalar(Node):
    """str, int, float, bool, None, or a string with a format (datetime, date, time, UUID)."""

    __slots__ = ("type", "json", "format")

    def __init__(self, tp: type) -> None:
        super().__init__()
        self.type = tp
        self.json, self.format = _SCALARS[tp]


class Choice(Node):
    """A Literal or an Enum: one of ``values`` (an Enum's member values)."""

    __slots__ = ("values", "enum")

    def __init__(self, values: tuple[Any, ...], enum_cls: Optional[type[enum.Enum]] = None):
        super().__init__()
        self.values = values
        self.enum = enum_cls


class Options(Node):
    """Union (and Optional): the first option that fits wins."""

    __slots__ = ("options",)

    def __init__(self, options: tuple[Node, ...]) -> None:
        super().__init__()
        self.options = options


class Array(Node):
    """list, set, frozenset or ``tuple[X, ...]`` of one item type."""

    __slots__ = ("item", "container")

    def __init__(self, item: Node, container: type) -> None:
        super().__init__()
        self.item = item
        self.container = container


class Object(Node):
    """A dataclass or a TypedDict: named fields, every one of them required in strict mode.
    Fields are read on first use, so a class may refer to itself."""

    __slots__ = ("cls", "is_dataclass", "_fields", "_reader")

    def __init__(self, cls: Optional[type], reader: Reader,
                 fields: Optional[dict[str, Node]] = None) -> None:
        """``cls`` None: a function's parameters, given as ``fields`` (read as a dict)."""
        super().__init__()
        self.cls = cls
        self.is_dataclass = cls is not None and dataclasses.is_dataclass(cls)
        self.description = class_doc(cls) if cls is not None else None
        self._fields = fields
        self._reader = reader

    @property
    def fields(self) -> dict[str, Node]:
        if self._fields is None:
            assert self.cls is not None
            self._fields = {}  # set first: a recursive field finds this node, not a new one
            self._fields.update(self._reader.fields(self.cls))
        return self._fields


class Model(Node):
    """A pydantic model (only where pydantic itself builds the whole schema)."""

    __slots__ = ("cls",)

    def __init__(self, cls: type) -> None:
        super().__init__()
        self.cls = cls


def class_doc(cls: type) -> Optional[str]:
    """A class's own docstring, or None (a dataclass's generated ``Name(a: int)`` is not one)."""
    doc = cls.__dict__.get("__doc__")
    if not isinstance(doc, str) or not doc.strip():
        return None
    text = " ".join(doc.split())
    return None if text.startswith(f"{cls.__name__}(") else text


def is_typeddict(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__total__")


def is_pydantic_model(tp: Any) -> bool:
    """A pydantic BaseModel class, without importing pydantic when it is not loaded."""
    pydantic = sys.modules.get("pydantic")
    return (pydantic is not None and isinstance(tp, type)
            and issubclass(tp, pydantic.BaseModel))


class Reader:
    """Reads hints into nodes; one Object node per class, so recursion ends."""

    def __init__(self, what: str) -> None:
        self.what = what  # for messages: "response_format Weather", "tool get_weather"
        self.objects: dict[type, Object] = {}

    def node(self, tp: Any, where: str) -> Node:
        description = None
        if typing.get_origin(tp) is typing.Annotated:
            tp, *extras = typing.get_args(tp)
            description = next((x for x in extras if isinstance(x, str)), None)
        node = self._node(tp, where)
        if description is not None:
            node = _described(node, description)
        return node

    def _node(self, tp: Any, where: str) -> Node:
        if tp is None:
            tp = NoneType
        if tp in _SCALARS:
            return Scalar(tp)
        origin = typing.get_origin(tp)
        if origin is typing.Literal:
            return _literal(typing.get_args(tp), self.fail_at(where, tp))
        if origin is Union or (UnionType is not None and isinstance(tp, UnionType)):
            return Options(tuple(self.node(arg, where) for arg in typing.get_args(tp)))
        if origin in _ARRAY_ORIGINS or tp in _ARRAYS:
            return self._array(tp, origin, where)
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return _enum(tp, self.fail_at(where, tp))
        if isinstance(tp, type) and (dataclasses.is_dataclass(tp) or is_typeddict(tp)):
            node = self.objects.get(tp)
            if node is None:
                node = self.objects[tp] = Object(tp, self)
            return node
        if is_pydantic_model(tp):
            return Model(tp)
        if origin in _MAPPINGS or tp in (typing.Any, object) or (
                isinstance(tp, type) and issubclass(tp, dict)):
            self.fail(where, tp, "strict mode has no free-form objects (every object lists its "
                      "properties, with additionalProperties false): use a dataclass or "
                      "TypedDict, or a list of key/value dataclasses")
        self.fail(where, tp, "this type has no JSON schema here (use str, int, float, bool, "
                  "None, Literal, Enum, list, dataclasses, TypedDicts or their unions)")

    def _array(self, tp: Any, origin: Any, where: str) -> Array:
        container = _ARRAY_ORIGINS.get(origin) or _ARRAYS[tp]
        args = typing.get_args(tp)
        if container is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            self.fail(where, tp, "only tuple[X, ...] is supported: a fixed-length tuple needs "
                      "prefixItems, which strict mode rejects (use a dataclass)")
        if not args:
            self.fail(where, tp, "say what the items are (list[str], not list)")
        return Array(self.node(args[0], f"{where}[]"), container)

    def fields(self, cls: type) -> dict[str, Node]:
        """The fields of a dataclass (those set by ``__init__``) or a TypedDict, with an
        Annotated or ``field(metadata={"description": ...})`` description."""
        try:
            hints = typing.get_type_hints(cls, include_extras=True)
        except Exception as exc:  # a forward reference that does not resolve
            raise InvalidRequestError(
                f"{self.what}: the type hints of {cls.__name__} cannot be resolved ({exc})"
            ) from None
        names = list(hints)
        metadata: dict[str, Any] = {}
        if dataclasses.is_dataclass(cls):
            found = [f for f in dataclasses.fields(cls) if f.init]
            names = [f.name for f in found]
            metadata = {f.name: f.metadata for f in found}
        nodes = {}
        for name in names:
            node = self.node(hints[name], f"{cls.__name__}.{name}")
            description = metadata.get(name, {}).get("description")
            nodes[name] = _described(node, description) if description else node
        return nodes

    def fail_at(self, where: str, tp: Any) -> Any:
        return lambda why: self.fail(where, tp, why)

    def fail(self, where: str, tp: Any, why: str) -> typing.NoReturn:
        raise InvalidRequestError(f"{self.what}: {where} ({type_name(tp)}): {why}")


def _described(node: Node, description: str) -> Node:
    """The node with a description (a copy for the shared Object and Model nodes: the
    description belongs to this use of the class, not to the class)."""
    if isinstance(node, (Object, Model)):
        node = Options((node,))
    node.description = description
    return node


def _literal(values: tuple[Any, ...], fail: Any) -> Choice:
    for value in values:
        if not isinstance(value, (str, int, float, bool, NoneType)) or isinstance(
                value, enum.Enum):
            fail(f"Literal values must be str, int, float, bool or None, not {value!r}")
    return Choice(tuple(values))


def _enum(cls: type[enum.Enum], fail: Any) -> Choice:
    values = tuple(member.value for member in cls)
    if not values or not all(isinstance(v, (str, int)) and not isinstance(v, bool)
                             for v in values):
        fail("an Enum's values must be strings or integers")
    node = Choice(values, cls)
    node.description = class_doc(cls) if cls.__doc__ != "An enumeration." else None
    return node


def type_name(tp: Any) -> str:
    if isinstance(tp, type) and typing.get_origin(tp) is None:
        return tp.__qualname__
    return str(tp).replace("typing.", "")
