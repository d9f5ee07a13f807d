"""The built-in ``timing`` plugin: a Timing for every call, fed to Stats and ``chatmini_timing``.

It uses only public seams: it declares its own hook (``chatmini_addhooks``), keeps each call's
Timing in the call's context under ``"timing"`` (which ``response.timing`` and
``stream.timing`` read), and answers ``client.stats()`` through ``chatmini_stats``.

Each attempt is timed from its preparation to ``chatmini_after_attempt`` (the time to response
headers is ``response.elapsed``, taken by the transport around the network send); the call's
clock starts at the first attempt's preparation and stops at ``chatmini_call_end``, or for
streams at ``chatmini_stream_end``,
with the first event and the gaps between events from the arrival times the stream core notes
(one ``perf_counter()`` a network read; events of one read arrived together), handed over in
batches through ``chatmini_stream_reads``: no hook call per read or per event. A stream whose
first events carry no output (Responses: ``response.created``) tells when its first output
delta came (``stream.first_output_at``), and that is its time to first token; every stream
tells when the first piece of its answer came, after any reasoning
(``stream.first_content_at``), read once at the end: the time to first content.
"""

from __future__ import annotations

from time import perf_counter
from typing import TYPE_CHECKING, Any, Iterable, Optional

from chatmini.hookcall import HookCall
from chatmini.hookspecs import hookimpl
from chatmini.request import LABELS, TIMING
from chatmini.sse import arrivals
from chatmini.stats import DEFAULT_WINDOW, Observer, Stats, StatsReport
from chatmini.usage import token_counts, usage_from_body

from . import hookspecs
from .record import AttemptTiming, Timing

if TYPE_CHECKING:
    import pluggy
    import requests

    from chatmini.client import Client
    from chatmini.errors import ChatminiError
    from chatmini.request import Request
    from chatmini.sse import ServerSentEvent
    from chatmini.streaming import EventStream


class TimingPlugin:
    """Times every call of one Client; ``stats`` is its rolling summary (``client.stats()``)."""

    chatmini_plugin_name = "timing"

    def __init__(self, rules: Iterable[Observer] = (), window: int = DEFAULT_WINDOW) -> None:
        self.stats = Stats(window, rules)
        self._hook: Optional[HookCall] = None  # chatmini_timing, of the Client last seen

    @hookimpl
    def chatmini_addhooks(self, pluginmanager: pluggy.PluginManager) -> None:
        hookspecs.declare(pluginmanager)

    @hookimpl
    def chatmini_stats(self) -> StatsReport:
        return self.stats.report()

    @hookimpl(tryfirst=True)
    def chatmini_prepare_request(self, request: Request) -> None:
        now = perf_counter()
        context = request.context
        timing = context.get(TIMING)
        if timing is None:
            timing = context[TIMING] = Timing(
                request.method, request.endpoint, request.model, request.stream, now
            )
        timing._attempt_start = now

    @hookimpl
    def chatmini_after_attempt(
        self,
        request: Request,
        response: Optional[requests.Response],
        error: Optional[ChatminiError],
    ) -> None:
        timing = request.context.get(TIMING)
        if timing is None:
            return
        start = timing._attempt_start
        total = perf_counter() - start
        failure = None if error is None else type(error).__name__
        if response is None:
            timing._headers_at = None
            timing.attempts.append(AttemptTiming(
                request.attempt, start - timing.start, None, total, None, failure
            ))
            return
        headers = response.elapsed.total_seconds() or total  # 0 for a plugin-made response
        timing.attempts.append(AttemptTiming(
            request.attempt, start - timing.start, headers, total, response.status_code, failure
        ))
        timing._headers_at = start + headers

    @hookimpl
    def chatmini_call_end(
        self,
        request: Request,
        response: Optional[requests.Response],
        error: Optional[ChatminiError],
        client: Client,
    ) -> None:
        timing = request.context.get(TIMING)
        if timing is None:
            return
        now = perf_counter()
        timing.retries = request.retries
        if timing._headers_at is not None:
            timing.time_to_headers = timing._headers_at - timing.start
        if response is not None:
            timing.status = response.status_code
            timing.request_id = response.headers.get("x-request-id")
        if error is not None:
            timing.error = type(error).__name__
        elif request.stream:
            return  # the stream's end finishes this Timing
        elif response is not None:
            _take_body_usage(timing, response)
        timing.duration = now - timing.start
        self._finish(request, timing, client)

    @hookimpl
    def chatmini_stream_reads(
        self, request: Request, reads: list[tuple[float, list[ServerSentEvent]]]
    ) -> None:
        timing = request.context.get(TIMING)
        if timing is None:
            return
        last = timing._last_event
        for at, count in arrivals(reads):
            if last is None:
                timing._first_event = at
                timing.ttft = at - timing.start
            else:
                gap = at - last
                timing._gap_total += gap
                if gap > timing._max_gap:
                    timing._max_gap = gap
            last = at
            timing.events += count
        timing._last_event = last

    @hookimpl
    def chatmini_stream_end(
        self, request: Request, stream: EventStream[Any], error: Optional[ChatminiError],
        client: Client,
    ) -> None:
        timing = request.context.get(TIMING)
        if timing is None or timing.finished:
            return
        now = perf_counter()
        timing.duration = now - timing.start
        if timing._headers_at is not None:
            timing.stream_time = now - timing._headers_at
        timing.completed = stream.completed
        if error is not None:
            timing.error = type(error).__name__
        if stream.usage is not None:
            timing.prompt_tokens, timing.completion_tokens = token_counts(stream.usage)
        tokens = timing.completion_tokens
        timing.tokens = tokens if tokens is not None else stream.chunk_count
        output_at = stream.first_output_at  # Responses: the first delta, not response.created
        if output_at is not None:
            timing._first_event = output_at
            timing.ttft = output_at - timing.start
        content_at = stream.first_content_at  # after the reasoning, if any
        if content_at is not None:
            timing.time_to_first_content = content_at - timing.start
        first = timing._first_event
        if first is not None and now > first:
            timing.tokens_per_second = timing.tokens / (now - first)
        self._finish(request, timing, client)

    def _finish(self, request: Request, timing: Timing, client: Client) -> None:
        timing.finished = True
        labels = request.context.get(LABELS)
        if labels:
            timing.labels = labels
        self.stats.record(timing)
        hook = self._hook
        pm = client.plugin_manager
        if hook is None or hook.pm is not pm:  # made once per Client
            hook = self._hook = HookCall(pm, pm.hook.chatmini_timing)
        if hook.wanted():
            hook(request, timing, client)

    def __repr__(self) -> str:
        return f"<TimingPlugin rules={len(self.stats.rules)} window={self.stats.window}>"


def _take_body_usage(timing: Timing, response: requests.Response) -> None:
    try:
        body = response.content
    except Exception:  # a plugin-made response may have nothing to read: no usage then
        return
    if body:
        timing.prompt_tokens, timing.completion_tokens = usage_from_body(body)
        timing.tokens = timing.completion_tokens

