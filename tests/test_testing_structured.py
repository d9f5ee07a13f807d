"""The embedded server scripted for structured outputs and tools: JSON answers that fit the
schema a request sends, tool calls, refusals and finish reasons on Chat Completions (as the
official SDK reads them), and a reply that repeats for a model that never stops."""

from __future__ import annotations

import json

import openai
import pytest

from chatmini.structured.validate import validate
from chatmini.testing import Reply
from chatmini.testing.schema_answers import schema_text

from .conftest import HI, SECRET_KEY

NODE = {"type": "object", "properties": {
    "name": {"type": "string"},
    "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
    "parent": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}},
    "$defs": {"Node": {"type": "object", "properties": {
        "name": {"type": "string"},
        "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
        "parent": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}}}}}


@pytest.mark.parametrize("schema", [
    NODE,
    {"type": "object", "properties": {
        "when": {"type": "string", "format": "date-time"},
        "id": {"type": ["string", "null"], "format": "uuid"},
        "n": {"type": "integer", "minimum": 5, "maximum": 9},
        "x": {"type": "number", "exclusiveMaximum": 0},
        "many": {"type": "array", "items": {"type": "boolean"}, "minItems": 3},
        "none": {"type": "array", "items": {"type": "string"}, "maxItems": 0},
        "kind": {"enum": ["b", "a"]}, "fixed": {"const": 7}, "nothing": {"type": "null"}}},
])
def test_the_answer_for_a_schema_fits_it(schema):
    text = schema_text({"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
                       "echo: hi")
    value = json.loads(text)
    validate(value, schema)
    assert value["name" if "name" in value else "kind"] in ("echo: hi", "b")


def test_plain_text_and_json_mode():
    assert schema_text(None, "echo") is None and schema_text({"type": "text"}, "echo") is None
    assert json.loads(schema_text({"type": "json_object"}, "echo")) == {"text": "echo"}


def test_a_repeating_reply_answers_until_reset(client, server):
    server.enqueue(Reply(content="again", repeat=True))
    for _ in range(3):
        assert client.chat.completions.create(model="m", messages=HI).choices[
            0].message.content == "again"
    assert server.pending == 1
    server.reset()
    assert client.chat.completions.create(model="m", messages=HI).choices[
        0].message.content == "echo: hi"


def test_replies_that_disagree_are_refused():
    with pytest.raises(ValueError, match="tool_calls= and refusal= disagree"):
        Reply(tool_calls=[{"name": "x"}], refusal="no")


@pytest.fixture
def sdk(server):
    with openai.OpenAI(base_url=server.base_url, api_key=SECRET_KEY, max_retries=0) as client:
        yield client


def script(server):
    server.enqueue(Reply(tool_calls=[{"name": "f", "arguments": {"a": 1}, "id": "call_x"},
                                     {"name": "g", "arguments": "{}"}]),
                   Reply(refusal="I won't."), Reply(content="cut", finish_reason="length"))


def test_the_sdk_reads_scripted_tool_calls_refusals_and_finish_reasons(sdk, server):
    script(server)
    tools, refusal, cut = (sdk.chat.completions.create(model="m", messages=HI)
                           for _ in range(3))
    message = tools.choices[0].message
    assert [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls] == [
        ("call_x", "f", '{"a": 1}'), ("call_1_1", "g", "{}")]
    assert tools.choices[0].finish_reason == "tool_calls" and message.content is None
    assert tools.usage.completion_tokens == 3  # words of the arguments
    assert refusal.choices[0].message.refusal == "I won't."
    assert refusal.choices[0].message.content is None
    assert cut.choices[0].finish_reason == "length" and cut.choices[0].message.content == "cut"


def test_the_sdk_reads_them_streamed(sdk, server):
    script(server)
    with sdk.chat.completions.stream(model="m", messages=HI) as stream:
        done = [e for e in stream if e.type == "tool_calls.function.arguments.done"]
        final = stream.get_final_completion()
    assert [(e.name, e.arguments) for e in done] == [("f", '{"a": 1}'), ("g", "{}")]
    assert [c.id for c in final.choices[0].message.tool_calls] == ["call_x", "call_1_1"]
    with sdk.chat.completions.stream(model="m", messages=HI) as stream:
        assert [e.refusal for e in stream if e.type == "refusal.done"] == ["I won't."]
    chunks = list(sdk.chat.completions.create(model="m", messages=HI, stream=True))
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"
