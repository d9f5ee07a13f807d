"""What a server says about waiting and usage is trusted only within bounds: an absurd
``retry-after-ms``/``Retry-After`` never reaches ``time.sleep`` (ignored, or the call fails
at once when it is finite but too long), and an absurd ``usage`` or ``x-ratelimit-*`` header
never stalls a rate limiter beyond a minute's budget or raises out of it. Over real sockets,
with hypothesis properties over any header and usage values."""

from __future__ import annotations

import json
import math
import time
import uuid
from types import SimpleNamespace

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from urllib3.response import HTTPResponse

import chatmini
from chatmini.plugins.ratelimit import RateLimiter
from chatmini.retry import RetryPolicy
from chatmini.testing import Reply

from .conftest import HI
from .redis_support import RedisServer

ABSURD_WAITS = ["nan", "NaN", "inf", "-inf", "Infinity", "-1", "-0.5", "1e999", "9" * 400,
                "0x10", "", " ", "soon", "1_000"]


def create(client, **kw):
    return client.chat.completions.create(model="m", messages=HI, **kw)


@pytest.mark.parametrize("header", ["retry-after-ms", "Retry-After"])
@pytest.mark.parametrize("value", ABSURD_WAITS)
def test_an_absurd_wait_is_ignored_and_the_backoff_applies(make_client, server, header, value):
    server.enqueue(Reply(status=429, headers={header: value}))
    start = time.monotonic()
    assert create(make_client()).choices  # retried after the (short) backoff
    assert len(server.requests) == 2 and time.monotonic() - start < 5


@pytest.mark.parametrize("header, value", [
    ("retry-after-ms", "1000000000000"), ("retry-after-ms", "3600000"), ("Retry-After", "86400"),
    ("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT"),
])
def test_a_finite_but_huge_wait_fails_at_once(make_client, server, header, value):
    server.enqueue(Reply(status=429, headers={header: value}))
    start = time.monotonic()
    with pytest.raises(chatmini.RateLimitError):
        create(make_client())
    assert len(server.requests) == 1 and time.monotonic() - start < 5


header_values = st.one_of(
    st.sampled_from(ABSURD_WAITS), st.text(max_size=30),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-10**30, max_value=10**30).map(str),
)


@settings(max_examples=500, deadline=None)
@given(ms=st.none() | header_values, after=st.none() | header_values,
       retries=st.integers(0, 6))
def test_the_wait_before_a_retry_is_always_sane(ms, after, retries):
    headers = {k: v for k, v in (("retry-after-ms", ms), ("retry-after", after)) if v is not None}
    response = HTTPResponse(body=b"", headers=headers, status=429, preload_content=False)
    policy = RetryPolicy(10)
    for _ in range(retries):
        policy = policy.increment("POST", "/x", response=response)
    wait = policy.next_wait(response)
    assert isinstance(wait, float) and math.isfinite(wait) and wait >= 0
    assert wait <= policy.retry_after_limit or policy.wait_too_long(response)


# -- the rate limiters ---------------------------------------------------------------------------

# JSON literals for a usage count: huge, negative, infinite (Python reads 1e999 and Infinity
# as inf), NaN, and not numbers at all
ABSURD_USAGE = ["1000000000", str(2**64 - 1), "1" + "0" * 400, "-5", "-1" + "0" * 400, "1e308",
                "1e999", "Infinity", "NaN", '"lots"', "null", "true", "[1]", '{"n": 1}']


def usage_json(literal: str) -> str:
    return (f'{{"prompt_tokens": {literal}, "completion_tokens": {literal}, '
            f'"total_tokens": {literal}}}')


def completion_with(literal: str) -> bytes:
    return ('{"id": "c", "object": "chat.completion", "choices": [{"index": 0, "message": '
            '{"role": "assistant", "content": "ok"}, "finish_reason": "stop"}], '
            f'"usage": {usage_json(literal)}}}').encode()


def stream_with(literal: str) -> bytes:
    return (b'data: {"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}'
            b'\n\ndata: {"choices":[],"usage":' + usage_json(literal).encode() + b"}\n\n"
            b"data: [DONE]\n\n")


def stall(limiter: RateLimiter) -> float:
    """Seconds until the limiter lets the next tokens go."""
    return limiter.budget.tokens.ready_at - time.monotonic()


@pytest.mark.parametrize("usage", ABSURD_USAGE)
@pytest.mark.parametrize("stream", [False, True])
def test_absurd_usage_never_stalls_the_limiter_beyond_a_minute(make_client, server, usage,
                                                               stream):
    limiter = RateLimiter(tpm=60_000)
    client = make_client(plugins=[limiter])
    if stream:
        server.enqueue(Reply(raw_stream=stream_with(usage)))
        with create(client, stream=True, stream_options={"include_usage": True}) as s:
            s.get_final_completion()
    else:
        server.enqueue(Reply(body=completion_with(usage), content_type="application/json"))
        create(client)
    assert stall(limiter) <= 60.5  # one minute's budget at most, never days
    if stall(limiter) < 1:  # a count that says nothing: the next call goes at once
        assert create(client).choices


@settings(max_examples=400, deadline=None)
@given(
    headers=st.dictionaries(
        st.sampled_from(["x-ratelimit-remaining-requests", "x-ratelimit-reset-requests",
                         "x-ratelimit-limit-requests", "x-ratelimit-remaining-tokens",
                         "x-ratelimit-reset-tokens", "x-ratelimit-limit-tokens", "retry-after",
                         "retry-after-ms"]),
        header_values, max_size=8),
    status=st.sampled_from([200, 429, 503]),
    usage=st.sampled_from(ABSURD_USAGE) | st.integers().map(str) | st.floats().map(
        lambda f: json.dumps(f)),
    cost=st.integers(0, 10**6),
)
def test_the_limiter_bounds_whatever_the_server_says(headers, status, usage, cost):
    limiter = RateLimiter(tpm=6000, max_cooldown=60)
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers)
    response._content = completion_with(usage)
    response.raw = HTTPResponse(body=b"", headers=headers, status=status, preload_content=False)
    client = SimpleNamespace(retry=RetryPolicy())
    pause, delta = limiter._judge(response, cost, client, stream=False)
    assert 0 <= pause <= 60
    assert -cost <= delta <= max(0.0, 6000 - cost)
    stream = SimpleNamespace(usage=json.loads(usage_json(usage)), chunk_count=3)
    request = SimpleNamespace(context={"chatmini.ratelimit.stream": (None, cost)}, params={},
                              endpoint="/chat/completions")
    limiter.budget.in_flight = 1
    limiter.chatmini_stream_end(request, stream, None)
    assert stall(limiter) <= 61


def test_absurd_usage_never_stalls_the_shared_limiter(make_client, server):
    with RedisServer() as redis_server:
        key = f"test-{uuid.uuid4().hex[:8]}"
        limiter = chatmini.RedisRateLimiter(redis_server.url, tpm=60_000, key=key)
        try:
            client = make_client(plugins=[limiter])
            for usage in (10**400, 2**64 - 1, 10**9):
                server.enqueue(Reply(body=completion_with(str(usage)),
                                     content_type="application/json"))
                create(client)
            limiter.budget.flush()
            redis = redis_server.client()
            ready = float(redis.hget(f"chatmini:ratelimit:{{{key}}}:state", "tok"))
            seconds, micros = redis.time()
            assert ready - (seconds + micros / 1e6) <= 60.5
        finally:
            limiter.close()
