"""ServerProcess: the test server in a child process, counted over the pipe, with and without
the fault proxy in front (the soak and the benchmarks use it)."""

from __future__ import annotations

import pytest
import requests

from chatmini.testing import Reply
from chatmini.testing.process import ServerProcess

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def test_counts_requests_connections_and_faults_until_reset():
    with ServerProcess(fault_rate=1.0, faults=(Reply(status=503),), seed=1) as server:
        with requests.Session() as session:
            for _ in range(3):
                assert session.post(server.base_url + "/chat/completions", json=BODY,
                                    timeout=5).status_code == 503
        stats = server.stats()
        assert (stats["requests"], stats["connections"], stats["faults"]) == (3, 1, {"503": 3})
        assert stats["cpu_seconds"] > 0 and "proxy_connections" not in stats
        server.reset()
        assert server.stats()["requests"] == 0


def test_the_proxy_stands_in_front_and_counts_the_client_side():
    with ServerProcess(proxy=True) as server:
        answer = requests.post(server.base_url + "/chat/completions", json=BODY, timeout=5)
        assert answer.json()["choices"][0]["message"]["content"] == "echo: hi"
        stats = server.stats()
    assert stats["proxy_connections"] == stats["proxy_requests"] == stats["requests"] == 1
    assert stats["proxy_injected"] == stats["proxy_fired"] == {}


def test_proxy_faults_without_a_proxy_are_refused():
    with pytest.raises(ValueError, match="proxy_fault_rate=0.1 needs proxy=True"):
        ServerProcess(proxy_fault_rate=0.1)


def test_replies_are_scripted_over_the_pipe_and_streams_framed_as_asked():
    with ServerProcess(framing="coalesced") as server:
        server.enqueue(Reply(status=429), Reply(chunks=3))
        assert server.stats()["pending"] == 2
        url = server.base_url + "/chat/completions"
        assert requests.post(url, json=BODY, timeout=5).status_code == 429
        with requests.post(url, json={**BODY, "stream": True}, stream=True, timeout=5) as answer:
            reads = list(answer.raw.read_chunked())  # one read per HTTP chunk
    assert len(reads) == 1 and reads[0].count(b"\n\n") == 3 + 3
