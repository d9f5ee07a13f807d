"""Partial JSON: the value a streamed JSON text has settled so far. The property: at every cut
of any document, in pieces of any size, the value read is a faithful beginning of the final
one (complete values equal, only the last string shorter, never a number that may still grow),
and once the text is whole it is the document."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatmini.structured import PartialJSON


def beginning_of(partial: Any, full: Any) -> bool:
    """Whether ``partial`` is a faithful beginning of ``full``."""
    if partial is None:
        return True
    if isinstance(full, dict):
        keys = list(partial) if isinstance(partial, dict) else None
        if keys is None or keys != list(full)[:len(keys)]:
            return False
        if any(partial[k] != full[k] for k in keys[:-1]):
            return False
        return not keys or beginning_of(partial[keys[-1]], full[keys[-1]])
    if isinstance(full, list):
        if not isinstance(partial, list) or len(partial) > len(full):
            return False
        if partial and partial[:-1] != full[:len(partial) - 1]:
            return False
        return not partial or beginning_of(partial[-1], full[len(partial) - 1])
    if isinstance(full, str):
        return isinstance(partial, str) and full.startswith(partial)
    return partial == full and type(partial) is type(full)


documents = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=4),
    max_leaves=15)


@settings(max_examples=500, deadline=None)
@given(documents, st.integers(1, 9), st.booleans(), st.booleans())
def test_every_cut_reads_as_a_faithful_beginning(document, size, ascii_only, indented):
    text = json.dumps(document, ensure_ascii=ascii_only, indent=1 if indented else None)
    partial = PartialJSON()
    for start in range(0, len(text), size):
        partial.add(text[start:start + size])
        value = partial.value()
        assert beginning_of(value, document), (text[:start + size], value)
    if isinstance(document, (dict, list, str)):  # a bare number at the end may still grow
        assert partial.value() == document


@pytest.mark.parametrize(("pieces", "values"), [
    (['{"steps": [{"a": 1}, {"b": "hal', 'lo"}], "n": 1', '2', "}"],
     [{"steps": [{"a": 1}, {"b": "hal"}]}, {"steps": [{"a": 1}, {"b": "hallo"}]},
      {"steps": [{"a": 1}, {"b": "hallo"}]}, {"steps": [{"a": 1}, {"b": "hallo"}], "n": 12}]),
    (['{"t": tr', "ue, ", '"k'], [{}, {"t": True}, {"t": True}]),
    (['{"s": "a\\', 'nb\\u00', 'e9\\ud83d', '\\ude00"}'],
     [{"s": "a"}, {"s": "a\nb"}, {"s": "a\nbé"}, {"s": "a\nbé😀"}]),
    (["  ", "[", "1, 2", "]"], [None, [], [1], [1, 2]]),
])
def test_values_as_the_text_grows(pieces, values):
    partial = PartialJSON()
    seen = []
    for piece in pieces:
        partial.add(piece)
        seen.append(partial.value())
    assert seen == values


def test_text_that_turns_out_not_to_be_json_keeps_the_last_good_value():
    partial = PartialJSON()
    partial.add('{"a": 1, ')
    assert partial.value() == {"a": 1}
    partial.add("}}}]]garbage")
    assert partial.value() == {"a": 1}
