"""``client.chat.completions.stream(...)``: openai-python's event helper over a chat Stream.

Each chunk becomes a ``chunk`` event, then the events it implies: ``content.delta``,
``refusal.delta``, ``tool_calls.function.arguments.delta``, ``logprobs.content.delta``, and
their ``.done`` events once a choice finishes or a new tool call starts (openai-python's order).
Snapshots are joined only when read, so the helper costs little per chunk.
"""

from __future__ import annotations

import json
from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional

from ..objects import ChatCompletion

if TYPE_CHECKING:
    from .chat import Stream


class ChatStreamEvent:
    """One event: ``type`` plus that type's fields (``delta``, ``snapshot``, ``name``, ...)."""

    __slots__ = ("type", "_fields")

    def __init__(self, type: str, **fields: Any) -> None:  # noqa: A002 - openai's name
        self.type = type
        self._fields = fields

    def __getattr__(self, name: str) -> Any:
        try:
            value = self._fields[name]
        except KeyError:
            raise AttributeError(f"a {self.type!r} event has no field {name!r}") from None
        return value() if isinstance(value, _Later) else value

    def __repr__(self) -> str:
        return f"<ChatStreamEvent {self.type} {sorted(self._fields)}>"


class _Later:
    """A field computed when read (snapshots: joining them per chunk would be quadratic)."""

    __slots__ = ("compute",)

    def __init__(self, compute: Callable[[], Any]) -> None:
        self.compute = compute

    def __call__(self) -> Any:
        return self.compute()


def _text_so_far(parts: list[str], count: int) -> _Later:
    return _Later(lambda: "".join(parts[:count]))


def _items_so_far(items: list[Any], count: int) -> _Later:
    return _Later(lambda: items[:count])


def _object(value: Any) -> dict[str, Any]:
    return value if type(value) is dict else {}


def _index(item: dict[str, Any]) -> int:
    index = item.get("index")
    return index if type(index) is int else 0


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


class _ToolCall:
    __slots__ = ("name", "parts", "done")

    def __init__(self) -> None:
        self.name = ""
        self.parts: list[str] = []
        self.done = False


class _ChoiceState:
    """What one choice has said so far, and which ``.done`` events it has had."""

    def __init__(self) -> None:
        self.text: dict[str, list[Any]] = {"content": [], "refusal": []}
        self.logprobs: dict[str, list[Any]] = {"content": [], "refusal": []}
        self.done: set[str] = set()
        self.tools: dict[int, _ToolCall] = {}
        self.current_tool: Optional[int] = None


class EventBuilder:
    """Chunks in, events out, in openai-python's order: a chunk's delta events, then the
    ``.done`` events it implies. ``parsed_arguments`` is set for ``strict`` tools only, as
    there (once the arguments so far are complete JSON)."""

    def __init__(self, snapshot: Callable[[], ChatCompletion], tools: Any = None) -> None:
        self._snapshot = snapshot
        self._choices: dict[int, _ChoiceState] = {}
        functions = [_object(_object(tool).get("function")) for tool in tools or ()]
        self._strict = {f.get("name") for f in functions if f.get("strict")}

    def events(self, chunk: Any) -> list[ChatStreamEvent]:
        out = [ChatStreamEvent("chunk", chunk=chunk, snapshot=_Later(self._snapshot))]
        for choice in chunk._data.get("choices") or ():
            if type(choice) is dict:
                self._choice_events(choice, out)
        return out

    def _choice_events(self, choice: dict[str, Any], out: list[ChatStreamEvent]) -> None:
        state = self._choices.setdefault(_index(choice), _ChoiceState())
        delta = _object(choice.get("delta"))
        for kind in ("content", "refusal"):
            piece = delta.get(kind)
            if type(piece) is str:
                parts = state.text[kind]
                parts.append(piece)
                out.append(ChatStreamEvent(f"{kind}.delta", delta=piece,
                                           snapshot=_text_so_far(parts, len(parts))))
        calls = [call for call in delta.get("tool_calls") or () if type(call) is dict]
        for call in calls:
            self._tool_delta(state, call, out)
        logprobs = _object(choice.get("logprobs"))
        for kind in ("content", "refusal"):
            items = logprobs.get(kind)
            if items and type(items) is list:
                seen = state.logprobs[kind]
                seen.extend(items)
                out.append(ChatStreamEvent(f"logprobs.{kind}.delta", **{kind: items},
                                           snapshot=_items_so_far(seen, len(seen))))
        if choice.get("finish_reason") is not None:
            self._text_done(state, out)
            if state.current_tool is not None:
                self._tool_done(state, state.current_tool, out)
        for call in calls:  # a new tool call ends the text and the call before it
            index = _index(call)
            if state.current_tool != index:
                self._text_done(state, out)
                if state.current_tool is not None:
                    self._tool_done(state, state.current_tool, out)
            state.current_tool = index

    def _tool_delta(self, state: _ChoiceState, call: dict[str, Any], out: list[Any]) -> None:
        index = _index(call)
        tool = state.tools.setdefault(index, _ToolCall())
        function = _object(call.get("function"))
        name = function.get("name")
        if type(name) is str and name and name != tool.name:
            tool.name += name
        piece = function.get("arguments")
        piece = piece if type(piece) is str else ""
        tool.parts.append(piece)
        arguments = _text_so_far(tool.parts, len(tool.parts))
        strict = tool.name in self._strict
        out.append(ChatStreamEvent(
            "tool_calls.function.arguments.delta", name=tool.name, index=index,
            arguments=arguments, arguments_delta=piece,
            parsed_arguments=_Later(lambda: _parsed(arguments()) if strict else None),
        ))

    def _tool_done(self, state: _ChoiceState, index: int, out: list[Any]) -> None:
        tool = state.tools[index]
        if tool.done:
            return
        tool.done = True
        arguments = "".join(tool.parts)
        out.append(ChatStreamEvent(
            "tool_calls.function.arguments.done", name=tool.name, index=index,
            arguments=arguments,
            parsed_arguments=_parsed(arguments) if tool.name in self._strict else None,
        ))

    def _text_done(self, state: _ChoiceState, out: list[Any]) -> None:
        for kind in ("content", "refusal"):
            text = "".join(state.text[kind])
            seen = bool(text) if kind == "content" else bool(state.text[kind])
            if seen and kind not in state.done:
                state.done.add(kind)
                extra = {"parsed": None} if kind == "content" else {}  # no pydantic models here
                out.append(ChatStreamEvent(f"{kind}.done", **{kind: text}, **extra))
            key = f"logprobs.{kind}"
            if state.logprobs[kind] and key not in state.done:
                state.done.add(key)
                out.append(ChatStreamEvent(f"{key}.done", **{kind: list(state.logprobs[kind])}))


class ChatCompletionStream:
    """Iterate for events; ``get_final_completion()``, ``until_done()``,
    ``current_completion_snapshot``; ``close()``. The chat Stream underneath is ``.stream``."""

    def __init__(self, stream: Stream, tools: Any = None) -> None:
        self.stream = stream
        self._builder = EventBuilder(lambda: stream.current_completion_snapshot, tools)
        self._pending: deque[ChatStreamEvent] = deque()

    def __iter__(self) -> Iterator[ChatStreamEvent]:
        return self

    def __next__(self) -> ChatStreamEvent:
        while not self._pending:  # StopIteration of the stream ends this iterator too
            self._pending.extend(self._builder.events(next(self.stream)))
        return self._pending.popleft()

    @property
    def current_completion_snapshot(self) -> ChatCompletion:
        return self.stream.current_completion_snapshot

    def until_done(self) -> ChatCompletionStream:
        """Read the rest of the stream (its events are dropped)."""
        for _ in self:
            pass
        return self

    def get_final_completion(self) -> ChatCompletion:
        """Read the rest, then the ChatCompletion assembled from every chunk."""
        self.until_done()
        return self.stream.get_final_completion()

    def close(self) -> None:
        self.stream.close()

    def __enter__(self) -> ChatCompletionStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class ChatCompletionStreamManager:
    """What ``chat.completions.stream(...)`` returns: the request is sent on ``__enter__``, and
    the stream closed on ``__exit__``."""

    def __init__(self, open_stream: Callable[[], Stream], tools: Any = None) -> None:
        self._open = open_stream
        self._tools = tools
        self._stream: Optional[ChatCompletionStream] = None

    def __enter__(self) -> ChatCompletionStream:
        self._stream = ChatCompletionStream(self._open(), self._tools)
        return self._stream

    def __exit__(self, *exc_info: object) -> None:
        if self._stream is not None:
            self._stream.close()
