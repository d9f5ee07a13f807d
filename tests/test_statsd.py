"""The StatsD exporter: real datagrams on a real UDP socket, and a daemon that is not there."""

from __future__ import annotations

import socket
from typing import Iterator

import pytest

import chatmini
from chatmini.plugins.statsd import StatsdMetrics
from chatmini.testing import Reply

from .conftest import HI

MODEL = "gpt-4o-mini"


@pytest.fixture
def daemon() -> Iterator[socket.socket]:
    """A UDP socket standing in for the StatsD daemon."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    yield sock
    sock.close()


def parse(line: str) -> tuple[str, float, str, float, dict[str, str]]:
    """``name:value|type[|@rate][|#k:v,...]`` -> (name, value, type, rate, tags)."""
    head, *fields = line.split("|")
    name, value = head.split(":")
    rate, tags = 1.0, {}
    for field in fields[1:]:
        if field.startswith("@"):
            rate = float(field[1:])
        elif field.startswith("#"):
            tags = dict(pair.split(":", 1) for pair in field[1:].split(","))
    return name, float(value), fields[0], rate, tags


def receive(sock: socket.socket, calls: int) -> list[tuple]:
    """Every line of ``calls`` datagrams (one per call at this size)."""
    lines = []
    for _ in range(calls):
        lines += sock.recv(65536).decode().split("\n")
    return [parse(line) for line in lines]


def by_name(lines, name):
    return [line for line in lines if line[0] == name]


def test_timers_and_counters_with_dogstatsd_tags(make_client, server, daemon):
    plugin = StatsdMetrics(port=daemon.getsockname()[1], prefix="app.llm", tags=True,
                           constant_tags={"env": "test"})
    client = make_client(plugins=[plugin], max_retries=1)
    server.enqueue(Reply(status=500))
    first = client.chat.completions.create(model=MODEL, messages=HI)
    with client.chat.completions.create(model=MODEL, messages=HI, stream=True) as stream:
        list(stream)
    lines = receive(daemon, 2)
    (duration, stream_duration) = by_name(lines, "app.llm.request.duration")
    assert duration[1:4] == (pytest.approx(first.timing.duration * 1000, abs=0.01), "ms", 1.0)
    assert duration[4] == {"model": MODEL, "endpoint": "/chat/completions", "status": "200",
                           "env": "test"}
    assert [line[1:3] for line in by_name(lines, "app.llm.requests")] == [(1, "c"), (1, "c")]
    assert by_name(lines, "app.llm.retries") == [
        ("app.llm.retries", 1, "c", 1.0, {"model": MODEL, "endpoint": "/chat/completions",
                                          "env": "test"})]
    tokens = {line[4]["kind"]: line[1] for line in by_name(lines, "app.llm.tokens")}
    assert tokens == {"prompt": first.usage.prompt_tokens,
                      "completion": first.usage.completion_tokens}
    (ttft,) = by_name(lines, "app.llm.time_to_first_token")
    assert ttft[1] == pytest.approx(stream.timing.ttft * 1000, abs=0.01) and ttft[2] == "ms"
    assert plugin.sent == 2 and plugin.dropped == 0


def test_plain_statsd_lines_and_errors(make_client, server, daemon):
    plugin = StatsdMetrics(port=daemon.getsockname()[1])
    client = make_client(plugins=[plugin], max_retries=0)
    server.enqueue(Reply(status=429))
    with pytest.raises(chatmini.RateLimitError):
        client.chat.completions.create(model=MODEL, messages=HI)
    data = daemon.recv(65536).decode()
    assert "|#" not in data and "|@" not in data
    names = [parse(line)[0] for line in data.split("\n")]
    assert names == ["chatmini.request.duration", "chatmini.requests", "chatmini.errors"]


def test_sample_rate(make_client, daemon):
    draws = iter([0.2, 0.9])  # kept (below 0.5), then sampled out
    plugin = StatsdMetrics(port=daemon.getsockname()[1], sample_rate=0.5,
                           random_source=lambda: next(draws))
    client = make_client(plugins=[plugin])
    client.chat.completions.create(model=MODEL, messages=HI)
    client.chat.completions.create(model=MODEL, messages=HI)
    lines = receive(daemon, 1)
    assert {line[3] for line in lines} == {0.5}
    daemon.settimeout(0.2)
    with pytest.raises(socket.timeout):
        daemon.recv(65536)  # the second call sent nothing
    assert plugin.sent == 1


def test_a_missing_daemon_never_reaches_the_call(make_client):
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    plugin = StatsdMetrics(port=port)
    assert plugin._sock.getblocking() is False  # a full buffer drops, never waits
    client = make_client(plugins=[plugin])
    for _ in range(4):
        assert client.chat.completions.create(model=MODEL, messages=HI).choices
    assert plugin.dropped >= 1 and plugin.sent + plugin.dropped == 4
    plugin.close()
    assert client.chat.completions.create(model=MODEL, messages=HI).choices
    assert plugin.sent + plugin.dropped == 5 and "dropped=" in repr(plugin)


def test_long_payloads_are_split_into_datagrams():
    from chatmini.plugins.statsd import _packets

    lines = [f"m{i}:{i}|c" for i in range(100)]
    packets = _packets(lines, 64)
    assert all(len(p) <= 64 for p in packets)
    assert b"\n".join(packets).decode().split("\n") == lines


@pytest.mark.parametrize("kwargs", [{"prefix": "bad:prefix"}, {"sample_rate": 0},
                                    {"host": "no-such-host.invalid"}])
def test_bad_settings_fail_at_construction(kwargs):
    with pytest.raises(chatmini.InvalidRequestError):
        StatsdMetrics(**kwargs)
