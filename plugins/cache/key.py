"""What a cached answer is filed under: the normalised request, in a partition per credential.

The request part is the method, the URL (scheme, host, path and query, without credential
parameters such as ``api-key=``), the headers that can change an answer (not credentials, not
tracing or transport headers) and the JSON body with its keys sorted, so the same question
asked with its keys in another order finds the same answer. The partition part is an HMAC of
the credential the attempt carries (its credential headers and query parameters), keyed with
the store's salt: one tenant never reads another's answers, and no credential is ever stored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Callable, Optional
from urllib.parse import parse_qsl, urlsplit

from chatmini.redaction import SECRET_HEADERS, secret_param

if TYPE_CHECKING:
    from chatmini.request import Request

HEADER = "x-chatmini-cache"  # the per-call switch: never sent, never part of the key
TRANSPORT_HEADERS = frozenset({
    "accept-encoding", "connection", "content-encoding", "content-length", "user-agent",
})
TRACING_HEADERS = frozenset({
    "b3", "baggage", "request-id", "sentry-trace", "traceparent", "tracestate",
    "x-amzn-trace-id", "x-b3-flags", "x-b3-parentspanid", "x-b3-sampled", "x-b3-spanid",
    "x-b3-traceid", "x-client-request-id", "x-cloud-trace-context", "x-correlation-id",
    "x-datadog-origin", "x-datadog-parent-id", "x-datadog-sampling-priority",
    "x-datadog-trace-id", "x-request-id",
})
NOT_IN_KEY = SECRET_HEADERS | TRANSPORT_HEADERS | TRACING_HEADERS | {HEADER}
Partition = Callable[["Request"], str]


def request_digest(request: Request) -> bytes:
    """The normalised request, hashed (credentials and tracing left out)."""
    url = urlsplit(request.url)
    query = sorted((name, value) for name, value in parse_qsl(url.query, keep_blank_values=True)
                   if not secret_param(name)) if url.query else []
    headers = sorted((name.lower(), value) for name, value in request.headers.items()
                     if name.lower() not in NOT_IN_KEY)
    host = (url.netloc.rsplit("@", 1)[-1]).lower()
    body = request.params
    raw = request.body if body is None and isinstance(request.body, bytes) else b""
    head = [request.method, url.scheme, host, url.path, query, headers, body]
    text = json.dumps(head, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode() + b"\n" + raw).digest()


def credential(request: Request) -> bytes:
    """Every credential the attempt carries (headers and query parameters), as bytes."""
    found = sorted(f"{name.lower()}\0{value}" for name, value in request.headers.items()
                   if name.lower() in SECRET_HEADERS)
    query = urlsplit(request.url).query if "?" in request.url else ""
    if query:
        found += sorted(f"?{name.lower()}\0{value}" for name, value in parse_qsl(query)
                        if secret_param(name))
    return "\n".join(found).encode()


def entry_key(digest: bytes, request: Request, salt: bytes,
              partition: Optional[Partition] = None) -> str:
    """The key of an answer: the attempt's credential's partition (or ``partition(request)``,
    HMAC'd with ``salt``) and the request's ``digest``."""
    who = partition(request).encode() if partition is not None else credential(request)
    tenant = hmac.new(salt, who, hashlib.sha256).digest()
    return hashlib.sha256(tenant + digest).hexdigest()


def deterministic(request: Request) -> bool:
    """The default rule for what is cached: requests asking for the same answer every time
    (``temperature`` 0, or a ``seed``); other answers are meant to vary."""
    params = request.params
    if not params:
        return False
    temperature = params.get("temperature")
    return params.get("seed") is not None or (
        isinstance(temperature, (int, float)) and not isinstance(temperature, bool)
        and temperature == 0
    )
