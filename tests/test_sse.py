"""Tests for the incremental text/event-stream parser (WHATWG rules, arbitrary chunking)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatmini.sse import DATA_BLOCK, EventStreamParser, ServerSentEvent, arrivals, iter_events


def parse(*pieces: bytes) -> list[ServerSentEvent]:
    """Feed pieces one by one and return all events, including any from close()."""
    parser = EventStreamParser()
    out: list[ServerSentEvent] = []
    for piece in pieces:
        out.extend(parser.feed(piece))
    out.extend(parser.close())
    return out


def datas(*pieces: bytes) -> list[str]:
    """Just the data of each event, for terse assertions."""
    return [e.data for e in parse(*pieces)]


def bytewise(data: bytes) -> list[bytes]:
    """Split into 1-byte pieces."""
    return [data[i : i + 1] for i in range(len(data))]


# -- the event object --------------------------------------------------------------------------


def test_event_defaults_repr_and_json() -> None:
    ev = ServerSentEvent(data='{"a": [1, 2]}')
    assert (ev.event, ev.id, ev.retry) == ("message", None, None)
    assert ev.json() == {"a": [1, 2]}
    assert repr(ev) == (
        "ServerSentEvent(event='message', data='{\"a\": [1, 2]}', id=None, retry=None)"
    )
    assert not hasattr(ev, "__dict__")
    assert ev == ServerSentEvent("message", '{"a": [1, 2]}')
    assert ev != ServerSentEvent("other", '{"a": [1, 2]}')


def test_openai_shape() -> None:
    body = b'data: {"x": 1}\n\ndata: {"x": 2}\n\ndata: [DONE]\n\n'
    events = parse(body)
    assert [e.data for e in events] == ['{"x": 1}', '{"x": 2}', "[DONE]"]
    assert all(e.event == "message" and e.id is None and e.retry is None for e in events)
    assert events[0].json() == {"x": 1}


# -- line endings ------------------------------------------------------------------------------


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
def test_each_line_ending(eol: bytes) -> None:
    body = b"event: e" + eol + b"data: a" + eol + b"data: b" + eol + eol + b"data: c" + eol + eol
    expected = [ServerSentEvent("e", "a\nb"), ServerSentEvent("message", "c")]
    assert parse(body) == expected
    assert parse(*bytewise(body)) == expected


def test_mixed_line_endings() -> None:
    assert datas(b"data: a\rdata: b\r\ndata: c\n\r\n") == ["a\nb\nc"]


def test_crlf_split_across_feeds_keeps_multiline_event_whole() -> None:
    # requests' iter_lines would see an extra empty line here and split the event in two.
    assert datas(b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n") == ["a\nb"]


def test_cr_at_end_of_feed_then_other_text() -> None:
    assert datas(b"data: a\r", b"data: b\r", b"\r") == ["a\nb"]


def test_lone_lf_feed_after_cr_is_consumed() -> None:
    parser = EventStreamParser()
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"\n") == []  # the LF of the CRLF, not a blank line
    assert [e.data for e in parser.feed(b"\n")] == ["a"]


def test_cr_cr_is_two_line_ends() -> None:
    assert datas(b"data: a\r\r") == ["a"]


# -- BOM -----------------------------------------------------------------------------------------


def test_bom_dropped() -> None:
    assert datas(b"\xef\xbb\xbfdata: a\n\n") == ["a"]


@pytest.mark.parametrize("cut", [1, 2, 3])
def test_bom_split_across_feeds(cut: int) -> None:
    body = b"\xef\xbb\xbfdata: a\n\n"
    assert datas(body[:cut], body[cut:]) == ["a"]
    assert datas(*bytewise(body)) == ["a"]


def test_only_first_bom_dropped() -> None:
    # A second BOM is not stripped: it becomes part of the field name, which is then unknown.
    assert datas(b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\ndata: b\n\n") == ["b"]
    assert datas(b"data: \xef\xbb\xbfa\n\n") == ["\ufeffa"]


# -- fields --------------------------------------------------------------------------------------


def test_comments_ignored() -> None:
    assert datas(b": keep-alive\n\n:\ndata: a\n: mid\ndata: b\n\n") == ["a\nb"]


def test_strip_exactly_one_space() -> None:
    assert datas(b"data:  two\n\ndata:none\n\ndata:\ttab\n\n") == [" two", "none", "\ttab"]


def test_line_without_colon_is_field_with_empty_value() -> None:
    assert datas(b"data\ndata\n\n") == ["\n"]
    assert parse(b"data: x\nevent\n\n") == [ServerSentEvent("message", "x")]


def test_value_may_contain_colons() -> None:
    assert datas(b"data: a: b:c\n\n") == ["a: b:c"]


def test_multiple_data_lines_and_empty_data_line() -> None:
    assert datas(b"data: a\ndata:\ndata: b\n\n") == ["a\n\nb"]
    assert datas(b"data:\n\n") == [""]  # one empty data line still dispatches


def test_event_field_and_reset() -> None:
    events = parse(b"event: ping\ndata: 1\n\ndata: 2\n\nevent:\ndata: 3\n\n")
    assert [(e.event, e.data) for e in events] == [
        ("ping", "1"),
        ("message", "2"),
        ("message", "3"),
    ]


def test_event_type_reset_by_blank_line_without_data() -> None:
    assert parse(b"event: x\n\ndata: y\n\n") == [ServerSentEvent("message", "y")]


def test_id_persists_and_nul_ignored() -> None:
    parser = EventStreamParser()
    events = parser.feed(b"id: 1\ndata: a\n\ndata: b\n\nid: 2\x00x\ndata: c\n\nid\ndata: d\n\n")
    assert [(e.data, e.id) for e in events] == [("a", "1"), ("b", "1"), ("c", "1"), ("d", "")]
    assert parser.last_event_id == ""


def test_id_only_block_commits_last_event_id() -> None:
    parser = EventStreamParser()
    assert parser.feed(b"id: 7\n\n") == []
    assert parser.last_event_id == "7"
    assert parser.feed(b"data: x\n\n")[0].id == "7"


def test_retry() -> None:
    parser = EventStreamParser()
    events = parser.feed(b"retry: 1500\ndata: a\n\ndata: b\n\n")
    assert [(e.data, e.retry) for e in events] == [("a", 1500), ("b", None)]
    assert parser.retry == 1500
    for bad in (
        b"retry: 1.5",
        b"retry: -1",
        b"retry: x",
        b"retry:",
        b"retry: \xc2\xb2",
        b"retry: 1 ",
    ):
        events = parser.feed(bad + b"\ndata: c\n\n")
        assert events[0].retry is None, bad
    assert parser.retry == 1500
    parser.feed(b"retry: 0\n\n")
    assert parser.retry == 0


def test_unknown_fields_ignored() -> None:
    assert parse(b"foo: bar\ndata: a\nData: b\n\n") == [ServerSentEvent("message", "a")]


def test_block_with_no_data_not_dispatched() -> None:
    assert parse(b"event: a\nid: 1\nretry: 5\n\n\n\n") == []


# -- EOF -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("tail", [b"data: b", b"data: b\n", b"event: e\n", b"id: 2\n", b"da"])
def test_unterminated_final_event_dropped_and_pending(tail: bytes) -> None:
    parser = EventStreamParser()
    assert [e.data for e in parser.feed(b"data: a\n\n" + tail)] == ["a"]
    assert parser.pending
    assert parser.close() == []
    assert parser.pending  # still readable after close, to report truncation


def test_not_pending_after_complete_events() -> None:
    parser = EventStreamParser()
    assert not parser.pending
    parser.feed(b"data: a\n\n: trailing comment\n")
    assert not parser.pending
    assert parser.close() == []


def test_pending_during_partial_line() -> None:
    parser = EventStreamParser()
    parser.feed(b"data: a")
    assert parser.pending
    assert [e.data for e in parser.feed(b"bc\n\n")] == ["abc"]
    assert not parser.pending


def test_empty_feed() -> None:
    parser = EventStreamParser()
    assert parser.feed(b"") == []
    assert not parser.pending


# -- decoding ------------------------------------------------------------------------------------


def test_unicode_line_separators_do_not_split() -> None:
    text = 'data: {"t": "a\u2028b\u2029c\u0085d\x1ce\x1df\x1eg\x0bh\x0ci"}\n\n'
    (event,) = parse(text.encode("utf-8"))
    assert event.data == text[6:-2]
    (event,) = parse('data: {"t": "a\u2028b\u2029c\u0085d"}\n\n'.encode())
    assert event.json() == {"t": "a\u2028b\u2029c\u0085d"}


def test_multibyte_split_across_feeds() -> None:
    body = "data: héllo 😀 wörld\n\n".encode()
    assert datas(*bytewise(body)) == ["héllo 😀 wörld"]


def test_invalid_utf8_does_not_raise() -> None:
    events = parse(b"data: a\xff\xfeb\xe2\x82\n\ndata: ok\n\n")
    assert events[0].data == "a\ufffd\ufffdb\ufffd"
    assert events[1].data == "ok"


# -- iter_events and large inputs ----------------------------------------------------------------


def test_iter_events() -> None:
    chunks = [b"data: a\n", b"\nda", b"ta: b\n\n", b"data: unterminated"]
    assert [e.data for e in iter_events(chunks)] == ["a", "b"]
    assert list(iter_events([])) == []


def test_large_event_in_small_pieces() -> None:
    payload = "x" * 300_000
    body = b"data: " + payload.encode() + b"\n\n"
    pieces = [body[i : i + 1000] for i in range(0, len(body), 1000)]
    assert datas(*pieces) == [payload]


@pytest.mark.parametrize("count", [1, DATA_BLOCK - 1, DATA_BLOCK, DATA_BLOCK + 1,
                                   2 * DATA_BLOCK, 5 * DATA_BLOCK + 3])
@pytest.mark.parametrize("cut", [None, 1, 7])
def test_many_data_lines_are_joined_in_blocks_and_counted(count: int, cut: int | None) -> None:
    lines = [("" if i % 5 == 0 else f"line {i}") for i in range(count)]
    body = b"".join(b"data: " + line.encode() + b"\n" for line in lines)
    pieces = [body] if cut is None else [body[i:i + cut] for i in range(0, len(body), cut)]
    parser = EventStreamParser()
    for piece in pieces:
        assert parser.feed(piece) == []
    assert parser.held == sum(len(line) + 1 for line in lines)
    assert [e.data for e in parser.feed(b"\n")] == ["\n".join(lines)]
    assert parser.held == 0


def test_held_counts_an_unterminated_line() -> None:
    parser = EventStreamParser()
    parser.feed(b"data: ab\n")
    for _ in range(100):
        parser.feed(b"x")
    assert parser.held == 3 + 100  # "ab\n" of the data line, and the line so far


def test_many_events_in_one_feed() -> None:
    body = b"".join(b"data: %d\n\n" % i for i in range(5000))
    assert datas(body) == [str(i) for i in range(5000)]


# -- properties ----------------------------------------------------------------------------------

_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)) | st.sampled_from("\n\r:  \u2028é😀"),
    max_size=20,
)
_name = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"),
    min_size=1,
    max_size=8,
)
_event = st.tuples(
    _text,  # data (may contain any line break: it becomes several data lines)
    st.none() | _name,  # event type
    st.none() | _name,  # id
    st.none() | st.integers(min_value=0, max_value=10**6),  # retry
    st.booleans(),  # precede by a comment
)


def _lines_of(data: str) -> list[str]:
    """Split data the way a server must: on every line break the parser recognises."""
    return data.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _serialise(events: list, eols: list[bytes]) -> tuple[bytes, list[ServerSentEvent]]:
    """Encode events with the given cycle of line endings; return bytes and expected events."""
    out: list[bytes] = []
    expected: list[ServerSentEvent] = []
    last_id = None
    n = 0

    def line(text: str) -> None:
        nonlocal n
        eol = eols[n % len(eols)]
        if not text and eol == b"\n" and out and out[-1].endswith(b"\r"):
            eol = b"\r"  # CR then a bare LF would be one CRLF, not two line ends
        out.append(text.encode("utf-8") + eol)
        n += 1

    for data, event, event_id, retry, comment in events:
        if comment:
            line(": comment: data: x")
        if event is not None:
            line("event: " + event)
        if event_id is not None:
            line("id: " + event_id)
            last_id = event_id
        if retry is not None:
            line(f"retry: {retry}")
        parts = _lines_of(data)
        for part in parts:
            line("data: " + part)
        line("")
        expected.append(ServerSentEvent(event or "message", "\n".join(parts), last_id, retry))
    return b"".join(out), expected


@settings(max_examples=300, deadline=None)
@given(
    events=st.lists(_event, max_size=8),
    eols=st.lists(st.sampled_from([b"\n", b"\r\n", b"\r"]), min_size=1, max_size=5),
    bom=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=30),
)
def test_any_split_gives_same_events(events, eols, bom, cuts) -> None:
    body, expected = _serialise(events, eols)
    if bom:
        body = b"\xef\xbb\xbf" + body
    whole = parse(body)
    assert whole == expected
    points = sorted({c % (len(body) + 1) for c in cuts})
    pieces = [body[a:b] for a, b in zip([0, *points], [*points, len(body)])]
    assert parse(*pieces) == expected
    assert parse(*bytewise(body)) == expected
    parser = EventStreamParser()
    for piece in pieces:
        parser.feed(piece)
    assert not parser.pending


def reference_parse(body: bytes) -> list[ServerSentEvent]:
    """A slow, literal transcription of the WHATWG algorithm, to check the fast one against."""
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    lines, start, i = [], 0, 0
    while i < len(body):
        if body[i] in b"\r\n":
            lines.append(body[start:i])
            i += 2 if body[i : i + 2] == b"\r\n" else 1
            start = i
        else:
            i += 1
    events, data, event_type, last_id, retry = [], "", "", None, None
    for raw in lines:  # a final unterminated line is never processed
        line = raw.decode("utf-8", "replace")
        if not line:
            if data:
                events.append(ServerSentEvent(event_type or "message", data[:-1], last_id, retry))
            data, event_type, retry = "", "", None
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "data":
            data += value + "\n"
        elif field == "event":
            event_type = value
        elif field == "id" and "\0" not in value:
            last_id = value
        elif field == "retry" and value and all(c in "0123456789" for c in value):
            retry = int(value)
    return events


_sse_bytes = st.lists(
    st.sampled_from(
        [b"data", b"data:", b"data: ", b"event: ", b"id: ", b"retry: ", b":", b"x", b"1", b" "]
        + [b"\r", b"\n", b"\r\n", b"\n\n", b"\xef\xbb\xbf", b"\xe2\x80\xa8", b"\xff", b"\x00"]
    ),
    max_size=40,
).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(body=_sse_bytes | st.binary(max_size=200), cuts=st.lists(st.integers(0, 400), max_size=10))
def test_arbitrary_bytes_match_reference_and_split_invariant(body: bytes, cuts: list[int]) -> None:
    whole = parse(body)
    assert whole == reference_parse(body)
    points = sorted({c % (len(body) + 1) for c in cuts})
    pieces = [body[a:b] for a, b in zip([0, *points], [*points, len(body)])]
    assert parse(*pieces) == whole
    assert parse(*bytewise(body)) == whole


def test_arrivals_count_the_events_with_data_of_each_read():
    def ev(data: str) -> ServerSentEvent:
        return ServerSentEvent("message", data)

    reads = [(1.0, [ev("{}")]), (2.0, [ev("{}"), ev("{}"), ev("[DONE]")]), (3.0, [ev("[DONE]")])]
    assert list(arrivals(reads)) == [(1.0, 1), (2.0, 2)]
