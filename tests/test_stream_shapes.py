"""Streamed chunks and events whose shape is wrong end in APIResponseValidationError naming the
field, whatever reads them (a ported loop reading ``chunk.choices[0].delta.content``,
``text_deltas()``, ``ask_stream``, the event helper, the tool loop, ``chatmini chat``); never in
an AttributeError or TypeError. Empty ``data:`` lines are skipped like keep-alive comments.
Over real sockets against the embedded server (``Reply(raw_stream=...)``)."""

from __future__ import annotations

import json
from typing import Any, Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chatmini
from chatmini import cli
from chatmini.testing import Reply, Server

from .conftest import HI, SECRET_KEY

DONE = b"data: [DONE]\n\n"


def event(payload: Any, name: str = "") -> bytes:
    head = f"event: {name}\n".encode() if name else b""
    return head + b"data: " + json.dumps(payload).encode() + b"\n\n"


def choice(content: str = "hi", **extra: Any) -> dict[str, Any]:
    return {"index": 0, "delta": {"content": content}, **extra}


def chunk(*choices: Any, **extra: Any) -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion.chunk", "choices": list(choices), **extra}


FINISH = chunk({"index": 0, "delta": {}, "finish_reason": "stop"})


def chat_stream(client: chatmini.Client, **kw: Any) -> chatmini.Stream:
    return client.chat.completions.create(model="m", messages=HI, stream=True, **kw)


# -- empty data lines ----------------------------------------------------------------------------

EMPTY_DATA = [b"data:\n\n", b"data: \n\n", b"data:\r\n\r\n", b"data:\n:comment\n\n"]


@pytest.mark.parametrize("empty", EMPTY_DATA, ids=repr)
def test_empty_data_lines_are_skipped_in_chat_streams(client, server, empty):
    body = empty + event(chunk(choice("he"))) + empty + event(chunk(choice("llo"))) + empty
    server.enqueue(Reply(raw_stream=body + event(FINISH) + empty + DONE))
    s = chat_stream(client)
    assert "".join(s.text_deltas()) == "hello" and s.completed
    assert s.chunk_count == 3


@pytest.mark.parametrize("empty", EMPTY_DATA, ids=repr)
def test_empty_data_lines_are_skipped_in_legacy_completion_streams(client, server, empty):
    text = {"choices": [{"index": 0, "text": "hello", "finish_reason": "stop"}]}
    server.enqueue(Reply(raw_stream=empty + event(text) + empty + DONE))
    s = client.completions.create(model="m", prompt="x", stream=True)
    assert "".join(s.text_deltas()) == "hello" and s.completed


def test_an_error_event_without_data_is_still_an_error(client, server):
    server.enqueue(Reply(raw_stream=event(chunk(choice("he"))) + b"event: error\ndata:\n\n"))
    with pytest.raises(chatmini.APIError):
        list(chat_stream(client))


# -- chat chunks of the wrong shape --------------------------------------------------------------

BAD_CHUNKS = {
    "choices an object": ({"choices": {"0": choice()}}, "choices is an object, not an array"),
    "choices a string": ({"choices": "hi"}, "choices is a string"),
    "a choice a number": (chunk(1), r"choices\[0\] is a number, not an object"),
    "a choice an array": (chunk([choice()]), r"choices\[0\] is an array"),
    "delta a string": (chunk({"index": 0, "delta": "hi"}), r"choices\[0\]\.delta is a string"),
    "delta an array": (chunk({"index": 0, "delta": ["hi"]}), r"delta is an array"),
    "index a string": (chunk(choice(index="0")), r"choices\[0\]\.index is a string"),
    "index a boolean": (chunk(choice(index=True)), r"index is a boolean, not an integer"),
    "index a float": (chunk(choice(index=0.0)), r"index is a number, not an integer"),
    "content a number": (chunk({"index": 0, "delta": {"content": 5}}),
                         r"delta\.content is a number, not a string"),
    "content an object": (chunk({"index": 0, "delta": {"content": {"t": "x"}, "role": "a"}}),
                          r"delta\.content is an object"),
    "tool_calls an object": (chunk({"index": 0, "delta": {"tool_calls": {"index": 0}}}),
                             r"delta\.tool_calls is an object, not an array"),
    "a tool call a string": (chunk({"index": 0, "delta": {"tool_calls": ["f"]}}),
                             r"tool_calls\[0\] is a string, not an object"),
    "a tool call's function a string": (
        chunk({"index": 0, "delta": {"tool_calls": [{"index": 0, "function": "f"}]}}),
        r"tool_calls\[0\]\.function is a string"),
    "a tool call's index a string": (
        chunk({"index": 0, "delta": {"tool_calls": [{"index": "1", "function": {}}]}}),
        r"tool_calls\[0\]\.index is a string"),
    "a tool call's arguments a number": (
        chunk({"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {
            "arguments": 5}}]}}), r"tool_calls\[0\]\.function\.arguments is a number"),
    "a tool call's name an object": (
        chunk({"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {
            "name": {}}}]}}), r"tool_calls\[0\]\.function\.name is an object"),
    "logprobs an array": (chunk(choice(logprobs=[1])), r"logprobs is an array"),
    "usage a number": (chunk(usage=12), "usage is a number, not an object"),
    "the second choice broken": (chunk(choice(), {"index": 1, "delta": 7}),
                                 r"choices\[1\]\.delta is a number"),
}


def read_like_ported_code(s: chatmini.Stream) -> str:
    """What openai-python code does with each chunk."""
    out = []
    for c in s:
        if c.choices:
            out.append(c.choices[0].delta.content or "")
            for call in c.choices[0].delta.tool_calls or ():
                out.append((call.function.arguments or "") if call.function else "")
            if c.choices[0].logprobs is not None:
                out.append(str(c.choices[0].logprobs.content))
        if c.usage is not None:
            out.append(str(c.usage.total_tokens))
    return "".join(out)


READERS: dict[str, Callable[[chatmini.Client], Any]] = {
    "chunk.choices[0].delta.content": lambda c: read_like_ported_code(chat_stream(c)),
    "text_deltas()": lambda c: "".join(chat_stream(c).text_deltas()),
    "get_final_completion()": lambda c: chat_stream(c).get_final_completion(),
    "ask_stream": lambda c: "".join(chatmini.ask_stream("hi", client=c, model="m")),
    "the event helper": lambda c: _helper(c),
    "the tool loop": lambda c: "".join(c.chat.completions.run_tools(
        model="m", messages=HI, tools=[_weather], stream=True).text_deltas()),
}


def _weather(city: str) -> str:
    """The weather in a city."""
    return "sunny"


def _helper(client: chatmini.Client) -> Any:
    with client.chat.completions.stream(model="m", messages=HI) as s:
        for e in s:
            if e.type == "content.delta":
                assert isinstance(e.delta, str) and isinstance(e.snapshot, str)
        return s.get_final_completion()


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("case", BAD_CHUNKS)
def test_a_chat_chunk_of_the_wrong_shape_is_a_validation_error(client, server, case, reader):
    bad, message = BAD_CHUNKS[case]
    server.enqueue(Reply(raw_stream=event(chunk(choice("he"))) + event(bad) + event(FINISH)
                         + DONE))
    with pytest.raises(chatmini.APIResponseValidationError, match=message) as info:
        READERS[reader](client)
    assert "wrong shape" in str(info.value) and info.value.status_code == 200


def test_chatmini_chat_reports_a_wrong_shape_in_one_line(server, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET_KEY)
    server.enqueue(Reply(raw_stream=event(chunk(choice("he"))) + event(chunk(7)) + DONE))
    assert cli.main(["chat", "hi", "--no-log"]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("he")
    assert "wrong shape" in err and "Traceback" not in err and SECRET_KEY not in err


def test_a_choice_without_delta_reads_as_an_empty_delta(client, server):
    """Azure's asynchronous content filter sends choices with annotations and no delta."""
    annotations = chunk({"index": 0, "finish_reason": None,
                         "content_filter_results": {"hate": {"filtered": False}}})
    server.enqueue(Reply(raw_stream=event(chunk(choice("he"))) + event(annotations)
                         + event(FINISH) + DONE))
    chunks = list(chat_stream(client))
    assert chunks[1].choices[0].delta.content is None
    assert chunks[1].choices[0].content_filter_results["hate"]["filtered"] is False


def test_tolerated_deviations_still_read(client, server):
    """Shapes real servers send (WIRE.md) are not errors: null content and role, a usage chunk
    with an empty delta, no index, no choices, llama.cpp's timings, extra fields."""
    body = (event(chunk({"index": 0, "delta": {"role": "assistant", "content": None}}))
            + event(chunk({"delta": {"content": "he", "role": None}}, timings={"n": 1}))
            + event(chunk({"index": 0, "delta": {"content": "llo"}, "logprobs": None,
                           "finish_reason": None}))
            + event(FINISH)
            + event(chunk({"index": 0, "delta": {}}, usage={"total_tokens": 3}))
            + event({"id": "x", "usage": {"total_tokens": 3}})
            + event(chunk(usage=None, choices=None)) + DONE)
    server.enqueue(Reply(raw_stream=body))
    s = chat_stream(client)
    assert read_like_ported_code(s) == "hello33" and s.completed


# -- legacy completions --------------------------------------------------------------------------

BAD_TEXT_CHUNKS = {
    "choices an object": ({"choices": {"text": "x"}}, "choices is an object"),
    "a choice a string": ({"choices": ["x"]}, r"choices\[0\] is a string"),
    "text a number": ({"choices": [{"index": 0, "text": 5}]}, r"choices\[0\]\.text is a number"),
    "index a string": ({"choices": [{"index": "0", "text": "x"}]}, r"index is a string"),
    "usage an array": ({"choices": [], "usage": [1]}, "usage is an array"),
}


@pytest.mark.parametrize("case", BAD_TEXT_CHUNKS)
def test_a_completion_chunk_of_the_wrong_shape_is_a_validation_error(client, server, case):
    bad, message = BAD_TEXT_CHUNKS[case]
    good = {"choices": [{"index": 0, "text": "he"}]}
    for read in (lambda s: [c.choices[0].text for c in s if c.choices],
                 lambda s: "".join(s.text_deltas()), lambda s: s.get_final_completion()):
        server.enqueue(Reply(raw_stream=event(good) + event(bad) + DONE))
        with pytest.raises(chatmini.APIResponseValidationError, match=message):
            read(client.completions.create(model="m", prompt="x", stream=True))


# -- Responses events ----------------------------------------------------------------------------


def r_event(payload: dict[str, Any]) -> bytes:
    kind = payload.get("type")
    return event(payload, kind if isinstance(kind, str) else "")  # no event: line otherwise


TEXT = {"type": "response.output_text.delta", "output_index": 0, "content_index": 0,
        "delta": "he", "sequence_number": 1}
BAD_EVENTS = {
    "a text delta a number": ({**TEXT, "delta": 5}, "delta is a number, not a string"),
    "a text delta missing": ({k: v for k, v in TEXT.items() if k != "delta"}, "delta is null"),
    "an arguments delta an object": (
        {**TEXT, "type": "response.function_call_arguments.delta", "delta": {"a": 1}},
        "delta is an object"),
    "output_index a string": ({**TEXT, "output_index": "0"}, "output_index is a string"),
    "content_index a float": ({**TEXT, "content_index": 0.5}, "content_index is a number"),
    "sequence_number a string": ({**TEXT, "sequence_number": "2"}, "sequence_number is a string"),
    "an item a string": ({"type": "response.output_item.added", "output_index": 0,
                          "item": "message"}, "item is a string"),
    "a part an array": ({"type": "response.content_part.added", "part": []}, "part is an array"),
    "a done text a number": ({"type": "response.output_text.done", "text": 3}, "text is a number"),
    "the final output an object": (
        {"type": "response.completed", "response": {"status": "completed", "output": {}}},
        "response.output is an object, not an array"),
    "the final usage a string": (
        {"type": "response.completed", "response": {"status": "completed", "output": [],
                                                    "usage": "12"}},
        "response.usage is a string"),
    "an event without a type": ({"sequence_number": 3, "output_index": 0}, "type is missing"),
    "a type that is a number": ({"type": 7}, "type is a number, not a string"),
    "a final item's content a string": (
        {"type": "response.completed", "response": {"status": "completed", "output": [
            {"type": "message", "content": "hi"}]}},
        r"response\.output\[0\]\.content is a string, not an array"),
}


@pytest.mark.parametrize("case", BAD_EVENTS)
def test_a_responses_event_of_the_wrong_shape_is_a_validation_error(client, server, case):
    bad, message = BAD_EVENTS[case]
    created = {"type": "response.created", "response": {"status": "in_progress", "output": []}}
    for read in (lambda s: [(e.type, e.delta, e.response) for e in s],
                 lambda s: "".join(s.text_deltas()), lambda s: s.get_final_response()):
        server.enqueue(Reply(raw_stream=r_event(created) + r_event(TEXT) + r_event(bad)))
        with pytest.raises(chatmini.APIResponseValidationError, match=message):
            read(client.responses.create(model="m", input="x", stream=True))


# -- any shape at all (hypothesis) ---------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False, width=16)
    | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                 max_size=3),
    max_leaves=8,
)


def maybe(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the right shape, sometimes anything."""
    return st.integers(0, 3).flatmap(lambda n: JSON if n == 0 else value)


TOOL_CALL = st.fixed_dictionaries({}, optional={
    "index": maybe(st.integers(0, 2)), "id": maybe(st.text(max_size=3)),
    "function": maybe(st.fixed_dictionaries({}, optional={
        "name": maybe(st.text(max_size=3)), "arguments": maybe(st.text(max_size=5))})),
})
DELTA = st.fixed_dictionaries({}, optional={
    "role": maybe(st.just("assistant")), "content": maybe(st.text(max_size=5)),
    "refusal": maybe(st.text(max_size=3)), "reasoning_content": maybe(st.text(max_size=3)),
    "tool_calls": maybe(st.lists(maybe(TOOL_CALL), max_size=2)),
})
CHOICE = st.fixed_dictionaries({}, optional={
    "index": maybe(st.integers(0, 1)), "delta": maybe(DELTA),
    "finish_reason": maybe(st.sampled_from(["stop", "length", "tool_calls", None])),
    "logprobs": maybe(st.none() | st.fixed_dictionaries({"content": maybe(st.lists(JSON))})),
})
CHUNK = st.fixed_dictionaries({}, optional={
    "id": JSON, "choices": maybe(st.lists(maybe(CHOICE), max_size=2)),
    "usage": maybe(st.none() | st.fixed_dictionaries({"total_tokens": maybe(st.integers(0))})),
})


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[Server, chatmini.Client]]:
    with Server() as srv, chatmini.Client(api_key=SECRET_KEY, base_url=srv.base_url,
                                          max_retries=0, timeout=(2, 5)) as client:
        yield srv, client


ALLOWED = (chatmini.APIResponseValidationError, chatmini.IncompleteStreamError)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chunks=st.lists(CHUNK, min_size=1, max_size=4), done=st.booleans(),
       reader=st.sampled_from(sorted(READERS)))
def test_any_chunk_shape_reads_or_is_a_chatmini_error(shared, chunks, done, reader):
    """Whatever the chunks are made of, every reader gets text, a completion, or one of the
    stream's chatmini errors; never AttributeError, TypeError, KeyError or IndexError."""
    srv, client = shared
    body = b"".join(event(c) for c in chunks) + (DONE if done else b"")
    srv.reset()
    srv.enqueue(Reply(raw_stream=body, repeat=True))  # the tool loop may ask again
    try:
        READERS[reader](client)
    except ALLOWED:
        pass
    except chatmini.ToolLoopError:  # the model kept asking for tools
        pass
