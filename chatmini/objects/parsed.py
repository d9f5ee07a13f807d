"""Answers with parsed values: ``message.parsed``, ``function.parsed_arguments``, a Responses
text part's ``parsed`` and ``response.output_parsed`` (openai-python's ``Parsed*`` types).

A parsed value is a Python object (a dataclass instance, a pydantic model), not JSON, so it is
kept beside the JSON rather than in it: ``to_dict()`` and a message passed back in
``messages`` stay exactly what the server sent (openai-python sends ``parsed`` back and some
servers refuse it). The nested objects that carry such values are built once, with the answer,
and handed out as they are.
"""

from __future__ import annotations

from typing import Any, Optional

from .base import APIObject, APIResponseObject, Field
from .chat import ChatCompletion, ChatCompletionMessage, Choice, Function, ToolCall
from .responses import OutputContent, Response, ResponseOutputItem


class Computed:
    """A field whose value chatmini computed (in ``_extra``); the JSON's value when there is
    none, as a Field reads it."""

    __slots__ = ("name", "field")

    def __init__(self, name: str, cls: type[APIObject] = APIObject) -> None:
        self.name = name
        self.field = Field(name, cls)

    def __get__(self, obj: Optional[Any], owner: Optional[type] = None) -> Any:
        if obj is None:
            return self
        extra = obj._extra
        if self.name in extra:
            return extra[self.name]
        return self.field.__get__(obj, owner)


class _Extra:
    """Mixin of the parsed types: ``_extra`` holds the computed values."""

    __slots__ = ()
    _extra: dict[str, Any]
    _data: dict[str, Any]

    def _keep(self, extra: Optional[dict[str, Any]]) -> None:
        object.__setattr__(self, "_extra", extra if extra is not None else {})

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self._data, getattr(self, "_meta", None), self._extra))


def _rebuild(cls: Any, data: dict[str, Any], meta: Any, extra: dict[str, Any]) -> Any:
    obj = cls(data, extra)
    if meta is not None:
        object.__setattr__(obj, "_meta", meta)
    return obj


class _Answer(_Extra):
    """Mixin of the parsed top-level answers: JSON, computed values, the HTTP exchange's."""

    __slots__ = ()

    def __init__(self, data: dict[str, Any], extra: Optional[dict[str, Any]] = None,
                 meta: Optional[dict[str, Any]] = None) -> None:
        APIResponseObject.__init__(self, data, meta)  # type: ignore[arg-type]
        self._keep(extra)


class _Nested(_Extra, APIObject):
    __slots__ = ("_extra",)

    def __init__(self, data: dict[str, Any], extra: Optional[dict[str, Any]] = None) -> None:
        APIObject.__init__(self, data)
        self._keep(extra)


class ParsedFunction(_Nested, Function):
    """A tool call's function with ``parsed_arguments`` (the declared types)."""

    __slots__ = ()
    parsed_arguments = Computed("parsed_arguments")


class ParsedFunctionToolCall(_Nested, ToolCall):
    __slots__ = ()
    function = Computed("function", Function)


class ParsedChatCompletionMessage(_Nested, ChatCompletionMessage):
    """The assistant's message with ``parsed`` (None for a refusal or no content)."""

    __slots__ = ()
    parsed = Computed("parsed")
    tool_calls = Computed("tool_calls", ToolCall)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r}, parsed={self.parsed!r})"


class ParsedChoice(_Nested, Choice):
    __slots__ = ()
    message = Computed("message", ChatCompletionMessage)


class ParsedChatCompletion(_Answer, ChatCompletion):
    """A ChatCompletion whose messages carry ``parsed`` (``client.chat.completions.parse``)."""

    __slots__ = ("_extra",)
    choices = Computed("choices", Choice)


class ParsedOutputContent(_Nested, OutputContent):
    """An ``output_text`` part with ``parsed``."""

    __slots__ = ()
    parsed = Computed("parsed")


class ParsedResponseOutputItem(_Nested, ResponseOutputItem):
    """An output item: a message whose text parts carry ``parsed``, or a ``function_call``
    with ``parsed_arguments``."""

    __slots__ = ()
    content = Computed("content", OutputContent)
    parsed_arguments = Computed("parsed_arguments")


class ParsedResponse(_Answer, Response):
    """A Response whose output carries parsed values (``client.responses.parse``);
    ``output_parsed`` is the first text part's."""

    __slots__ = ("_extra",)
    output = Computed("output", ResponseOutputItem)

    @property
    def output_parsed(self) -> Any:
        for item in self.output:
            for part in getattr(item, "content", None) or ():
                parsed = getattr(part, "_extra", {}).get("parsed")
                if parsed is not None:
                    return parsed
        return None
