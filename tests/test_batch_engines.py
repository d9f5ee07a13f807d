"""``run_on_dask`` and ``run_on_ray`` on real local clusters (Dask's LocalCluster with 2 worker
processes; Ray with 2 CPUs, in its own process) against the test server in its own process with
injected faults, and a real redis-server holding one budget: every input accounted for once,
the budget held across the worker processes (within 5% while they are all up; never above it
after one is SIGKILLed, 80% in), the killed worker's chunks rerun elsewhere without a duplicate
result. Resuming and the checks on arguments run on the Dask cluster."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest

from chatmini.batching.distributed import factory_key, run_on_dask
from chatmini.errors import InvalidRequestError
from chatmini.testing import Reply
from chatmini.testing.process import ServerProcess

from .engine_support import BAD_LINE, KILL_AT, run_scenario
from .redis_support import RedisServer

ROOT = Path(__file__).resolve().parent.parent
RPM = 1800  # 30 requests a second, shared by every worker process
COUNT = 150  # input lines: ~5 s at RPM
FAULTS = (Reply(status=503), Reply(drop=True))  # retried; a 429 would pause every worker


@pytest.fixture(scope="module")
def dask():
    pytest.importorskip("distributed", reason="needs Dask: pip install 'chatmini[dask]'")
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=2, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


@pytest.fixture
def budget(tmp_path):
    """The scenario's settings: a faulty server in its own process and a redis-server."""
    pytest.importorskip("redis")
    with RedisServer() as redis_server, ServerProcess(latency=0.05, fault_rate=0.05,
                                                      faults=FAULTS, seed=7) as server:
        yield {"redis": redis_server.url, "base_url": server.base_url, "rpm": RPM,
               "key": uuid.uuid4().hex, "dir": str(tmp_path), "count": COUNT}, server


def check_scenario(report, out: Path, server) -> None:
    """Every input once, in input order; the shared rate held; the killed chunks rerun."""
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["custom_id"] or r["line"] for r in records] == report["ids"]
    failed = [r for r in records if r["error"] is not None]
    assert [f["error"]["type"] for f in failed] == ["InvalidRequestError"]
    assert failed[0]["line"] == COUNT // 2 + 1 and "not valid JSON" in failed[0]["error"]["message"]
    summary = report["summary"]
    assert (summary["sent"], summary["rejected"], summary["ok"], summary["failed"]) == \
        (COUNT - 1, 1, COUNT - 1, 1)
    assert summary["missing"] == summary["unexpected"] == summary["skipped"] == 0

    sends = report["sends"]
    senders = collections.defaultdict(set)
    for _, pid, content in sends:
        senders[content].add(pid)
    wanted = {r["response"]["body"]["choices"][0]["message"]["content"].removeprefix("echo: ")
              for r in records if r["error"] is None}
    assert set(senders) == wanted  # nothing sent that has no result, nothing missing
    killed = report["killed"]
    assert killed in senders[KILL_AT] and len(senders[KILL_AT]) >= 2  # rerun elsewhere
    by_killed = {content for _, pid, content in sends if pid == killed}
    assert {c for c, pids in senders.items() if len(pids) > 1} <= by_killed

    times = [t for t, _, _ in sends]
    up = [t for t in times if t <= min(t for t, _, c in sends if c == KILL_AT)]
    assert len(up) >= COUNT * 0.6
    achieved = (len(up) - 1) / (up[-1] - up[0]) * 60  # while both workers were up
    assert abs(achieved / RPM - 1) <= 0.05, f"{achieved:.0f} requests/min for a {RPM} budget"
    overall = (len(times) - 1) / (times[-1] - times[0]) * 60  # the kill and the rerun too
    assert overall <= RPM * 1.05, f"{overall:.0f} requests/min for a {RPM} budget"
    stats = server.stats()
    assert stats["requests"] == len(sends) and sum(stats["faults"].values()) > 0


def test_dask_runs_every_line_once_within_one_budget_despite_faults_and_a_kill(dask, budget):
    settings, server = budget
    report = run_scenario("dask", settings, dask)
    check_scenario(report, Path(settings["dir"]) / "results.jsonl", server)


def test_ray_runs_every_line_once_within_one_budget_despite_faults_and_a_kill(budget):
    pytest.importorskip("ray", reason="needs Ray: pip install 'chatmini[ray]'")
    settings, server = budget
    env = dict(os.environ, PYTHONPATH=str(ROOT), RAY_USAGE_STATS_ENABLED="0")
    done = subprocess.run([sys.executable, "-m", "tests.engine_support", json.dumps(settings)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.splitlines()[-1])
    check_scenario(report, Path(settings["dir"]) / "results.jsonl", server)


# --- resuming and refusing, on the Dask cluster -------------------------------------------------


def plain_client(base_url):
    import chatmini

    return chatmini.Client(api_key="sk-engines", base_url=base_url, pool_maxsize=4)


def chat(custom_id, content):
    return json.dumps({"custom_id": custom_id, "body": {"model": "m", "messages": [
        {"role": "user", "content": content}]}})


def test_a_rerun_sends_only_what_is_not_done_and_orders_the_file(dask, server, tmp_path):
    import functools

    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("".join(chat(f"c{i}", f"q{i}") + "\n" for i in range(12)))
    earlier = [
        {"custom_id": "c3", "line": 4, "response": {"status_code": 200, "body": {}}, "error": None},
        {"custom_id": "c5", "line": 6, "response": None, "error": {"type": "APIError"}},
        {"custom_id": "gone", "line": 99, "response": {"status_code": 200}, "error": None},
    ]
    out.write_text("".join(json.dumps(r) + "\n" for r in earlier) + '{"custom_id": "c7", "li')
    factory = functools.partial(plain_client, server.base_url)
    first = run_on_dask(dask, source, out, factory, chunk_size=4, threads=2)
    assert (first.sent, first.skipped, first.ok, first.failed) == (10, 2, 11, 1)
    assert first.unexpected == 1 and first.tasks == 3
    assert sorted(r.json["messages"][0]["content"] for r in server.requests) == sorted(
        f"q{i}" for i in range(12) if i not in (3, 5))
    again = run_on_dask(dask, source, out, factory, retry_failed=True)
    assert (again.sent, again.skipped, again.ok, again.failed) == (1, 11, 12, 0)
    assert server.requests[-1].json["messages"][0]["content"] == "q5"
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["custom_id"] for r in records] == [f"c{i}" for i in range(12)] + ["gone"]


def test_a_failing_task_stops_the_run_and_keeps_what_finished(dask, server, tmp_path):
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text(chat("a", "x") + "\n" + BAD_LINE + "\n")
    with pytest.raises(InvalidRequestError, match="must return a chatmini.Client, not str"):
        run_on_dask(dask, source, out, lambda: "not a client")
    assert [json.loads(x)["line"] for x in out.read_text().splitlines()] == [2]  # the bad line
    assert not server.requests


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"chunk_size": 0}, "chunk_size must be an integer >= 1, not 0"),
    ({"threads": True}, "threads must be an integer >= 1, not True"),
    ({"pure": True}, "pure= cannot be set"),
])
def test_settings_are_checked_before_anything_runs(dask, tmp_path, kwargs, message):
    source = tmp_path / "in.jsonl"
    source.write_text(chat("a", "x") + "\n")
    with pytest.raises(InvalidRequestError, match=message):
        run_on_dask(dask, source, tmp_path / "out.jsonl", lambda: None, **kwargs)
    with pytest.raises(InvalidRequestError, match="input and output are the same file"):
        run_on_dask(dask, source, str(source), lambda: None)
    assert not (tmp_path / "out.jsonl").exists()


def test_a_factory_that_cannot_travel_is_refused_by_name():
    lock = threading.Lock()
    with pytest.raises(InvalidRequestError, match="client_factory cannot be sent to the workers"):
        factory_key(lambda: lock)
    with pytest.raises(InvalidRequestError, match="must be a callable"):
        factory_key("sk-not-a-factory")  # type: ignore[arg-type]
    assert factory_key(plain_client) == factory_key(plain_client)


def test_a_file_that_is_not_utf8_is_named(dask, tmp_path):
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_bytes(chat("a", "x").encode() + b"\n\xff\xfe\n")
    with pytest.raises(InvalidRequestError, match=r"in.jsonl is not UTF-8 text: invalid start"):
        run_on_dask(dask, source, out, plain_client)
    source.write_text(chat("a", "x") + "\n")
    out.write_bytes(b"\xff\n")
    with pytest.raises(InvalidRequestError, match=r"out.jsonl is not UTF-8 text"):
        run_on_dask(dask, source, out, plain_client)


def test_lone_surrogates_in_answers_are_written_as_replacement_characters(dask, server, tmp_path):
    import functools
    import warnings

    server.enqueue(Reply(path="/v1/chat/completions", content="half \ud83d of a smile",
                         repeat=True))
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("".join(chat(f"c{i}", f"q{i}") + "\n" for i in range(6)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = run_on_dask(dask, source, out, functools.partial(plain_client, server.base_url),
                              chunk_size=2)
    assert (summary.ok, summary.failed, summary.replaced) == (6, 0, True)
    said = [w for w in caught if "lone surrogates" in str(w.message)]
    assert len(said) == 1 and said[0].category is UnicodeWarning
    records = [json.loads(line) for line in out.read_bytes().decode("utf-8").splitlines()]
    assert {r["response"]["body"]["choices"][0]["message"]["content"] for r in records} == {
        "half \N{REPLACEMENT CHARACTER} of a smile"}
