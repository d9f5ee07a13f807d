"""A call's body with its output format and tools put in the API's shape, and the Parser of
its answer: what ``parse()``, ``stream()`` and a ``create()`` given a class share."""

from __future__ import annotations

from typing import Any, Optional

from ..errors import InvalidRequestError
from .formats import output_format
from .functions import FunctionTool
from .parsing import Parser

_NOTHING = object()


def chat_body(body: dict[str, Any]) -> Parser:
    """Chat Completions: ``response_format`` as a class or JSON schema becomes its strict
    ``json_schema`` format (a format dict stays as it is)."""
    spec = body.get("response_format", _NOTHING)
    fmt = None if spec is _NOTHING else output_format(spec)
    if fmt is not None:
        body["response_format"] = fmt.chat_param() if not _is_format(spec) else spec
    return Parser(fmt, _tools(body))


def responses_body(body: dict[str, Any], text_format: Any) -> Parser:
    """The Responses API: ``text_format`` goes into ``text.format`` (a ``text`` given with a
    format of its own as well is refused: the two would disagree); FunctionTools are sent in
    the API's flat shape."""
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
    tools = _tools(body)
    if any(isinstance(tool, FunctionTool) for tool in tools):
        body["tools"] = [t.responses_param() if isinstance(t, FunctionTool) else t
                         for t in tools]
    return Parser(fmt, tools)


def _tools(body: dict[str, Any]) -> list[Any]:
    tools = body.get("tools")
    return list(tools) if isinstance(tools, (list, tuple)) else []


def _is_format(spec: Optional[Any]) -> bool:
    """A format as the API spells it (``{"type": "json_schema", ...}``), not a JSON schema."""
    return isinstance(spec, dict) and spec.get("type") in ("json_schema", "json_object", "text")
