"""The test server's answer to a request for structured output: a JSON document that fits the
request's schema (Chat Completions' ``response_format``, the Responses API's ``text.format``),
or ``{"text": ...}`` in JSON mode. Deterministic: every string is the echo of the last user
message (a formatted one, a valid example of its format), an enum its first value, a number
1 (inside its bounds), an array one item, an optional value (``anyOf`` with null) present."""

from __future__ import annotations

import json
from typing import Any, Optional

__all__ = ["schema_text"]

FORMATS = {
    "date-time": "2024-01-01T00:00:00Z", "date": "2024-01-01", "time": "00:00:00",
    "duration": "P1D", "email": "user@example.com", "hostname": "example.com",
    "ipv4": "127.0.0.1", "ipv6": "::1", "uuid": "00000000-0000-4000-8000-000000000000",
}
MAX_DEPTH = 6  # recursive schemas: arrays go empty and optional values null past this depth


def schema_text(format_: Any, echo: str) -> Optional[str]:
    """The answer's text for a format (chat's ``response_format`` or the Responses API's
    ``text.format``), or None when it asks for plain text."""
    if not isinstance(format_, dict):
        return None
    kind = format_.get("type")
    if kind == "json_object":
        return json.dumps({"text": echo})
    if kind != "json_schema":
        return None
    fields = format_.get("json_schema", format_)
    schema = fields.get("schema") if isinstance(fields, dict) else None
    if not isinstance(schema, dict):
        return None
    return json.dumps(_Sampler(schema, echo).sample(schema, 0))


class _Sampler:
    def __init__(self, root: dict[str, Any], echo: str) -> None:
        self.root = root
        self.echo = echo

    def sample(self, schema: Any, depth: int) -> Any:
        if not isinstance(schema, dict):
            return None
        if "$ref" in schema:
            return self.sample(self._resolve(schema["$ref"]), depth)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return schema["enum"][0]
        options = schema.get("anyOf") or schema.get("oneOf")
        if isinstance(options, list) and options:
            typed = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
            if not typed or (depth > MAX_DEPTH and len(typed) < len(options)):
                return None
            return self.sample(typed[0], depth)
        kind = schema.get("type")
        if isinstance(kind, list):
            kinds = [k for k in kind if k != "null"]
            if not kinds or depth > MAX_DEPTH:
                return None
            kind = kinds[0]
        if kind == "object" or (kind is None and "properties" in schema):
            properties = schema.get("properties") or {}
            return {name: self.sample(sub, depth + 1) for name, sub in properties.items()}
        if kind == "array":
            low, high = schema.get("minItems"), schema.get("maxItems")
            low = low if isinstance(low, int) else 0
            high = high if isinstance(high, int) else 1
            count = max(low, min(1, high)) if depth <= MAX_DEPTH else low
            return [self.sample(schema.get("items"), depth + 1) for _ in range(count)]
        if kind == "string":
            return FORMATS.get(str(schema.get("format")), self.echo)
        if kind in ("integer", "number"):
            return _number(schema, 1 if kind == "integer" else 1.5)
        if kind == "boolean":
            return True
        return None

    def _resolve(self, ref: Any) -> Any:
        target: Any = self.root
        if isinstance(ref, str) and ref.startswith("#"):
            for part in [p for p in ref[1:].split("/") if p]:
                target = target.get(part) if isinstance(target, dict) else None
        return target


def _number(schema: dict[str, Any], value: float) -> float:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if isinstance(low, (int, float)) and value <= low:
        value = low + (1 if "exclusiveMinimum" in schema else 0)
    if isinstance(high, (int, float)) and value >= high:
        value = high - (1 if "exclusiveMaximum" in schema else 0)
    return value
