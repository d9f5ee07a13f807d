"""What a server's ``x-ratelimit-*`` headers say about waiting: Go-style durations (``6m0s``,
``17ms``) and how long every thread should pause when a budget is (nearly) used up."""

from __future__ import annotations

import re
from typing import Any, Mapping, Optional

_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|us|µs|ns|h|m|s)")
_DURATION = re.compile(r"(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ms|us|µs|ns|h|m|s))+")
_PLAIN = re.compile(r"\d+(?:\.\d*)?|\.\d+")


def parse_duration(text: Optional[str]) -> Optional[float]:
    """Seconds from ``6m0s``, ``1s``, ``17ms``, ``1m30.5s``, ``2h`` or a bare number of seconds.

    Anything else (empty, negative, garbage) gives None: a header we cannot read is ignored.
    """
    if not text:
        return None
    text = text.strip()
    if _PLAIN.fullmatch(text):
        return float(text)
    if not _DURATION.fullmatch(text):
        return None
    return sum(float(value) * _UNITS[unit] for value, unit in _PART.findall(text))


def _count(value: Optional[str]) -> Optional[float]:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number >= 0 else None


def pause_from_headers(headers: Mapping[str, Any], tokens_needed: float) -> float:
    """Seconds to hold all requests back because the server's remaining budget is too small.

    For requests (one needed) and tokens (``tokens_needed``): when ``x-ratelimit-remaining-*``
    is below what the next request needs, wait the share of ``x-ratelimit-reset-*`` the server
    takes to refill the shortfall (it refills ``limit - remaining`` over the reset time), or the
    whole reset time when ``x-ratelimit-limit-*`` is absent. 0.0 when nothing is short.
    """
    pause = 0.0
    for kind, needed in (("requests", 1.0), ("tokens", tokens_needed)):
        remaining = _count(headers.get(f"x-ratelimit-remaining-{kind}"))
        if remaining is None or remaining >= needed:
            continue
        reset = parse_duration(headers.get(f"x-ratelimit-reset-{kind}"))
        if reset is None:
            continue
        limit = _count(headers.get(f"x-ratelimit-limit-{kind}"))
        if limit is not None and limit > remaining:
            wait = reset * min(1.0, (needed - remaining) / (limit - remaining))
        else:
            wait = reset
        if wait == wait:  # not NaN (an infinite limit and reset); infinite waits are capped
            pause = max(pause, wait)
    return pause
