"""``chatmini chat --stats``: the reply on stdout, the latency table on stderr."""

from __future__ import annotations

import io

from chatmini import cli
from chatmini.stats import print_stats
from chatmini.testing import Reply

from .conftest import SECRET_KEY


def test_chat_stats_prints_the_table_to_stderr(server, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET_KEY)
    assert cli.main(["chat", "--stats", "--model", "gpt-4o-mini", "hello"]) == 0
    out, err = capsys.readouterr()
    assert out == "echo: hello\n"
    header, row = err.splitlines()
    assert header.split()[:4] == ["model", "endpoint", "calls", "errors"]
    assert row.split()[:4] == ["gpt-4o-mini", "/chat/completions", "1", "0"]
    assert row.split()[7] != "-"  # a streamed reply has a time to first token


def test_chat_stats_also_after_an_error(server, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET_KEY)
    server.enqueue(Reply(status=400))
    assert cli.main(["chat", "--stats", "--no-stream", "--model", "m", "hello"]) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert err.splitlines()[-1].split()[:4] == ["m", "/chat/completions", "1", "1"]
    assert SECRET_KEY not in err


def test_print_stats_for_other_commands(client):
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    buffer = io.StringIO()
    print_stats(client, buffer)
    assert buffer.getvalue().splitlines()[1].split()[:3] == ["m", "/chat/completions", "1"]
