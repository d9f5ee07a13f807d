"""The Redis connection the shared plugins use (the shared rate limiter, the shared circuit
breaker): a redis-py client from a URL or as given, the errors that mean Redis failed, where
it connects, said without its password, and the outage both fall back through. redis-py is
imported only here, when a plugin that needs it is built (``pip install 'chatmini[redis]'``)."""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any, Callable, Optional, Union

from chatmini.errors import InvalidRequestError
from chatmini.redaction import scrub_values

logger = logging.getLogger("chatmini")
URL_ENV = "CHATMINI_REDIS_URL"
DEFAULT_URL = "redis://localhost:6379/0"

Errors = tuple[type[BaseException], ...]


def connect(
    redis: Union[str, Any, None], timeout: float, user: str
) -> tuple[Any, Errors, Optional[str]]:
    """A redis-py client (from a URL: socket timeouts, no retries), the errors that mean Redis
    failed, and the password to keep out of messages; ``user`` names the plugin asking."""
    try:
        import redis as redis_py
        from redis.backoff import NoBackoff
        from redis.retry import Retry
    except ImportError:
        raise InvalidRequestError(
            f"{user} needs redis-py: pip install 'chatmini[redis]'"
        ) from None
    errors = (redis_py.RedisError, OSError)
    if redis is None:
        redis = os.environ.get(URL_ENV) or DEFAULT_URL
    if not isinstance(redis, str):
        kwargs = getattr(getattr(redis, "connection_pool", None), "connection_kwargs", {})
        return redis, errors, kwargs.get("password")
    try:
        client = redis_py.Redis.from_url(
            redis, socket_timeout=timeout, socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0), health_check_interval=0,
        )
    except ValueError as exc:
        message = scrub_values(str(exc), [redis])
        raise InvalidRequestError(f"not a usable Redis URL: {message}") from None
    return client, errors, client.connection_pool.connection_kwargs.get("password")


def describe(client: Any) -> str:
    """Where a redis-py client connects (host:port/db or a socket path), never its password."""
    kwargs = getattr(getattr(client, "connection_pool", None), "connection_kwargs", None)
    if not kwargs:
        return type(client).__name__
    if kwargs.get("path"):
        return f"unix:{kwargs['path']}"
    return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"


class Outage:
    """Redis stopped answering a shared plugin: fall back for ``recheck`` seconds, then ask
    again. One WARNING when an outage starts, one INFO when Redis answers again; reasons never
    show the password. ``clock`` is the plugin's (``time.monotonic`` unless a test injects one).
    Thread-safe."""

    def __init__(self, what: str, where: str, password: Optional[str], recheck: float,
                 clock: Callable[[], float] = time.monotonic, fallback: str = "") -> None:
        self.what = what  # "the shared rate limiter's Redis"
        self.where = where
        self.recheck = recheck
        self.clock = clock
        self.fallback = fallback  # what this process does meanwhile, for the WARNING
        self._password = password
        self._until: Optional[float] = None  # fall back until then
        self._since = 0.0  # when the outage began
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        """True while falling back; False once ``recheck`` passed (Redis is asked again)."""
        until = self._until
        return until is not None and self.clock() < until

    def begin(self) -> float:
        """The time a call to Redis starts; pass it to ``answered`` when the call succeeds."""
        return self.clock()

    def failed(self, exc: BaseException) -> None:
        """Redis failed: fall back from now for ``recheck`` seconds, warning when it starts."""
        with self._lock:
            now = self.clock()
            first = self._until is None
            if first:
                self._since = now
            self._until = now + self.recheck
        if first:
            logger.warning("%s at %s did not answer (%s); %s", self.what, self.where,
                           self.reason(exc), self.fallback)

    def answered(self, started: float) -> None:
        """A call that ``started`` at that time (``begin()``) succeeded: an outage noted
        before it started is over. A call already under way when Redis failed proves nothing
        (another thread's late success must not end the outage, nor warn a second time)."""
        if self._until is None:
            return
        with self._lock:
            over = self._until is not None and started >= self._since
            if over:
                self._until = None
        if over:
            logger.info("%s at %s answers again", self.what, self.where)

    def reason(self, exc: BaseException) -> str:
        """``exc`` as text, the password never in it."""
        return scrub_values(f"{type(exc).__name__}: {exc}", [self._password])
