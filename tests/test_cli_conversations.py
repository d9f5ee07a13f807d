"""Conversations across invocations (-c, --cid, --no-log, ``chatmini logs``), the data
directory, the interactive commands (driven through stdin), and printing what servers send;
in-process against the embedded server over real sockets."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from typing import Iterator

import pytest

from chatmini import cli
from chatmini.cli import store
from chatmini.testing import Reply, Server

KEY = "sk-conversations-UNIQUE-5e8d2b7f"
REPLACEMENT = "\N{REPLACEMENT CHARACTER}"


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The data directory chatmini uses in this test (XDG_DATA_HOME/chatmini)."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path / "data" / "chatmini"


@pytest.fixture
def srv(server: Server, monkeypatch: pytest.MonkeyPatch, data: Path) -> Iterator[Server]:
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    yield server


def logged(data: Path) -> list[list[dict]]:
    """Every conversation file's turns, oldest file name first."""
    return [[json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
            for path in sorted((data / "conversations").glob("*.jsonl"))]


def typed(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def test_each_chat_is_logged_and_c_continues_the_last(srv, data, capsys):
    assert cli.main(["chat", "first", "--system", "Be brief.", "--model", "gpt-4o"]) == 0
    assert cli.main(["chat", "-c", "second"]) == 0
    sent = srv.requests[-1].json
    assert sent["model"] == "gpt-4o"  # the conversation's model and system message
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "first"},
        {"role": "assistant", "content": "echo: first"}, {"role": "user", "content": "second"}]
    [turns] = logged(data)
    assert [(t["prompt"], t["reply"], t["model"], t["system"]) for t in turns] == [
        ("first", "echo: first", "gpt-4o", "Be brief."),
        ("second", "echo: second", "gpt-4o", "Be brief.")]
    assert cli.main(["chat", "a new one"]) == 0
    assert [len(c) for c in logged(data)] == [2, 1]
    assert oct((data / "conversations").stat().st_mode & 0o777) == "0o700"
    assert oct(data.stat().st_mode & 0o777) == "0o700"
    for path in (data / "conversations").iterdir():
        assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_options_override_the_continued_conversation(srv, data, capsys):
    assert cli.main(["chat", "first", "--system", "Be brief.", "--model", "gpt-4o"]) == 0
    assert cli.main(["chat", "-c", "second", "--model", "m2", "--system", ""]) == 0
    sent = srv.requests[-1].json
    assert sent["model"] == "m2"
    assert sent["messages"][0] == {"role": "user", "content": "first"}


def test_cid_continues_any_conversation(srv, data, capsys):
    assert cli.main(["chat", "one"]) == 0
    assert cli.main(["chat", "two"]) == 0
    first = sorted(p.stem for p in (data / "conversations").glob("*.jsonl"))
    oldest = min(first, key=lambda s: (data / "conversations" / f"{s}.jsonl").stat().st_mtime)
    assert cli.main(["chat", "--cid", oldest, "one more"]) == 0
    assert [m["content"] for m in srv.requests[-1].json["messages"]] == [
        "one", "echo: one", "one more"]


@pytest.mark.parametrize(("argv", "message"), [
    (["-c"], "no earlier conversation to continue in "),
    (["--cid", "20990101-000000-abcdef"], "no conversation 20990101-000000-abcdef to continue"),
    (["--cid", "../../etc/passwd"], "--cid '../../etc/passwd' is not a conversation id"),
])
def test_nothing_to_continue(srv, data, capsys, argv, message):
    assert cli.main(["chat", "hi", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chatmini: error: ") and message in err
    assert srv.requests == []


def test_no_log_writes_nothing(srv, data, capsys):
    assert cli.main(["chat", "secret plans", "--no-log"]) == 0
    assert not data.exists()
    assert cli.main(["chat", "kept"]) == 0
    assert cli.main(["chat", "-c", "--no-log", "not kept"]) == 0  # continued, not appended
    assert srv.requests[-1].json["messages"][0]["content"] == "kept"
    assert [[t["prompt"] for t in c] for c in logged(data)] == [["kept"]]


def test_no_key_is_ever_written(srv, data, capsys, monkeypatch):
    monkeypatch.setenv("CHATMINI_OAUTH_CLIENT_SECRET", "client-secret-UNIQUE-77")
    srv.enqueue(Reply(content=f"your key is {KEY}"))
    assert cli.main(["chat", f"my key is {KEY} and client-secret-UNIQUE-77",
                     "--system", f"key {KEY}", "-o", "user=alice"]) == 0
    for path in data.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert KEY not in text and "client-secret-UNIQUE-77" not in text
            assert "<redacted>" in text
            assert "127.0.0.1" not in text and "alice" not in text  # no URL, no parameters


def test_failed_turns_are_not_kept(srv, data, capsys):
    srv.enqueue(Reply(status=400), Reply(cut_after=3))
    assert cli.main(["chat", "refused"]) == 1
    assert cli.main(["chat", "cut short"]) == 1
    assert not (data / "conversations").exists()


def test_unwritable_data_directory_is_a_warning(srv, data, capsys):
    data.parent.mkdir(parents=True)
    data.write_text("a file where the directory should be")
    assert cli.main(["chat", "hi"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "echo: hi\n"
    assert captured.err.startswith("chatmini: warning: cannot keep the conversation in ")
    assert "(--no-log turns the log off)" in captured.err and captured.err.count("\n") == 1


def test_logs_shows_recent_conversations(srv, data, capsys):
    assert cli.main(["logs"]) == 0
    assert "no conversations kept yet" in capsys.readouterr().err
    assert cli.main(["chat", "one\nwith two lines", "--system", "S"]) == 0
    assert cli.main(["chat", "-c", "two"]) == 0
    assert cli.main(["chat", "three", "--model", "gpt-4o"]) == 0
    capsys.readouterr()
    assert cli.main(["logs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("# ") and "  2 turns, gpt-4o-mini, last " in lines[0]
    assert lines[1:7] == ["[system] S", "> one", "> with two lines", "echo: one",
                          "with two lines", "> two"]
    assert lines[-3].startswith("# ") and " 1 turn, gpt-4o, " in lines[-3]
    assert lines[-2:] == ["> three", "echo: three"]
    assert cli.main(["logs", "-n", "1", "--json"]) == 0
    [record] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert record["prompt"] == "three" and record["conversation"] == lines[-3].split()[1]
    assert cli.main(["logs", "--path"]) == 0
    assert capsys.readouterr().out == f"{data / 'conversations'}\n"


def test_unreadable_lines_are_left_out(srv, data, capsys):
    assert cli.main(["chat", "one"]) == 0
    [path] = (data / "conversations").iterdir()
    with open(path, "a", encoding="utf-8") as log:
        log.write('{"prompt": "half a li\n[1, 2]\n{"prompt": 5, "reply": "", "model": "m"}\n')
    assert cli.main(["chat", "-c", "two"]) == 0
    assert len(srv.requests[-1].json["messages"]) == 3
    assert "3 unreadable line(s) in " in capsys.readouterr().err
    assert cli.main(["logs"]) == 0
    assert "3 unreadable line(s) in conversation" in capsys.readouterr().err


@pytest.mark.parametrize(("platform", "env", "expected"), [
    ("linux", {"XDG_DATA_HOME": "/xdg"}, "/xdg/chatmini"),
    ("linux", {"XDG_DATA_HOME": ""}, "HOME/.local/share/chatmini"),
    ("linux", {"XDG_DATA_HOME": "relative/path"}, "HOME/.local/share/chatmini"),
    ("freebsd13", {}, "HOME/.local/share/chatmini"),
    ("darwin", {"XDG_DATA_HOME": "/xdg"}, "HOME/Library/Application Support/chatmini"),
    ("win32", {"APPDATA": "/appdata"}, "/appdata/chatmini"),
    ("win32", {}, "HOME/AppData/Roaming/chatmini"),
])
def test_data_directory_follows_the_platform(monkeypatch, tmp_path, platform, env, expected):
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("XDG_DATA_HOME", "APPDATA"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert store.data_dir() == Path(expected.replace("HOME", str(tmp_path)))


def test_interactive_commands_through_stdin(srv, data, capsys, monkeypatch, tmp_path):
    transcript = tmp_path / "talk.md"
    typed(monkeypatch, "\n".join([
        "hello", "/system Be kind.", "/model gpt-4o", "/model", "//slash", "/nope",
        "/save", f"/save {transcript}", f"/save {tmp_path / 'no' / 'such' / 'dir.json'}",
        "/reset", "after reset", "/system", "!multi", "a", "b", "!end", "/quit", "never sent",
    ]) + "\n")
    assert cli.main(["chat", "-i"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "echo: hello", "system message: Be kind.", "model: gpt-4o", "model: gpt-4o",
        "echo: /slash", "saved 4 messages to " + str(transcript), "conversation reset",
        "echo: after reset", "system message removed", "echo: a", "b"]
    assert captured.err.splitlines()[0] == "chatmini: error: unknown command /nope (/help lists them)"
    assert captured.err.splitlines()[1] == "chatmini: error: /save needs a file name"
    assert captured.err.splitlines()[2].startswith("chatmini: error: cannot save to ")
    assert [r.json["messages"][-1]["content"] for r in srv.requests] == [
        "hello", "/slash", "after reset", "a\nb"]
    assert srv.requests[2].json["messages"] == [
        {"role": "system", "content": "Be kind."}, {"role": "user", "content": "after reset"}]
    assert "system" not in json.dumps(srv.requests[3].json["messages"][0])
    assert transcript.read_text() == (
        "# Conversation with gpt-4o\n\n## System\n\nBe kind.\n\n## You\n\nhello\n\n"
        "## gpt-4o\n\necho: hello\n\n## You\n\n/slash\n\n## gpt-4o\n\necho: /slash\n")
    assert [len(c) for c in logged(data)] == [2, 2]  # /reset: a new one


def test_interactive_prompt_then_end_of_input(srv, data, capsys, monkeypatch):
    typed(monkeypatch, "")
    assert cli.main(["chat", "-i", "opening words"]) == 0
    assert capsys.readouterr().out == "echo: opening words\n"


def test_interactive_error_is_reported_and_the_chat_goes_on(srv, data, capsys, monkeypatch):
    srv.enqueue(Reply(status=500), Reply(status=500), Reply(status=500))
    typed(monkeypatch, "fails\nworks\n")
    assert cli.main(["chat", "-i", "--timeout", "5"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "echo: works\n"
    assert captured.err.startswith("chatmini: error: Error code: 500")
    assert srv.requests[-1].json["messages"] == [{"role": "user", "content": "works"}]


def test_lone_surrogates_are_replaced_and_said_once(srv, data, capsys):
    srv.enqueue(Reply(content="a \ud83d b \udc00 c"))
    assert cli.main(["chat", "hi"]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"a {REPLACEMENT} b {REPLACEMENT} c\n"
    assert captured.err.count("lone surrogates") == 1 and captured.err.count("\n") == 1
    assert logged(data)[0][0]["reply"] == f"a {REPLACEMENT} b {REPLACEMENT} c"
    assert cli.main(["logs"]) == 0
    assert f"a {REPLACEMENT} b" in capsys.readouterr().out


def test_a_terminal_that_cannot_show_the_text(srv, data, capsys, monkeypatch):
    out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(sys, "stdout", out)
    srv.enqueue(Reply(content="caf\u00e9 \u2615"))
    assert cli.main(["chat", "hi"]) == 0
    out.flush()
    assert out.buffer.getvalue() == b"caf? ?\n"  # type: ignore[attr-defined]
    assert "cannot be shown in this terminal's encoding (ascii)" in capsys.readouterr().err


def test_invalid_utf8_on_stdin(srv, data, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"caf\xe9\n"),
                                                       encoding="utf-8"))
    assert cli.main(["chat"]) == 2
    assert capsys.readouterr().err.startswith("chatmini: error: stdin is not UTF-8 text")
    assert os.environ["OPENAI_API_KEY"] == KEY
