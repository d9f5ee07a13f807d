"""client.chat.completions.stream(): openai-python's event helper, checked event for event
against the official SDK's on the same streams."""

from __future__ import annotations

import json

import pytest

import chatmini
from chatmini.testing import Reply

from .conftest import HI

pytestmark = pytest.mark.framings  # every test here runs on both stream framings of the server

FIELDS = ("delta", "snapshot", "content", "refusal", "name", "index", "arguments",
          "arguments_delta", "parsed_arguments")


def chunk(delta, finish=None, logprobs=None):
    return {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish,
                         "logprobs": logprobs}]}


def sse(*chunks):
    return b"".join(b"data: %s\n\n" % json.dumps(c).encode() for c in chunks) + b"data: [DONE]\n\n"


def token(text):
    return {"token": text, "bytes": list(text.encode()), "logprob": -0.5, "top_logprobs": []}


STREAMS = {
    "text": None,  # the server's own stream
    "refusal": sse(chunk({"role": "assistant", "refusal": ""}), chunk({"refusal": "I can't"}),
                   chunk({"refusal": " help."}), chunk({}, "stop")),
    "tools": sse(
        chunk({"role": "assistant", "content": "Let me see.", "tool_calls": [
            {"index": 0, "id": "a", "type": "function",
             "function": {"name": "add", "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{\"x\": 1}"}}]}),
        chunk({"tool_calls": [{"index": 1, "id": "b", "type": "function",
                               "function": {"name": "neg", "arguments": "{\"y\""}}]}),
        chunk({"tool_calls": [{"index": 1, "function": {"arguments": ": 2}"}}]}),
        chunk({}, "tool_calls")),
    "logprobs": sse(chunk({"role": "assistant", "content": "a"}, None,
                          {"content": [token("a")], "refusal": None}),
                    chunk({"content": "b"}, None, {"content": [token("b")], "refusal": None}),
                    chunk({}, "stop")),
}
TOOLS = [{"type": "function", "function": {"name": "add", "strict": True,
                                           "parameters": {"type": "object"}}},
         {"type": "function", "function": {"name": "neg", "parameters": {"type": "object"}}}]


def described(events):
    """Each event as its type and plain field values, whichever SDK made it."""
    out = []
    for event in events:
        fields = {}
        for name in FIELDS:
            if event.type == "chunk":
                break  # its snapshot: openai-python's is one object updated in place
            try:
                value = getattr(event, name)
            except AttributeError:
                continue
            if event.type.startswith("logprobs") and name in ("content", "refusal", "snapshot"):
                value = [getattr(t, "token", None) or t["token"] for t in value or []]
            fields[name] = value
        out.append((event.type, fields))
    return out


def run(make_stream, server, raw):
    if raw is not None:
        server.enqueue(Reply(raw_stream=raw))
    with make_stream(model="m", messages=HI, tools=TOOLS) as stream:
        events = described(stream)
        final = stream.get_final_completion()
    return events, final


@pytest.mark.parametrize("name", STREAMS)
def test_events_match_the_official_sdk(client, server, name):
    openai = pytest.importorskip("openai")
    sdk = openai.OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0)
    theirs, their_final = run(sdk.chat.completions.stream, server, STREAMS[name])
    ours, our_final = run(client.chat.completions.stream, server, STREAMS[name])
    assert [e[0] for e in ours] == [e[0] for e in theirs]
    assert ours == theirs
    ours_message, their_message = our_final.choices[0].message, their_final.choices[0].message
    assert ours_message.content == their_message.content
    assert ours_message.refusal == their_message.refusal
    assert [c.function.arguments for c in ours_message.tool_calls or []] == [
        c.function.arguments for c in their_message.tool_calls or []]


def test_the_request_is_sent_on_entering(client, server):
    manager = client.chat.completions.stream(model="m", messages=HI, temperature=0)
    assert server.requests == []
    with manager as stream:
        assert isinstance(stream, chatmini.ChatCompletionStream)
        first = next(iter(stream))
        assert first.type == "chunk" and first.chunk.choices[0].delta.role == "assistant"
        stream.until_done()
        assert stream.current_completion_snapshot.choices[0].message.content == "echo: hi"
    assert server.requests[0].json == {"model": "m", "messages": HI, "stream": True,
                                       "temperature": 0}
    assert stream.stream.completed


def test_a_cut_stream_raises_through_the_helper(client, server):
    server.enqueue(Reply(cut_after=2))
    with pytest.raises(chatmini.IncompleteStreamError):
        with client.chat.completions.stream(model="m", messages=[
                {"role": "user", "content": "a b c d"}]) as stream:
            for _ in stream:
                pass


def test_a_class_that_is_no_format_is_refused_clearly(client, server):
    class Answer:
        pass

    with pytest.raises(chatmini.InvalidRequestError,
                       match="must be a pydantic model, a dataclass or a TypedDict"):
        client.chat.completions.stream(model="m", messages=HI, response_format=Answer)
    with pytest.raises(chatmini.InvalidRequestError, match="always streams"):
        client.chat.completions.stream(model="m", messages=HI, stream=False)
