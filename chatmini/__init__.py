"""chatmini: a small, fast, blocking client for ChatGPT and any OpenAI-compatible API.

The public surface is ``__all__`` (rule: docs/design.md, "What is public"): the clients, every
exception and warning a caller may catch, the types calls return and hooks receive, the plugins
a user constructs, and the script helpers. Plugins and the batch helper load on first use, so
``import chatmini`` stays lean; anything not listed here may move between releases.

Like openai-python, the package is also a default client: set ``chatmini.api_key`` (and the
other settings below; None means the environment's) and call ``chatmini.chat.completions
.create(...)``, ``chatmini.embeddings.create(...)``, ... (``module_client``).
"""

from typing import TYPE_CHECKING, Any, Mapping, Optional, Union

from .answer_errors import (
    ContentFilterFinishReasonError,
    LengthFinishReasonError,
    MaxTurnsExceededError,
    OutputValidationError,
    ToolCallError,
    ToolLoopError,
    ToolTimeoutError,
)
from .azure import AzureClient
from .client import Client
from .downloads import FileContent
from .errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CallInterrupted,
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
from .module_client import RESOURCES as _MODULE_CLIENT
from .module_client import resource as _resource
from .objects import (
    APIObject,
    ChatCompletion,
    ChatCompletionChunk,
    Completion,
    CreateEmbeddingResponse,
    Model,
    ModelList,
    ModerationCreateResponse,
    Response,
    ResponseStreamEvent,
)
from .options import NOT_GIVEN, NotGiven, Omit, not_given, omit
from .raw_responses import RawResponse, StreamedResponse
from .request import Request
from .resources import Batch, CursorPage, FileDeleted, FileObject
from .retry import RetryPolicy
from .shortcuts import ask, ask_stream
from .sse import ServerSentEvent
from .stats import StatsReport
from .streaming import ResponseStream, Stream
from .streaming.completions import CompletionStream
from .streaming.pieces import StreamPiece
from .timeouts import Timeout
from .transport.session import TCPKeepAlive
from .uploads import StreamedBody
from .version import __version__

# openai-python's names, so that a script ports by its import line alone (docs/migrating.md).
OpenAI = Client
AzureOpenAI = AzureClient
OpenAIError = ChatminiError

# The module-level client's settings (None: from the environment, as Client() reads them).
api_key: Optional[str] = None
organization: Optional[str] = None
project: Optional[str] = None
base_url: Optional[str] = None
timeout: Union[float, "tuple[Optional[float], Optional[float]]", None] = None
max_retries: Optional[int] = None
default_headers: Optional[Mapping[str, str]] = None
default_query: Optional[Mapping[str, str]] = None

if TYPE_CHECKING:
    from .batching import BatchInterrupted, PoolSizeWarning, batch, batch_iter
    from .objects.parsed import ParsedChatCompletion, ParsedResponse
    from .plugins.cache import ResponseCache
    from .plugins.compression import Compression, CompressionRejectedError
    from .plugins.fallback import Endpoint, EndpointsUnavailableError, Fallback
    from .plugins.msgpack_codec import MessagePack
    from .plugins.oauth2 import OAuth2ClientCredentials
    from .plugins.otel import OpenTelemetry
    from .plugins.prometheus import PrometheusMetrics
    from .plugins.ratelimit import RateLimiter
    from .plugins.redis_ratelimit import LimiterUnavailableError, RedisRateLimiter
    from .plugins.statsd import StatsdMetrics
    from .plugins.timing import SlowCallAlert, SlowCallRule, Timing
    from .plugins.token_provider import TokenProvider
    from .streaming.chat_events import ChatCompletionStream
    from .structured import FunctionTool, function_tool
    from .structured import function_tool as pydantic_function_tool
    from .tools import ToolInvocation, ToolRun, ToolRunEvent, ToolRunStream

# Loaded on first use: name -> module (relative to this package).
_LAZY = {
    "BatchInterrupted": ".batching",
    "PoolSizeWarning": ".batching",
    "batch": ".batching",
    "batch_iter": ".batching",
    "ResponseCache": ".plugins.cache",
    "Compression": ".plugins.compression",
    "CompressionRejectedError": ".plugins.compression",
    "Endpoint": ".plugins.fallback",
    "EndpointsUnavailableError": ".plugins.fallback",
    "Fallback": ".plugins.fallback",
    "MessagePack": ".plugins.msgpack_codec",
    "OAuth2ClientCredentials": ".plugins.oauth2",
    "OpenTelemetry": ".plugins.otel",
    "PrometheusMetrics": ".plugins.prometheus",
    "RateLimiter": ".plugins.ratelimit",
    "LimiterUnavailableError": ".plugins.redis_ratelimit",
    "RedisRateLimiter": ".plugins.redis_ratelimit",
    "StatsdMetrics": ".plugins.statsd",
    "SlowCallAlert": ".plugins.timing",
    "SlowCallRule": ".plugins.timing",
    "Timing": ".plugins.timing",
    "TokenProvider": ".plugins.token_provider",
    "ChatCompletionStream": ".streaming.chat_events",
    "ParsedChatCompletion": ".objects.parsed",
    "ParsedResponse": ".objects.parsed",
    "FunctionTool": ".structured",
    "function_tool": ".structured",
    "pydantic_function_tool": ".structured",
    "ToolInvocation": ".tools",
    "ToolRun": ".tools",
    "ToolRunEvent": ".tools",
    "ToolRunStream": ".tools",
}
_RENAMED = {"pydantic_function_tool": "function_tool"}  # openai-python's name for one


def __getattr__(name: str) -> Any:
    """Load the batch helpers and plugins on first use: ``import chatmini`` stays lean; and
    ``chatmini.chat`` & co. are the module-level client's (built on first use)."""
    if name in _MODULE_CLIENT:
        return _resource(name)  # not cached: the settings may change before the next call
    if name not in _LAZY:
        raise AttributeError(f"module 'chatmini' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(_LAZY[name], __name__), _RENAMED.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _MODULE_CLIENT)


__all__ = [
    # clients
    "AzureClient",
    "AzureOpenAI",
    "Client",
    "OpenAI",
    # what calls return and hooks receive
    "APIObject",
    "Batch",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionStream",
    "Completion",
    "CompletionStream",
    "CreateEmbeddingResponse",
    "CursorPage",
    "FileContent",
    "FileDeleted",
    "FileObject",
    "FunctionTool",
    "Model",
    "ModelList",
    "ModerationCreateResponse",
    "ParsedChatCompletion",
    "ParsedResponse",
    "RawResponse",
    "Request",
    "Response",
    "ResponseStream",
    "ResponseStreamEvent",
    "ServerSentEvent",
    "StatsReport",
    "Stream",
    "StreamPiece",
    "StreamedBody",
    "StreamedResponse",
    "Timing",
    "ToolInvocation",
    "ToolRun",
    "ToolRunEvent",
    "ToolRunStream",
    # exceptions and warnings
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BatchInterrupted",
    "CallInterrupted",
    "ChatminiError",
    "CompressionRejectedError",
    "ConflictError",
    "ContentFilterFinishReasonError",
    "EndpointsUnavailableError",
    "IncompleteStreamError",
    "InsecureTransportWarning",
    "InternalServerError",
    "InvalidRequestError",
    "LengthFinishReasonError",
    "LimiterUnavailableError",
    "MaxTurnsExceededError",
    "NotFoundError",
    "OpenAIError",
    "OutputValidationError",
    "PermissionDeniedError",
    "PoolSizeWarning",
    "RateLimitError",
    "ToolCallError",
    "ToolLoopError",
    "ToolTimeoutError",
    "UnprocessableEntityError",
    # plugins a user constructs
    "Compression",
    "Endpoint",
    "Fallback",
    "MessagePack",
    "OAuth2ClientCredentials",
    "OpenTelemetry",
    "PrometheusMetrics",
    "RateLimiter",
    "RedisRateLimiter",
    "ResponseCache",
    "SlowCallAlert",
    "SlowCallRule",
    "StatsdMetrics",
    "TokenProvider",
    # settings and helpers
    "NOT_GIVEN",
    "NotGiven",
    "Omit",
    "RetryPolicy",
    "TCPKeepAlive",
    "Timeout",
    "__version__",
    "ask",
    "ask_stream",
    "batch",
    "batch_iter",
    "function_tool",
    "hookimpl",
    "not_given",
    "omit",
    "pydantic_function_tool",
]
