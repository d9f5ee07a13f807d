"""Light response objects: attribute access over the parsed JSON, built lazily, no validation.

Wrapping is done on access rather than up front, so building a response costs one object.
Every field the server sent reads as an attribute, known or not. A field it left out reads as
None only when the type knows it (``_fields``, openai-python's field names for that type);
any other name raises AttributeError, as a pydantic model does, so a typo or a field of
another API fails loudly instead of reading as None.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Collection, Mapping, Optional

from ..request import TIMING

if TYPE_CHECKING:
    from chatmini.plugins.timing import Timing


def known(names: str) -> frozenset[str]:
    """A type's known fields, from a space-separated list."""
    return frozenset(names.split())


def wrap(value: Any, cls: Optional[type[APIObject]] = None) -> Any:
    """Wrap dicts (and dicts inside lists) as ``cls`` (APIObject by default); leave the rest."""
    kind = type(value)
    if kind is dict or isinstance(value, dict):
        return (cls or APIObject)(value)
    if kind is list:
        return [wrap(item, cls) for item in value]
    return value


def _reader(key: str, cls: type[APIObject]) -> Callable[[APIObject], Any]:
    """What reading one known field does: the JSON value, wrapped as ``cls`` when it is an
    object (or a list of them); None when the server left it out."""

    def read(obj: APIObject) -> Any:
        try:
            value = obj._data[key]
        except KeyError:
            return None
        kind = type(value)
        if kind is dict:
            return cls(value)
        if kind is list:
            return [cls(item) if type(item) is dict else wrap(item) for item in value]
        return value

    return read


class Field(property):
    """A known field of a type, read from the JSON (wrapped as its nested type; None when the
    server left it out). A property: found by the normal attribute lookup, which is cheaper
    than failing it and falling back to ``__getattr__``, and called from C, which is cheaper
    than a descriptor class's own ``__get__``."""

    def __init__(self, key: str, cls: type[APIObject]) -> None:
        super().__init__(_reader(key, cls))
        self.key = key
        self.cls = cls


class APIObject:
    """A JSON object read by attribute: ``obj.choices[0].message.content``.

    Subclasses name their known fields (``_fields``), the types of their nested objects
    (``_nested``: field -> type, for an object or a list of them) and attribute names whose
    JSON key differs (``_aliases``: ``self_harm`` -> ``self-harm``); each known field becomes
    a Field of the class. Other fields the server sent are read through ``__getattr__``.
    """

    __slots__ = ("_data",)
    _fields: ClassVar[frozenset[str]] = frozenset()
    _nested: ClassVar[Mapping[str, type[APIObject]]] = {}
    _aliases: ClassVar[Mapping[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in cls._fields | set(cls._aliases):
            defined = next((vars(k)[name] for k in cls.__mro__ if name in vars(k)), None)
            if defined is None or isinstance(defined, Field):  # a method or property wins
                key = cls._aliases.get(name, name)
                setattr(cls, name, Field(key, cls._nested.get(name, APIObject)))

    def __init__(self, data: dict[str, Any]) -> None:
        object.__setattr__(self, "_data", data)

    def __getattr__(self, name: str) -> Any:
        try:
            value = self._data[name]
        except KeyError:
            return self._absent(name)
        kind = type(value)
        if kind is dict:  # inlined wrap(): this runs several times per streamed chunk
            return self._nested.get(name, APIObject)(value)
        if kind is list:
            cls = self._nested.get(name, APIObject)
            return [cls(item) if type(item) is dict else wrap(item) for item in value]
        return value

    def _absent(self, name: str) -> Any:
        """A name the JSON does not hold and the type does not know: AttributeError."""
        if name[:1] == "_":  # private and dunder names are never JSON fields here
            raise AttributeError(name)
        raise AttributeError(
            f"{type(self).__name__!r} object has no attribute {name!r} (the answer has no "
            f"such field; to_dict() shows the fields it has)"
        )

    def __setattr__(self, name: str, value: Any) -> None:
        self._data[name] = value.to_dict() if isinstance(value, APIObject) else value

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._data,))

    def __getitem__(self, key: str) -> Any:
        return wrap(self._data[key], self._nested.get(key))

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __eq__(self, other: object) -> bool:
        if isinstance(other, APIObject):
            return bool(self._data == other._data)
        if isinstance(other, dict):
            return bool(self._data == other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._data) | self._fields | set(self._aliases))

    def get(self, key: str, default: Any = None) -> Any:
        """Dict-style read with a default, wrapped like attribute access."""
        return wrap(self._data.get(key, default), self._nested.get(key))

    def to_dict(self) -> dict[str, Any]:
        """The parsed JSON this object reads from (the same dict, not a copy)."""
        data: dict[str, Any] = self._data
        return data

    def to_json(self, indent: Optional[int] = 2) -> str:
        """The object as JSON text."""
        return json.dumps(self._data, indent=indent, ensure_ascii=False)

    def model_dump(
        self,
        *,
        mode: str = "python",
        include: Optional[Collection[str]] = None,
        exclude: Optional[Collection[str]] = None,
        exclude_none: bool = False,
        exclude_unset: bool = False,
        by_alias: bool = False,
    ) -> dict[str, Any]:
        """A deep copy of the fields the server sent, as plain dicts and lists (pydantic's
        name). ``include``/``exclude`` pick top-level fields; ``exclude_none`` drops None
        values at every level. Fields the server left out are never added (so the result is
        the same whatever ``exclude_unset``), and names are the JSON's (``by_alias``)."""
        if mode not in ("python", "json"):
            raise ValueError(f"mode must be 'python' or 'json', not {mode!r}")
        data = {
            key: value for key, value in self._data.items()
            if (include is None or key in include) and (exclude is None or key not in exclude)
        }
        copied: dict[str, Any] = _copy(data, exclude_none)
        return copied

    def model_dump_json(
        self,
        *,
        indent: Optional[int] = None,
        include: Optional[Collection[str]] = None,
        exclude: Optional[Collection[str]] = None,
        exclude_none: bool = False,
        exclude_unset: bool = False,
        by_alias: bool = False,
    ) -> str:
        """``model_dump()`` as JSON text (pydantic's name; compact unless ``indent``)."""
        data = self.model_dump(include=include, exclude=exclude, exclude_none=exclude_none)
        if indent is None:
            return json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        return json.dumps(data, indent=indent, ensure_ascii=False)


def _copy(value: Any, drop_none: bool) -> Any:
    """A deep copy of parsed JSON (dicts and lists; the rest is immutable)."""
    if isinstance(value, dict):
        return {
            k: _copy(v, drop_none) for k, v in value.items() if not (drop_none and v is None)
        }
    if isinstance(value, list):
        return [_copy(item, drop_none) for item in value]
    return value


class APIResponseObject(APIObject):
    """A top-level API result; also carries what the HTTP exchange told us (``_meta``)."""

    __slots__ = ("_meta",)

    def __init__(self, data: dict[str, Any], meta: Optional[dict[str, Any]] = None) -> None:
        super().__init__(data)
        object.__setattr__(self, "_meta", meta if meta is not None else {})

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._data, self._meta))

    @property
    def _request_id(self) -> Optional[str]:
        """The server's ``x-request-id``, as openai-python exposes it."""
        request_id: Optional[str] = self._meta.get("request_id")
        return request_id

    @property
    def context(self) -> dict[str, Any]:
        """The call's context: what plugins kept for this call (``request.context``)."""
        context = self._meta.get("context")
        return context if context is not None else {}

    @property
    def timing(self) -> Optional[Timing]:
        """Where this call's time went: ``context["timing"]``, kept by the timing plugin."""
        return self.context.get(TIMING)
