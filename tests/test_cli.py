"""The ``chatmini`` command line, in-process against the embedded server over real sockets."""

from __future__ import annotations

import functools
import io
import os
import signal
import subprocess
import sys
import warnings
from typing import Any, Iterator

import pytest

import chatmini
from chatmini import cli
from chatmini.cli import connect
from chatmini.testing import Reply, Server

KEY = "sk-cli-UNIQUE-93b1f0c2d8e4"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's settings or installed plugins."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID",
                 "CHATMINI_DISABLE_PLUGINS", "CHATMINI_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CHATMINI_DISABLE_PLUGIN_AUTOLOAD", "1")


@pytest.fixture
def srv(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """A running server that the CLI reaches through OPENAI_BASE_URL, with a key set."""
    with Server() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        yield server


class StreamSpy:
    """A plugin recording how each stream ended (to prove the CLI closed it)."""

    def __init__(self) -> None:
        self.ended: list[chatmini.Stream] = []

    @chatmini.hookimpl
    def chatmini_stream_end(self, stream: chatmini.Stream) -> None:
        self.ended.append(stream)


def spy_on_streams(monkeypatch: pytest.MonkeyPatch) -> StreamSpy:
    """Make the CLI build its Client with a StreamSpy registered."""
    spy = StreamSpy()
    monkeypatch.setattr(connect, "Client", functools.partial(chatmini.Client, plugins=[spy]))
    return spy


def test_chat_streams_prompt_argument(srv: Server, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["chat", "hello there"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "echo: hello there\n"
    assert captured.err == ""
    sent = srv.requests[-1]
    assert sent.json["stream"] is True
    assert sent.json["messages"] == [{"role": "user", "content": "hello there"}]
    assert sent.json["model"] == chatmini.shortcuts.default_model()
    assert sent.headers["Authorization"] == f"Bearer {KEY}"


def test_chat_prints_each_piece_as_it_arrives(
    srv: Server, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[str] = []
    real_write = sys.stdout.write

    def write(text: str) -> int:
        writes.append(text)
        return real_write(text)

    monkeypatch.setattr(sys.stdout, "write", write)
    assert cli.main(["chat", "one two three"]) == 0
    assert writes == ["echo: ", "one ", "two ", "three", "\n"]


def test_chat_reads_prompt_from_stdin(
    srv: Server, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("from a pipe\n"))
    assert cli.main(["chat"]) == 0
    assert capsys.readouterr().out == "echo: from a pipe\n"
    assert srv.requests[-1].json["messages"][-1]["content"] == "from a pipe"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_chat_without_prompt_on_a_terminal_is_interactive(
    srv: Server, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stdin", _Terminal("hi\n"))
    assert cli.main(["chat"]) == 0  # one turn, then the end of the input: Ctrl-D
    assert capsys.readouterr().out == "echo: hi\n"
    assert len(srv.requests) == 1


def test_chat_with_empty_stdin_is_a_usage_error(
    srv: Server, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("  \n"))
    assert cli.main(["chat"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("chatmini: error: ")
    assert "prompt" in captured.err
    assert srv.requests == []


def test_chat_empty_prompt_argument(srv: Server, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["chat", ""]) == 2
    assert capsys.readouterr().err == "chatmini: error: the prompt is empty\n"


def test_chat_no_stream(srv: Server, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["chat", "all at once", "--no-stream"]) == 0
    assert capsys.readouterr().out == "echo: all at once\n"
    assert "stream" not in srv.requests[-1].json


def test_chat_options_pass_through(srv: Server, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["chat", "hi", "--model", "gpt-4o", "--system", "Be brief.",
                     "--timeout", "5"]) == 0
    sent = srv.requests[-1].json
    assert sent["model"] == "gpt-4o"
    assert sent["messages"] == [{"role": "system", "content": "Be brief."},
                                {"role": "user", "content": "hi"}]


def test_chat_model_from_environment(
    srv: Server, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATMINI_MODEL", "gpt-4o")
    assert cli.main(["chat", "hi", "--no-stream"]) == 0
    assert srv.requests[-1].json["model"] == "gpt-4o"


def test_base_url_option_wins_over_environment(
    srv: Server, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert cli.main(["chat", "hi", "--base-url", srv.base_url]) == 0
    assert capsys.readouterr().out == "echo: hi\n"


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "no-stream"])
def test_http_error_is_one_line_and_exit_1(
    srv: Server, capsys: pytest.CaptureFixture[str], stream: bool
) -> None:
    srv.enqueue(Reply(status=400))
    argv = ["chat", "hi"] if stream else ["chat", "hi", "--no-stream"]
    assert cli.main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "chatmini: error: Error code: 400 - Invalid request.\n"


def test_bad_settings_are_errors_not_tracebacks(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["chat", "hi", "--base-url", "ftp://example.com"]) == 1
    assert cli.main(["chat", "hi", "--timeout", "0", "--base-url", "http://127.0.0.1:9"]) == 1
    err = capsys.readouterr().err
    assert err.count("chatmini: error: ") == 2
    assert "base_url" in err and "timeout" in err
    assert "Traceback" not in err


def test_api_key_never_printed(srv: Server, capsys: pytest.CaptureFixture[str]) -> None:
    echoing = {"error": {"message": f"Incorrect API key provided: {KEY}."}}
    srv.enqueue(Reply(status=401), Reply(status=401, body=echoing), Reply(cut_after=1))
    for argv in (["chat", "hi"], ["chat", "hi", "--no-stream"], ["chat", "hi"]):
        assert cli.main(argv) == 1
    assert cli.main(["chat", "hi"]) == 0
    captured = capsys.readouterr()
    assert KEY not in captured.out + captured.err
    assert captured.err.count("chatmini: error: ") == 3
    assert "<redacted>" in captured.err


def test_connection_refused(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                            ) -> None:
    with Server() as gone:
        url = gone.base_url
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setattr(connect, "Client", functools.partial(
        chatmini.Client, retry=chatmini.RetryPolicy(0)))
    assert cli.main(["chat", "hi", "--base-url", url]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("chatmini: error: ")
    assert captured.err.count("\n") == 1
    assert KEY not in captured.err


def test_incomplete_stream_keeps_partial_text(
    srv: Server, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = spy_on_streams(monkeypatch)
    srv.enqueue(Reply(cut_after=2))
    assert cli.main(["chat", "cut me short please"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "echo: \n"  # event 1 is the role, event 2 the first piece
    assert captured.err.startswith("chatmini: error: Stream incomplete")
    assert captured.err.count("\n") == 1
    assert "Traceback" not in captured.err
    assert len(spy.ended) == 1 and not spy.ended[0].completed


def test_insecure_transport_warning_is_one_line(
    srv: Server, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def client(**kwargs: Any) -> chatmini.Client:
        warnings.warn("API key will be sent unencrypted", chatmini.InsecureTransportWarning,
                      stacklevel=2)
        return chatmini.Client(**kwargs)

    monkeypatch.setattr(connect, "Client", client)
    assert cli.main(["chat", "hi"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "echo: hi\n"
    assert captured.err == "chatmini: warning: API key will be sent unencrypted\n"


class _Interrupting(io.StringIO):
    """stdout whose ``write`` raises KeyboardInterrupt on the given call (Ctrl-C mid-stream)."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.calls = 0
        self.at = at

    def write(self, text: str) -> int:
        self.calls += 1
        if self.calls == self.at:
            raise KeyboardInterrupt
        return super().write(text)


def test_ctrl_c_while_streaming_closes_stream(
    srv: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = spy_on_streams(monkeypatch)
    out = _Interrupting(at=2)
    monkeypatch.setattr(sys, "stdout", out)
    srv.enqueue(Reply(pause_after=3, pause=5.0))  # the rest would come 5 s later
    assert cli.main(["chat", "one two three four"]) == 130
    assert out.getvalue() == "echo: \n"
    assert len(spy.ended) == 1
    stream = spy.ended[0]
    assert not stream.completed
    assert stream.response.raw.closed


def test_ctrl_c_before_reply(srv: Server, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(chatmini.Client, "request", interrupted)
    assert cli.main(["chat", "hi", "--no-stream"]) == 130
    captured = capsys.readouterr()
    assert captured.out == "\n"
    assert captured.err == ""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_real_sigint_mid_stream_exits_130_at_once(srv: Server) -> None:
    srv.enqueue(Reply(pause_after=3, pause=10.0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatmini", "chat", "a b c d e"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ),
    )
    first = proc.stdout.read1(100) if proc.stdout else b""
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=5)  # far less than the server's 10 s pause
    assert proc.returncode == 130
    assert (first + out).decode() in ("echo: \n", "echo: a \n")  # Ctrl-C between two pieces
    assert err == b""


DEMO_LINES = (
    "1. A plain call",
    "   reply: echo: Hello, chatmini!",
    "2. A streamed reply",
    "   reply: echo: streams arrive one piece at a time",
    "3. A 429 with Retry-After: 0.5",
    "   [plugin] attempt 1: HTTP 503",
    "   [plugin] attempt 2: HTTP 200",
    "   [plugin] call ended: ok",
    "   the server saw X-Demo: 1",
    "   AuthenticationError (status 401): Error code: 401 - Incorrect API key provided.",
)


def test_demo_in_process(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                         ) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # the demo must ignore it
    assert cli.main(["demo"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    for expected in DEMO_LINES:
        assert any(line.startswith(expected) for line in lines), expected
    assert any(line.startswith("   2 attempts in 0.") for line in lines)
    assert len(lines) < 40
    assert captured.err == ""


def test_demo_subprocess() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHATMINI_"))}
    done = subprocess.run(
        [sys.executable, "-m", "chatmini", "demo"],
        capture_output=True, text=True, timeout=30, env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "echo: Hello, chatmini!" in done.stdout
    assert "the server saw X-Demo: 1" in done.stdout
    assert "AuthenticationError" in done.stdout
    assert done.stderr == ""


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == f"chatmini {chatmini.__version__}\n"


def test_no_command_and_bad_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert "usage: chatmini" in capsys.readouterr().out
    assert cli.main(["chat", "--nope"]) == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_unexpected_failures_are_one_line_without_the_key(
    srv: Server, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chatmini.cli import app

    def broken(args: Any) -> int:
        raise RuntimeError(f"a bug holding {KEY}")

    monkeypatch.setattr(app, "run_chat", broken)
    assert cli.main(["chat", "hi"]) == 1
    err = capsys.readouterr().err
    assert err == ("chatmini: error: unexpected RuntimeError: a bug holding <redacted> (a bug "
                   "in chatmini: please report it)\n")

    def full_disk(args: Any) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(app, "run_chat", full_disk)
    assert cli.main(["chat", "hi"]) == 1
    assert capsys.readouterr().err == "chatmini: error: No space left on device\n"
