"""A stored answer back into a ``requests.Response``, and a stream's events into bytes.

A stream's response is built over a real ``urllib3.HTTPResponse`` reading the stored bytes
from memory, so a replayed stream goes through chatmini's one stream core (``read1``,
``drain_conn``) exactly as one from the network, event by event; any other body is set as
``response.content``, as the transport leaves a body it read. ``Age`` says how old the answer
is, as HTTP caches say.
"""

from __future__ import annotations

import io
from datetime import timedelta
from http import HTTPStatus
from typing import TYPE_CHECKING, Iterable, Mapping

import requests
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3 import HTTPHeaderDict, HTTPResponse

from .store import Entry

if TYPE_CHECKING:
    from chatmini.request import Request
    from chatmini.sse import ServerSentEvent

NOT_STORED = frozenset({  # hop-by-hop, per-connection or per-client: not part of the answer
    "age", "connection", "content-encoding", "content-length", "keep-alive", "set-cookie",
    "transfer-encoding",
})


def kept_headers(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    """The headers stored with an answer (its body is stored decoded: no Content-Encoding)."""
    return [(name, value) for name, value in headers.items() if name.lower() not in NOT_STORED]


def response_from(entry: Entry, request: Request, age: float) -> requests.Response:
    """A Response carrying a stored answer, readable like one from the network: a stream's
    body through ``response.raw``, any other as ``response.content`` (then ``raw`` is None, as
    for a response read to its end)."""
    headers = dict(entry.headers)
    headers["Age"] = str(max(int(age), 0))
    response = requests.Response()
    response.status_code = entry.status
    response.headers = CaseInsensitiveDict(headers)
    response.url = request.url
    response.reason = _reason(entry.status)
    response.encoding = get_encoding_from_headers(response.headers)
    response.elapsed = timedelta(0)
    if entry.stream:
        response.raw = HTTPResponse(
            body=io.BytesIO(entry.body), headers=HTTPHeaderDict(headers), status=entry.status,
            reason=response.reason, preload_content=False, decode_content=False,
            request_method=request.method, request_url=request.url,
        )
    else:
        response._content = entry.body
        response._content_consumed = True
    return response


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def event_bytes(events: Iterable[ServerSentEvent]) -> bytes:
    """Events as ``text/event-stream`` bytes that parse back into the same events."""
    out = []
    for event in events:
        lines = [] if event.event == "message" else [f"event: {event.event}"]
        if event.id is not None:
            lines.append(f"id: {event.id}")
        if event.retry is not None:
            lines.append(f"retry: {event.retry}")
        lines.extend(f"data: {line}" for line in event.data.split("\n"))
        out.append("\n".join(lines) + "\n\n")
    return "".join(out).encode()
