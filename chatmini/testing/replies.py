"""Scripted replies and the byte builders behind the chatmini test server's answers."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..codings import FlushingCompressor
from . import chat_reasoning

if TYPE_CHECKING:
    from .chat_turns import Turn

__all__ = ["Reply"]

DEFAULT_MODEL = "gpt-4o-mini"
FINGERPRINT = "fp_chatmini"
CHUNK_PIECE = "tok "
MODELS = ("gpt-4o-mini", "gpt-4o")
OUTCOMES = ("completed", "incomplete", "failed")
PER_EVENT = "per-event"  # each event its own write and HTTP chunk, as real servers send
COALESCED = "coalesced"  # every event ready at once in one write (one read on the client)
FRAMINGS = (PER_EVENT, COALESCED)


@dataclass(frozen=True)
class Reply:
    """One scripted answer for the test server; every field is optional (pass them by keyword).

    Fields left at their defaults fall back to the server's normal OpenAI-compatible behaviour.
    """

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | str | dict[str, Any] | list[Any] | None = None
    content_type: str | None = None
    delay: float = 0.0
    drop: bool = False
    path: str | None = None
    content: str | None = None
    chunks: int | None = None
    cut_after: int | None = None
    no_done: bool = False
    error_event: dict[str, Any] | None = None
    pause_after: int | None = None
    pause: float = 0.0
    close_delimited: bool = False
    gzip: bool = False
    content_encoding: str | None = None
    raw_stream: bytes | None = None
    line_ending: str = "\n"
    tool_calls: list[dict[str, Any]] | None = None
    refusal: str | None = None
    finish_reason: str | None = None
    repeat: bool = False
    # Reasoning text before the answer (both APIs; the fields after it are Chat Completions'):
    reasoning: str | None = None
    reasoning_field: str = "reasoning_content"
    reasoning_chunk_content: str = "absent"
    chunk_extras: dict[str, Any] | None = None
    usage_on: str = "final"
    # The Responses API (``/v1/responses``) only:
    reasoning_summary: bool = True
    outcome: str = "completed"
    null_output: bool = False
    with_done: bool = False

    def __post_init__(self) -> None:
        """Reject values that would make the scripted reply ambiguous."""
        if self.line_ending not in ("\n", "\r\n", "\r"):
            raise ValueError("line_ending must be '\\n', '\\r\\n' or '\\r'")
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, not {self.outcome!r}")
        chat_reasoning.check(self)
        if self.with_done and self.no_done:
            raise ValueError("with_done=True and no_done=True disagree: pass one of them")
        for call in self.tool_calls or ():
            if not isinstance(call, dict) or not isinstance(call.get("name"), str):
                raise ValueError(f"each tool call must be a dict with a 'name', not {call!r}")
        if self.tool_calls and self.refusal is not None:
            raise ValueError("tool_calls= and refusal= disagree: a turn is one or the other")
        for name in ("chunks", "cut_after", "pause_after"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0")

    def encoded_body(self) -> tuple[bytes, str]:
        """Return the verbatim body as bytes together with its content type."""
        body = self.body
        if isinstance(body, (dict, list)):
            return json.dumps(body).encode(), self.content_type or "application/json"
        if isinstance(body, str):
            return body.encode("utf-8"), self.content_type or "text/plain; charset=utf-8"
        return bytes(body or b""), self.content_type or "text/plain"


_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("permission_error", None, "You are not allowed to access this resource."),
    404: ("invalid_request_error", None, "The requested resource does not exist."),
    409: ("invalid_request_error", "conflict", "The request conflicts with the current state."),
    413: ("invalid_request_error", "request_too_large", "The request is too large."),
    422: ("invalid_request_error", None, "The request could not be processed."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests."),
    500: ("server_error", None, "The server had an error while processing your request."),
    502: ("server_error", "bad_gateway", "Bad gateway."),
    503: ("server_error", "service_unavailable", "The server is overloaded or not ready yet."),
    504: ("server_error", "timeout", "The server timed out."),
}


def error_payload(status: int, message: str | None = None) -> dict[str, Any]:
    """Build an OpenAI-style error body with a type and code fitting the HTTP status."""
    fallback = "server_error" if status >= 500 else "invalid_request_error"
    kind, code, default_message = _ERRORS.get(status, (fallback, None, f"HTTP error {status}."))
    return {"error": {"message": message or default_message, "type": kind, "param": None,
                      "code": code}}


def _text_of(content: Any) -> str:
    """Flatten a message's content (a string or a list of parts) into plain text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text", "")) for part in content
            if isinstance(part, dict) and part.get("type", "text") == "text"
        )
    return ""


def default_text(request: dict[str, Any]) -> str:
    """Return the default reply text: "echo: " plus the last user message's text."""
    messages = request.get("messages")
    if isinstance(messages, list):
        for message in reversed(messages):
            if isinstance(message, dict) and message.get("role") == "user":
                return "echo: " + _text_of(message.get("content"))
    return "echo: "


def _count_tokens(text: str) -> int:
    """Approximate a token count by counting whitespace-separated words."""
    return len(text.split())


def _usage(request: dict[str, Any], completion_tokens: int,
           reasoning_tokens: int = 0) -> dict[str, Any]:
    """Build a usage block whose numbers are stable and consistent (reasoning tokens are
    completion tokens too, as OpenAI counts them)."""
    messages = request.get("messages")
    prompt = 0
    if isinstance(messages, list):
        prompt = sum(_count_tokens(_text_of(m.get("content"))) for m in messages
                     if isinstance(m, dict))
    prompt = max(prompt, 1)
    completion_tokens += reasoning_tokens
    usage: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion_tokens,
                             "total_tokens": prompt + completion_tokens}
    if reasoning_tokens:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning_tokens}
    return usage


def choice_count(request: dict[str, Any]) -> int:
    """Return the request's ``n`` (number of choices), defaulting to 1."""
    n = request.get("n")
    return n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 1


def completion(request: dict[str, Any], seq: int, text: str,
               turn: Turn | None = None, reply: Reply | None = None) -> dict[str, Any]:
    """Build a non-streaming ChatCompletion object exactly in OpenAI's shape (the message,
    finish reason and length of ``turn`` when a reply scripts one: tool calls, a refusal;
    the reply's reasoning in its field)."""
    n = choice_count(request)
    message = turn.message() if turn is not None else {
        "role": "assistant", "content": text, "refusal": None}
    thought = chat_reasoning.tokens(reply)
    if reply is not None and reply.reasoning is not None:
        message[reply.reasoning_field] = reply.reasoning
    return {
        "id": f"chatcmpl-{seq}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model") or DEFAULT_MODEL,
        "choices": [
            {"index": i, "message": dict(message), "logprobs": None,
             "finish_reason": turn.finish if turn is not None else "stop"}
            for i in range(n)
        ],
        "usage": _usage(request, n * (turn.words() if turn is not None else _count_tokens(text)),
                        n * thought),
        "system_fingerprint": FINGERPRINT,
    }


def models() -> dict[str, Any]:
    """Build the ``GET /v1/models`` listing."""
    return {"object": "list", "data": [model(name) for name in MODELS]}


def model(name: str) -> dict[str, Any]:
    """Build one model object as returned by ``GET /v1/models/{id}``."""
    return {"id": name, "object": "model", "created": 1700000000, "owned_by": "chatmini"}


def split_words(text: str) -> list[str]:
    """Split text into word pieces that keep their trailing whitespace."""
    return re.findall(r"\S+\s*|\s+", text)


def _dumps(obj: Any) -> str:
    """Serialise JSON compactly, the way OpenAI's stream does."""
    return json.dumps(obj, separators=(",", ":"))


def stream_events(request: dict[str, Any], seq: int, text: str, *, chunks: int | None = None,
                  error_event: dict[str, Any] | None = None, done: bool = True,
                  line_ending: str = "\n", turn: Turn | None = None,
                  reply: Reply | None = None) -> list[bytes]:
    """Build every server-sent event of a streamed completion, one bytes object per event
    (``turn``'s deltas and finish reason when a reply scripts one; the reply's reasoning
    first, its extras on every chunk, its usage where it says: ``chat_reasoning``)."""
    end = (line_ending * 2).encode()
    n = choice_count(request)
    options = request.get("stream_options") or {}
    include_usage = bool(options.get("include_usage"))
    usage_on = chat_reasoning.usage_on(reply, options)
    base: dict[str, Any] = {
        "id": f"chatcmpl-{seq}", "object": "chat.completion.chunk", "created": int(time.time()),
        "model": request.get("model") or DEFAULT_MODEL, "system_fingerprint": FINGERPRINT,
        **((reply.chunk_extras if reply is not None else None) or {}),
    }
    templates = []
    for i in range(n):
        chunk = dict(base, choices=[{"index": i, "delta": "__DELTA__", "logprobs": None,
                                     "finish_reason": "__FINISH__"}])
        if include_usage or usage_on != "final":
            chunk["usage"] = "__USAGE__"
        templates.append(_dumps(chunk).split('"__DELTA__"'))

    def event(i: int, delta: str, finish: str = "null", usage: str = "null") -> bytes:
        head, tail = templates[i]
        tail = tail.replace('"__FINISH__"', finish).replace('"__USAGE__"', usage)
        return b"data: " + (head + delta + tail).encode() + end

    first = _dumps(_usage(request, 0)) if usage_on == "every" else "null"  # none produced yet
    events = [event(i, '{"role":"assistant","content":""}', usage=first) for i in range(n)]
    if error_event is not None:
        events.append(b"event: error" + line_ending.encode() + b"data: "
                      + _dumps(error_event).encode() + end)
        return events
    if turn is not None:
        deltas, finish, words = turn.deltas(chunks), _dumps(turn.finish), turn.words()
    else:
        pieces = [CHUNK_PIECE] * chunks if chunks is not None else split_words(text)
        encoded = {piece: '{"content":' + _dumps(piece) + "}" for piece in set(pieces)}
        deltas = [encoded[piece] for piece in pieces]  # a 20,000-chunk reply has one piece
        finish, words = '"stop"', _count_tokens("".join(pieces))
    deltas = chat_reasoning.deltas(reply, split_words) + deltas
    total = _usage(request, n * words, n * chat_reasoning.tokens(reply))
    cache: dict[tuple[int, str], bytes] = {}
    for count, delta in enumerate(deltas):
        for i in range(n):
            key = (i, delta)
            if usage_on == "every":  # a running count on each chunk: vLLM's continuous usage
                so_far = chat_reasoning.so_far(total, count * n + i)
                cache[key] = event(i, delta, usage=_dumps(so_far))
            elif key not in cache:
                cache[key] = event(i, delta)
            events.append(cache[key])
    events.extend(event(i, "{}", finish, chat_reasoning.at_finish(usage_on, total, i == n - 1))
                  for i in range(n))
    if include_usage and usage_on != "finish":
        events.append(b"data: " + _dumps(dict(base, choices=[], usage=total)).encode() + end)
    if done:
        events.append(b"data: [DONE]" + end)
    return events


class StreamEncoder:
    """Turn events into wire bytes: optional compression, then optional chunked framing."""

    def __init__(self, *, coding: str | None, chunked: bool) -> None:
        """Create an encoder; compressed output (gzip, deflate, br, zstd) is flushed per event."""
        self._zip = FlushingCompressor(coding) if coding else None
        self._chunked = chunked

    def _frame(self, data: bytes) -> bytes:
        """Wrap data in one HTTP/1.1 chunk when chunked framing is on."""
        if not self._chunked or not data:
            return data
        return b"%x\r\n" % len(data) + data + b"\r\n"

    def encode(self, events: list[bytes]) -> bytes:
        """Encode a batch of events into one block that can be written in a single call."""
        if self._zip is None:
            return self._frame(b"".join(events))
        return self._frame(b"".join(map(self._zip.feed, events)))

    def finish(self) -> bytes:
        """Return the compressed stream's end and the chunked terminator, whichever apply."""
        tail = self._frame(self._zip.finish()) if self._zip is not None else b""
        return tail + (b"0\r\n\r\n" if self._chunked else b"")
