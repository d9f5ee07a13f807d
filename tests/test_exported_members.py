"""The public surface is pinned: ``chatmini.__all__`` is exactly the list below (changing it is a
deliberate act, with docs/design.md's rule "What is public"), every name resolves, and the lazy
ones stay lazy."""

from __future__ import annotations

import subprocess
import sys

import chatmini

PUBLIC = {
    # clients
    "AzureClient", "Client",
    "AzureOpenAI", "OpenAI",  # openai-python's names for them (issue 14: a port is one import)
    # what calls return and hooks receive
    "APIObject", "ChatCompletion", "ChatCompletionChunk", "ModelList", "Request", "Response",
    "ResponseStream", "ResponseStreamEvent", "ServerSentEvent", "StatsReport", "Stream",
    "Timing",
    "Batch", "CursorPage", "FileContent", "FileDeleted", "FileObject", "StreamedBody",
    # ... added with issue 14's everyday surface (embeddings, raw responses, legacy completions)
    "ChatCompletionStream", "Completion", "CompletionStream", "CreateEmbeddingResponse", "Model",
    "ModerationCreateResponse", "RawResponse", "StreamedResponse",
    # exceptions and warnings
    "APIConnectionError", "APIError", "APIResponseValidationError", "APIStatusError",
    "APITimeoutError", "AuthenticationError", "BadRequestError", "BatchInterrupted",
    "CallInterrupted", "ChatminiError", "CompressionRejectedError", "ConflictError", "EndpointsUnavailableError",
    "IncompleteStreamError", "InsecureTransportWarning", "InternalServerError",
    "InvalidRequestError",
    "LimiterUnavailableError", "NotFoundError", "PermissionDeniedError", "PoolSizeWarning",
    "RateLimitError", "UnprocessableEntityError",
    "OpenAIError",  # openai-python's name for ChatminiError
    # plugins a user constructs
    "Compression", "Endpoint", "Fallback", "MessagePack", "OAuth2ClientCredentials",
    "OpenTelemetry", "PrometheusMetrics", "RateLimiter", "RedisRateLimiter", "ResponseCache",
    "SlowCallAlert", "SlowCallRule", "StatsdMetrics", "TokenProvider",
    # settings and helpers
    "RetryPolicy", "TCPKeepAlive", "Timeout", "__version__", "ask", "ask_stream", "batch",
    "batch_iter", "hookimpl",
    # openai-python's sentinel for an argument left out (issue 14)
    "NOT_GIVEN", "NotGiven", "not_given", "Omit", "omit",
    # structured outputs and tool loops (issue 16)
    "ParsedChatCompletion", "ParsedResponse", "FunctionTool", "function_tool",
    "pydantic_function_tool", "ToolInvocation", "ToolRun", "ToolRunEvent", "ToolRunStream",
    "LengthFinishReasonError", "ContentFilterFinishReasonError", "OutputValidationError",
    "ToolLoopError", "MaxTurnsExceededError", "ToolCallError", "ToolTimeoutError",
    # reasoning text apart from the answer (issue 16)
    "StreamPiece",
}
LAZY = {"BatchInterrupted", "PoolSizeWarning", "batch", "batch_iter", "Compression",
        "CompressionRejectedError", "Endpoint", "EndpointsUnavailableError", "Fallback",
        "MessagePack", "OAuth2ClientCredentials", "OpenTelemetry", "PrometheusMetrics",
        "RateLimiter", "LimiterUnavailableError", "RedisRateLimiter", "ResponseCache",
        "StatsdMetrics", "SlowCallAlert", "SlowCallRule", "Timing", "TokenProvider",
        "ChatCompletionStream", "ParsedChatCompletion", "ParsedResponse", "FunctionTool",
        "function_tool", "pydantic_function_tool", "ToolInvocation", "ToolRun", "ToolRunEvent",
        "ToolRunStream"}


def test_all_is_exactly_the_public_surface():
    assert len(chatmini.__all__) == len(set(chatmini.__all__))
    assert set(chatmini.__all__) == PUBLIC


def test_every_public_name_resolves_to_chatmini_code():
    for name in chatmini.__all__:
        value = getattr(chatmini, name)
        if name == "__version__":
            assert isinstance(value, str)
            continue
        if name == "hookimpl":  # pluggy's marker for the "chatmini" project
            assert value.project_name == "chatmini"
            continue
        assert value.__module__.startswith("chatmini."), name
        assert name in dir(chatmini)


def test_every_exception_is_a_chatmini_error_or_warning():
    for name in chatmini.__all__:
        value = getattr(chatmini, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            assert issubclass(value, (chatmini.ChatminiError, Warning, KeyboardInterrupt)), name


def test_lazy_names_load_nothing_at_import():
    heavy = ("chatmini.plugins", "chatmini.batching", "chatmini.cli", "chatmini.testing",
             "chatmini.structured", "chatmini.tools", "pydantic",
             "prometheus_client", "redis", "msgpack", "opentelemetry")
    code = ("import sys, chatmini; "
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r} or "
            f"any(m == h or m.startswith(h + '.') for h in {heavy!r})))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]"
    assert LAZY <= PUBLIC


def test_unknown_names_are_attribute_errors():
    try:
        chatmini.NoSuchThing  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("chatmini.NoSuchThing resolved")
