"""responses.parse(), create(text_format=) and stream(text_format=) over real sockets: the
format goes into ``text.format``, text parts come back with ``parsed`` and the response with
``output_parsed``, function tools go in the API's flat shape and their calls are parsed; the
official openai SDK parses the same server's answers."""

from __future__ import annotations

import dataclasses
from typing import Literal

import openai
import pydantic
import pytest

import chatmini
from chatmini.objects.parsed import ParsedResponse
from chatmini.testing import Reply

from .conftest import SECRET_KEY

MODEL = "gpt-4o-mini"


@dataclasses.dataclass
class Weather:
    city: str
    unit: Literal["C", "F"]


class Event(pydantic.BaseModel):
    name: str
    attendees: list[str]


def lookup(city: str) -> str:
    """Look a city up."""
    return city


def test_text_format_goes_into_text_and_comes_back_parsed(client, server):
    response = client.responses.parse(model=MODEL, input="Oslo", text_format=Weather,
                                      text={"verbosity": "low"})
    assert isinstance(response, ParsedResponse) and isinstance(response, chatmini.Response)
    assert response.output_parsed == Weather("echo: Oslo", "C")
    assert response.output[0].content[0].parsed == response.output_parsed
    sent = server.requests[-1].json["text"]
    assert sent["verbosity"] == "low" and sent["format"]["type"] == "json_schema"
    assert sent["format"]["name"] == "Weather" and sent["format"]["strict"] is True
    assert "json_schema" not in sent["format"]  # the Responses API's flat shape


def test_create_and_stream_with_text_format_parse_too(client):
    assert client.responses.create(model=MODEL, input="x",
                                   text_format=Event).output_parsed == Event(
        name="echo: x", attendees=["echo: x"])
    with client.responses.stream(model=MODEL, input="x", text_format=Event) as stream:
        events = list(stream)
        response = stream.get_final_response()
    assert events[-1].type == "response.completed"
    assert response.output_parsed.name == "echo: x"
    plain = client.responses.create(model=MODEL, input="x")
    assert type(plain) is chatmini.Response and plain.output_parsed is None


def test_a_text_format_given_twice_is_refused(client, server):
    with pytest.raises(chatmini.InvalidRequestError, match="both give the output format"):
        client.responses.parse(model=MODEL, input="x", text_format=Weather,
                               text={"format": {"type": "text"}})
    assert server.requests == []


def test_a_format_in_text_is_parsed_as_given(client, server):
    text = {"format": {"type": "json_schema", "name": "w", "schema": {
        "type": "object", "properties": {"ok": {"type": "boolean"}}}}}
    response = client.responses.parse(model=MODEL, input="x", text=text)
    assert response.output_parsed == {"ok": True}
    assert server.requests[-1].json["text"] == text


def test_a_refusal_parses_to_nothing(client, server):
    server.enqueue(Reply(refusal="I can't."))
    response = client.responses.parse(model=MODEL, input="x", text_format=Weather)
    assert response.output_parsed is None
    assert response.output[0].content[0].refusal == "I can't."


@pytest.mark.parametrize(("reason", "error"), [
    ("length", chatmini.LengthFinishReasonError),
    ("content_filter", chatmini.ContentFilterFinishReasonError),
])
def test_an_incomplete_response_raises_carrying_it(client, server, reason, error):
    server.enqueue(Reply(content='{"city": "O', finish_reason=reason))
    with pytest.raises(error) as caught:
        client.responses.parse(model=MODEL, input="x", text_format=Weather)
    assert caught.value.completion.status == "incomplete"


def test_text_that_does_not_fit_raises_naming_the_path(client, server):
    server.enqueue(Reply(content='{"city": "Oslo", "unit": "K"}'))
    with pytest.raises(chatmini.OutputValidationError) as caught:
        client.responses.parse(model=MODEL, input="x", text_format=Weather)
    assert caught.value.path == "$.unit" and caught.value.completion.id.startswith("resp_")


def test_function_tools_go_flat_and_their_calls_are_parsed(client, server):
    server.enqueue(Reply(tool_calls=[{"name": "lookup", "arguments": {"city": "Oslo"}}]),
                   Reply(tool_calls=[{"name": "lookup", "arguments": {"city": "Oslo"}}]))
    tool = chatmini.function_tool(lookup)
    response = client.responses.parse(model=MODEL, input="x", tools=[tool])
    assert response.output[0].parsed_arguments == {"city": "Oslo"}
    assert server.requests[-1].json["tools"] == [tool.responses_param()]
    assert server.requests[-1].json["tools"][0]["name"] == "lookup"
    plain = client.responses.create(model=MODEL, input="x", tools=[tool])  # sent flat, not parsed
    assert server.requests[-1].json["tools"] == [tool.responses_param()]
    assert plain.output[0].parsed_arguments is None


def test_the_openai_sdk_parses_the_servers_answers(server):
    with openai.OpenAI(base_url=server.base_url, api_key=SECRET_KEY, max_retries=0) as sdk:
        response = sdk.responses.parse(model=MODEL, input="x", text_format=Event)
        assert response.output_parsed == Event(name="echo: x", attendees=["echo: x"])
        server.enqueue(Reply(refusal="No."))
        refused = sdk.responses.parse(model=MODEL, input="x", text_format=Event)
        assert refused.output[0].content[0].refusal == "No."
        with sdk.responses.stream(model=MODEL, input="x", text_format=Event) as stream:
            assert stream.get_final_response().output_parsed.name == "echo: x"
        server.enqueue(Reply(refusal="No."))
        with sdk.responses.stream(model=MODEL, input="x", text_format=Event) as stream:
            kinds = {event.type for event in stream}
        assert {"response.refusal.delta", "response.refusal.done"} <= kinds
