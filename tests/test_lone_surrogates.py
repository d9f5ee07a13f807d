"""Lone surrogates (``"\\ud83d"``: half an emoji, as a JavaScript server splits one) never make a
call or a results file fail: a request carrying one is sent as its JSON escape (exact, as
openai-python sends it); ``chatmini batch`` (local and ``--remote``) writes answers holding one
with U+FFFD in its place and says so once. Over real sockets against the embedded server, which
echoes the prompt (so the answer holds what the request held)."""

from __future__ import annotations

import json

import pytest

from chatmini.cli import main
from chatmini.testing import Reply

from .conftest import HI, SECRET_KEY

HALF = "\ud83d"  # the first half of 😀 (U+1F600) alone


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET_KEY)


def test_a_request_with_a_lone_surrogate_is_sent_escaped_and_exact(client, server):
    answer = client.chat.completions.create(model="m", messages=[
        {"role": "user", "content": f"smile {HALF}"}])
    assert answer.choices[0].message.content == f"echo: smile {HALF}"
    assert b"\\ud83d" in server.requests[-1].body  # the escape, valid UTF-8 on the wire
    s = client.chat.completions.create(model="m", messages=HI + [
        {"role": "user", "content": HALF}], stream=True)
    assert "".join(s.text_deltas()) == f"echo: {HALF}"


def batch_input(tmp_path, count=3):
    path = tmp_path / "requests.jsonl"
    lines = [json.dumps({"custom_id": f"id-{i}", "method": "POST", "url": "/v1/chat/completions",
                         "body": {"model": "m", "messages": [{"role": "user", "content": "hi"}]}})
             for i in range(count)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def check_results(out, count=3):
    lines = out.read_bytes().decode("utf-8").splitlines()  # strict UTF-8 throughout
    records = sorted((json.loads(line) for line in lines), key=lambda r: r["custom_id"])
    assert [r["custom_id"] for r in records] == [f"id-{i}" for i in range(count)]
    for record in records:
        assert record["error"] is None, record["error"]
        content = record["response"]["body"]["choices"][0]["message"]["content"]
        assert content == "half \N{REPLACEMENT CHARACTER} of a smile"


@pytest.mark.parametrize("mode", [[], ["--remote", "--poll-interval", "0.02"]],
                         ids=["local", "remote"])
def test_batch_writes_every_answer_and_says_once_that_it_replaced(server, tmp_path, capsys,
                                                                   mode):
    server.enqueue(Reply(path="/v1/chat/completions", content=f"half {HALF} of a smile",
                         repeat=True))
    out = tmp_path / "results.jsonl"
    code = main(["batch", str(batch_input(tmp_path)), "-o", str(out), "--base-url",
                 server.base_url, *mode])
    err = capsys.readouterr().err
    assert code == 0, err
    check_results(out)
    assert err.count("lone surrogates") == 1 and "U+FFFD" in err
    assert "Traceback" not in err and SECRET_KEY not in err
