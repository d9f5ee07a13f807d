"""The Request that plugins see and change before each attempt."""

from __future__ import annotations

from typing import Any, Optional

from .redaction import redact_headers, redact_url
from .timeouts import Timeout

TIMING = "timing"  # the context key of a call's timing record (``response.timing`` reads it)


class Request:
    """One attempt at an API call: method, URL, headers and body bytes, plus call-wide context.

    Every attempt gets a fresh copy of the call's original request (``attempt`` counts from 1;
    ``retries`` counts the retries spent so far), so changes a plugin makes for one attempt do
    not leak into the next; ``body`` is the same bytes object unless
    a plugin replaces it, so retries resend it byte for byte. ``context`` is shared by all
    attempts of one call: plugins keep per-call state there, and callers read it as
    ``response.context``, ``stream.context`` or ``error.request.context``. A timing plugin keeps
    the call's record under ``"timing"`` (``TIMING``), which ``response.timing`` reads.
    """

    __slots__ = (
        "method", "url", "headers", "body", "params", "endpoint", "stream", "timeout",
        "attempt", "retries", "context",
    )

    def __init__(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: Optional[bytes] = None,
        *,
        params: Optional[dict[str, Any]] = None,
        endpoint: str = "",
        stream: bool = False,
        timeout: Timeout = None,
        attempt: int = 1,
        retries: int = 0,
        context: Optional[dict[str, Any]] = None,
    ) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.params = params
        self.endpoint = endpoint
        self.stream = stream
        self.timeout = timeout
        self.attempt = attempt
        self.retries = retries
        self.context = {} if context is None else context

    @property
    def model(self) -> Optional[str]:
        """The ``model`` named in the JSON body, if any."""
        params = self.params
        return params.get("model") if params else None

    def for_attempt(self, attempt: int, retries: int) -> Request:
        """A copy of this (the call's original) request for one attempt, headers copied."""
        copy = Request.__new__(Request)  # every slot set here: cheaper than __init__'s keywords
        copy.method, copy.url, copy.headers, copy.body = (
            self.method, self.url, dict(self.headers), self.body
        )
        copy.params, copy.endpoint, copy.stream, copy.timeout = (
            self.params, self.endpoint, self.stream, self.timeout
        )
        copy.attempt, copy.retries, copy.context = attempt, retries, self.context
        return copy

    def __repr__(self) -> str:
        return (
            f"<Request {self.method} {redact_url(self.url)} attempt={self.attempt} "
            f"headers={redact_headers(self.headers)!r}>"
        )
