"""A JSON schema made fit for strict mode, or an InvalidRequestError saying what strict mode
would refuse, before anything is sent.

OpenAI's strict mode (``"strict": true`` on a ``json_schema`` response format or a function
tool) accepts a subset of JSON Schema: the root is an object; every object lists its
properties, all of them in ``required``, with ``additionalProperties: false``; unions are
``anyOf``; ``$defs`` and ``$ref`` (``#`` for recursion) work. It refuses composition other than
anyOf (``allOf``, ``oneOf``, ``not``, ``if``/``then``/``else``, ``dependent*``), the object
keywords ``patternProperties``, ``unevaluatedProperties``, ``propertyNames``,
``minProperties``, ``maxProperties``, the array keywords ``prefixItems``, ``contains``,
``minContains``, ``maxContains``, ``uniqueItems``, ``unevaluatedItems``, the string keywords
``minLength`` and ``maxLength``, and formats other than those in FORMATS. Limits: 5,000
properties, 10 levels of object nesting, 1,000 enum values, 120,000 characters of names and
enum values (docs/structured.md).
"""

from __future__ import annotations

import copy
from typing import Any, Optional

from ..errors import InvalidRequestError

REFUSED = {
    "oneOf": "use anyOf", "not": "", "if": "", "then": "", "else": "",
    "dependentRequired": "", "dependentSchemas": "", "patternProperties": "",
    "unevaluatedProperties": "", "propertyNames": "", "minProperties": "", "maxProperties": "",
    "prefixItems": "use a dataclass/object for fixed positions", "contains": "",
    "minContains": "", "maxContains": "", "uniqueItems": "", "unevaluatedItems": "",
    "minLength": "describe the length in the description", "maxLength": "describe the length "
    "in the description",
}
FORMATS = frozenset(("date-time", "time", "date", "duration", "email", "hostname", "ipv4",
                     "ipv6", "uuid"))
MAX_PROPERTIES, MAX_DEPTH, MAX_ENUM_VALUES, MAX_CHARACTERS = 5000, 10, 1000, 120_000


def strict_schema(schema: Any, what: str, *, fill_required: bool = False) -> dict[str, Any]:
    """A strict copy of ``schema`` (the caller's is never changed). Objects without
    ``additionalProperties`` get ``false``, objects without ``required`` get all their
    properties; ``fill_required`` (pydantic's schemas, where a default makes a field optional)
    makes every property required even when ``required`` lists fewer. A single ``allOf`` is
    merged and a ``$ref`` with other keys beside it is inlined, as openai-python does."""
    if not isinstance(schema, dict):
        raise InvalidRequestError(f"{what}: a JSON schema must be a dict, not "
                                  f"{type(schema).__name__}")
    root = copy.deepcopy(schema)
    checker = _Checker(root, what, fill_required)
    if "$ref" in root and "type" not in root:  # the root model as a $defs entry
        target = checker.resolve(root.pop("$ref"), "#")
        root.update({k: copy.deepcopy(v) for k, v in target.items() if k not in root})
    if root.get("type") != "object" or "anyOf" in root:
        raise InvalidRequestError(
            f"{what}: strict mode needs an object at the root of the schema (type 'object'), "
            f"not {root.get('type') or 'anyOf'!r}: wrap the value in an object with one field"
        )
    checker.inlining.add("#")
    checker.walk(root, "#", 1)
    checker.check_limits()
    return root


class _Checker:
    def __init__(self, root: dict[str, Any], what: str, fill_required: bool) -> None:
        self.root = root
        self.what = what
        self.fill_required = fill_required
        self.properties = self.enum_values = self.characters = 0
        self.inlining: set[str] = set()  # $refs being inlined, so recursion stays a $ref

    def fail(self, where: str, why: str) -> InvalidRequestError:
        return InvalidRequestError(f"{self.what}: strict mode refuses the schema at {where}: {why}")

    def walk(self, schema: Any, where: str, depth: int) -> None:
        if not isinstance(schema, dict):
            if isinstance(schema, bool):  # true/false schemas say nothing strict mode can use
                raise self.fail(where, f"a boolean schema ({str(schema).lower()}) is not allowed")
            raise self.fail(where, f"a schema must be an object, not {type(schema).__name__}")
        for defs in ("$defs", "definitions"):
            for name, sub in (schema.get(defs) or {}).items():
                self.characters += len(name)
                ref = f"#/{defs}/{name}"
                self.inlining.add(ref)  # inside its own schema, a $ref to it stays a $ref
                try:
                    self.walk(sub, f"{where}/{defs}/{name}", 1)
                finally:
                    self.inlining.discard(ref)
        self._merge_all_of(schema, where)
        inlined = self._inline_ref(schema, where)
        try:
            self._check(schema, where, depth)
        finally:
            if inlined is not None:
                self.inlining.discard(inlined)

    def _check(self, schema: dict[str, Any], where: str, depth: int) -> None:
        for keyword, advice in REFUSED.items():
            if keyword in schema:
                raise self.fail(where, f"{keyword!r} is not supported" + (
                    f" ({advice})" if advice else ""))
        if schema.get("format") is not None and schema["format"] not in FORMATS:
            raise self.fail(where, f"format {schema['format']!r} is not supported (supported: "
                            f"{', '.join(sorted(FORMATS))})")
        if "default" in schema and schema["default"] is None:
            del schema["default"]  # pydantic's Optional fields: null is already allowed
        enum = schema.get("enum")
        if isinstance(enum, list):
            self.enum_values += len(enum)
            self.characters += sum(len(v) for v in enum if isinstance(v, str))
        if _is_object(schema):
            self._object(schema, where, depth)
        items = schema.get("items")
        if isinstance(items, dict):
            self.walk(items, f"{where}/items", depth)
        elif items is not None:
            raise self.fail(where, "items must be one schema")
        for i, option in enumerate(schema.get("anyOf") or ()):
            self.walk(option, f"{where}/anyOf/{i}", depth)

    def _object(self, schema: dict[str, Any], where: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise self.fail(where, f"objects may nest at most {MAX_DEPTH} levels deep")
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            raise self.fail(where, "an object must list its properties (strict mode has no "
                            "free-form objects)")
        extra = schema.setdefault("additionalProperties", False)
        if extra is not False:
            raise self.fail(where, "additionalProperties must be false (a map of free keys "
                            "cannot be strict: list the properties)")
        names = list(properties)
        required = schema.get("required")
        if required is None or self.fill_required:
            schema["required"] = names
        elif set(names) - set(required):
            missing = ", ".join(repr(n) for n in names if n not in required)
            raise self.fail(where, f"every property must be required, and {missing} is not "
                            "(make it nullable instead: type [..., 'null'])")
        self.properties += len(names)
        for name, sub in properties.items():
            self.characters += len(name)
            self.walk(sub, f"{where}/properties/{name}", depth + 1)

    def _merge_all_of(self, schema: dict[str, Any], where: str) -> None:
        all_of = schema.get("allOf")
        if all_of is None:
            return
        if not isinstance(all_of, list) or len(all_of) != 1:
            raise self.fail(where, "'allOf' is not supported (only one schema in it is merged)")
        del schema["allOf"]
        schema.update({**all_of[0], **schema})

    def _inline_ref(self, schema: dict[str, Any], where: str) -> Optional[str]:
        """A $ref beside other keys (a description) becomes the schema it points to, with
        those keys; inside that same schema (recursion) it becomes an anyOf of the $ref."""
        ref = schema.get("$ref")
        if ref is None:
            return None
        resolved = self.resolve(ref, where)
        if len(schema) == 1:
            return None
        resolved = copy.deepcopy(resolved)  # before this schema changes: it may be inside
        del schema["$ref"]
        if ref in self.inlining:
            schema["anyOf"] = [{"$ref": ref}]
            return None
        schema.update({**resolved, **schema})
        self.inlining.add(ref)
        return str(ref)

    def resolve(self, ref: Any, where: str) -> dict[str, Any]:
        target: Optional[Any] = resolve(self.root, ref)
        if not isinstance(target, dict):
            raise self.fail(where, f"$ref {ref!r} does not point to a schema in this document")
        return target

    def check_limits(self) -> None:
        for count, limit, what in (
            (self.properties, MAX_PROPERTIES, "properties"),
            (self.enum_values, MAX_ENUM_VALUES, "enum values"),
            (self.characters, MAX_CHARACTERS, "characters of property names and enum values"),
        ):
            if count > limit:
                raise self.fail("#", f"{count:,} {what}, over the limit of {limit:,}")


def resolve(root: dict[str, Any], ref: Any) -> Optional[Any]:
    """The schema a local ``$ref`` (``#``, ``#/$defs/Name``) points to, else None."""
    if not isinstance(ref, str) or not ref.startswith("#"):
        return None
    target: Any = root
    for part in ref[1:].split("/")[1:] if ref != "#" else ():
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(target, dict) or part not in target:
            return None
        target = target[part]
    return target


def _is_object(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "object" or (isinstance(kind, list) and "object" in kind) or (
        kind is None and "properties" in schema)
