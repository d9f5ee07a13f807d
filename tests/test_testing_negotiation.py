"""The test server's body handling beyond JSON, over real sockets with http.client: compressed
request bodies (and refusing them), MessagePack requests and answers, compressed answers."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import msgpack
import pytest

from chatmini import codings
from chatmini.testing import Reply, Server
from chatmini.testing.negotiation import prefers_msgpack

CHAT = "/v1/chat/completions"
BODY = {"model": "m", "messages": [{"role": "user", "content": "squeeze " * 100}]}


@pytest.fixture
def conns() -> Iterator[list[http.client.HTTPConnection]]:
    made: list[http.client.HTTPConnection] = []
    yield made
    for conn in made:
        conn.close()


def post(server: Server, conns: list, data: bytes, **headers: str) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conns.append(conn)
    conn.request("POST", CHAT, data, {"Content-Type": "application/json", **headers})
    resp = conn.getresponse()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()


@pytest.mark.parametrize("coding", codings.CODINGS)
def test_compressed_request_bodies_are_decoded_and_recorded_as_sent(server, conns, coding):
    wire = codings.compress(coding, json.dumps(BODY).encode())
    status, _, body = post(server, conns, wire, **{"Content-Encoding": coding})
    assert status == 200
    assert json.loads(body)["choices"][0]["message"]["content"] == "echo: " + "squeeze " * 100
    recorded = server.requests[-1]
    assert recorded.body == wire and recorded.json == BODY


def test_refused_encodings_get_415_and_leave_the_script_alone(conns):
    with Server(request_encodings=("gzip",)) as server:
        server.enqueue(Reply(content="scripted"))
        wire = codings.compress("br", json.dumps(BODY).encode())
        status, _, body = post(server, conns, wire, **{"Content-Encoding": "br"})
        assert status == 415
        assert json.loads(body)["error"]["message"] == "Unsupported Content-Encoding: br"
        assert server.pending == 1 and server.requests[-1].json is None
        gz = codings.compress("gzip", json.dumps(BODY).encode())
        status, _, body = post(server, conns, gz, **{"Content-Encoding": "gzip"})
        assert status == 200 and json.loads(body)["choices"][0]["message"]["content"] == "scripted"
    with Server(request_encodings=()) as server:
        status, _, _ = post(server, conns, gz, **{"Content-Encoding": "gzip"})
        assert status == 415
        assert post(server, conns, json.dumps(BODY).encode())[0] == 200  # plain is fine


def test_unknown_and_corrupt_encodings(server, conns):
    assert post(server, conns, b"xx", **{"Content-Encoding": "compress"})[0] == 415
    status, _, body = post(server, conns, b"not gzip at all", **{"Content-Encoding": "gzip"})
    assert status == 400
    assert "could not be decoded as gzip" in json.loads(body)["error"]["message"]


def test_msgpack_request_and_answer(server, conns):
    status, headers, body = post(
        server, conns, msgpack.packb(BODY), **{"Content-Type": "application/msgpack",
                                               "Accept": "application/msgpack"})
    assert status == 200 and headers["content-type"] == "application/msgpack"
    assert msgpack.unpackb(body)["object"] == "chat.completion"
    assert server.requests[-1].json == BODY


def test_errors_stay_json_and_bad_msgpack_is_a_400(server, conns):
    status, headers, body = post(server, conns, b"\xc1\xc1", **{
        "Content-Type": "application/msgpack", "Accept": "application/msgpack"})
    assert status == 400 and headers["content-type"] == "application/json"
    assert "could not parse" in json.loads(body)["error"]["message"]


@pytest.mark.parametrize(("accept", "wanted"), [
    ("application/msgpack", True),
    ("application/msgpack, application/json;q=0.5", True),
    ("application/json, application/msgpack", False),
    ("application/json;q=0.4, application/x-msgpack;q=0.8", True),
    ("application/msgpack;q=0", False),
    ("application/json", False),
    (None, False),
    ("*/*", False),
])
def test_prefers_msgpack(accept: Any, wanted: bool):
    assert prefers_msgpack(accept) is wanted


@pytest.mark.parametrize("coding", codings.CODINGS)
def test_reply_content_encoding_compresses_answers(server, conns, coding):
    server.enqueue(Reply(content_encoding=coding, content="packed answer"))
    status, headers, body = post(server, conns, json.dumps(BODY).encode())
    assert headers["content-encoding"] == coding
    assert int(headers["content-length"]) == len(body)
    answer = json.loads(codings.decompress(coding, body))
    assert answer["choices"][0]["message"]["content"] == "packed answer"
