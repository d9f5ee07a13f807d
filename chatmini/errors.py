"""The exception hierarchy: openai-python's class names, so ``except`` clauses port unchanged."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    import requests

    from .request import Request

from .redaction import NO_SECRETS, Secrets

EXCERPT_LENGTH = 200


class ChatminiError(Exception):
    """Base class of every exception a public chatmini call raises."""


class CallInterrupted(ChatminiError):
    """What plugins see as a call's error when the call ended by an exception that is not
    chatmini's (Ctrl-C, a bug in a plugin): its ``cause`` is that exception, which the caller
    gets unchanged. Never raised to the caller."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"the call was interrupted by {type(cause).__name__}")
        self.cause = cause


class InsecureTransportWarning(UserWarning):
    """A secret (API key, client secret) is about to travel in clear text to another machine."""


class InvalidRequestError(ChatminiError, ValueError):
    """A call or setting rejected before anything was sent (bad argument, unserialisable body)."""


class APIError(ChatminiError):
    """A failure talking to the API; ``request`` is the chatmini Request when one was made.

    ``body`` is the error object of an ``{"error": {...}}`` answer (as in openai-python, so
    ``e.body["message"]`` works), else the whole parsed answer; ``full_body`` is always the
    whole parsed answer (JSON, else its text).
    The secrets that request carried are scrubbed from the message and the body here, whatever
    built them (the builders below scrub bodies before cutting excerpts from them too).
    """

    def __init__(
        self,
        message: str,
        *,
        request: Optional[Request] = None,
        body: Any = None,
        code: Optional[str] = None,
        param: Optional[str] = None,
        type: Optional[str] = None,
    ) -> None:
        secrets = secrets_of(request)
        message = secrets.scrub(message)
        body = secrets.scrub_body(body)
        super().__init__(message)
        self.message = message
        self.request = request
        self.full_body = body
        error = body.get("error") if isinstance(body, dict) else None
        self.body = error if isinstance(error, dict) else body
        self.code = code
        self.param = param
        self.type = type


class APIStatusError(APIError):
    """The server answered with a non-success HTTP status."""

    status_code: int = 0

    def __init__(
        self,
        message: str,
        *,
        response: Optional[requests.Response],
        body: Any = None,
        request: Optional[Request] = None,
        status_code: Optional[int] = None,
    ) -> None:
        error = body.get("error") if isinstance(body, dict) else None
        fields = error if isinstance(error, dict) else {}
        super().__init__(
            message,
            request=request,
            body=body,
            code=_text_or_none(fields.get("code")),
            param=_text_or_none(fields.get("param")),
            type=_text_or_none(fields.get("type")),
        )
        self.response = response
        self.status_code = status_code or (response.status_code if response is not None else 0)
        self.request_id: Optional[str] = (
            response.headers.get("x-request-id") if response is not None else None
        )


class BadRequestError(APIStatusError):
    """HTTP 400."""


class AuthenticationError(APIStatusError):
    """HTTP 401: the credential was missing, wrong or expired."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403."""


class NotFoundError(APIStatusError):
    """HTTP 404: unknown path or model."""


class ConflictError(APIStatusError):
    """HTTP 409."""


class UnprocessableEntityError(APIStatusError):
    """HTTP 422."""


class RateLimitError(APIStatusError):
    """HTTP 429: a rate limit or quota was hit."""


class InternalServerError(APIStatusError):
    """HTTP 5xx."""


class APIConnectionError(APIError):
    """The request never got a complete answer: refused, reset, DNS, TLS, or a broken stream."""

    def __init__(self, message: str = "Connection error.", *, request: Optional[Request] = None):
        super().__init__(message, request=request)


class APITimeoutError(APIConnectionError):
    """A connect, read or total timeout expired; the message says which."""

    def __init__(self, message: str = "Request timed out.", *, request: Optional[Request] = None):
        super().__init__(message, request=request)


class IncompleteStreamError(APIConnectionError):
    """A streamed reply ended before ``[DONE]``; carries what had arrived."""

    def __init__(
        self,
        message: str,
        *,
        request: Optional[Request] = None,
        partial_text: str = "",
        chunk_count: int = 0,
    ) -> None:
        super().__init__(message, request=request)
        self.partial_text = partial_text
        self.chunk_count = chunk_count


class APIResponseValidationError(APIError):
    """A success status whose body is not the JSON expected (e.g. a proxy's HTML page)."""

    def __init__(
        self,
        message: str,
        *,
        response: requests.Response,
        body: Any = None,
        request: Optional[Request] = None,
    ) -> None:
        super().__init__(message, request=request, body=body)
        self.response = response
        self.status_code = response.status_code


STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status: int) -> type[APIStatusError]:
    """The APIStatusError subclass for an HTTP status."""
    if status >= 500:
        return InternalServerError
    return STATUS_ERRORS.get(status, APIStatusError)


def decode_error_body(content: bytes, secrets: Secrets = NO_SECRETS) -> Any:
    """Parse an error body as JSON when it is JSON, else return the text (never raises).

    ``secrets`` are replaced before any message is made from it: servers echo keys back.
    """
    text = content.decode("utf-8", "replace")
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):  # deeply nested JSON overflows the parser's stack
        body = text
    return secrets.scrub_body(body)


def error_message(body: Any, status: int) -> str:
    """A readable message from an error body: ``error.message``, FastAPI's ``detail``, or text."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str) and error:
            return error
        if body.get("detail"):
            return _detail_text(body["detail"])
        if body.get("message"):
            return str(body["message"])
    if isinstance(body, str) and body.strip():
        return excerpt(body)
    return f"HTTP {status} with no error message"


def status_error(response: requests.Response, request: Optional[Request] = None) -> APIStatusError:
    """Build the right APIStatusError subclass from a non-success response (body read here)."""
    try:
        content = response.content
    except Exception:  # a body cut mid-read still deserves its status error
        content = b""
    body = decode_error_body(content or b"", secrets_of(request))
    status = response.status_code
    message = f"Error code: {status} - {error_message(body, status)}"
    return status_error_class(status)(message, response=response, body=body, request=request)


def stream_error(payload: Any, request: Optional[Request] = None) -> APIError:
    """The chatmini error for an error event inside a stream (no HTTP status is left to use)."""
    payload = secrets_of(request).scrub_body(payload)
    error = payload.get("error") if isinstance(payload, dict) else None
    fields = error if isinstance(error, dict) else {}
    message = error_message(payload, 200)
    code = _text_or_none(fields.get("code")) or ""
    kind = _text_or_none(fields.get("type")) or ""
    status = None
    if "rate_limit" in code or "rate_limit" in kind or code == "429":
        status = 429
    elif "server" in kind or "server_error" in code or code.startswith("5"):
        status = 500
    if status is None:
        return APIError(
            message, request=request, body=payload, code=code or None, type=kind or None
        )
    return status_error_class(status)(
        message, response=None, body=payload, request=request, status_code=status
    )


def secrets_of(request: Optional[Request]) -> Secrets:
    """The secrets ``request`` carries (none without a request)."""
    secrets = getattr(request, "secrets", None)
    return secrets() if secrets is not None else NO_SECRETS


def safe_excerpt(text: str, request: Optional[Request]) -> str:
    """An excerpt of ``text`` for a message, credentials replaced before it is cut."""
    return excerpt(secrets_of(request).scrub(text))


def excerpt(text: str, limit: int = EXCERPT_LENGTH) -> str:
    """A single-line, bounded excerpt of a body, for messages. Only the words it can show are
    split off (a many-megabyte body of short words would otherwise become a string each)."""
    flat = " ".join(text.split(None, limit // 2 + 1))  # enough words to pass the limit
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _detail_text(detail: Any) -> str:
    if isinstance(detail, list):  # FastAPI validation errors: [{"loc", "msg", "type"}]
        parts = [str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail]
        return excerpt("; ".join(parts))
    return excerpt(str(detail))


def _text_or_none(value: Any) -> Optional[str]:
    return None if value is None else str(value)
