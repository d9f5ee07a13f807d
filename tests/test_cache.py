"""The response cache over real sockets: hits and misses, what the key is made of, the per-call
switch, TTL and size bounds, partitions per credential, errors never stored, no rate-limit
budget spent, streams replayed event by event; SQLite under threads and processes, and a
corrupted file that only ever means misses."""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chatmini
from chatmini.plugins.cache import ResponseCache
from chatmini.plugins.cache.key import entry_key, request_digest
from chatmini.plugins.fallback import Endpoint, Fallback
from chatmini.request import Request
from chatmini.testing import Reply

from .conftest import SECRET_KEY

ZERO = {"temperature": 0}
CHILD = """
import json, sys
import chatmini
from chatmini.plugins.cache import ResponseCache
base_url, path, prompts = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
client = chatmini.Client(base_url=base_url, api_key="sk-child-key-0001",
                         plugins=[ResponseCache(path)])
for prompt in prompts:
    reply = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": prompt}], temperature=0)
    assert reply.choices[0].message.content == "echo: " + prompt
print("ok")
"""


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def ask(client, content="hi", **kw):
    kw = {**ZERO, **kw}
    return client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": content}], **kw)


@pytest.fixture(params=["memory", "sqlite"])
def cache_path(request, tmp_path):
    return None if request.param == "memory" else tmp_path / "answers.sqlite3"


def test_a_second_identical_call_is_a_hit(make_client, server, cache_path):
    cache = ResponseCache(cache_path)
    client = make_client(plugins=[cache])
    first, second = ask(client), ask(client)
    assert second.to_dict() == first.to_dict() and len(server.requests) == 1
    assert (first.context["cache"], second.context["cache"]) == ("miss", "hit")
    assert dict(second.timing.labels) == {"cache": "hit"} and second.timing.status == 200
    assert second._request_id == first._request_id  # the stored answer's own headers
    assert cache.info()[:3] == (1, 1, 1) and cache.info().entries == 1
    assert "cache:\nhits  misses  hit rate  stored  entries" in str(client.stats())


def test_the_key_is_the_normalised_request(make_client, server):
    client = make_client(plugins=[ResponseCache()])
    messages = [{"role": "user", "content": "hi"}]
    client.post("/chat/completions", {"model": "m", "messages": messages, "temperature": 0})
    client.post("/chat/completions", {"temperature": 0, "messages": messages, "model": "m"},
                extra_headers={"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01",
                               "X-Request-ID": "abc"})
    assert len(server.requests) == 1  # keys in another order, other tracing headers: a hit
    client.post("/chat/completions", {"model": "m", "messages": messages, "temperature": 0},
                extra_headers={"X-Team": "search"})
    ask(client, "another question")
    assert len(server.requests) == 3


def test_by_default_only_deterministic_requests_are_cached(make_client, server):
    client = make_client(plugins=[ResponseCache()])
    for _ in range(2):
        ask(client, temperature=0.7)
    assert len(server.requests) == 2
    for _ in range(2):
        ask(client, temperature=0.7, seed=42)
    assert len(server.requests) == 3
    everything = make_client(plugins=[ResponseCache(when=lambda request: True)])
    for _ in range(2):
        everything.post("/embeddings", {"model": "e", "input": "rivers"})
    assert len(server.requests) == 4


def test_the_per_call_switch(make_client, server):
    client = make_client(plugins=[ResponseCache()])
    ask(client)
    ask(client, extra_headers={"X-Chatmini-Cache": "bypass"})
    assert len(server.requests) == 2
    server.enqueue(Reply(content="fresher"))
    refreshed = ask(client, extra_headers={"X-Chatmini-Cache": "refresh"})
    assert refreshed.context["cache"] == "refresh" and len(server.requests) == 3
    assert ask(client).choices[0].message.content == "fresher"  # stored by the refresh
    ask(client, temperature=1.0, extra_headers={"x-chatmini-cache": "USE"})
    assert ask(client, temperature=1.0, extra_headers={"X-Chatmini-Cache": "use"}).context[
        "cache"] == "hit"
    assert all("x-chatmini-cache" not in {k.lower() for k in r.headers} for r in server.requests)
    with pytest.raises(chatmini.InvalidRequestError, match="'sometimes' is not one of"):
        ask(client, extra_headers={"X-Chatmini-Cache": "sometimes"})


def test_answers_expire_after_the_ttl(make_client, server, cache_path):
    clock = Clock()
    client = make_client(plugins=[ResponseCache(cache_path, ttl=60, clock=clock)])
    ask(client)
    clock.now += 60
    assert ask(client).context["cache"] == "hit"
    clock.now += 0.5
    assert ask(client).context["cache"] == "miss" and len(server.requests) == 2


def test_the_memory_cache_keeps_the_most_recently_used(make_client, server):
    client = make_client(plugins=[ResponseCache(max_entries=2)])
    ask(client, "a"), ask(client, "b"), ask(client, "a"), ask(client, "c")  # b is the oldest
    assert ask(client, "a").context["cache"] == "hit"
    assert ask(client, "b").context["cache"] == "miss"
    small = ResponseCache(max_bytes=600)  # about two answers of the test server
    client = make_client(plugins=[small])
    for content in ("a", "b", "c", "d"):
        ask(client, content)
    assert 1 <= small.info().entries <= 2 and small.store._bytes <= 600


def test_answers_are_partitioned_by_credential(make_client, server, tmp_path):
    path = tmp_path / "shared.sqlite3"
    tenant_a = make_client(api_key="sk-tenant-A-UNIQUE-1f2e", plugins=[ResponseCache(path)])
    tenant_b = make_client(api_key="sk-tenant-B-UNIQUE-3d4c", plugins=[ResponseCache(path)])
    ask(tenant_a), ask(tenant_b)
    assert len(server.requests) == 2  # B never reads A's answer
    assert ask(tenant_a).context["cache"] == ask(tenant_b).context["cache"] == "hit"
    assert len(server.requests) == 2
    stored = path.read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("shared*-wal"))
    for secret in (b"sk-tenant-A-UNIQUE-1f2e", b"sk-tenant-B-UNIQUE-3d4c", b"tenant"):
        assert secret not in stored
    by_team = ResponseCache(partition=lambda request: request.headers.get("X-Team", ""))
    one = make_client(api_key="sk-rotating-1-UNIQUE", plugins=[by_team])
    two = make_client(api_key="sk-rotating-2-UNIQUE", plugins=[by_team])
    ask(one, "team")
    assert ask(two, "team").context["cache"] == "hit"  # one tenant, whatever its token


def test_errors_are_never_stored(make_client, server, cache_path):
    client = make_client(plugins=[ResponseCache(cache_path)], max_retries=0)
    server.enqueue(Reply(status=500))
    with pytest.raises(chatmini.InternalServerError):
        ask(client)
    server.enqueue(Reply(body="<html>gateway</html>", content_type="application/json"))
    with pytest.raises(chatmini.APIResponseValidationError):
        ask(client)
    server.enqueue(Reply(body={"error": {"message": "upstream failed"}}))  # a 200 with an error
    with pytest.raises(chatmini.APIError):
        ask(client)
    assert ask(client).context["cache"] == "miss" and ask(client).context["cache"] == "hit"
    assert len(server.requests) == 4


def test_hits_spend_no_rate_limit_budget(make_client, server):
    sent = []

    class Meter:
        @chatmini.hookimpl(wrapper=True)
        def chatmini_send(self, request):
            sent.append(request.attempt)
            return (yield)

    client = make_client(plugins=[ResponseCache(), chatmini.RateLimiter(rpm=30), Meter()])
    ask(client)
    start = time.monotonic()
    for _ in range(10):  # at 30 rpm, ten more sends would take 20 s
        assert ask(client).context["cache"] == "hit"
    assert time.monotonic() - start < 5.0 and sent == [1]


def test_a_stream_is_replayed_event_by_event(make_client, server, cache_path):
    seen: list[list[tuple]] = []

    class Events:
        @chatmini.hookimpl
        def chatmini_prepare_request(self, request):
            request.context.setdefault("events", [])

        @chatmini.hookimpl
        def chatmini_stream_event(self, request, event):
            request.context["events"].append((event.event, event.data, event.id, event.retry))

    client = make_client(plugins=[ResponseCache(cache_path, streams=True), Events()])
    for _ in range(2):
        with ask(client, "one two three", stream=True,
                 stream_options={"include_usage": True}) as stream:
            chunks = [chunk.to_dict() for chunk in stream]
        seen.append((stream.context["cache"], stream.context["events"], chunks))
    assert [s[0] for s in seen] == ["miss", "hit"] and len(server.requests) == 1
    assert seen[0][1] == seen[1][1] and seen[0][2] == seen[1][2] and len(seen[0][1]) >= 6
    server.enqueue(Reply(cut_after=2))
    with pytest.raises(chatmini.IncompleteStreamError):
        list(ask(client, "cut short", stream=True))
    assert ask(client, "cut short", stream=True).context["cache"] == "miss"  # not stored


def test_a_responses_stream_keeps_its_event_types(make_client, server):
    client = make_client(plugins=[ResponseCache(streams=True)])
    runs = []
    for _ in range(2):
        with client.responses.create(model="m", input="hi", stream=True, temperature=0) as stream:
            runs.append([(event.type, event.sequence_number) for event in stream])
    assert runs[0] == runs[1] and runs[0][-1][0] == "response.completed"
    assert len(server.requests) == 1


def test_hits_do_not_count_as_calls_to_a_fallback_endpoint(make_client, server):
    fallback = Fallback([Endpoint(server.base_url, name="only")])
    client = make_client(plugins=[fallback, ResponseCache()])
    ask(client), ask(client)
    assert fallback.health().get("only").calls == 1


# -- SQLite ------------------------------------------------------------------------------------


def test_threads_write_and_read_one_file(make_client, server, tmp_path):
    path = tmp_path / "threads.sqlite3"
    client = make_client(plugins=[ResponseCache(path)])
    errors = []

    def worker(t):
        try:
            for i in range(5):
                for _ in range(2):
                    content = f"t{t}-{i}"
                    assert ask(client, content).choices[0].message.content == "echo: " + content
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and len(server.requests) == 80
    assert ResponseCache(path).info().entries == 80


def test_processes_write_one_file_at_once(server, tmp_path):
    path = tmp_path / "processes.sqlite3"
    prompts = [[f"p{n}-{i}" for i in range(15)] + [f"shared-{i}" for i in range(15)]
               for n in range(4)]
    children = [subprocess.Popen([sys.executable, "-c", CHILD, server.base_url, str(path),
                                  json.dumps(p)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for p in prompts]
    outputs = [child.communicate(timeout=120) for child in children]
    assert [child.returncode for child in children] == [0] * 4, outputs
    assert all(out.strip() == "ok" and "Traceback" not in err for out, err in outputs)
    cache = ResponseCache(path)
    assert cache.info().entries == 4 * 15 + 15
    client = chatmini.Client(base_url=server.base_url, api_key="sk-child-key-0001",
                             plugins=[cache])
    before = len(server.requests)
    for content in ("p0-0", "p3-14", "shared-7"):
        assert ask(client, content).context["cache"] == "hit"
    assert len(server.requests) == before


def test_a_corrupted_file_only_means_misses(make_client, server, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="chatmini")
    path = tmp_path / "corrupt.sqlite3"
    path.write_bytes(b"SQLite format 2\x00" + b"\xde\xad\xbe\xef" * 2048)
    client = make_client(plugins=[ResponseCache(path)])
    for _ in range(3):
        assert ask(client).choices[0].message.content == "echo: hi"
    assert len(server.requests) == 3
    warnings = [r for r in caplog.records if "cannot be used" in r.getMessage()]
    assert len(warnings) == 1 and SECRET_KEY not in warnings[0].getMessage()


def test_a_damaged_entry_is_a_miss(make_client, server, tmp_path):
    path = tmp_path / "damaged.sqlite3"
    cache = ResponseCache(path)
    client = make_client(plugins=[cache])
    ask(client, "one"), ask(client, "two")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE entries SET body = substr(body, 1, 10) WHERE rowid = 1")
        db.execute("UPDATE entries SET headers = 'not json', checksum = 0 WHERE rowid = 2")
    assert ask(client, "one").context["cache"] == "miss"
    assert ask(client, "two").context["cache"] == "miss"
    assert ask(client, "one").context["cache"] == "hit"  # stored again, whole
    assert len(server.requests) == 4


def test_settings_are_checked(tmp_path):
    with pytest.raises(chatmini.InvalidRequestError, match="max_bytes=10 and path="):
        ResponseCache(tmp_path / "x.sqlite3", max_bytes=10)
    with pytest.raises(chatmini.InvalidRequestError, match="ttl must be"):
        ResponseCache(ttl=0)
    with pytest.raises(chatmini.InvalidRequestError, match="cannot open"):
        ResponseCache(tmp_path / "missing" / "dir" / "x.sqlite3")


# -- the key, for any request ------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=4),
    max_leaves=12,
)


def _reordered(value):
    """The same JSON with every object's keys in reverse order."""
    if isinstance(value, dict):
        return {k: _reordered(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reordered(item) for item in value]
    return value


def _request(params, headers):
    body = json.dumps(params).encode()
    return Request("POST", "https://api.example.com/v1/chat/completions?api-key=k1&v=2",
                   headers, body, params=params, endpoint="/chat/completions")


@settings(max_examples=150, deadline=None)
@given(params=st.dictionaries(st.text(max_size=6), JSON, max_size=6),
       trace=st.text(max_size=20), other=st.dictionaries(st.text(max_size=6), JSON, max_size=6))
def test_key_order_and_tracing_never_change_the_key_credentials_always_do(params, trace, other):
    base = _request(params, {"Authorization": "Bearer A", "X-Team": "t"})
    same = _request(_reordered(params), {"x-team": "t", "authorization": "Bearer A",
                                         "traceparent": trace, "X-Request-ID": trace})
    assert request_digest(base) == request_digest(same)
    assert entry_key(request_digest(base), base, b"salt") == \
        entry_key(request_digest(same), same, b"salt")
    tenant = _request(params, {"Authorization": "Bearer B", "X-Team": "t"})
    assert entry_key(request_digest(tenant), tenant, b"salt") != \
        entry_key(request_digest(base), base, b"salt")
    if other != params:
        assert request_digest(_request(other, {"X-Team": "t"})) != request_digest(base)
