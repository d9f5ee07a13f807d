"""The ``opentelemetry`` plugin: a CLIENT span and the GenAI client metrics for every GenAI call.

It emits through opentelemetry-api alone: without an SDK configured, spans and metrics are
OpenTelemetry's no-ops. Each step uses a public hook:

- ``chatmini_prepare_request``, first attempt: start the span as a child of the caller's current
  span (with the attributes a sampler may use) and work out the trace-context headers once;
  every attempt then carries them, unless the caller set them.
- ``chatmini_send`` (a wrapper): the span is current while an attempt is sent, so an HTTP-level
  instrumentation nests under it; it is detached in the same thread before the send returns.
- ``chatmini_after_attempt``: a ``chatmini.attempt`` event for each failed attempt and each
  attempt after the first.
- ``chatmini_stream_reads``: time to first chunk and time per output chunk, from the arrival
  time of each read (handed over in batches).
- ``chatmini_call_end`` (calls not streamed, or failed; the answer is its ``result``) and
  ``chatmini_stream_end`` (streams, dropped ones too, from their finaliser): the request's and
  the answer's attributes in one go, usage, status, metrics, span end.

The span is never current while a stream is read: a stream may be read later, in another
thread, or be dropped and finalised by the garbage collector, where a context cannot be detached
safely. Per-call state lives in the call's context, so nothing here needs a lock.
"""

from __future__ import annotations

from time import perf_counter
from typing import TYPE_CHECKING, Any, Generator, Literal, Optional, Union
from urllib.parse import urlsplit

try:
    from opentelemetry import context as otel_context
    from opentelemetry import metrics, propagate, trace
    from opentelemetry.trace import SpanKind, Status, StatusCode
except ImportError:  # pragma: no cover - the extra is part of the test install
    raise ImportError(
        "chatmini.OpenTelemetry needs opentelemetry-api: pip install 'chatmini[otel]'"
    ) from None

from chatmini.errors import InvalidRequestError
from chatmini.hookspecs import hookimpl
from chatmini.objects import APIObject
from chatmini.request import LABELS
from chatmini.sse import arrivals
from chatmini.version import __version__

from . import conventions as sc
from .messages import input_attributes, output_attributes
from .operations import (
    Attributes,
    Operation,
    answer_metric_attributes,
    answer_span_attributes,
    operation_for,
    request_attributes,
    server_of,
)

if TYPE_CHECKING:
    import requests

    from chatmini.client import Client
    from chatmini.errors import ChatminiError
    from chatmini.request import Request
    from chatmini.sse import ServerSentEvent
    from chatmini.streaming import Stream

KEY = "opentelemetry"  # this plugin's record in the call's context
ATTEMPT_EVENT = "chatmini.attempt"
STATUS_LIMIT = 1000  # characters of an error message kept as the span's status description


class _Call:
    """One traced call: its span, the context that carries it, and what its metrics need."""

    __slots__ = ("span", "recording", "context", "carrier", "operation", "openai", "metric",
                 "base", "start", "first_chunk", "last_chunk", "ended")

    def __init__(self, span: trace.Span, operation: Operation, openai: bool,
                 metric: Attributes, base: str) -> None:
        self.span = span
        self.base = base  # the URL the call's server attributes describe
        self.recording = span.is_recording()
        self.carrier: dict[str, str] = {}  # trace-context headers for every attempt
        self.context: Optional[otel_context.Context] = None
        if span.get_span_context().is_valid:  # also when sampled out: downstream must know
            self.context = trace.set_span_in_context(span)
            propagate.inject(self.carrier, context=self.context)
        self.operation = operation
        self.openai = openai
        self.metric = metric  # the attributes every metric of this call carries
        self.start = perf_counter()
        self.first_chunk: Optional[float] = None
        self.last_chunk: Optional[float] = None
        self.ended = False


class OpenTelemetry:
    """Traces and measures GenAI calls after OpenTelemetry's GenAI semantic conventions.

    ``provider_name`` overrides ``gen_ai.provider.name`` (default: ``azure.ai.openai`` for an
    AzureClient or an Azure OpenAI host, else ``openai``); ``capture_content`` records message
    content (default: ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``, off);
    ``tracer_provider`` and ``meter_provider`` default to OpenTelemetry's global ones.
    """

    chatmini_plugin_name = "opentelemetry"

    def __init__(
        self,
        *,
        provider_name: Optional[str] = None,
        capture_content: Optional[bool] = None,
        tracer_provider: Optional[trace.TracerProvider] = None,
        meter_provider: Optional[metrics.MeterProvider] = None,
    ) -> None:
        if provider_name is not None and (type(provider_name) is not str or not provider_name):
            raise InvalidRequestError(
                f"provider_name must be a non-empty string, not {provider_name!r}"
            )
        self.provider_name = provider_name
        self.capture_content = (
            sc.capture_from_env() if capture_content is None else bool(capture_content)
        )
        self._tracer = trace.get_tracer("chatmini", __version__, tracer_provider,
                                        schema_url=sc.SCHEMA_URL)
        meter = metrics.get_meter("chatmini", __version__, meter_provider,
                                  schema_url=sc.SCHEMA_URL)

        def histogram(spec: tuple[str, str, str], buckets: tuple[float, ...]) -> Any:
            name, unit, description = spec
            return meter.create_histogram(name, unit, description,
                                          explicit_bucket_boundaries_advisory=buckets)

        self._servers: dict[tuple[str, type], tuple[str, int, str]] = {}
        self._duration = histogram(sc.DURATION, sc.SECONDS_BUCKETS)
        self._tokens = histogram(sc.TOKEN_USAGE, sc.TOKEN_BUCKETS)
        self._first_chunk = histogram(sc.TIME_TO_FIRST_CHUNK, sc.SECONDS_BUCKETS)
        self._per_chunk = histogram(sc.TIME_PER_OUTPUT_CHUNK, sc.SECONDS_BUCKETS)

    # -- the call starts -------------------------------------------------------------------------

    @hookimpl(tryfirst=True)
    def chatmini_prepare_request(self, request: Request, client: Client) -> None:
        context = request.context
        call: Union[_Call, Literal[False], None] = context.get(KEY)
        if call is None:
            call = context[KEY] = self._start(request, client)
        if call and call.carrier:
            headers = request.headers
            for name, value in call.carrier.items():
                headers.setdefault(name, value)  # a traceparent the caller set stays

    def _start(self, request: Request, client: Client) -> Union[_Call, Literal[False]]:
        """The call's span and record, or False for a call that is not a GenAI operation."""
        operation = operation_for(request.endpoint)
        if operation is None:
            return False
        address, port, provider = self._server(client)
        openai = provider == sc.OPENAI
        metric: Attributes = {sc.OPERATION_NAME: operation.name, sc.PROVIDER_NAME: provider,
                              sc.SERVER_ADDRESS: address, sc.SERVER_PORT: port}
        model = request.model
        name = operation.name
        if type(model) is str and model:
            metric[sc.REQUEST_MODEL] = model
            name = f"{name} {model}"
        # What samplers may look at goes in at creation; the rest when the call ends, in one go.
        span = self._tracer.start_span(name, kind=SpanKind.CLIENT, attributes=metric)
        return _Call(span, operation, openai, metric, client.base_url)

    def _server(self, client: Client) -> tuple[str, int, str]:
        """(address, port, provider) of a Client, worked out once per base URL and kind of
        Client (an AzureClient is Azure OpenAI whatever its host)."""
        key = (client.base_url, type(client))
        known = self._servers.get(key)
        if known is None:
            address, port, azure_host = server_of(client.base_url)
            provider = self.provider_name or (
                sc.AZURE_OPENAI if azure_host or hasattr(client, "azure_deployment")
                else sc.OPENAI)
            if len(self._servers) >= 64:  # many Clients' URLs: keep the memory bounded
                self._servers.clear()
            known = self._servers[key] = (address, port, provider)
        return known

    @hookimpl(wrapper=True, tryfirst=True)
    def chatmini_send(self, request: Request) -> Generator[None, Any, Optional[requests.Response]]:
        call = request.context.get(KEY)
        if call and not request.url.startswith(call.base):
            self._served_by(call, request.url)  # a plugin (Fallback) sent it elsewhere
        if not call or call.context is None:
            response: Optional[requests.Response] = yield
            return response
        token = otel_context.attach(call.context)
        try:
            response = yield
        finally:
            otel_context.detach(token)
        return response

    def _served_by(self, call: _Call, url: str) -> None:
        """The attempt goes to another server than the Client's: the span and the metrics
        say which (``server.*``, and the provider when it is detected)."""
        parts = urlsplit(url)
        call.base = f"{parts.scheme}://{parts.netloc}/"  # later attempts there: nothing to do
        address, port, azure_host = server_of(call.base)
        served: Attributes = {sc.SERVER_ADDRESS: address, sc.SERVER_PORT: port}
        if self.provider_name is None:
            served[sc.PROVIDER_NAME] = sc.AZURE_OPENAI if azure_host else call.metric.get(
                sc.PROVIDER_NAME, sc.OPENAI)
        call.metric = {**call.metric, **served}
        if call.recording:
            call.span.set_attributes(served)

    @hookimpl
    def chatmini_after_attempt(
        self,
        request: Request,
        response: Optional[requests.Response],
        error: Optional[ChatminiError],
    ) -> None:
        call = request.context.get(KEY)
        if not call or not call.recording or (error is None and request.attempt == 1):
            return
        attributes: Attributes = {sc.HTTP_RESEND_COUNT: request.attempt - 1}
        if response is not None:
            attributes[sc.HTTP_STATUS_CODE] = response.status_code
        if error is not None:
            attributes[sc.ERROR_TYPE] = type(error).__name__
        call.span.add_event(ATTEMPT_EVENT, attributes)

    # -- streamed chunks -------------------------------------------------------------------------

    @hookimpl
    def chatmini_stream_reads(
        self, request: Request, reads: list[tuple[float, list[ServerSentEvent]]]
    ) -> None:
        call = request.context.get(KEY)
        if not call:
            return
        metric = call.metric
        per_chunk = self._per_chunk.record
        last = call.last_chunk
        for at, count in arrivals(reads):
            if last is None:
                call.first_chunk = at - call.start
                self._first_chunk.record(call.first_chunk, metric)
            else:
                per_chunk(at - last, metric)
            for _ in range(count - 1):  # chunks of one read arrived together: zero apart
                per_chunk(0.0, metric)
            last = at
        call.last_chunk = last

    # -- the call ends ---------------------------------------------------------------------------

    @hookimpl
    def chatmini_call_end(
        self, request: Request, error: Optional[ChatminiError], result: Any
    ) -> None:
        call = request.context.get(KEY)
        if not call or (error is None and request.stream):
            return  # not traced, or a stream: its end finishes the call
        data = result.to_dict() if isinstance(result, APIObject) else result
        self._finish(call, request, data, error)

    @hookimpl
    def chatmini_stream_end(
        self, request: Request, stream: Stream, error: Optional[ChatminiError]
    ) -> None:
        call = request.context.get(KEY)
        if not call or call.ended:
            return
        final = call.operation.final
        try:
            data = final(stream) if final is not None else {"usage": getattr(stream, "usage", None)}
        except Exception:  # chunks that do not assemble must not keep the span open
            data = None
        self._finish(call, request, data, error)

    def _finish(
        self, call: _Call, request: Request, data: Any, error: Optional[ChatminiError]
    ) -> None:
        """Answer attributes, status and metrics; the span ends whatever happens."""
        call.ended = True
        duration = perf_counter() - call.start
        span = call.span
        try:
            answer, tokens_in, tokens_out = answer_metric_attributes(data, call.openai)
            metric = {**call.metric, **answer} if answer or error is not None else call.metric
            if call.recording:
                span.set_attributes(self._span_attributes(call, request, data, answer))
            if tokens_in is not None:
                self._tokens.record(tokens_in, {**metric, sc.TOKEN_TYPE: sc.INPUT})
            if tokens_out is not None:
                self._tokens.record(tokens_out, {**metric, sc.TOKEN_TYPE: sc.OUTPUT})
            if error is not None:
                error_type = metric[sc.ERROR_TYPE] = type(error).__name__
                span.set_attribute(sc.ERROR_TYPE, error_type)
                span.set_status(Status(StatusCode.ERROR, str(error)[:STATUS_LIMIT]))
            self._duration.record(duration, metric)
        finally:
            span.end()

    def _span_attributes(
        self, call: _Call, request: Request, data: Any, answer: Attributes
    ) -> Attributes:
        """What the span says beyond its creation attributes: the request, then the answer."""
        params = request.params or {}
        attributes = request_attributes(params, call.openai)
        if request.stream:
            attributes[sc.REQUEST_STREAM] = True
        if call.openai and call.operation.api_type:
            attributes[sc.OPENAI_API_TYPE] = call.operation.api_type
        attributes.update(answer)
        attributes.update(answer_span_attributes(data))
        if call.first_chunk is not None:
            attributes[sc.RESPONSE_TIME_TO_FIRST_CHUNK] = call.first_chunk
        if request.attempt > 1:
            attributes[sc.HTTP_RESEND_COUNT] = request.attempt - 1
        for label, value in (request.context.get(LABELS) or {}).items():
            attributes[f"chatmini.{label}"] = str(value)  # upstream=, cache=hit...
        if self.capture_content:
            attributes.update(input_attributes(params))
            attributes.update(output_attributes(data))
        return attributes

    def __repr__(self) -> str:
        provider = self.provider_name or "detected"
        return f"<OpenTelemetry provider={provider} capture_content={self.capture_content}>"
