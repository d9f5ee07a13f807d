"""The send loop: every attempt of one call, through the hooks, driven by the retry policy.

urllib3 would retry statuses invisibly inside ``urlopen``; here each attempt is a fresh copy
of the request that passes ``chatmini_prepare_request``, ``chatmini_authenticate`` and
``chatmini_send`` (unless ``chatmini_local_response`` answers it first, e.g. a cache), so
auth can put a new credential on it and timing can count it. The loop
itself is ``retry.drive`` (shared with the OAuth2 token endpoint); this module supplies the
attempt and asks ``chatmini_retry_decision`` about each failure.
"""

from __future__ import annotations

import logging
from time import monotonic
from typing import TYPE_CHECKING, Callable, Optional, TypeVar

from .credentials import credential_problem
from .errors import (
    APIStatusError,
    AuthenticationError,
    CallInterrupted,
    ChatminiError,
    status_error,
)
from .hookspecs import RETRY_DECISIONS
from .redaction import scrub_exception_chain
from .request import EXTRA_REPLAYS
from .retry import MAX_REPLAYS, AttemptFailed, RetryPolicy, drive

if TYPE_CHECKING:
    import requests

    from .client import Client
    from .request import Request

__all__ = ["MAX_REPLAYS", "send_call"]

T = TypeVar("T")
Decode = Callable[["requests.Response", "Request"], T]
logger = logging.getLogger("chatmini")


class _Call:
    """One call's attempts: the latest attempt's request and response, for ``call_end``."""

    def __init__(self, client: Client, call: Request) -> None:
        self.client = client
        self.call = call
        self.request = call
        self.response: Optional[requests.Response] = None

    def attempt(self, number: int, retries: int) -> requests.Response:
        """One attempt through the hooks: its 2xx response, or AttemptFailed."""
        client = self.client
        host = client.plugin_host
        request = self.request = self.call.for_attempt(number, retries)
        response = self.response = None
        error: Optional[ChatminiError] = None
        try:
            host.prepare_request(request, client)
            request.credential_header = header = host.authenticate(request, client)
            if header is not None:
                check_credential_header(request, header)
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("sending %r", request)  # the Request repr redacts credentials
            response = None
            if host.wants_local_response():  # a cache: no send, no send wrappers
                response = host.local_response(request, client)
            if response is None:
                response = host.send(request, client)
            if response is None:
                raise ChatminiError("No plugin sent the request: is 'transport' blocked?")
            if response.status_code >= 300:
                error = status_error(response, request)
        except ChatminiError as exc:
            error = exc
            if response is None and isinstance(exc, APIStatusError):
                response = exc.response  # a send wrapper's own verdict on the answer it got
        self.response = response
        host.after_attempt(request, response, error, client)
        if error is not None:
            raise AttemptFailed(error, response)
        return response  # type: ignore[return-value]  # set whenever error is None

    def decide(self, error: ChatminiError, response: Optional[requests.Response]) -> Optional[str]:
        """The plugins' verdict on a failed attempt; an unknown verdict is a plugin bug."""
        decision = self.client.plugin_host.retry_decision(
            self.request, response, error, self.client
        )
        if decision not in RETRY_DECISIONS:
            raise ChatminiError(
                f"chatmini_retry_decision returned {decision!r}; expected one of "
                f"{', '.join(map(repr, RETRY_DECISIONS))}"
            ) from error
        if decision == "replay":
            logger.debug("replaying %s", self.request.endpoint)
        return decision

    def replay_limit(self) -> int:
        """Replays this call may make: MAX_REPLAYS, plus what plugins granted it."""
        return MAX_REPLAYS + int(self.call.context.get(EXTRA_REPLAYS, 0))

    def retrying(self, error: ChatminiError, policy: RetryPolicy) -> None:
        request = self.request
        logger.debug(  # the call's one INFO record (plugin "logging") counts the retries
            "retrying %s %s after %s (retry %d)",
            request.method, request.endpoint, _describe(error), len(policy.history),
        )


def send_call(client: Client, call: Request, decode: Decode[T]) -> T:
    """Run one call to completion and return ``decode(response, attempt)`` for its 2xx answer.

    Decoding happens before ``chatmini_call_end``, so a 2xx body that is not what was expected
    reaches plugins as the call's error, and a decoded answer reaches them as its ``result``.
    """
    host = client.plugin_host
    run = _Call(client, call)
    total = getattr(call.timeout, "total", None)
    if total is not None and call.deadline is None:
        call.deadline = monotonic() + total  # across attempts, waits, headers and body
    try:
        response = drive(
            client.retry, call.method, call.url, run.attempt,
            decide=run.decide, on_retry=run.retrying, max_replays=run.replay_limit,
            deadline=call.deadline,
        )
    except ChatminiError as exc:
        scrub_exception_chain(exc, run.request.secrets())  # requests' messages repeat the URL
        host.call_end(run.request, run.response, exc, client)
        raise
    except BaseException as exc:  # Ctrl-C or a plugin's bug: plugins still see the call end
        host.call_end(run.request, run.response, CallInterrupted(exc), client)
        raise
    try:
        result = decode(response, run.request)
    except ChatminiError as exc:
        host.call_end(run.request, response, exc, client)
        raise
    except BaseException as exc:
        host.call_end(run.request, response, CallInterrupted(exc), client)
        raise
    host.call_end(run.request, response, None, client, result)
    return result


def check_credential_header(request: Request, header: str) -> None:
    """The credential a plugin (or the caller) put in ``header`` must be sendable: else an
    AuthenticationError naming the header and the problem, never the value."""
    headers = request.headers
    value = headers.get(header)
    if value is None:  # the caller may have spelled it in another case
        wanted = header.lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), None)
    if value is None:
        return  # the plugin set nothing after all: there is nothing to send
    problem = credential_problem(value, spaces=True) if isinstance(value, str) else (
        f"is a {type(value).__name__}, not text"
    )
    if problem is not None:
        raise AuthenticationError(
            f"The credential in the {header} header {problem}; nothing was sent",
            response=None, request=request,
        )


def _describe(error: ChatminiError) -> str:
    status = getattr(error, "status_code", None)
    return f"HTTP {status}" if status else type(error).__name__
