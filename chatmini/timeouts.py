"""Timeouts, in one place: the forms a caller may give, checked once, and their parts.

``Timeout`` is the value: ``connect`` (opening a connection), ``read`` (each wait for bytes, and
the headers and a plain body as a whole), ``stream_idle`` (for streams, in place of ``read``: the
longest silence between events) and ``total`` (the whole call: every attempt, the waits between
them, headers and body). Seconds (connect and read alike), a ``(connect, read)`` pair as
requests takes it, and any object with httpx/openai-style ``connect`` and ``read`` attributes
are accepted wherever a timeout is.
"""

from __future__ import annotations

import math
import socket
from time import monotonic
from typing import Any, Optional, Union

from .errors import InvalidRequestError

MAX_SECONDS = 1e9  # beyond this a value is a mistake (and overflows socket timeouts)
_UNSET: Any = object()


class Timeout:
    """Timeouts of a call in seconds; None means no limit on that part.

    ``Timeout(30)`` is 30 s to connect and 30 s per read; ``Timeout(connect=5, read=600,
    total=900)`` also ends the whole call after 900 s. Parts not given default to ``default``,
    else 5 s to connect and 600 s per read; ``stream_idle`` and ``total`` default to None.
    """

    __slots__ = ("connect", "read", "stream_idle", "total")

    def __init__(
        self,
        default: Optional[float] = _UNSET,
        *,
        connect: Optional[float] = _UNSET,
        read: Optional[float] = _UNSET,
        stream_idle: Optional[float] = None,
        total: Optional[float] = None,
    ) -> None:
        if default is not _UNSET:
            default = seconds(default, "timeout")
        self.connect: Optional[float] = seconds(_pick(connect, default, 5.0), "connect timeout")
        self.read: Optional[float] = seconds(_pick(read, default, 600.0), "read timeout")
        self.stream_idle: Optional[float] = seconds(stream_idle, "stream_idle timeout")
        self.total: Optional[float] = seconds(total, "total timeout")

    def replace(self, **parts: Optional[float]) -> Timeout:
        """A copy with some parts changed."""
        values = {name: getattr(self, name) for name in self.__slots__}
        values.update(parts)
        return Timeout(**values)

    def for_stream(self) -> Timeout:
        """The timeouts of a stream: ``stream_idle`` (when set) in place of ``read``."""
        if self.stream_idle is None or self.stream_idle == self.read:
            return self
        return self.replace(read=self.stream_idle)

    def deadline(self) -> Optional[float]:
        """When a call starting now must end (``time.monotonic()``), or None."""
        return None if self.total is None else monotonic() + self.total

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Timeout):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, n) for n in self.__slots__))

    def __repr__(self) -> str:
        parts = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"Timeout({parts})"


def _pick(value: Any, default: Any, fallback: float) -> Any:
    """``value`` if given, else ``default`` if given, else ``fallback``."""
    if value is not _UNSET:
        return value
    return default if default is not _UNSET else fallback


TimeoutLike = Union[float, "tuple[Optional[float], Optional[float]]", Timeout, Any, None]


def seconds(value: Any, what: str) -> Optional[float]:
    """``value`` as seconds: None, or a finite number > 0 (no bool); else a clear error."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
        0 < value <= MAX_SECONDS
    ) or math.isnan(value):
        raise InvalidRequestError(
            f"{what} must be seconds > 0 (at most {MAX_SECONDS:g}) or None, not {value!r}"
        )
    return float(value)


DEFAULT_TIMEOUT = Timeout(connect=5.0, read=600.0)


def check_timeout(timeout: TimeoutLike) -> Timeout:
    """A Timeout from any accepted form: a Timeout, seconds, a (connect, read) pair, or an
    object with ``connect`` and ``read`` attributes (httpx.Timeout, openai's; ``write`` and
    ``pool`` are not used: requests has no such limits); anything else is a clear error."""
    if isinstance(timeout, Timeout):
        return timeout
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        return Timeout(timeout)
    if isinstance(timeout, tuple) and len(timeout) == 2:
        return Timeout(connect=timeout[0], read=timeout[1])
    if hasattr(timeout, "connect") and hasattr(timeout, "read"):
        given: Any = timeout
        return Timeout(connect=given.connect, read=given.read, total=getattr(given, "total", None))
    raise InvalidRequestError(
        "timeout must be seconds > 0, a (connect, read) pair or a chatmini.Timeout, "
        f"not {timeout!r}"
    )


def client_timeout(timeout: TimeoutLike, stream_idle_timeout: Optional[float]) -> Timeout:
    """A Client's Timeout from its ``timeout`` and ``stream_idle_timeout`` arguments, which
    must not disagree."""
    value = check_timeout(timeout)
    idle = seconds(stream_idle_timeout, "stream_idle_timeout")
    if idle is None or idle == value.stream_idle:
        return value
    if value.stream_idle is not None:
        raise InvalidRequestError(
            f"stream_idle_timeout={stream_idle_timeout!r} and timeout= (stream_idle="
            f"{value.stream_idle!r}) disagree: pass one of them"
        )
    return value.replace(stream_idle=idle)


def call_timeout(timeout: TimeoutLike, default: Timeout) -> Timeout:
    """One call's Timeout: ``default`` (the Client's) when None; a Timeout as given; seconds,
    a pair or an httpx-style object replace connect and read, keeping the Client's
    ``stream_idle`` and ``total`` (those forms say nothing of them)."""
    if timeout is None:
        return default
    if isinstance(timeout, Timeout):
        return timeout
    value = check_timeout(timeout)
    return value.replace(stream_idle=default.stream_idle,
                         total=value.total if value.total is not None else default.total)


def read_part(timeout: object) -> Optional[float]:
    """The read timeout of a timeout in any accepted form (None when it has none)."""
    if isinstance(timeout, Timeout):
        return timeout.read
    if timeout is None:
        return None
    return check_timeout(timeout).read



class DeadlineExceeded(socket.timeout):
    """A socket read that would end after its deadline (urllib3 reports a read timeout; its
    message says which limit it was)."""


def deadline_reason(exc: BaseException) -> Optional[str]:
    """What a DeadlineExceeded anywhere in ``exc``'s chain says, or None."""
    seen: set[int] = set()
    current: Optional[BaseException] = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, DeadlineExceeded):
            return str(current)
        seen.add(id(current))
        nxt = current.__cause__ or current.__context__
        if nxt is None and current.args and isinstance(current.args[0], BaseException):
            nxt = current.args[0]  # requests wraps urllib3's error as its first argument
        current = nxt
    return None


def total_passed(timeout: Any, deadline: Optional[float]) -> Optional[str]:
    """"the N s total deadline passed" once ``deadline`` is (about) reached, else None."""
    if deadline is None or monotonic() < deadline - 0.01:
        return None
    total = getattr(timeout, "total", None)
    return f"the {total:g} s total deadline passed" if total else "the total deadline passed"
