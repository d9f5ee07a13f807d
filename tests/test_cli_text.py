"""Properties of the command line's text handling, over any text a server or a user can
produce: printing never fails, JSON stays exact, the log reads back what it wrote, and -o
reads any value."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from chatmini.cli.params import body_option
from chatmini.cli.store import ConversationLog, read_turns, turn_record
from chatmini.cli.terminal import REPLACEMENT, Printer, json_text

# Any code point, lone surrogates included (what json.loads can hand over from "\ud83d").
ANY_TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF))


def surrogate_free(text: str) -> str:
    return "".join(REPLACEMENT if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)


@given(pieces=st.lists(ANY_TEXT, max_size=5),
       encoding=st.sampled_from(["utf-8", "ascii", "latin-1", "cp1252"]))
def test_printing_never_fails(pieces, encoding):
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding=encoding, newline="")
    printer = Printer(out, color=False)
    for piece in pieces:
        printer.piece(piece)
    printer.end_line()
    shown = raw.getvalue().decode(encoding)
    if encoding == "utf-8":
        assert shown.rstrip("\n") == surrogate_free("".join(pieces)).rstrip("\n")


@given(ANY_TEXT)
def test_json_text_is_exact_and_encodable(text):
    encoded = json_text({"text": text}).encode("utf-8")  # never fails
    assert json.loads(encoded) == {"text": text}


@settings(max_examples=50)
@given(prompt=ANY_TEXT, reply=ANY_TEXT)
def test_the_log_reads_back_what_it_wrote(tmp_path_factory, prompt, reply):
    folder: Path = tmp_path_factory.mktemp("log")
    log = ConversationLog(folder, "c1", secrets=["sk-secret-12345678"])
    log.append(turn_record("m", None, prompt, reply))
    turns, unreadable = read_turns(log.path)
    assert unreadable == 0
    assert (turns[0]["prompt"], turns[0]["reply"]) == (
        prompt.replace("sk-secret-12345678", "<redacted>"),
        reply.replace("sk-secret-12345678", "<redacted>"))


@given(key=st.text(min_size=1).filter(lambda k: "=" not in k and k.strip()), value=ANY_TEXT)
def test_o_reads_any_value(key, value):
    name, parsed = body_option(f"{key}={value}")
    assert name == key.strip()
    try:
        expected = json.loads(value)
    except ValueError:
        expected = value
    if isinstance(expected, float) and not math.isfinite(expected):
        expected = value  # NaN and infinities are not JSON: kept as the string
    if parsed != expected:  # only a non-finite number nested somewhere is kept as text
        assert parsed == value
    json.dumps(parsed, allow_nan=False)  # always sendable
