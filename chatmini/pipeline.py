"""The send loop: every attempt of one call, through the hooks, driven by the retry policy.

urllib3 would retry statuses invisibly inside ``urlopen``; here each attempt is a fresh copy
of the request that passes ``chatmini_prepare_request`` and ``chatmini_send``, so auth can put
a new credential on it and timing can count it. The immutable RetryPolicy is incremented per
retry; a plugin may ask for a "replay" (at most MAX_REPLAYS a call) that spends no retry.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable, Optional, TypeVar

from urllib3.exceptions import MaxRetryError, ProtocolError

from .errors import APIConnectionError, APIStatusError, ChatminiError, status_error
from .hookspecs import RETRY_DECISIONS

if TYPE_CHECKING:
    import requests

    from .client import Client
    from .request import Request

MAX_REPLAYS = 2
T = TypeVar("T")
Decode = Callable[["requests.Response", "Request"], T]
logger = logging.getLogger("chatmini")


def execute(client: Client, call: Request, decode: Decode[T]) -> T:
    """Run one call to completion and return ``decode(response, attempt)`` for its 2xx answer.

    Decoding happens before ``chatmini_call_end``, so a 2xx body that is not what was expected
    reaches plugins as the call's error.
    """
    host = client.plugin_host
    policy = client.retry
    attempt = 0
    replays = 0
    while True:
        attempt += 1
        request = call.for_attempt(attempt, len(policy.history))
        response: Optional[requests.Response] = None
        error: Optional[ChatminiError] = None
        try:
            host.prepare_request(request, client)
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("sending %r", request)  # the Request repr redacts credentials
            response = host.send(request, client)
            if response is None:
                raise ChatminiError("No plugin sent the request: is 'transport' blocked?")
            if response.status_code >= 300:
                error = status_error(response, request)
        except ChatminiError as exc:
            error = exc
            if response is None and isinstance(exc, APIStatusError):
                response = exc.response  # a send wrapper's own verdict on the answer it got
        host.after_attempt(request, response, error, client)
        if error is None:
            try:
                result = decode(response, request)  # type: ignore[arg-type]
            except ChatminiError as exc:
                host.call_end(request, response, exc, client)
                raise
            host.call_end(request, response, None, client)
            return result

        decision = host.retry_decision(request, response, error, client)
        if decision not in RETRY_DECISIONS:
            bug = ChatminiError(
                f"chatmini_retry_decision returned {decision!r}; expected one of "
                f"{', '.join(map(repr, RETRY_DECISIONS))}"
            )
            host.call_end(request, response, bug, client)
            raise bug from error
        if decision == "replay":
            if replays < MAX_REPLAYS:
                replays += 1
                logger.debug("replaying %s (attempt %d)", request.endpoint, attempt + 1)
                continue
            decision = None  # replays used up: the retry policy decides
        raw = response.raw if response is not None else None
        code = error.code if isinstance(error, APIStatusError) else None
        wanted = decision == "retry" or (  # no answer at all: only a connection failure retries
            decision is None
            and (response is not None or isinstance(error, APIConnectionError))
            and policy.should_retry(request.method, raw, code)
        )
        if wanted and policy.wait_too_long(raw):
            wanted = False  # the caller decides about long waits, not a hidden sleep
        if wanted:
            try:
                policy = policy.increment(
                    request.method, request.url, response=raw,
                    error=None if raw is not None else ProtocolError(str(error)),
                )
            except MaxRetryError:
                wanted = False
        if not wanted:
            host.call_end(request, response, error, client)
            raise error
        if response is not None:
            response.close()
        logger.debug(  # the call's one INFO record (plugin "logging") counts the retries
            "retrying %s %s after %s (retry %d)",
            request.method, request.endpoint, _describe(error), len(policy.history),
        )
        policy.sleep(raw)


def _describe(error: ChatminiError) -> str:
    status = getattr(error, "status_code", None)
    return f"HTTP {status}" if status else type(error).__name__
