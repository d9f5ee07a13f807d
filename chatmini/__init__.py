"""chatmini: a small, fast, blocking client for ChatGPT and any OpenAI-compatible API."""

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
from .streaming import Stream
from .version import __version__

if TYPE_CHECKING:
    from .batching import BatchInterrupted, batch, batch_iter
    from .plugins.compression import Compression
    from .plugins.msgpack_codec import MessagePack
    from .plugins.ratelimit import RateLimiter
    from .plugins.redis_ratelimit import RedisRateLimiter
    from .plugins.timing import SlowCallAlert, SlowCallRule, Timing

_LAZY = {
    "BatchInterrupted": ".batching",
    "batch": ".batching",
    "batch_iter": ".batching",
    "RateLimiter": ".plugins.ratelimit",
    "RedisRateLimiter": ".plugins.redis_ratelimit",
    "Compression": ".plugins.compression",
    "MessagePack": ".plugins.msgpack_codec",
    "SlowCallAlert": ".plugins.timing",
    "SlowCallRule": ".plugins.timing",
    "Timing": ".plugins.timing",
}


def __getattr__(name: str) -> Any:
    """Load the batch helpers and optional plugins on first use: ``import chatmini`` stays lean."""
    if name not in _LAZY:
        raise AttributeError(f"module 'chatmini' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "APIConnectionError",
    "APIError",
    "APIObject",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "AzureClient",
    "BadRequestError",
    "BatchInterrupted",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatminiError",
    "Client",
    "Compression",
    "ConflictError",
    "IncompleteStreamError",
    "InsecureTransportWarning",
    "InternalServerError",
    "InvalidRequestError",
    "MessagePack",
    "ModelList",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RateLimiter",
    "RedisRateLimiter",
    "Request",
    "RetryPolicy",
    "SlowCallAlert",
    "SlowCallRule",
    "Stream",
    "Timing",
    "UnprocessableEntityError",
    "__version__",
    "ask",
    "ask_stream",
    "batch",
    "batch_iter",
    "hookimpl",
]
