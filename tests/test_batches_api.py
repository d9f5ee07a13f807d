"""``client.batches`` and the embedded server's Batch API over real sockets: the states, failing
lines, cancel, expiry, validation, and the official ``openai`` SDK driving the same endpoints."""

from __future__ import annotations

import json

import pytest

import chatmini
from chatmini.testing import Reply

CHAT = "/v1/chat/completions"


def line(custom_id, content, url=CHAT, model="gpt-4o-mini", **extra):
    body = {"model": model, "messages": [{"role": "user", "content": content}], **extra}
    if url == "/v1/embeddings":
        body = {"model": model, "input": content}
    return {"custom_id": custom_id, "method": "POST", "url": url, "body": body}


def upload(client, lines):
    data = "".join(json.dumps(item) + "\n" for item in lines).encode()
    return client.files.create(file=("requests.jsonl", data), purpose="batch")


def started(client, server, count, **pace):
    """A batch of ``count`` chat lines, created once the server runs at ``pace``."""
    server.batches.configure(**pace)
    uploaded = upload(client, [line(f"r{i}", f"q{i}") for i in range(count)])
    return client.batches.create(input_file_id=uploaded.id, endpoint=CHAT)


def output(client, file_id):
    with client.files.content(file_id) as content:
        return [json.loads(text) for text in content.iter_lines()]


def test_a_batch_goes_through_every_state_to_completed(client, server):
    server.batches.configure(validating=0.2, finalizing=0.2, rate=50)
    uploaded = upload(client, [line(f"r{i}", f"q{i}") for i in range(5)])
    batch = client.batches.create(input_file_id=uploaded.id, endpoint=CHAT,
                                  metadata={"job": "nightly"})
    assert batch.status == "validating" and batch.metadata == {"job": "nightly"}
    assert batch.id.startswith("batch_") and batch.completion_window == "24h"
    server.batches.wait(batch.id, "completed")
    assert server.batches.history(batch.id) == [
        "validating", "in_progress", "finalizing", "completed"]
    done = client.batches.retrieve(batch.id)
    assert done.request_counts.to_dict() == {"total": 5, "completed": 5, "failed": 0}
    assert done.in_progress_at and done.finalizing_at and done.completed_at
    assert done.error_file_id is None and done.model == "gpt-4o-mini"
    assert done.usage.input_tokens == 5 and done.usage.output_tokens == 10
    lines = output(client, done.output_file_id)
    assert [x["custom_id"] for x in lines] == [f"r{i}" for i in range(5)]
    first = lines[0]
    assert set(first) == {"id", "custom_id", "response", "error"} and first["error"] is None
    assert first["id"].startswith("batch_req_")
    assert first["response"]["status_code"] == 200
    assert first["response"]["request_id"].startswith("req_")
    assert first["response"]["body"]["choices"][0]["message"]["content"] == "echo: q0"
    assert client.files.retrieve(done.output_file_id).purpose == "batch_output"


def test_scripted_errors_fail_their_lines_only(client, server):
    server.enqueue(Reply(status=400, path="/chat/completions"),
                   Reply(content="scripted", path="/chat/completions"),
                   Reply(status=500, body={"error": {"message": "boom", "type": "server_error",
                                                     "code": None}}, path="/chat/completions"))
    uploaded = upload(client, [line(f"r{i}", f"q{i}") for i in range(4)])
    batch = client.batches.create(input_file_id=uploaded.id, endpoint=CHAT)
    server.batches.wait(batch.id, "completed")
    done = client.batches.retrieve(batch.id)
    assert done.request_counts.to_dict() == {"total": 4, "completed": 2, "failed": 2}
    ok = {x["custom_id"]: x for x in output(client, done.output_file_id)}
    failed = {x["custom_id"]: x for x in output(client, done.error_file_id)}
    assert ok["r1"]["response"]["body"]["choices"][0]["message"]["content"] == "scripted"
    assert failed["r0"]["response"]["status_code"] == 400 and failed["r0"]["error"] is None
    assert failed["r0"]["response"]["body"]["error"]["type"] == "invalid_request_error"
    assert failed["r2"]["response"]["body"]["error"]["message"] == "boom"
    assert set(ok) | set(failed) == {"r0", "r1", "r2", "r3"}


def test_embeddings_batches_answer_vectors(client, server):
    uploaded = upload(client, [line("e1", "hello", url="/v1/embeddings", model="emb")])
    batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/embeddings")
    server.batches.wait(batch.id, "completed")
    body = output(client, client.batches.retrieve(batch.id).output_file_id)[0]["response"]["body"]
    assert body["object"] == "list" and len(body["data"][0]["embedding"]) == 8


def test_cancel_keeps_what_ran_and_marks_the_rest(client, server):
    batch = started(client, server, 200, rate=20, finalizing=0.2)
    server.batches.wait(batch.id, "in_progress")
    cancelling = client.batches.cancel(batch.id)
    assert cancelling.status == "cancelling" and cancelling.cancelling_at
    server.batches.wait(batch.id, "cancelled")
    done = client.batches.retrieve(batch.id)
    ran = done.request_counts.completed
    assert 0 <= ran < 200 and done.cancelled_at
    not_run = output(client, done.error_file_id)
    assert len(not_run) == 200 - ran
    assert not_run[-1]["response"] is None
    assert not_run[-1]["error"]["code"] == "batch_cancelled"
    with pytest.raises(chatmini.BadRequestError, match="status 'cancelled'"):
        client.batches.cancel(batch.id)


def test_a_batch_still_running_when_its_window_ends_expires(client, server):
    batch = started(client, server, 100, rate=20, window=0.3)
    server.batches.wait(batch.id, "expired")
    done = client.batches.retrieve(batch.id)
    ran = done.request_counts.completed
    assert ran < 100 and done.expired_at
    expired = output(client, done.error_file_id)
    assert len(expired) == 100 - ran
    assert expired[0]["error"] == {
        "code": "batch_expired",
        "message": "This request could not be executed before the completion window expired.",
    }
    if ran:
        assert len(output(client, done.output_file_id)) == ran


def test_a_file_with_bad_lines_fails_validation(client, server):
    data = (json.dumps(line("a", "x")) + "\nnot json\n" + json.dumps(line("a", "y")) + "\n"
            + json.dumps(line("b", "z", model="other")) + "\n").encode()
    uploaded = client.files.create(file=data, purpose="batch")
    batch = client.batches.create(input_file_id=uploaded.id, endpoint=CHAT)
    server.batches.wait(batch.id, "failed")
    failed = client.batches.retrieve(batch.id)
    errors = [(e.code, e.line) for e in failed.errors.data]
    assert ("invalid_json_line", 2) in errors and ("duplicate_custom_id", 3) in errors
    assert ("mismatched_model", None) in errors
    assert failed.output_file_id is None and failed.failed_at


def test_create_refuses_what_openai_refuses(client, server):
    wrong_purpose = server.files.add(b"x", "a.jsonl", "assistants")
    with pytest.raises(chatmini.NotFoundError):
        client.batches.create(input_file_id="file-nope", endpoint=CHAT)
    with pytest.raises(chatmini.BadRequestError, match="purpose"):
        client.batches.create(input_file_id=wrong_purpose["id"], endpoint=CHAT)
    good = upload(client, [line("a", "x")])
    with pytest.raises(chatmini.BadRequestError, match="endpoint"):
        client.batches.create(input_file_id=good.id, endpoint="/v1/images")
    with pytest.raises(chatmini.BadRequestError, match="completion_window"):
        client.batches.create(input_file_id=good.id, endpoint=CHAT, completion_window="1h")
    with pytest.raises(chatmini.InvalidRequestError):
        client.batches.create(input_file_id="", endpoint=CHAT)


def test_batches_list_newest_first_across_pages(client, server):
    uploaded = upload(client, [line("a", "x")])
    made = [client.batches.create(input_file_id=uploaded.id, endpoint=CHAT).id for _ in range(7)]
    page = client.batches.list(limit=3)
    assert len(page.data) == 3 and page.has_more
    assert [b.id for b in page] == made[::-1]
    with pytest.raises(chatmini.BadRequestError, match="limit"):
        client.batches.list(limit=1000)


def test_the_openai_sdk_drives_the_same_endpoints(server):
    openai = pytest.importorskip("openai")
    sdk = openai.OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0)
    data = "".join(json.dumps(line(f"r{i}", f"q{i}")) + "\n" for i in range(3)).encode()
    file = sdk.files.create(file=("in.jsonl", data), purpose="batch")
    assert file.bytes == len(data) and file.filename == "in.jsonl"
    batch = sdk.batches.create(input_file_id=file.id, endpoint=CHAT, completion_window="24h",
                               metadata={"k": "v"})
    assert batch.status == "validating"
    server.batches.wait(batch.id, "completed")
    done = sdk.batches.retrieve(batch.id)
    assert done.status == "completed" and done.request_counts.completed == 3
    assert done.usage is not None and done.usage.total_tokens > 0
    text = sdk.files.content(done.output_file_id).text
    first = json.loads(text.splitlines()[0])
    assert first["custom_id"] == "r0" and first["response"]["status_code"] == 200
    assert [b.id for b in sdk.batches.list(limit=1)] == [batch.id]
    assert {f.id for f in sdk.files.list()} == {file.id, done.output_file_id}
    assert sdk.files.delete(file.id).deleted is True
    server.batches.configure(rate=5)
    many = "".join(json.dumps(line(f"s{i}", "q")) + "\n" for i in range(50)).encode()
    slow = sdk.files.create(file=("slow.jsonl", many), purpose="batch")
    running = sdk.batches.create(input_file_id=slow.id, endpoint=CHAT, completion_window="24h")
    server.batches.wait(running.id, "in_progress")
    assert sdk.batches.cancel(running.id).status == "cancelling"
    with pytest.raises(openai.NotFoundError):
        sdk.files.content("file-missing")
