"""``chatmini chat`` options: body parameters, --json, --reasoning, --api, and what conflicts;
in-process against the embedded server over real sockets."""

from __future__ import annotations

import io
import json
import sys
from typing import Iterator

import pytest

from chatmini import cli
from chatmini.cli.apis import response_parts
from chatmini.cli.params import json_value
from chatmini.streaming.pieces import chat_pieces, response_pieces
from chatmini.testing import Reply, Server

KEY = "sk-options-UNIQUE-0a7c4e19"


@pytest.fixture
def srv(server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    yield server


def sse(*chunks: dict) -> bytes:
    """A raw chat stream of these chunks, then [DONE]."""
    return ("".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n").encode()


def delta(**fields: object) -> dict:
    return {"choices": [{"index": 0, "delta": fields}]}


STOP = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}


def test_body_options(srv, capsys):
    assert cli.main(["chat", "hi", "--max-tokens", "5", "--temperature", "0.2",
                     "-o", "top_p=0.9", "-o", 'stop=["\\n"]', "-o", "user=alice",
                     "--option", "seed=7", "-o", "logit_bias={}", "-o", "x=NaN"]) == 0
    sent = srv.requests[-1].json
    assert {k: sent[k] for k in ("max_tokens", "temperature", "top_p", "stop", "user", "seed",
                                 "logit_bias", "x")} == {
        "max_tokens": 5, "temperature": 0.2, "top_p": 0.9, "stop": ["\n"], "user": "alice",
        "seed": 7, "logit_bias": {}, "x": "NaN"}
    assert capsys.readouterr().out == "echo: hi\n"


@pytest.mark.parametrize(("text", "value"), [
    ("5", 5), ("true", True), ("null", None), ('"quoted"', "quoted"), ("plain", "plain"),
    ("", ""), ("1e999", "1e999"), ("Infinity", "Infinity"), ("[1, 2]", [1, 2]),
    ("{not json", "{not json"), ("[" * 100_000, "[" * 100_000),
])
def test_option_values_are_json_when_they_parse(text, value):
    assert json_value(text) == value


@pytest.mark.parametrize(("argv", "message"), [
    (["--max-tokens", "5", "-o", "max_tokens=6"],
     "--max-tokens and -o max_tokens both set max_tokens: give one of them"),
    (["--temperature", "1", "-o", "temperature=0"],
     "--temperature and -o temperature both set temperature"),
    (["-o", "seed=1", "-o", "seed=2"], "-o seed is given twice"),
    (["-o", "model=gpt-4o"], "-o model: use --model"),
    (["-o", "stream=false"], "-o stream: use --no-stream"),
    (["-o", "messages=[]"], "-o messages: the conversation makes them"),
    (["-o", "timeout=5"], "-o timeout: use --timeout"),
    (["-o", "extra_headers={}"], "-o extra_headers: not a body parameter"),
    (["--json", "--reasoning"], "--json prints the whole response, reasoning included: "
                                "drop --reasoning"),
    (["--json", "--no-reasoning"], "drop --no-reasoning"),
])
def test_conflicting_options_are_usage_errors(srv, capsys, argv, message):
    assert cli.main(["chat", "hi", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chatmini: error: ") and message in err
    assert err.count("\n") == 1
    assert srv.requests == []


@pytest.mark.parametrize("argv", [["-o", "novalue"], ["-o", "=5"], ["--max-tokens", "0"],
                                  ["--temperature", "nan"], ["--temperature", "inf"],
                                  ["--api", "completions"]])
def test_bad_option_values(srv, capsys, argv):
    assert cli.main(["chat", "hi", *argv]) == 2
    assert "usage: chatmini chat" in capsys.readouterr().err
    assert srv.requests == []


def test_json_prints_the_whole_response(srv, capsys):
    assert cli.main(["chat", "hi", "--json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert data["object"] == "chat.completion"
    assert data["choices"][0]["message"]["content"] == "echo: hi"
    assert "stream" not in srv.requests[-1].json  # one call, not streamed


def test_json_keeps_lone_surrogates_exact(srv, capsys):
    srv.enqueue(Reply(content="half \ud83d"))
    assert cli.main(["chat", "hi", "--json"]) == 0
    captured = capsys.readouterr()
    assert "half \\ud83d" in captured.out  # escaped, so the JSON is the server's exactly
    assert json.loads(captured.out)["choices"][0]["message"]["content"] == "half \ud83d"
    assert captured.err == ""


REASONING_STREAM = sse(delta(role="assistant", content=None, reasoning_content="Let me "),
                       delta(content="", reasoning_content="think."),
                       delta(content="Four."), STOP)


@pytest.mark.parametrize(("argv", "out"), [
    ([], "Four.\n"),  # stdout is not a terminal: hidden unless asked
    (["--reasoning"], "Let me think.\n\nFour.\n"),
    (["--no-reasoning"], "Four.\n"),
])
def test_reasoning_in_streams(srv, capsys, argv, out):
    srv.enqueue(Reply(raw_stream=REASONING_STREAM))
    assert cli.main(["chat", "2+2?", *argv]) == 0
    assert capsys.readouterr().out == out


def test_reasoning_field_as_vllm_and_ollama_name_it(srv, capsys):
    srv.enqueue(Reply(raw_stream=sse(delta(reasoning="Hmm."), delta(content="Yes."), STOP)))
    assert cli.main(["chat", "?", "--reasoning"]) == 0
    assert capsys.readouterr().out == "Hmm.\n\nYes.\n"


def test_reasoning_not_streamed(srv, capsys):
    body = {"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": {
        "role": "assistant", "content": "Four.", "reasoning_content": "Add them."},
        "finish_reason": "stop"}]}
    srv.enqueue(Reply(body=body), Reply(body=body))
    assert cli.main(["chat", "2+2?", "--no-stream", "--reasoning"]) == 0
    assert capsys.readouterr().out == "Add them.\n\nFour.\n"
    assert cli.main(["chat", "2+2?", "--no-stream"]) == 0
    assert capsys.readouterr().out == "Four.\n"


def test_reasoning_is_dimmed_on_a_terminal(srv, capsys, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    srv.enqueue(Reply(raw_stream=REASONING_STREAM), Reply(raw_stream=REASONING_STREAM))
    assert cli.main(["chat", "2+2?"]) == 0
    assert out.getvalue() == "\x1b[2mLet me think.\x1b[0m\n\nFour.\n"
    monkeypatch.setenv("NO_COLOR", "1")
    out.seek(0)
    out.truncate()
    assert cli.main(["chat", "2+2?"]) == 0
    assert out.getvalue() == "Let me think.\n\nFour.\n"


def test_odd_chunk_shapes_carry_no_text():
    for chunk in ({"choices": None}, {"choices": "x"}, {"choices": [1]}, [],
                  {"choices": [{"index": 0, "delta": "x"}]},
                  {"choices": [{"index": 1, "delta": {"content": "other choice"}}]},
                  {"choices": [{"index": 0, "delta": {"content": 5, "reasoning": ["x"]}}]}):
        assert list(chat_pieces(chunk)) == []


def test_responses_answers_and_events_read():
    """What the Responses path reads, on the shapes WIRE.md records (used once
    client.responses exists)."""
    answer = {"object": "response", "output": [
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": "Summed."}]},
        {"type": "message", "role": "assistant", "content": [
            {"type": "output_text", "text": "Four", "annotations": []},
            {"type": "refusal", "refusal": "no"}, {"type": "output_text", "text": "."}]},
        {"type": "function_call", "name": "f", "arguments": "{}"}, "junk"]}
    assert response_parts(answer) == ("Four.", "Summed.")
    raw = {"output": [{"type": "reasoning", "summary": [],
                       "content": [{"type": "reasoning_text", "text": "Added."}]}]}
    assert response_parts(raw) == ("", "Added.")
    assert response_parts({"output": None}) == ("", "")
    events = [{"type": "response.created"}, {"type": "response.output_text.delta", "delta": "A"},
              {"type": "response.reasoning_summary_text.delta", "delta": "R"},
              {"type": "response.output_text.delta", "delta": 5}, "junk"]
    assert [p for e in events for p in response_pieces(e)] == [("A", False), ("R", True)]


def test_responses_api_against_the_embedded_server(srv, capsys):
    srv.enqueue(Reply(content="Whole.", path="/responses"))
    assert cli.main(["chat", "hi", "--api", "responses", "--no-stream", "--system", "S",
                     "--max-tokens", "9"]) == 0
    assert capsys.readouterr().out == "Whole.\n"
    assert srv.requests[-1].json == {"model": "gpt-4o-mini", "input": [
        {"role": "user", "content": "hi"}], "instructions": "S", "max_output_tokens": 9}
    srv.enqueue(Reply(content="Streamed.", path="/responses"))
    assert cli.main(["chat", "-c", "again", "--api", "responses"]) == 0
    assert capsys.readouterr().out == "Streamed.\n"
    sent = srv.requests[-1].json
    assert sent["input"] == [
        {"role": "user", "content": "hi"}, {"role": "assistant", "content": "Whole."},
        {"role": "user", "content": "again"}]
    assert sent["stream"] is True



def test_docs_name_every_option_and_command():
    """docs/cli.md stays true: every option of chat, models and logs is in it, and every
    option and / command it names exists."""
    import argparse
    import re
    from pathlib import Path

    from chatmini.cli.app import build_parser
    from chatmini.cli.interactive import HELP, Commands

    page = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text()
    commands = next(a for a in build_parser()._actions
                    if isinstance(a, argparse._SubParsersAction)).choices
    known = set()
    for name in ("chat", "models", "logs"):
        for action in commands[name]._actions:
            known.update(action.option_strings)
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert f"`{option}" in page or f", `{option}" in page, option
    assert set(re.findall(r"`(--?[a-z][a-z-]*)", page)) <= known
    assert set(re.findall(r"`/([a-z]+)", page)) - {"text"} == set(Commands.names)  # //text
    for command in Commands.names:
        assert f"/{command}" in HELP or command == "quit"
