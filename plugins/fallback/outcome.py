"""What an endpoint's answer says about its health: unwell (fail over, count it against the
endpoint) or well (a success, or an error that would be the same everywhere)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from chatmini.errors import decode_error_body

if TYPE_CHECKING:
    import requests

    from chatmini.retry import RetryPolicy

QUOTA_GONE = "insufficient_quota"
Verdict = tuple[Optional[str], Optional[float]]


def judge(response: requests.Response, policy: RetryPolicy, long_wait: float) -> Verdict:
    """(why the endpoint is unwell or None, the seconds its Retry-After asked for): 5xx and
    408; a 429 asking to wait ``long_wait`` seconds or more, or saying the quota is gone."""
    status = response.status_code
    if status < 400 or (status < 500 and status not in (408, 429)):
        return None, None
    wait = policy.get_retry_after(response)  # type: ignore[arg-type]  # reads .headers only
    if status != 429:
        return f"HTTP {status}", wait
    if wait is not None and wait >= long_wait:
        return f"HTTP 429, Retry-After {wait:g} s", wait
    if error_code(response) == QUOTA_GONE:
        return f"HTTP 429 {QUOTA_GONE}", wait
    return None, None  # a short wait: the retry policy's business, on the same endpoint


def error_code(response: requests.Response) -> Optional[str]:
    """The ``error.code`` of an OpenAI-style error body, if it has one."""
    try:
        body = decode_error_body(response.content)  # only its code is read: no secrets
    except Exception:  # noqa: BLE001 - an unreadable body says nothing about the quota
        return None
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None
