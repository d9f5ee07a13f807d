"""``response_format`` (Chat Completions) and ``text_format`` (Responses): what is sent, and
how the answer's JSON becomes the value the caller asked for.

A format is given as a class (a pydantic model, a dataclass or a TypedDict: parsed into an
instance, a dict for a TypedDict), a JSON schema dict (parsed into a dict), or a format as
the API spells it (``{"type": "json_schema", ...}``, sent as it is; ``{"type":
"json_object"}``; ``{"type": "text"}``, which parses nothing). A class or a schema is sent as a
strict ``json_schema`` format; what strict mode would refuse fails here, before sending.
"""

from __future__ import annotations

import dataclasses
import json
import re
import weakref
from typing import Any, Callable, Optional, Sequence

from ..answer_errors import OutputValidationError
from ..errors import InvalidRequestError
from .convert import build
from .pydantic_models import model_schema, parse_model
from .schema import SchemaBuilder
from .strict import strict_schema
from .typeinfo import Object, Reader, is_pydantic_model, is_typeddict
from .validate import Mismatch, format_path, validate

_CACHE: weakref.WeakKeyDictionary[type, OutputFormat] = weakref.WeakKeyDictionary()


class OutputFormat:
    """One format: ``name``, ``schema`` (None for JSON mode), ``strict``; ``parse(text)``."""

    __slots__ = ("name", "schema", "strict", "description", "_parse", "__weakref__")

    def __init__(self, name: str, schema: Optional[dict[str, Any]], strict: Optional[bool],
                 parse: Callable[[str], Any], description: Optional[str] = None) -> None:
        self.name = name
        self.schema = schema
        self.strict = strict
        self.description = description
        self._parse = parse

    def chat_param(self) -> dict[str, Any]:
        """As Chat Completions' ``response_format``."""
        if self.schema is None:
            return {"type": "json_object"}
        return {"type": "json_schema", "json_schema": self._fields()}

    def text_param(self) -> dict[str, Any]:
        """As the Responses API's ``text.format``."""
        if self.schema is None:
            return {"type": "json_object"}
        return {"type": "json_schema", **self._fields()}

    def _fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"name": self.name, "schema": self.schema}
        if self.description:
            fields["description"] = self.description
        if self.strict is not None:
            fields["strict"] = self.strict
        return fields

    def parse(self, text: str, completion: Any = None) -> Any:
        """The value of the answer's text; OutputValidationError naming where it is wrong."""
        try:
            return self._parse(text)
        except Mismatch as miss:
            raise OutputValidationError(miss.why, path=format_path(miss.path), raw=text,
                                        completion=completion) from None

    def __repr__(self) -> str:
        return f"<OutputFormat {self.name} strict={self.strict}>"


def output_format(spec: Any, what: str = "response_format") -> Optional[OutputFormat]:
    """The format a ``response_format``/``text_format`` value stands for (None: plain text)."""
    if spec is None:
        return None
    if isinstance(spec, type):
        cached = _CACHE.get(spec)
        if cached is None:
            cached = _CACHE[spec] = class_format(spec, f"{what} {spec.__name__}")
        return cached
    if not isinstance(spec, dict):
        raise InvalidRequestError(
            f"{what} must be a class (pydantic model, dataclass, TypedDict), a JSON schema dict "
            f"or a format dict, not {type(spec).__name__}"
        )
    kind = spec.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        return OutputFormat("json_object", None, None, _json_object)
    if kind == "json_schema":
        return _given_format(spec, what)
    schema = strict_schema(spec, what)
    name = str(spec.get("title") or "response")
    return OutputFormat(_name(name), schema, True, lambda text: _checked(text, schema))


def class_format(cls: type, what: str) -> OutputFormat:
    """The strict format of a class: a pydantic model, a dataclass or a TypedDict."""
    if is_pydantic_model(cls):
        schema = model_schema(cls, what)
        return OutputFormat(_name(cls.__name__), schema, True, lambda t: parse_model(cls, t))
    if not (dataclasses.is_dataclass(cls) or is_typeddict(cls)):
        raise InvalidRequestError(
            f"{what}: a class given as a format must be a pydantic model, a dataclass or a "
            f"TypedDict (or give a JSON schema dict), not {cls.__qualname__}"
        )
    node = Reader(what).node(cls, cls.__name__)
    assert isinstance(node, Object)
    return typed_format(node, cls.__name__, what)


def typed_format(node: Object, name: str, what: str,
                 optional: Sequence[str] = ()) -> OutputFormat:
    """The strict format of an object node (a class's, or a function's parameters); with
    ``optional`` names, a non-strict one where those top-level fields are not required."""
    schema = SchemaBuilder(node, what).build()
    if optional:
        schema["required"] = [n for n in schema["required"] if n not in optional]
    else:
        schema = strict_schema(schema, what)

    def parse(text: str) -> Any:
        return build(node, _checked(text, schema))

    return OutputFormat(_name(name), schema, not optional, parse)


def _given_format(spec: dict[str, Any], what: str) -> OutputFormat:
    """A ``json_schema`` format as the API spells it (chat's nested shape or the Responses
    API's flat one): sent as given, its answers checked against its schema."""
    fields = spec.get("json_schema", spec)
    schema = fields.get("schema") if isinstance(fields, dict) else None
    if not isinstance(schema, dict):
        raise InvalidRequestError(f"{what}: a json_schema format needs a 'schema' dict")
    return OutputFormat(str(fields.get("name") or "response"), schema, fields.get("strict"),
                        lambda text: _checked(text, schema), fields.get("description"))


def load(text: Any) -> Any:
    """The JSON of an answer; Mismatch at ``$`` when it is not JSON."""
    if not isinstance(text, str):
        raise Mismatch((), f"expected JSON text, got {type(text).__name__}")
    try:
        return json.loads(text)
    except RecursionError:
        raise Mismatch((), "not JSON (nested too deeply to read)") from None
    except ValueError as exc:
        raise Mismatch((), f"not JSON ({exc})") from None


def _checked(text: str, schema: dict[str, Any]) -> Any:
    value = load(text)
    validate(value, schema)
    return value


def _json_object(text: str) -> Any:
    value = load(text)
    if not isinstance(value, dict):
        raise Mismatch((), f"expected a JSON object, got {type(value).__name__}")
    return value


def _name(name: str) -> str:
    """A format name the API accepts: ``[a-zA-Z0-9_-]{1,64}``."""
    return re.sub(r"[^a-zA-Z0-9_-]", "_", name)[:64] or "response"
