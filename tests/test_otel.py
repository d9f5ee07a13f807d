"""The OpenTelemetry plugin, read back through the real OpenTelemetry SDK (an in-memory span
exporter and metric reader) from calls over real sockets to the embedded server."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import threading
from typing import Any

import pytest
from opentelemetry import propagate, trace
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind, StatusCode

import chatmini
from chatmini.plugins.otel import CAPTURE_ENV, OpenTelemetry
from chatmini.plugins.otel import conventions as sc
from chatmini.testing import Reply

from .conftest import HI, SECRET_KEY

MODEL = "gpt-4o-mini"


class Telemetry:
    """A tracer and meter provider of the real SDK, exporting to memory."""

    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def plugin(self, **options: Any) -> OpenTelemetry:
        return OpenTelemetry(tracer_provider=self.tracer_provider,
                             meter_provider=self.meter_provider, **options)

    def finished(self) -> list:
        return list(self.spans.get_finished_spans())

    def span(self):
        (span,) = self.finished()
        return span

    def points(self, name: str) -> list:
        """Every data point of one metric (an empty list when it was never recorded)."""
        data = self.reader.get_metrics_data()
        return [point for rm in (data.resource_metrics if data else ())
                for scope in rm.scope_metrics for metric in scope.metrics
                if metric.name == name for point in metric.data.data_points]


@pytest.fixture
def otel() -> Telemetry:
    return Telemetry()


@pytest.fixture(autouse=True)
def _no_capture_env(monkeypatch) -> None:
    monkeypatch.delenv(CAPTURE_ENV, raising=False)


def chat(client, **params):
    params.setdefault("messages", HI)
    return client.chat.completions.create(model=MODEL, **params)


def test_a_call_is_one_client_span_with_the_conventions_attributes(otel, make_client, server):
    client = make_client(plugins=[otel.plugin()])
    reply = chat(client, temperature=0.2, top_p=0.9, max_tokens=50, stop=["x", "y"], seed=7, n=2,
                 frequency_penalty=0.5, response_format={"type": "json_object"})
    span = otel.span()
    attrs = dict(span.attributes)
    assert span.name == f"chat {MODEL}" and span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET and not span.events
    assert attrs == {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
        "gen_ai.request.model": MODEL, "server.address": "127.0.0.1", "server.port": server.port,
        "gen_ai.request.temperature": 0.2, "gen_ai.request.top_p": 0.9,
        "gen_ai.request.max_tokens": 50, "gen_ai.request.stop_sequences": ("x", "y"),
        "gen_ai.request.seed": 7, "gen_ai.request.choice.count": 2,
        "gen_ai.request.frequency_penalty": 0.5, "gen_ai.output.type": "json",
        "openai.api.type": "chat_completions",
        "gen_ai.response.id": reply.id, "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": ("stop", "stop"),
        "openai.response.system_fingerprint": "fp_chatmini",
        "gen_ai.usage.input_tokens": reply.usage.prompt_tokens,
        "gen_ai.usage.output_tokens": reply.usage.completion_tokens,
    }


def test_only_parameters_in_the_call_become_attributes(otel, make_client):
    chat(make_client(plugins=[otel.plugin()]), stop="END", max_completion_tokens=9, n=1)
    attrs = otel.span().attributes
    assert attrs["gen_ai.request.stop_sequences"] == ("END",)
    assert attrs["gen_ai.request.max_tokens"] == 9
    for absent in ("gen_ai.request.temperature", "gen_ai.request.top_p", "gen_ai.request.seed",
                   "gen_ai.request.choice.count", "gen_ai.request.stream", "gen_ai.output.type"):
        assert absent not in attrs


def test_metrics_use_the_conventions_names_attributes_and_buckets(otel, make_client, server):
    client = make_client(plugins=[otel.plugin()])
    reply = chat(client)
    (duration,) = otel.points("gen_ai.client.operation.duration")
    tokens = {p.attributes["gen_ai.token.type"]: p for p in otel.points("gen_ai.client.token.usage")}
    assert duration.count == 1 and 0 < duration.sum < 30
    assert tuple(duration.explicit_bounds) == sc.SECONDS_BUCKETS == (
        0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
    assert dict(duration.attributes) == {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
        "gen_ai.request.model": MODEL, "gen_ai.response.model": MODEL,
        "server.address": "127.0.0.1", "server.port": server.port,
        "openai.response.system_fingerprint": "fp_chatmini",
    }
    assert tokens["input"].sum == reply.usage.prompt_tokens
    assert tokens["output"].sum == reply.usage.completion_tokens
    assert tuple(tokens["input"].explicit_bounds) == sc.TOKEN_BUCKETS
    assert otel.points("gen_ai.client.operation.time_to_first_chunk") == []


def test_reasoning_and_cached_tokens_when_reported(otel, make_client, server):
    usage = {"prompt_tokens": 30, "completion_tokens": 20, "total_tokens": 50,
             "prompt_tokens_details": {"cached_tokens": 12},
             "completion_tokens_details": {"reasoning_tokens": 15}}
    server.enqueue(Reply(body={"id": "chatcmpl-r", "object": "chat.completion", "model": "o3",
                               "choices": [{"index": 0, "finish_reason": "length", "message": {
                                   "role": "assistant", "content": "x"}}], "usage": usage}))
    chat(make_client(plugins=[otel.plugin()]))
    attrs = otel.span().attributes
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 12
    assert attrs["gen_ai.usage.reasoning.output_tokens"] == 15
    assert attrs["gen_ai.response.model"] == "o3"
    assert attrs["gen_ai.response.finish_reasons"] == ("length",)


def test_a_stream_ends_its_span_when_the_stream_ends(otel, make_client, server):
    client = make_client(plugins=[otel.plugin()])
    server.enqueue(Reply(content="one two three four", pause_after=2, pause=0.05))
    stream = chat(client, stream=True, stream_options={"include_usage": True})
    assert otel.finished() == []  # headers arrived, the answer has not
    text = "".join(stream.text_deltas())
    span = otel.span()
    attrs = span.attributes
    assert text == "one two three four" and span.status.status_code is StatusCode.UNSET
    assert attrs["gen_ai.request.stream"] is True
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["gen_ai.response.id"] == stream.get_final_completion().id
    assert attrs["gen_ai.usage.output_tokens"] == stream.usage["completion_tokens"]
    (first,) = otel.points("gen_ai.client.operation.time_to_first_chunk")
    per_chunk = otel.points("gen_ai.client.operation.time_per_output_chunk")[0]
    assert first.sum == attrs["gen_ai.response.time_to_first_chunk"] > 0
    assert per_chunk.count == stream.chunk_count - 1
    assert per_chunk.max >= 0.04  # the pause after the second chunk; others arrive together
    assert tuple(per_chunk.explicit_bounds) == sc.SECONDS_BUCKETS
    (duration,) = otel.points("gen_ai.client.operation.duration")
    assert duration.sum >= first.sum + 0.04 and "error.type" not in duration.attributes


def test_a_cut_stream_is_an_error(otel, make_client, server):
    client = make_client(plugins=[otel.plugin()])
    server.enqueue(Reply(cut_after=2))
    with pytest.raises(chatmini.IncompleteStreamError):
        list(chat(client, stream=True))
    span = otel.span()
    assert span.status.status_code is StatusCode.ERROR
    assert "Stream incomplete" in span.status.description
    assert span.attributes["error.type"] == "IncompleteStreamError"
    assert "gen_ai.response.finish_reasons" not in span.attributes
    (duration,) = otel.points("gen_ai.client.operation.duration")
    assert duration.attributes["error.type"] == "IncompleteStreamError"


def test_an_error_event_in_a_stream_is_an_error(otel, make_client, server):
    client = make_client(plugins=[otel.plugin()])
    server.enqueue(Reply(error_event={"error": {"message": "overloaded", "type": "server_error"}}))
    with pytest.raises(chatmini.APIError):
        list(chat(client, stream=True))
    assert otel.span().status.status_code is StatusCode.ERROR


def test_a_dropped_stream_ends_its_span_from_the_finaliser(otel, make_client):
    client = make_client(plugins=[otel.plugin()])
    stream = chat(client, stream=True)
    next(stream)
    del stream
    gc.collect()
    span = otel.span()
    assert span.end_time is not None and span.status.status_code is StatusCode.UNSET
    assert "error.type" not in span.attributes
    assert len(otel.points("gen_ai.client.operation.duration")) == 1


def test_a_stream_closed_early_ends_its_span_once(otel, make_client):
    client = make_client(plugins=[otel.plugin()])
    with chat(client, stream=True) as stream:
        next(stream)
    stream.close()
    span = otel.span()
    assert span.status.status_code is StatusCode.UNSET
    assert "gen_ai.response.finish_reasons" not in span.attributes
    assert otel.points("gen_ai.client.operation.duration")[0].count == 1


def test_each_retried_attempt_is_an_event_on_one_span(otel, make_client, server):
    client = make_client(plugins=[otel.plugin()], max_retries=2)
    server.enqueue(Reply(status=503), Reply(status=429))
    chat(client)
    span = otel.span()
    events = [(e.name, dict(e.attributes)) for e in span.events]
    assert events == [
        ("chatmini.attempt", {"http.request.resend_count": 0, "http.response.status_code": 503,
                              "error.type": "InternalServerError"}),
        ("chatmini.attempt", {"http.request.resend_count": 1, "http.response.status_code": 429,
                              "error.type": "RateLimitError"}),
        ("chatmini.attempt", {"http.request.resend_count": 2, "http.response.status_code": 200}),
    ]
    assert span.attributes["http.request.resend_count"] == 2
    assert span.status.status_code is StatusCode.UNSET and "error.type" not in span.attributes
    (duration,) = otel.points("gen_ai.client.operation.duration")
    assert "error.type" not in duration.attributes  # retried errors are not the call's


@pytest.mark.parametrize(("reply", "error", "retries"), [
    (Reply(status=400), chatmini.BadRequestError, 0),
    (Reply(status=500), chatmini.InternalServerError, 1),
    (Reply(drop=True), chatmini.APIConnectionError, 1),
])
def test_a_failed_call_sets_error_type_status_and_metric(otel, make_client, server, reply,
                                                         error, retries):
    client = make_client(plugins=[otel.plugin()], max_retries=retries)
    server.enqueue(*[reply] * (retries + 1))
    with pytest.raises(error):
        chat(client)
    span = otel.span()
    assert span.status.status_code is StatusCode.ERROR and span.status.description
    assert span.attributes["error.type"] == error.__name__
    assert len(span.events) == retries + 1
    assert "gen_ai.response.id" not in span.attributes
    (duration,) = otel.points("gen_ai.client.operation.duration")
    assert duration.attributes["error.type"] == error.__name__
    assert otel.points("gen_ai.client.token.usage") == []


def test_traceparent_reaches_the_server_on_every_attempt(otel, make_client, server):
    client = make_client(plugins=[otel.plugin()], max_retries=1)
    tracer = otel.tracer_provider.get_tracer("app")
    server.enqueue(Reply(status=503))
    with tracer.start_as_current_span("handler") as parent:
        chat(client)
    span = next(s for s in otel.finished() if s.name.startswith("chat"))
    expected = f"00-{span.context.trace_id:032x}-{span.context.span_id:016x}-"
    assert [r.headers["traceparent"][:-2] for r in server.requests] == [expected] * 2
    assert span.parent.span_id == parent.get_span_context().span_id


def test_no_traceparent_without_a_tracer_or_propagator(otel, make_client, server):
    chat(make_client(plugins=[OpenTelemetry()]))  # the API's no-op tracer: nothing to propagate
    configured = propagate.get_global_textmap()
    propagate.set_global_textmap(CompositePropagator([]))  # OTEL_PROPAGATORS=none
    try:
        chat(make_client(plugins=[otel.plugin()]))  # a recording span, but no propagator
    finally:
        propagate.set_global_textmap(configured)
    assert [r.headers.get("traceparent") for r in server.requests] == [None, None]
    assert len(otel.finished()) == 1


def test_a_sampled_out_call_still_propagates_and_counts(make_client, server):
    telemetry = Telemetry()
    telemetry.tracer_provider = TracerProvider(sampler=ALWAYS_OFF)
    telemetry.tracer_provider.add_span_processor(SimpleSpanProcessor(telemetry.spans))
    client = make_client(plugins=[telemetry.plugin()], max_retries=1)
    server.enqueue(Reply(status=503))
    chat(client)
    assert telemetry.finished() == []
    sent = [r.headers["traceparent"] for r in server.requests]
    assert sent[0] == sent[1] and int(sent[0].split("-")[3], 16) & 1 == 0  # valid, not sampled
    assert telemetry.points("gen_ai.client.operation.duration")[0].count == 1


def test_a_stream_read_in_another_thread_ends_its_span_there(otel, make_client):
    client = make_client(plugins=[otel.plugin()])
    stream = chat(client, stream=True)
    seen = []
    reader = threading.Thread(target=lambda: seen.append(("".join(stream.text_deltas()),
                                                          trace.get_current_span())))
    reader.start()
    reader.join(10)
    assert seen[0][0] == "echo: hi" and not seen[0][1].get_span_context().is_valid
    assert otel.span().end_time is not None


def test_the_span_is_current_while_sending_and_never_after(otel, make_client):
    seen = []

    class Inside:  # registered after the OpenTelemetry plugin: runs inside its send wrapper
        @chatmini.hookimpl(wrapper=True)
        def chatmini_send(self):
            seen.append(trace.get_current_span())
            return (yield)

    client = make_client(plugins=[otel.plugin(), Inside()])
    before = trace.get_current_span()
    chat(client)
    stream = chat(client, stream=True)
    during_stream = trace.get_current_span()
    list(stream)
    spans = otel.finished()
    assert [s.get_span_context() for s in seen] == [s.context for s in spans]
    assert during_stream is before and trace.get_current_span() is before


def test_sixteen_threads_at_once_keep_their_spans_apart(otel, make_client, server):
    client = make_client(plugins=[otel.plugin()], pool_maxsize=16)
    tracer = otel.tracer_provider.get_tracer("app")
    barrier = threading.Barrier(16)
    parents: dict[int, int] = {}
    failures = []

    def work(i: int) -> None:
        try:
            with tracer.start_as_current_span(f"job {i}") as parent:
                parents[i] = parent.get_span_context().span_id
                barrier.wait(10)
                messages = [{"role": "user", "content": f"thread {i}"}]
                if i % 2:
                    list(chat(client, messages=messages, stream=True))
                else:
                    chat(client, messages=messages)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert failures == []
    calls = {s.context.span_id: s for s in otel.finished() if s.name.startswith("chat")}
    assert len(calls) == 16
    for request in server.requests:
        i = int(request.json["messages"][0]["content"].split()[1])
        span = calls[int(request.headers["traceparent"].split("-")[2], 16)]
        assert span.parent.span_id == parents[i]
        assert span.attributes.get("gen_ai.request.stream", False) is bool(i % 2)
    (duration,) = otel.points("gen_ai.client.operation.duration")
    assert duration.count == 16


def test_content_is_captured_only_when_opted_in(otel, make_client, monkeypatch):
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    chat(make_client(plugins=[otel.plugin()]), messages=messages)
    monkeypatch.setenv(CAPTURE_ENV, "true")
    chat(make_client(plugins=[otel.plugin()]), messages=messages)
    chat(make_client(plugins=[otel.plugin(capture_content=False)]), messages=messages)
    off, on, overridden = otel.finished()
    for span in (off, overridden):
        assert not any(k in span.attributes for k in (sc.INPUT_MESSAGES, sc.OUTPUT_MESSAGES))
    assert json.loads(on.attributes[sc.INPUT_MESSAGES]) == [
        {"role": "system", "parts": [{"type": "text", "content": "be brief"}]},
        {"role": "user", "parts": [{"type": "text", "content": "hi"}]},
    ]
    assert json.loads(on.attributes[sc.OUTPUT_MESSAGES]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "echo: hi"}],
         "finish_reason": "stop"}]


def test_captured_stream_content_is_the_assembled_answer(otel, make_client):
    client = make_client(plugins=[otel.plugin(capture_content=True)])
    list(chat(client, messages=[{"role": "user", "content": "a b c"}], stream=True))
    output = json.loads(otel.span().attributes[sc.OUTPUT_MESSAGES])
    assert output[0]["parts"] == [{"type": "text", "content": "echo: a b c"}]


@pytest.mark.parametrize(("value", "captured"), [
    ("TRUE", True), ("span_only", True), ("SPAN_AND_EVENT", True), ("false", False),
    ("NO_CONTENT", False), ("EVENT_ONLY", False), ("", False),
])
def test_the_capture_variable_takes_the_conventions_values(monkeypatch, value, captured):
    monkeypatch.setenv(CAPTURE_ENV, value)
    assert OpenTelemetry().capture_content is captured


def test_a_wrong_capture_value_or_provider_name_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(CAPTURE_ENV, "yes please")
    with pytest.raises(chatmini.InvalidRequestError, match=CAPTURE_ENV):
        OpenTelemetry()
    with pytest.raises(chatmini.InvalidRequestError, match="provider_name"):
        OpenTelemetry(provider_name="", capture_content=False)


def test_no_credential_anywhere_in_spans(otel, make_client, server, monkeypatch):
    monkeypatch.setenv(CAPTURE_ENV, "true")
    # (a password in base_url is refused before any span: tests/test_secret_echoes.py)
    client = make_client(plugins=[otel.plugin()], max_retries=1,
                         default_query={"api-key": SECRET_KEY + "q"})
    echo = {"error": {"message": f"Incorrect API key provided: {SECRET_KEY}", "type": "x"}}
    server.enqueue(Reply(status=401, body=echo))
    with pytest.raises(chatmini.AuthenticationError):
        chat(client)
    server.enqueue(Reply(status=500, body=echo))
    chat(client)
    list(chat(client, stream=True))
    assert len(otel.finished()) == 3
    for span in otel.finished():
        assert SECRET_KEY not in span.to_json()
    assert SECRET_KEY not in otel.reader.get_metrics_data().to_json()
    assert all(r.headers["Authorization"] == f"Bearer {SECRET_KEY}" for r in server.requests)


def test_azure_is_detected_and_a_configured_provider_wins(otel, server):
    azure = chatmini.AzureClient(api_key=SECRET_KEY, azure_endpoint=server.url,
                                 azure_deployment="prod", api_version="2024-10-21",
                                 plugins=[otel.plugin()])
    azure.chat.completions.create(model=MODEL, messages=HI)
    other = chatmini.Client(api_key=SECRET_KEY, base_url=server.base_url,
                            plugins=[otel.plugin(provider_name="vllm")])
    other.chat.completions.create(model=MODEL, messages=HI)
    first, second = otel.finished()
    assert first.attributes["gen_ai.provider.name"] == "azure.ai.openai"
    assert "openai.api.type" not in first.attributes  # openai.* belongs to the openai provider
    assert second.attributes["gen_ai.provider.name"] == "vllm"
    azure.close()
    other.close()


def test_embeddings_are_their_own_operation(otel, make_client, server):
    vectors = [{"object": "embedding", "index": i, "embedding": [0.25] * 512} for i in range(3)]
    server.enqueue(Reply(body={"object": "list", "data": vectors, "model": "text-embedding-3-small",
                               "usage": {"prompt_tokens": 6, "total_tokens": 6}}))
    client = make_client(plugins=[otel.plugin()])
    client.post("/embeddings", {"model": "text-embedding-3-small", "input": ["a", "b", "c"],
                                "encoding_format": "float", "dimensions": 512})
    span = otel.span()
    assert span.name == "embeddings text-embedding-3-small"
    assert span.attributes["gen_ai.operation.name"] == "embeddings"
    assert span.attributes["gen_ai.request.encoding_formats"] == ("float",)
    assert span.attributes["gen_ai.embeddings.dimension.count"] == 512
    assert span.attributes["gen_ai.response.model"] == "text-embedding-3-small"
    assert span.attributes["gen_ai.usage.input_tokens"] == 6
    assert [p.sum for p in otel.points("gen_ai.client.token.usage")] == [6]


def test_legacy_completions_and_responses_map_to_their_operations(otel, make_client, server):
    client = make_client(plugins=[otel.plugin()])
    server.enqueue(Reply(body={"id": "cmpl-1", "object": "text_completion", "model": MODEL,
                               "choices": [{"index": 0, "text": "hi", "finish_reason": "stop"}]}),
                   Reply(body={"id": "resp_1", "object": "response", "model": MODEL,
                               "status": "incomplete",
                               "incomplete_details": {"reason": "max_output_tokens"},
                               "usage": {"input_tokens": 5, "output_tokens": 7,
                                         "output_tokens_details": {"reasoning_tokens": 3}}}))
    client.post("/completions", {"model": MODEL, "prompt": "say hi"})
    client.post("/responses", {"model": MODEL, "input": "hi", "max_output_tokens": 7})
    legacy, responses = otel.finished()
    assert legacy.name == f"text_completion {MODEL}"
    assert legacy.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert responses.name == f"chat {MODEL}"
    assert responses.attributes["openai.api.type"] == "responses"
    assert responses.attributes["gen_ai.request.max_tokens"] == 7
    assert responses.attributes["gen_ai.response.finish_reasons"] == ("max_output_tokens",)
    assert responses.attributes["gen_ai.usage.reasoning.output_tokens"] == 3


def test_calls_that_are_not_genai_operations_are_not_traced(otel, make_client, server):
    client = make_client(plugins=[otel.plugin()])
    client.models.list()
    assert otel.finished() == [] and "traceparent" not in server.requests[0].headers


HOSTILE = {"id": 5, "model": ["x"], "choices": [{"finish_reason": 3}, "no"],
           "usage": {"prompt_tokens": "3", "completion_tokens": -1}}


def test_a_hostile_answer_leaves_out_what_is_malformed(otel, make_client, server):
    """Through client.post (no shape check: the answer is handed out as it came) the span keeps
    nothing malformed; through create() the wrong shape is the call's error."""
    client = make_client(plugins=[otel.plugin(capture_content=True)])
    server.enqueue(Reply(body=HOSTILE))
    client.post("/chat/completions", json={"model": MODEL, "messages": HI})
    attrs = otel.span().attributes
    for absent in ("gen_ai.response.id", "gen_ai.response.model", "gen_ai.usage.input_tokens",
                   "gen_ai.usage.output_tokens", "gen_ai.response.finish_reasons"):
        assert absent not in attrs
    assert otel.points("gen_ai.client.token.usage") == []
    server.enqueue(Reply(body=HOSTILE))
    with pytest.raises(chatmini.APIResponseValidationError, match=r"choices\[1\] is a string"):
        chat(client)
    failed = otel.finished()[-1].attributes
    assert failed["error.type"] == "APIResponseValidationError"
    assert "gen_ai.response.id" not in failed


ABSURD = {"prompt_tokens": 10**400, "completion_tokens": -5, "total_tokens": 1e9,
          "prompt_tokens_details": {"cached_tokens": 10**400},
          "completion_tokens_details": {"reasoning_tokens": float("inf")}}


@pytest.mark.parametrize("stream", [False, True])
def test_absurd_usage_counts_are_left_out_not_raised(otel, make_client, server, stream):
    """A count no histogram can take (10**400 overflows, -5 is no count) is not recorded."""
    client = make_client(plugins=[otel.plugin()])
    if stream:
        server.enqueue(Reply(content="hi", chunk_extras={"usage": ABSURD}))
        assert "".join(chat(client, stream=True).text_deltas()) == "hi"
    else:
        server.enqueue(Reply(body={"id": "chatcmpl-a", "object": "chat.completion",
                                   "model": MODEL, "usage": ABSURD, "choices": [{
                                       "index": 0, "finish_reason": "stop",
                                       "message": {"role": "assistant", "content": "hi"}}]}))
        assert chat(client).choices[0].message.content == "hi"
    attrs = otel.span().attributes
    assert not [name for name in attrs if name.startswith("gen_ai.usage.")]
    assert otel.points("gen_ai.client.token.usage") == []
    assert len(otel.points("gen_ai.client.operation.duration")) == 1


def test_it_works_with_the_timing_plugin_blocked(otel, make_client):
    client = make_client(plugins=[otel.plugin()], disabled_plugins=["timing", "logging"])
    list(chat(client, stream=True))
    assert otel.span().attributes["gen_ai.response.time_to_first_chunk"] > 0


def test_a_traceparent_the_caller_set_is_left_alone(otel, make_client, server):
    mine = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    chat(make_client(plugins=[otel.plugin()]), extra_headers={"traceparent": mine})
    assert server.requests[0].headers["traceparent"] == mine


def test_without_opentelemetry_installed_the_error_names_the_extra():
    code = ("import sys; sys.modules['opentelemetry'] = None\n"
            "import chatmini\n"
            "try:\n    chatmini.OpenTelemetry\nexcept ImportError as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert "pip install 'chatmini[otel]'" in out


def test_a_streamed_response_gets_its_answer_attributes(otel, make_client, server):
    client = make_client(plugins=[otel.plugin()])
    with client.responses.create(model=MODEL, input="hi", stream=True) as stream:
        final = stream.get_final_response()
    (span,) = otel.finished()
    attrs = span.attributes
    assert attrs["openai.api.type"] == "responses"
    assert attrs["gen_ai.response.id"] == final.id
    assert attrs["gen_ai.usage.input_tokens"] == final.usage.input_tokens
    assert attrs["gen_ai.usage.output_tokens"] == final.usage.output_tokens


def test_a_call_fallback_sent_elsewhere_names_the_server_that_served_it(otel, make_client,
                                                                         server):
    """Fallback rewrites the URL per attempt: the span and the metrics describe the endpoint
    that answered, and the span carries the call's labels (upstream=)."""
    from chatmini.testing import Server

    with Server() as other:
        fallback = chatmini.Fallback([chatmini.Endpoint(server.base_url, name="a", api_key="k1"),
                                      chatmini.Endpoint(other.base_url, name="b", api_key="k2")])
        client = chatmini.Client(api_key=SECRET_KEY, base_url=server.base_url,
                                 plugins=[fallback, otel.plugin()])
        server.enqueue(Reply(status=503), Reply(status=503), Reply(status=503))
        with client:
            assert chat(client).context["upstream"] == "b"
            list(chat(client, stream=True))  # a's breaker is open: b from the first attempt
    for span in otel.finished():
        attrs = span.attributes
        assert (attrs["server.address"], attrs["server.port"]) == ("127.0.0.1", other.port)
        assert attrs["chatmini.upstream"] == "b"
    (duration,) = otel.points("gen_ai.client.operation.duration")[:1]
    ports = {p.attributes["server.port"] for p in otel.points("gen_ai.client.operation.duration")}
    assert ports == {other.port} and duration.count >= 1


def test_a_cache_hit_is_said_on_the_span(otel, make_client, server):
    client = make_client(plugins=[chatmini.ResponseCache(), otel.plugin()])
    chat(client, temperature=0)
    chat(client, temperature=0)
    miss, hit = otel.finished()
    assert miss.attributes["chatmini.cache"] == "miss" and hit.attributes["chatmini.cache"] == "hit"
    assert len(server.requests) == 1
