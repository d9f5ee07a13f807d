"""chat.completions.parse(), create() and stream() with structured outputs, over real sockets
against the embedded server (which answers JSON fitting the schema it is sent): what goes on
the wire, what comes back parsed, and every way an answer can fail to be the value asked for.
The official openai SDK parses the same server's answers."""

from __future__ import annotations

import dataclasses
import json
import pickle
from typing import List, Literal, Optional, TypedDict

import openai
import pydantic
import pytest

import chatmini
from chatmini.objects.parsed import ParsedChatCompletion
from chatmini.testing import Reply

from .conftest import HI, SECRET_KEY

MODEL = "gpt-4o-mini"


@dataclasses.dataclass
class Weather:
    """The weather in a city."""

    city: str
    temperature: float
    unit: Literal["C", "F"]
    note: Optional[str]


class Stop(TypedDict):
    name: str
    minutes: int


class Leg(pydantic.BaseModel):
    name: str
    minutes: int


class Trip(pydantic.BaseModel):
    stops: List[Leg]
    total: int = 0


def parse(client, **kw):
    kw.setdefault("model", MODEL)
    kw.setdefault("messages", HI)
    return client.chat.completions.parse(**kw)


def test_a_dataclass_is_sent_as_a_strict_schema_and_parsed_back(client, server):
    completion = parse(client, response_format=Weather)
    assert isinstance(completion, ParsedChatCompletion)
    assert isinstance(completion, chatmini.ChatCompletion)
    message = completion.choices[0].message
    assert message.parsed == Weather("echo: hi", 1.5, "C", "echo: hi")
    assert message.content == json.dumps(dataclasses.asdict(message.parsed))
    sent = server.requests[-1].json["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["name"] == "Weather"
    assert sent["json_schema"]["strict"] is True
    assert sent["json_schema"]["schema"]["description"] == "The weather in a city."


@pytest.mark.parametrize(("response_format", "expected"), [
    (Trip, Trip(stops=[{"name": "echo: hi", "minutes": 1}], total=1)),
    (Stop, {"name": "echo: hi", "minutes": 1}),
    ({"type": "object", "properties": {"answer": {"type": "string"}}}, {"answer": "echo: hi"}),
    ({"type": "json_schema", "json_schema": {"name": "n", "schema": {
        "type": "object", "properties": {"k": {"type": "boolean"}}}}}, {"k": True}),
    ({"type": "json_object"}, {"text": "echo: hi"}),
    ({"type": "text"}, None),
])
def test_every_kind_of_format_parses(client, server, response_format, expected):
    completion = parse(client, response_format=response_format)
    assert completion.choices[0].message.parsed == expected
    if isinstance(response_format, dict) and "json_schema" in response_format:
        assert server.requests[-1].json["response_format"] == response_format  # as given


def test_create_with_a_class_parses_too_and_plain_create_does_not(client):
    completion = client.chat.completions.create(model=MODEL, messages=HI,
                                                response_format=Weather)
    assert completion.choices[0].message.parsed.city == "echo: hi"
    plain = client.chat.completions.create(model=MODEL, messages=HI)
    assert type(plain) is chatmini.ChatCompletion and plain.choices[0].message.parsed is None


def test_a_refusal_parses_to_none_with_the_refusal_text(client, server):
    server.enqueue(Reply(refusal="I can't help with that."))
    message = parse(client, response_format=Weather).choices[0].message
    assert message.parsed is None and message.content is None
    assert message.refusal == "I can't help with that."


@pytest.mark.parametrize(("reason", "error"), [
    ("length", chatmini.LengthFinishReasonError),
    ("content_filter", chatmini.ContentFilterFinishReasonError),
])
def test_a_cut_answer_raises_carrying_the_completion(client, server, reason, error):
    server.enqueue(Reply(content='{"city": "Os', finish_reason=reason))
    with pytest.raises(error) as caught:
        parse(client, response_format=Weather)
    assert caught.value.completion.choices[0].message.content == '{"city": "Os'
    assert isinstance(caught.value, chatmini.ChatminiError)


@pytest.mark.parametrize(("content", "path"), [
    ('{"city": "Oslo"', "$"),
    ('{"city": "Oslo", "temperature": "warm", "unit": "C", "note": null}', "$.temperature"),
    ('{"city": "Oslo", "temperature": 3, "unit": "K", "note": null}', "$.unit"),
])
def test_json_that_does_not_fit_raises_naming_the_path(client, server, content, path):
    server.enqueue(Reply(content=content))  # a server that does not enforce the schema
    with pytest.raises(chatmini.OutputValidationError) as caught:
        parse(client, response_format=Weather)
    assert caught.value.path == path and caught.value.raw == content
    assert caught.value.completion.id.startswith("chatcmpl-")


def test_what_strict_mode_would_refuse_fails_before_sending(client, server):
    @dataclasses.dataclass
    class Bad:
        scores: dict

    with pytest.raises(chatmini.InvalidRequestError, match="no free-form objects"):
        parse(client, response_format=Bad)
    with pytest.raises(chatmini.InvalidRequestError, match="'minLength' is not supported"):
        parse(client, response_format={"type": "object", "properties": {
            "a": {"type": "string", "minLength": 3}}})
    with pytest.raises(chatmini.InvalidRequestError, match="use chat.completions.stream"):
        parse(client, response_format=Weather, stream=True)
    assert server.requests == []


def test_a_parsed_message_goes_back_as_the_server_sent_it(client, server):
    completion = parse(client, response_format=Weather)
    message = completion.choices[0].message
    client.chat.completions.create(model=MODEL, messages=[*HI, message])
    assert server.requests[-1].json["messages"][-1] == message.to_dict()
    assert "parsed" not in server.requests[-1].json["messages"][-1]


def test_parsed_objects_pickle_and_keep_their_request_id(client):
    completion = parse(client, response_format=Weather)
    again = pickle.loads(pickle.dumps(completion))
    assert again.choices[0].message.parsed == completion.choices[0].message.parsed
    assert again._request_id == completion._request_id and again == completion


def test_the_raw_response_parses_the_same(client):
    raw = client.chat.completions.with_raw_response.parse(model=MODEL, messages=HI,
                                                           response_format=Weather)
    assert raw.headers["x-request-id"].startswith("req_")
    assert raw.parse().choices[0].message.parsed.unit == "C"


def get_weather(city: str, unit: Literal["C", "F"] = "C") -> str:
    """The weather in a city."""
    return f"{city}: 12 {unit}"


STRICT_DICT_TOOL = {"type": "function", "function": {
    "name": "lookup", "strict": True, "parameters": {
        "type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"],
        "additionalProperties": False}}}
LOOSE_DICT_TOOL = {"type": "function", "function": {"name": "loose", "parameters": {}}}


def test_tool_call_arguments_are_parsed_for_strict_tools(client, server):
    server.enqueue(Reply(tool_calls=[
        {"name": "get_weather", "arguments": {"city": "Oslo", "unit": "F"}},
        {"name": "lookup", "arguments": {"q": "x"}},
        {"name": "loose", "arguments": {"anything": 1}},
    ]))
    tools = [chatmini.function_tool(get_weather), STRICT_DICT_TOOL, LOOSE_DICT_TOOL]
    completion = parse(client, tools=tools)
    calls = completion.choices[0].message.tool_calls
    assert [c.function.parsed_arguments for c in calls] == [
        {"city": "Oslo", "unit": "F"}, {"q": "x"}, None]
    assert completion.choices[0].finish_reason == "tool_calls"
    sent = server.requests[-1].json["tools"][0]
    assert sent["function"]["strict"] is True and sent["function"]["name"] == "get_weather"
    assert sent["function"]["parameters"]["required"] == ["city", "unit"]


def test_bad_arguments_for_a_strict_tool_raise_naming_the_path(client, server):
    server.enqueue(Reply(tool_calls=[{"name": "get_weather", "arguments": {"city": 3,
                                                                           "unit": "C"}}]))
    with pytest.raises(chatmini.OutputValidationError) as caught:
        parse(client, tools=[chatmini.function_tool(get_weather)])
    assert caught.value.path == "$.city" and caught.value.raw == '{"city": 3, "unit": "C"}'


def test_a_streamed_create_with_a_class_parses_the_final_completion(client):
    with client.chat.completions.create(model=MODEL, messages=HI, response_format=Weather,
                                        stream=True) as stream:
        chunks = list(stream)
        completion = stream.get_final_completion()
    assert len(chunks) > 3 and completion.choices[0].message.parsed.city == "echo: hi"


def test_the_stream_helper_reads_partial_json_and_parses_at_the_end(client):
    partial, done = [], []
    with client.chat.completions.stream(model=MODEL, messages=HI,
                                        response_format=Weather) as stream:
        for event in stream:
            if event.type == "content.delta":
                partial.append(event.parsed)
            elif event.type == "content.done":
                done.append(event.parsed)
        completion = stream.get_final_completion()
    final = Weather("echo: hi", 1.5, "C", "echo: hi")
    assert done == [final] and completion.choices[0].message.parsed == final
    assert partial[-1] == dataclasses.asdict(final)
    growing = [p for p in partial if p]
    assert growing[0] == {"city": "echo: "} and len({json.dumps(p) for p in growing}) > 3
    assert all(set(a) <= set(b) for a, b in zip(growing, growing[1:]))  # keys only ever added


def test_the_stream_helper_raises_for_a_cut_answer(client, server):
    server.enqueue(Reply(content='{"city": "O', finish_reason="length"))
    with pytest.raises(chatmini.LengthFinishReasonError) as caught:
        with client.chat.completions.stream(model=MODEL, messages=HI,
                                            response_format=Weather) as stream:
            stream.until_done()
    assert caught.value.completion.choices[0].message.content == '{"city": "O'


def test_the_stream_helper_parses_tool_arguments_as_they_stream(client, server):
    server.enqueue(Reply(tool_calls=[{"name": "get_weather", "arguments": {"city": "Oslo"}}]))
    with client.chat.completions.stream(model=MODEL, messages=HI, tools=[
            chatmini.function_tool(get_weather, strict=False)]) as stream:
        events = [e for e in stream if e.type.startswith("tool_calls")]
        completion = stream.get_final_completion()
    assert events[-1].type == "tool_calls.function.arguments.done"
    assert events[-1].parsed_arguments == {"city": "Oslo"}
    assert events[-2].parsed_arguments == {"city": "Oslo"}  # the last delta's, read as JSON
    assert completion.choices[0].message.tool_calls[0].function.parsed_arguments == {
        "city": "Oslo"}


@pytest.fixture
def sdk(server):
    with openai.OpenAI(base_url=server.base_url, api_key=SECRET_KEY, max_retries=0) as client:
        yield client


def test_the_openai_sdk_parses_the_servers_schema_answers(sdk, server):
    completion = sdk.chat.completions.parse(model=MODEL, messages=HI, response_format=Trip)
    assert completion.choices[0].message.parsed == Trip(stops=[{"name": "echo: hi",
                                                               "minutes": 1}], total=1)
    with sdk.chat.completions.stream(model=MODEL, messages=HI, response_format=Trip) as stream:
        assert stream.get_final_completion().choices[0].message.parsed.total == 1
    server.enqueue(Reply(refusal="No."))
    assert sdk.chat.completions.parse(model=MODEL, messages=HI,
                                      response_format=Trip).choices[0].message.refusal == "No."
    server.enqueue(Reply(finish_reason="length"))
    with pytest.raises(openai.LengthFinishReasonError):
        sdk.chat.completions.parse(model=MODEL, messages=HI, response_format=Trip)


def test_the_openai_sdk_reads_the_servers_tool_calls(sdk, server):
    calls = [{"name": "get_weather", "arguments": {"city": "Oslo"}},
             {"name": "get_weather", "arguments": {"city": "Bergen"}}]
    tools = [chatmini.function_tool(get_weather)]
    server.enqueue(Reply(tool_calls=calls), Reply(tool_calls=calls))
    completion = sdk.chat.completions.parse(model=MODEL, messages=HI, tools=tools)
    parsed = [c.function.parsed_arguments for c in completion.choices[0].message.tool_calls]
    assert parsed == [{"city": "Oslo"}, {"city": "Bergen"}]
    with sdk.chat.completions.stream(model=MODEL, messages=HI, tools=tools) as stream:
        final = stream.get_final_completion()
    assert [c.function.arguments for c in final.choices[0].message.tool_calls] == [
        json.dumps({"city": "Oslo"}), json.dumps({"city": "Bergen"})]
    assert final.choices[0].finish_reason == "tool_calls"


def test_a_key_echoed_in_a_bad_answer_stays_out_of_the_message(client, server):
    server.enqueue(Reply(content=f'{{"city": "{SECRET_KEY}", "temperature": "hot"}}'))
    with pytest.raises(chatmini.OutputValidationError) as caught:
        parse(client, response_format=Weather)
    assert SECRET_KEY not in str(caught.value) and SECRET_KEY in caught.value.raw
