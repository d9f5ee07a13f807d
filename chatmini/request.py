"""The Request that plugins see and change before each attempt."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Union

from .redaction import Secrets, redact_headers, redact_url, request_secrets
from .timeouts import TimeoutLike

if TYPE_CHECKING:
    from .downloads import SpooledSink
    from .uploads import StreamedBody

TIMING = "timing"  # the context key of a call's timing record (``response.timing`` reads it)
LABELS = "labels"  # the context key of a call's labels: {name: value} that plugins add (which
# endpoint served it, a cache hit) and timing, logs and metrics carry (``Timing.labels``)
EXTRA_REPLAYS = "extra_replays"  # the context key of replays a plugin granted the call beyond
# MAX_REPLAYS (failover across endpoints resends on purpose): an int, raised before "replay"


class Request:
    """One attempt at an API call: method, URL, headers and body bytes, plus call-wide context.

    Every attempt gets a fresh copy of the call's original request (``attempt`` counts from 1;
    ``retries`` counts the retries spent so far), so changes a plugin makes for one attempt do
    not leak into the next; ``body`` is the same bytes object unless
    a plugin replaces it, so retries resend it byte for byte. An upload's ``body`` is a
    ``StreamedBody`` instead (read in pieces, from the start on every attempt); a download's
    2xx body goes to ``sink`` rather than ``response.content``. ``context`` is shared by all
    attempts of one call: plugins keep per-call state there, and callers read it as
    ``response.context``, ``stream.context`` or ``error.request.context``. A timing plugin keeps
    the call's record under ``"timing"`` (``TIMING``), which ``response.timing`` reads; plugins
    label the call under ``"labels"`` (``LABELS``), and may grant it replays (``EXTRA_REPLAYS``).
    ``credential_header`` names the header the credential plugin set on this attempt (what
    ``chatmini_authenticate`` returned): its value is secret, whatever the header is called.
    ``timeout`` is a ``chatmini.Timeout``; ``deadline`` is when the whole call must end
    (``time.monotonic()`` seconds, from ``timeout.total``), or None. ``sink`` receives a
    download's body instead of memory.
    """

    __slots__ = (
        "method", "url", "headers", "body", "params", "endpoint", "stream", "timeout",
        "attempt", "retries", "context", "sink", "credential_header", "deadline",
    )

    def __init__(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: Union[bytes, StreamedBody, None] = None,
        *,
        params: Optional[dict[str, Any]] = None,
        endpoint: str = "",
        stream: bool = False,
        timeout: TimeoutLike = None,
        attempt: int = 1,
        retries: int = 0,
        context: Optional[dict[str, Any]] = None,
        sink: Optional[SpooledSink] = None,
        deadline: Optional[float] = None,
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
        self.sink = sink
        self.credential_header: Optional[str] = None
        self.deadline = deadline

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
        copy.sink, copy.deadline, copy.credential_header = self.sink, self.deadline, None
        return copy

    def secrets(self) -> Secrets:
        """The secrets this request carries (credential headers, query parameters), to keep
        out of anything shown: messages, error bodies, logs."""
        return request_secrets(self.headers, self.url, self.credential_header)

    def __repr__(self) -> str:
        return (
            f"<Request {self.method} {redact_url(self.url)} attempt={self.attempt} "
            f"headers={redact_headers(self.headers, self.credential_header)!r}>"
        )
