"""chatmini.jsoncodec gives exactly json.loads's results (and errors) on every input, with the
standard library alone and with orjson, where the two libraries differ included."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any, Callable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from chatmini import jsoncodec

orjson = pytest.importorskip("orjson")  # the test extra installs it (chatmini[speed] for users)
DECODERS = {"stdlib": jsoncodec.stdlib_loads, "orjson": jsoncodec.orjson_loads}


@pytest.fixture(autouse=True)
def _orjson_chosen() -> None:
    jsoncodec.use_orjson(True)  # the default (binds orjson for orjson_loads)


def outcome(loads: Callable[[Any], Any], text: Any) -> tuple[str, str]:
    """What a decoder made of ``text``: the value's repr (-0.0, nan and key order show) or the
    exception's type."""
    try:
        return "value", repr(loads(text))
    except (ValueError, RecursionError) as exc:
        return "error", type(exc).__name__


def assert_same(text: Any) -> None:
    expected = outcome(json.loads, text)
    for name, loads in DECODERS.items():
        assert outcome(loads, text) == expected, name


scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=2**62)
           | st.integers(max_value=-(2**62)) | st.floats() | st.text())
documents = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.text(max_size=4), inner, max_size=4), max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(value=documents, compact=st.booleans())
@example(value=10**30, compact=True)  # orjson: 1e+30, a float
@example(value=-(2**63) - 1, compact=True)
@example(value=2**64, compact=True)
@example(value=float("nan"), compact=True)  # orjson refuses NaN and Infinity
@example(value=[float("inf"), float("-inf")], compact=False)
@example(value="\ud800", compact=True)  # a lone surrogate escape: orjson refuses it
@example(value={"id": "12345678901234567890123", "n": 1}, compact=True)  # long digits in a str
def test_any_json_document_decodes_as_the_standard_library_does(value, compact):
    text = json.dumps(value, separators=(",", ":") if compact else None)
    assert_same(text)
    assert_same(text.encode("utf-8", "surrogatepass"))
    assert_same(" " + text + "\n")


@settings(max_examples=300, deadline=None)
@given(number=st.from_regex(r"-?(0|[1-9][0-9]{0,40})(\.[0-9]{1,30})?([eE][+-]?[0-9]{1,4})?",
                            fullmatch=True))
@example(number="1e400")
@example(number="2.2250738585072011e-308")
@example(number="18446744073709551616")
@example(number="-9223372036854775809")
def test_every_number_literal_decodes_to_the_same_value(number):
    assert_same(number)
    assert_same(f'{{"x":[{number}]}}')


@settings(max_examples=200, deadline=None)
@given(pairs=st.lists(st.tuples(st.sampled_from("abc"), st.integers(-3, 3)), max_size=8))
def test_duplicate_keys_keep_the_last_value_in_the_first_place(pairs):
    text = "{" + ",".join(f'"{key}":{value}' for key, value in pairs) + "}"
    assert_same(text)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=60), value=documents, at=st.integers(0, 200))
@example(data=b"\xff", value={"a": "b"}, at=7)  # invalid UTF-8 inside a string
@example(data=b"\xef\xbb\xbf", value=[1], at=0)  # a UTF-8 BOM, which json.loads skips in bytes
def test_arbitrary_and_corrupted_bytes_give_the_same_value_or_error(data, value, at):
    assert_same(data)
    text = json.dumps(value).encode()
    assert_same(text[:at] + data + text[at:])
    assert_same((text[:at] + data + text[at:]).decode("utf-8", "replace"))
    assert_same(json.dumps(value).encode("utf-16"))
    assert_same(json.dumps(value).encode("utf-16-le"))  # no BOM: NUL bytes tell json.loads
    assert_same(json.dumps(value).encode("utf-32-be"))


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=40))
def test_arbitrary_text_gives_the_same_value_or_error(text):
    assert_same(text)


def test_deep_nesting_is_the_standard_librarys_error_too():
    assert_same("[" * 100_000)
    assert_same("[" * 2000 + "]" * 2000)


def test_orjson_is_chosen_when_installed_and_never_imported_by_import_chatmini():
    assert jsoncodec.decoder() is jsoncodec.orjson_loads
    code = ("import sys, chatmini; assert 'orjson' not in sys.modules; "
            "from chatmini.jsoncodec import decoder, stdlib_loads; "
            "sys.modules['orjson'] = None; assert decoder() is stdlib_loads")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_orjson_can_be_turned_off_and_on_again():
    try:
        assert jsoncodec.use_orjson(False) is True  # it was on
        assert jsoncodec.decoder() is jsoncodec.stdlib_loads
        assert jsoncodec.loads(b'{"n": 100000000000000000000}') == {"n": 10**20}
    finally:
        assert jsoncodec.use_orjson(True) is False
    assert jsoncodec.decoder() is jsoncodec.orjson_loads


def test_large_texts_stay_within_the_standard_librarys_memory():
    import tracemalloc

    size = 4 * jsoncodec.ORJSON_MAX
    text = b'{"data":"' + b"x" * size + b'"}'
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        assert len(jsoncodec.orjson_loads(text)["data"]) == size
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * size  # orjson alone would need about 13 times the text


@settings(max_examples=300, deadline=None)
@given(value=documents)
def test_bodies_encode_as_json_dumps_compact_does(value):
    """As ``json.dumps`` compact without NaN or infinities (not JSON: refused), lone surrogates
    as their escapes (no UTF-8 for them)."""
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError:
        with pytest.raises(ValueError, match="Out of range float"):
            jsoncodec.encode_body(value)
        return
    encoded = jsoncodec.encode_body(value)
    assert encoded == jsoncodec.escape_surrogates(text).encode()
    assert json.loads(encoded) == value  # exact: the escapes decode to the same text


def test_what_is_not_json_is_a_clear_error_and_a_cycle_too(client):
    with pytest.raises(TypeError, match="Object of type set is not JSON serializable"):
        jsoncodec.encode_body({"a": {1}})
    loop: list = []
    loop.append(loop)
    with pytest.raises(RecursionError):
        jsoncodec.encode_body(loop)
    import chatmini

    with pytest.raises(chatmini.InvalidRequestError, match="not JSON-serialisable"):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": loop}])
