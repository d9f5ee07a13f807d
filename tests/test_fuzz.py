"""Property tests on input chatmini cannot trust: arbitrary chunks through the accumulator,
arbitrary error bodies and stream error payloads, arbitrary bytes as a whole stream over real
sockets, and valid streams split anywhere on the wire. Only chatmini's own exceptions may come
out, and no message may show the key. (Parser properties: tests/test_sse.py.)

The ``check_*`` functions are the properties; ``python -m tests.fuzz_long`` runs them longer.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chatmini
from chatmini.accumulate import ChunkAccumulator
from chatmini.errors import (
    APIError,
    APIStatusError,
    decode_error_body,
    error_message,
    status_error,
    stream_error,
)
from chatmini.request import Request
from chatmini.testing import Fault, FaultProxy, Reply, Server

from .conftest import HI, SECRET_KEY
from .test_sse import parse, reference_parse

KEY_HEAD = SECRET_KEY[:12]
REQUEST = Request("POST", "http://127.0.0.1:9/v1/chat/completions",
                  {"Authorization": f"Bearer {SECRET_KEY}"}, b"{}")
FIELDS = ["choices", "delta", "content", "index", "tool_calls", "function", "name", "arguments",
          "finish_reason", "logprobs", "usage", "id", "role", "refusal", "model", "created",
          "system_fingerprint", "type", "message", "error", "code", "param", "detail"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=12) | st.just(SECRET_KEY),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), inner, max_size=5),
    max_leaves=25,
)


# -- the properties ------------------------------------------------------------------------------


def check_chunks(values: list[Any]) -> None:
    """Any JSON values as chunks: the accumulator never raises and its result is JSON again."""
    acc = ChunkAccumulator()
    for value in values:
        acc.add(value)
        assert isinstance(acc.text, str)
    assert isinstance(acc.finished, bool)
    json.dumps(acc.result())


def check_error_body(status: int, content: bytes) -> None:
    """Any error body: the right APIStatusError, a readable message, no key (not even cut)."""
    decode_error_body(content)  # never raises, whatever the bytes
    response = requests.Response()
    response.status_code = status
    response._content = content
    error = status_error(response, REQUEST)
    assert isinstance(error, APIStatusError) and error.status_code == status
    assert error_message(error.body, status)
    assert_hidden(str(error), content)
    assert SECRET_KEY not in repr(error.body)


def check_stream_payload(payload: Any) -> None:
    """Any error payload inside a stream: an APIError with a message, no key."""
    error = stream_error(payload, REQUEST)
    assert isinstance(error, APIError)
    assert isinstance(error_message(payload, 200), str)
    assert_hidden(str(error), json.dumps(payload).encode())


def check_parser(body: bytes, cuts: list[int]) -> None:
    """Any bytes cut anywhere: the same events as in one piece, as the WHATWG algorithm says."""
    whole = parse(body)
    assert whole == reference_parse(body)
    points = sorted({c % (len(body) + 1) for c in cuts})
    assert parse(*[body[a:b] for a, b in zip([0, *points], [*points, len(body)])]) == whole


def check_stream_bytes(server: Server, client: chatmini.Client, body: bytes) -> None:
    """Any bytes as a whole streamed answer: chunks, or a chatmini error without the key."""
    server.enqueue(Reply(raw_stream=body))
    try:
        with client.chat.completions.create(model="m", messages=HI, stream=True) as stream:
            for chunk in stream:
                assert chunk.to_dict() is not None
    except chatmini.ChatminiError as exc:
        assert SECRET_KEY not in str(exc)


def assert_hidden(message: str, source: bytes) -> None:
    assert SECRET_KEY not in message
    if KEY_HEAD.encode() not in source.replace(SECRET_KEY.encode(), b""):
        assert KEY_HEAD not in message  # an excerpt never cuts through the key


def stream_chunks(pieces: list[str], args: list[str]) -> list[dict[str, Any]]:
    """A valid completion as chunks: content deltas, then one tool call's argument fragments."""
    def chunk(delta: dict[str, Any], finish: Any = None) -> dict[str, Any]:
        return {"id": "c1", "object": "chat.completion.chunk", "model": "m",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    call = {"index": 0, "id": "t1", "type": "function", "function": {"name": "f", "arguments": ""}}
    return [chunk({"role": "assistant", "content": ""}),
            *(chunk({"content": piece}) for piece in pieces),
            chunk({"tool_calls": [call]}),
            *(chunk({"tool_calls": [{"index": 0, "function": {"arguments": a}}]}) for a in args),
            chunk({}, "tool_calls")]


def sse_body(chunks: list[dict[str, Any]], eols: list[bytes]) -> bytes:
    """The chunks as an event stream ending in [DONE], line endings cycling through ``eols``,
    a comment before every third event."""
    out = []
    events = [json.dumps(c) for c in chunks] + ["[DONE]"]
    for i, event in enumerate(events):
        eol = eols[i % len(eols)]
        out.append(b": comment" + eol if i % 3 == 0 else b"")
        out.append(b"data: " + event.encode() + eol + eol)
    return b"".join(out)


# -- hypothesis over the pure layers --------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.lists(json_values, max_size=12))
def test_the_accumulator_takes_any_json(values):
    check_chunks(values)


@settings(max_examples=300, deadline=None)
@given(status=st.integers(400, 599),
       content=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode())
       | st.tuples(st.text(max_size=250), st.text(max_size=30)).map(
           lambda parts: (parts[0] + SECRET_KEY + parts[1]).encode()))
def test_any_error_body_gives_a_status_error_without_the_key(status, content):
    check_error_body(status, content)


@settings(max_examples=300, deadline=None)
@given(json_values | st.text(max_size=300).map(lambda t: t + " " + SECRET_KEY))
def test_any_stream_error_payload_gives_an_api_error_without_the_key(payload):
    check_stream_payload(payload)


@settings(max_examples=200, deadline=None)
@given(pieces=st.lists(st.text(max_size=8), max_size=12),
       args=st.lists(st.text(max_size=6), max_size=6),
       cuts=st.lists(st.integers(0, 100), max_size=8))
def test_tool_call_arguments_split_anywhere_merge_the_same(pieces, args, cuts):
    whole = "".join(args)
    points = sorted({c % (len(whole) + 1) for c in cuts})
    split = [whole[a:b] for a, b in zip([0, *points], [*points, len(whole)])]
    results = []
    for fragments in (args, split, [whole]):
        acc = ChunkAccumulator()
        for c in stream_chunks(pieces, fragments):
            acc.add(c)
        results.append(acc.result())
    assert results[0] == results[1] == results[2]
    assert results[0]["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == whole


# -- the whole Stream over real sockets -----------------------------------------------------------


@pytest.fixture(scope="module")
def wire() -> Iterator[tuple[Server, FaultProxy, chatmini.Client]]:
    with Server() as server, FaultProxy(server.url) as proxy:
        client = chatmini.Client(api_key=SECRET_KEY, base_url=proxy.base_url, max_retries=0,
                                 timeout=(5, 5), load_entry_points=False)  # module scope: the
        # autouse fixture that turns autoloading off has not run yet
        yield server, proxy, client
        client.close()


ON_SOCKETS = settings(max_examples=30, deadline=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture])


stream_bytes = st.binary(max_size=400) | st.lists(st.sampled_from(
    [b"data: ", b"data: {}", b"data: [DONE]", b'{"choices":[', b'"error"', b"event: error",
     b"\n", b"\r\n", b"\n\n", b"\xff", b"\x00", b":", b"]}"]), max_size=30).map(b"".join)


@ON_SOCKETS
@given(body=stream_bytes)
def test_any_bytes_as_a_stream_end_in_chunks_or_a_chatmini_error(wire, body):
    server, _, client = wire
    check_stream_bytes(server, client, body)


@ON_SOCKETS
@given(pieces=st.lists(st.text(max_size=8), max_size=10),
       args=st.lists(st.text(max_size=6), max_size=4),
       eols=st.lists(st.sampled_from([b"\n", b"\r\n", b"\r"]), min_size=1, max_size=3),
       size=st.integers(8, 96))
def test_valid_streams_cut_into_any_pieces_on_the_wire_give_the_same_completion(
        wire, pieces, args, eols, size):
    server, proxy, client = wire
    server.enqueue(Reply(raw_stream=sse_body(stream_chunks(pieces, args), eols)))
    proxy.enqueue(Fault("drip", after_headers=True, size=size, interval=0))  # piece by piece
    with client.chat.completions.create(model="m", messages=HI, stream=True) as stream:
        completion = stream.get_final_completion()
    message = completion.choices[0].message
    assert message.content == "".join(pieces)
    assert message.tool_calls[0].function.arguments == "".join(args)
    assert completion.choices[0].finish_reason == "tool_calls" and stream.completed


def test_the_client_still_works_after_the_fuzzing(wire):
    _, _, client = wire
    assert client.chat.completions.create(model="m", messages=HI).choices[0].message.content
