"""chatmini: a small, fast, blocking client for ChatGPT and any OpenAI-compatible API.

The public surface is ``__all__`` (rule: docs/design.md, "What is public"): the clients, every
exception and warning a caller may catch, the types calls return and hooks receive, the plugins
a user constructs, and the script helpers. Plugins and the batch helper load on first use, so
``import chatmini`` stays lean; anything not listed here may move between releases.
"""

from typing import TYPE_CHECKING, Any

from .azure import AzureClient
from .client import Client
from .errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ChatminiError,
    ConflictError,
    IncompleteStreamError,
    InsecureTransportWarning,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from .hookspecs import hookimpl
from .objects import APIObject, ChatCompletion, ChatCompletionChunk, ModelList
from .request import Request
from .retry import RetryPolicy
from .shortcuts import ask, ask_stream
from .sse import ServerSentEvent
from .stats import StatsReport
from .streaming import Stream
from .timeouts import Timeout
from .transport.session import TCPKeepAlive
from .version import __version__

if TYPE_CHECKING:
    from .batching import BatchInterrupted, PoolSizeWarning, batch, batch_iter
    from .plugins.compression import Compression, CompressionRejectedError
    from .plugins.msgpack_codec import MessagePack
    from .plugins.oauth2 import OAuth2ClientCredentials
    from .plugins.prometheus import PrometheusMetrics
    from .plugins.ratelimit import RateLimiter
    from .plugins.redis_ratelimit import LimiterUnavailableError, RedisRateLimiter
    from .plugins.statsd import StatsdMetrics
    from .plugins.timing import SlowCallAlert, SlowCallRule, Timing
    from .plugins.token_provider import TokenProvider

# Loaded on first use: name -> module (relative to this package).
_LAZY = {
    "BatchInterrupted": ".batching",
    "PoolSizeWarning": ".batching",
    "batch": ".batching",
    "batch_iter": ".batching",
    "Compression": ".plugins.compression",
    "CompressionRejectedError": ".plugins.compression",
    "MessagePack": ".plugins.msgpack_codec",
    "OAuth2ClientCredentials": ".plugins.oauth2",
    "PrometheusMetrics": ".plugins.prometheus",
    "RateLimiter": ".plugins.ratelimit",
    "LimiterUnavailableError": ".plugins.redis_ratelimit",
    "RedisRateLimiter": ".plugins.redis_ratelimit",
    "StatsdMetrics": ".plugins.statsd",
    "SlowCallAlert": ".plugins.timing",
    "SlowCallRule": ".plugins.timing",
    "Timing": ".plugins.timing",
    "TokenProvider": ".plugins.token_provider",
}


def __getattr__(name: str) -> Any:
    """Load the batch helpers and plugins on first use: ``import chatmini`` stays lean."""
    if name not in _LAZY:
        raise AttributeError(f"module 'chatmini' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    # clients
    "AzureClient",
    "Client",
    # what calls return and hooks receive
    "APIObject",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ModelList",
    "Request",
    "ServerSentEvent",
    "StatsReport",
    "Stream",
    "Timing",
    # exceptions and warnings
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BatchInterrupted",
    "ChatminiError",
    "CompressionRejectedError",
    "ConflictError",
    "IncompleteStreamError",
    "InsecureTransportWarning",
    "InternalServerError",
    "InvalidRequestError",
    "LimiterUnavailableError",
    "NotFoundError",
    "PermissionDeniedError",
    "PoolSizeWarning",
    "RateLimitError",
    "UnprocessableEntityError",
    # plugins a user constructs
    "Compression",
    "MessagePack",
    "OAuth2ClientCredentials",
    "PrometheusMetrics",
    "RateLimiter",
    "RedisRateLimiter",
    "SlowCallAlert",
    "SlowCallRule",
    "StatsdMetrics",
    "TokenProvider",
    # settings and helpers
    "RetryPolicy",
    "TCPKeepAlive",
    "Timeout",
    "__version__",
    "ask",
    "ask_stream",
    "batch",
    "batch_iter",
    "hookimpl",
]
