"""Reasoning text and per-chunk extras in the test server's chat answers, shaped as real
servers send them (WIRE.md): reasoning word by word before the answer, in ``reasoning_content``
(llama.cpp, DeepSeek) or ``reasoning`` (vLLM, Ollama), with ``content`` left out, ``""`` or
null beside it; extra fields on every chunk (llama.cpp's ``timings``); usage on every chunk
(vLLM's ``continuous_usage_stats``) or on the finish chunk, unasked (Gemini's compatibility
layer)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional

if TYPE_CHECKING:
    from .replies import Reply

FIELDS = ("reasoning_content", "reasoning")
CHUNK_CONTENT = {"absent": "", "empty": '"content":"",', "null": '"content":null,'}
USAGE_ON = ("final", "every", "finish")


def check(reply: Reply) -> None:
    """Reject reasoning and usage settings no server sends."""
    for name, allowed in (("reasoning_field", FIELDS),
                          ("reasoning_chunk_content", tuple(CHUNK_CONTENT)),
                          ("usage_on", USAGE_ON)):
        if getattr(reply, name) not in allowed:
            raise ValueError(f"{name} must be one of {allowed}, not {getattr(reply, name)!r}")
    if reply.chunk_extras is not None and not isinstance(reply.chunk_extras, dict):
        raise ValueError(f"chunk_extras must be a dict, not {reply.chunk_extras!r}")


def tokens(reply: Optional[Reply]) -> int:
    """The reply's reasoning tokens (words, as the server counts them)."""
    return len(reply.reasoning.split()) if reply is not None and reply.reasoning else 0


def deltas(reply: Optional[Reply], split: Callable[[str], list[str]]) -> list[str]:
    """The reasoning deltas of a stream (JSON text), one per ``split`` piece of the reply's
    reasoning, in its style."""
    if reply is None or reply.reasoning is None:
        return []
    head = "{" + CHUNK_CONTENT[reply.reasoning_chunk_content] + _dumps(reply.reasoning_field) + ":"
    encoded: dict[str, str] = {}
    return [encoded.get(p) or encoded.setdefault(p, head + _dumps(p) + "}")
            for p in split(reply.reasoning)]


def usage_on(reply: Optional[Reply], options: Mapping[str, Any]) -> str:
    """Where usage goes: ``every`` chunk when the request asks as vLLM's
    ``stream_options.continuous_usage_stats`` does, else as the reply says."""
    if options.get("continuous_usage_stats") is True:
        return "every"
    return reply.usage_on if reply is not None else "final"


def so_far(total: dict[str, Any], before: int) -> dict[str, Any]:
    """The running usage of a chunk after ``before`` others (continuous usage stats): one
    completion token a chunk, up to the total."""
    done = min(before + 1, total["completion_tokens"])
    return {"prompt_tokens": total["prompt_tokens"], "completion_tokens": done,
            "total_tokens": total["prompt_tokens"] + done}


def at_finish(usage_on: str, total: dict[str, Any], last: bool) -> str:
    """The usage on a finish chunk: the total on every one (continuous usage) or on the
    last (Gemini's layer), else null."""
    return _dumps(total) if usage_on == "every" or (usage_on == "finish" and last) else "null"


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))
