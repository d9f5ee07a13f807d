"""``chatmini batch`` over real sockets: results file, resuming, bad lines, summary, Ctrl-C."""

from __future__ import annotations

import io
import json
import signal
import threading

import pytest

from chatmini.cli import batch as batch_cli
from chatmini.cli import main
from chatmini.testing import Reply

from .conftest import SECRET_KEY


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET_KEY)


def chat_line(custom_id, content):
    body = {"model": "m", "messages": [{"role": "user", "content": content}]}
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
                       "body": body})


def write_input(tmp_path, lines):
    path = tmp_path / "requests.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(server, tmp_path, *extra, lines=None, workers="4"):
    source = write_input(tmp_path, lines) if lines is not None else tmp_path / "requests.jsonl"
    out = tmp_path / "results.jsonl"
    code = main(["batch", str(source), "-o", str(out), "--base-url", server.base_url,
                 "--workers", workers, *extra])
    return code, out


def records(out):
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def answer(record):
    return record["response"]["body"]["choices"][0]["message"]["content"]


def test_every_line_gets_one_result_with_its_id(server, tmp_path, capsys):
    lines = [chat_line(f"id-{i}", f"q{i}") for i in range(20)]
    lines.append(json.dumps({"model": "m", "messages": [{"role": "user", "content": "bare"}]}))
    code, out = run(server, tmp_path, lines=lines)
    assert code == 0
    got = records(out)
    assert sorted(r["custom_id"] for r in got if r["custom_id"]) == sorted(f"id-{i}" for i in range(20))
    for r in got:
        assert r["error"] is None and r["response"]["status_code"] == 200
        expected = "bare" if r["custom_id"] is None else f"q{r['custom_id'][3:]}"
        assert answer(r) == f"echo: {expected}"
    assert [r["line"] for r in got if r["custom_id"] is None] == [21]
    summary = capsys.readouterr().err
    for part in ("ok 21", "failed 0", "tokens in 21 out 42", "latency p50", "p99", "wall"):
        assert part in summary
    assert "ttft p50" in summary and "/chat/completions" in summary  # the client.stats() table


def test_other_urls_are_posted_where_the_line_says(server, tmp_path):
    line = json.dumps({"custom_id": "e", "url": "/v1/fine_tuning/jobs",  # an echoed path
                       "body": {"model": "emb", "input": "hello"}})
    code, out = run(server, tmp_path, lines=[line])
    assert code == 0
    assert server.requests[0].path == "/v1/fine_tuning/jobs"
    assert records(out)[0]["response"]["body"]["json"] == {"model": "emb", "input": "hello"}


def test_bad_lines_are_named_recorded_and_do_not_stop_the_rest(server, tmp_path, capsys):
    lines = [
        chat_line("a", "fine"),
        "{not json",
        "[1, 2]",
        json.dumps({"custom_id": 7, "body": {}}),
        json.dumps({"custom_id": "g", "method": "GET", "body": {}}),
        json.dumps({"custom_id": "b", "body": {"model": "m", "messages": "oops"}}),
        chat_line("a", "again"),
        "",
        chat_line("c", "also fine"),
    ]
    code, out = run(server, tmp_path, lines=lines)
    assert code == 1
    err = capsys.readouterr().err
    for text in ("line 2: not valid JSON", "line 3: expected a JSON object, got list",
                 "line 4: custom_id must be a string", "line 5: method must be POST",
                 "line 6: messages must be a list", "line 7: custom_id 'a' repeats line 1"):
        assert text in err
    assert "ok 2, failed 6 (InvalidRequestError 6)" in err
    by_line = {r["line"]: r for r in records(out)}
    assert sorted(by_line) == [1, 2, 3, 4, 5, 6, 7, 9]
    assert by_line[2]["error"]["type"] == "InvalidRequestError"
    assert answer(by_line[9]) == "echo: also fine"
    assert len(server.requests) == 2


def test_api_errors_are_recorded_with_their_status(server, tmp_path):
    server.enqueue(Reply(status=400))
    code, out = run(server, tmp_path, lines=[chat_line("x", "q")], workers="1")
    assert code == 1
    [record] = records(out)
    assert record["response"] is None
    assert record["error"]["status_code"] == 400 and record["error"]["type"] == "BadRequestError"


def test_a_rerun_skips_what_is_done_and_retries_failures_only_when_asked(server, tmp_path, capsys):
    lines = [chat_line(f"id-{i}", f"q{i}") for i in range(5)]
    server.enqueue(Reply(status=400))
    code, out = run(server, tmp_path, lines=lines, workers="1")  # the first line fails
    assert code == 1 and len(server.requests) == 5
    capsys.readouterr()

    code, _ = run(server, tmp_path, workers="1")
    assert code == 0 and len(server.requests) == 5  # nothing sent again
    assert "skipped 5 already done" in capsys.readouterr().err

    code, _ = run(server, tmp_path, "--retry-failed", workers="1")
    assert code == 0 and len(server.requests) == 6
    assert server.requests[-1].json["messages"][0]["content"] == "q0"
    last = {}
    for record in records(out):
        last[record["custom_id"]] = record  # the last line for an id is its result
    assert all(r["error"] is None for r in last.values()) and len(last) == 5


def test_lines_without_ids_resume_by_line_number(server, tmp_path):
    bodies = [json.dumps({"messages": [{"role": "user", "content": f"b{i}"}]}) for i in range(3)]
    run(server, tmp_path, lines=bodies)
    (tmp_path / "requests.jsonl").write_text("\n".join(bodies + [bodies[0]]) + "\n")
    code, out = run(server, tmp_path)
    assert code == 0 and len(server.requests) == 4
    assert [r["line"] for r in records(out)] [-1] == 4


def test_a_half_written_last_line_is_left_behind_cleanly(server, tmp_path, capsys):
    out = tmp_path / "results.jsonl"
    out.write_text('{"custom_id": "a", "line": 1, "response": {"body": {}}, "error": null}\n'
                   '{"custom_id": "b", "li', encoding="utf-8")
    code, _ = run(server, tmp_path, lines=[chat_line("a", "1"), chat_line("b", "2")])
    assert code == 0
    assert "1 unreadable line(s)" in capsys.readouterr().err
    assert [r.json["messages"][0]["content"] for r in server.requests] == ["2"]
    assert json.loads(out.read_text().splitlines()[-1])["custom_id"] == "b"


def test_input_from_stdin_and_a_default_model(server, tmp_path, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"messages": [
        {"role": "user", "content": "piped"}]}) + "\n"))
    out = tmp_path / "results.jsonl"
    code = main(["batch", "-", "-o", str(out), "--base-url", server.base_url, "--model", "mm"])
    assert code == 0
    assert server.requests[0].json["model"] == "mm"


def test_a_missing_input_file_is_one_clear_error(server, tmp_path, capsys):
    code = main(["batch", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "o.jsonl")])
    assert code == 1
    assert "cannot read" in capsys.readouterr().err


def test_rate_limit_flags_build_the_limiter(tmp_path):
    args = batch_cli_args(tmp_path, "--rpm", "500", "--tpm", "200000", "--max-concurrent", "3")
    client = batch_cli.make_client(args)
    try:
        limiter = client.plugin_host.get("ratelimit")
        assert limiter.budget.requests.per_second == pytest.approx(500 / 60)
        assert limiter.budget.max_concurrent == 3 and client.pool_maxsize == 4
    finally:
        client.close()
    plain = batch_cli.make_client(batch_cli_args(tmp_path))
    assert plain.plugin_host.get("ratelimit") is None
    plain.close()


def batch_cli_args(tmp_path, *extra):
    from chatmini.cli.app import build_parser

    return build_parser().parse_args(["batch", "in", "-o", str(tmp_path / "o"), "--workers", "4",
                                      "--base-url", "http://127.0.0.1:9/v1", *extra])


def test_usage_errors_exit_2(tmp_path, capsys):
    assert main(["batch", "in.jsonl"]) == 2  # -o is required
    assert main(["batch", "in.jsonl", "-o", "o", "--workers", "0"]) == 2


def test_ctrl_c_keeps_finished_results_and_a_rerun_completes(server, tmp_path, capsys,
                                                             monkeypatch):
    main_thread = threading.main_thread().ident
    real_make_call = batch_cli.make_call
    calls = []

    def interrupting_make_call(model):
        call = real_make_call(model)

        def wrapped(client, job):
            calls.append(job.custom_id)
            if len(calls) == 3:
                signal.pthread_kill(main_thread, signal.SIGINT)
            return call(client, job)

        return wrapped

    monkeypatch.setattr(batch_cli, "make_call", interrupting_make_call)
    lines = [chat_line(f"id-{i}", f"q{i}") for i in range(200)]
    code, out = run(server, tmp_path, lines=lines, workers="2")
    assert code == 130
    first = records(out)
    assert 3 <= len(first) < 200, [r["custom_id"] for r in first]
    assert "ok " in capsys.readouterr().err
    monkeypatch.setattr(batch_cli, "make_call", real_make_call)
    code, _ = run(server, tmp_path, workers="2")
    assert code == 0
    ids = [r["custom_id"] for r in records(out)]
    assert sorted(ids) == sorted(f"id-{i}" for i in range(200))  # each exactly once


def test_an_unusable_results_file_is_one_clear_error(server, tmp_path, capsys):
    source = write_input(tmp_path, [chat_line("a", "x")])
    code = main(["batch", str(source), "-o", str(tmp_path), "--base-url", server.base_url])
    assert code == 1
    assert "cannot use" in capsys.readouterr().err and server.requests == []


def test_input_that_is_not_utf8_is_one_clear_error(server, tmp_path, capsys):
    source = tmp_path / "requests.jsonl"
    source.write_bytes(chat_line("a", "x").encode() + b"\n\xff\xfe broken\n")
    code = main(["batch", str(source), "-o", str(tmp_path / "o.jsonl"),
                 "--base-url", server.base_url])
    assert code == 1
    assert "is not UTF-8 text" in capsys.readouterr().err


def test_the_key_never_reaches_the_results_or_stderr(server, tmp_path, capsys):
    echo = {"error": {"message": f"Incorrect API key provided: {SECRET_KEY}", "code": "invalid"}}
    server.enqueue(Reply(status=401, body=echo))
    code, out = run(server, tmp_path, lines=[chat_line("a", "x")], workers="1")
    assert code == 1
    captured = capsys.readouterr()
    assert SECRET_KEY not in out.read_text() + captured.err + captured.out
    assert records(out)[0]["error"]["status_code"] == 401
