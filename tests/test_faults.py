"""Every fault a flaky network or a broken server can produce, over real sockets: the call ends
in a result or the right chatmini exception, within its timeout, without the key in the message,
and the client keeps working afterwards. docs/faults.md lists these tests by fault."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional, Union

import pytest

import chatmini
from chatmini.testing import Fault, FaultProxy, Reply, Server

from .conftest import HI, SECRET_KEY

TIMEOUT = (2.0, 1.0)  # (connect, read): stalls and drips hit the read timeout quickly
BOUND = 10.0  # generous: any call here ends well within this many seconds
LONG_TEXT = " ".join(f"word{i}" for i in range(60))
Outcome = Union[str, BaseException]


@pytest.fixture
def proxy(server: Server) -> Iterator[FaultProxy]:
    with FaultProxy(server.url) as fault_proxy:
        yield fault_proxy


@pytest.fixture
def other() -> Iterator[Server]:
    """Another host, the target of redirects: it must never hear from the client."""
    with Server() as srv:
        yield srv


@pytest.fixture
def connect(proxy: FaultProxy) -> Iterator[Callable[..., chatmini.Client]]:
    """Clients that go through the fault proxy, with fast retries; closed after the test."""
    made: list[chatmini.Client] = []

    def make(retries: int = 0, **kwargs: Any) -> chatmini.Client:
        retry = chatmini.RetryPolicy(retries, backoff_factor=0.01, backoff_jitter=0.0)
        kwargs.setdefault("timeout", TIMEOUT)
        client = chatmini.Client(api_key=SECRET_KEY, base_url=proxy.base_url, retry=retry,
                                 **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def call(client: chatmini.Client, stream: bool) -> Outcome:
    """One chat call (streamed or not) to its text, or the exception it ended with."""
    try:
        if stream:
            with client.chat.completions.create(model="m", messages=HI, stream=True) as s:
                return s.get_final_completion().choices[0].message.content
        return client.chat.completions.create(model="m", messages=HI).choices[0].message.content
    except Exception as exc:  # noqa: BLE001 - the tests check which
        return exc


def assert_no_secret(exc: BaseException) -> None:
    """Neither the error nor anything in its cause chain shows the key."""
    seen: Optional[BaseException] = exc
    while seen is not None:
        assert SECRET_KEY not in str(seen) and SECRET_KEY not in repr(seen)
        seen = seen.__cause__ or seen.__context__


def assert_still_works(client: chatmini.Client) -> None:
    assert call(client, stream=False) == "echo: hi"
    assert call(client, stream=True) == "echo: hi"


@dataclass(frozen=True)
class Case:
    """One fault: how to script it, and what the call must end in."""

    id: str
    script: Callable[[Server, FaultProxy, Server], None]
    expect: Union[type[BaseException], str]  # an exception class, or the result text
    stream: bool = False
    retries: int = 0
    match: str = ""  # text the error message must contain
    check: Optional[Callable[[Server, FaultProxy, Server, Outcome], None]] = None


def proxied(*faults: Fault) -> Callable[[Server, FaultProxy, Server], None]:
    return lambda server, proxy, other: proxy.enqueue(*faults)


def served(*replies: Reply) -> Callable[[Server, FaultProxy, Server], None]:
    return lambda server, proxy, other: server.enqueue(*replies)


def redirect(status: int) -> Callable[[Server, FaultProxy, Server], None]:
    return lambda server, proxy, other: server.enqueue(Reply(
        status=status, headers={"Location": other.base_url + "/chat/completions"}, body=b""))


def attempts(n: int) -> Callable[[Server, FaultProxy, Server, Outcome], None]:
    def check(server: Server, proxy: FaultProxy, other: Server, outcome: Outcome) -> None:
        assert len(server.requests) == n
    return check


def other_untouched(server: Server, proxy: FaultProxy, other: Server, outcome: Outcome) -> None:
    assert other.requests == [] and other.connections_opened == 0
    assert isinstance(outcome, chatmini.APIStatusError) and 300 <= outcome.status_code < 400


def partial_is_a_prefix(server: Server, proxy: FaultProxy, other: Server,
                        outcome: Outcome) -> None:
    assert isinstance(outcome, chatmini.IncompleteStreamError)
    assert "echo: hi".startswith(outcome.partial_text)


def body(text: bytes) -> Reply:
    return Reply(body=text, content_type="application/json")


def sse(*lines: bytes) -> Reply:
    return Reply(raw_stream=b"".join(lines))


CHUNK = b'data: {"choices":[{"index":0,"delta":{"content":"%s"},"finish_reason":null}]}\n\n'
STOP = b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
DONE = b"data: [DONE]\n\n"

CASES = [
    # connection reset before the answer: no response yet, so it is retried
    Case("reset-before-answer", proxied(Fault("reset")), chatmini.APIConnectionError,
         match="reset"),
    Case("reset-before-answer-stream", proxied(Fault("reset")), chatmini.APIConnectionError,
         stream=True, match="reset"),
    Case("reset-before-answer-retried", proxied(Fault("reset")), "echo: hi", retries=1,
         check=attempts(2)),
    # reset after the headers: a plain body is re-read by a retry; a stream cannot be
    Case("reset-after-headers", proxied(Fault("reset", after_headers=True)),
         chatmini.APIConnectionError, match="cut off"),
    Case("reset-after-headers-retried", proxied(Fault("reset", after_headers=True)),
         "echo: hi", retries=1, check=attempts(2)),
    Case("reset-after-headers-stream", proxied(Fault("reset", after_headers=True)),
         chatmini.IncompleteStreamError, stream=True, retries=2, check=attempts(1)),
    # truncation: a clean close part-way
    Case("truncated-by-close", proxied(Fault("close", after_headers=True, after=5)),
         chatmini.APIConnectionError, match="cut off"),
    Case("truncated-by-close-stream", proxied(Fault("close", after_headers=True, after=60)),
         chatmini.IncompleteStreamError, stream=True, check=partial_is_a_prefix),
    # a close inside the headers: http.client takes the EOF for their end, so the answer
    # looks like a 200 with an empty body (the soak met this one)
    Case("close-inside-headers", proxied(Fault("close", after=20)),
         chatmini.APIResponseValidationError, match="empty body"),
    Case("close-inside-headers-stream", proxied(Fault("close", after=20)),
         chatmini.IncompleteStreamError, stream=True, match="before [DONE]"),
    # stall longer than the read timeout
    Case("stall-before-answer", proxied(Fault("stall")), chatmini.APITimeoutError,
         match="timed out"),
    Case("stall-before-answer-stream", proxied(Fault("stall")), chatmini.APITimeoutError,
         stream=True, match="timed out"),
    Case("stall-inside-stream", proxied(Fault("stall", after_headers=True, after=60)),
         chatmini.IncompleteStreamError, stream=True, match="idle"),
    # slow drip: one byte every 100 ms never trips a socket timeout, but the call is bounded
    Case("drip-body", proxied(Fault("drip", after_headers=True)), chatmini.APITimeoutError,
         match="body took longer"),
    Case("drip-stream", proxied(Fault("drip", after_headers=True)),
         chatmini.IncompleteStreamError, stream=True, match="trickled"),
    Case("drip-ten-bytes", proxied(Fault("drip", limit=10)), "echo: hi"),
    Case("drip-ten-bytes-stream", proxied(Fault("drip", after_headers=True, limit=10)),
         "echo: hi", stream=True),
    # a burst of 5xx
    Case("5xx-burst-within-retries", served(Reply(status=503), Reply(status=500)), "echo: hi",
         retries=2, check=attempts(3)),
    Case("5xx-burst-beyond-retries", served(*[Reply(status=502)] * 3),
         chatmini.InternalServerError, retries=2, match="502", check=attempts(3)),
    Case("5xx-burst-stream", served(Reply(status=503), Reply(status=503)), "echo: hi",
         stream=True, retries=2),
    # a storm of 429, with and without Retry-After
    Case("429-storm-retry-after", served(*[Reply(status=429, headers={"Retry-After": "0.05"})] * 3),
         chatmini.RateLimitError, retries=2, match="429", check=attempts(3)),
    Case("429-storm-no-retry-after", served(*[Reply(status=429)] * 3), chatmini.RateLimitError,
         retries=2, check=attempts(3)),
    Case("429-then-success", served(Reply(status=429), Reply(status=429)), "echo: hi",
         retries=2),
    Case("429-asks-for-an-hour", served(Reply(status=429, headers={"Retry-After": "3600"})),
         chatmini.RateLimitError, retries=2, check=attempts(1)),
    # truncated JSON (a complete HTTP answer whose JSON stops short)
    Case("truncated-json", served(body(b'{"id":"x","choices":[{"message":{"content":"he')),
         chatmini.APIResponseValidationError, match="Expected a JSON object"),
    Case("truncated-json-error", served(Reply(status=400, body=b'{"error":{"message":"ba',
                                              content_type="application/json")),
         chatmini.BadRequestError, match='{"error":{"message":"ba'),
    # malformed event-stream bytes
    Case("sse-bad-json", served(sse(b'data: {"choices": [\n\n')),
         chatmini.APIResponseValidationError, stream=True, match="not a JSON object"),
    Case("sse-binary-garbage", served(sse(bytes(range(256)) * 4)),
         chatmini.IncompleteStreamError, stream=True),
    Case("sse-no-line-end", served(sse(CHUNK % b"hi", b"data: [DONE]")),
         chatmini.IncompleteStreamError, stream=True),
    Case("sse-only-comments", served(sse(b": keep-alive\n\nevent: ping\n\nid: 1\n\n")),
         chatmini.IncompleteStreamError, stream=True),
    Case("sse-noise-around-events",
         served(sse(b"\xef\xbb\xbf: \x00\xff\r\nretry: x\r\n", CHUNK % b"ok", b"bogus\r\r",
                    STOP, DONE)), "ok", stream=True),
    Case("sse-json-not-an-object", served(sse(b"data: [1, 2]\n\n", DONE)),
         chatmini.APIResponseValidationError, stream=True),
    # invalid UTF-8
    Case("utf8-json-body", served(body(b'{"choices":[{"message":{"content":"\xff"}}]}')),
         chatmini.APIResponseValidationError),
    Case("utf8-error-body", served(Reply(status=400, body=b"bad \xff\xfe request")),
         chatmini.BadRequestError, match="bad \ufffd\ufffd request"),
    Case("utf8-stream", served(sse(CHUNK % b"a\xffb", STOP, DONE)), "a\ufffdb", stream=True),
    # a redirect to another host: not followed, so the key never travels there
    Case("redirect-307", redirect(307), chatmini.APIStatusError, match="307",
         check=other_untouched),
    Case("redirect-302-stream", redirect(302), chatmini.APIStatusError, stream=True,
         check=other_untouched),
    Case("redirect-308-retried", redirect(308), chatmini.APIStatusError, retries=2,
         check=other_untouched),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fault(case: Case, server, proxy, other, connect):
    client = connect(retries=case.retries)
    case.script(server, proxy, other)
    scripted = proxy.pending
    start = time.monotonic()
    outcome = call(client, case.stream)
    assert time.monotonic() - start < BOUND
    assert sum(proxy.fired.values()) == scripted  # each scripted proxy fault really happened
    if isinstance(case.expect, str):
        assert outcome == case.expect
    else:
        assert isinstance(outcome, case.expect), repr(outcome)
        assert case.match in str(outcome)
        assert_no_secret(outcome)
    if case.check is not None:
        case.check(server, proxy, other, outcome)
    assert_still_works(client)


@pytest.mark.framings
@pytest.mark.parametrize("action", ["reset", "close"])
def test_a_cut_at_any_byte_of_a_stream_loses_nothing_silently(server, proxy, connect, action):
    client = connect(retries=2)
    rng = random.Random(20240611)
    offsets = sorted(rng.sample(range(0, 3000), 12))
    for offset in offsets:
        server.enqueue(Reply(content=LONG_TEXT))
        proxy.enqueue(Fault(action, after_headers=True, after=offset))
        try:
            with client.chat.completions.create(model="m", messages=HI, stream=True) as s:
                text = s.get_final_completion().choices[0].message.content
            assert text == LONG_TEXT  # cut after every choice had finished
        except chatmini.IncompleteStreamError as exc:
            assert LONG_TEXT.startswith(exc.partial_text)
            assert exc.chunk_count >= 0 and SECRET_KEY not in str(exc)
    assert proxy.fired[f"{action}@headers+{offsets[0]}"] == 1
    assert sum(proxy.fired.values()) == len(offsets)
    assert_still_works(client)


def test_faults_on_pooled_connections_do_not_poison_the_pool(server, proxy, connect):
    client = connect(retries=2)
    for _ in range(3):
        assert call(client, stream=False) == "echo: hi"
    opened = proxy.connections_opened
    proxy.enqueue(Fault("reset"), None, Fault("close", after_headers=True, after=3))
    for _ in range(3):
        assert call(client, stream=False) == "echo: hi"
    assert proxy.connections_opened == opened + 2  # one new connection per broken one
