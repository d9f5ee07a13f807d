"""The Redis connection the shared plugins use (the shared rate limiter, the shared circuit
breaker): a redis-py client from a URL or as given, the errors that mean Redis failed, and
where it connects, said without its password. redis-py is imported only here, when a plugin
that needs it is built (``pip install 'chatmini[redis]'``)."""

from __future__ import annotations

import os
from typing import Any, Optional, Union

from chatmini.errors import InvalidRequestError
from chatmini.redaction import scrub_values

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
