"""What the tool loop needs of each API, and nothing more: send the conversation (through the
resource's own ``create``, so every round trip has the client's pipeline, plugins, limiter and
timing), read the tool calls of an answer, and extend the conversation with the answer and
with the tools' results. Chat Completions keeps a list of messages; the Responses API a list
of input items (sent whole each turn, so no server-side storage is needed)."""

from __future__ import annotations

from typing import Any, Iterator, Optional

from ..objects import APIObject
from .execute import ToolInvocation


class _Adapter:
    """What both adapters share: the resource, the call's parameters and its tools."""

    def __init__(self, resource: Any, params: dict[str, Any], tools: list[Any]) -> None:
        self.resource = resource
        self.params = params
        self.tools = tools

    def start(self, conversation: Any) -> list[Any]:
        """The caller's conversation as a new list of plain dicts (objects as their JSON)."""
        return [m.to_dict() if isinstance(m, APIObject) else m for m in conversation]

    def deltas(self, stream: Any) -> Iterator[str]:
        return stream.text_deltas()  # type: ignore[no-any-return]


class ChatTools(_Adapter):
    """Chat Completions: ``messages``; ``tool_calls`` in, ``role: tool`` messages out."""

    usage_names = ("prompt_tokens", "completion_tokens")

    def send(self, conversation: list[Any], stream: bool) -> Any:
        return self.resource.create(messages=list(conversation), tools=self.tools,
                                    stream=stream, **self.params)

    def final(self, stream: Any) -> Any:
        return stream.get_final_completion()

    def calls(self, answer: Any, turn: int) -> list[ToolInvocation]:
        message = _first_message(answer)
        out = []
        for i, call in enumerate(message.get("tool_calls") or ()):
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict) and call.get("type", "function") == "function":
                out.append(ToolInvocation(str(call.get("id") or f"call_{turn}_{i}"),
                                          str(function.get("name")),
                                          str(function.get("arguments") or ""), turn))
        return out

    def record(self, conversation: list[Any], answer: Any, calls: list[ToolInvocation]) -> None:
        """The assistant's message, as plain as servers accept it back: role, content and the
        tool calls (no refusal, reasoning or audio fields, which some servers refuse)."""
        message: dict[str, Any] = {"role": "assistant",
                                   "content": _first_message(answer).get("content")}
        if calls:
            message["tool_calls"] = [
                {"id": c.id, "type": "function",
                 "function": {"name": c.name, "arguments": c.arguments}} for c in calls]
        conversation.append(message)

    def results(self, conversation: list[Any], calls: list[ToolInvocation]) -> None:
        conversation.extend({"role": "tool", "tool_call_id": c.id, "content": c.output}
                            for c in calls)

    def text(self, answer: Any) -> Optional[str]:
        content = _first_message(answer).get("content")
        return content if isinstance(content, str) else None

    def parsed(self, answer: Any) -> Any:
        choices = getattr(answer, "choices", None) or ()
        return getattr(choices[0].message, "parsed", None) if choices else None


class ResponsesTools(_Adapter):
    """The Responses API: ``input`` items; ``function_call`` items in,
    ``function_call_output`` items out."""

    usage_names = ("input_tokens", "output_tokens")

    def start(self, conversation: Any) -> list[Any]:
        if isinstance(conversation, str):
            return [{"role": "user", "content": conversation}]
        return super().start(conversation)

    def send(self, conversation: list[Any], stream: bool) -> Any:
        return self.resource.create(input=list(conversation), tools=self.tools, stream=stream,
                                    **self.params)

    def final(self, stream: Any) -> Any:
        return stream.get_final_response()

    def calls(self, answer: Any, turn: int) -> list[ToolInvocation]:
        out = []
        for i, item in enumerate(_items(answer)):
            if item.get("type") == "function_call":
                out.append(ToolInvocation(str(item.get("call_id") or f"call_{turn}_{i}"),
                                          str(item.get("name")),
                                          str(item.get("arguments") or ""), turn))
        return out

    def record(self, conversation: list[Any], answer: Any, calls: list[ToolInvocation]) -> None:
        """Every output item goes back as input (reasoning items included: reasoning models
        need them next to their function calls)."""
        conversation.extend(_items(answer))

    def results(self, conversation: list[Any], calls: list[ToolInvocation]) -> None:
        conversation.extend({"type": "function_call_output", "call_id": c.id,
                             "output": c.output} for c in calls)

    def text(self, answer: Any) -> Optional[str]:
        return answer.output_text if answer is not None else None

    def parsed(self, answer: Any) -> Any:
        return getattr(answer, "output_parsed", None)


def _first_message(answer: Any) -> dict[str, Any]:
    data = answer.to_dict() if isinstance(answer, APIObject) else {}
    choices = data.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices else {}
    message = choice.get("message") if isinstance(choice, dict) else None
    return message if isinstance(message, dict) else {}


def _items(answer: Any) -> list[dict[str, Any]]:
    data = answer.to_dict() if isinstance(answer, APIObject) else {}
    output = data.get("output")
    return [i for i in output if isinstance(i, dict)] if isinstance(output, list) else []
