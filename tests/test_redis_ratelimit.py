"""RedisRateLimiter against a real redis-server: budgets shared by processes, leases that expire
when a worker is killed, usage and 429s seen by every worker, one round trip per call, and both
fail modes. Skipped, saying why, when redis-server or redis-py is missing."""

from __future__ import annotations

import json
import logging
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

import chatmini
from chatmini.testing import Reply
from chatmini.testing.pacing import max_in_window

from .conftest import HI
from .redis_support import RedisServer
from .test_ratelimit import late_call

pytest.importorskip("redis", reason="redis-py is in the test extra: pip install -e '.[test]'")
from chatmini.plugins.redis_ratelimit import (  # noqa: E402
    LimiterUnavailableError,
    RedisRateLimiter,
)

WORKER = Path(__file__).with_name("redis_worker.py")
PASSWORD = "UNIQUE-redis-pw-7c41d9"


@pytest.fixture(scope="module")
def redis_server():
    with RedisServer() as server:
        yield server


@pytest.fixture
def key():
    return f"test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def limiters():
    made = []
    yield made
    for limiter in made:
        limiter.close()


@pytest.fixture
def make_limiter(redis_server, key, limiters):
    def make(**kw):
        kw.setdefault("key", key)
        limiter = RedisRateLimiter(kw.pop("redis", redis_server.url), **kw)
        limiters.append(limiter)
        return limiter

    return make


def create(client, **kw):
    return client.chat.completions.create(model="m", messages=HI, **kw)


def start_workers(n, redis_server, server, limits, count, threads, prompt="hi", extra=None):
    settings = {"mode": "run", "redis": redis_server.url, "base_url": server.base_url,
                "limits": limits, "count": count, "threads": threads, "prompt": prompt,
                "extra": extra or {}}
    return [subprocess.Popen([sys.executable, str(WORKER), json.dumps(settings)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(n)]


def collect(workers):
    reports = []
    for worker in workers:
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err
        report = json.loads(out)
        assert report["errors"] == []
        reports.append(report)
    return reports


# --- shared by processes ----------------------------------------------------------------------


def test_four_processes_of_sixteen_threads_share_600_requests_a_minute(redis_server, server, key):
    workers = start_workers(4, redis_server, server, {"rpm": 600, "key": key}, count=15,
                            threads=16)
    sends = sorted(t for report in collect(workers) for t in report["sends"])
    assert len(sends) == 60 == len(server.requests)
    span = sends[-1] - sends[0]
    achieved = (len(sends) - 1) / span * 60
    assert 600 * 0.7 < achieved < 600 * 1.1  # the benchmark holds it within 5% over 30 s
    assert max_in_window(sends, 1.0) <= 10 + 2  # evenly paced: no burst when a process starts


def test_four_processes_share_a_tokens_per_minute_budget(redis_server, server, key):
    words = " ".join(["word"] * 40)  # 40 prompt tokens and 41 completion tokens: 81 used
    tpm = 81 * 8 * 60  # eight requests a second
    workers = start_workers(4, redis_server, server, {"tpm": tpm, "key": key}, count=6,
                            threads=8, prompt=words, extra={"max_tokens": 41})
    reports = collect(workers)
    sends = sorted(t for report in reports for t in report["sends"])
    used = [n for report in reports for n in report["used"]]
    assert len(sends) == 24 and set(used) == {81}
    achieved = sum(used[:-1]) / (sends[-1] - sends[0]) * 60
    assert tpm * 0.7 < achieved < tpm * 1.15  # estimate 91, corrected to 81 by the usage


def test_a_killed_worker_frees_its_slots_within_the_lease_time(redis_server, server, key,
                                                               make_limiter):
    settings = {"mode": "hold", "redis": redis_server.url, "base_url": server.base_url,
                "limits": {"max_concurrent": 3, "lease_ttl": 1.5, "key": key}, "count": 3,
                "prompt": "hi"}
    worker = subprocess.Popen([sys.executable, str(WORKER), json.dumps(settings)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout.readline().split() == ["held", "3"]
        slots = f"chatmini:ratelimit:{{{key}}}:slots"
        assert redis_server.client().zcard(slots) == 3
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        worker.kill()
    limiter = make_limiter(max_concurrent=3, lease_ttl=1.5)
    client = chatmini.Client(api_key="sk-x", base_url=server.base_url, plugins=[limiter])
    done = threading.Event()
    caller = threading.Thread(target=lambda: (create(client), done.set()), daemon=True)
    caller.start()
    assert done.wait(1.5 + 5.0), "the dead worker's slots were not freed"
    assert limiter.round_trips >= 2  # it found every slot taken and asked again
    client.close()


# --- one worker's view ------------------------------------------------------------------------


def commands(redis_server):
    stats = redis_server.client().info("commandstats")
    return sum(v["calls"] for k, v in stats.items() if k in ("cmdstat_evalsha", "cmdstat_eval"))


def test_one_round_trip_per_call_in_the_common_case(redis_server, make_client, make_limiter):
    limiter = make_limiter(rpm=60_000, tpm=10_000_000, max_concurrent=8)
    client = make_client(plugins=[limiter])
    create(client)  # loads the script
    before, trips = commands(redis_server), limiter.round_trips
    for _ in range(40):
        create(client)
    sent = commands(redis_server) - before
    assert sent == limiter.round_trips - trips
    assert 40 <= sent <= 40 * 1.25 + 2  # settlements ride on the next call's acquire


def test_usage_corrects_the_shared_token_estimate(redis_server, make_client, make_limiter, key):
    limiter = make_limiter(tpm=60_000)  # 1000 tokens a second
    client = make_client(plugins=[limiter])
    create(client, max_tokens=1000)  # estimated 1001, used 1 + 2 ("echo: hi")
    limiter.budget.flush()
    redis = redis_server.client()
    ready = float(redis.hget(f"chatmini:ratelimit:{{{key}}}:state", "tok"))
    seconds, micros = redis.time()
    assert ready - (seconds + micros / 1e6) < 0.2  # uncorrected it would be a second ahead


def test_a_stream_with_usage_on_every_chunk_is_charged_once(redis_server, make_client,
                                                             make_limiter, key, server):
    limiter = make_limiter(tpm=60_000)  # 1000 tokens a second
    client = make_client(plugins=[limiter])
    server.enqueue(Reply(reasoning="step " * 60, content="Done.", usage_on="every"))
    with create(client, max_tokens=1000, stream=True,
                stream_options={"include_usage": True}) as stream:
        running = [c.usage.total_tokens for c in stream if c.usage is not None]
    assert sum(running) > 2000 and running[-1] == stream.usage["total_tokens"] < 100
    limiter.budget.flush()
    redis = redis_server.client()
    ready = float(redis.hget(f"chatmini:ratelimit:{{{key}}}:state", "tok"))
    seconds, micros = redis.time()
    assert ready - (seconds + micros / 1e6) < 0.5  # the sum would be 2 s ahead, the estimate 1 s


def test_a_429_cools_down_every_worker(make_client, make_limiter, server):
    first = make_client(plugins=[make_limiter(max_concurrent=8)], max_retries=0)
    second = make_client(plugins=[make_limiter(max_concurrent=8)])  # another worker's limiter
    server.enqueue(Reply(status=429, headers={"Retry-After": "0.5"}))
    with pytest.raises(chatmini.RateLimitError):
        create(first)
    start = time.monotonic()
    create(second)
    assert time.monotonic() - start >= 0.35


def test_a_stream_holds_its_shared_slot_until_it_ends(redis_server, make_client, make_limiter,
                                                      key):
    limiter = make_limiter(max_concurrent=2)
    client = make_client(plugins=[limiter])
    slots = f"chatmini:ratelimit:{{{key}}}:slots"
    stream = create(client, stream=True)
    assert redis_server.client().zcard(slots) == 1
    stream.close()
    limiter.budget.flush()
    assert redis_server.client().zcard(slots) == 0


@pytest.mark.parametrize("limits", [{"tpm": 60_000}, {"rpm": 1}])
def test_a_shared_turn_after_the_total_deadline_fails_at_once(redis_server, make_client,
                                                              make_limiter, server, limits):
    limiter = make_limiter(**limits)
    client = make_client(plugins=[limiter])
    server.enqueue(Reply(body={"object": "chat.completion", "choices": [], "usage": {
        "prompt_tokens": 1, "completion_tokens": 10**9}}))  # held to a minute of tokens
    create(client)
    limiter.budget.flush()
    assert "rate limiter would have had to wait" in late_call(client, server)


def test_no_free_shared_slot_before_the_total_deadline_fails_then(redis_server, make_client,
                                                                  make_limiter, server):
    limiter = make_limiter(max_concurrent=1)
    client = make_client(plugins=[limiter])
    with create(client, stream=True):  # holds the only slot
        assert "no free turn or slot before the 0.5 s" in late_call(client, server)
    limiter.budget.flush()
    create(client, timeout=chatmini.Timeout(5, total=2))


def test_per_model_budgets_are_separate(redis_server, make_client, make_limiter, key):
    client = make_client(plugins=[make_limiter(rpm=60, per_model=True)])  # one a second
    start = time.monotonic()
    client.chat.completions.create(model="a", messages=HI)
    client.chat.completions.create(model="b", messages=HI)
    assert time.monotonic() - start < 0.9  # b did not wait for a's budget
    names = {k.decode() for k in redis_server.client().keys(f"chatmini:ratelimit:{{{key}:*")}
    assert names == {f"chatmini:ratelimit:{{{key}:a}}:state",
                     f"chatmini:ratelimit:{{{key}:b}}:state"}


# --- Redis unreachable ------------------------------------------------------------------------


def test_fail_open_limits_locally_warns_once_and_comes_back(make_client, make_limiter, caplog):
    with RedisServer() as own:
        limiter = make_limiter(redis=own.url, rpm=600, recheck=0.05)
        client = make_client(plugins=[limiter])
        create(client)
        own.stop()
        caplog.set_level(logging.INFO, logger="chatmini")
        start = time.monotonic()
        for _ in range(5):
            create(client)  # Redis is down: the same budget, in this process
        assert time.monotonic() - start >= 0.4 * 0.95
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert f"Redis at 127.0.0.1:{own.port}/0" in warnings[0].getMessage()
        assert "fail_mode='open'" in warnings[0].getMessage()
        own.start()  # same port
        trips = limiter.round_trips
        create(client)
        create(client)
        assert limiter.round_trips > trips
        assert any("answers again" in r.getMessage() for r in caplog.records)


def test_fail_closed_is_a_clear_error_and_never_hangs(make_client, make_limiter, server):
    silent = socket.socket()  # accepts connections (backlog) but never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        port = silent.getsockname()[1]
        limiter = make_limiter(redis=f"redis://:{PASSWORD}@127.0.0.1:{port}/0", rpm=600,
                               fail_mode="closed", timeout=0.3)
        client = make_client(plugins=[limiter])
        start = time.monotonic()
        with pytest.raises(LimiterUnavailableError) as caught:
            create(client)
        assert time.monotonic() - start < 5
    finally:
        silent.close()
    message = str(caught.value)
    assert f"Redis at 127.0.0.1:{port}/0" in message and "fail_mode='closed'" in message
    assert isinstance(caught.value, chatmini.ChatminiError)
    assert server.requests == []  # nothing was sent
    assert PASSWORD not in message and PASSWORD not in repr(limiter)


def test_a_wrong_password_never_shows(redis_server, make_client, make_limiter, caplog):
    with RedisServer(password="the-real-one-123") as guarded:
        url = guarded.url.replace("the-real-one-123", PASSWORD)
        closed = make_limiter(redis=url, rpm=600, fail_mode="closed")
        with pytest.raises(LimiterUnavailableError) as caught:
            create(make_client(plugins=[closed]))
        opened = make_limiter(redis=url, rpm=600)
        caplog.set_level(logging.DEBUG, logger="chatmini")
        create(make_client(plugins=[opened]))
    shown = str(caught.value) + repr(closed) + repr(opened) + caplog.text
    assert "Error" in str(caught.value) and PASSWORD not in shown


def test_settings_are_checked(redis_server):
    with pytest.raises(chatmini.InvalidRequestError, match="fail_mode"):
        RedisRateLimiter(redis_server.url, rpm=60, fail_mode="maybe")
    with pytest.raises(chatmini.InvalidRequestError, match="lease_ttl"):
        RedisRateLimiter(redis_server.url, max_concurrent=2, lease_ttl=0)
    with pytest.raises(chatmini.InvalidRequestError, match="rpm=, tpm= or max_concurrent="):
        RedisRateLimiter(redis_server.url)
    with pytest.raises(chatmini.InvalidRequestError, match="Redis URL"):
        RedisRateLimiter("http://nope", rpm=60)


def test_without_redis_server_the_tests_skip_saying_why():
    missing = RedisServer()
    missing.binary = None
    with pytest.raises(pytest.skip.Exception, match="redis-server is not installed"):
        missing.start()


def test_a_call_under_way_when_redis_failed_does_not_end_the_outage(caplog):
    """Four workers: one sees Redis fail while another's call, begun before, still succeeds.
    That late success must not end the outage (which would warn again on the next failure)."""
    from chatmini.plugins._redis import Outage

    now = [100.0]
    outage = Outage("the shared rate limiter's Redis", "h:1/0", PASSWORD, recheck=5,
                    clock=lambda: now[0], fallback="falling back")
    caplog.set_level(logging.INFO, logger="chatmini")
    before = outage.begin()  # worker B starts a call
    now[0] += 0.01
    outage.failed(ConnectionError(f"refused, password {PASSWORD}"))  # worker A's call fails
    outage.answered(before)  # B's call, begun before the failure, succeeds late
    assert outage.active
    outage.failed(ConnectionError("refused"))  # worker C
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1 and "did not answer" in messages[0]
    assert PASSWORD not in messages[0]
    now[0] += 6  # recheck passed: the next call asks Redis again, and it answers
    assert not outage.active
    outage.answered(outage.begin())
    assert not outage.active and "answers again" in caplog.records[-1].getMessage()
