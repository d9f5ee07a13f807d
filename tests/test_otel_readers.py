"""The OpenTelemetry plugin's readers of request and answer bodies never raise and never hand
OpenTelemetry a value of a type it refuses, whatever a caller or a server sends (property
tests over arbitrary JSON, keyed with the names the readers look for)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from chatmini.plugins.otel.messages import input_attributes, output_attributes
from chatmini.plugins.otel.operations import (
    answer_metric_attributes,
    answer_span_attributes,
    request_attributes,
)

KEYS = ["id", "model", "choices", "finish_reason", "message", "content", "text", "role",
        "tool_calls", "function", "arguments", "usage", "prompt_tokens", "completion_tokens",
        "input_tokens", "output_tokens", "prompt_tokens_details", "cached_tokens",
        "completion_tokens_details", "reasoning_tokens", "status", "incomplete_details",
        "reason", "output", "type", "summary", "messages", "prompt", "input", "instructions",
        "stop", "n", "temperature", "max_tokens", "seed", "response_format", "service_tier",
        "encoding_format", "dimensions", "image_url", "url", "tool_call_id", "call_id"]
scalars = st.none() | st.booleans() | st.integers(-5, 10**12) | st.floats() | st.text(max_size=8)
json_values = st.recursive(
    scalars | st.sampled_from(KEYS),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(KEYS) | st.text(max_size=4), inner, max_size=6),
    max_leaves=40,
)
objects = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=8)


def assert_valid(attributes: dict) -> None:
    for name, value in attributes.items():
        assert isinstance(name, str)
        if isinstance(value, tuple):
            assert value and all(type(v) is str for v in value), (name, value)
        else:
            assert type(value) in (str, bool, int, float), (name, value)


@settings(max_examples=200, deadline=None)
@given(objects, st.booleans())
def test_request_and_input_readers_accept_any_body(params, openai):
    assert_valid(request_attributes(params, openai))
    captured = input_attributes(params)
    assert_valid(captured)
    for text in captured.values():
        assert isinstance(json.loads(text), list)


@settings(max_examples=200, deadline=None)
@given(json_values, st.booleans())
def test_answer_readers_accept_any_answer(data, openai):
    attributes, tokens_in, tokens_out = answer_metric_attributes(data, openai)
    assert_valid(attributes)
    assert_valid(answer_span_attributes(data))
    assert tokens_in is None or (type(tokens_in) is int and tokens_in >= 0)
    assert tokens_out is None or (type(tokens_out) is int and tokens_out >= 0)
    assert_valid(output_attributes(data))
