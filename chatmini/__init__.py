"""chatmini: a small, fast, blocking client for ChatGPT and any OpenAI-compatible API."""

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any  # noqa: E402

from .alerts import SlowCallAlert, SlowCallRule  # noqa: E402
from .azure import AzureClient  # noqa: E402
from .client import Client, InsecureTransportWarning  # noqa: E402
from .errors import (  # noqa: E402
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
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from .hookspecs import hookimpl  # noqa: E402
from .objects import APIObject, ChatCompletion, ChatCompletionChunk, ModelList  # noqa: E402
from .request import Request  # noqa: E402
from .retry import RetryPolicy  # noqa: E402
from .shortcuts import ask, ask_stream  # noqa: E402
from .streaming import Stream  # noqa: E402

if TYPE_CHECKING:
    from .batching import BatchInterrupted, batch, batch_iter
    from .plugins.compression import Compression
    from .plugins.msgpack_codec import MessagePack
    from .plugins.ratelimit import RateLimiter
    from .plugins.redis_ratelimit import RedisRateLimiter

_LAZY = {
    "BatchInterrupted": ".batching",
    "batch": ".batching",
    "batch_iter": ".batching",
    "RateLimiter": ".plugins.ratelimit",
    "RedisRateLimiter": ".plugins.redis_ratelimit",
    "Compression": ".plugins.compression",
    "MessagePack": ".plugins.msgpack_codec",
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
    "UnprocessableEntityError",
    "__version__",
    "ask",
    "ask_stream",
    "batch",
    "batch_iter",
    "hookimpl",
]
