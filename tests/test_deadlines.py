"""Every call ends within its bounds: headers dripped line by line are bounded by the read
timeout as a whole, and ``Timeout(total=...)`` ends a call across attempts, backoff sleeps,
header drip and body with an APITimeoutError saying which limit it was; no retry starts a
sleep that would pass the deadline. Every timeout form (seconds, pairs, Timeout, httpx-style
objects) is accepted. Over real sockets; bounds have wide margins (a loaded machine)."""

from __future__ import annotations

import socket
import time
from types import SimpleNamespace

import openai
import pytest

import chatmini
from chatmini.plugins.oauth2 import OAuth2ClientCredentials
from chatmini.testing import Fault, FaultProxy, Reply

from .conftest import HI, SECRET_KEY
from .raw_server import RawServer, json_answer
from .test_connections import COMPLETION

SLACK = 3.0  # seconds a bound may be overshot on a loaded machine


def drip_headers(lines: int = 40, every: float = 0.3):
    """Answers with one header line every ``every`` seconds (12 s in all by default)."""
    def answer(conn: socket.socket, request: bytes) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        for i in range(lines):
            time.sleep(every)
            conn.sendall(b"X-Drip-%d: x\r\n" % i)
        conn.sendall(json_answer(COMPLETION.encode()).split(b"\r\n", 1)[1])
    return answer


def timed(call):
    start = time.monotonic()
    try:
        return call(), time.monotonic() - start
    except Exception as exc:  # noqa: BLE001 - the tests check which
        return exc, time.monotonic() - start


def create(client, **options):
    return client.chat.completions.create(model="m", messages=HI, **options)


def test_dripped_headers_are_bounded_by_the_read_timeout():
    with RawServer(drip_headers()) as server:
        client = chatmini.Client(api_key=SECRET_KEY, base_url=server.base_url, timeout=(2, 1),
                                 max_retries=0)
        error, took = timed(lambda: create(client))
    assert isinstance(error, chatmini.APITimeoutError), error
    assert "the response headers took longer than the 1 s read timeout" in str(error)
    assert took < 1 + SLACK


def test_dripped_headers_are_bounded_by_the_total_across_retries():
    with RawServer(drip_headers()) as server:
        client = chatmini.Client(api_key=SECRET_KEY, base_url=server.base_url,
                                 timeout=chatmini.Timeout(connect=2, read=1.5, total=2.5),
                                 max_retries=5)
        error, took = timed(lambda: create(client))
    assert isinstance(error, chatmini.APITimeoutError), error
    assert "the 2.5 s total deadline passed" in str(error)
    assert took < 2.5 + SLACK and server.requests == 2  # 1.5 s, then the 1 s left


def test_a_slow_answer_ends_at_the_total(make_client, server):
    server.enqueue(Reply(delay=8))
    client = make_client(timeout=chatmini.Timeout(read=30, total=1))
    error, took = timed(lambda: create(client))
    assert isinstance(error, chatmini.APITimeoutError), error
    assert "the 1 s total deadline passed" in str(error) and took < 1 + SLACK


def test_a_dripping_body_ends_at_the_total(server):
    with FaultProxy(server.url) as proxy:
        proxy.enqueue(Fault("drip", after_headers=True, size=1, interval=0.2))
        client = chatmini.Client(api_key=SECRET_KEY, base_url=proxy.base_url, max_retries=0,
                                 timeout=chatmini.Timeout(read=30, total=1.5))
        error, took = timed(lambda: create(client))
    assert isinstance(error, chatmini.APITimeoutError), error
    assert "total deadline passed" in str(error) and took < 1.5 + SLACK


@pytest.mark.framings
def test_a_stream_ends_at_the_total(make_client, server):
    server.enqueue(Reply(content="one two three four", pause_after=2, pause=8))
    client = make_client(timeout=chatmini.Timeout(read=30, total=1.5))
    start = time.monotonic()
    with pytest.raises(chatmini.IncompleteStreamError) as info:
        with create(client, stream=True) as stream:
            stream.get_final_completion()
    assert "the 1.5 s total deadline passed" in str(info.value)
    assert time.monotonic() - start < 1.5 + SLACK


@pytest.mark.framings
def test_a_dripping_stream_ends_at_the_total(server):
    # bytes keep coming (every read returns), so only the deadline on each recv can end it
    with FaultProxy(server.url) as proxy:
        proxy.enqueue(Fault("drip", after_headers=True, size=1, interval=0.05))
        client = chatmini.Client(api_key=SECRET_KEY, base_url=proxy.base_url, max_retries=0,
                                 timeout=chatmini.Timeout(read=30, total=1.5))
        start = time.monotonic()
        with pytest.raises(chatmini.IncompleteStreamError) as info:
            with create(client, stream=True) as stream:
                for _ in stream:
                    pass
        took = time.monotonic() - start
    assert "the 1.5 s total deadline passed" in str(info.value) and took < 1.5 + SLACK


def test_no_retry_starts_a_sleep_that_would_pass_the_deadline(make_client, server):
    server.enqueue(*[Reply(status=503, headers={"Retry-After": "5"})] * 3)
    client = make_client(max_retries=3, timeout=chatmini.Timeout(total=3))
    error, took = timed(lambda: create(client))
    assert isinstance(error, chatmini.InternalServerError)  # the real reason, at once
    assert took < SLACK and len(server.requests) == 1


def test_backoff_stops_before_the_deadline(make_client, server):
    server.enqueue(*[Reply(status=503)] * 10)
    client = make_client(retry=chatmini.RetryPolicy(9, backoff_factor=0.4, backoff_jitter=0.0),
                         timeout=chatmini.Timeout(total=2))
    error, took = timed(lambda: create(client))
    assert isinstance(error, chatmini.InternalServerError)
    assert took < 2 + SLACK
    assert 2 <= len(server.requests) <= 4  # waits of 0.4, 0.8 fit; 1.6 more would not


def test_the_deadline_is_per_call(make_client, server):
    client = make_client(timeout=chatmini.Timeout(total=1))
    for _ in range(3):
        time.sleep(0.4)
        assert create(client).choices  # 1.2 s after the first: a fresh deadline each call
    server.enqueue(Reply(delay=8))
    error, took = timed(lambda: create(client, timeout=chatmini.Timeout(read=30, total=0.5)))
    assert isinstance(error, chatmini.APITimeoutError) and took < 0.5 + SLACK


def test_the_oauth2_token_endpoint_honours_its_total(make_client, server):
    server.tokens.enqueue(Reply(delay=8), Reply(delay=8))
    oauth = OAuth2ClientCredentials(server.token_url, server.tokens.client_id,
                                    server.tokens.client_secret,
                                    timeout=chatmini.Timeout(connect=2, read=30, total=1))
    client = make_client(api_key=None, auth=oauth)
    error, took = timed(lambda: create(client))
    assert isinstance(error, chatmini.APITimeoutError), error
    assert "total deadline passed" in str(error) and took < 1 + SLACK


# -- the forms a timeout may take -----------------------------------------------------------------


@pytest.mark.parametrize("given, expected", [
    (30, chatmini.Timeout(30)),
    (2.5, chatmini.Timeout(connect=2.5, read=2.5)),
    ((3, 60), chatmini.Timeout(connect=3, read=60)),
    ((None, 60), chatmini.Timeout(connect=None, read=60)),
    (chatmini.Timeout(total=90), chatmini.Timeout(connect=5, read=600, total=90)),
    (openai.Timeout(60, connect=3), chatmini.Timeout(connect=3, read=60)),
    (openai.Timeout(600.0, connect=5.0), chatmini.Timeout(connect=5, read=600)),
    (openai.Timeout(None), chatmini.Timeout(connect=None, read=None)),
    (SimpleNamespace(connect=4, read=40, write=9, pool=1), chatmini.Timeout(connect=4, read=40)),
])
def test_every_timeout_form_is_accepted(make_client, server, given, expected):
    client = make_client(timeout=given)
    assert client.timeout == expected
    assert create(client).choices
    assert create(make_client(), timeout=given).choices


def test_a_call_timeout_keeps_the_clients_total_and_stream_idle(make_client):
    client = make_client(timeout=chatmini.Timeout(total=60, stream_idle=7))
    request = client.build_request("POST", "/chat/completions", {}, timeout=(1, 2))
    assert request.timeout == chatmini.Timeout(connect=1, read=2, stream_idle=7, total=60)
    stream = client.build_request("POST", "/chat/completions", {}, stream=True, timeout=(1, 2))
    assert stream.timeout.read == 7
    explicit = client.build_request("POST", "/x", {}, timeout=chatmini.Timeout(read=3))
    assert explicit.timeout == chatmini.Timeout(read=3)


def test_stream_idle_timeout_and_timeout_must_agree():
    client = chatmini.Client(api_key="k", timeout=chatmini.Timeout(stream_idle=5),
                             stream_idle_timeout=5)
    assert client.stream_idle_timeout == 5
    with pytest.raises(chatmini.InvalidRequestError,
                       match=r"stream_idle_timeout=9 and timeout= \(stream_idle=5.0\) disagree"):
        chatmini.Client(api_key="k", timeout=chatmini.Timeout(stream_idle=5),
                        stream_idle_timeout=9)


@pytest.mark.parametrize("bad", [
    float("nan"), float("inf"), 1e308, -1, 0, (True, True), "30", (1, 2, 3),
    chatmini.Timeout, {"read": 3},
])
def test_a_bad_timeout_is_refused(bad):
    with pytest.raises(chatmini.InvalidRequestError, match="timeout"):
        chatmini.Client(api_key="k", timeout=bad)


@pytest.mark.parametrize("part", ["connect", "read", "stream_idle", "total"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), 0, -2, True, "5"])
def test_a_bad_timeout_part_is_refused(part, value):
    with pytest.raises(chatmini.InvalidRequestError, match=part):
        chatmini.Timeout(**{part: value})
