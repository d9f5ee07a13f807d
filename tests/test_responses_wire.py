"""The Responses API on the wire: the embedded server writes api.openai.com's exact event shapes,
one HTTP chunk per event; the official openai SDK can drive it; and chatmini reads the same
response however the bytes are split into TCP reads (hypothesis picks the splits)."""

from __future__ import annotations

import json
import re
import socket
from typing import Iterator

import openai
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chatmini
from chatmini.testing import Fault, FaultProxy, Reply, Server

from .conftest import SECRET_KEY
from .test_responses_stream import CREATED, response, sse

MODEL = "gpt-4o-mini"
EVENT = re.compile(rb"event: ([a-z_.]+)\ndata: (\{.*\})\n\n", re.S)


def raw_exchange(server: Server, body: dict) -> tuple[bytes, bytes]:
    """POST /v1/responses over a bare socket: the response's head and its raw chunked body."""
    data = json.dumps(body).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"POST /v1/responses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                     b"\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(data), data))
        received = b"".join(iter(lambda: sock.recv(65536), b""))
    head, _, rest = received.partition(b"\r\n\r\n")
    return head, rest


def chunks(body: bytes) -> Iterator[bytes]:
    """The data of each HTTP/1.1 chunk, checking the framing."""
    while True:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            assert body == b"\r\n"
            return
        yield body[:size]
        assert body[size:size + 2] == b"\r\n"
        body = body[size + 2:]


@pytest.mark.parametrize("reply", [
    Reply(), Reply(tool_calls=[{"name": "f", "arguments": '{"a": [1, 2, 3]}'}], reasoning="why"),
    Reply(outcome="incomplete"), Reply(with_done=True),
    Reply(error_event={"type": "error", "code": "server_error", "message": "x"}),
])
def test_each_event_is_its_own_chunk_in_openai_shapes(server, reply):
    server.enqueue(reply)
    head, body = raw_exchange(server, {"model": MODEL, "input": "one two", "stream": True})
    assert b"Transfer-Encoding: chunked" in head and b"text/event-stream" in head
    pieces = list(chunks(body))
    if reply.with_done:
        assert pieces.pop() == b"data: [DONE]\n\n"
    numbers = []
    for piece in pieces:
        match = EVENT.fullmatch(piece)
        assert match, piece
        data = json.loads(match[2])
        assert data["type"] == match[1].decode() and list(data)[:2] == ["type", "sequence_number"]
        numbers.append(data["sequence_number"])
    assert numbers == list(range(len(pieces)))
    last = json.loads(EVENT.fullmatch(pieces[-1])[2])
    assert last["type"] == ("error" if reply.error_event else f"response.{reply.outcome}")


# -- the official SDK against the embedded server ------------------------------------------------


@pytest.fixture
def sdk(server):
    with openai.OpenAI(base_url=server.base_url, api_key=SECRET_KEY, max_retries=0) as client:
        yield client


def test_the_openai_sdk_creates_responses(sdk, server):
    answer = sdk.responses.create(model=MODEL, input="hello there", instructions="brief")
    assert answer.output_text == "echo: hello there" and answer.status == "completed"
    assert answer.usage.input_tokens == 3 and answer.usage.output_tokens == 3
    assert server.requests[-1].json == {"model": MODEL, "input": "hello there",
                                        "instructions": "brief"}
    events = list(sdk.responses.create(model=MODEL, input="a b", stream=True))
    assert events[-1].type == "response.completed"
    assert events[-1].response.output_text == "echo: a b"


def test_the_openai_sdk_streams_tools_and_reasoning(sdk, server):
    server.enqueue(Reply(tool_calls=[{"name": "weather", "arguments": '{"city": "Oslo"}'}],
                         reasoning="look it up", with_done=True))
    with sdk.responses.stream(model=MODEL, input="weather?") as stream:
        types = [event.type for event in stream]
        final = stream.get_final_response()
    assert "response.reasoning_summary_text.delta" in types
    assert "response.function_call_arguments.delta" in types
    assert [item.type for item in final.output] == ["reasoning", "function_call"]
    assert final.output[1].arguments == '{"city": "Oslo"}'


def test_the_openai_sdk_uses_stored_responses(sdk):
    created = sdk.responses.create(model=MODEL, input=[{"role": "user", "content": "x"}])
    assert sdk.responses.retrieve(created.id).output_text == "echo: x"
    items = list(sdk.responses.input_items.list(created.id))
    assert [item.content[0].text for item in items] == ["x"]
    with sdk.responses.stream(response_id=created.id, starting_after=2) as stream:
        assert stream.get_final_response().output_text == "echo: x"
    sdk.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(created.id)


def test_the_openai_sdk_sees_errors_and_incomplete_answers(sdk, server):
    server.enqueue(Reply(error_event={"type": "error", "error": {
        "type": "server_error", "code": "server_error", "message": "Boom"}}))
    with pytest.raises(openai.APIError, match="Boom"):
        list(sdk.responses.create(model=MODEL, input="x", stream=True))
    server.enqueue(Reply(outcome="incomplete"))
    events = list(sdk.responses.create(model=MODEL, input="x", stream=True))
    assert events[-1].type == "response.incomplete"
    assert events[-1].response.incomplete_details.reason == "max_output_tokens"


# -- random TCP read splits ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def wire() -> Iterator[tuple[Server, FaultProxy, chatmini.Client]]:
    with Server() as server, FaultProxy(server.url) as proxy:
        client = chatmini.Client(api_key=SECRET_KEY, base_url=proxy.base_url, max_retries=0,
                                 timeout=(5, 5), load_entry_points=False)
        yield server, proxy, client
        client.close()


ON_SOCKETS = settings(max_examples=30, deadline=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture])
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@ON_SOCKETS
@given(content=text, arguments=text, reasoning=text | st.none(), with_done=st.booleans(),
       null_output=st.booleans(), size=st.integers(1, 97))
def test_any_split_of_the_wire_gives_the_same_response(
        wire, content, arguments, reasoning, with_done, null_output, size):
    server, proxy, client = wire
    reply = Reply(content=content, tool_calls=[{"name": "f", "arguments": arguments}],
                  reasoning=reasoning, with_done=with_done, null_output=null_output)
    server.enqueue(reply)
    proxy.enqueue(Fault("drip", after_headers=True, size=size, interval=0))  # piece by piece
    with client.responses.create(model=MODEL, input="x", stream=True) as stream:
        texts = list(stream.text_deltas())
        final = stream.get_final_response()
    assert stream.completed and "".join(texts) == content == final.output_text
    assert final.to_dict()["output"] == server.responses.get(final.id).response["output"]
    assert final.output[-1].arguments == arguments


@ON_SOCKETS
@given(pieces=st.lists(text, max_size=8), done=st.booleans(), size=st.integers(1, 64))
def test_arguments_from_deltas_equal_the_done_arguments(wire, pieces, done, size):
    server, proxy, client = wire
    whole = "".join(pieces)
    events = [CREATED, {"type": "response.output_item.added", "output_index": 0, "item": {
        "id": "fc_1", "type": "function_call", "call_id": "c", "name": "f", "arguments": ""}}]
    events += [{"type": "response.function_call_arguments.delta", "item_id": "fc_1",
                "output_index": 0, "delta": piece, "obfuscation": "pad"} for piece in pieces]
    if done:
        events.append({"type": "response.function_call_arguments.done", "item_id": "fc_1",
                       "output_index": 0, "arguments": whole})
    events.append({"type": "response.completed", "response": response(output=None)})
    server.enqueue(Reply(raw_stream=sse(*events)))
    proxy.enqueue(Fault("drip", after_headers=True, size=size, interval=0))
    final = client.responses.create(model=MODEL, input="x", stream=True).get_final_response()
    assert final.output[0].arguments == whole and final.output[0].name == "f"


def test_the_client_still_works_after_the_splitting(wire):
    _, _, client = wire
    assert client.responses.create(model=MODEL, input="ok").output_text == "echo: ok"


# -- hostile streams -----------------------------------------------------------------------------

TYPES = ["response.created", "response.output_text.delta", "response.output_text.done",
         "response.function_call_arguments.delta", "response.function_call_arguments.done",
         "response.reasoning_summary_text.delta", "response.output_item.added",
         "response.output_item.done", "response.refusal.delta", "response.completed",
         "response.incomplete", "response.failed", "error", "response.new.delta", None]
values = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 3) | st.text(max_size=5) | st.just(SECRET_KEY),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["type", "text", "content", "arguments", "summary", "output", "error",
                         "message", "code", "id"]), inner, max_size=4),
    max_leaves=12)
events = st.fixed_dictionaries({"type": st.sampled_from(TYPES)}, optional={
    "delta": values, "output_index": values, "content_index": values, "summary_index": values,
    "item": values, "response": values, "text": values, "arguments": values, "error": values,
    "sequence_number": values, "code": values, "message": values})


@ON_SOCKETS
@given(sent=st.lists(events, max_size=10), tail=st.sampled_from([b"", b"data: [DONE]\n\n",
                                                                 b"data: {", b"event: error\n"]))
def test_any_events_end_in_events_or_a_chatmini_error(wire, sent, tail):
    server, _, client = wire
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in sent).encode() + tail
    server.enqueue(Reply(raw_stream=body))
    stream = client.responses.create(model=MODEL, input="x", stream=True)
    try:
        for event in stream:
            assert isinstance(event, chatmini.ResponseStreamEvent)
        final = stream.get_final_response()
        assert isinstance(final.output_text, str) and isinstance(final.output, list)
    except chatmini.ChatminiError as exc:
        assert SECRET_KEY not in str(exc)
    assert isinstance(stream.output_text, str)
