"""Circuit breakers shared through a real redis-server: what one client (or process) learns,
every other one naming the same key sees; one probe goes out for all; Redis down is survived."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import threading
import time
import uuid

import pytest

import chatmini
from chatmini.plugins.fallback import CLOSED, HALF_OPEN, OPEN, Endpoint, Fallback
from chatmini.testing import Reply, Server

from .redis_support import RedisServer

pytest.importorskip("redis", reason="redis-py is in the test extra: pip install -e '.[test]'")

CHILD = """
import json, sys
import chatmini
from chatmini.plugins.fallback import Endpoint, Fallback
a, b, redis, key = sys.argv[1:]
plugin = Fallback([Endpoint(a, name="a"), Endpoint(b, name="b")], redis=redis, key=key)
client = chatmini.Client(plugins=[plugin], max_retries=0)
reply = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
print(json.dumps([reply.context["upstream"], plugin.health().get("a").state]))
"""


@pytest.fixture(scope="module")
def redis_server():
    with RedisServer() as server:
        yield server


@pytest.fixture
def servers():
    with Server() as a, Server() as b:
        yield a, b


@pytest.fixture
def pair(redis_server, servers):
    """Two clients, each with its own Fallback, sharing breakers under one fresh key."""
    a, b = servers
    key = f"test-{uuid.uuid4().hex[:8]}"
    made = []
    for _ in range(2):
        plugin = Fallback([Endpoint(a.base_url, name="a"), Endpoint(b.base_url, name="b")],
                          redis=redis_server.url, key=key, failures=2, cooldown=0.4,
                          refresh=0.0)
        client = chatmini.Client(plugins=[plugin], max_retries=0)
        made.append((client, plugin))
    yield made, key
    for client, _ in made:
        client.close()


def ask(client):
    return client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_an_endpoint_opened_by_one_client_is_skipped_by_the_other(pair, servers):
    (one, first), (two, second) = pair[0]
    a, b = servers
    a.enqueue(Reply(status=503), Reply(status=503))
    assert ask(one).context["upstream"] == "b"
    assert second.health().get("a").consecutive == 1  # the count is shared too
    assert ask(one).context["upstream"] == "b"
    assert second.health().get("a").state == OPEN
    assert ask(two).context["upstream"] == "b" and len(a.requests) == 2
    assert first.circuits.round_trips > 0


def test_one_probe_for_every_client_then_closed_for_all(pair, servers):
    (one, first), (two, second) = pair[0]
    a, b = servers
    a.enqueue(Reply(status=503), Reply(status=503))
    ask(one), ask(one)
    wait_for(lambda: second.health().get("a").retry_in == 0)
    a.enqueue(Reply(delay=0.5))
    probe = threading.Thread(target=ask, args=(one,))
    probe.start()
    wait_for(lambda: len(a.requests) == 3)
    assert second.health().get("a").state == HALF_OPEN
    assert ask(two).context["upstream"] == "b"  # the probe is out: not a second one
    probe.join(5)
    assert first.health().get("a").state == CLOSED == second.health().get("a").state
    assert ask(two).context["upstream"] == "a"


def test_another_process_sees_the_open_endpoint(pair, servers, redis_server):
    a, b = servers
    opener = Fallback([Endpoint(a.base_url, name="a"), Endpoint(b.base_url, name="b")],
                      redis=redis_server.url, key=pair[1], failures=2, cooldown=120.0)
    one = chatmini.Client(plugins=[opener], max_retries=0)  # open for longer than a start-up
    a.enqueue(Reply(status=503), Reply(status=503))
    ask(one), ask(one)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, a.base_url, b.base_url, redis_server.url, pair[1]],
        capture_output=True, text=True, timeout=60,
        env={"PATH": "", "CHATMINI_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONPATH": ":".join(sys.path)},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["b", OPEN] and len(a.requests) == 2


def test_without_redis_each_process_keeps_its_own_breakers(servers, caplog):
    caplog.set_level(logging.WARNING, logger="chatmini")
    a, b = servers
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    plugin = Fallback([Endpoint(a.base_url, name="a"), Endpoint(b.base_url, name="b")],
                      redis=f"redis://:pw-UNIQUE-5e1@127.0.0.1:{port}/0", failures=1,
                      redis_timeout=0.2)
    client = chatmini.Client(plugins=[plugin], max_retries=0)
    a.enqueue(Reply(status=503))
    assert ask(client).context["upstream"] == "b"
    assert ask(client).context["upstream"] == "b"  # opened by this process alone
    assert plugin.health().get("a").state == OPEN
    warnings = [r.getMessage() for r in caplog.records if "did not answer" in r.getMessage()]
    assert len(warnings) == 1 and "pw-UNIQUE-5e1" not in warnings[0]
