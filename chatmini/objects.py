"""Light response objects: attribute access over the parsed JSON, built lazily, no validation.

Wrapping is done on access rather than up front, so building a response costs one object;
unknown fields are kept and absent ones read as None, which is what tolerant clients need.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Iterator, Optional

from .request import TIMING

if TYPE_CHECKING:
    from chatmini.plugins.timing import Timing


def wrap(value: Any) -> Any:
    """Wrap dicts (and dicts inside lists) as APIObjects; leave everything else as it is."""
    kind = type(value)
    if kind is dict:
        return APIObject(value)
    if kind is list:
        return [APIObject(item) if type(item) is dict else wrap(item) for item in value]
    if isinstance(value, dict):  # dict subclasses, rare: the exact checks above are the fast path
        return APIObject(value)
    return value


FIELDS_PER_CLASS = 256  # field accessors one class learns at most (the names code reads)
_learned: dict[type, int] = {}


def _field(name: str) -> property:
    """A class-level accessor for the JSON field ``name``. ``__getattr__`` runs only after a
    normal lookup has failed (building an AttributeError), about 0.4 µs an attribute; a property
    is found at once, and a missing key still ends in ``__getattr__``."""

    def read(self: APIObject) -> Any:
        try:
            value = self._data[name]
        except KeyError:
            raise AttributeError(name) from None
        kind = type(value)
        if kind is dict:  # inlined wrap(): this runs several times per streamed chunk
            return APIObject(value)
        if kind is list:
            return [APIObject(item) if type(item) is dict else wrap(item) for item in value]
        return value

    return property(read)


def _learn(cls: type, name: str) -> None:
    """Give ``cls`` an accessor for a field read through ``__getattr__``, so the next read of
    it is fast; never over a name the class has, and at most FIELDS_PER_CLASS per class."""
    if name[:1] != "_" and _learned.get(cls, 0) < FIELDS_PER_CLASS and not hasattr(cls, name):
        _learned[cls] = _learned.get(cls, 0) + 1
        setattr(cls, name, _field(name))


class APIObject:
    """A JSON object read by attribute: ``obj.choices[0].message.content``."""

    __slots__ = ("_data",)

    def __init__(self, data: dict[str, Any]) -> None:
        object.__setattr__(self, "_data", data)

    def __getattr__(self, name: str) -> Any:
        try:
            value = self._data[name]
        except KeyError:
            if name[:1] == "_":  # private and dunder names are never JSON fields here
                raise AttributeError(name) from None
            return None
        _learn(type(self), name)
        return wrap(value)

    def __setattr__(self, name: str, value: Any) -> None:
        self._data[name] = value.to_dict() if isinstance(value, APIObject) else value

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._data,))

    def __getitem__(self, key: str) -> Any:
        return wrap(self._data[key])

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
        return sorted(set(super().__dir__()) | set(self._data))

    def get(self, key: str, default: Any = None) -> Any:
        """Dict-style read with a default, wrapped like attribute access."""
        return wrap(self._data.get(key, default))

    def to_dict(self) -> dict[str, Any]:
        """The parsed JSON this object reads from (the same dict, not a copy)."""
        data: dict[str, Any] = self._data
        return data

    def to_json(self, indent: Optional[int] = 2) -> str:
        """The object as JSON text."""
        return json.dumps(self._data, indent=indent, ensure_ascii=False)


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


class ChatCompletion(APIResponseObject):
    """A ``chat.completion`` object."""

    __slots__ = ()


class ChatCompletionChunk(APIObject):
    """One streamed ``chat.completion.chunk``."""

    __slots__ = ()


class Model(APIObject):
    """One entry of ``/models``."""

    __slots__ = ()


class ModelList(APIResponseObject):
    """The ``/models`` list; iterating yields its Model entries."""

    __slots__ = ()

    @property
    def data(self) -> list[Model]:
        return [Model(item) for item in self._data.get("data") or () if isinstance(item, dict)]

    def __iter__(self) -> Iterator[Model]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)
