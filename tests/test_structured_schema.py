"""Output formats from types and schemas: the strict JSON schema chatmini sends for a dataclass,
a TypedDict, a pydantic model or a schema dict, and the clear error for what strict mode would
refuse, before anything is sent."""

from __future__ import annotations

import copy
import dataclasses
import datetime
import enum
import uuid
from typing import (
    Annotated,
    Any,
    Dict,
    List,
    Literal,
    Optional,
    Sequence,
    Set,
    Tuple,
    TypedDict,
    Union,
)

import pydantic
import pytest
from openai.lib._pydantic import to_strict_json_schema

import chatmini
from chatmini.structured import output_format
from chatmini.structured.strict import REFUSED, strict_schema


class Color(enum.Enum):
    """A color."""

    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass
class Step:
    explanation: str
    output: Annotated[str, "what the step produced"]


@dataclasses.dataclass
class Tree:
    """A node of a tree."""

    name: str
    children: List[Tree]


class Point(TypedDict):
    x: int
    y: float


@dataclasses.dataclass
class Everything:
    text: str
    count: int
    ratio: float
    flag: bool
    nothing: None
    maybe: Optional[str]
    either: Union[int, str]
    choice: Literal["a", "b", 3]
    color: Color
    when: datetime.datetime
    day: Optional[datetime.date]
    at: datetime.time
    key: uuid.UUID
    steps: List[Step]
    tags: Set[str]
    pairs: Tuple[int, ...]
    seq: Sequence[float]
    point: Point
    tree: Tree
    described: int = dataclasses.field(default=1, metadata={"description": "a count"})


def schema_of(cls: Any) -> dict[str, Any]:
    fmt = output_format(cls)
    assert fmt is not None and fmt.strict is True
    return fmt.schema


def test_a_dataclass_becomes_a_strict_schema_with_defs():
    schema = schema_of(Everything)
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert schema["required"] == list(schema["properties"])  # every field, in order
    p = schema["properties"]
    assert p["text"] == {"type": "string"} and p["count"] == {"type": "integer"}
    assert p["ratio"] == {"type": "number"} and p["flag"] == {"type": "boolean"}
    assert p["nothing"] == {"type": "null"}
    assert p["maybe"] == {"type": ["string", "null"]}
    assert p["either"] == {"type": ["integer", "string"]}
    assert p["choice"] == {"type": ["string", "integer"], "enum": ["a", "b", 3]}
    assert p["color"] == {"type": "string", "enum": ["red", "blue"], "description": "A color."}
    assert p["when"] == {"type": "string", "format": "date-time"}
    assert p["day"] == {"type": ["string", "null"], "format": "date"}
    assert p["at"]["format"] == "time" and p["key"]["format"] == "uuid"
    assert p["steps"] == {"type": "array", "items": {"$ref": "#/$defs/Step"}}
    assert p["tags"]["type"] == "array" and p["pairs"]["items"] == {"type": "integer"}
    assert p["seq"] == {"type": "array", "items": {"type": "number"}}
    assert p["described"] == {"type": "integer", "description": "a count"}
    defs = schema["$defs"]
    assert defs["Step"]["properties"]["output"] == {"type": "string",
                                                    "description": "what the step produced"}
    assert defs["Point"]["required"] == ["x", "y"]
    assert defs["Tree"]["description"] == "A node of a tree."
    assert defs["Tree"]["properties"]["children"]["items"] == {"$ref": "#/$defs/Tree"}


def test_a_class_referring_to_itself_at_the_root_uses_hash_ref():
    schema = schema_of(Tree)
    assert schema["properties"]["children"]["items"] == {"$ref": "#"}
    assert "$defs" not in schema


def test_a_described_nested_class_is_not_a_ref_with_siblings():
    @dataclasses.dataclass
    class Outer:
        inner: Annotated[Step, "the inner step"]

    schema = schema_of(Outer)
    assert schema["properties"]["inner"] == {"anyOf": [{"$ref": "#/$defs/Step"}],
                                             "description": "the inner step"}


def test_two_classes_with_one_name_get_two_defs():
    def make() -> type:
        @dataclasses.dataclass
        class Item:
            value: int
        return Item

    Both = dataclasses.make_dataclass("Both", [("a", make()), ("b", make())])
    schema = schema_of(Both)
    assert set(schema["$defs"]) == {"Item", "Item2"}


@pytest.mark.parametrize(("hint", "message"), [
    (Dict[str, int], "no free-form objects"),
    (dict, "no free-form objects"),
    (Any, "no free-form objects"),
    (Tuple[int, str], "fixed-length tuple"),
    (list, "say what the items are"),
    (complex, "has no JSON schema here"),
    (Literal[1.5j], "Literal values must be"),
])
def test_types_strict_mode_cannot_express_are_refused_naming_the_field(hint, message):
    Holder = dataclasses.make_dataclass("Holder", [("field", hint)])
    with pytest.raises(chatmini.InvalidRequestError, match=message) as caught:
        output_format(Holder)
    assert "Holder.field" in str(caught.value)


def test_a_class_that_is_not_a_format_or_a_bad_value_is_refused():
    with pytest.raises(chatmini.InvalidRequestError, match="pydantic model, a dataclass or a "
                                                           "TypedDict"):
        output_format(int)
    with pytest.raises(chatmini.InvalidRequestError, match="must be a class"):
        output_format(["not", "a", "format"])


def test_a_pydantic_model_inside_a_dataclass_is_refused():
    class Inner(pydantic.BaseModel):
        a: int

    Outer = dataclasses.make_dataclass("Outer", [("inner", Inner)])
    with pytest.raises(chatmini.InvalidRequestError, match="pydantic model inside"):
        output_format(Outer)


class Location(pydantic.BaseModel):
    """Where."""

    city: str
    country: Optional[str] = None


class Forecast(pydantic.BaseModel):
    location: Location
    days: List[int] = []
    unit: Literal["C", "F"] = "C"
    note: Optional[Location] = pydantic.Field(None, description="optional place")


@pytest.mark.parametrize("model", [Location, Forecast])
def test_a_pydantic_model_gets_the_schema_openai_python_sends(model):
    assert output_format(model).schema == to_strict_json_schema(model)


def test_pydantic_constraints_strict_mode_refuses_fail_early():
    class Named(pydantic.BaseModel):
        name: str = pydantic.Field(min_length=2)

    class Mapping(pydantic.BaseModel):
        scores: Dict[str, int]

    with pytest.raises(chatmini.InvalidRequestError, match="'minLength' is not supported"):
        output_format(Named)
    with pytest.raises(chatmini.InvalidRequestError, match="no free-form objects"):
        output_format(Mapping)


def test_a_schema_dict_is_made_strict_without_touching_the_callers():
    given = {"title": "Answer value", "type": "object",
             "properties": {"value": {"type": "object", "properties": {"n": {"type": "integer"}}}}}
    before = copy.deepcopy(given)
    fmt = output_format(given)
    assert given == before
    assert fmt.name == "Answer_value" and fmt.strict is True
    assert fmt.schema["required"] == ["value"] and fmt.schema["additionalProperties"] is False
    inner = fmt.schema["properties"]["value"]
    assert inner["required"] == ["n"] and inner["additionalProperties"] is False
    assert fmt.chat_param() == {"type": "json_schema", "json_schema": {
        "name": "Answer_value", "schema": fmt.schema, "strict": True}}
    assert fmt.text_param() == {"type": "json_schema", "name": "Answer_value",
                                "schema": fmt.schema, "strict": True}


def test_format_dicts_are_sent_as_given():
    given = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    fmt = output_format(given)
    assert fmt.schema == {"type": "object"} and fmt.strict is None
    assert output_format({"type": "json_object"}).chat_param() == {"type": "json_object"}
    assert output_format({"type": "text"}) is None
    with pytest.raises(chatmini.InvalidRequestError, match="needs a 'schema' dict"):
        output_format({"type": "json_schema", "json_schema": {"name": "x"}})


def obj(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


@pytest.mark.parametrize("keyword", sorted(REFUSED))
def test_every_keyword_strict_mode_refuses_is_named(keyword):
    schema = obj(field={"type": "string", keyword: 1})
    with pytest.raises(chatmini.InvalidRequestError,
                       match=rf"at #/properties/field: '{keyword}' is not supported"):
        strict_schema(schema, "response_format")


@pytest.mark.parametrize(("schema", "message"), [
    ({"type": "array", "items": {"type": "string"}}, "needs an object at the root"),
    ({"anyOf": [obj(), obj()]}, "needs an object at the root"),
    (obj(a={"type": "string", "format": "uri"}), "format 'uri' is not supported"),
    (obj(a={"type": "object"}), "must list its properties"),
    ({**obj(a={"type": "string"}), "additionalProperties": True}, "additionalProperties must be "
                                                                  "false"),
    ({**obj(a={"type": "string"}, b={"type": "string"}), "required": ["a"]},
     "every property must be required, and 'b' is not"),
    (obj(a=True), "a boolean schema"),
    (obj(a={"allOf": [{"type": "string"}, {"type": "string"}]}), "'allOf' is not supported"),
    (obj(a={"$ref": "#/$defs/Missing"}), "does not point to a schema"),
    (obj(**{f"p{i}": {"type": "integer"} for i in range(5001)}), "over the limit of 5,000"),
    (obj(a={"type": "string", "enum": [str(i) for i in range(1001)]}), "over the limit of 1,000"),
])
def test_schemas_strict_mode_refuses_fail_naming_the_place(schema, message):
    with pytest.raises(chatmini.InvalidRequestError, match=message):
        strict_schema(schema, "response_format")


def test_nesting_beyond_ten_levels_is_refused():
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(10):
        schema = obj(inner=schema)
    strict_schema(schema, "x")
    with pytest.raises(chatmini.InvalidRequestError, match="at most 10 levels"):
        strict_schema(obj(inner=schema), "x")


def test_refs_with_siblings_are_inlined_and_one_allof_merged():
    schema = {
        **obj(a={"$ref": "#/$defs/Inner", "description": "the a"},
              b={"allOf": [{"$ref": "#/$defs/Inner"}]},
              c={"$ref": "#/$defs/Inner"}),
        "$defs": {"Inner": obj(n={"type": "integer", "default": None})},
    }
    strict = strict_schema(schema, "x")
    a = strict["properties"]["a"]
    assert a["description"] == "the a" and a["properties"] == {"n": {"type": "integer"}}
    assert "$ref" not in a and a["additionalProperties"] is False
    assert strict["properties"]["b"] == {"$ref": "#/$defs/Inner"}
    assert strict["properties"]["c"] == {"$ref": "#/$defs/Inner"}


def test_a_recursive_ref_with_siblings_stays_a_ref():
    schema = {**obj(root={"$ref": "#/$defs/Node", "description": "top"}),
              "$defs": {"Node": obj(kids={"type": "array",
                                          "items": {"$ref": "#/$defs/Node", "description": "kid"}})}}
    strict = strict_schema(schema, "x")
    root = strict["properties"]["root"]
    assert root["properties"]["kids"]["items"] == {"anyOf": [{"$ref": "#/$defs/Node"}],
                                                   "description": "kid"}
