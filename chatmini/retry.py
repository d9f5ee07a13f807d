"""The retry policy (urllib3's immutable ``Retry``, taught what OpenAI-style servers send) and
``drive``, the one loop that runs attempts under it.

chatmini drives this object from its own send loop (``increment``, ``sleep``) instead of
letting urllib3 retry inside ``urlopen``, so that every attempt passes through the plugin hooks.
Only urllib3's documented override points are changed: Retry-After parsing (fractions, and
``retry-after-ms``; a value that is not a finite number >= 0 is ignored), the backoff formula
(the first retry waits too), plus ``should_retry``, which adds ``x-should-retry`` and the
Retry-After limit on top of ``is_retry``, and ``next_wait``, the one wait before a retry.
"""

from __future__ import annotations

import logging
import math
import random
import re
import time
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar, Union

from urllib3.exceptions import InvalidHeader, MaxRetryError, ProtocolError
from urllib3.util.retry import Retry

from .errors import APIConnectionError, APIStatusError, ChatminiError

if TYPE_CHECKING:
    import requests
    from urllib3.response import BaseHTTPResponse

logger = logging.getLogger("chatmini")
MAX_REPLAYS = 2  # resends a plugin may ask for in one call, spending no retry
T = TypeVar("T")
RETRY_STATUSES = frozenset({408, 409, 429, *range(500, 600)})
NOT_WORTH_RETRYING = frozenset({"insufficient_quota"})
_SECONDS = re.compile(r"^\s*[0-9]+(\.[0-9]+)?\s*$")


class RetryPolicy(Retry):
    """urllib3 Retry with chatmini's defaults: any method, 408/409/429/5xx, 0.5 s·2^n ≤ 8 s.

    ``retry_after_limit``: a server asking to wait longer than this many seconds is not
    obeyed blindly; the call fails with the status error so the caller can decide.
    """

    def __init__(
        self,
        total: Any = 2,
        *,
        retry_after_limit: float = 60.0,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("allowed_methods", None)  # POST bodies are resent byte-identical
        kwargs.setdefault("status_forcelist", RETRY_STATUSES)
        kwargs.setdefault("backoff_factor", 0.5)
        kwargs.setdefault("backoff_max", 8.0)
        kwargs.setdefault("backoff_jitter", 0.25)
        kwargs.setdefault("raise_on_status", False)
        kwargs.setdefault("redirect", 0)
        super().__init__(total, **kwargs)
        self.retry_after_limit = retry_after_limit

    def new(self, **kw: Any) -> RetryPolicy:
        kw.setdefault("retry_after_limit", self.retry_after_limit)
        return super().new(**kw)

    def parse_retry_after(self, retry_after: str) -> float:
        """Seconds from a Retry-After value: integer, fractional (urllib3 refuses) or HTTP-date."""
        if _SECONDS.match(retry_after):
            return max(float(retry_after), 0.0)
        return super().parse_retry_after(retry_after)

    def get_retry_after(self, response: BaseHTTPResponse) -> Optional[float]:
        """Seconds the server asked for: ``retry-after-ms`` first, then ``Retry-After``.

        A value that cannot be parsed, or is not a finite number >= 0 (``nan``, ``inf``,
        ``-5``), is ignored (the backoff applies) rather than raised or slept; a finite but
        absurd one is above ``retry_after_limit``, so the call fails instead of sleeping.
        """
        headers = response.headers
        millis = headers.get("retry-after-ms")
        if millis is not None and _SECONDS.match(millis):  # plain digits: no "1_0", "nan"
            wait = _sane(float(millis) / 1000.0)
            if wait is not None:
                return wait
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return _sane(self.parse_retry_after(value))
        except (InvalidHeader, ValueError, OverflowError, TypeError):
            return None

    def get_backoff_time(self) -> float:
        """factor·2^(n-1) plus up to ``backoff_jitter`` seconds, at most ``backoff_max``.

        urllib3 waits nothing before the first retry; a rate-limited API needs a pause there too.
        """
        retries_so_far = len(self.history)
        if retries_so_far == 0:
            return 0.0
        backoff = self.backoff_factor * (2 ** (retries_so_far - 1))
        backoff += random.random() * self.backoff_jitter
        return float(max(0.0, min(self.backoff_max, backoff)))

    def next_wait(self, response: Optional[BaseHTTPResponse] = None) -> float:
        """Seconds to wait before the next attempt: the server's Retry-After when it gives one
        (and it is respected), else the backoff. As urllib3's ``sleep`` decides."""
        if self.respect_retry_after_header and response is not None:
            wait = self.get_retry_after(response)
            if wait:
                return wait
        return self.get_backoff_time()

    def sleep(self, response: Optional[BaseHTTPResponse] = None) -> None:
        """Sleep ``next_wait(response)`` seconds."""
        time.sleep(self.next_wait(response))

    def should_retry(
        self, method: str, response: Optional[BaseHTTPResponse], error_code: Optional[str]
    ) -> bool:
        """Whether a failed attempt is worth retrying (before counting whether any are left).

        ``x-should-retry`` from the server wins; ``insufficient_quota`` is never retried; a
        connection failure (no response) is retried; otherwise urllib3's ``is_retry`` decides.
        """
        if response is None:
            return self._is_method_retryable(method)
        verdict = response.headers.get("x-should-retry")
        if verdict == "true":
            return True
        if verdict == "false":
            return False
        if error_code in NOT_WORTH_RETRYING:
            return False
        has_retry_after = "retry-after" in response.headers
        return self.is_retry(method, response.status, has_retry_after)

    def wait_too_long(self, response: Optional[BaseHTTPResponse]) -> bool:
        """True when the server asks to wait beyond ``retry_after_limit`` seconds."""
        if response is None or not self.respect_retry_after_header:
            return False
        wait = self.get_retry_after(response)
        return wait is not None and wait > self.retry_after_limit


def _sane(seconds: float) -> Optional[float]:
    """``seconds`` when it is a finite number >= 0, else None."""
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


class AttemptFailed(Exception):
    """Raised by an attempt function for ``drive`` to judge: the attempt's chatmini ``error``
    and the server's ``response`` when there was one (any status)."""

    def __init__(self, error: ChatminiError, response: Optional[requests.Response] = None) -> None:
        super().__init__(error)
        self.error = error
        self.response = response


Attempt = Callable[[int, int], T]
Decide = Callable[[ChatminiError, Optional["requests.Response"]], Optional[str]]
OnRetry = Callable[[ChatminiError, RetryPolicy], None]


def drive(
    policy: RetryPolicy,
    method: str,
    url: str,
    attempt: Attempt[T],
    *,
    decide: Optional[Decide] = None,
    on_retry: Optional[OnRetry] = None,
    max_replays: Union[int, Callable[[], int]] = MAX_REPLAYS,
    deadline: Optional[float] = None,
) -> T:
    """Call ``attempt(number, retries_so_far)`` until it returns, retrying as ``policy`` allows.

    The one retry loop of chatmini: the send loop and the OAuth2 token endpoint both run here.
    An attempt signals failure by raising AttemptFailed; any other exception ends the call at
    once. ``decide`` may overrule the policy per failure with ``"replay"`` (resend now without
    spending a retry, at most ``max_replays`` times: a number, or a function asked at each
    replay, so a call can be granted more on the way), ``"retry"``, ``"raise"`` or None.
    A failure without any answer is retried only when it is a connection failure; a server
    asking to wait beyond the policy's ``retry_after_limit`` is not waited for, nor is a wait
    that would end after ``deadline`` (``time.monotonic()`` seconds: the call's total). When
    the call gives up, the last attempt's error is raised.
    """
    number = replays = 0
    while True:
        number += 1
        try:
            return attempt(number, len(policy.history))
        except AttemptFailed as failed:
            error, response = failed.error, failed.response
        decision = decide(error, response) if decide is not None else None
        if decision == "replay":
            if replays < (max_replays if isinstance(max_replays, int) else max_replays()):
                replays += 1
                continue
            decision = None  # replays used up: the policy decides
        raw = response.raw if response is not None else None
        code = error.code if isinstance(error, APIStatusError) else None
        wanted = decision == "retry" or (
            decision is None
            and (response is not None or isinstance(error, APIConnectionError))
            and policy.should_retry(method, raw, code)
        )
        if wanted and policy.wait_too_long(raw):
            wanted = False  # the caller decides about long waits, not a hidden sleep
        if wanted:
            try:
                policy = policy.increment(
                    method, url, response=raw,
                    error=None if raw is not None else ProtocolError(str(error)),
                )
            except MaxRetryError:
                wanted = False
        if not wanted:
            raise error
        wait = policy.next_wait(raw)
        if deadline is not None and time.monotonic() + wait >= deadline:
            logger.debug("not retrying %s: waiting %.3g s would pass the total deadline",
                         url.split("?", 1)[0], wait)
            raise error
        if response is not None:
            response.close()
        if on_retry is not None:
            on_retry(error, policy)
        if wait > 0:
            time.sleep(wait)
