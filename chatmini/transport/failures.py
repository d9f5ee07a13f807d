"""requests/urllib3 failures as chatmini errors whose messages name the cause, never a secret."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import requests

from ..errors import APIConnectionError, APITimeoutError
from ..redaction import redact_url
from ..timeouts import deadline_reason, total_passed

if TYPE_CHECKING:
    from ..request import Request


def translate_exception(exc: BaseException, request: Optional[Request]) -> APIConnectionError:
    """The chatmini error for a requests/urllib3 failure, with a message that names the cause."""
    target = f"{request.method} {redact_url(request.url)}" if request is not None else (
        "the request"
    )
    if isinstance(exc, requests.exceptions.Timeout) or _is_timeout(exc):
        reason = total_passed(request.timeout, request.deadline) if request is not None else None
        reason = reason or deadline_reason(exc)  # the headers or the body as a whole
        if reason is None:
            kind = "connect" if isinstance(exc, requests.exceptions.ConnectTimeout) else "read"
            reason = f"{kind} timeout"
        return APITimeoutError(f"Request timed out ({reason}) on {target}.", request=request)
    if isinstance(exc, requests.exceptions.SSLError):
        if "CERTIFICATE_VERIFY" in str(exc):
            return APIConnectionError(
                f"TLS certificate verification failed for {target}: {_reason(exc)} (a private "
                "CA? pass Client(verify='ca.pem') or set REQUESTS_CA_BUNDLE or SSL_CERT_FILE)",
                request=request,
            )
        return APIConnectionError(f"TLS handshake failed for {target}: {_reason(exc)}",
                                  request=request)
    if isinstance(exc, requests.exceptions.ProxyError):
        return APIConnectionError(f"Proxy error on {target}: {_reason(exc)}", request=request)
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        message = f"Response body cut off on {target}: {_reason(exc)}"
    elif isinstance(exc, requests.exceptions.ContentDecodingError):
        message = f"Response body could not be decoded on {target}."
    elif isinstance(exc, requests.exceptions.InvalidURL):
        message = f"Invalid URL in {target}."
    else:
        message = f"Connection error on {target}: {_reason(exc)}"
    return APIConnectionError(message, request=request)


def _is_timeout(exc: BaseException) -> bool:
    return "timed out" in str(exc).lower() and "read" in str(exc).lower()


def _reason(exc: BaseException) -> str:
    """The innermost cause's text, shortened: urllib3's wrapper messages repeat the URL."""
    inner: BaseException = exc
    while True:
        nxt = getattr(inner, "reason", None) or inner.__cause__ or inner.__context__
        if not isinstance(nxt, BaseException) or nxt is inner:
            break
        inner = nxt
    text = str(inner) or type(inner).__name__
    return text if len(text) <= 200 else text[:197] + "..."
