"""The rate-limit plugin: budget arithmetic, header parsing, and limits held over real sockets."""

from __future__ import annotations

import re
import threading
import time

import pytest

import chatmini
from chatmini.batching import batch
from chatmini.plugins._budget import Budget, Pacer
from chatmini.plugins._ratelimit_headers import parse_duration, pause_from_headers
from chatmini.plugins.ratelimit import RateLimiter, estimate_tokens
from chatmini.testing import Reply

from .conftest import HI


class FrozenClock:
    """A clock tests move by hand (only for code paths that never need to wait)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def create(client, **kw):
    return client.chat.completions.create(model="m", messages=HI, **kw)


# --- arithmetic -------------------------------------------------------------------------------


@pytest.mark.parametrize("text, seconds", [
    ("6m0s", 360.0), ("1s", 1.0), ("17ms", 0.017), ("1m30.5s", 90.5), ("2h", 7200.0),
    ("1h2m3s", 3723.0), ("0.5s", 0.5), ("250us", 0.00025), ("20", 20.0), (" 3s ", 3.0),
])
def test_durations_parse(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", [None, "", "soon", "-1s", "5 s", "1x", "m", "1s2"])
def test_unreadable_durations_are_none(text):
    assert parse_duration(text) is None


def test_pause_when_the_server_has_too_little_left():
    assert pause_from_headers({"x-ratelimit-remaining-requests": "5"}, 10) == 0.0
    headers = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "6m0s"}
    assert pause_from_headers(headers, 10) == 360.0  # no limit header: wait the whole reset
    headers["x-ratelimit-limit-requests"] = "60"
    assert pause_from_headers(headers, 10) == pytest.approx(6.0)  # one request's worth
    tokens = {"x-ratelimit-remaining-tokens": "100", "x-ratelimit-reset-tokens": "1s",
              "x-ratelimit-limit-tokens": "1100"}
    assert pause_from_headers(tokens, 600) == pytest.approx(0.5)  # 500 missing of 1000 refilling
    assert pause_from_headers(tokens, 50) == 0.0
    assert pause_from_headers({"x-ratelimit-remaining-tokens": "junk"}, 1) == 0.0


def test_pacer_spaces_spends_evenly_and_refunds_never_build_a_burst():
    pacer = Pacer(per_minute=600)  # 10 a second
    pacer.take(0.0, 1)
    assert pacer.ready_at == pytest.approx(0.1)
    pacer.take(0.1, 5)
    assert pacer.ready_at == pytest.approx(0.6)
    pacer.adjust(0.2, -3)
    assert pacer.ready_at == pytest.approx(0.3)
    pacer.adjust(0.25, -10)  # more refund than owed: ready now, no credit for later
    assert pacer.ready_at == 0.25
    pacer.take(5.0, 1)  # idle time is not saved up either
    assert pacer.ready_at == pytest.approx(5.1)
    with pytest.raises(ValueError):
        Pacer(0)


def test_budget_wait_times():
    clock = FrozenClock()
    budget = Budget(rpm=60, tpm=600, max_concurrent=2, clock=clock)
    assert budget.wait_time(clock.now) == 0.0  # the first request goes at once
    budget.acquire(30)
    assert budget.wait_time(clock.now) == pytest.approx(3.0)  # 30 tokens at 10 a second
    clock.now += 3.0
    budget.acquire(1)
    clock.now += 1.0
    assert budget.wait_time(clock.now) is None  # both slots taken
    budget.release(-1)
    assert budget.wait_time(clock.now) == 0.0 and budget.in_flight == 1
    budget.cool_down(2.5)
    assert budget.wait_time(clock.now) == pytest.approx(2.5)


def test_token_estimate():
    params = {"messages": [{"role": "user", "content": "x" * 40}], "max_tokens": 50, "n": 2}
    assert estimate_tokens(params, 256) == 10 + 100
    parts = {"messages": [{"role": "user", "content": [{"type": "text", "text": "y" * 8}]}],
             "max_completion_tokens": 5}
    assert estimate_tokens(parts, 256) == 2 + 5
    assert estimate_tokens({"messages": [{"role": "user", "content": "hi"}]}, 256) == 1 + 256
    assert estimate_tokens({"model": "e", "input": ["abcd", "efgh"]}, 256) == 2
    assert estimate_tokens(None, 256) == 0


def test_settings_are_checked():
    with pytest.raises(chatmini.InvalidRequestError, match="rpm=, tpm= or max_concurrent="):
        RateLimiter()
    with pytest.raises(chatmini.InvalidRequestError, match="tpm"):
        RateLimiter(tpm=-5)
    assert repr(RateLimiter(rpm=120)) == "<RateLimiter rpm=120.0 tpm=None max_concurrent=None>"


@pytest.mark.parametrize("kwargs, name", [
    ({"tpm": "10"}, "tpm"), ({"rpm": float("inf")}, "rpm"), ({"rpm": 10**400}, "rpm"),
    ({"rpm": True}, "rpm"), ({"max_concurrent": 2.5}, "max_concurrent"),
    ({"rpm": 60, "max_cooldown": float("nan")}, "max_cooldown"),
    ({"rpm": 60, "max_cooldown": -1}, "max_cooldown"),
    ({"rpm": 60, "default_max_tokens": -5}, "default_max_tokens"),
    ({"rpm": 60, "default_max_tokens": "256"}, "default_max_tokens"),
])
def test_careless_settings_are_refused_naming_the_argument(make_client, server, kwargs, name):
    with pytest.raises(chatmini.InvalidRequestError, match=f"^{name} must be"):
        make_client(plugins=[RateLimiter(**kwargs)])
    assert server.requests == []
    limiter = RateLimiter(rpm=6000, default_max_tokens=0, max_cooldown=0)  # zero is allowed
    create(make_client(plugins=[limiter]))
    assert len(server.requests) == 1


# --- over real sockets ------------------------------------------------------------------------


def test_requests_per_minute_hold_without_an_initial_burst(make_client, server):
    limiter = RateLimiter(rpm=600)  # one request every 0.1 s
    client = make_client(plugins=[limiter], pool_maxsize=8)
    start = time.monotonic()
    results = batch(client, [str(i) for i in range(16)], workers=8)
    elapsed = time.monotonic() - start
    assert not any(isinstance(r, Exception) for r in results)
    assert 1.5 * 0.95 <= elapsed < 15  # 15 gaps of 0.1 s after the first request


def test_max_concurrent_caps_requests_in_flight(make_client, server):
    server.latency = 0.05
    peak = {"now": 0, "max": 0}
    lock = threading.Lock()

    class InFlight:
        @chatmini.hookimpl(wrapper=True)
        def chatmini_send(self):
            with lock:
                peak["now"] += 1
                peak["max"] = max(peak["max"], peak["now"])
            try:
                return (yield)
            finally:
                with lock:
                    peak["now"] -= 1

    limiter = RateLimiter(max_concurrent=2)
    client = make_client(plugins=[limiter, InFlight()], pool_maxsize=8)
    batch(client, [str(i) for i in range(16)], workers=8)
    assert peak["max"] == 2
    assert limiter.budget.in_flight == 0


def wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


def test_a_stream_holds_its_slot_until_it_ends(make_client, server):
    limiter = RateLimiter(max_concurrent=1)
    client = make_client(plugins=[limiter])
    stream = create(client, stream=True)
    other = threading.Thread(target=create, args=(client,))
    other.start()
    wait_until(lambda: limiter.budget.waiting == 1)
    assert len(server.requests) == 1  # the second call waits while the stream is open
    stream.close()
    other.join(5)
    assert len(server.requests) == 2 and limiter.budget.in_flight == 0


def test_token_estimate_is_corrected_with_the_real_usage(make_client, server):
    clock = FrozenClock()
    limiter = RateLimiter(tpm=60_000, clock=clock)  # 1000 tokens a second
    client = make_client(plugins=[limiter])
    create(client, max_tokens=1000)  # estimated 1001, used 1 + 2 ("echo: hi")
    assert limiter.budget.tokens.ready_at == pytest.approx(clock.now + 3 / 1000)


def test_failed_attempts_refund_their_tokens(make_client, server):
    clock = FrozenClock()
    limiter = RateLimiter(tpm=60_000, clock=clock)
    client = make_client(plugins=[limiter])
    server.enqueue(Reply(status=500), Reply(drop=True))
    create(client, max_tokens=1000)
    assert len(server.requests) == 3
    assert limiter.budget.tokens.ready_at == pytest.approx(clock.now + 3 / 1000)


def test_stream_tokens_come_from_its_usage_or_its_chunks(make_client, server):
    clock = FrozenClock()
    limiter = RateLimiter(tpm=60_000, clock=clock)
    client = make_client(plugins=[limiter])
    with create(client, stream=True, max_tokens=500,
                stream_options={"include_usage": True}) as stream:
        stream.get_final_completion()
    assert limiter.budget.tokens.ready_at == pytest.approx(clock.now + 3 / 1000)
    clock.now += 10
    server.enqueue(Reply(chunks=7))
    with create(client, stream=True, max_tokens=500) as stream:
        stream.get_final_completion()
    # no usage: the prompt estimate (1) plus one token per chunk (7 content + role + finish)
    expected = 1 + stream.chunk_count
    assert limiter.budget.tokens.ready_at == pytest.approx(clock.now + expected / 1000)


def test_a_429_cools_down_every_client_sharing_the_limiter(make_client, server):
    limiter = RateLimiter(max_concurrent=8)
    first = make_client(plugins=[limiter], max_retries=0)
    second = make_client(plugins=[limiter])
    server.enqueue(Reply(status=429, headers={"Retry-After": "0.4"}))
    with pytest.raises(chatmini.RateLimitError):
        create(first)
    start = time.monotonic()
    create(second)
    assert time.monotonic() - start >= 0.3


def test_a_429_without_retry_after_uses_the_reset_headers(make_client, server):
    clock = FrozenClock()
    limiter = RateLimiter(max_concurrent=4, clock=clock)  # no pacing: the clock stays put
    client = make_client(plugins=[limiter], max_retries=0)
    server.enqueue(Reply(status=429, headers={"x-ratelimit-remaining-requests": "0",
                                              "x-ratelimit-reset-requests": "1m30s"}))
    with pytest.raises(chatmini.RateLimitError):
        create(client)
    assert limiter.budget.cool_until == pytest.approx(clock.now + 60.0)  # capped at max_cooldown
    server.enqueue(Reply(status=429))
    limiter.budget.cool_until = clock.now
    with pytest.raises(chatmini.RateLimitError):
        create(client)
    assert limiter.budget.cool_until == pytest.approx(clock.now + 1.0)  # the default pause


def test_exhausted_remaining_headers_pause_the_next_request(make_client, server):
    limiter = RateLimiter(max_concurrent=4)
    client = make_client(plugins=[limiter])
    server.enqueue(Reply(headers={"x-ratelimit-remaining-requests": "0",
                                  "x-ratelimit-reset-requests": "400ms"}))
    create(client)
    start = time.monotonic()
    create(client)
    assert time.monotonic() - start >= 0.3


def test_waiting_threads_do_not_spin(make_client, server):
    limiter = RateLimiter(rpm=300)  # one request every 0.2 s: six take a second
    client = make_client(plugins=[limiter], pool_maxsize=6)
    wall, cpu = time.monotonic(), time.process_time()
    batch(client, [str(i) for i in range(6)], workers=6)
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    assert wall >= 0.9
    assert cpu < wall / 2


def test_the_budget_is_consistent_after_many_threads(make_client, server):
    limiter = RateLimiter(rpm=60_000, tpm=10_000_000, max_concurrent=3)
    client = make_client(plugins=[limiter], pool_maxsize=12)
    results = batch(client, [str(i) for i in range(120)], workers=12)
    assert not any(isinstance(r, Exception) for r in results)
    assert limiter.budget.in_flight == 0 and limiter.budget.waiting == 0


def late_call(client, server, **kw):
    """A call with a 0.5 s total deadline the limiter cannot meet: it fails at once (no retry,
    nothing sent), where it used to wait its turn (a minute) first."""
    sent = len(server.requests)
    start = time.monotonic()
    with pytest.raises(chatmini.APITimeoutError) as caught:
        create(client, timeout=chatmini.Timeout(5, total=0.5), **kw)
    assert time.monotonic() - start < 5 and len(server.requests) == sent
    return str(caught.value)


@pytest.mark.parametrize("limits", [{"tpm": 60_000}, {"rpm": 1}])
def test_a_turn_after_the_total_deadline_fails_at_once(make_client, server, limits):
    client = make_client(plugins=[RateLimiter(**limits)])
    server.enqueue(Reply(body={"object": "chat.completion", "choices": [], "usage": {
        "prompt_tokens": 1, "completion_tokens": 10**9}}))  # held to a minute of tokens
    create(client)
    message = late_call(client, server)
    assert "rate limiter would have had to wait" in message and "0.5 s total deadline" in message
    assert re.search(r"wait (59\.\d+|60) s", message), message


def test_no_free_slot_before_the_total_deadline_fails_then(make_client, server):
    limiter = RateLimiter(max_concurrent=1)
    client = make_client(plugins=[limiter])
    with create(client, stream=True):  # holds the only slot
        assert "no free turn or slot before the 0.5 s total deadline" in late_call(client, server)
    assert limiter.budget.waiting == 0 and limiter.budget.in_flight == 0
    create(client, timeout=chatmini.Timeout(5, total=2))


def test_the_limiter_is_registered_by_name(make_client):
    client = make_client(plugins=[RateLimiter(rpm=60)])
    assert "ratelimit" in client.plugin_host.names()
    blocked = make_client(plugins=[RateLimiter(rpm=60)], disabled_plugins=["ratelimit"])
    assert "ratelimit" not in blocked.plugin_host.names()
