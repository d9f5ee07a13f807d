"""Response heads read in one go (transport/heads.py) give exactly what http.client's own
``begin()`` gives, on any head: status, reason, version, the fields and their message, the
body's framing, the bytes left for the body; and heads that are not plain are left to it."""

from __future__ import annotations

import http.client
import socket
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from chatmini.transport import heads
from chatmini.transport.connection import BoundedResponse

STATUS_LINES = [b"HTTP/1.1 200 OK", b"HTTP/1.0 200 OK", b"HTTP/1.1 204 No Content",
                b"HTTP/1.1 304 Not Modified", b"HTTP/1.1 404 Not Found", b"HTTP/1.1 200",
                b"HTTP/1.1 200 ", b"HTTP/1.1 500 \tOops  ", b"HTTP/1.1  200 OK",
                b"HTTP/1.9 200 OK", b"HTTP/2 200 OK", b"HTTP/1.1 2000 OK", b"http/1.1 200 ok",
                b"HTTP/1.1 999 X", b"HTTP/1.1 200 \xe9t\xe9", b"ICY 200 OK", b""]
NAMES = [b"Content-Length", b"content-length", b"Transfer-Encoding", b"Connection",
         b"Keep-Alive", b"Content-Type", b"X-Id", b"From", b"From ", b" X", b"\tX", b"",
         b"X Y", b"X\x7f", b"\xe9", b"a;b"]
VALUES = st.one_of(
    st.sampled_from([b"chunked", b"Chunked", b"gzip, chunked", b"close", b"keep-alive",
                     b"Keep-Alive", b"5", b"-1", b"x", b" 12 ", b"", b"\t a \t"]),
    st.binary(max_size=12),
)
ENDINGS = st.sampled_from([b"\r\n"] * 8 + [b"\n", b"\r", b"\r\r\n"])


PLAIN_VALUES = st.one_of(VALUES.filter(lambda v: b"\r" not in v and b"\n" not in v),
                        st.binary(max_size=12).map(lambda v: v.translate(None, b"\r\n")))


@st.composite
def raw_heads(draw: Any) -> bytes:
    """Heads of every kind; half of them plain (the kind read in one go)."""
    if draw(st.booleans()):  # plain: a usual status line, fields of usual names, CRLFs
        lines = [draw(st.sampled_from(STATUS_LINES[:8]))]
        lines += [draw(st.sampled_from(NAMES[:8])) + b":" + draw(PLAIN_VALUES)
                  for _ in range(draw(st.integers(0, 6)))]
        return b"".join(line + b"\r\n" for line in lines) + b"\r\n" + draw(
            st.binary(max_size=8))
    lines = [draw(st.sampled_from(STATUS_LINES))]
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.integers(0, 9)) == 0:
            lines.append(draw(st.binary(max_size=10)))  # anything at all
        else:
            lines.append(draw(st.sampled_from(NAMES)) + b":" + draw(VALUES))
    return b"".join(line + draw(ENDINGS) for line in lines) + b"\r\n" + draw(
        st.binary(max_size=8))


def outcome(cls: type, data: bytes, method: str) -> Any:
    """What reading ``data`` as an answer to ``method`` gives: the error, or every field
    begin() sets and the bytes left for the body."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        ours.sendall(data)
        ours.shutdown(socket.SHUT_WR)
        theirs.settimeout(5)
        response = cls(theirs, method=method)
        try:
            response.begin()
        except Exception as exc:  # noqa: BLE001 - the same error is the expected outcome
            return type(exc)
        message = {**vars(response.msg),
                   "defects": [type(defect).__name__ for defect in response.msg.defects]}
        return (response.status, response.code, response.reason, response.version,
                response.chunked, response.chunk_left, response.length, response.will_close,
                message, response.fp.read())


@settings(max_examples=600, deadline=None)
@given(data=raw_heads(), method=st.sampled_from(["POST", "GET", "HEAD"]))
@example(data=b"HTTP/1.1 200 OK\r\n" + b"X: 1\r\n" * 99 + b"\r\n", method="POST")
@example(data=b"HTTP/1.1 200 OK\r\n" + b"X: 1\r\n" * 100 + b"\r\n", method="POST")
@example(data=b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX: \xff\x85\x0b\x1c\r\n\r\nabc",
         method="POST")
def test_a_head_reads_as_http_client_reads_it(data, method):
    assert outcome(BoundedResponse, data, method) == outcome(
        http.client.HTTPResponse, data, method)


def test_a_plain_head_is_read_in_one_go_and_anything_else_by_http_client(monkeypatch):
    read = []
    original = heads.read_head
    monkeypatch.setattr("chatmini.transport.connection.read_head",
                        lambda response: read.append(original(response)) or read[-1])
    plain = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Id: a\r\n\r\nhi"
    assert outcome(BoundedResponse, plain, "POST")[-1] == b"hi"
    folded = b"HTTP/1.1 200 OK\r\nX-Id: a\r\n b\r\nContent-Length: 2\r\n\r\nhi"
    assert outcome(BoundedResponse, folded, "POST")[-1] == b"hi"
    interim = b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"
    assert outcome(BoundedResponse, interim, "POST")[0] == 200
    assert read == [True, False, False]
