"""Which calls are GenAI operations, and what their requests and answers say in the conventions'
terms.

One table maps an API path to its operation. The readers are shared by every operation and go
by what a body holds (``choices`` for chat and completions, ``output`` and ``status`` for the
Responses API, ``usage`` in either spelling), so a new API is usually one line in
``OPERATIONS``. Everything read from the caller or the server is checked for type: a value of
the wrong kind is left out, never handed to OpenTelemetry and never raised to the caller.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Mapping, Optional, Sequence, Union
from urllib.parse import urlsplit

from . import conventions as sc

AttributeValue = Union[str, bool, int, float, Sequence[str]]
Attributes = dict[str, AttributeValue]


@dataclass(frozen=True)
class Operation:
    """One GenAI operation: its conventions' name and how chatmini reads its answers.

    ``whole_body`` False reads only the end of a body (``model`` and ``usage``): embeddings
    answers put them after vectors that would cost a second full parse. ``final`` turns a
    finished stream of this API into its whole answer (a dict), for streamed calls.
    """

    name: str
    api_type: Optional[str] = None  # openai.api.type, for the openai provider
    whole_body: bool = True
    final: Optional[Callable[[Any], Any]] = None


def _chat_final(stream: Any) -> Any:
    """A chat stream's answer so far, assembled from its chunks (the stream has ended)."""
    return stream.get_final_completion().to_dict()


# The Responses API is the conventions' "chat" (v1.41.0), told apart by openai.api.type;
# streamed Responses calls get their answer once its stream class offers one (``final``).
OPERATIONS: Mapping[str, Operation] = {
    "/chat/completions": Operation("chat", "chat_completions", final=_chat_final),
    "/responses": Operation("chat", "responses"),
    "/completions": Operation("text_completion", final=_chat_final),
    "/embeddings": Operation("embeddings", whole_body=False),
}


def operation_for(endpoint: str) -> Optional[Operation]:
    """The operation of an API path (``/chat/completions``), or None: not a GenAI call."""
    operation = OPERATIONS.get(endpoint)
    if operation is None and ("?" in endpoint or endpoint.endswith("/")):
        operation = OPERATIONS.get(endpoint.split("?", 1)[0].rstrip("/"))
    return operation


@lru_cache(maxsize=64)
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


def read_body(body: bytes, operation: Operation) -> Any:
    """A non-streamed answer's JSON (for ``whole_body=False`` only its ``model`` and
    ``usage``), or None when it is not JSON."""
    if not body:
        return None
    if not operation.whole_body:
        return {"model": _last_value(body, b'"model"'), "usage": _last_value(body, b'"usage"')}
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


_COLON = re.compile(rb"\s*:\s*")
_DECODER = json.JSONDecoder()
_VALUE_SPAN = 4096


def _last_value(body: bytes, key: bytes) -> Any:
    """The value after the last ``key`` of a JSON body, read without parsing the rest."""
    at = body.rfind(key)
    colon = _COLON.match(body, at + len(key)) if at >= 0 else None
    if colon is None:
        return None
    text = body[colon.end(): colon.end() + _VALUE_SPAN].decode("utf-8", "replace")
    try:
        return _DECODER.raw_decode(text)[0]
    except (ValueError, RecursionError):
        return None


def answer_attributes(
    data: Any, openai: bool
) -> tuple[Attributes, Optional[int], Optional[int]]:
    """(response attributes, input tokens, output tokens) of an answer; None where not said."""
    attributes: Attributes = {}
    if type(data) is not dict:
        return attributes, None, None
    _put(attributes, sc.RESPONSE_ID, data.get("id"))
    _put(attributes, sc.RESPONSE_MODEL, data.get("model"))
    reasons = finish_reasons(data)
    if reasons:
        attributes[sc.RESPONSE_FINISH_REASONS] = reasons
    if openai:
        _put(attributes, sc.OPENAI_RESPONSE_SYSTEM_FINGERPRINT, data.get("system_fingerprint"))
        _put(attributes, sc.OPENAI_RESPONSE_SERVICE_TIER, data.get("service_tier"))
    usage = data.get("usage")
    if type(usage) is not dict:
        return attributes, None, None
    tokens_in = _count(usage, "prompt_tokens", "input_tokens")
    tokens_out = _count(usage, "completion_tokens", "output_tokens")
    cached = _count(_details(usage, "prompt_tokens_details", "input_tokens_details"),
                    "cached_tokens")
    reasoning = _count(_details(usage, "completion_tokens_details", "output_tokens_details"),
                       "reasoning_tokens")
    for name, value in ((sc.USAGE_INPUT_TOKENS, tokens_in), (sc.USAGE_OUTPUT_TOKENS, tokens_out),
                        (sc.USAGE_CACHE_READ_INPUT_TOKENS, cached),
                        (sc.USAGE_REASONING_OUTPUT_TOKENS, reasoning)):
        if value is not None:
            attributes[name] = value
    return attributes, tokens_in, tokens_out


_RESPONSES_STATUS = {"completed": "stop", "failed": "error", "cancelled": "cancelled"}


def finish_reasons(data: dict[str, Any]) -> tuple[str, ...]:
    """One reason per generation: each choice's ``finish_reason``, or a Responses API status."""
    choices = data.get("choices")
    if type(choices) is list:
        return tuple(
            reason for choice in choices
            if type(choice) is dict and type(reason := choice.get("finish_reason")) is str
        )
    status = data.get("status")
    if status == "incomplete":
        reason = _field(data.get("incomplete_details"), "reason")
        return (reason if type(reason) is str else "incomplete",)
    reason = _RESPONSES_STATUS.get(status) if type(status) is str else None
    return (reason,) if reason is not None else ()


def _put(attributes: Attributes, name: str, value: Any) -> None:
    if type(value) is str and value:
        attributes[name] = value


def _field(value: Any, key: str) -> Any:
    return value.get(key) if type(value) is dict else None


def _details(usage: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        value = usage.get(key)
        if type(value) is dict:
            return value
    return None


def _count(usage: Any, *keys: str) -> Optional[int]:
    if type(usage) is not dict:
        return None
    for key in keys:
        value = usage.get(key)
        if type(value) is int and value >= 0:
            return value
    return None
