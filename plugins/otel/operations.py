"""Which calls are GenAI operations, and what their requests and answers say in the conventions'
terms.

One table maps an API path to its operation. The readers are shared by every operation and go
by what a body holds (``choices`` for chat and completions, ``output`` and ``status`` for the
Responses API, ``usage`` in either spelling), so a new API is usually one line in
``OPERATIONS``. Everything read from the caller or the server is checked for type: a value of
the wrong kind is left out, never handed to OpenTelemetry and never raised to the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Mapping, Optional, Sequence, Union
from urllib.parse import urlsplit

from chatmini.usage import count, token_counts

from . import conventions as sc

AttributeValue = Union[str, bool, int, float, Sequence[str]]
Attributes = dict[str, AttributeValue]


@dataclass(frozen=True)
class Operation:
    """One GenAI operation: its conventions' name, and for streamed calls ``final``, which
    turns a finished stream of this API into its whole answer (a dict)."""

    name: str
    api_type: Optional[str] = None  # openai.api.type, for the openai provider
    final: Optional[Callable[[Any], Any]] = None


def _chat_final(stream: Any) -> Any:
    """A chat stream's answer so far, assembled from its chunks (the stream has ended)."""
    return stream.get_final_completion().to_dict()


def _responses_final(stream: Any) -> Any:
    """A Responses stream's final response (the terminal event's, or assembled from its items)."""
    return stream.get_final_response().to_dict()


# The Responses API is the conventions' "chat" (v1.41.0), told apart by openai.api.type.
OPERATIONS: Mapping[str, Operation] = {
    "/chat/completions": Operation("chat", "chat_completions", final=_chat_final),
    "/responses": Operation("chat", "responses", final=_responses_final),
    "/completions": Operation("text_completion", final=_chat_final),
    "/embeddings": Operation("embeddings"),
}


def operation_for(endpoint: str) -> Optional[Operation]:
    """The operation of an API path (``/chat/completions``), or None: not a GenAI call."""
    operation = OPERATIONS.get(endpoint)
    if operation is None and ("?" in endpoint or endpoint.endswith("/")):
        operation = OPERATIONS.get(endpoint.split("?", 1)[0].rstrip("/"))
    return operation


@lru_cache(maxsize=64)
@lru_cache(maxsize=64)  # a Client's base URL, or a Fallback endpoint's: a few per process
def server_of(base_url: str) -> tuple[str, int, bool]:
    """(address, port, whether the host is Azure OpenAI's) of a Client's base URL."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return host, port, host.endswith(sc.AZURE_HOSTS)


def request_attributes(params: Mapping[str, Any], openai: bool) -> Attributes:
    """The recommended request attributes for the parameters present in a call's body."""
    attributes: Attributes = {}
    get = params.get
    for key, (name, kind) in sc.NUMERIC_PARAMS.items():
        value = get(key)
        if type(value) is int or (kind is float and type(value) is float):
            attributes[name] = kind(value)
    stop = get("stop")
    if type(stop) is str:
        attributes[sc.REQUEST_STOP_SEQUENCES] = (stop,)
    elif type(stop) is list and stop and all(type(s) is str for s in stop):
        attributes[sc.REQUEST_STOP_SEQUENCES] = tuple(stop)
    n = get("n")
    if type(n) is int and n != 1:
        attributes[sc.REQUEST_CHOICE_COUNT] = n
    encoding = get("encoding_format")
    if type(encoding) is str:
        attributes[sc.REQUEST_ENCODING_FORMATS] = (encoding,)
    output = _output_type(get("response_format")) or _output_type(_field(get("text"), "format"))
    if output is not None:
        attributes[sc.OUTPUT_TYPE] = output
    tier = get("service_tier")
    if openai and type(tier) is str and tier != "auto":
        attributes[sc.OPENAI_REQUEST_SERVICE_TIER] = tier
    return attributes


def _output_type(response_format: Any) -> Optional[str]:
    kind = _field(response_format, "type")
    if type(kind) is not str:
        return None
    return "json" if kind in ("json_object", "json_schema") else kind


# Answer strings the metrics carry too (with the openai provider, its openai.response.*).
_MODEL = (("model", sc.RESPONSE_MODEL),)
_OPENAI_MODEL = _MODEL + (
    ("system_fingerprint", sc.OPENAI_RESPONSE_SYSTEM_FINGERPRINT),
    ("service_tier", sc.OPENAI_RESPONSE_SERVICE_TIER),
)


def answer_metric_attributes(
    data: Any, openai: bool
) -> tuple[Attributes, Optional[int], Optional[int]]:
    """What every signal needs from an answer: (``gen_ai.response.model`` and with the openai
    provider ``openai.response.*``, input tokens, output tokens); None where not said.

    Usage is read in Chat Completions' words (``prompt_tokens``) or the Responses API's
    (``input_tokens``).
    """
    attributes: Attributes = {}
    if type(data) is not dict:
        return attributes, None, None
    get = data.get
    for key, name in _OPENAI_MODEL if openai else _MODEL:
        value = get(key)
        if type(value) is str and value:
            attributes[name] = value
    usage = get("usage")
    if type(usage) is not dict:
        return attributes, None, None
    return (attributes, *token_counts(usage))


def answer_span_attributes(data: Any) -> Attributes:
    """What only the span says about an answer: its id, finish reasons and token usage,
    cached and reasoning tokens included when reported."""
    attributes: Attributes = {}
    if type(data) is not dict:
        return attributes
    value = data.get("id")
    if type(value) is str and value:
        attributes[sc.RESPONSE_ID] = value
    reasons = finish_reasons(data)
    if reasons:
        attributes[sc.RESPONSE_FINISH_REASONS] = reasons
    usage = data.get("usage")
    if type(usage) is not dict:
        return attributes
    tokens_in, tokens_out = token_counts(usage)
    for name, tokens in (
        (sc.USAGE_INPUT_TOKENS, tokens_in),
        (sc.USAGE_OUTPUT_TOKENS, tokens_out),
        (sc.USAGE_CACHE_READ_INPUT_TOKENS, _detail(
            usage.get("prompt_tokens_details") or usage.get("input_tokens_details"),
            "cached_tokens")),
        (sc.USAGE_REASONING_OUTPUT_TOKENS, _detail(
            usage.get("completion_tokens_details") or usage.get("output_tokens_details"),
            "reasoning_tokens")),
    ):
        if tokens is not None:
            attributes[name] = tokens
    return attributes


def _detail(details: Any, key: str) -> Optional[int]:
    """A count in a usage details object (``cached_tokens``), read as every count is."""
    return count(details.get(key)) if type(details) is dict else None


_RESPONSES_STATUS = {"completed": "stop", "failed": "error", "cancelled": "cancelled"}


def finish_reasons(data: dict[str, Any]) -> tuple[str, ...]:
    """One reason per generation: each choice's ``finish_reason``, or a Responses API status."""
    choices = data.get("choices")
    if type(choices) is list:
        reasons = [choice.get("finish_reason") for choice in choices if type(choice) is dict]
        return tuple(reason for reason in reasons if type(reason) is str)
    status = data.get("status")
    if status == "incomplete":
        reason = _field(data.get("incomplete_details"), "reason")
        return (reason if type(reason) is str else "incomplete",)
    reason = _RESPONSES_STATUS.get(status) if type(status) is str else None
    return (reason,) if reason is not None else ()


def _field(value: Any, key: str) -> Any:
    return value.get(key) if type(value) is dict else None
