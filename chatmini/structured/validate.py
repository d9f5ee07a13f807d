"""A JSON value checked against a JSON schema, naming the first place that does not match.

Strict mode makes OpenAI's models follow the schema, but other servers treat it as a hint (or
ignore it), and a truncated or hand-edited answer can be anything: chatmini checks what it
parses. The keywords checked are those strict schemas use (``type``, ``properties``,
``required``, ``additionalProperties``, ``items``, ``enum``, ``const``, ``anyOf``, ``$ref``,
numeric bounds, ``minItems``/``maxItems``, ``pattern``) plus ``oneOf``/``allOf`` and the string
lengths; anything else is ignored, never refused.
"""

from __future__ import annotations

import operator
import re
from typing import Any, Callable, Union

from .strict import resolve

Path = tuple[Union[str, int], ...]
_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}
_BOUNDS = (("minimum", operator.ge, ">="), ("maximum", operator.le, "<="),
           ("exclusiveMinimum", operator.gt, ">"), ("exclusiveMaximum", operator.lt, "<"))
_COUNTS = ((operator.ge, "at least"), (operator.le, "at most"))
_MAX_DEPTH = 200  # deeper than any schema strict mode accepts; stops a runaway recursion


class Mismatch(Exception):
    """Where (``path``) and why a value does not fit; made an OutputValidationError by the
    caller, who has the raw text."""

    def __init__(self, path: Path, why: str) -> None:
        super().__init__(why)
        self.path = path
        self.why = why


def format_path(path: Path) -> str:
    """``$``, ``$.steps[1].output``, ``$['odd key']``."""
    out = "$"
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}"
        else:
            out += f"[{part!r}]"
    return out


def validate(value: Any, schema: Any, root: Any = None, path: Path = ()) -> None:
    """Raise Mismatch at the first place ``value`` does not fit ``schema``."""
    _check(value, schema, schema if root is None else root, path, 0)


def _check(value: Any, schema: Any, root: Any, path: Path, depth: int) -> None:
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return
    ref = schema.get("$ref")
    if ref is not None:
        target = resolve(root, ref)
        if isinstance(target, dict):
            _check(value, target, root, path, depth + 1)
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(_TYPES.get(k, _anything)(value) for k in kinds):
            raise Mismatch(path, f"expected {' or '.join(map(str, kinds))}, got {_name(value)}")
    if "const" in schema and not _same(value, schema["const"]):
        raise Mismatch(path, f"expected {schema['const']!r}, got {_short(value)}")
    enum = schema.get("enum")
    if isinstance(enum, list) and not any(_same(value, e) for e in enum):
        raise Mismatch(path, f"expected one of {_short(enum)}, got {_short(value)}")
    for keyword in ("anyOf", "oneOf"):
        options = schema.get(keyword)
        if isinstance(options, list) and options:
            _one_of(value, options, root, path, depth)
    for sub in schema.get("allOf") or ():
        _check(value, sub, root, path, depth + 1)
    if isinstance(value, dict):
        _object(value, schema, root, path, depth)
    elif isinstance(value, list):
        _array(value, schema, root, path, depth)
    elif isinstance(value, str):
        _string(value, schema, path)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        _number(value, schema, path)


def _one_of(value: Any, options: list[Any], root: Any, path: Path, depth: int) -> None:
    """Passes when one option fits; else the mismatch of the option that got deepest (the
    one the model most likely meant)."""
    best: Mismatch | None = None
    for option in options:
        try:
            _check(value, option, root, path, depth + 1)
            return
        except Mismatch as miss:
            if best is None or len(miss.path) > len(best.path):
                best = miss
    assert best is not None
    if best.path == path:
        raise Mismatch(path, f"matches none of the {len(options)} options (first: {best.why})")
    raise best


def _object(value: dict[str, Any], schema: dict[str, Any], root: Any, path: Path,
            depth: int) -> None:
    properties = schema.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    for name in schema.get("required") or ():
        if name not in value:
            raise Mismatch(path, f"missing required property {name!r}")
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        if name in properties:
            _check(item, properties[name], root, (*path, name), depth + 1)
        elif extra is False:
            raise Mismatch((*path, name), "unexpected property (additionalProperties is false)")
        elif isinstance(extra, dict):
            _check(item, extra, root, (*path, name), depth + 1)


def _counted(count: int, schema: dict[str, Any], keywords: tuple[str, str], unit: str,
             path: Path) -> None:
    """``minItems``/``maxItems`` (or the string lengths) against ``count``."""
    for keyword, (holds, word) in zip(keywords, _COUNTS):
        bound = schema.get(keyword)
        if isinstance(bound, int) and not holds(count, bound):
            raise Mismatch(path, f"expected {word} {bound} {unit}, got {count}")


def _array(value: list[Any], schema: dict[str, Any], root: Any, path: Path,
           depth: int) -> None:
    _counted(len(value), schema, ("minItems", "maxItems"), "items", path)
    items = schema.get("items")
    if isinstance(items, dict):
        for i, item in enumerate(value):
            _check(item, items, root, (*path, i), depth + 1)


def _string(value: str, schema: dict[str, Any], path: Path) -> None:
    _counted(len(value), schema, ("minLength", "maxLength"), "characters", path)
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        try:
            found = re.search(pattern, value)
        except re.error:  # a pattern Python's re cannot read: not ours to judge
            return
        if found is None:
            raise Mismatch(path, f"does not match the pattern {pattern!r}")


def _number(value: float, schema: dict[str, Any], path: Path) -> None:
    for keyword, holds, sign in _BOUNDS:
        bound = schema.get(keyword)
        if isinstance(bound, (int, float)) and not isinstance(bound, bool) and not holds(
                value, bound):
            raise Mismatch(path, f"expected a number {sign} {bound}, got {value!r}")
    step = schema.get("multipleOf")
    if isinstance(step, (int, float)) and not isinstance(step, bool) and step > 0:
        ratio = value / step
        if abs(ratio - round(ratio)) > 1e-9:
            raise Mismatch(path, f"expected a multiple of {step}, got {value!r}")


def _anything(value: Any) -> bool:
    return True


def _same(value: Any, expected: Any) -> bool:
    """JSON equality: ``true`` is not ``1``."""
    return bool(value == expected) and isinstance(value, bool) == isinstance(expected, bool)


def _name(value: Any) -> str:
    for kind, test in _TYPES.items():
        if kind != "integer" and test(value):
            return "integer" if kind == "number" and isinstance(value, int) else kind
    return type(value).__name__


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
