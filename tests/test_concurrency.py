"""One Client shared by threads: pooled connections are reused, never more than the pool."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from .conftest import HI


def test_sixteen_threads_share_the_pool(make_client, server):
    client = make_client(pool_maxsize=16)

    def call(i: int) -> str:
        r = client.chat.completions.create(model="m", messages=[{"role": "user", "content": str(i)}])
        return r.choices[0].message.content

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(call, range(400)))
    assert results == [f"echo: {i}" for i in range(400)]
    assert 1 <= server.connections_opened <= 16
    assert len(server.requests) == 400


def test_sequential_calls_reuse_one_connection(client, server):
    for _ in range(20):
        client.chat.completions.create(model="m", messages=HI)
    client.models.list()
    assert server.connections_opened == 1


def test_small_pool_with_more_threads_still_completes(make_client, server):
    client = make_client(pool_maxsize=2)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: client.models.list(), range(40)))
    assert len(results) == 40
