"""chatmini.usage, the one token-count reader: whatever ``usage`` a server sends, the plugins
that count tokens (timing, OpenTelemetry, Prometheus, StatsD) never raise on it."""

from __future__ import annotations

import json
import socket
from typing import Any, Iterator

import prometheus_client
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider

import chatmini
from chatmini.plugins.otel import OpenTelemetry
from chatmini.plugins.prometheus import PrometheusMetrics
from chatmini.plugins.statsd import StatsdMetrics
from chatmini.testing import Reply
from chatmini.usage import count, token_counts, total_tokens, usage_from_body

from .conftest import HI

MODEL = "gpt-4o-mini"
NAMES = ("prompt_tokens", "completion_tokens", "total_tokens", "input_tokens", "output_tokens")
DETAILS = ("prompt_tokens_details", "completion_tokens_details", "input_tokens_details",
           "output_tokens_details")

ABSURD = [10**400, -10**400, 10**15, -5, -1, 1e9, 2.5, float("nan"), float("inf"),
          -float("inf"), "12", True, [3], {"n": 3}]
junk = st.recursive(
    st.one_of(st.sampled_from(ABSURD), st.none(), st.integers(), st.floats(), st.text(max_size=4),
              st.integers(min_value=-10**900, max_value=10**900)),
    lambda inner: st.one_of(st.lists(inner, max_size=2),
                            st.dictionaries(st.text(max_size=4), inner, max_size=2)),
    max_leaves=4,
)
details = st.one_of(junk, st.fixed_dictionaries(
    {}, optional={"cached_tokens": junk, "reasoning_tokens": junk}))
usages = st.one_of(
    st.fixed_dictionaries({}, optional={**{n: junk for n in NAMES},
                                        **{d: details for d in DETAILS}}), junk,
)

@pytest.fixture
def metered(make_client) -> Iterator[chatmini.Client]:
    """A client with every plugin that counts tokens; its StatsD datagrams go nowhere read."""
    daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    daemon.bind(("127.0.0.1", 0))
    tracer = TracerProvider()
    meter = MeterProvider(metric_readers=[InMemoryMetricReader()])
    yield make_client(plugins=[
        OpenTelemetry(tracer_provider=tracer, meter_provider=meter),
        PrometheusMetrics(registry=prometheus_client.CollectorRegistry()),
        StatsdMetrics(port=daemon.getsockname()[1]),
    ])
    daemon.close()
    tracer.shutdown()
    meter.shutdown()


def answer(usage: Any) -> dict[str, Any]:
    return {"id": "chatcmpl-u", "object": "chat.completion", "model": MODEL, "usage": usage,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "hi"}}]}


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(usage=usages, stream=st.booleans())
def test_any_usage_through_every_token_counting_plugin_never_raises(metered, server, usage,
                                                                    stream):
    """The call's own result only: an answer, or chatmini's error for a ``usage`` that is not
    an object (the shape check); never a plugin's OverflowError or ValueError."""
    create = metered.chat.completions.create
    try:
        if stream:
            server.enqueue(Reply(content="hi", chunk_extras={"usage": usage}))
            with create(model=MODEL, messages=HI, stream=True) as events:
                assert "".join(events.text_deltas()) == "hi"
        else:
            server.enqueue(Reply(body=json.dumps(answer(usage)).encode(),
                                 content_type="application/json"))
            assert create(model=MODEL, messages=HI).choices[0].message.content == "hi"
    except chatmini.APIResponseValidationError:
        assert not isinstance(usage, dict) and usage is not None


@given(value=st.one_of(junk, st.integers()))
def test_a_count_is_a_plain_integer_from_0_to_15_digits(value):
    expected = value if type(value) is int and 0 <= value < 10**15 else None
    assert count(value) == expected
    assert token_counts({"prompt_tokens": value}) == (expected, None)
    assert total_tokens({"total_tokens": value}) == expected


@pytest.mark.parametrize("text, expected", [
    ("1e9", None), ("2.5", None), ("-5", None), ("1" * 16, None), ("123", 123), ("0", 0),
])
def test_a_body_count_is_a_plain_integer_too(text, expected):
    body = f'{{"usage": {{"prompt_tokens": {text}, "completion_tokens": 3}}}}'.encode()
    assert usage_from_body(body) == (expected, 3)

