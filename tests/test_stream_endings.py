"""When a stream is whole: ``[DONE]`` (or a Responses terminal event) says so; a stream that ends
without it is whole only when every choice asked for (``n``) finished and the usage chunk came if
``include_usage`` asked for it. Real servers' normal endings (WIRE.md) stay successes. And the
final-answer methods never hand out part of an answer as if it were whole. Over real sockets
against the embedded server."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Callable

import pytest

import chatmini
from chatmini.testing import Fault, FaultProxy, Reply

from .conftest import HI, SECRET_KEY

pytestmark = pytest.mark.framings  # every test here runs on both stream framings of the server

DONE = b"data: [DONE]\n\n"
USAGE = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
INCLUDE_USAGE = {"stream_options": {"include_usage": True}}


def event(payload: Any) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def piece(text: str, index: int = 0, **extra: Any) -> bytes:
    return event({"choices": [{"index": index, "delta": {"content": text}, **extra}]})


def finish(index: int = 0) -> bytes:
    return event({"choices": [{"index": index, "delta": {}, "finish_reason": "stop"}]})


def usage_chunk(choices: Any = ()) -> bytes:
    return event({"choices": list(choices), "usage": USAGE})


def chat(client: chatmini.Client, **kw: Any) -> chatmini.Stream:
    return client.chat.completions.create(model="m", messages=HI, stream=True, **kw)


# -- without [DONE] ------------------------------------------------------------------------------

TRUNCATED = {
    "cut after the finish chunk, before the usage chunk asked for": (
        piece("hi") + finish(), INCLUDE_USAGE, "include_usage asks for never arrived"),
    "n=2, cut before choice 1 appeared": (
        piece("hi") + finish(), {"n": 2}, "choice 1 of n=2 never arrived"),
    "n=2, choice 1 unfinished": (
        piece("hi") + piece("yo", 1) + finish(), {"n": 2}, "choice 1 has no finish_reason"),
    "n=3 and usage, only choice 0": (
        piece("hi") + finish() + usage_chunk(), {"n": 3, **INCLUDE_USAGE},
        "choice 1 of n=3 never arrived"),
}


@pytest.mark.parametrize("case", TRUNCATED)
def test_a_stream_cut_before_what_was_asked_for_is_a_truncation(client, server, case):
    body, params, why = TRUNCATED[case]
    server.enqueue(Reply(raw_stream=body))
    s = chat(client, **params)
    with pytest.raises(chatmini.IncompleteStreamError, match=why) as info:
        list(s)
    assert "before [DONE]" in str(info.value) and info.value.partial_text == "hi"
    assert not s.completed


COMPLETE_WITHOUT_DONE = {
    "one choice finished": (piece("hi") + finish(), {}),
    "usage asked for and received": (piece("hi") + finish() + usage_chunk(), INCLUDE_USAGE),
    "n=2, both finished": (piece("hi") + piece("yo", 1) + finish(1) + finish(0), {"n": 2}),
    "usage sent unasked": (piece("hi") + finish() + usage_chunk(), {}),
    "LiteLLM's usage chunk (a choice with an empty delta)": (
        piece("hi") + finish() + usage_chunk([{"index": 0, "delta": {}}]), INCLUDE_USAGE),
}


@pytest.mark.parametrize("case", COMPLETE_WITHOUT_DONE)
def test_a_stream_without_done_that_lacks_nothing_is_accepted(client, server, case):
    body, params = COMPLETE_WITHOUT_DONE[case]
    server.enqueue(Reply(raw_stream=body))
    s = chat(client, **params)
    assert "".join(s.text_deltas()).startswith("hi")
    assert not s.completed  # [DONE] never came
    assert s.get_final_completion().choices[0].finish_reason == "stop"


# -- with [DONE] (real servers' deviations, WIRE.md) ----------------------------------------------

WITH_DONE = {
    # llama.cpp ignores include_usage; an in-flight stream cut by a new request ends with
    # [DONE] but no finish_reason
    "llama.cpp: no usage, no finish_reason": (piece("hi") + DONE, INCLUDE_USAGE, None),
    "TGI ignores include_usage": (piece("hi") + finish() + DONE, INCLUDE_USAGE, None),
    "n=2 but one choice came": (piece("hi") + finish() + DONE, {"n": 2}, None),
    "LiteLLM: no finish_reason key, usage in a choice with an empty delta": (
        piece("hi") + finish() + usage_chunk([{"index": 0, "delta": {}}]) + DONE,
        INCLUDE_USAGE, 3),
}


@pytest.mark.parametrize("case", WITH_DONE)
def test_done_always_says_the_stream_is_complete(client, server, case):
    body, params, total = WITH_DONE[case]
    server.enqueue(Reply(raw_stream=body))
    s = chat(client, **params)
    assert "".join(s.text_deltas()) == "hi" and s.completed
    final = s.get_final_completion()
    assert (final.usage.total_tokens if final.usage else None) == total


def test_the_embedded_servers_own_streams_are_complete(client, server):
    for params in ({}, INCLUDE_USAGE, {"n": 2, **INCLUDE_USAGE}):
        s = chat(client, **params)
        assert "".join(s.text_deltas()) == "echo: hi" and s.completed


def test_legacy_completions_follow_the_same_rules(client, server):
    text = event({"choices": [{"index": 0, "text": "hi", "finish_reason": "stop"}]})
    server.enqueue(Reply(raw_stream=text), Reply(raw_stream=text), Reply(raw_stream=text))
    with pytest.raises(chatmini.IncompleteStreamError, match="choice 1 of n=2 never arrived"):
        list(client.completions.create(model="m", prompt="x", stream=True, n=2))
    with pytest.raises(chatmini.IncompleteStreamError, match="include_usage"):
        list(client.completions.create(model="m", prompt="x", stream=True, **INCLUDE_USAGE))
    s = client.completions.create(model="m", prompt="x", stream=True)
    assert "".join(s.text_deltas()) == "hi"


# -- the final answer after a failure ------------------------------------------------------------

CUT = piece("par") + piece("tial")  # no finish_reason, no [DONE]: a truncation at the end


FINALS: dict[str, Callable[[chatmini.Client], tuple[Any, Callable[[], Any]]]] = {
    "Stream.get_final_completion": lambda c: (lambda s: (s, s.get_final_completion))(chat(c)),
    "CompletionStream.get_final_completion": lambda c: (
        lambda s: (s, s.get_final_completion))(
        c.completions.create(model="m", prompt="x", stream=True)),
    "ParsedStream.get_final_completion": lambda c: (lambda s: (s, s.get_final_completion))(
        chat(c, response_format=_Answer)),
    "the event helper's get_final_completion": lambda c: _helper(c, "get_final_completion"),
    "the event helper's until_done": lambda c: _helper(c, "until_done"),
    "ResponseStream.get_final_response": lambda c: (lambda s: (s, s.get_final_response))(
        c.responses.create(model="m", input="x", stream=True)),
    "ResponseStream.until_done": lambda c: (lambda s: (s, s.until_done))(
        c.responses.create(model="m", input="x", stream=True)),
}


@dataclasses.dataclass
class _Answer:
    text: str


def _helper(client: chatmini.Client, method: str) -> tuple[Any, Callable[[], Any]]:
    helper = client.chat.completions.stream(model="m", messages=HI).__enter__()
    return helper, getattr(helper, method)


RESPONSES_CUT = (b'event: response.created\ndata: {"type": "response.created", "response": '
                 b'{"status": "in_progress", "output": []}}\n\n'
                 b'event: response.output_text.delta\ndata: {"type": '
                 b'"response.output_text.delta", "output_index": 0, "content_index": 0, '
                 b'"delta": "partial"}\n\n')
TEXT_CUT = event({"choices": [{"index": 0, "text": "partial"}]})


def cut_body(final: str) -> bytes:
    return RESPONSES_CUT if "Response" in final else TEXT_CUT if "Completion" in final else CUT


@pytest.mark.parametrize("final", FINALS)
def test_the_final_answer_after_a_truncation_raises_it_again(client, server, final):
    server.enqueue(Reply(raw_stream=cut_body(final)))
    stream, get_final = FINALS[final](client)
    with pytest.raises(chatmini.IncompleteStreamError) as first:
        for _ in stream:
            pass
    for _ in range(2):  # every time, never the partial text as an answer
        with pytest.raises(chatmini.IncompleteStreamError) as again:
            get_final()
        assert again.value is first.value
    assert first.value.partial_text == "partial"


@pytest.mark.parametrize("final", FINALS)
def test_the_final_answer_of_a_stream_cut_while_draining_raises(client, server, final):
    server.enqueue(Reply(raw_stream=cut_body(final)))
    stream, get_final = FINALS[final](client)
    with pytest.raises(chatmini.IncompleteStreamError, match="before"):
        get_final()


@pytest.mark.parametrize("final", FINALS)
def test_the_final_answer_of_a_stream_closed_early_is_not_partial(client, server, final):
    stream, get_final = FINALS[final](client)
    next(iter(stream))
    stream.close()
    with pytest.raises(chatmini.IncompleteStreamError, match="closed before"):
        get_final()


def test_a_validation_error_is_raised_again_too(client, server):
    server.enqueue(Reply(raw_stream=piece("hi") + event({"choices": 5}) + DONE))
    s = chat(client)
    with pytest.raises(chatmini.APIResponseValidationError) as first:
        list(s)
    with pytest.raises(chatmini.APIResponseValidationError) as again:
        s.get_final_completion()
    assert again.value is first.value
    assert s.current_completion_snapshot.choices[0].message.content == "hi"  # what arrived


def test_a_connection_reset_mid_stream_is_raised_again(make_client, server):
    with FaultProxy(server.base_url) as proxy:
        proxy.enqueue(Fault("reset", after=300, after_headers=True))
        client = make_client(base_url=proxy.base_url, api_key=SECRET_KEY)
        server.enqueue(Reply(content="many words " * 200))
        s = chat(client)
        with pytest.raises(chatmini.IncompleteStreamError) as first:
            list(s)
        with pytest.raises(chatmini.IncompleteStreamError) as again:
            s.get_final_completion()
        assert again.value is first.value and first.value.chunk_count >= 1
