"""``chatmini chat`` in a real pseudo-terminal, as a person uses it: typing, streamed replies,
Ctrl-C to stop a reply, pasting, line history, Ctrl-D to leave. The program runs in its own
process against the embedded server; every wait is for expected output, with wide margins."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Iterator

import pytest

from chatmini.testing import Reply, Server

if sys.platform == "win32":
    pytest.skip("pseudo-terminals are POSIX", allow_module_level=True)

from .pty_support import Terminal, plain  # noqa: E402  (imports termios)

KEY = "sk-terminal-UNIQUE-6d1f2a9b3c"
UP = "\x1b[A"
CTRL_C, CTRL_D = "\x03", "\x04"
PROMPT = r"(?m)^> "


@pytest.fixture
def server() -> Iterator[Server]:
    with Server() as srv:
        yield srv


@pytest.fixture
def env(server: Server, tmp_path: Path) -> dict[str, str]:
    """A clean environment: a temporary home and data directory, the server, a key."""
    keep = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "SYSTEMROOT")
    environment = {name: os.environ[name] for name in keep if name in os.environ}
    environment.update(
        HOME=str(tmp_path / "home"), XDG_DATA_HOME=str(tmp_path / "data"), TERM="xterm",
        OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY=KEY,
        CHATMINI_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONUNBUFFERED="1",
    )
    return environment


@pytest.fixture
def terminal(env: dict[str, str]) -> Iterator[list[Terminal]]:
    """Terminals opened by the test (``open(args)``), closed after it."""
    opened: list[Terminal] = []
    yield opened
    for term in opened:
        term.close()


def start(opened: list[Terminal], env: dict[str, str], *args: str) -> Terminal:
    term = Terminal(["chat", *args], env)
    opened.append(term)
    return term


def interrupt_until(term: Terminal, shown: str, tries: int = 20) -> None:
    """Type Ctrl-C until ``shown`` shows. CPython's readline loses a SIGINT that arrives while
    it handles the key before (it checks signals only when its select() is interrupted), a
    window no person can hit but a test typing right after the echo can; a second Ctrl-C is
    then the first one seen."""
    for _ in range(tries - 1):
        term.type(CTRL_C)
        try:
            term.expect(shown, timeout=2.0)
            return
        except AssertionError:
            continue
    term.type(CTRL_C)
    term.expect(shown)


def conversations(env: dict[str, str]) -> list[list[dict]]:
    folder = Path(env["XDG_DATA_HOME"]) / "chatmini" / "conversations"
    return [[json.loads(line) for line in path.read_text().splitlines()]
            for path in sorted(folder.glob("*.jsonl"))]


def test_type_stream_cancel_continue_leave(server, env, terminal):
    server.enqueue(Reply(pause_after=3, pause=60.0))  # the rest would come a minute later
    term = start(terminal, env)
    term.expect(r"chatmini chat with gpt-4o-mini\. /help for commands, Ctrl-D to leave\.")
    term.expect(PROMPT)
    term.type("one two three four\r")
    term.expect(r"echo: one ")  # streamed: the first pieces show before the pause
    term.type(CTRL_C)
    term.expect(r"\[reply cancelled\]")  # within WAIT, far less than the server's pause
    term.expect(PROMPT)
    term.type("next\r")
    term.expect(r"echo: next\n")
    term.expect(PROMPT)
    term.type(CTRL_D)
    assert term.wait() == 0
    sent = server.requests
    assert len(sent) == 2
    assert sent[1].json["messages"] == [
        {"role": "user", "content": "one two three four"},
        {"role": "assistant", "content": "echo: one "},  # the stopped reply is kept
        {"role": "user", "content": "next"},
    ]
    assert server.connections_opened == 2  # the half-read connection was closed, not reused
    [log] = conversations(env)
    assert log[0]["reply"] == "echo: one " and log[0]["cancelled"] is True
    assert log[1]["prompt"] == "next" and "cancelled" not in log[1]
    assert KEY not in plain(term.raw)


def test_ctrl_c_at_the_prompt_clears_the_line(server, env, terminal):
    term = start(terminal, env)
    term.expect(PROMPT)
    term.type("never sent")
    term.expect("never sent")
    interrupt_until(term, r"\(Ctrl-D or /exit to leave\)")
    term.expect(PROMPT)
    term.type("/exit\r")
    assert term.wait() == 0
    assert server.requests == []


def test_pasted_lines_are_one_prompt(server, env, terminal):
    term = start(terminal, env)
    term.expect(PROMPT)
    term.type("first line\nsecond line\r")  # one write: as a terminal delivers a paste
    term.expect(r"echo: first line\nsecond line\n")
    term.expect(PROMPT)
    term.type("\x1b[200~bracketed one\nbracketed two\x1b[201~\r")  # a bracketed paste
    term.expect(r"echo: bracketed one\nbracketed two\n")
    term.expect(PROMPT)
    term.type(CTRL_D)
    assert term.wait() == 0
    assert [r.json["messages"][-1]["content"] for r in server.requests] == [
        "first line\nsecond line", "bracketed one\nbracketed two"]


def test_multi_line_prompt(server, env, terminal):
    term = start(terminal, env)
    term.expect(PROMPT)
    for line in ("!multi", "roses are red", "", "violets too", "!end"):
        term.type(line + "\r")
        term.expect(r"\n(\.\.\. |echo: )")
    term.expect(r"roses are red\n\nviolets too\n")
    term.expect(PROMPT)
    term.type(CTRL_D)
    assert term.wait() == 0
    assert server.requests[0].json["messages"][-1]["content"] == "roses are red\n\nviolets too"


def test_line_history_and_editing(server, env, terminal):
    term = start(terminal, env)
    term.expect(PROMPT)
    term.type("remember me\r")
    term.expect(r"echo: remember me\n")
    term.expect(PROMPT)
    term.type(UP + "\x7f\x7fME\r")  # up: the last line again; backspace twice, then type
    term.expect(r"echo: remember ME\n")
    term.expect(PROMPT)
    term.type(CTRL_D)
    assert term.wait() == 0
    history = Path(env["XDG_DATA_HOME"]) / "chatmini" / "history"
    assert "remember me" in history.read_text()
    assert oct(history.stat().st_mode & 0o777) == "0o600"
    # the next session starts with that history
    term = start(terminal, env)
    term.expect(PROMPT)
    term.type(UP + "\r")
    term.expect(r"echo: remember ME\n")
    term.expect(PROMPT)
    term.type(CTRL_D)
    assert term.wait() == 0


def test_commands_and_continuing_in_a_new_session(server, env, terminal, tmp_path):
    term = start(terminal, env)
    term.expect(PROMPT)
    for typed, shown in (("/system Be brief.", "system message: Be brief."),
                         ("/model gpt-4o", "model: gpt-4o"), ("hello", "echo: hello"),
                         ("/help", r"/save FILE"),
                         (f"/save {tmp_path / 'talk.json'}", "saved 2 messages")):
        term.type(typed + "\r")
        term.expect(shown)
        term.expect(PROMPT)
    term.type(CTRL_D)
    assert term.wait() == 0
    assert json.loads((tmp_path / "talk.json").read_text()) == {"model": "gpt-4o", "messages": [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "echo: hello"}]}
    term = start(terminal, env, "-c")
    term.expect(r"chatmini chat with gpt-4o, continuing \(2 earlier messages\)")
    term.type("again\r")
    term.expect("echo: again")
    term.expect(PROMPT)
    term.type(CTRL_D)
    assert term.wait() == 0
    assert server.requests[-1].json["model"] == "gpt-4o"
    assert server.requests[-1].json["messages"][0] == {"role": "system", "content": "Be brief."}
    assert len(server.requests[-1].json["messages"]) == 4
    assert len(conversations(env)) == 1  # continued: the same conversation


def test_reasoning_dimmed_and_lone_surrogate_on_a_terminal(server, env, terminal):
    events = [
        {"choices": [{"index": 0, "delta": {"role": "assistant", "content": None,
                                            "reasoning_content": "Thinking it over."}}]},
        {"choices": [{"index": 0, "delta": {"content": "Half an emoji: \ud83d!"}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    ]
    raw = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    server.enqueue(Reply(raw_stream=raw.encode()))
    term = start(terminal, env, "think")  # a prompt on a terminal: one turn, then exit
    assert term.wait() == 0
    assert "\x1b[2mThinking it over." in term.raw  # dim
    shown = plain(term.raw)
    assert "Thinking it over.\n\nHalf an emoji: \N{REPLACEMENT CHARACTER}!\n" in shown
    assert shown.count("lone surrogates") == 1
    assert "Traceback" not in shown
