"""``chatmini batch`` on several processes: ``--shard I/N``, ``chatmini batch merge``, and a
shared Redis limiter that stops mid-run (nothing lost or duplicated in either fail mode)."""

from __future__ import annotations

import json
import threading
import time

import pytest

from chatmini.cli import main
from chatmini.cli.distributed import shard_of

from .conftest import SECRET_KEY
from .redis_support import RedisServer
from .test_batch_cli import chat_line, records, write_input


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET_KEY)


def lines(n=30):
    out = [chat_line(f"id-{i}", f"q{i}") for i in range(n - 10)]
    out += [json.dumps({"model": "m", "messages": [{"role": "user", "content": f"bare{i}"}]})
            for i in range(10)]  # ids are line numbers
    return out


def run_shard(server, source, out, spec, *extra):
    return main(["batch", str(source), "-o", str(out), "--base-url", server.base_url,
                 "--workers", "4", "--shard", spec, *extra])


def sent_contents(server):
    return [r.json["messages"][0]["content"] for r in server.requests]


def test_shards_take_each_line_once_and_merge_in_input_order(server, tmp_path, capsys):
    source = write_input(tmp_path, lines())
    outs = [tmp_path / f"out{i}.jsonl" for i in (1, 2, 3)]
    for i, out in enumerate(outs, start=1):
        assert run_shard(server, source, out, f"{i}/3") == 0
    per_shard = [{r["custom_id"] or r["line"] for r in records(out)} for out in outs]
    assert all(per_shard) and sum(map(len, per_shard)) == 30
    assert set.union(*per_shard) == {f"id-{i}" for i in range(20)} | set(range(21, 31))
    assert sorted(sent_contents(server)) == sorted([f"q{i}" for i in range(20)] +
                                                   [f"bare{i}" for i in range(10)])
    capsys.readouterr()
    merged = tmp_path / "merged.jsonl"
    assert main(["batch", "merge", "-i", str(source), "-o", str(merged),
                 *map(str, reversed(outs))]) == 0
    assert [r["line"] for r in records(merged)] == list(range(1, 31))
    assert "30 results from 3 files" in capsys.readouterr().err


def test_shard_assignment_is_stable_across_runs_and_machines():
    assert [shard_of(f"id-{i}", 4) for i in range(8)] == [3, 1, 3, 1, 4, 2, 4, 2]  # CRC-32
    assert shard_of(7, 3) == shard_of("7", 3) == 1


def test_a_shard_resumes_on_its_own_output(server, tmp_path):
    source = write_input(tmp_path, lines())
    out = tmp_path / "out1.jsonl"
    assert run_shard(server, source, out, "1/2") == 0
    sent = len(server.requests)
    assert run_shard(server, source, out, "1/2") == 0
    assert len(server.requests) == sent and len(records(out)) == sent


def test_merge_names_missing_and_duplicated_ids(server, tmp_path, capsys):
    source = write_input(tmp_path, lines())
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    run_shard(server, source, one, "1/3")
    run_shard(server, source, two, "2/3")
    capsys.readouterr()
    merged = tmp_path / "merged.jsonl"
    code = main(["batch", "merge", "-i", str(source), "-o", str(merged), str(one), str(two),
                 str(one)])
    err = capsys.readouterr().err
    assert code == 1
    missing = [key for key in [f"id-{i}" for i in range(20)] + list(range(21, 31))
               if shard_of(key, 3) == 3]
    assert f"{len(missing)} id(s) missing" in err
    assert f"{len(records(one))} id(s) duplicated" in err
    got = [r["line"] for r in records(merged)]
    assert got == sorted(got) and len(got) == 30 - len(missing)


def test_shard_and_redis_options_are_checked(tmp_path, capsys):
    source = write_input(tmp_path, lines(12))
    for spec in ("0/3", "4/3", "x", "1/0"):
        assert main(["batch", str(source), "-o", str(tmp_path / "o"), "--shard", spec]) == 2
    assert "shards are numbered 1 to N" in capsys.readouterr().err
    code = main(["batch", str(source), "-o", str(tmp_path / "o"), "--redis", "redis://x"])
    assert code == 1 and "--redis shares limits" in capsys.readouterr().err
    assert main(["batch", "merge", "-o", "m"]) == 2


@pytest.mark.parametrize("fail_mode", ["open", "closed"])
def test_redis_stopping_mid_run_loses_and_duplicates_nothing(server, tmp_path, fail_mode,
                                                             caplog):
    pytest.importorskip("redis")
    server.latency = 0.01
    source = write_input(tmp_path, [chat_line(f"id-{i}", f"q{i}") for i in range(40)])
    out = tmp_path / "results.jsonl"
    with RedisServer() as redis_server:
        args = ["batch", str(source), "-o", str(out), "--base-url", server.base_url,
                "--workers", "4", "--rpm", "3000", "--redis", redis_server.url,
                "--fail-mode", fail_mode]

        def stop_redis_after_ten_requests() -> None:
            deadline = time.monotonic() + 10
            while len(server.requests) < 10 and time.monotonic() < deadline:
                time.sleep(0.002)
            redis_server.stop()

        stopper = threading.Thread(target=stop_redis_after_ten_requests)
        stopper.start()
        code = main(args)
        stopper.join()
        first = records(out)
        assert sorted(r["custom_id"] for r in first) == sorted(f"id-{i}" for i in range(40))
        failed = [r for r in first if r["error"] is not None]
        if fail_mode == "open":
            assert code == 0 and not failed
            warned = [r for r in caplog.records if r.levelname == "WARNING"]
            assert len(warned) == 1 and "did not answer" in warned[0].getMessage()
        else:
            assert code == 1 and 0 < len(failed) <= 30
            assert {r["error"]["type"] for r in failed} == {"LimiterUnavailableError"}
            assert "fail_mode='closed'" in failed[0]["error"]["message"]
            redis_server.start()
            assert main(args + ["--retry-failed"]) == 0
        final = {r["custom_id"]: r for r in records(out)}  # the last line for an id wins
        assert len(final) == 40 and all(r["error"] is None for r in final.values())
    assert sorted(sent_contents(server)) == sorted(f"q{i}" for i in range(40))  # each sent once
