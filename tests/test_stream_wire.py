"""Streamed bodies read off the wire: chunked framing taken apart at any byte, hostile framing
a clear error, events handed out while a chunk is still arriving, connections reused."""

from __future__ import annotations

import json
import socket
import threading

import pytest
import requests
import urllib3
from hypothesis import given, settings
from hypothesis import strategies as st

import chatmini
from chatmini.streaming.wire import MAX_LINE, ChunkedBody, WireError, open_body
from chatmini.transport.connection import BoundedResponse

from .conftest import HI, SECRET_KEY
from .raw_server import RawServer

HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n")


def event(payload: dict) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


ROLE = event({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})
WORD = event({"choices": [{"index": 0, "delta": {"content": "hi"}}]})
STOP = event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
DONE = b"data: [DONE]\n\n"


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def client_for(server: RawServer) -> chatmini.Client:
    return chatmini.Client(api_key=SECRET_KEY, base_url=server.base_url, timeout=(2.0, 2.0),
                           retry=chatmini.RetryPolicy(0))


def stream(client: chatmini.Client) -> chatmini.Stream:
    return client.chat.completions.create(model="m", messages=HI, stream=True)


def test_events_inside_one_long_chunk_are_handed_out_as_they_arrive():
    go = threading.Event()
    rest = WORD + STOP + DONE
    pad = b": padding\n" * 50

    def answer(conn: socket.socket, request: bytes) -> None:
        conn.sendall(HEAD + b"%x\r\n" % (len(ROLE + rest + pad)) + ROLE)
        go.wait(5)  # the rest of the chunk only once the client has the first event
        conn.sendall(rest + pad + b"\r\n0\r\n\r\n")

    with RawServer(answer) as server, client_for(server) as client:
        s = stream(client)
        first = next(s)  # a reader that waited for the whole chunk would time out here
        go.set()
        assert first.choices[0].delta.role == "assistant"
        assert "".join(s.text_deltas()) == "hi" and s.completed


def test_trailers_are_read_and_the_connection_is_reused():
    def answer(conn: socket.socket, request: bytes) -> None:
        conn.sendall(HEAD + chunk(ROLE) + chunk(WORD + STOP) + chunk(DONE)
                     + b"0;final\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n")

    with RawServer(answer) as server, client_for(server) as client:
        for _ in range(3):
            s = stream(client)
            assert "".join(s.text_deltas()) == "hi" and s.completed
        assert server.connections == 1 and server.requests == 3


@pytest.mark.parametrize("body, why", [
    (b"zz\r\n" + ROLE, "not a hexadecimal size"),
    (b"-5\r\nhello\r\n", "not a hexadecimal size"),
    (b"0x5\r\nhello\r\n", "not a hexadecimal size"),
    (b"\r\n", "not a hexadecimal size"),
    (b"1" * (MAX_LINE + 1), f"a line of more than {MAX_LINE:,} bytes"),
    (chunk(ROLE)[:-2] + b"XX", "not followed by CRLF"),
    (chunk(ROLE) + b"0\r\n" + b"X-Pad: yyyyyyyyyyyyyyyy\r\n" * 5000, "bytes of trailers"),
    (chunk(ROLE) + chunk(WORD)[:20], "closed before the end of the chunked body"),
])
def test_broken_chunked_framing_is_a_clear_error(body, why):
    def answer(conn: socket.socket, request: bytes) -> None:
        conn.sendall(HEAD + body)
        conn.shutdown(socket.SHUT_WR)

    with RawServer(answer) as server, client_for(server) as client:
        with pytest.raises(chatmini.IncompleteStreamError, match=why) as info:
            list(stream(client))
    assert SECRET_KEY not in str(info.value)


def socket_response(head: bytes = HEAD) -> tuple[socket.socket, requests.Response]:
    """A requests Response over urllib3 and http.client (the bounded response chatmini's
    pools make), reading from a real socket whose other end the test writes (headers sent)."""
    ours, theirs = socket.socketpair()
    ours.sendall(head)
    theirs.settimeout(2)
    httpresp = BoundedResponse(theirs)
    httpresp.begin()
    raw = urllib3.HTTPResponse(body=httpresp, headers=dict(httpresp.getheaders()),
                               status=httpresp.status, preload_content=False,
                               original_response=httpresp)
    response = requests.Response()
    response.raw, response.status_code = raw, httpresp.status
    response.headers = requests.structures.CaseInsensitiveDict(raw.headers)
    return ours, response


pieces = st.lists(st.binary(min_size=1, max_size=40), min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(data=pieces, cuts=st.lists(st.integers(min_value=1, max_value=30), max_size=40),
       extension=st.booleans(), trailers=st.booleans())
def test_chunked_bodies_cut_at_any_byte_yield_their_data(data, cuts, extension, trailers):
    wire = b"".join(b"%x%s\r\n%s\r\n" % (len(p), b";x=1" if extension else b"", p) for p in data)
    wire += b"0\r\n" + (b"T: 1\r\n" if trailers else b"") + b"\r\n"
    ours, response = socket_response()
    body = open_body(response)
    assert isinstance(body, ChunkedBody)
    out, pos = [], 0
    with ours:
        for size in [*cuts, len(wire)]:  # one write, then one read: reads split where writes do
            if pos >= len(wire):
                break
            ours.sendall(wire[pos:pos + size])
            pos += size
            out.append(body.read())
        assert body.ended and body.read() == b""
    assert b"".join(out) == b"".join(data)


@settings(max_examples=150, deadline=None)
@given(garbage=st.binary(min_size=1, max_size=300))
def test_any_bytes_are_data_or_a_wire_error(garbage):
    ours, response = socket_response()
    body = open_body(response)
    with ours:
        ours.sendall(garbage)
        ours.shutdown(socket.SHUT_WR)
        try:
            while not body.ended:
                body.read()
        except WireError:
            pass


def test_compressed_and_close_delimited_bodies_keep_urllib3s_reader():
    for head in (HEAD.replace(b"\r\n\r\n", b"\r\nContent-Encoding: gzip\r\n\r\n"),
                 b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"):
        ours, response = socket_response(head)
        with ours:
            assert not isinstance(open_body(response), ChunkedBody)
