"""Message content in the conventions' shape, for callers who opt in to capturing it.

``gen_ai.input.messages`` and ``gen_ai.output.messages`` are lists of ``{"role", "parts"}``
(output messages add ``finish_reason``); a part is ``{"type": "text", "content"}``,
``{"type": "tool_call", "id", "name", "arguments"}``, ``{"type": "tool_call_response", "id",
"response"}``, ``{"type": "reasoning", "content"}``, ``{"type": "uri", "modality", "uri"}``, or
only its ``type`` for kinds chatmini does not map. Spans cannot hold structured values in
OpenTelemetry Python, so each list is recorded as a JSON string, as the conventions allow.
System messages of a chat stay in its input messages (they are part of the chat history);
the Responses API's ``instructions`` become ``gen_ai.system_instructions``.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Optional

from . import conventions as sc
from .operations import Attributes, finish_reasons

Part = dict[str, Any]
Message = dict[str, Any]


def input_attributes(params: Mapping[str, Any]) -> Attributes:
    """``gen_ai.input.messages`` (and ``gen_ai.system_instructions``) of a request body."""
    attributes: Attributes = {}
    messages = params.get("messages")
    if type(messages) is list:
        found = [_message(m) for m in messages if type(m) is dict]
    else:
        found = _prompt(params.get("prompt"))
        found += _responses_input(params.get("input"))
    if found:
        attributes[sc.INPUT_MESSAGES] = _json(found)
    instructions = params.get("instructions")
    if type(instructions) is str and instructions:
        attributes[sc.SYSTEM_INSTRUCTIONS] = _json([_text(instructions)])
    return attributes


def output_attributes(data: Any) -> Attributes:
    """``gen_ai.output.messages`` of an answer: one message per choice (Responses API: one)."""
    if type(data) is not dict:
        return {}
    found: list[Message] = []
    choices = data.get("choices")
    if type(choices) is list:
        for choice in choices:
            if type(choice) is not dict:
                continue
            message = choice.get("message")
            if type(message) is dict:
                out = _message(message)
            else:  # the legacy completions API: the choice holds the text
                out = {"role": "assistant", "parts": _content(choice.get("text"))}
            out["finish_reason"] = _reason(choice.get("finish_reason"))
            found.append(out)
    elif type(data.get("output")) is list:
        parts = [part for item in data["output"] if type(item) is dict for part in _item(item)]
        reasons = finish_reasons(data)  # one generation, one reason
        found.append({"role": "assistant", "parts": parts,
                      "finish_reason": reasons[0] if reasons else ""})
    return {sc.OUTPUT_MESSAGES: _json(found)} if found else {}


def _message(message: Mapping[str, Any]) -> Message:
    """One chat message: its text parts, reasoning, tool calls or tool result."""
    role = message.get("role")
    role = role if type(role) is str else "user"
    if role == "tool":
        return {"role": role, "parts": [{"type": "tool_call_response",
                                         "id": _str(message.get("tool_call_id")),
                                         "response": message.get("content")}]}
    parts: list[Part] = []
    for key in ("reasoning_content", "reasoning"):
        reasoning = message.get(key)
        if type(reasoning) is str and reasoning:
            parts.append({"type": "reasoning", "content": reasoning})
            break
    parts += _content(message.get("content"))
    calls = message.get("tool_calls")
    for call in calls if type(calls) is list else ():
        function = call.get("function") if type(call) is dict else None
        if type(function) is dict:
            parts.append({"type": "tool_call", "id": _str(call.get("id")),
                          "name": _str(function.get("name")) or "",
                          "arguments": _arguments(function.get("arguments"))})
    return {"role": role, "parts": parts}


def _content(content: Any) -> list[Part]:
    """A message's content, a string or a list of typed parts."""
    if type(content) is str:
        return [_text(content)]
    if type(content) is not list:
        return []
    parts: list[Part] = []
    for part in content:
        if type(part) is str:
            parts.append(_text(part))
        elif type(part) is dict:
            kind = part.get("type")
            text = part.get("text")
            if type(text) is str:
                parts.append(_text(text))
            elif kind == "image_url" and type(part.get("image_url")) is dict:
                parts.append({"type": "uri", "modality": "image",
                              "uri": _str(part["image_url"].get("url")) or ""})
            else:
                parts.append({"type": kind if type(kind) is str else "unknown"})
    return parts


def _prompt(prompt: Any) -> list[Message]:
    """The legacy completions API's ``prompt``: a string or a list of them."""
    texts = [prompt] if type(prompt) is str else prompt if type(prompt) is list else []
    return [{"role": "user", "parts": [_text(t)]} for t in texts if type(t) is str]


def _responses_input(items: Any) -> list[Message]:
    """The Responses API's ``input``: a string, or items with a role and content."""
    if type(items) is str:
        return [{"role": "user", "parts": [_text(items)]}]
    if type(items) is not list:
        return []
    found = []
    for item in items:
        if type(item) is dict and type(item.get("role")) is str:
            found.append({"role": item["role"], "parts": _content(item.get("content"))})
        elif type(item) is dict and item.get("type") == "function_call_output":
            found.append({"role": "tool", "parts": [{
                "type": "tool_call_response", "id": _str(item.get("call_id")),
                "response": item.get("output")}]})
    return found


def _item(item: dict[str, Any]) -> list[Part]:
    """The parts of one Responses API output item."""
    kind = item.get("type")
    if kind == "message":
        return _content(item.get("content"))
    if kind == "function_call":
        return [{"type": "tool_call", "id": _str(item.get("call_id")),
                 "name": _str(item.get("name")) or "",
                 "arguments": _arguments(item.get("arguments"))}]
    if kind == "reasoning":
        summary = item.get("summary")
        return [{"type": "reasoning", "content": s["text"]}
                for s in (summary if type(summary) is list else ())
                if type(s) is dict and type(s.get("text")) is str]
    return [{"type": kind if type(kind) is str else "unknown"}]


def _arguments(arguments: Any) -> Any:
    """Tool-call arguments as the object they encode, or as sent when they are not JSON."""
    if type(arguments) is str:
        try:
            return json.loads(arguments)
        except (ValueError, RecursionError):
            return arguments
    return arguments


def _text(text: str) -> Part:
    return {"type": "text", "content": text}


def _str(value: Any) -> Optional[str]:
    return value if type(value) is str else None


def _reason(value: Any) -> str:
    return value if type(value) is str else ""


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
