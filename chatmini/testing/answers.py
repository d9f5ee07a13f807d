"""The test server's answers for models, embeddings, moderations and legacy completions.

Shaped as api.openai.com answers them, closely enough that the official SDK reads them:
embeddings are unit vectors derived from the input (the same input, the same vector), as
floats or base64 float32 little-endian; moderation flags a few trigger words; a legacy
completion echoes its prompt like the chat endpoint echoes the last user message.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import struct
import time
from array import array
from typing import Any, Optional

from . import chat_reasoning
from .replies import CHUNK_PIECE, DEFAULT_MODEL, FINGERPRINT, MODELS, model, split_words

OTHER_MODELS = ("gpt-3.5-turbo-instruct", "text-embedding-3-small", "text-embedding-3-large",
                "text-embedding-ada-002", "omni-moderation-latest")
EMBEDDING_SIZES = {"text-embedding-3-large": 3072}
EMBEDDING_SIZE = 1536
CATEGORIES = (
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit",
    "illicit/violent", "self-harm", "self-harm/instructions", "self-harm/intent", "sexual",
    "sexual/minors", "violence", "violence/graphic",
)
TRIGGERS = {"kill": ("violence",), "hate": ("hate", "harassment")}


class Invalid(ValueError):
    """A request the API would refuse with 400; the message names the field."""

    def __init__(self, message: str, param: Optional[str] = None) -> None:
        super().__init__(message)
        self.param = param


def invalid(error: Invalid) -> dict[str, Any]:
    """The 400 body for a request the API would refuse."""
    return {"error": {"message": str(error), "type": "invalid_request_error",
                      "param": error.param, "code": None}}


def model_not_found(name: str) -> dict[str, Any]:
    """The 404 body of ``GET /v1/models/{id}`` for a model the server does not have."""
    return {"error": {"message": f"The model '{name}' does not exist",
                      "type": "invalid_request_error", "param": "model",
                      "code": "model_not_found"}}


def known_model(name: str) -> Optional[dict[str, Any]]:
    """``GET /v1/models/{id}``: the model, or None (a 404) when the server has no such model
    (it lists only its chat models, but knows the embedding, moderation and instruct ones)."""
    return model(name) if name in MODELS or name in OTHER_MODELS else None


def _count(text: str) -> int:
    return max(len(text.split()), 1)


def _inputs(request: dict[str, Any], field: str) -> list[Any]:
    """``input``/``prompt`` as a list of items: a string, a token array, or a list of them."""
    value = request.get(field)
    if value == "" or value == [] or value is None:
        raise Invalid(f"'{field}' must not be empty.", field)
    if isinstance(value, str) or (isinstance(value, list) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value)):
        return [value]
    if isinstance(value, list) and all(
            isinstance(v, str) or (isinstance(v, list) and v and all(
                isinstance(t, int) and not isinstance(t, bool) for t in v)) for v in value):
        return list(value)
    raise Invalid(f"'{field}' must be a string, an array of strings or of token arrays.", field)


def _tokens(item: Any) -> int:
    return len(item) if isinstance(item, list) else _count(item)


def vector(item: Any, size: int) -> list[float]:
    """A unit vector of ``size`` floats derived from the input (repeatable)."""
    seed = hashlib.sha256(repr(item).encode()).digest()
    rng = random.Random(seed)
    values = [rng.gauss(0.0, 1.0) for _ in range(size)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return array("f", [v / norm for v in values]).tolist()  # float32, as base64 carries it


def embeddings(request: dict[str, Any]) -> dict[str, Any]:
    """``POST /v1/embeddings``."""
    name = request.get("model")
    if not isinstance(name, str) or not name:
        raise Invalid("you must provide a model parameter", "model")
    items = _inputs(request, "input")
    fmt = request.get("encoding_format", "float")
    if fmt not in ("float", "base64"):
        raise Invalid("encoding_format must be 'float' or 'base64'.", "encoding_format")
    size = request.get("dimensions") or EMBEDDING_SIZES.get(name, EMBEDDING_SIZE)
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise Invalid("dimensions must be a positive integer.", "dimensions")
    data = []
    for index, item in enumerate(items):
        values = vector(item, size)
        encoded: Any = values
        if fmt == "base64":
            encoded = base64.b64encode(struct.pack(f"<{size}f", *values)).decode("ascii")
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    tokens = sum(_tokens(item) for item in items)
    return {"object": "list", "data": data, "model": name,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


def moderations(request: dict[str, Any], seq: int) -> dict[str, Any]:
    """``POST /v1/moderations``: inputs with a trigger word (``kill``, ``hate``) are flagged."""
    value = request.get("input")
    items = value if isinstance(value, list) else [value]
    if value in ("", [], None):
        raise Invalid("'input' must not be empty.", "input")
    results = []
    for item in items:
        text = item.get("text", "") if isinstance(item, dict) else str(item)
        hits = {c for word, cats in TRIGGERS.items() if word in text.lower() for c in cats}
        results.append({
            "flagged": bool(hits),
            "categories": {c: c in hits for c in CATEGORIES},
            "category_scores": {c: 0.9 if c in hits else 0.0001 for c in CATEGORIES},
            "category_applied_input_types": {c: ["text"] for c in CATEGORIES},
        })
    return {"id": f"modr-{seq}", "model": request.get("model") or "omni-moderation-latest",
            "results": results}


def _prompts(request: dict[str, Any]) -> list[str]:
    return [p if isinstance(p, str) else f"<{len(p)} tokens>" for p in _inputs(request, "prompt")]


def _choice_count(request: dict[str, Any]) -> int:
    n = request.get("n")
    return n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 1


def _completion_base(request: dict[str, Any], seq: int) -> dict[str, Any]:
    return {"id": f"cmpl-{seq}", "object": "text_completion", "created": int(time.time()),
            "model": request.get("model") or DEFAULT_MODEL, "system_fingerprint": FINGERPRINT}


def completion(request: dict[str, Any], seq: int, text: Optional[str]) -> dict[str, Any]:
    """``POST /v1/completions``: ``echo: `` + each prompt (``n`` choices per prompt)."""
    prompts, n = _prompts(request), _choice_count(request)
    choices = [
        {"text": text if text is not None else "echo: " + prompt, "index": i * n + j,
         "logprobs": None, "finish_reason": "stop"}
        for i, prompt in enumerate(prompts) for j in range(n)
    ]
    produced = sum(_count(str(c["text"])) for c in choices)
    prompt_tokens = sum(_count(p) for p in prompts)
    return {**_completion_base(request, seq), "choices": choices,
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": produced,
                      "total_tokens": prompt_tokens + produced}}


def completion_events(request: dict[str, Any], seq: int, text: Optional[str], *,
                      chunks: Optional[int] = None, error_event: Optional[dict[str, Any]] = None,
                      done: bool = True, extras: Optional[dict[str, Any]] = None,
                      usage_on: str = "final") -> list[bytes]:
    """Every event of a streamed legacy completion, one bytes object per event (``extras``
    on each; a running usage on each too when ``usage_on`` is ``every``)."""
    base = {**_completion_base(request, seq), **(extras or {})}
    total = completion(request, seq, text)["usage"]
    sent: list[int] = []

    def event(payload: dict[str, Any]) -> bytes:
        if usage_on == "every" and payload["choices"]:
            payload = dict(payload, usage=chat_reasoning.so_far(total, len(sent)))
            sent.append(1)
        return b"data: " + json.dumps({**base, **payload}, separators=(",", ":")).encode() + b"\n\n"

    def choice(index: int, piece: str, finish: Optional[str] = None) -> dict[str, Any]:
        return {"choices": [{"text": piece, "index": index, "logprobs": None,
                             "finish_reason": finish}]}

    prompts, n = _prompts(request), _choice_count(request)
    events: list[bytes] = []
    for i, prompt in enumerate(prompts):
        body = text if text is not None else "echo: " + prompt
        pieces = [CHUNK_PIECE] * chunks if chunks is not None else split_words(body)
        for j in range(n):
            events.extend(event(choice(i * n + j, piece)) for piece in pieces)
            if error_event is not None:
                return events + [b"event: error\ndata: " + json.dumps(error_event).encode()
                                 + b"\n\n"]
            events.append(event(choice(i * n + j, "", "stop")))
    if (request.get("stream_options") or {}).get("include_usage"):
        events.append(event({"choices": [], "usage": total}))
    if done:
        events.append(b"data: [DONE]\n\n")
    return events
