"""with_raw_response and with_streaming_response, on the client and on each resource, over
real sockets: headers, status, parse(), and streams that still end for the plugins."""

from __future__ import annotations

import gzip

import pytest

import chatmini
from chatmini.testing import Fault, FaultProxy, Reply

from .conftest import HI


class StreamEnds:
    """Counts chatmini_stream_end calls (the rate limiter gives its slot back there)."""

    def __init__(self):
        self.ends = []

    @chatmini.hookimpl
    def chatmini_stream_end(self, request, stream, error):
        self.ends.append(error)


def test_raw_response_of_a_resource_method(client, server):
    raw = client.chat.completions.with_raw_response.create(model="m", messages=HI)
    assert isinstance(raw, chatmini.RawResponse)
    assert raw.status_code == 200 and raw.headers["x-request-id"] == "req_1"
    assert raw.request_id == "req_1" and raw.retries_taken == 0
    assert raw.method == "POST" and raw.url.endswith("/v1/chat/completions")
    assert raw.json()["object"] == "chat.completion" and "chat.completion" in raw.text
    completion = raw.parse()
    assert completion.choices[0].message.content == "echo: hi" and raw.parse() is completion
    assert "200" in repr(raw) and raw.elapsed.total_seconds() >= 0


def test_raw_response_from_the_client(client, server):
    assert client.with_raw_response.models.list().parse().data[0].id == "gpt-4o-mini"
    assert client.with_raw_response.chat.completions.create(model="m", messages=HI).parse()
    assert client.with_raw_response.post("/fine_tuning/jobs", json={}).status_code == 200
    with pytest.raises(AttributeError, match="not a method or resource"):
        client.with_raw_response.base_url  # noqa: B018


def test_raw_mode_ends_with_the_call(client):
    client.embeddings.with_raw_response.create(model="e", input="x")
    assert isinstance(client.embeddings.create(model="e", input="x"), chatmini.CreateEmbeddingResponse)
    raw = client.embeddings.with_raw_response.create(model="e", input="x")
    assert type(raw.parse().data[0].embedding[0]) is float  # post-processing runs in parse()


def test_errors_are_raised_as_without_the_wrapper(client, server):
    with pytest.raises(chatmini.NotFoundError):
        client.models.with_raw_response.retrieve("nope")


def test_a_raw_stream_parses_to_the_stream_and_closing_ends_it(make_client, server):
    ends = StreamEnds()
    client = make_client(plugins=[ends])
    raw = client.chat.completions.with_raw_response.create(model="m", messages=HI, stream=True)
    assert raw.headers["content-type"] == "text/event-stream"
    stream = raw.parse()
    assert isinstance(stream, chatmini.Stream) and stream.get_final_completion().choices
    assert ends.ends == [None]
    unread = client.chat.completions.with_raw_response.create(model="m", messages=HI, stream=True)
    unread.close()  # never parsed: the plugins still see the stream end
    assert ends.ends == [None, None] and unread.is_closed


def test_streaming_response_lines_of_an_event_stream(make_client, server):
    ends = StreamEnds()
    client = make_client(plugins=[ends])
    server.enqueue(Reply(gzip=True, line_ending="\r\n"))
    with client.chat.completions.with_streaming_response.create(
            model="m", messages=HI, stream=True) as response:
        assert isinstance(response, chatmini.StreamedResponse)
        assert response.status_code == 200
        lines = list(response.iter_lines())
    assert lines[-2:] == ["data: [DONE]", ""]
    assert all(line == "" or line.startswith("data: ") for line in lines)
    assert ends.ends == [None]  # read raw, and still ended for the plugins


def test_streaming_response_of_a_plain_call(client, server):
    manager = client.models.with_streaming_response.list()
    assert server.requests == []  # nothing is sent before the block is entered
    with manager as response:
        assert response.json()["object"] == "list"
        assert response.parse().data[0].id == "gpt-4o-mini"
        assert b"".join(response.iter_bytes(7)) == response.read()
        assert response.text().startswith("{")
    with client.with_streaming_response.chat.completions.create(model="m", messages=HI) as r:
        assert r.parse().choices[0].message.content == "echo: hi"


def test_iter_lines_keeps_a_line_ending_split_between_reads(server):
    body = b"one\r\ntwo\rthree\n\nlast"
    with FaultProxy(server.url) as proxy:  # one byte per read: every ending is split
        proxy.enqueue(Fault("drip", after_headers=True, size=1, interval=0.001))
        client = chatmini.Client(api_key="k", base_url=proxy.base_url, max_retries=0)
        server.enqueue(Reply(raw_stream=body, close_delimited=True))
        with client.with_streaming_response.post("/x", json={}, stream=True) as response:
            assert list(response.iter_lines()) == ["one", "two", "three", "", "last"]
        client.close()


def test_streaming_response_bytes_are_decoded(client, server):
    body = b"data: x\n\n" * 100
    server.enqueue(Reply(raw_stream=gzip.compress(body), headers={"Content-Encoding": "gzip"}))
    with client.with_streaming_response.post("/x", json={}, stream=True) as response:
        assert response.read() == body


def test_the_official_sdk_gets_the_same_headers(client, server):
    openai = pytest.importorskip("openai")
    sdk = openai.OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0)
    theirs = sdk.chat.completions.with_raw_response.create(model="m", messages=HI)
    ours = client.chat.completions.with_raw_response.create(model="m", messages=HI)
    assert theirs.headers["content-type"] == ours.headers["content-type"]
    assert theirs.parse().choices[0].message.content == ours.parse().choices[0].message.content
