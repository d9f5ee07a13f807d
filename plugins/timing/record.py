"""Where a call's time went: the Timing record the ``timing`` plugin fills per call.

A Timing lives in the call's context under ``"timing"`` (shared by all attempts of one call)
and is read as ``response.timing``, ``stream.timing`` or ``error.request.context["timing"]``.
All durations are seconds from ``time.perf_counter()``; a value is None when it does not apply.
"""

from __future__ import annotations

import re
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Mapping, Optional

_ID_LIKE = re.compile(r"[0-9]")
NO_LABELS: Mapping[str, str] = MappingProxyType({})


class AttemptTiming:
    """One attempt: when it started (``offset`` from the call's start), its network time to
    response headers, its whole time (preparation, send, body unless streamed) and outcome."""

    __slots__ = ("number", "offset", "headers", "total", "status", "error")

    def __init__(
        self,
        number: int,
        offset: float,
        headers: Optional[float],
        total: float,
        status: Optional[int],
        error: Optional[str],
    ) -> None:
        self.number = number
        self.offset = offset
        self.headers = headers
        self.total = total
        self.status = status
        self.error = error

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __repr__(self) -> str:
        outcome = self.status if self.status is not None else self.error
        return f"<AttemptTiming #{self.number} {outcome} {self.total * 1000:.1f} ms>"


class Timing:
    """Timings of one call (every attempt) and, for streams, of its events.

    ``duration`` runs from the first attempt's preparation to the end of the call (to the end
    of the stream for streams); ``time_to_headers``, ``ttft`` (the first chunk: any token,
    reasoning included) and ``time_to_first_content`` (the first piece of the answer, after
    any reasoning) are measured from the same start. ``tokens`` is ``completion_tokens`` from
    usage (reasoning tokens included), else the chunk count.
    ``labels`` are what plugins labelled the call with (``request.context["labels"]``: which
    endpoint served it, a cache hit), which logs and metrics carry.
    """

    # Class-level defaults: a new Timing sets only what it knows, which keeps it cheap.
    status: Optional[int] = None
    error: Optional[str] = None
    request_id: Optional[str] = None
    retries = 0
    duration: Optional[float] = None
    time_to_headers: Optional[float] = None
    ttft: Optional[float] = None
    time_to_first_content: Optional[float] = None
    events = 0
    stream_time: Optional[float] = None
    completed: Optional[bool] = None
    prompt_tokens: Optional[int] = None
    completion_tokens: Optional[int] = None
    tokens: Optional[int] = None
    tokens_per_second: Optional[float] = None
    labels: Mapping[str, str] = NO_LABELS
    finished = False
    _max_gap = 0.0
    _gap_total = 0.0
    _first_event: Optional[float] = None
    _last_event: Optional[float] = None
    _headers_at: Optional[float] = None
    _attempt_start = 0.0

    def __init__(
        self, method: str, endpoint: str, model: Optional[str], stream: bool, start: float
    ) -> None:
        self.method = method
        self.endpoint = endpoint
        self.model = model
        self.stream = stream
        self.start = start
        self.attempts: list[AttemptTiming] = []

    @property
    def route(self) -> str:
        """The endpoint with id-like segments folded (``/models/{id}``): a label of few values."""
        return route(self.endpoint)

    @property
    def max_gap(self) -> Optional[float]:
        """The longest silence between two consecutive stream events (None below two events)."""
        return self._max_gap if self.events > 1 else None

    @property
    def mean_gap(self) -> Optional[float]:
        """The mean time between consecutive stream events (None below two events); events
        that arrived in one network read count as zero apart."""
        return self._gap_total / (self.events - 1) if self.events > 1 else None

    def to_dict(self) -> dict[str, Any]:
        """Every public field as plain data (for JSON logs and exporters)."""
        names = (
            "method", "endpoint", "route", "model", "stream", "status", "error", "request_id",
            "retries", "duration", "time_to_headers", "ttft", "time_to_first_content", "events",
            "max_gap", "mean_gap",
            "stream_time", "completed", "prompt_tokens", "completion_tokens", "tokens",
            "tokens_per_second",
        )
        data = {name: getattr(self, name) for name in names}
        data["labels"] = dict(self.labels)
        data["attempts"] = [a.to_dict() for a in self.attempts]
        return data

    def __repr__(self) -> str:
        outcome = self.status if self.error is None else self.error
        took = "running" if self.duration is None else f"{self.duration * 1000:.1f} ms"
        count = len(self.attempts)
        return (
            f"<Timing {self.method} {self.endpoint} {outcome} {took}, "
            f"{count} attempt{'s' if count != 1 else ''}>"
        )


@lru_cache(maxsize=512)
def route(endpoint: str) -> str:
    """``endpoint`` without its query and with id-like segments after the first as ``{id}``."""
    parts = endpoint.split("?", 1)[0].split("/")
    return "/".join(
        "{id}" if i > 1 and _ID_LIKE.search(part) else part for i, part in enumerate(parts)
    )
