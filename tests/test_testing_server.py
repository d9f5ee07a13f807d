"""Tests for chatmini.testing.Server over real sockets, using only http.client and requests."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from chatmini.testing import RecordedRequest, Reply, Server

CHAT = "/v1/chat/completions"
_OPEN: list[http.client.HTTPConnection] = []


@pytest.fixture(autouse=True)
def _close_client_connections() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def connect(server: Server, timeout: float = 5) -> http.client.HTTPConnection:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    _OPEN.append(conn)
    return conn


@pytest.fixture
def server(framing: str) -> Iterator[Server]:
    with Server(framing=framing) as srv:
        yield srv


def chat_body(text: str = "hello world", **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-test", "messages": [{"role": "user", "content": text}], **extra}


def post(server: Server, body: Any, path: str = CHAT,
         timeout: float = 5) -> tuple[http.client.HTTPResponse, http.client.HTTPConnection]:
    conn = connect(server, timeout)
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    conn.request("POST", path, data, {"Content-Type": "application/json"})
    return conn.getresponse(), conn


def events_of(raw: bytes) -> list[str]:
    """Split an event-stream body on blank lines into the data payload of each event."""
    out = []
    for block in raw.replace(b"\r\n", b"\n").split(b"\n\n"):
        if not block.strip():
            continue
        lines = block.decode().split("\n")
        out.append("\n".join(line[len("data: "):] for line in lines if line.startswith("data: ")))
    return out


def stream(server: Server, **extra: Any) -> tuple[http.client.HTTPResponse, list[str]]:
    resp, _ = post(server, chat_body(stream=True, **extra))
    return resp, events_of(resp.read())


def read_event(resp: http.client.HTTPResponse) -> bytes:
    lines = []
    while True:
        line = resp.readline()
        assert line, "stream ended early"
        if line == b"\n":
            return b"".join(lines)
        lines.append(line)


# -- default behaviour -------------------------------------------------------------------------


def test_default_completion_shape(server: Server) -> None:
    resp, _ = post(server, chat_body("hello world"))
    assert resp.status == 200
    assert resp.getheader("content-type") == "application/json"
    assert resp.getheader("x-request-id") == "req_1"
    body = json.loads(resp.read())
    assert set(body) == {"id", "object", "created", "model", "choices", "usage",
                         "system_fingerprint"}
    assert body["id"] == "chatcmpl-1"
    assert body["object"] == "chat.completion"
    assert isinstance(body["created"], int)
    assert body["model"] == "gpt-test"
    assert body["system_fingerprint"] == "fp_chatmini"
    assert body["choices"] == [{
        "index": 0, "logprobs": None, "finish_reason": "stop",
        "message": {"role": "assistant", "content": "echo: hello world", "refusal": None},
    }]
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_n_choices_and_content_parts(server: Server) -> None:
    parts = [{"type": "text", "text": "a "}, {"type": "image_url", "image_url": {}},
             {"type": "text", "text": "b"}]
    body = {"model": "m", "n": 2, "messages": [{"role": "user", "content": parts}]}
    choices = json.loads(post(server, body)[0].read())["choices"]
    assert [c["index"] for c in choices] == [0, 1]
    assert {c["message"]["content"] for c in choices} == {"echo: a b"}


def test_models_list(server: Server) -> None:
    resp = requests.get(server.base_url + "/models", timeout=5)
    data = resp.json()
    assert data["object"] == "list"
    assert [m["id"] for m in data["data"]] == ["gpt-4o-mini", "gpt-4o"]
    assert all(m["object"] == "model" and m["owned_by"] == "chatmini" for m in data["data"])


def test_echo_other_post_path(server: Server) -> None:
    resp = requests.post(server.base_url + "/fine_tuning/jobs?x=1", json={"input": "hi"},
                         timeout=5)  # /embeddings is served since issue 14
    assert resp.json() == {"object": "echo", "path": "/v1/fine_tuning/jobs?x=1",
                           "json": {"input": "hi"}}


def test_unknown_path_and_bad_json(server: Server) -> None:
    resp = requests.get(server.url + "/nope", timeout=5)
    assert resp.status_code == 404
    assert resp.json()["error"]["type"] == "invalid_request_error"
    resp = requests.post(server.base_url + "/chat/completions", data=b"{nope", timeout=5)
    assert resp.status_code == 400
    assert "parse" in resp.json()["error"]["message"]


# -- Reply fields ------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "kind", "code"), [
    (429, "requests", "rate_limit_exceeded"),
    (401, "invalid_request_error", "invalid_api_key"),
    (500, "server_error", None),
])
def test_status_error_body(server: Server, status: int, kind: str, code: str | None) -> None:
    server.enqueue(Reply(status=status))
    resp, _ = post(server, chat_body())
    assert resp.status == status
    error = json.loads(resp.read())["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert (error["type"], error["code"], error["param"]) == (kind, code, None)
    assert error["message"]


def test_extra_headers(server: Server) -> None:
    server.enqueue(Reply(status=429, headers={"Retry-After": "0.2", "retry-after-ms": "150",
                                              "x-should-retry": "false"}))
    resp = requests.post(server.base_url + "/chat/completions", json=chat_body(), timeout=5)
    assert resp.headers["retry-after"] == "0.2"
    assert resp.headers["Retry-After-Ms"] == "150"
    assert resp.headers["x-should-retry"] == "false"


@pytest.mark.parametrize(("body", "raw", "ctype"), [
    ({"a": 1}, b'{"a": 1}', "application/json"),
    ("plain text", b"plain text", "text/plain"),
    (b"\x00\x01", b"\x00\x01", "text/plain"),
])
def test_verbatim_body(server: Server, body: Any, raw: bytes, ctype: str) -> None:
    server.enqueue(Reply(status=503, body=body))
    resp, _ = post(server, chat_body())
    assert resp.status == 503
    assert resp.getheader("content-type").startswith(ctype)
    assert resp.read() == raw


def test_verbatim_body_custom_content_type(server: Server) -> None:
    server.enqueue(Reply(body="<html>", content_type="text/html"))
    resp, _ = post(server, chat_body())
    assert resp.getheader("content-type") == "text/html"


def test_delay_exceeds_read_timeout(server: Server) -> None:
    server.enqueue(Reply(delay=0.2), Reply(delay=5))
    start = time.perf_counter()
    assert post(server, chat_body())[0].status == 200
    assert time.perf_counter() - start >= 0.15
    with pytest.raises((socket.timeout, TimeoutError)):
        post(server, chat_body(), timeout=0.2)


def test_drop_closes_without_response(server: Server) -> None:
    server.enqueue(Reply(drop=True))
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
        post(server, chat_body("dropped"))
    assert server.requests[0].json["messages"][0]["content"] == "dropped"
    assert post(server, chat_body())[0].status == 200


def test_path_matching_checks_queue_head(server: Server) -> None:
    server.enqueue(Reply(path="/models", status=500))
    assert post(server, chat_body())[0].status == 200
    assert server.pending == 1
    assert requests.get(server.base_url + "/models?limit=1", timeout=5).status_code == 500
    assert server.pending == 0
    assert requests.get(server.base_url + "/models", timeout=5).status_code == 200


# -- streaming ---------------------------------------------------------------------------------


@pytest.mark.framings
def test_stream_default_format(server: Server) -> None:
    resp, events = stream(server)
    assert resp.getheader("content-type") == "text/event-stream"
    assert resp.getheader("transfer-encoding") == "chunked"
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    for chunk in chunks:
        assert set(chunk) == {"id", "object", "created", "model", "system_fingerprint", "choices"}
        assert chunk["object"] == "chat.completion.chunk"
        assert chunk["id"] == "chatcmpl-1" and chunk["model"] == "gpt-test"
    assert chunks[0]["choices"] == [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                     "logprobs": None, "finish_reason": None}]
    text = "".join(c["choices"][0]["delta"]["content"] for c in chunks[1:-1])
    assert text == "echo: hello world"
    assert [c["choices"][0]["delta"]["content"] for c in chunks[1:-1]] == [
        "echo: ", "hello ", "world"]
    assert chunks[-1]["choices"] == [{"index": 0, "delta": {}, "logprobs": None,
                                      "finish_reason": "stop"}]


def http_chunks(server: Server, body: dict[str, Any]) -> list[bytes]:
    """The HTTP chunks of a streamed answer exactly as framed on the wire (a raw socket)."""
    data = json.dumps(body).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (CHAT.encode(), len(data), data))
        raw = b""
        while not raw.endswith(b"\r\n0\r\n\r\n"):
            more = sock.recv(65536)
            assert more, "the stream ended without its chunked terminator"
            raw += more
    rest = raw.split(b"\r\n\r\n", 1)[1]
    chunks = []
    while True:
        size, rest = rest.split(b"\r\n", 1)
        if int(size, 16) == 0:
            return chunks
        chunks.append(rest[:int(size, 16)])
        assert rest[int(size, 16):int(size, 16) + 2] == b"\r\n"
        rest = rest[int(size, 16) + 2:]


def test_streams_are_framed_one_event_per_chunk_or_coalesced() -> None:
    body = chat_body("one two three", stream=True)
    with Server() as server:  # the default: as real servers write them
        chunks = http_chunks(server, body)
    assert len(chunks) == 7 and all(c.count(b"\n\n") == 1 for c in chunks)
    assert chunks[-1] == b"data: [DONE]\n\n"
    with Server(framing="coalesced") as server:
        coalesced = http_chunks(server, body)
    assert len(coalesced) == 1 and coalesced[0].count(b"\n\n") == 7
    assert coalesced[0].endswith(b"data: [DONE]\n\n")
    with pytest.raises(ValueError, match="framing must be one of 'per-event', 'coalesced'"):
        Server(framing="one-chunk")


@pytest.mark.framings
def test_stream_n_choices_and_include_usage(server: Server) -> None:
    _, events = stream(server, n=2, stream_options={"include_usage": True})
    chunks = [json.loads(e) for e in events[:-1]]
    usage_chunk = chunks[-1]
    assert usage_chunk["choices"] == []
    assert set(usage_chunk["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}
    assert all(c["usage"] is None for c in chunks[:-1])
    indexes = [c["choices"][0]["index"] for c in chunks[:-1]]
    assert indexes == [0, 1] * (len(indexes) // 2)


@pytest.mark.framings
def test_stream_content_override_and_chunk_count(server: Server) -> None:
    server.enqueue(Reply(content="a b"), Reply(chunks=20000))
    _, events = stream(server)
    assert [json.loads(e)["choices"][0]["delta"].get("content") for e in events[1:-2]] == [
        "a ", "b"]
    start = time.perf_counter()
    _, events = stream(server)
    assert time.perf_counter() - start < 3
    assert len(events) == 20000 + 3
    assert json.loads(events[1])["choices"][0]["delta"]["content"] == "tok "


@pytest.mark.framings
def test_stream_cut_after(server: Server) -> None:
    server.enqueue(Reply(cut_after=2))
    resp, _ = post(server, chat_body(stream=True))
    with pytest.raises(http.client.IncompleteRead) as info:
        resp.read()
    assert len(events_of(info.value.partial)) == 2


@pytest.mark.framings
def test_stream_no_done(server: Server) -> None:
    server.enqueue(Reply(no_done=True))
    _, events = stream(server)
    assert "[DONE]" not in events
    assert json.loads(events[-1])["choices"][0]["finish_reason"] == "stop"


@pytest.mark.framings
def test_stream_error_event(server: Server) -> None:
    server.enqueue(Reply(error_event={"error": {"message": "boom", "type": "server_error"}}))
    resp, _ = post(server, chat_body(stream=True))
    raw = resp.read()
    first, last = raw.rstrip(b"\n").split(b"\n\n")
    assert json.loads(first[len(b"data: "):])["choices"][0]["delta"]["role"] == "assistant"
    event_line, data_line = last.split(b"\n")
    assert event_line == b"event: error"
    assert json.loads(data_line[len(b"data: "):]) == {
        "error": {"message": "boom", "type": "server_error"}}
    assert raw.endswith(b"}\n\n")


@pytest.mark.framings
def test_stream_pause_after(server: Server) -> None:
    server.enqueue(Reply(pause_after=2, pause=0.4))
    resp, _ = post(server, chat_body(stream=True))
    read_event(resp)
    read_event(resp)
    start = time.perf_counter()
    read_event(resp)
    assert time.perf_counter() - start >= 0.25
    assert events_of(resp.read())[-1] == "[DONE]"


@pytest.mark.framings
def test_stream_close_delimited(server: Server) -> None:
    server.enqueue(Reply(close_delimited=True))
    resp, _ = post(server, chat_body(stream=True))
    assert resp.getheader("content-length") is None
    assert resp.getheader("transfer-encoding") is None
    assert resp.getheader("connection") == "close"
    assert events_of(resp.read())[-1] == "[DONE]"


@pytest.mark.framings
def test_stream_gzip_is_incrementally_decodable(server: Server) -> None:
    server.enqueue(Reply(gzip=True, pause_after=1, pause=0.5))
    resp, _ = post(server, chat_body(stream=True))
    assert resp.getheader("content-encoding") == "gzip"
    decoder = zlib.decompressobj(wbits=31)
    start = time.perf_counter()
    text = b""
    while b"\n\n" not in text:
        text += decoder.decompress(resp.read1(65536))
    first_at = time.perf_counter() - start
    assert json.loads(events_of(text)[0])["choices"][0]["delta"]["role"] == "assistant"
    text += decoder.decompress(resp.read())
    assert time.perf_counter() - start - first_at >= 0.3
    assert decoder.eof
    assert events_of(text)[-1] == "[DONE]"


@pytest.mark.framings
def test_raw_stream_and_line_ending(server: Server) -> None:
    raw = b": comment\r\ndata: {\"x\": 1}\r\n\r\ndata: [DONE]\r\n\r\n"
    server.enqueue(Reply(raw_stream=raw), Reply(line_ending="\r\n"))
    resp, _ = post(server, chat_body(stream=True))
    assert resp.read() == raw
    resp, _ = post(server, chat_body(stream=True))
    body = resp.read()
    assert b"\r\n\r\n" in body and b"\n\n" not in body.replace(b"\r\n", b"")
    assert events_of(body)[-1] == "[DONE]"


# -- bookkeeping and lifecycle -----------------------------------------------------------------


def test_recorded_requests_and_keep_alive(server: Server) -> None:
    conn = connect(server)
    for i in range(3):
        conn.request("POST", f"{CHAT}?i={i}", json.dumps(chat_body(str(i))),
                     {"Authorization": f"Bearer k{i}", "Content-Type": "application/json"})
        conn.getresponse().read()
    conn.request("GET", "/v1/models")
    conn.getresponse().read()
    conn.close()
    assert server.connections_opened == 1
    recorded = server.requests
    assert len(recorded) == 4
    first = recorded[0]
    assert isinstance(first, RecordedRequest)
    assert (first.method, first.path) == ("POST", CHAT + "?i=0")
    assert first.headers.get("authorization") == "Bearer k0"
    assert first.headers.get("AUTHORIZATION") == "Bearer k0"
    assert first.body == json.dumps(chat_body("0")).encode()
    assert first.json == chat_body("0")
    assert recorded[3].method == "GET" and recorded[3].json is None and recorded[3].body == b""
    server.enqueue(Reply(status=500))
    server.reset()
    assert (server.requests, server.connections_opened, server.pending) == ([], 0, 0)


def test_stop_is_prompt_with_open_connections() -> None:
    server = Server().start()
    idle = connect(server)
    idle.request("GET", "/v1/models")
    idle.getresponse().read()
    server.enqueue(Reply(pause_after=1, pause=30))
    resp, _ = post(server, chat_body(stream=True))
    read_event(resp)
    start = time.perf_counter()
    server.stop()
    assert time.perf_counter() - start < 2
    with pytest.raises((OSError, http.client.HTTPException)):
        requests.get(f"http://127.0.0.1:{server.port}/v1/models", timeout=1)


def test_module_entry_point() -> None:
    cmd = [sys.executable, "-m", "chatmini.testing", "--port", "0", "--framing", "coalesced"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True) as proc:
        try:
            assert proc.stdout is not None
            base_url = proc.stdout.readline().strip()
            assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
            resp = requests.get(base_url + "/models", timeout=5)
            assert resp.json()["object"] == "list"
            body = chat_body(stream=True)
            with requests.post(base_url + "/chat/completions", json=body, stream=True,
                               timeout=5) as streamed:
                assert len(list(streamed.raw.read_chunked())) == 1  # coalesced: one chunk
        finally:
            proc.terminate()
        assert proc.wait(timeout=5) == 0
