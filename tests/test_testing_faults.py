"""The test server's per-request latency and injected faults, over real sockets."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from chatmini.testing import Reply, Server
from chatmini.testing.faults import FaultInjector

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def post(session: requests.Session, server: Server) -> int:
    try:
        return session.post(server.base_url + "/chat/completions", json=BODY, timeout=5).status_code
    except requests.ConnectionError:
        return 0  # a dropped connection


def test_latency_delays_each_answer_but_requests_overlap():
    with Server(latency=0.05) as server, requests.Session() as session:
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=32)
        session.mount("http://", adapter)

        def timed(_: int) -> float:
            start = time.perf_counter()
            assert post(session, server) == 200
            return time.perf_counter() - start

        start = time.perf_counter()
        with ThreadPoolExecutor(32) as pool:
            durations = list(pool.map(timed, range(32)))
        wall = time.perf_counter() - start
    assert min(durations) >= 0.05
    assert wall < 32 * 0.05 / 2  # one after another would take 1.6 s


def test_latency_must_not_be_negative():
    with pytest.raises(ValueError, match="latency"):
        Server(latency=-1)


def test_faults_are_injected_at_the_rate_and_repeat_with_a_seed():
    def statuses(seed: int) -> list[int]:
        with Server(fault_rate=0.3, seed=seed) as server, requests.Session() as session:
            result = [post(session, server) for _ in range(60)]
            assert sum(server.faults.injected.values()) == sum(s != 200 for s in result)
            return result

    first = statuses(7)
    assert first == statuses(7)
    assert set(first) <= {200, 429, 503, 0}
    assert 5 <= sum(s != 200 for s in first) <= 35


def test_every_fault_kind_is_what_a_real_api_sends():
    with Server(fault_rate=1.0, seed=1) as server, requests.Session() as session:
        seen = {}
        for _ in range(30):
            try:
                r = session.post(server.base_url + "/chat/completions", json=BODY, timeout=5)
                seen[r.status_code] = r
            except requests.ConnectionError:
                seen[0] = None
    assert set(seen) == {0, 429, 503}
    assert float(seen[429].headers["Retry-After"]) > 0
    assert seen[503].json()["error"]["type"] == "server_error"


def test_scripted_replies_come_before_faults_and_reset_clears_the_counts():
    with Server(fault_rate=1.0) as server, requests.Session() as session:
        server.enqueue(Reply(status=201))
        assert post(session, server) == 201
        assert sum(server.faults.injected.values()) == 0
        post(session, server)
        assert sum(server.faults.injected.values()) == 1
        server.reset()
        assert sum(server.faults.injected.values()) == 0


def test_fault_settings_are_checked():
    with pytest.raises(ValueError, match="fault_rate"):
        FaultInjector(1.5)
    with pytest.raises(ValueError, match="faults"):
        FaultInjector(0.5, faults=())
    assert FaultInjector(0.0).pick() is None
