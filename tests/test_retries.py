"""Retries: counts, Retry-After forms, x-should-retry, limits; each attempt is a real request."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest

import chatmini
from chatmini.retry import RetryPolicy
from chatmini.testing import Reply

from .conftest import HI


def create(client):
    return client.chat.completions.create(model="m", messages=HI)


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried(client, server, status):
    server.enqueue(Reply(status=status), Reply(status=status))
    assert create(client).choices[0].message.content == "echo: hi"
    assert len(server.requests) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_not_retried(client, server, status):
    server.enqueue(Reply(status=status))
    with pytest.raises(chatmini.APIStatusError):
        create(client)
    assert len(server.requests) == 1


def test_max_retries_counts_and_raises_last_error(make_client, server):
    client = make_client(max_retries=3)
    server.enqueue(*[Reply(status=503)] * 5)
    with pytest.raises(chatmini.InternalServerError):
        create(client)
    assert len(server.requests) == 4


def test_max_retries_zero_means_one_attempt(make_client, server):
    client = make_client(max_retries=0)
    server.enqueue(Reply(status=500))
    with pytest.raises(chatmini.InternalServerError):
        create(client)
    assert len(server.requests) == 1


def test_default_client_retries_twice(server):
    client = chatmini.Client(api_key="k", base_url=server.base_url,
                             retry=RetryPolicy(backoff_factor=0.01))
    assert client.max_retries == 2
    server.enqueue(*[Reply(status=500)] * 3)
    with pytest.raises(chatmini.InternalServerError):
        create(client)
    assert len(server.requests) == 3


def test_connection_errors_and_timeouts_are_retried(make_client, server):
    client = make_client(max_retries=2, timeout=(2.0, 0.3))
    server.enqueue(Reply(drop=True), Reply(delay=1.5))
    assert create(client).choices[0].message.content == "echo: hi"
    assert len(server.requests) == 3


def test_retries_resend_the_body_byte_identical(client, server):
    server.enqueue(Reply(status=500), Reply(status=429))
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "é ☃ \u2028"}])
    bodies = {r.body for r in server.requests}
    assert len(server.requests) == 3 and len(bodies) == 1


def elapsed_of(client) -> float:
    start = time.monotonic()
    create(client)
    return time.monotonic() - start


@pytest.mark.parametrize(
    "headers, at_least",
    [
        ({"Retry-After": "1"}, 1.0),
        ({"Retry-After": "0.6"}, 0.6),
        ({"retry-after-ms": "400"}, 0.4),
        ({"retry-after-ms": "500", "Retry-After": "30"}, 0.5),
    ],
)
def test_retry_after_is_honoured(make_client, server, headers, at_least):
    client = make_client(retry=RetryPolicy(2, backoff_factor=0.0, backoff_jitter=0.0))
    server.enqueue(Reply(status=429, headers=headers))
    assert elapsed_of(client) >= at_least
    assert len(server.requests) == 2


def test_retry_after_http_date(make_client, server):
    client = make_client(retry=RetryPolicy(2, backoff_factor=0.0, backoff_jitter=0.0))
    server.enqueue(Reply(status=503, headers={"Retry-After": formatdate(time.time() + 2, usegmt=True)}))
    assert elapsed_of(client) >= 0.9  # the date has one-second resolution
    assert len(server.requests) == 2


def test_retry_after_beyond_limit_fails_fast_with_rate_limit_error(make_client, server):
    client = make_client()
    server.enqueue(Reply(status=429, headers={"Retry-After": "3600"}))
    start = time.monotonic()
    with pytest.raises(chatmini.RateLimitError):
        create(client)
    assert time.monotonic() - start < 5
    assert len(server.requests) == 1


def test_retry_after_limit_is_configurable(make_client, server):
    client = make_client(retry=RetryPolicy(2, retry_after_limit=0.1))
    server.enqueue(Reply(status=429, headers={"retry-after-ms": "500"}))
    with pytest.raises(chatmini.RateLimitError):
        create(client)
    assert len(server.requests) == 1


def test_unparseable_retry_after_falls_back_to_backoff(client, server):
    server.enqueue(Reply(status=429, headers={"Retry-After": "soon"}))
    assert create(client).choices
    assert len(server.requests) == 2


def test_x_should_retry_false_wins_over_status(client, server):
    server.enqueue(Reply(status=503, headers={"x-should-retry": "false"}))
    with pytest.raises(chatmini.InternalServerError):
        create(client)
    assert len(server.requests) == 1


def test_x_should_retry_true_wins_over_status(client, server):
    server.enqueue(Reply(status=400, headers={"x-should-retry": "true"}))
    assert create(client).choices
    assert len(server.requests) == 2


def test_insufficient_quota_is_not_retried(client, server):
    server.enqueue(Reply(status=429, body={"error": {
        "message": "You exceeded your current quota", "code": "insufficient_quota"}}))
    with pytest.raises(chatmini.RateLimitError, match="quota"):
        create(client)
    assert len(server.requests) == 1


def test_backoff_grows_and_is_capped():
    policy = RetryPolicy(10, backoff_jitter=0.0)
    waits = []
    for _ in range(6):
        policy = policy.increment("POST", "/x")
        waits.append(policy.get_backoff_time())
    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


def test_policy_is_immutable_and_subclass_survives_increment():
    class Mine(RetryPolicy):
        pass

    policy = Mine(3, retry_after_limit=5.0)
    nxt = policy.increment("POST", "/x")
    assert type(nxt) is Mine and nxt.retry_after_limit == 5.0
    assert policy.total == 3 and nxt.total == 2 and policy.history == ()


def test_each_attempt_is_numbered_for_plugins(client, server):
    seen = []

    class Watch:
        @chatmini.hookimpl
        def chatmini_prepare_request(self, request):
            seen.append((request.attempt, request.retries))

    client.plugin_manager.register(Watch())
    server.enqueue(Reply(status=500), Reply(status=500))
    create(client)
    assert seen == [(1, 0), (2, 1), (3, 2)]
