"""Streams over real sockets: chunks, final completion, first-token latency, honest failure, pool."""

from __future__ import annotations

import gc
import os
import time

import pytest

import chatmini
from chatmini.testing import Reply

from .conftest import HI

pytestmark = pytest.mark.framings  # every test here runs on both stream framings of the server


def stream(client, **kw):
    return client.chat.completions.create(model="m", messages=HI, stream=True, **kw)


def test_stream_yields_chunks_and_final_completion(client, server):
    s = stream(client, stream_options={"include_usage": True})
    assert isinstance(s, chatmini.Stream)
    chunks = list(s)
    assert all(isinstance(c, chatmini.ChatCompletionChunk) for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: hi"
    assert s.completed and s.chunk_count == len(chunks)
    final = s.get_final_completion()
    assert final.choices[0].message.content == "echo: hi"
    assert final.choices[0].finish_reason == "stop"
    assert final.usage.total_tokens > 0
    assert server.requests[-1].json["stream"] is True
    assert server.requests[-1].headers.get("accept") == "text/event-stream"


def test_get_final_completion_drains_the_rest(client):
    s = stream(client)
    next(s)
    final = s.get_final_completion()
    assert final.choices[0].message.content == "echo: hi" and s.completed


def test_text_deltas_and_ask_stream(client):
    assert "".join(stream(client).text_deltas()) == "echo: hi"
    assert "".join(chatmini.ask_stream("hello you", client=client, model="m")) == "echo: hello you"


def test_stream_returns_connection_to_pool(client, server):
    for _ in range(5):
        list(stream(client))
    client.chat.completions.create(model="m", messages=HI)
    assert server.connections_opened == 1


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_abandoned_streams_do_not_leak(make_client, server):
    client = make_client(pool_maxsize=4)
    list(stream(client))
    gc.collect()
    before_fds = open_fds()
    for _ in range(100):
        s = stream(client, stream_options={"include_usage": True})
        next(s)
        del s  # abandoned after one chunk: dropping it must close the connection
    gc.collect()
    assert open_fds() <= before_fds + 4
    opened = server.connections_opened
    for _ in range(20):
        assert client.chat.completions.create(model="m", messages=HI).choices
    assert server.connections_opened - opened <= 4


def test_closed_early_stream_stops_and_reports(client, server):
    with stream(client) as s:
        first = next(s)
    assert first.choices[0].delta.role == "assistant"
    assert not s.completed
    assert list(s) == []


def first_event_delay(client, **reply) -> float:
    start = time.monotonic()
    s = stream(client)
    next(s)
    took = time.monotonic() - start
    s.close()
    return took


@pytest.mark.parametrize("kind", ["chunked", "close_delimited", "gzip"])
def test_first_event_arrives_before_the_pause(client, server, kind):
    reply = {"pause_after": 1, "pause": 2.0}
    if kind != "chunked":
        reply[kind] = True
    server.enqueue(Reply(**reply))
    assert first_event_delay(client) < 1.0


def test_gzip_stream_decodes_fully(client, server):
    server.enqueue(Reply(gzip=True, content="compressed words arrive whole"))
    assert "".join(stream(client).text_deltas()) == "compressed words arrive whole"


def test_close_delimited_stream_completes(client, server):
    server.enqueue(Reply(close_delimited=True))
    s = stream(client)
    assert "".join(s.text_deltas()) == "echo: hi" and s.completed


def test_cut_stream_raises_incomplete_with_partial_text(client, server):
    server.enqueue(Reply(cut_after=3))
    s = stream(client)
    got = []
    with pytest.raises(chatmini.IncompleteStreamError) as info:
        for chunk in s:
            got.append(chunk)
    err = info.value
    assert err.chunk_count == len(got) == 3
    assert err.partial_text == "echo: hi"[: len(err.partial_text)] and err.partial_text
    assert isinstance(err, chatmini.APIConnectionError)
    assert len(server.requests) == 1  # nothing is retried once events were handed out


def test_clean_close_without_done_after_finish_reason_is_accepted(client, server):
    server.enqueue(Reply(no_done=True))
    s = stream(client)
    assert "".join(s.text_deltas()) == "echo: hi"
    assert not s.completed  # [DONE] never came, but every choice finished


def test_clean_close_without_done_or_finish_reason_raises(client, server):
    body = b'data: {"choices":[{"index":0,"delta":{"content":"par"}}]}\n\n'
    server.enqueue(Reply(raw_stream=body))
    with pytest.raises(chatmini.IncompleteStreamError, match="before \\[DONE\\]") as info:
        list(stream(client))
    assert info.value.partial_text == "par" and info.value.chunk_count == 1


def test_empty_event_stream_raises(client, server):
    server.enqueue(Reply(raw_stream=b""))  # llama.cpp's answer to an over-long streamed prompt
    with pytest.raises(chatmini.IncompleteStreamError, match="after 0 chunks"):
        list(stream(client))


def test_idle_timeout_between_events(make_client, server):
    client = make_client(stream_idle_timeout=0.3)
    server.enqueue(Reply(pause_after=2, pause=3.0))
    start = time.monotonic()
    with pytest.raises(chatmini.IncompleteStreamError, match="idle") as info:
        list(stream(client))
    assert time.monotonic() - start < 2.5
    assert info.value.chunk_count == 2


def test_error_event_raises_matching_error(client, server):
    server.enqueue(Reply(error_event={"error": {"message": "slow down", "code": "rate_limit_exceeded"}}))
    with pytest.raises(chatmini.RateLimitError, match="slow down"):
        list(stream(client))
    server.enqueue(Reply(error_event={"error": {"message": "boom", "type": "server_error"}}))
    with pytest.raises(chatmini.InternalServerError, match="boom"):
        list(stream(client))
    server.enqueue(Reply(error_event={"error": {"message": "odd", "type": "invalid_request_error"}}))
    with pytest.raises(chatmini.APIError, match="odd"):
        list(stream(client))


def test_error_object_in_data_payload_raises(client, server):
    body = (b'data: {"choices":[{"index":0,"delta":{"role":"assistant"}}]}\n\n'
            b'data: {"error":{"message":"context too long","code":"context_length_exceeded"}}\n\n')
    server.enqueue(Reply(raw_stream=body))
    with pytest.raises(chatmini.APIError, match="context too long"):
        list(stream(client))


def test_non_json_event_is_validation_error(client, server):
    server.enqueue(Reply(raw_stream=b"data: <html>oops</html>\n\n"))
    with pytest.raises(chatmini.APIResponseValidationError, match="oops"):
        list(stream(client))


def test_status_errors_on_streams_are_raised_and_retried(client, server):
    server.enqueue(Reply(status=503))
    assert "".join(stream(client).text_deltas()) == "echo: hi"
    assert len(server.requests) == 2
    server.enqueue(Reply(status=401, body={"detail": "Invalid API key"}))
    with pytest.raises(chatmini.AuthenticationError, match="Invalid API key"):
        stream(client)


def test_cr_only_and_crlf_streams(client, server):
    for ending in ("\r", "\r\n"):
        server.enqueue(Reply(line_ending=ending))
        assert "".join(stream(client).text_deltas()) == "echo: hi"


def test_multiline_data_split_by_crlf_across_reads(client, server):
    # one event whose data spans two lines; CRLF endings; the server pauses right after a CR
    first = b'data: {"choices":[{"index":0,\r'
    rest = (b'\ndata: "delta":{"content":"x\\u2028y"},"finish_reason":"stop"}]}\r\n\r\n'
            b"data: [DONE]\r\n\r\n")
    server.enqueue(Reply(raw_stream=first + rest))
    s = stream(client)
    assert "".join(s.text_deltas()) == "x\u2028y" and s.completed


def test_repeated_tool_call_fragments_merge(client, server):
    def chunk(delta, finish=None):
        import json
        return ("data: " + json.dumps({"id": "c", "choices": [
            {"index": 0, "delta": delta, "finish_reason": finish}]}) + "\n\n").encode()

    call = {"index": 0, "id": "call_1", "type": "function"}
    body = (chunk({"role": "assistant", "tool_calls": [dict(call, function={"name": "get", "arguments": "{\"a\""})]})
            + chunk({"tool_calls": [dict(call, function={"name": "get", "arguments": ": 1}"})]})
            + chunk({}, "tool_calls") + b"data: [DONE]\n\n")
    server.enqueue(Reply(raw_stream=body))
    final = stream(client).get_final_completion()
    calls = final.choices[0].message.tool_calls
    assert len(calls) == 1 and calls[0].function.name == "get"
    assert calls[0].function.arguments == '{"a": 1}'
    assert final.choices[0].finish_reason == "tool_calls"
