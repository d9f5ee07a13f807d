"""Whole (non-streamed) answers whose shape is wrong end in APIResponseValidationError naming the
field, before the caller reads them: ``reply.choices[0].message.content``,
``reply.choices[0].message.tool_calls[0].function.name``, ``.data[0].embedding``,
``response.output[0].content[0].text`` never raise AttributeError, TypeError or KeyError.
Deviations real servers make still read. Over real sockets against the embedded server."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chatmini
from chatmini.testing import Reply, Server

from .conftest import HI, SECRET_KEY


def message(**fields: Any) -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", **fields},
                         "finish_reason": "stop"}]}


def chat(client: chatmini.Client) -> Any:
    return client.chat.completions.create(model="m", messages=HI)


WRONG_CHAT = {
    "choices an object": ({"choices": {"0": {}}}, "choices is an object, not an array"),
    "choices missing": ({"id": "c1"}, "choices is missing"),
    "a choice a string": ({"choices": ["hi"]}, r"choices\[0\] is a string, not an object"),
    "index a string": ({"choices": [{"index": "0", "message": {}}]},
                       r"choices\[0\]\.index is a string, not an integer"),
    "message an array": ({"choices": [{"index": 0, "message": ["hi"]}]},
                         r"choices\[0\]\.message is an array, not an object"),
    "content a number": (message(content=5),
                         r"choices\[0\]\.message\.content is a number, not a string"),
    "tool_calls an object": (message(tool_calls={"0": {}}),
                             r"message\.tool_calls is an object, not an array"),
    "a tool call's function a string": (message(tool_calls=[{"id": "t", "function": "f"}]),
                                        r"tool_calls\[0\]\.function is a string, not an object"),
    "a tool call's arguments a number": (
        message(tool_calls=[{"id": "t", "type": "function",
                             "function": {"name": "f", "arguments": 5}}]),
        r"tool_calls\[0\]\.function\.arguments is a number, not a string"),
    "usage a string": ({**message(content="hi"), "usage": "lots"},
                       "usage is a string, not an object"),
}


@pytest.mark.parametrize("case", WRONG_CHAT)
def test_a_chat_answer_of_the_wrong_shape_is_a_validation_error(client, server, case):
    body, match = WRONG_CHAT[case]
    server.enqueue(Reply(body=body))
    with pytest.raises(chatmini.APIResponseValidationError, match=match) as caught:
        chat(client)
    assert "/chat/completions has the wrong shape" in str(caught.value)


def test_tolerated_deviations_still_read(client, server):
    server.enqueue(Reply(body={"choices": [{"index": 0, "finish_reason": "stop"}]}),
                   Reply(body={"choices": []}),
                   Reply(body=message(content=[{"type": "text", "text": "parts"}])),
                   Reply(body=message(content=None, refusal="no", extra={"x": 1})))
    assert chat(client).choices[0].message.content is None  # no message: an empty one
    assert chat(client).choices == []
    assert chat(client).choices[0].message.content[0].text == "parts"
    assert chat(client).choices[0].message.refusal == "no"


WRONG_OTHERS: dict[str, tuple[Callable[[chatmini.Client], Any], Any, str]] = {
    "completion text a list": (
        lambda c: c.completions.create(model="m", prompt="x"),
        {"choices": [{"index": 0, "text": ["a"]}]}, r"choices\[0\]\.text is an array"),
    "embeddings data an object": (
        lambda c: c.embeddings.create(model="e", input="x"),
        {"data": {"embedding": []}}, "data is an object, not an array"),
    "an embedding a number": (
        lambda c: c.embeddings.create(model="e", input="x", encoding_format="float"),
        {"data": [{"index": 0, "embedding": 0.5}]}, r"data\[0\]\.embedding is a number"),
    "responses output an object": (
        lambda c: c.responses.create(model="m", input="x"),
        {"object": "response", "output": {"0": {}}}, "output is an object, not an array"),
    "a responses content part a string": (
        lambda c: c.responses.create(model="m", input="x"),
        {"object": "response", "output": [{"type": "message", "content": ["hi"]}]},
        r"output\[0\]\.content\[0\] is a string, not an object"),
}


@pytest.mark.parametrize("case", WRONG_OTHERS)
def test_other_answers_of_the_wrong_shape_are_validation_errors(client, server, case):
    call, body, match = WRONG_OTHERS[case]
    server.enqueue(Reply(body=body))
    with pytest.raises(chatmini.APIResponseValidationError, match=match):
        call(client)


# -- any shape -----------------------------------------------------------------------------------

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=3),
                    lambda inner: st.lists(inner, max_size=2)
                    | st.dictionaries(st.text(max_size=2), inner, max_size=2), max_leaves=4)


def maybe(value: Any) -> Any:
    """Mostly the right shape, sometimes anything."""
    return st.integers(0, 3).flatmap(lambda n: JSON if n == 0 else value)


TOOL_CALL = st.fixed_dictionaries({}, optional={
    "id": maybe(st.text(max_size=3)), "type": maybe(st.just("function")),
    "function": maybe(st.fixed_dictionaries({}, optional={
        "name": maybe(st.text(max_size=3)), "arguments": maybe(st.text(max_size=5))})),
})
MESSAGE = st.fixed_dictionaries({}, optional={
    "role": maybe(st.just("assistant")), "content": maybe(st.text(max_size=5)),
    "refusal": maybe(st.text(max_size=3)), "tool_calls": maybe(st.lists(maybe(TOOL_CALL),
                                                                          max_size=2)),
})
CHOICE = st.fixed_dictionaries({}, optional={
    "index": maybe(st.integers(0, 1)), "message": maybe(MESSAGE),
    "finish_reason": maybe(st.sampled_from(["stop", "length", None])),
})
ANSWER = st.fixed_dictionaries({}, optional={
    "id": JSON, "choices": maybe(st.lists(maybe(CHOICE), max_size=2)),
    "usage": maybe(st.none() | st.fixed_dictionaries({"total_tokens": maybe(st.integers(0))})),
})


def read_everything(reply: Any) -> list[Any]:
    """What ported code reads of a chat answer."""
    seen: list[Any] = []
    for choice in reply.choices:
        message = choice.message
        seen += [message.content, message.refusal, choice.finish_reason, choice.index]
        for call in message.tool_calls or ():
            function = call.function
            seen += [call.id, function and function.name, function and function.arguments]
    if reply.usage is not None:
        seen.append(reply.usage.total_tokens)
    return seen


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[Server, chatmini.Client]]:
    with Server() as srv, chatmini.Client(api_key=SECRET_KEY, base_url=srv.base_url,
                                          max_retries=0, timeout=(2, 5)) as client:
        yield srv, client


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answer=ANSWER)
def test_any_answer_shape_reads_or_is_a_validation_error(shared, answer):
    srv, client = shared
    srv.enqueue(Reply(body=answer))
    try:
        reply = chat(client)
    except chatmini.APIResponseValidationError:
        return
    assert len(read_everything(reply)) >= 4 * len(reply.choices)
