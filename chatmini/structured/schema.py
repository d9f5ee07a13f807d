"""The JSON schema of a type's nodes (``typeinfo``), in the shape strict mode wants: every
object lists its properties, all required, ``additionalProperties: false``; a class used in
several places (or by itself) is a ``$defs`` entry named after it, the root one ``#``."""

from __future__ import annotations

from typing import Any

from ..errors import InvalidRequestError
from .typeinfo import Array, Choice, Model, Node, Object, Options, Scalar

_JSON_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
               (type(None), "null"))


class SchemaBuilder:
    """Builds the schema of one root Object; ``what`` names it in messages."""

    def __init__(self, root: Object, what: str) -> None:
        self.root = root
        self.what = what
        self.defs: dict[str, dict[str, Any]] = {}
        self.names: dict[type, str] = {}

    def build(self) -> dict[str, Any]:
        schema = self._object(self.root)
        if self.defs:
            schema["$defs"] = self.defs
        return schema

    def schema(self, node: Node) -> dict[str, Any]:
        if isinstance(node, Scalar):
            schema: dict[str, Any] = {"type": node.json}
            if node.format:
                schema["format"] = node.format
        elif isinstance(node, Choice):
            kinds = list(dict.fromkeys(_json_type(v) for v in node.values))
            schema = {"type": kinds[0] if len(kinds) == 1 else kinds, "enum": list(node.values)}
        elif isinstance(node, Options):
            schema = self._options(node)
        elif isinstance(node, Array):
            schema = {"type": "array", "items": self.schema(node.item)}
        elif isinstance(node, Object):
            schema = {"$ref": self._ref(node)}
        elif isinstance(node, Model):
            raise InvalidRequestError(
                f"{self.what}: {node.cls.__name__} is a pydantic model inside a standard-library "
                "type: make the outer type a pydantic model too, or use dataclasses throughout"
            )
        if node.description and not isinstance(node, Object):
            schema["description"] = node.description
        return schema

    def _options(self, node: Options) -> dict[str, Any]:
        options = _flat(node)
        if len(options) == 1:
            inner = self.schema(options[0])
            return {"anyOf": [inner]} if "$ref" in inner and node.description else dict(inner)
        plain = [o for o in options if isinstance(o, Scalar) and not o.description]
        if len(plain) == len(options) and len({o.format for o in plain} - {None}) <= 1:
            kinds = list(dict.fromkeys(o.json for o in plain))  # Optional[str]: type [string, null]
            schema: dict[str, Any] = {"type": kinds}
            formats = [o.format for o in plain if o.format]
            if formats and len(kinds) == 2 and "null" in kinds:
                schema["format"] = formats[0]
            elif formats:
                return {"anyOf": [self.schema(o) for o in options]}
            return schema
        return {"anyOf": [self.schema(o) for o in options]}

    def _ref(self, node: Object) -> str:
        if node is self.root or node.cls is None:
            return "#"
        name = self.names.get(node.cls)
        if name is None:
            name = base = node.cls.__name__
            count = 1
            while name in self.defs:
                count += 1
                name = f"{base}{count}"
            self.names[node.cls] = name
            self.defs[name] = {}  # reserved before building: the class may refer to itself
            self.defs[name].update(self._object(node))
        return f"#/$defs/{name}"

    def _object(self, node: Object) -> dict[str, Any]:
        fields = node.fields
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {name: self.schema(field) for name, field in fields.items()},
            "required": list(fields),
            "additionalProperties": False,
        }
        if node.description:
            schema["description"] = node.description
        return schema


def _flat(node: Options) -> list[Node]:
    """The options of nested unions, in order, once each."""
    out: list[Node] = []
    for option in node.options:
        if isinstance(option, Options) and not option.description:
            out.extend(o for o in _flat(option) if o not in out)
        elif option not in out:
            out.append(option)
    return out


def _json_type(value: Any) -> str:
    return next(name for kind, name in _JSON_TYPES if isinstance(value, kind))
