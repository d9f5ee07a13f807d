"""What the test server's assistant says on Chat Completions: text, a refusal, or tool calls
(``Reply(tool_calls=...)``), with the finish reason each implies (``Reply(finish_reason=...)``
overrides it), as a message and as the deltas of a stream (tool calls as OpenAI streams them:
the id, type and name in a call's first fragment, its arguments in pieces after)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Optional

from .replies import CHUNK_PIECE, Reply, split_words

__all__ = ["Turn", "plan", "tool_call_list"]

ARGUMENT_PIECE = 8  # characters of arguments per streamed fragment


@dataclass
class Turn:
    content: Optional[str]
    refusal: Optional[str]
    calls: list[dict[str, Any]]
    finish: str

    def message(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": self.content,
                                   "refusal": self.refusal}
        if self.calls:
            message["tool_calls"] = self.calls
        return message

    def words(self) -> int:
        """The turn's length in words (the server counts words as tokens)."""
        text = (self.content or "") + (self.refusal or "")
        return len(text.split()) + sum(
            len(c["function"]["arguments"].split()) for c in self.calls)

    def deltas(self, chunks: Optional[int]) -> list[str]:
        """The stream's deltas after the role chunk, as JSON text."""
        out = []
        if self.content is not None:
            pieces = [CHUNK_PIECE] * chunks if chunks is not None else split_words(self.content)
            out += ['{"content":' + _dumps(p) + "}" for p in pieces]
        if self.refusal is not None:
            out += ['{"content":null,"refusal":' + _dumps(p) + "}"
                    for p in split_words(self.refusal)]
        for index, call in enumerate(self.calls):
            head = {"index": index, "id": call["id"], "type": "function",
                    "function": {"name": call["function"]["name"], "arguments": ""}}
            out.append(_dumps({"tool_calls": [head]}))
            arguments = call["function"]["arguments"]
            for start in range(0, len(arguments), ARGUMENT_PIECE):
                piece = arguments[start:start + ARGUMENT_PIECE]
                out.append(_dumps({"tool_calls": [
                    {"index": index, "function": {"arguments": piece}}]}))
        return out


def plan(text: str, reply: Reply, seq: int) -> Turn:
    """The turn a reply scripts: tool calls (text only if ``content`` is given too), a
    refusal, or the text."""
    calls = tool_call_list(reply, seq, "call")
    if calls:
        turn = Turn(reply.content, None, calls, "tool_calls")
    elif reply.refusal is not None:
        turn = Turn(None, reply.refusal, [], "stop")
    else:
        turn = Turn(text, None, [], "stop")
    if reply.finish_reason is not None:
        turn.finish = reply.finish_reason
    return turn


def tool_call_list(reply: Reply, seq: int, prefix: str) -> list[dict[str, Any]]:
    """The reply's tool calls in chat's shape, ids filled in (``call_<seq>_<i>``) and
    arguments as JSON text (a dict given is encoded)."""
    calls = []
    for i, call in enumerate(reply.tool_calls or ()):
        arguments = call.get("arguments", "{}")
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments)
        calls.append({"id": call.get("id") or call.get("call_id") or f"{prefix}_{seq}_{i}",
                      "type": "function",
                      "function": {"name": call["name"], "arguments": arguments}})
    return calls


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
