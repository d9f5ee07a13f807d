"""``chatmini batch --remote`` and ``chatmini batch status|cancel|fetch`` over real sockets: lines
checked before any upload, splitting, the local result format, Ctrl-C and resume, 401s while
polling, and the commands that look after a batch by id."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from chatmini.cli import main
from chatmini.cli.remote_poll import Poller
from chatmini.testing import Reply

from .conftest import SECRET_KEY

CHAT = "/v1/chat/completions"


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET_KEY)


def chat_line(custom_id, content, model="m", **extra):
    body = {"model": model, "messages": [{"role": "user", "content": content}], **extra}
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": CHAT, "body": body})


def bare_line(content):
    return json.dumps({"model": "m", "messages": [{"role": "user", "content": content}]})


def write_input(tmp_path, lines, name="requests.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def remote(server, source, out, *extra):
    return main(["batch", str(source), "-o", str(out), "--remote", "--base-url",
                 server.base_url, "--poll-interval", "0.02", *extra])


def records(path):
    return [json.loads(text) for text in path.read_text(encoding="utf-8").splitlines()]


def uploads(server):
    return [r for r in server.requests if r.method == "POST" and r.path == "/v1/files"]


def comparable(record):
    """A result line without what differs between two runs (ids, times, request ids)."""
    response = record["response"]
    if response is not None:
        body = dict(response["body"], id=None, created=None)
        response = dict(response, request_id=None, body=body)
    return dict(record, response=response)


def test_remote_results_have_the_local_format_and_merge(server, tmp_path, capsys):
    lines = [chat_line(f"id-{i}", f"q{i}") for i in range(6)] + [bare_line("bare")]
    source = write_input(tmp_path, lines)
    local, far = tmp_path / "local.jsonl", tmp_path / "remote.jsonl"
    assert main(["batch", str(source), "-o", str(local), "--base-url", server.base_url]) == 0
    assert remote(server, source, far) == 0
    by_key = {(r["custom_id"], r["line"]): comparable(r) for r in records(local)}
    assert {(r["custom_id"], r["line"]): comparable(r) for r in records(far)} == by_key
    assert (None, 7) in by_key
    err = capsys.readouterr().err
    assert "ok 7, failed 0" in err and "created" in err and not os.path.exists(
        f"{far}.batches.json")
    merged = tmp_path / "merged.jsonl"
    assert main(["batch", "merge", "-i", str(source), "-o", str(merged), str(far)]) == 0
    assert len(records(merged)) == 7


def test_bad_lines_are_all_named_and_nothing_is_uploaded(server, tmp_path, capsys):
    lines = [
        chat_line("a", "x"),
        "not json",
        chat_line("b", "x", stream=True),
        json.dumps({"custom_id": "c", "url": "/v1/audio/speech", "body": {"model": "tts"}}),
        json.dumps({"custom_id": "d", "url": "/v1/embeddings", "body": {"input": "x"}}),
        chat_line("a", "again"),
        chat_line("chatmini-line-3", "x"),
    ]
    code = remote(server, write_input(tmp_path, lines), tmp_path / "out.jsonl")
    assert code == 2
    err = capsys.readouterr().err
    for expected in ("line 2: not valid JSON", "line 3: stream is not allowed",
                     "does not serve /v1/audio/speech", "line 5: the body names no model",
                     "custom_id 'a' repeats line 1", "is reserved", "6 bad line(s)",
                     "nothing was uploaded"):
        assert expected in err
    assert server.requests == []


def test_the_input_is_split_by_endpoint_model_and_limits(server, tmp_path, capsys):
    lines = [chat_line(f"a{i}", "x") for i in range(5)] + [chat_line("b", "x", model="other")]
    lines.append(json.dumps({"custom_id": "e", "url": "/v1/embeddings",
                             "body": {"model": "emb", "input": "hi"}}))
    out = tmp_path / "out.jsonl"
    assert remote(server, write_input(tmp_path, lines), out, "--max-batch-requests", "2") == 0
    made = server.batches.objects()
    sizes = sorted((b["endpoint"], b["model"], b["request_counts"]["total"]) for b in made)
    assert sizes == [(CHAT, "m", 1), (CHAT, "m", 2), (CHAT, "m", 2), (CHAT, "other", 1),
                     ("/v1/embeddings", "emb", 1)]
    assert len(records(out)) == 7
    assert {b["metadata"]["chatmini_output"] for b in made} == {"out.jsonl"}


def test_a_dry_run_shows_the_plan_and_uploads_nothing(server, tmp_path, capsys):
    lines = [chat_line(f"a{i}", "x" * 40, max_tokens=10) for i in range(3)] + [bare_line("y")]
    code = remote(server, write_input(tmp_path, lines), tmp_path / "o.jsonl", "--dry-run",
                  "--max-batch-bytes", "400")
    assert code == 0 and server.requests == []
    out = capsys.readouterr().out
    assert "batch 1: 2 requests to /v1/chat/completions with m" in out
    assert "batch 2: 2 requests" in out and "2 batch(es), 4 requests" in out
    assert "about 31 input tokens" in out and "up to 30 output tokens" in out
    assert "1 request(s) set no max_tokens" in out


def test_options_that_cannot_apply_are_refused(server, tmp_path, capsys):
    source = write_input(tmp_path, [chat_line("a", "x")])
    assert remote(server, source, tmp_path / "o.jsonl", "--rpm", "10") == 2
    assert main(["batch", str(source), "-o", str(tmp_path / "o"), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "--rpm" in err and "--dry-run needs --remote" in err
    assert server.requests == []


def test_failed_lines_are_errors_and_retry_failed_sends_only_them(server, tmp_path, capsys):
    server.enqueue(Reply(status=400, path="/chat/completions"))
    lines = [chat_line(f"id-{i}", f"q{i}") for i in range(3)]
    source, out = write_input(tmp_path, lines), tmp_path / "out.jsonl"
    assert remote(server, source, out) == 1
    failed = [r for r in records(out) if r["error"]]
    assert len(failed) == 1 and failed[0]["error"]["type"] == "BadRequestError"
    assert failed[0]["error"]["status_code"] == 400 and failed[0]["line"] == 1
    assert remote(server, source, out) == 0  # nothing left to do without --retry-failed
    assert len(server.batches.objects()) == 1
    assert remote(server, source, out, "--retry-failed") == 0
    newest = server.batches.objects()[0]
    assert newest["request_counts"]["total"] == 1
    assert "skipped 2 already done" in capsys.readouterr().err


def test_input_from_stdin(server, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(bare_line("from stdin") + "\n"))
    out = tmp_path / "out.jsonl"
    assert remote(server, "-", out) == 0
    assert records(out)[0]["line"] == 1 and records(out)[0]["custom_id"] is None


def wait_for_batch_id(state, deadline=30.0):
    """The batch id once the run has noted it (the run's own file: sync, not a sleep)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            ids = [e["batch_id"] for e in json.loads(state.read_text())["batches"]]
        except (OSError, ValueError, KeyError):
            ids = []
        if ids and all(ids):
            return ids
        time.sleep(0.02)
    raise AssertionError("the run never noted its batch")


def test_ctrl_c_after_create_leaves_the_batch_running_and_a_rerun_collects_it(
        server, tmp_path, capsys):
    server.batches.configure(rate=10)
    lines = [chat_line(f"id-{i}", f"q{i}") for i in range(30)]
    source, out = write_input(tmp_path, lines), tmp_path / "out.jsonl"
    env = {**os.environ, "OPENAI_API_KEY": SECRET_KEY, "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen(
        [sys.executable, "-m", "chatmini", "batch", str(source), "-o", str(out), "--remote",
         "--base-url", server.base_url, "--poll-interval", "0.05"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ids = wait_for_batch_id(tmp_path / "out.jsonl.batches.json")
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 130, err
    assert f"{ids[0]} still running on the server" in err and "chatmini batch fetch" in err
    assert server.batches.retrieve(ids[0])["status"] in ("in_progress", "completed")
    assert not out.exists() or records(out) == []
    server.batches.configure(rate=None)
    assert remote(server, source, out) == 0
    assert sorted(r["custom_id"] for r in records(out)) == sorted(f"id-{i}" for i in range(30))
    assert len(server.batches.objects()) == 1 and len(uploads(server)) == 1
    assert not (tmp_path / "out.jsonl.batches.json").exists()


def test_a_batch_created_just_before_an_interruption_is_not_created_twice(
        server, client, tmp_path):
    lines = [chat_line("a", "x"), chat_line("b", "y")]
    source, out = write_input(tmp_path, lines), tmp_path / "out.jsonl"
    data = "".join(line + "\n" for line in lines).encode()
    uploaded = client.files.create(file=data, purpose="batch")
    client.batches.create(input_file_id=uploaded.id, endpoint=CHAT)  # never noted
    state = {"batches": [{"input_file_id": uploaded.id, "batch_id": None, "requests": 2,
                          "endpoint": CHAT}]}
    (tmp_path / "out.jsonl.batches.json").write_text(json.dumps(state))
    assert remote(server, source, out) == 0
    assert len(server.batches.objects()) == 1 and len(records(out)) == 2


def test_a_401_while_polling_stops_with_the_ids_and_a_rerun_collects(server, tmp_path, capsys):
    server.batches.configure(rate=20)
    lines = [chat_line(f"id-{i}", f"q{i}") for i in range(20)]
    source, out = write_input(tmp_path, lines), tmp_path / "out.jsonl"
    real_retrieve = Poller._retrieve

    def first_poll_refused(self, batch_id):
        if not server.pending and not getattr(self, "refused", False):
            self.refused = True
            echo = {"error": {"message": f"Incorrect API key provided: {SECRET_KEY}"}}
            server.enqueue(Reply(status=401, body=echo, path=f"/batches/{batch_id}"))
        return real_retrieve(self, batch_id)

    Poller._retrieve = first_poll_refused
    try:
        code = remote(server, source, out)
    finally:
        Poller._retrieve = real_retrieve
    assert code == 1
    err = capsys.readouterr().err
    batch_id = server.batches.objects()[0]["id"]
    assert "Error code: 401" in err and f"{batch_id} still running" in err
    assert SECRET_KEY not in err
    assert remote(server, source, out) == 0
    assert len(records(out)) == 20 and len(server.batches.objects()) == 1


def test_an_expired_token_while_polling_is_refreshed_and_polling_goes_on(
        server, tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setenv("CHATMINI_OAUTH_TOKEN_URL", server.token_url)
    monkeypatch.setenv("CHATMINI_OAUTH_CLIENT_ID", server.tokens.client_id)
    monkeypatch.setenv("CHATMINI_OAUTH_CLIENT_SECRET", server.tokens.client_secret)
    server.tokens.configure(require=True)
    server.batches.configure(rate=20)
    real_retrieve = Poller._retrieve

    def revoke_once(self, batch_id):
        if not getattr(self, "revoked", False):
            self.revoked = True
            server.tokens.revoke_access_tokens()
        return real_retrieve(self, batch_id)

    monkeypatch.setattr(Poller, "_retrieve", revoke_once)
    lines = [chat_line(f"id-{i}", "q") for i in range(10)]
    source, out = write_input(tmp_path, lines), tmp_path / "out.jsonl"
    assert remote(server, source, out) == 0
    assert len(records(out)) == 10
    refused = [r for r in server.requests if r.path.startswith("/v1/batches/")]
    assert len(server.tokens.issued) >= 2 and refused


def test_status_cancel_and_fetch_by_id(server, client, tmp_path, capsys):
    server.batches.configure(rate=20)
    lines = [chat_line(f"id-{i}", f"q{i}") for i in range(40)] + [bare_line("bare")]
    source = write_input(tmp_path, lines)
    data = source.read_bytes().replace(bare_line("bare").encode(), json.dumps({
        "custom_id": "chatmini-line-41", "method": "POST", "url": CHAT,
        "body": json.loads(bare_line("bare"))}).encode())
    batch = client.batches.create(input_file_id=client.files.create(
        file=data, purpose="batch").id, endpoint=CHAT)
    base = ["--base-url", server.base_url]
    assert main(["batch", "status", batch.id, *base]) == 0
    assert f"{batch.id} " in capsys.readouterr().out
    server.batches.wait(batch.id, "in_progress")
    assert main(["batch", "cancel", batch.id, *base]) == 0
    assert "cancelling" in capsys.readouterr().out
    out = tmp_path / "fetched.jsonl"
    code = main(["batch", "fetch", batch.id, "-o", str(out), "-i", str(source),
                 "--poll-interval", "0.02", *base])
    assert code == 1  # cancelled: not every request has a result
    got = records(out)
    assert len(got) == 41
    by_id = {r["custom_id"]: r for r in got}
    assert by_id[None]["line"] == 41 and by_id["id-39"]["line"] == 40
    assert any(r["error"] and r["error"]["code"] == "batch_cancelled" for r in got)
    assert main(["batch", "status", "batch_missing", *base]) == 1
    assert "No batch found" in capsys.readouterr().err
    assert main(["batch", "fetch", batch.id, *base]) == 2  # -o is required


def test_the_progress_line_on_a_tty(server, client):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    uploaded = client.files.create(file=(chat_line("a", "x") + "\n").encode(), purpose="batch")
    batch = client.batches.create(input_file_id=uploaded.id, endpoint=CHAT)
    screen, finished = Terminal(), []
    Poller(client, 0.01, stream=screen).wait([batch.id], finished.append)
    assert [b.status for b in finished] == ["completed"]
    text = screen.getvalue()
    assert text.startswith("\r") and f"{batch.id} completed: 1 completed, 0 failed of 1" in text
    assert "elapsed 0:0" in text and text.endswith("\n")


def test_a_file_the_api_will_not_batch_is_reported_and_the_rest_goes_on(server, tmp_path, capsys):
    lines = [chat_line("a", "x"), json.dumps({"custom_id": "r", "url": "/v1/responses",
                                              "body": {"model": "m", "input": "hi"}})]
    source, out = write_input(tmp_path, lines), tmp_path / "out.jsonl"
    assert remote(server, source, out) == 1  # the embedded server has no /v1/responses batches
    err = capsys.readouterr().err
    assert "no batch for file-" in err and "Invalid value for 'endpoint'" in err
    assert [r["custom_id"] for r in records(out)] == ["a"]
    assert not (tmp_path / "out.jsonl.batches.json").exists()  # nothing left to collect


def test_a_batch_the_server_failed_is_reported_and_its_lines_stay_to_do(
        server, tmp_path, capsys, monkeypatch):
    real_retrieve = Poller._retrieve

    def failed_on_first_poll(self, batch_id):
        if not getattr(self, "scripted", False):
            self.scripted = True
            failed = dict(server.batches.retrieve(batch_id), status="failed",
                          output_file_id=None, error_file_id=None, errors={
                "object": "list", "data": [{"code": "token_limit_exceeded", "line": None,
                                            "message": "Enqueued token limit reached.",
                                            "param": None}]})
            server.enqueue(Reply(body=failed, path=f"/batches/{batch_id}"))
        return real_retrieve(self, batch_id)

    monkeypatch.setattr(Poller, "_retrieve", failed_on_first_poll)
    source, out = write_input(tmp_path, [chat_line("a", "x")]), tmp_path / "out.jsonl"
    assert remote(server, source, out) == 1
    err = capsys.readouterr().err
    assert "failed: token_limit_exceeded: Enqueued token limit reached." in err
    assert not out.exists() or records(out) == []
    monkeypatch.setattr(Poller, "_retrieve", real_retrieve)
    assert remote(server, source, out) == 0 and len(records(out)) == 1


def test_a_batch_object_without_a_status_ends_the_run_instead_of_polling_forever(
        server, tmp_path, capsys, monkeypatch):
    real_retrieve = Poller._retrieve

    def broken(self, batch_id):
        server.enqueue(Reply(body={"id": batch_id, "object": "batch",
                                   "request_counts": {"total": "many"}},
                             path=f"/batches/{batch_id}"))
        return real_retrieve(self, batch_id)

    monkeypatch.setattr(Poller, "_retrieve", broken)
    source = write_input(tmp_path, [chat_line("a", "x")])
    assert remote(server, source, tmp_path / "out.jsonl") == 1
    assert "has no status" in capsys.readouterr().err
