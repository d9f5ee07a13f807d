"""The fallback plugin over real sockets: two or three embedded servers (one behind the fault
proxy where the wire must break), failover on what means "unwell", none on client errors, the
breaker's states on an injected clock, streams, threads, and credentials that never cross."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from typing import Iterator

import pytest

import chatmini
from chatmini.plugins.fallback import CLOSED, HALF_OPEN, OPEN, Endpoint, Fallback
from chatmini.plugins.oauth2 import OAuth2ClientCredentials
from chatmini.testing import Fault, FaultProxy, Reply, Server

from .conftest import HI, SECRET_KEY

KEY_A = "sk-endpoint-A-UNIQUE-41c9e2"
KEY_B = "sk-endpoint-B-UNIQUE-9d03f7"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def servers() -> Iterator[tuple[Server, Server, Server]]:
    with Server() as a, Server() as b, Server() as c:
        yield a, b, c


@pytest.fixture
def make(servers):
    """A Client whose calls go through a Fallback over the given endpoints."""
    made = []

    def build(endpoints, *, max_retries=0, timeout=(2.0, 5.0), **settings):
        plugin = Fallback(endpoints, **settings)
        client = chatmini.Client(
            api_key=SECRET_KEY, timeout=timeout, plugins=[plugin],
            retry=chatmini.RetryPolicy(max_retries, backoff_factor=0.01, backoff_jitter=0.0),
        )
        made.append(client)
        return client, plugin

    yield build
    for client in made:
        client.close()


def two(servers, **kw):
    a, b, _ = servers
    return [Endpoint(a.base_url, name="a", api_key=KEY_A, **kw),
            Endpoint(b.base_url, name="b", api_key=KEY_B)]


def ask(client, content="hi", **kw):
    return client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": content}], **kw)


def authorizations(server):
    return [r.headers.get("Authorization") for r in server.requests]


# -- failing over ------------------------------------------------------------------------------


def test_a_503_fails_over_at_once_without_spending_a_retry(make, servers):
    a, b, _ = servers
    client, _ = make(two(servers), max_retries=0)
    a.enqueue(Reply(status=503))
    reply = ask(client)
    assert reply.choices[0].message.content == "echo: hi"
    assert reply.context["upstream"] == "b" and reply.timing.labels["upstream"] == "b"
    assert reply.timing.retries == 0 and [t.status for t in reply.timing.attempts] == [503, 200]
    assert (len(a.requests), len(b.requests)) == (1, 1)
    assert ask(client).context["upstream"] == "a"  # one failure does not open the breaker


def test_a_reset_connection_fails_over(make, servers):
    a, b, _ = servers
    with FaultProxy(a.url) as proxy:
        proxy.enqueue(Fault("reset"))
        client, _ = make([Endpoint(proxy.base_url, name="a", api_key=KEY_A),
                          Endpoint(b.base_url, name="b", api_key=KEY_B)])
        assert ask(client).context["upstream"] == "b"
        assert proxy.fired["reset@0"] == 1 and len(b.requests) == 1


def test_a_timeout_fails_over(make, servers):
    a, b, _ = servers
    client, plugin = make(two(servers), timeout=(2.0, 1.0))
    a.enqueue(Reply(delay=4.0))
    reply = ask(client)
    assert reply.context["upstream"] == "b"
    assert [t.error for t in reply.timing.attempts] == ["APITimeoutError", None]
    assert plugin.health().get("a").last_error == "APITimeoutError"


def test_failover_reaches_a_fourth_endpoint_past_the_replay_cap(make, servers):
    """Failovers are granted replays of their own (EXTRA_REPLAYS): three in one call."""
    a, b, c = servers
    endpoints = [Endpoint(s.base_url, name=n) for s, n in ((a, "a"), (b, "b"), (c, "c"))]
    with Server() as d:
        for server in (a, b, c):
            server.enqueue(Reply(status=502))
        client, _ = make([*endpoints, Endpoint(d.base_url, name="d")], max_retries=0)
        assert ask(client).context["upstream"] == "d"
    assert chatmini.pipeline.MAX_REPLAYS < 3


@pytest.mark.parametrize(("status", "error"), [
    (400, chatmini.BadRequestError), (401, chatmini.AuthenticationError),
    (404, chatmini.NotFoundError), (422, chatmini.UnprocessableEntityError),
])
def test_client_errors_never_fail_over_nor_count(make, servers, status, error):
    a, b, _ = servers
    client, plugin = make(two(servers), max_retries=2, failures=1)
    a.enqueue(Reply(status=status))
    with pytest.raises(error) as caught:
        ask(client)
    assert caught.value.request.context["upstream"] == "a"
    assert (len(a.requests), len(b.requests)) == (1, 0)
    row = plugin.health().get("a")
    assert (row.state, row.failures, row.calls) == (CLOSED, 0, 1)


def test_a_401_replays_with_a_fresh_token_on_the_same_endpoint(make, servers):
    a, b, _ = servers
    tokens = iter(["tok-first-UNIQUE", "tok-second-UNIQUE"])
    client, _ = make([Endpoint(a.base_url, name="a", auth=lambda: next(tokens)),
                      Endpoint(b.base_url, name="b", api_key=KEY_B)])
    a.enqueue(Reply(status=401))
    assert ask(client).context["upstream"] == "a"
    assert authorizations(a) == ["Bearer tok-first-UNIQUE", "Bearer tok-second-UNIQUE"]
    assert b.requests == []


def test_a_short_429_is_retried_where_it_was_a_long_one_fails_over(make, servers):
    a, b, _ = servers
    client, plugin = make(two(servers), max_retries=1)
    a.enqueue(Reply(status=429, headers={"Retry-After": "0.05"}))
    assert ask(client).context["upstream"] == "a"  # the policy waited and retried there
    assert (len(a.requests), len(b.requests)) == (2, 0)
    a.enqueue(Reply(status=429, headers={"Retry-After": "30"}))
    assert ask(client).context["upstream"] == "b"
    a.enqueue(Reply(status=429, body={"error": {"code": "insufficient_quota", "message": "x"}}))
    assert ask(client).context["upstream"] == "b"
    assert plugin.health().get("a").last_error == "HTTP 429 insufficient_quota"


# -- the breaker -------------------------------------------------------------------------------


def test_the_breaker_opens_half_opens_with_one_probe_and_closes(make, servers, caplog):
    caplog.set_level(logging.INFO, logger="chatmini")
    a, b, _ = servers
    clock = Clock()
    client, plugin = make(two(servers), failures=2, cooldown=30.0, clock=clock)
    a.enqueue(Reply(status=503), Reply(status=503))
    ask(client), ask(client)
    assert plugin.health().get("a")[:2] == ("a", OPEN)
    assert plugin.health().get("a").retry_in == 30.0
    ask(client)
    assert len(a.requests) == 2  # open: skipped
    clock.now += 30.0
    a.enqueue(Reply(delay=0.5))  # the probe takes a while ...
    probe = threading.Thread(target=ask, args=(client,))
    probe.start()
    deadline = time.monotonic() + 5
    while len(a.requests) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert plugin.health().get("a").state == HALF_OPEN
    assert ask(client).context["upstream"] == "b"  # ... and meanwhile others go elsewhere
    probe.join(5)
    assert plugin.health().get("a").state == CLOSED and len(a.requests) == 3
    assert ask(client).context["upstream"] == "a"
    changes = [r.getMessage() for r in caplog.records if r.name == "chatmini"
               and "fallback: endpoint" in r.getMessage()]
    assert len(changes) == 3 and "is open after 2 unwell attempt(s) in a row (last: HTTP 503)" \
        in changes[0] and "half-open" in changes[1] and "closed again" in changes[2]
    assert [r.levelname for r in caplog.records if "is open" in r.getMessage()
            or "closed again" in r.getMessage()] == ["WARNING", "WARNING"]


def test_a_failed_probe_opens_it_again_for_twice_as_long(make, servers):
    a, _, _ = servers
    clock = Clock()
    client, plugin = make(two(servers), failures=1, cooldown=10.0, max_cooldown=25.0,
                          clock=clock)
    a.enqueue(Reply(status=500), Reply(status=500), Reply(status=500))
    ask(client)
    assert plugin.health().get("a").retry_in == 10.0
    clock.now += 10.0
    ask(client)  # the probe fails
    assert plugin.health().get("a")[1] == OPEN and plugin.health().get("a").retry_in == 20.0
    clock.now += 20.0
    ask(client)
    assert plugin.health().get("a").retry_in == 25.0  # at most max_cooldown
    assert len(a.requests) == 3


def test_a_probe_answered_from_a_cache_decides_nothing(servers):
    a, _, _ = servers
    clock = Clock()
    plugin = Fallback(two(servers), failures=1, cooldown=10.0, clock=clock)
    client = chatmini.Client(plugins=[plugin, chatmini.ResponseCache()], max_retries=0)
    ask(client, "cached", temperature=0)  # stored from 'a'
    a.enqueue(Reply(status=503))
    ask(client, "opens it")
    clock.now += 10.0
    assert ask(client, "cached", temperature=0).context["cache"] == "hit"  # the probe's turn
    row = plugin.health().get("a")
    assert (row.state, row.retry_in, len(a.requests)) == (HALF_OPEN, 0.0, 2)  # probe free again
    assert ask(client, "a real probe").context["upstream"] == "a"
    assert plugin.health().get("a").state == CLOSED


def test_the_cool_down_honours_retry_after(make, servers):
    a, _, _ = servers
    clock = Clock()
    client, plugin = make(two(servers), failures=1, cooldown=1.0, clock=clock)
    a.enqueue(Reply(status=503, headers={"Retry-After": "50"}))
    ask(client)
    assert plugin.health().get("a").retry_in == 50.0
    clock.now += 49.0
    ask(client)
    assert len(a.requests) == 1  # still open where the own cool-down would have ended
    clock.now += 1.0
    assert ask(client).context["upstream"] == "a"


def test_an_error_rate_over_the_window_opens_it(make, servers):
    a, _, _ = servers
    clock = Clock()
    client, plugin = make(two(servers), failures=100, error_rate=0.5, min_calls=4, window=60.0,
                          clock=clock)
    a.enqueue(Reply(status=503), Reply(), Reply())
    for _ in range(3):
        ask(client)
    assert plugin.health().get("a").state == CLOSED  # 1 of 3 attempts unwell
    clock.now += 1.0
    a.enqueue(Reply(status=503))
    ask(client)  # 2 of 4 attempts unwell: 50%
    assert plugin.health().get("a").state == OPEN


def test_every_endpoint_open_fails_fast_with_the_last_error_then_unavailable(make, servers):
    a, b, _ = servers
    client, plugin = make(two(servers), max_retries=3, failures=1, cooldown=60.0)
    a.enqueue(Reply(status=503))
    b.enqueue(Reply(status=502))
    with pytest.raises(chatmini.InternalServerError) as caught:
        ask(client)
    assert caught.value.status_code == 502  # no retry: nothing could take one
    with pytest.raises(chatmini.plugins.fallback.EndpointsUnavailableError,
                       match=r"'a' open \(takes a probe in .* s; last: HTTP 503\), 'b' open"):
        ask(client)
    assert (len(a.requests), len(b.requests)) == (1, 1)
    assert isinstance(caught.value, chatmini.APIError)


def test_health_is_a_section_of_client_stats(make, servers):
    a, _, _ = servers
    client, _ = make(two(servers), failures=1)
    a.enqueue(Reply(status=503))
    ask(client)
    report = client.stats()
    assert report.get("m", "/chat/completions").count == 1
    rows = {row.name: row for row in report.sections["endpoints"]}
    assert rows["a"].state == OPEN and rows["b"].state == CLOSED and rows["b"].calls == 1
    assert "endpoints:\nendpoint  state" in str(report)


# -- streams -----------------------------------------------------------------------------------


def test_a_stream_fails_over_before_its_headers(make, servers):
    a, b, _ = servers
    client, _ = make(two(servers))
    a.enqueue(Reply(status=503))
    with ask(client, "one two", stream=True) as stream:
        assert "".join(stream.text_deltas()) == "echo: one two"
    assert stream.context["upstream"] == "b" and stream.timing.labels["upstream"] == "b"


def test_a_stream_cut_after_its_first_event_is_incomplete_never_switched(make, servers):
    a, b, _ = servers
    client, plugin = make(two(servers), failures=1)
    a.enqueue(Reply(cut_after=2))
    stream = ask(client, "one two three", stream=True)
    first = next(stream)
    assert first.choices[0].delta.role == "assistant"
    with pytest.raises(chatmini.IncompleteStreamError):
        list(stream)
    assert b.requests == []  # no silent switch mid-answer
    row = plugin.health().get("a")
    assert row.state == OPEN and row.last_error == "stream cut: IncompleteStreamError"


# -- threads, settings, credentials -----------------------------------------------------------


def test_32_threads_on_a_flapping_endpoint_lose_and_duplicate_nothing(make, servers):
    _, b, _ = servers
    with Server(fault_rate=0.4, seed=7) as flaky:  # 429 (Retry-After 0.2), 503 or a drop
        client, plugin = make([Endpoint(flaky.base_url, name="flaky", api_key=KEY_A),
                               Endpoint(b.base_url, name="b", api_key=KEY_B)],
                              max_retries=3, failures=2, cooldown=0.05)
        results: dict[str, str] = {}
        errors: list[BaseException] = []

        def worker(t: int) -> None:
            for i in range(10):
                content = f"t{t}-c{i}"
                try:
                    results[content] = ask(client, content).choices[0].message.content
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)

        threads = [threading.Thread(target=worker, args=(t,)) for t in range(32)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        sent = [r.json["messages"][0]["content"] for r in flaky.requests + b.requests]
        faults = sum(flaky.faults.injected.values())
    assert errors == []
    assert len(results) == 320 and all(v == "echo: " + k for k, v in results.items())
    assert len(sent) == 320 + faults  # every answer had exactly one good request
    assert set(Counter(sent)) == set(results) and faults > 0
    health = {row.name: row for row in plugin.health()}
    assert health["flaky"].calls + health["b"].calls == len(sent)


def test_weighted_order_spreads_calls_by_weight(make, servers):
    a, b, _ = servers
    client, _ = make([Endpoint(a.base_url, name="a", weight=3), Endpoint(b.base_url, name="b")],
                     order="weighted", seed=3)
    served = Counter(ask(client).context["upstream"] for _ in range(200))
    assert 120 <= served["a"] <= 180 and served["a"] + served["b"] == 200


def test_model_names_headers_and_azure_api_version_per_endpoint(make, servers):
    a, b, _ = servers
    azure = Endpoint(a.url + "/openai/deployments/gpt4o-prod", name="azure", api_key=KEY_A,
                     api_key_header="api-key", api_version="2024-10-21",
                     models={"gpt-4o": "gpt4o-prod"}, headers={"X-Region": "westeurope"})
    client, _ = make([azure, Endpoint(b.base_url, name="vllm", models={"gpt-4o": "llama-70b"})])
    a.enqueue(Reply(status=500))
    reply = client.chat.completions.create(model="gpt-4o", messages=HI)
    (to_azure,), (to_vllm,) = a.requests, b.requests
    assert to_azure.path == "/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21"
    assert to_azure.headers["api-key"] == KEY_A and to_azure.headers["X-Region"] == "westeurope"
    assert to_azure.json["model"] == "gpt4o-prod" and to_vllm.json["model"] == "llama-70b"
    assert "X-Region" not in to_vllm.headers and "api-key" not in to_vllm.headers
    assert reply.timing.model == "gpt-4o"  # stats keep the caller's name


def test_credentials_never_cross_endpoints(make, servers):
    """An API key, an OAuth2 token and no credential at all, with failovers between them:
    each server sees only its own endpoint's credential, the Client's key none of them."""
    a, b, c = servers
    b.tokens.configure(require=True, client_id="app-b", client_secret="secret-b-UNIQUE-77a1")
    oauth = OAuth2ClientCredentials(b.token_url, "app-b", "secret-b-UNIQUE-77a1")
    client, _ = make([Endpoint(a.base_url, name="a", api_key=KEY_A),
                      Endpoint(b.base_url, name="b", auth=oauth),
                      Endpoint(c.base_url, name="c")], failures=100)
    for _ in range(3):
        a.enqueue(Reply(status=503))
        b.enqueue(Reply(status=503))
        ask(client)  # a -> b -> c
        a.enqueue(Reply(drop=True))
        ask(client)  # a -> b
        ask(client)  # a
    issued = b.tokens.issued
    assert set(authorizations(a)) == {f"Bearer {KEY_A}"} and len(a.requests) == 9
    assert {h.split(" ", 1)[1] for h in authorizations(b)} <= set(issued)
    assert len(b.requests) == 6 and authorizations(c) == [None, None, None]
    secrets = [KEY_A, SECRET_KEY, "secret-b-UNIQUE-77a1", *issued]
    for server, own in ((a, {KEY_A}), (b, set(issued)), (c, set())):
        for request in server.requests:
            seen = " ".join(f"{k}: {v}" for k, v in request.headers.items()) + request.path
            assert [s for s in secrets if s in seen and s not in own] == []


def test_settings_are_checked(servers):
    a, b, _ = servers
    with pytest.raises(chatmini.InvalidRequestError, match="distinct names"):
        Fallback([Endpoint(a.base_url, name="x"), Endpoint(b.base_url, name="x")])
    with pytest.raises(chatmini.InvalidRequestError, match="api_key= or auth="):
        Endpoint(a.base_url, api_key="k", auth=lambda: "t")
    with pytest.raises(chatmini.InvalidRequestError, match="max_cooldown=5 and cooldown=10"):
        Fallback([Endpoint(a.base_url)], cooldown=10, max_cooldown=5)
    with pytest.raises(chatmini.InvalidRequestError, match="order must be"):
        Fallback([Endpoint(a.base_url)], order="random")
    for name in ("window", "cooldown", "max_cooldown"):  # NaN never closes, inf never opens
        for value in (float("nan"), float("inf"), 0, -1, "30", None):
            with pytest.raises(chatmini.InvalidRequestError, match=name):
                Fallback([Endpoint(a.base_url)], **{name: value})
    with pytest.raises(chatmini.InvalidRequestError, match="Client\\(auth=...\\)"):
        chatmini.Client(auth=lambda: "t", plugins=[Fallback([Endpoint(a.base_url)])])
    with pytest.warns(chatmini.InsecureTransportWarning, match="endpoint 'remote'"):
        Endpoint("http://example.com/v1", name="remote", api_key="sk-x")
    assert KEY_A not in repr(Endpoint(a.base_url, api_key=KEY_A))


def test_no_endpoint_key_in_logs_reprs_errors_or_reports(make, servers, caplog):
    caplog.set_level(logging.DEBUG, logger="chatmini")
    a, b, _ = servers
    endpoints = two(servers)
    client, plugin = make(endpoints, failures=1)
    a.enqueue(Reply(status=503, body={"error": {"message": f"bad key {KEY_A}"}}))
    b.enqueue(Reply(status=400, body={"error": {"message": f"bad key {KEY_B}"}}))
    with pytest.raises(chatmini.BadRequestError) as caught:
        ask(client)
    shown = " ".join([caplog.text, str(caught.value), repr(caught.value.body), repr(plugin),
                      *map(repr, endpoints), str(client.stats()), repr(plugin.health())])
    assert KEY_A not in shown and KEY_B not in shown and "fallback: endpoint 'a' is open" in shown
