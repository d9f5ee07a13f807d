"""chatmini.batch / batch_iter over real sockets: order, failures, bounded memory, Ctrl-C."""

from __future__ import annotations

import signal
import threading
import time
import tracemalloc

import pytest

import chatmini
from chatmini.batching import BatchInterrupted, PoolSizeWarning, batch, batch_iter
from chatmini.batching.run import complete
from chatmini.testing import Reply

from .conftest import SECRET_KEY


def text(result) -> str:
    return result.choices[0].message.content


def batch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("chatmini-batch-")]


def join_batch_threads() -> None:
    deadline = time.monotonic() + 5
    while batch_threads() and time.monotonic() < deadline:
        for thread in batch_threads():
            try:
                thread.join(max(0.0, deadline - time.monotonic()))
            except RuntimeError:  # a Ctrl-C cut its start(): it is still bootstrapping
                time.sleep(0.01)
    assert batch_threads() == []


def test_results_come_back_in_input_order(make_client, server):
    client = make_client(pool_maxsize=8)
    inputs = [f"p{i}" if i % 2 else {"messages": [{"role": "user", "content": f"p{i}"}]}
              for i in range(40)]
    results = batch(client, inputs, workers=8)
    assert [text(r) for r in results] == [f"echo: p{i}" for i in range(40)]
    assert all(isinstance(r, chatmini.ChatCompletion) for r in results)
    assert {r.json["model"] for r in server.requests} == {"gpt-4o-mini"}  # the default model


def test_model_fills_inputs_without_one(make_client, server):
    client = make_client()
    batch(client, ["a", {"model": "own", "messages": [{"role": "user", "content": "b"}]}],
          workers=2, model="chosen")
    assert sorted(r.json["model"] for r in server.requests) == ["chosen", "own"]


def test_one_failure_does_not_stop_the_batch(make_client, server):
    client = make_client(pool_maxsize=4)
    server.enqueue(Reply(status=400))
    results = batch(client, [str(i) for i in range(12)], workers=4)
    failures = [r for r in results if isinstance(r, Exception)]
    assert len(failures) == 1 and isinstance(failures[0], chatmini.BadRequestError)
    assert len(results) == 12 and len(server.requests) == 12


def test_fail_fast_raises_the_first_error_and_stops(make_client, server):
    client = make_client()
    server.enqueue(Reply(status=400))
    with pytest.raises(chatmini.BadRequestError):
        batch(client, [str(i) for i in range(50)], workers=1, fail_fast=True)
    join_batch_threads()
    assert len(server.requests) <= 3  # the failed call, and at most the next two taken


def test_bad_inputs_are_error_results(make_client, server):
    client = make_client()
    results = batch(client, ["ok", 42, {"messages": "not a list"}], workers=2)
    assert text(results[0]) == "echo: ok"
    assert isinstance(results[1], chatmini.InvalidRequestError) and "int" in str(results[1])
    assert isinstance(results[2], chatmini.InvalidRequestError)
    assert len(server.requests) == 1


def test_stream_inputs_are_read_to_the_end(make_client, server):
    client = make_client()
    [result] = batch(client, [{"messages": [{"role": "user", "content": "s"}], "stream": True}])
    assert text(result) == "echo: s"
    assert server.requests[0].json["stream"] is True


def test_batch_iter_yields_as_calls_finish(make_client):
    client = make_client()
    second_done = threading.Event()

    def call(client, item):
        if item == 0:
            assert second_done.wait(5)  # the first input finishes only after the second
        result = complete(client, str(item))
        if item == 1:
            second_done.set()
        return result

    seen = [(i, text(r)) for i, r in batch_iter(client, [0, 1], workers=2, call=call)]
    assert seen == [(1, "echo: 1"), (0, "echo: 0")]


def test_a_lazy_million_inputs_are_never_materialised(make_client):
    client = make_client(pool_maxsize=4)
    pulled = [0]

    def prompts():
        for i in range(1_000_000):
            pulled[0] += 1
            yield f"p{i}"

    tracemalloc.start()
    try:
        taken = []
        # calls that return at once: without the bound, workers would race through the input
        for index, result in batch_iter(client, prompts(), workers=4, call=lambda c, p: p):
            taken.append((index, result))
            if len(taken) == 2000:
                break
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    join_batch_threads()
    assert all(result == f"p{i}" for i, result in taken)
    assert pulled[0] <= 2000 + 2 * 4  # taken by the consumer, plus the bounded look-ahead
    assert peak < 5_000_000


def test_iterating_over_real_calls_keeps_indexes_right(make_client):
    client = make_client(pool_maxsize=4)
    taken = {}
    for index, result in batch_iter(client, (f"p{i}" for i in range(10**6)), workers=4):
        taken[index] = text(result)
        if len(taken) == 30:
            break
    join_batch_threads()
    assert all(t == f"echo: p{i}" for i, t in taken.items())


def test_progress_callback_counts_done_and_errors(make_client, server):
    client = make_client()
    server.enqueue(Reply(status=404))
    seen = []
    batch(client, ["a", "b", "c", "d"], workers=2, progress=lambda *a: seen.append(a))
    assert [done for done, _, _ in seen] == [1, 2, 3, 4]
    assert {total for _, total, _ in seen} == {4}
    assert seen[-1][2] == 1
    seen.clear()
    batch(client, (p for p in "xy"), workers=1, progress=lambda *a: seen.append(a))
    assert seen == [(1, None, 0), (2, None, 0)]  # no total for a generator


def test_ctrl_c_in_the_progress_callback_keeps_partial_results(make_client, server):
    client = make_client()

    def progress(done, total, errors):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(BatchInterrupted) as info:
        batch(client, [str(i) for i in range(30)], workers=2, progress=progress)
    join_batch_threads()
    exc = info.value
    assert isinstance(exc, KeyboardInterrupt)
    assert len(exc.results) >= 3
    assert all(text(r) == f"echo: {i}" for i, r in exc.results.items())
    assert exc.pulled <= 3 + 2 * 2
    assert len(server.requests) == exc.pulled  # nothing started after the interrupt


def test_sigint_to_the_main_thread_stops_the_batch(make_client, server):
    client = make_client()
    main = threading.main_thread().ident

    def call(client, item):
        if item == 4:
            signal.pthread_kill(main, signal.SIGINT)
        return complete(client, str(item))

    with pytest.raises(BatchInterrupted) as info:
        batch(client, range(200), workers=2, call=call)
    join_batch_threads()
    results = info.value.results
    assert text(results[4]) == "echo: 4"  # in flight at the interrupt: allowed to finish
    assert len(server.requests) == info.value.pulled < 200


def test_calls_still_running_after_the_timeout_are_abandoned(make_client):
    client = make_client()
    release = threading.Event()

    def call(client, item):
        if item == 1:
            release.wait(10)
        return item

    def progress(done, total, errors):
        raise KeyboardInterrupt

    with pytest.raises(BatchInterrupted) as info:
        batch(client, [0, 1], workers=2, call=call, progress=progress, interrupt_timeout=0.2)
    release.set()
    join_batch_threads()
    assert info.value.results == {0: 0}


def test_leaving_batch_iter_early_stops_the_workers(make_client):
    client = make_client()
    for _ in batch_iter(client, (str(i) for i in range(1000)), workers=3):
        break
    join_batch_threads()


def test_a_failing_input_iterable_raises_its_error(make_client):
    client = make_client()

    def inputs():
        yield "a"
        raise ValueError("broken source")

    with pytest.raises(ValueError, match="broken source"):
        batch(client, inputs(), workers=2)


def test_workers_must_be_positive(make_client):
    with pytest.raises(chatmini.InvalidRequestError, match="workers"):
        batch(make_client(), ["a"], workers=0)


def test_a_pool_smaller_than_the_workers_is_reported(make_client):
    client = make_client(pool_maxsize=2)
    with pytest.warns(PoolSizeWarning, match="pool_maxsize=4"):
        batch(client, ["a"], workers=4)


def test_workers_share_the_pool(make_client, server):
    client = make_client(pool_maxsize=16)
    results = batch(client, [str(i) for i in range(200)], workers=16)
    assert len(results) == 200 and not any(isinstance(r, Exception) for r in results)
    assert server.connections_opened <= 16


def test_without_a_client_one_is_made_with_a_pool_per_worker(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    results = batch(None, [str(i) for i in range(30)], workers=3)
    assert [text(r) for r in results] == [f"echo: {i}" for i in range(30)]
    assert server.connections_opened <= 3


def test_faults_end_with_every_input_accounted_for_once(make_client, server):
    server.faults.rate = 0.1
    client = make_client(pool_maxsize=16, max_retries=4)
    seen = {}
    for index, result in batch_iter(client, [f"n{i}" for i in range(300)], workers=16):
        assert index not in seen
        seen[index] = result
    assert sorted(seen) == list(range(300))
    for index, result in seen.items():
        assert isinstance(result, chatmini.ChatminiError) or text(result) == f"echo: n{index}"
    assert sum(server.faults.injected.values()) > 0


def test_the_helpers_load_on_first_use():
    import subprocess
    import sys

    code = ("import sys, chatmini; assert 'chatmini.batching' not in sys.modules; "
            "assert chatmini.batch is chatmini.batching.batch; print(chatmini.RateLimiter.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "RateLimiter"
