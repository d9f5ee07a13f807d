"""chatmini.function_tool: a strict function tool from a function's signature and docstring (or
a class), its arguments parsed into the declared types, usable on both APIs."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated, List, Literal, Optional

import pydantic
import pytest

import chatmini


def search(query: str, limit: int = 5, kinds: Optional[List[Literal["doc", "code"]]] = None,
           exact: Annotated[bool, "match the words exactly"] = False) -> list:
    """Search the knowledge base.

    Longer text that is not part of the summary.

    Args:
        query (str): What to look for,
            in a few words.
        limit: How many results.
    """
    return [query, limit, kinds, exact]


def sphinx_style(city: str, days: int) -> str:
    """Forecast for a city.

    :param city: The city name.
    :param int days: How many days ahead.
    """
    return f"{city} {days}"


def test_a_function_becomes_a_strict_tool():
    tool = chatmini.function_tool(search)
    assert isinstance(tool, dict) and tool["type"] == "function"
    spec = tool["function"]
    assert spec["name"] == "search" and spec["strict"] is True
    assert spec["description"] == "Search the knowledge base."
    parameters = spec["parameters"]
    assert parameters["required"] == ["query", "limit", "kinds", "exact"]
    assert parameters["additionalProperties"] is False
    props = parameters["properties"]
    assert props["query"] == {"type": "string", "description": "What to look for, in a few words."}
    assert props["limit"] == {"type": "integer", "description": "How many results."}
    assert props["kinds"] == {"anyOf": [{"type": "array", "items": {
        "type": "string", "enum": ["doc", "code"]}}, {"type": "null"}]}
    assert props["exact"] == {"type": "boolean", "description": "match the words exactly"}
    assert json.loads(json.dumps(tool)) == tool  # sent as it is


def test_sphinx_docstrings_describe_parameters_too():
    props = chatmini.function_tool(sphinx_style)["function"]["parameters"]["properties"]
    assert props["city"]["description"] == "The city name."
    assert props["days"]["description"] == "How many days ahead."


def test_arguments_are_parsed_into_the_declared_types_and_the_function_called():
    tool = chatmini.function_tool(search)
    parsed = tool.parse_arguments(json.dumps({"query": "q", "limit": 2, "kinds": ["code"],
                                              "exact": True}))
    assert parsed == {"query": "q", "limit": 2, "kinds": ["code"], "exact": True}
    assert tool.call(parsed) == ["q", 2, ["code"], True]
    with pytest.raises(chatmini.OutputValidationError) as caught:
        tool.parse_arguments('{"query": "q", "limit": "two", "kinds": null, "exact": false}')
    assert caught.value.path == "$.limit"


def test_a_non_strict_tool_leaves_defaults_optional():
    tool = chatmini.function_tool(search, strict=False, name="find", description="Find.")
    spec = tool["function"]
    assert spec["strict"] is False and spec["name"] == "find" and spec["description"] == "Find."
    assert spec["parameters"]["required"] == ["query"]
    parsed = tool.parse_arguments('{"query": "q"}')
    assert parsed == {"query": "q"} and tool.call(parsed) == ["q", 5, None, False]


@dataclasses.dataclass
class Booking:
    """Book a table."""

    name: str
    seats: int


class Order(pydantic.BaseModel):
    """Place an order."""

    item: str
    count: int = 1


def test_a_class_becomes_a_tool_whose_arguments_are_an_instance():
    tool = chatmini.function_tool(Booking, function=lambda b: f"{b.name}: {b.seats}")
    assert tool["function"]["description"] == "Book a table."
    booking = tool.parse_arguments('{"name": "Ada", "seats": 2}')
    assert booking == Booking("Ada", 2) and tool.call(booking) == "Ada: 2"
    order = chatmini.pydantic_function_tool(Order)  # openai-python's name
    assert order["function"]["parameters"]["required"] == ["item", "count"]
    assert order.parse_arguments('{"item": "tea", "count": 3}') == Order(item="tea", count=3)
    with pytest.raises(chatmini.InvalidRequestError, match="has no function to run"):
        order.call(Order(item="tea"))


def test_the_responses_shape_is_flat():
    tool = chatmini.function_tool(sphinx_style)
    assert tool.responses_param() == {"type": "function", **tool["function"]}


def no_hint(x, y: int) -> None:
    """No hint on x."""


def star(*names: str) -> None:
    """Star args."""


@pytest.mark.parametrize(("make", "message"), [
    (lambda: chatmini.function_tool(no_hint), "parameter 'x' needs a type hint"),
    (lambda: chatmini.function_tool(star), "must be passable by keyword"),
    (lambda: chatmini.function_tool(lambda q: q), "tool name '<lambda>'"),
    (lambda: chatmini.function_tool(search, function=print), "function= is for class tools"),
    (lambda: chatmini.function_tool(42), "needs a function or a class"),
    (lambda: chatmini.function_tool(search, name="bad name"), "tool name 'bad name'"),
])
def test_functions_that_cannot_be_tools_are_refused_clearly(make, message):
    with pytest.raises(chatmini.InvalidRequestError, match=message):
        make()
