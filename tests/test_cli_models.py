"""``chatmini models``, in-process against the embedded server over real sockets."""

from __future__ import annotations

import json

import pytest

from chatmini import cli
from chatmini.testing import Reply, Server

KEY = "sk-models-UNIQUE-91c3d5e7"


@pytest.fixture
def srv(server: Server, monkeypatch: pytest.MonkeyPatch) -> Server:
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return server


def test_models_one_id_a_line(srv, capsys):
    assert cli.main(["models"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "gpt-4o-mini\ngpt-4o\n"
    assert captured.err == ""
    assert srv.requests[-1].method == "GET" and srv.requests[-1].path == "/v1/models"
    assert srv.requests[-1].headers["Authorization"] == f"Bearer {KEY}"


def test_models_json(srv, capsys):
    assert cli.main(["models", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["object"] == "list" and [m["id"] for m in data["data"]] == ["gpt-4o-mini",
                                                                            "gpt-4o"]


def test_models_odd_entries_and_lone_surrogates(srv, capsys):
    srv.enqueue(Reply(body={"object": "list", "data": [
        {"id": "emoji-\ud83d"}, {"id": 5}, "junk", {"id": "plain"}]}))
    assert cli.main(["models"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "emoji-\N{REPLACEMENT CHARACTER}\n?\nplain\n"
    assert captured.err.count("lone surrogates") == 1


@pytest.mark.parametrize(("reply", "message"), [
    (Reply(status=401, body={"error": {"message": f"Incorrect API key provided: {KEY}"}}),
     "Incorrect API key provided: <redacted>"),
    (Reply(body="<html>gateway</html>", content_type="text/html"), "text/html"),
    (Reply(drop=True), "Connection"),
])
def test_models_errors_are_one_line(srv, capsys, monkeypatch, reply, message):
    srv.enqueue(reply, reply, reply)
    assert cli.main(["models", "--timeout", "5"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("chatmini: error: ") and captured.err.count("\n") == 1
    assert message in captured.err and KEY not in captured.err


def test_models_bad_settings(capsys):
    assert cli.main(["models", "--base-url", "ftp://example.com"]) == 1
    assert capsys.readouterr().err.startswith("chatmini: error: ")
