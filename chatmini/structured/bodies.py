"""A call's body with its output format and tools put in the API's shape, and the Parser of
its answer: what ``parse()``, ``stream()`` and a ``create()`` given a class share."""

from __future__ import annotations

from typing import Any, Iterable, Optional

from ..errors import InvalidRequestError
from .formats import output_format
from .functions import FunctionTool
from .parsing import Parser

_NOTHING = object()


def chat_body(body: dict[str, Any], tools: bool = True) -> Parser:
    """Chat Completions: ``response_format`` as a class or JSON schema becomes its strict
    ``json_schema`` format (a format dict stays as it is). ``tools``: whether tool calls are
    parsed too (``parse()``, ``stream()``; ``create()`` parses only the format, as a tool
    loop reads the calls itself and sends bad arguments back to the model)."""
    spec = body.get("response_format", _NOTHING)
    fmt = None if spec is _NOTHING else output_format(spec)
    if fmt is not None:
        body["response_format"] = fmt.chat_param() if not _is_format(spec) else spec
    return Parser(fmt, _tools(body) if tools else ())


def responses_body(body: dict[str, Any], text_format: Any, tools: Iterable[Any] = ()) -> Parser:
    """The Responses API: ``text_format`` goes into ``text.format`` (a ``text`` given with a
    format of its own as well is refused: the two would disagree); the calls of ``tools``
    (as the caller gave them: FunctionTools parse into their types) are parsed."""
    fmt = output_format(text_format, "text_format")
    text = body.get("text")
    if text_format is not None:
        if isinstance(text, dict) and "format" in text:
            raise InvalidRequestError(
                "text_format= and text={'format': ...} both give the output format: pass one")
        if text is not None and not isinstance(text, dict):
            raise InvalidRequestError(f"text must be a dict, not {type(text).__name__}")
        param = fmt.text_param() if fmt is not None else {"type": "text"}
        body["text"] = {**(text or {}), "format": param}
    elif isinstance(text, dict) and isinstance(text.get("format"), dict):
        fmt = output_format(text["format"], "text.format")  # parsed as asked, sent as given
    return Parser(fmt, tools)


def responses_tools(tools: list[Any]) -> list[Any]:
    """FunctionTools (chat's shape) in the Responses API's flat shape; other tools as given."""
    return [t.responses_param() if isinstance(t, FunctionTool) else t for t in tools]


def _tools(body: dict[str, Any]) -> list[Any]:
    tools = body.get("tools")
    return list(tools) if isinstance(tools, (list, tuple)) else []


def _is_format(spec: Optional[Any]) -> bool:
    """A format as the API spells it (``{"type": "json_schema", ...}``), not a JSON schema."""
    return isinstance(spec, dict) and spec.get("type") in ("json_schema", "json_object", "text")
