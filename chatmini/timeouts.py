"""Timeouts, in one place: the forms a caller may give, checked once, and their parts.

A timeout is seconds (connect and read alike) or a ``(connect, read)`` pair, as requests takes
it. The read part bounds each socket read of a stream (the stream idle timeout) and the whole
body of a call that is not a stream.
"""

from __future__ import annotations

from typing import Any, Optional, Union

from .errors import InvalidRequestError

Timeout = Union[float, "tuple[Optional[float], Optional[float]]", None]
DEFAULT_TIMEOUT = (5.0, 600.0)


def check_timeout(timeout: Timeout) -> Union[float, tuple[Optional[float], Optional[float]]]:
    """Seconds, or a (connect, read) pair; anything else is a clear error."""
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0:
        return float(timeout)
    if isinstance(timeout, tuple) and len(timeout) == 2 and all(
        t is None or (isinstance(t, (int, float)) and t > 0) for t in timeout
    ):
        return timeout
    raise InvalidRequestError(
        f"timeout must be seconds > 0 or a (connect, read) pair, not {timeout!r}"
    )


def connect_part(timeout: Any) -> Optional[float]:
    """The connect timeout of a checked ``timeout``."""
    part = timeout[0] if isinstance(timeout, tuple) else timeout
    return None if part is None else float(part)


def read_part(timeout: object) -> Optional[float]:
    """The read timeout of a ``timeout`` setting (seconds, or a (connect, read) pair)."""
    part = timeout[1] if isinstance(timeout, tuple) else timeout
    return float(part) if isinstance(part, (int, float)) else None


def for_stream(timeout: Timeout, idle: Optional[float]) -> Timeout:
    """A stream's timeout: ``idle`` (when set) replaces the read part."""
    return timeout if idle is None else (connect_part(timeout), idle)
