"""Bounded everything in a stream: after its end the rest of the body is read for a short while
only (a server that keeps talking or goes silent gets its connection closed, and the caller's
loop ends at once); the parser holds an event in about the bytes it came in; and the event-size
limit (``max_response_bytes``) holds on every read, an event's first and completing ones too.
Over real sockets (raw-socket servers write exactly the bytes each case needs)."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
import tracemalloc

import pytest

import chatmini
from chatmini.jsoncodec import use_orjson
from chatmini.streaming.wire import DRAIN_SECONDS, READ_SIZE

from .conftest import HI, SECRET_KEY
from .raw_server import RawServer
from .test_stream_wire import DONE, HEAD, ROLE, STOP, WORD, chunk

READ_TIMEOUT = 30.0  # what a caller would be held for if the drain were not bounded
QUICK = 10.0  # the caller's loop ends well before this (a wide margin on a loaded machine)


def client_for(server: RawServer, **kw) -> chatmini.Client:
    kw.setdefault("timeout", (2.0, READ_TIMEOUT))
    return chatmini.Client(api_key=SECRET_KEY, base_url=server.base_url,
                           retry=chatmini.RetryPolicy(0), **kw)


def chat(client: chatmini.Client) -> chatmini.Stream:
    return client.chat.completions.create(model="m", messages=HI, stream=True)


# -- after the end -------------------------------------------------------------------------------


def talks_forever(conn: socket.socket, stopping: threading.Event) -> None:
    """Comments, a chunk every 10 ms, until the client hangs up."""
    while not stopping.is_set():
        conn.sendall(chunk(b": still here\n"))
        time.sleep(0.01)


AFTER_THE_END = {
    "comments forever": "talk",
    "silence, no last chunk": "silent",
    "more than a few KiB, then the last chunk": "flood",
}


def end_then(kind: str, end: bytes = DONE, head: bytes = HEAD, frame=chunk):
    served = threading.Event()

    def answer(conn: socket.socket, request: bytes) -> None:
        conn.sendall(head + frame(ROLE) + frame(WORD + STOP) + frame(end))
        served.set()
        if kind == "talk":
            talks_forever(conn, server.stopping)
        elif kind == "flood":
            conn.sendall(frame(b": " + b"x" * (4 * READ_SIZE) + b"\n") + b"0\r\n\r\n")
        elif kind == "silent":
            server.stopping.wait(READ_TIMEOUT * 2)

    server = RawServer(answer)
    return server


@pytest.mark.parametrize("kind", AFTER_THE_END.values(), ids=list(AFTER_THE_END))
def test_after_done_the_loop_ends_at_once_and_the_connection_is_closed(kind):
    with end_then(kind) as server, client_for(server) as client:
        start = time.monotonic()
        s = chat(client)
        assert "".join(s.text_deltas()) == "hi" and s.completed
        took = time.monotonic() - start
        assert took < QUICK, f"held {took:.1f} s after [DONE]"
        chat(client).close()  # the next call cannot reuse a connection left mid-body
        assert server.connections == 2


def test_after_a_responses_terminal_event_the_loop_ends_at_once():
    completed = {"type": "response.completed", "sequence_number": 0,
                 "response": {"id": "r", "status": "completed", "output": []}}
    end = b"event: response.completed\ndata: " + json.dumps(completed).encode() + b"\n\n"

    def answer(conn: socket.socket, request: bytes) -> None:
        conn.sendall(HEAD + chunk(end))
        talks_forever(conn, server.stopping)

    with RawServer(answer) as server, client_for(server) as client:
        start = time.monotonic()
        s = client.responses.create(model="m", input="x", stream=True)
        assert s.get_final_response().status == "completed" and s.completed
        assert time.monotonic() - start < QUICK


def test_a_close_delimited_stream_that_talks_on_after_done_ends_at_once():
    def answer(conn: socket.socket, request: bytes) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                     b"Connection: close\r\n\r\n" + ROLE + WORD + STOP + DONE)
        while not server.stopping.is_set():
            conn.sendall(b": still here\n")
            time.sleep(0.01)

    with RawServer(answer) as server, client_for(server) as client:
        start = time.monotonic()
        assert "".join(chat(client).text_deltas()) == "hi"
        assert time.monotonic() - start < QUICK


def test_a_compressed_stream_silent_after_done_ends_at_once():
    compressor = gzip.compress(ROLE + WORD + STOP + DONE)

    def answer(conn: socket.socket, request: bytes) -> None:
        conn.sendall(HEAD.replace(b"\r\n\r\n", b"\r\nContent-Encoding: gzip\r\n\r\n")
                     + chunk(compressor))
        server.stopping.wait(READ_TIMEOUT * 2)  # never the last chunk

    with RawServer(answer) as server, client_for(server) as client:
        start = time.monotonic()
        assert "".join(chat(client).text_deltas()) == "hi"
        assert time.monotonic() - start < QUICK


def test_a_prompt_last_chunk_keeps_the_connection():
    def answer(conn: socket.socket, request: bytes) -> None:
        conn.sendall(HEAD + chunk(ROLE) + chunk(WORD + STOP) + chunk(DONE))
        conn.sendall(b"0\r\n\r\n")

    with RawServer(answer) as server, client_for(server) as client:
        for _ in range(3):
            assert "".join(chat(client).text_deltas()) == "hi"
        assert server.connections == 1
        # the drain's shorter socket timeout did not stay on the pooled connection
        start = time.monotonic()
        assert "".join(chat(client).text_deltas()) == "hi"
        assert time.monotonic() - start < QUICK and DRAIN_SECONDS < QUICK


# -- what the parser holds -----------------------------------------------------------------------

LINE = b"data: ab\n"
EVENT_BYTES = 2 * 1024 * 1024


def many_lines(lines: int, end: bytes) -> RawServer:
    body = LINE * lines
    frames = b"".join(chunk(body[i:i + 65536]) for i in range(0, len(body), 65536))
    payload = HEAD + frames + chunk(end) + b"0\r\n\r\n"

    def answer(conn: socket.socket, request: bytes) -> None:
        conn.sendall(payload)

    return RawServer(answer)


@pytest.mark.parametrize("end, error", [
    (b"", chatmini.IncompleteStreamError),  # the event never completes
    (b"\n", chatmini.APIResponseValidationError),  # it completes (and is not JSON)
], ids=["held", "dispatched"])
def test_an_event_of_many_short_data_lines_is_held_in_about_its_bytes(end, error):
    lines = EVENT_BYTES // len(LINE)
    orjson = use_orjson(False)  # orjson's own peak (~13x a text under 1 MiB) is not the parser's
    with many_lines(lines, end) as server, client_for(server) as client:
        tracemalloc.start()
        try:
            with pytest.raises(error):
                list(chat(client))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            use_orjson(orjson)
    # a string per data line cost ~60 bytes per 9-byte line: 13 MB here
    assert peak < 2 * EVENT_BYTES, f"peak {peak / 2**20:.1f} MiB for a 2 MiB event"


# -- the event-size limit, on every read ---------------------------------------------------------

LIMIT = 1000


def big_event(size: int) -> bytes:
    payload = json.dumps({"choices": [], "pad": "x" * size})
    return b"data: " + payload.encode() + b"\n\n"


def reads(*pieces: bytes, pause: float = 0.2) -> RawServer:
    """Each piece its own chunk, with a pause before the next so each is its own read."""

    def answer(conn: socket.socket, request: bytes) -> None:
        conn.sendall(HEAD)
        for piece in pieces:
            conn.sendall(chunk(piece))
            time.sleep(pause)
        conn.sendall(b"0\r\n\r\n")

    return RawServer(answer)


OVER_THE_LIMIT = {
    "in one read": (big_event(5 * LIMIT),),
    "its first read over the limit, then its last": (big_event(5 * LIMIT)[:-20],
                                                       big_event(5 * LIMIT)[-20:]),
    "two reads each under the limit": (big_event(LIMIT)[:700], big_event(LIMIT)[700:]),
    "many short data lines": (b"data: 12\n" * LIMIT + b"\n",),
    "after a small event in the same read": (WORD + big_event(5 * LIMIT)[:-2],),
}


@pytest.mark.parametrize("pieces", OVER_THE_LIMIT.values(), ids=list(OVER_THE_LIMIT))
def test_an_event_over_the_limit_fails_whatever_its_reads(pieces):
    with reads(*pieces, DONE) as server, client_for(server, max_response_bytes=LIMIT) as client:
        with pytest.raises(chatmini.APIResponseValidationError,
                           match="larger than max_response_bytes=1,000"):
            list(chat(client))


def test_many_events_under_the_limit_in_one_read_are_fine():
    events = WORD * 100  # 100 small events, ~5 KB, in one read
    with reads(ROLE + events + STOP + DONE) as server, \
            client_for(server, max_response_bytes=LIMIT) as client:
        assert "".join(chat(client).text_deltas()) == "hi" * 100
