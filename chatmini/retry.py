"""The retry policy: urllib3's immutable ``Retry``, taught what OpenAI-style servers send.

chatmini drives this object from its own send loop (``increment``, ``sleep``) instead of
letting urllib3 retry inside ``urlopen``, so that every attempt passes through the plugin hooks.
Only urllib3's documented override points are changed: Retry-After parsing (fractions, and
``retry-after-ms``), the backoff formula (the first retry waits too), plus ``should_retry``,
which adds ``x-should-retry`` and the Retry-After limit on top of ``is_retry``.
"""

from __future__ import annotations

import random
import re
from typing import TYPE_CHECKING, Any, Optional

from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

if TYPE_CHECKING:
    from urllib3.response import BaseHTTPResponse

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
        return super().new(**kw)  # type: ignore[return-value]

    def parse_retry_after(self, retry_after: str) -> float:
        """Seconds from a Retry-After value: integer, fractional (urllib3 refuses) or HTTP-date."""
        if _SECONDS.match(retry_after):
            return max(float(retry_after), 0.0)
        return super().parse_retry_after(retry_after)

    def get_retry_after(self, response: BaseHTTPResponse) -> Optional[float]:
        """Seconds the server asked for: ``retry-after-ms`` first, then ``Retry-After``.

        A value that cannot be parsed is ignored (the backoff applies) rather than raised.
        """
        headers = response.headers
        millis = headers.get("retry-after-ms")
        if millis is not None:
            try:
                return max(float(millis) / 1000.0, 0.0)
            except ValueError:
                pass
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return self.parse_retry_after(value)
        except InvalidHeader:
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
