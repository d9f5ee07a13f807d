"""Tests for merging streamed chat.completion.chunk dicts into one chat.completion."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chatmini.accumulate import ChunkAccumulator


def chunk(*choices: dict, **extra: Any) -> dict:
    """An OpenAI-shaped chunk with the given choices."""
    base = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 100,
        "model": "gpt-x",
        "choices": list(choices),
    }
    base.update(extra)
    return base


def delta(index: int = 0, finish_reason: Any = None, **d: Any) -> dict:
    """One choice entry of a chunk."""
    return {"index": index, "delta": d, "logprobs": None, "finish_reason": finish_reason}


def accumulate(*chunks: Any) -> ChunkAccumulator:
    acc = ChunkAccumulator()
    for c in chunks:
        acc.add(c)
    return acc


def test_plain_content() -> None:
    acc = accumulate(
        chunk(delta(role="assistant", content="", refusal=None), system_fingerprint="fp_1"),
        chunk(delta(content="Hel")),
        chunk(delta(content="lo")),
        chunk(delta(content="!")),
        chunk(delta(finish_reason="stop")),
    )
    assert acc.text == "Hello!"
    assert acc.chunk_count == 5
    assert acc.finished
    assert acc.result() == {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 100,
        "model": "gpt-x",
        "system_fingerprint": "fp_1",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello!", "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": None,
    }


def test_empty_accumulator() -> None:
    acc = ChunkAccumulator()
    assert acc.text == ""
    assert acc.chunk_count == 0
    assert not acc.finished
    result = acc.result()
    assert result["choices"] == [] and result["usage"] is None and result["id"] is None
    assert "system_fingerprint" not in result


def test_text_is_incremental_and_result_repeatable() -> None:
    acc = accumulate(chunk(delta(role="assistant", content="a")))
    assert acc.text == "a"
    acc.add(chunk(delta(content="b")))
    acc.add(chunk(delta(content="c")))
    assert acc.text == "abc"
    acc.add(chunk(delta(content="d")))
    assert acc.text == "abcd"
    assert acc.result() == acc.result()
    assert acc.result()["choices"][0]["message"]["content"] == "abcd"


def test_n2_interleaved() -> None:
    acc = accumulate(
        chunk(delta(0, role="assistant", content="")),
        chunk(delta(1, role="assistant", content="")),
        chunk(delta(0, content="A1")),
        chunk(delta(1, content="B1")),
        chunk(delta(1, content="B2")),
        chunk(delta(0, content="A2")),
        chunk(delta(1, finish_reason="length")),
    )
    assert not acc.finished  # choice 0 has no finish_reason yet
    acc.add(chunk(delta(0, finish_reason="stop")))
    assert acc.finished
    choices = acc.result()["choices"]
    assert [c["index"] for c in choices] == [0, 1]
    assert [c["message"]["content"] for c in choices] == ["A1A2", "B1B2"]
    assert [c["finish_reason"] for c in choices] == ["stop", "length"]
    assert acc.text == "A1A2"


def test_choices_sorted_by_index_even_if_first_seen_out_of_order() -> None:
    acc = accumulate(chunk(delta(1, content="b"), delta(0, content="a")))
    assert [c["message"]["content"] for c in acc.result()["choices"]] == ["a", "b"]


def _tool(index: Any = None, id: Any = None, type: Any = None, name: Any = None, args: Any = None):
    tc: dict[str, Any] = {}
    if index is not None:
        tc["index"] = index
    if id is not None:
        tc["id"] = id
    if type is not None:
        tc["type"] = type
    fn: dict[str, Any] = {}
    if name is not None:
        fn["name"] = name
    if args is not None:
        fn["arguments"] = args
    if fn:
        tc["function"] = fn
    return tc


def test_two_tool_calls_split_across_chunks() -> None:
    acc = accumulate(
        chunk(delta(role="assistant", content=None)),
        chunk(delta(tool_calls=[_tool(0, "call_a", "function", "get_weather", "")])),
        chunk(delta(tool_calls=[_tool(0, args='{"city"')])),
        chunk(delta(tool_calls=[_tool(0, args=': "Paris"}')])),
        chunk(delta(tool_calls=[_tool(1, "call_b", "function", "get_time", "")])),
        chunk(delta(tool_calls=[_tool(1, args='{"tz": "CET"}')])),
        chunk(delta(finish_reason="tool_calls")),
    )
    (choice,) = acc.result()["choices"]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"] == {
        "role": "assistant",
        "content": None,
        "refusal": None,
        "tool_calls": [
            {
                "id": "call_a",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            },
            {
                "id": "call_b",
                "type": "function",
                "function": {"name": "get_time", "arguments": '{"tz": "CET"}'},
            },
        ],
    }
    assert acc.text == ""


def test_llama_cpp_repeats_id_type_and_name() -> None:
    frag = {"id": "call_1", "type": "function"}
    acc = accumulate(
        chunk(delta(role="assistant")),
        chunk(delta(tool_calls=[{**_tool(0, name="search", args='{"q":'), **frag}])),
        chunk(delta(tool_calls=[{**_tool(0, name="search", args=' "x"'), **frag}])),
        chunk(delta(tool_calls=[{**_tool(0, name="search", args="}"), **frag}])),
    )
    (call,) = acc.result()["choices"][0]["message"]["tool_calls"]
    assert call == {
        "id": "call_1",
        "type": "function",
        "function": {"name": "search", "arguments": '{"q": "x"}'},
    }


def test_different_name_fragments_are_appended() -> None:
    acc = accumulate(
        chunk(delta(tool_calls=[_tool(0, "c", name="get_")])),
        chunk(delta(tool_calls=[_tool(0, name="weather", args="{}")])),
    )
    call = acc.result()["choices"][0]["message"]["tool_calls"][0]
    assert call["function"] == {"name": "get_weather", "arguments": "{}"}


def test_tool_call_and_choice_without_index_default_to_zero() -> None:
    acc = accumulate(
        chunk({"delta": {"role": "assistant", "tool_calls": [_tool(id="c1", name="f")]}}),
        chunk({"delta": {"tool_calls": [_tool(args="{}")]}}),
        chunk({"delta": {}, "finish_reason": "tool_calls"}),
    )
    (choice,) = acc.result()["choices"]
    assert choice["index"] == 0
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["tool_calls"] == [
        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    ]


def test_null_content_and_role() -> None:
    acc = accumulate(
        chunk(delta(role=None, content=None)),
        chunk(delta(role="assistant", content=None)),
        chunk(delta(role=None, content="x")),
        chunk(delta(role="user", content=None)),  # first non-null role wins
    )
    message = acc.result()["choices"][0]["message"]
    assert message == {"role": "assistant", "content": "x", "refusal": None}


def test_role_defaults_to_assistant_and_content_none_without_content() -> None:
    message = accumulate(chunk(delta(content=None)), chunk(delta())).result()["choices"][0]
    assert message["message"] == {"role": "assistant", "content": None, "refusal": None}


def test_empty_content_string_gives_empty_not_none() -> None:
    message = accumulate(chunk(delta(content=""))).result()["choices"][0]["message"]
    assert message["content"] == ""


def test_litellm_usage_chunk_and_missing_finish_reason_key() -> None:
    usage = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    acc = accumulate(
        chunk({"index": 0, "delta": {"role": "assistant", "content": "hi"}}),
        chunk({"index": 0, "delta": {"content": "!"}}),
        chunk({"index": 0, "delta": {}, "finish_reason": "stop"}),
        chunk({"index": 0, "delta": {}}, usage=usage),
    )
    result = acc.result()
    assert result["usage"] == usage
    (choice,) = result["choices"]
    assert choice["message"]["content"] == "hi!"
    assert choice["finish_reason"] == "stop"
    assert acc.finished


def test_usage_chunk_with_empty_choices() -> None:
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    acc = accumulate(
        chunk(delta(role="assistant", content="ok"), usage=None),
        chunk(delta(finish_reason="stop"), usage=None),
        chunk(usage=usage),
    )
    result = acc.result()
    assert result["usage"] == usage
    assert len(result["choices"]) == 1
    assert result["choices"][0]["message"]["content"] == "ok"
    assert result["choices"][0]["finish_reason"] == "stop"
    assert acc.chunk_count == 3


def test_refusal() -> None:
    acc = accumulate(
        chunk(delta(role="assistant", content=None, refusal="")),
        chunk(delta(refusal="I can't ")),
        chunk(delta(refusal="help with that.")),
        chunk(delta(finish_reason="stop")),
    )
    message = acc.result()["choices"][0]["message"]
    assert message == {"role": "assistant", "content": None, "refusal": "I can't help with that."}


def test_logprobs_concatenated() -> None:
    def lp(token: str) -> dict:
        return {"token": token, "logprob": -0.1, "bytes": list(token.encode()), "top_logprobs": []}

    acc = accumulate(
        chunk({"index": 0, "delta": {"content": "a"}, "logprobs": {"content": [lp("a")]}}),
        chunk({"index": 0, "delta": {"content": "b"}, "logprobs": {"content": [lp("b")]}}),
        chunk({"index": 0, "delta": {"refusal": "c"}, "logprobs": {"refusal": [lp("c")]}}),
        chunk({"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}),
    )
    choice = acc.result()["choices"][0]
    assert choice["logprobs"] == {"content": [lp("a"), lp("b")], "refusal": [lp("c")]}
    assert acc.text == "ab"


def test_logprobs_none_when_never_sent() -> None:
    acc = accumulate(chunk(delta(content="a")))
    assert acc.result()["choices"][0]["logprobs"] is None


def test_result_lists_are_copies() -> None:
    acc = accumulate(chunk({"index": 0, "delta": {}, "logprobs": {"content": [{"token": "a"}]}}))
    acc.result()["choices"][0]["logprobs"]["content"].append("junk")
    assert acc.result()["choices"][0]["logprobs"]["content"] == [{"token": "a"}]


def test_finished_property() -> None:
    acc = ChunkAccumulator()
    assert not acc.finished
    acc.add(chunk(usage={"total_tokens": 1}))
    assert not acc.finished  # no choice seen yet
    acc.add(chunk(delta(content="x")))
    assert not acc.finished
    acc.add(chunk(delta(finish_reason="stop")))
    assert acc.finished
    acc.add(chunk(delta(content="", finish_reason=None)))  # later null does not undo it
    assert acc.finished
    assert acc.result()["choices"][0]["finish_reason"] == "stop"


def test_finish_reason_is_last_non_null() -> None:
    acc = accumulate(chunk(delta(finish_reason="length")), chunk(delta(finish_reason="stop")))
    assert acc.result()["choices"][0]["finish_reason"] == "stop"


def test_metadata_from_first_chunk_that_has_it() -> None:
    acc = accumulate(
        {"choices": [delta(content="a")]},  # no metadata at all
        chunk(delta(content="b"), id="id-1", created=1, model="m1"),
        chunk(delta(content="c"), id="id-2", created=2, model="m2", system_fingerprint="fp"),
        chunk(delta(content="d"), id="id-3", system_fingerprint="fp-other"),
    )
    result = acc.result()
    assert (result["id"], result["created"], result["model"]) == ("id-1", 1, "m1")
    assert result["system_fingerprint"] == "fp"
    assert result["object"] == "chat.completion"
    assert acc.text == "abcd"


def test_chunk_without_choices_key() -> None:
    acc = accumulate({"id": "x", "object": "chat.completion.chunk"}, chunk(delta(content="a")))
    assert acc.result()["id"] == "x"
    assert acc.text == "a"
    assert acc.chunk_count == 2


def test_garbage_is_skipped() -> None:
    acc = accumulate(
        "not a dict",
        None,
        chunk(delta(role="assistant", content="a")),
        {"choices": "nope"},
        {"choices": [None, 3, "x", ["y"]]},
        {"choices": [{"index": "0", "delta": {"content": "b"}}]},  # bad index -> 0
        {"choices": [{"index": [1], "delta": {"content": "c"}}]},  # unhashable index -> 0
        {"choices": [{"index": 0, "delta": "garbage"}]},
        {"choices": [{"index": 0, "delta": {"content": 5, "role": 7, "refusal": ["x"]}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": "x"}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [None, {"function": "f"}]}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": None}]}}]},
        {"choices": [{"index": 0, "delta": {}, "logprobs": "x"}]},
        {"choices": [{"index": 0, "delta": {}, "logprobs": {"content": "x"}}]},
    )
    choice = acc.result()["choices"][0]
    assert acc.text == "abc"
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["refusal"] is None
    assert choice["message"]["tool_calls"] == [
        {"id": None, "type": "function", "function": {"name": "", "arguments": ""}}
    ]
    assert choice["logprobs"] == {"content": None, "refusal": None}
    assert acc.chunk_count == 12  # the two non-dict chunks are not counted


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(max_size=200),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=40),
    role_first=st.booleans(),
)
def test_content_split_anywhere_reassembles(text: str, cuts: list[int], role_first: bool) -> None:
    points = sorted(c % (len(text) + 1) for c in cuts)
    pieces = [text[a:b] for a, b in zip([0, *points], [*points, len(text)])]
    acc = ChunkAccumulator()
    if role_first:
        acc.add(chunk(delta(role="assistant", content="")))
    for i, piece in enumerate(pieces):
        acc.add(chunk(delta(content=piece)))
        if i % 3 == 0:
            assert acc.text == "".join(pieces[: i + 1])
    acc.add(chunk(delta(finish_reason="stop")))
    assert acc.text == text
    assert acc.result()["choices"][0]["message"]["content"] == text
    assert acc.finished


# --- reasoning text ---------------------------------------------------------------------------


def test_reasoning_is_kept_under_the_name_the_server_used_never_in_content() -> None:
    for name in ("reasoning_content", "reasoning"):
        acc = accumulate(
            chunk(delta(role="assistant", content="")),
            chunk(delta(**{name: "Let me "})),
            chunk(delta(**{name: "think."})),
            chunk(delta(content="Four")),
            chunk(delta(content=".")),
            chunk(delta(finish_reason="stop")),
        )
        message = acc.result()["choices"][0]["message"]
        assert message == {"role": "assistant", "content": "Four.", "refusal": None,
                           name: "Let me think."}
        assert acc.text == "Four."


def test_content_empty_or_null_beside_reasoning_adds_nothing() -> None:
    acc = accumulate(
        chunk(delta(role="assistant", content=None, reasoning_content="a")),
        chunk(delta(content="", reasoning_content="b")),  # DeepSeek, llama.cpp
        chunk(delta(content=None, reasoning_content="c")),
        chunk(delta(content="", reasoning="d")),  # Ollama
        chunk(delta(content="x", reasoning=None)),
        chunk(delta(content="y", reasoning_content=None)),
    )
    message = acc.result()["choices"][0]["message"]
    assert (message["content"], message["reasoning_content"], message["reasoning"]) == (
        "xy", "abc", "d")


def test_both_names_at_once_are_each_kept_once() -> None:
    """A server in the middle of renaming sends the same text under both names: each name
    gets it once, neither twice."""
    acc = accumulate(*[chunk(delta(reasoning_content=p, reasoning=p)) for p in ("a", "b", "c")])
    message = acc.result()["choices"][0]["message"]
    assert message["reasoning_content"] == message["reasoning"] == "abc"
    assert message["content"] is None


def test_reasoning_interleaved_with_content_and_per_choice() -> None:
    acc = accumulate(
        chunk(delta(0, role="assistant", reasoning="r0 "), delta(1, role="assistant",
                                                                reasoning_content="r1 ")),
        chunk(delta(1, reasoning_content="more")),
        chunk(delta(0, content="A")),
        chunk(delta(0, reasoning="again")),
        chunk(delta(0, content="B")),
    )
    first, second = (c["message"] for c in acc.result()["choices"])
    assert first["content"] == "AB" and first["reasoning"] == "r0 again"
    assert "reasoning_content" not in first
    assert second["content"] is None and second["reasoning_content"] == "r1 more"


def test_odd_reasoning_values_are_skipped() -> None:
    acc = accumulate(
        chunk(delta(reasoning_content=5, reasoning=["x"])),
        chunk(delta(reasoning={"text": "x"})),
        chunk(delta(reasoning_content="ok")),
        chunk(delta(reasoning_content=None)),
    )
    message = acc.result()["choices"][0]["message"]
    assert message["reasoning_content"] == "ok" and "reasoning" not in message


def test_first_content_is_timed_after_reasoning_and_empty_content() -> None:
    acc = ChunkAccumulator()
    acc.add(chunk(delta(role="assistant", content="")))
    acc.add(chunk(delta(reasoning_content="thinking")))
    acc.add(chunk(delta(content="", reasoning_content="more")))
    assert acc.first_content_at is None  # reasoning and "" are no answer yet
    acc.add(chunk(delta(content="A")))
    first = acc.first_content_at
    assert first is not None
    acc.add(chunk(delta(content="B")))
    assert acc.first_content_at == first  # noted once


def test_a_tool_call_or_refusal_is_the_first_answer_too() -> None:
    calls = ChunkAccumulator()
    calls.add(chunk(delta(reasoning="which tool?")))
    calls.add(chunk(delta(tool_calls=[{"index": 0, "id": "c", "function": {"name": "f"}}])))
    assert calls.first_content_at is not None
    refusal = ChunkAccumulator()
    refusal.add(chunk(delta(content=None, refusal="No.")))
    assert refusal.first_content_at is not None


@settings(max_examples=200, deadline=None)
@given(
    pieces=st.lists(st.tuples(st.sampled_from(["content", "reasoning_content", "reasoning"]),
                              st.text(max_size=5),
                              st.sampled_from(["absent", "empty", "null"])), max_size=30),
)
def test_reasoning_and_content_in_any_style_reassemble(pieces: list[tuple[str, str, str]]) -> None:
    """Whatever order and style (content left out, "" or null beside reasoning), each field
    gets exactly its own pieces: the fast paths and the general one agree."""
    acc = ChunkAccumulator()
    acc.add(chunk(delta(role="assistant", content="")))
    for field, text, style in pieces:
        d: dict[str, Any] = {field: text}
        if field != "content" and style != "absent":
            d["content"] = "" if style == "empty" else None
        acc.add(chunk(delta(**d)))
    message = acc.result()["choices"][0]["message"]
    for field in ("content", "reasoning_content", "reasoning"):
        sent = [t for f, t, _ in pieces if f == field]
        if field == "content":
            assert message["content"] == "".join(sent)
        else:
            assert message.get(field) == ("".join(sent) if sent else None)
